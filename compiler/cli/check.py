"""`score check`: every diagnostic of every model, in the format a person or a CI wants."""
from __future__ import annotations

import os
import sys

import click

from compiler.loader import SampleError, read_sample_contacts, read_sample_events
from compiler.pipeline import check_paths
from dsl.diagnostics import Severity
from dsl.render import FORMATS, default_docs_url, render


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, json for tools, github for workflow annotations, sarif "
                   "for code scanning.")
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option("--contacts", type=click.Path(path_type=str),
              help="Sample contacts: warn about attributes they never carry (W106).")
@click.option("--events", type=click.Path(path_type=str),
              help="Sample events: warn about properties they never carry (W106).")
@click.option("--color/--no-color", default=None,
              help="Colour the text output (default: only on a terminal).")
@click.option("--docs-url", envvar="SCORELANG_DOCS_URL", metavar="URL",
              help="Address of docs/diagnostics.md that SARIF rules link to (default: the "
                   "installed package's, else the checkout's file).")
def command(paths: tuple[str, ...], fmt: str, strict: bool, contacts: str | None,
            events: str | None, color: bool | None, docs_url: str | None) -> None:
    """Check PATHS (files, or folders searched for `*.score`; default: the current folder).

    Exits 0 when there is no error, 1 when there is one (with --strict, also on a warning),
    2 when the sample data cannot be read.
    """
    try:
        sample_contacts = read_sample_contacts(contacts) if contacts else None
        sample_events = read_sample_events(events) if events else None
    except SampleError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    report = check_paths(paths or (".",), sample_contacts=sample_contacts,
                         sample_events=sample_events)
    searched = [path for path in paths or (".",) if os.path.exists(path)]
    if not report.files and searched:  # a path that does not exist is E007's
        click.echo(f"note: no `.score` files found in {', '.join(searched)}", err=True)
    if color is None:
        color = fmt == "text" and _terminal(sys.stdout)
    # click.echo would strip the colours it does not expect on a pipe: pass the choice on.
    click.echo(render(report.diagnostics, report.sources, fmt, color=color,
                      files_checked=len(report.files),
                      docs_url=docs_url or default_docs_url()), nl=False, color=color)
    severities = {d.severity for d in report.diagnostics}
    if Severity.ERROR in severities or (strict and Severity.WARNING in severities):
        sys.exit(1)


def _terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
