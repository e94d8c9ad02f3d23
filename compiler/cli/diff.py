"""`score diff`: what a change to the rules changes, for review in a pull request."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from compiler.review import gitrev, compare as review
from compiler.run.readers import ReaderError
from compiler.review.reports import diff_report, render, views
from runtime.io import InputError

from ._options import AS_OF

FORMATS = ("text", "markdown", "json", "html")


class _DiffCommand(click.Command):
    """Keeps what follows `--` as PATHs (git's `score diff REV -- PATH`), options before it."""

    def parse_args(self, ctx, args):
        if "--" in args:
            index = args.index("--")
            ctx.meta["score_diff_paths"] = tuple(args[index + 1:])
            args = args[:index]
        return super().parse_args(ctx, args)


@click.command("diff", cls=_DiffCommand)
@click.argument("sides", nargs=-1, metavar="OLD [NEW] [-- PATH...]")
@click.option("--events", "-e", metavar="FILE", help="Also score these events with both models.")
@click.option("--contacts", "-c", metavar="FILE", help="Contact profiles for --events.")
@click.option("--by", type=click.Choice(("week", "month")),
              help="With --events: stage entries and actions per week or month, old and new.")
@click.option("--as-of", type=AS_OF, metavar="TIME", help="Score as of this time.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--out", "-o", metavar="FILE", help="Write the report here instead of stdout.")
@click.option("--exit-code", is_flag=True,
              help="Exit 1 when the models differ (like `git diff --exit-code`).")
@click.option("--git-driver", is_flag=True,
              help="Act as git's external diff driver (PATH OLD-FILE OLD-HEX OLD-MODE NEW-FILE "
                   "NEW-HEX NEW-MODE); see docs/ci.md.")
@click.pass_context
def command(ctx, sides, events, contacts, by, as_of, fmt, out, exit_code, git_driver):
    """Compare two versions of a model by meaning.

    OLD and NEW are files, folders or git revisions; with OLD alone, a revision is compared
    with the working tree (`score diff main`, `score diff v1 v2 -- models/`). Options go
    before `--`: what follows it are paths."""
    paths = ctx.meta.get("score_diff_paths", ())
    if git_driver:
        sys.exit(_driver(sides + paths))
    if not 1 <= len(sides) <= 2:
        raise click.UsageError("give OLD and optionally NEW (files, folders or git revisions)")
    if by and not events:
        raise click.UsageError("--by needs --events: the history to count per period")
    try:
        data = review.load_data(events, contacts, as_of, by) if events else None
        result = review.review(sides[0], sides[1] if len(sides) > 1 else None, paths, ".", data)
    except (gitrev.RevisionError, ReaderError, InputError) as exc:
        click.echo(f"score diff: error: {exc}", err=True)
        sys.exit(2)
    try:
        _write(diff_report(result, fmt), out)
    except OSError as exc:
        click.echo(f"score diff: error: {out}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    sys.exit(1 if result.has_errors or (exit_code and result.changed) else 0)


def _write(text: str, out: str | None) -> None:
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


def _driver(args: tuple[str, ...]) -> int:
    try:
        result = review.review_driver(args)
    except ValueError as exc:
        click.echo(f"score diff --git-driver: {exc}", err=True)
        return 2
    click.echo(render("diff", views.diff_view(result), "text"), nl=False)
    return 0
