"""`score test`: run the `test` blocks of models; optionally score labelled journeys."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from compiler.review import journeys, testing
from compiler.review.reports import junit, render, views


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=str))
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, path_type=str),
              help="Also write the results as JUnit XML to FILE (for CI).")
@click.option("--journeys", "journeys_dir", type=click.Path(exists=True, file_okay=False,
                                                             path_type=str),
              help="Score the labelled journeys in DIR/won and DIR/lost with each model.")
def command(paths: tuple[str, ...], junit_file: str | None, journeys_dir: str | None) -> None:
    """Run every test of PATHS (files, or folders searched for `*.score`; default `.`).

    Prints one line per test, the details of each failure, and `N passed, M failed`;
    exits 1 when a test fails."""
    run = testing.run_files(paths or (".",))
    click.echo(render("test", views.test_view(run)), nl=False)
    failed = not run.ok
    if junit_file:
        try:
            Path(junit_file).write_text(junit.junit_xml(run), encoding="utf-8")
        except OSError as exc:
            click.echo(f"score test: error: {junit_file}: {exc.strerror or exc}", err=True)
            failed = True
    if journeys_dir:
        models = testing.collect_files(paths or (".",))
        for report, errors in journeys.evaluate_paths(models, journeys_dir):
            for message in errors:
                click.echo(message, err=True)
            failed = failed or report is None
            if report is not None:
                click.echo()
                click.echo(render("journeys", views.journeys_view(report)), nl=False)
    sys.exit(1 if failed else 0)
