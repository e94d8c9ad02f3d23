"""`score test`: run the `test` blocks of models; optionally score labelled journeys."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from compiler.review import coverage as rule_coverage
from compiler.review import journeys, outcomes, testing
from compiler.run.readers import ReaderError
from compiler.review.reports import dump_json, junit, render, views
from runtime.io import InputError


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=str))
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, path_type=str),
              help="Also write the results as JUnit XML to FILE (for CI).")
@click.option("--journeys", "journeys_dir", type=click.Path(exists=True, file_okay=False,
                                                             path_type=str),
              help="Score the labelled journeys in DIR/won and DIR/lost with each model.")
@click.option("--outcomes", "outcomes_file", type=click.Path(exists=True, dir_okay=False,
                                                             path_type=str),
              help="Journeys from a history: a CSV (or JSON Lines) file with the columns "
                   "contact,outcome,closed_at (won or lost); needs --events.")
@click.option("--events", "-e", "events_file", type=click.Path(exists=True, dir_okay=False,
                                                                 path_type=str),
              help="With --outcomes: the history the labelled contacts' events come from.")
@click.option("--contacts", "-c", "contacts_file", type=click.Path(exists=True, dir_okay=False,
                                                                     path_type=str),
              help="With --outcomes: the contacts' profiles.")
@click.option("--lead-time", default="0d", show_default=True, metavar="DURATION",
              help="With --outcomes: score each contact this long before its closed_at "
                   "(14d, 2w, 36h).")
@click.option("--coverage", is_flag=True,
              help="Also list, per file, what no test exercises: rules that never awarded, "
                   "limits never reached, grade labels, stages, triggers, each side of each "
                   "require.")
@click.option("--fail-under", type=click.FloatRange(0, 100), metavar="PCT",
              help="Exit 1 when the coverage is under PCT percent (implies --coverage).")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True,
              help="json: one document with the tests (and the coverage, the journeys) for "
                   "tools.")
def command(paths: tuple[str, ...], junit_file: str | None, journeys_dir: str | None,
            outcomes_file: str | None, events_file: str | None, contacts_file: str | None,
            lead_time: str, coverage: bool, fail_under: float | None, fmt: str) -> None:
    """Run every test of PATHS (files, or folders searched for `*.score`; default `.`).

    Prints one line per test, the details of each failure, and `N passed, M failed`;
    exits 1 when a test fails (or, with --fail-under, when the coverage is too low)."""
    coverage = coverage or fail_under is not None
    _check_outcome_options(outcomes_file, events_file, contacts_file, lead_time)
    collector = rule_coverage.Collector("tests") if coverage else None
    run = testing.run_files(paths or (".",), coverage=collector)
    report = collector.report() if collector is not None else None
    found = []  # (journeys report or None, messages) per model and source of journeys
    if journeys_dir:
        found += journeys.evaluate_paths(testing.collect_files(paths or (".",)), journeys_dir)
    if outcomes_file:
        found += _outcome_journeys(paths, events_file, contacts_file, outcomes_file, lead_time)
    for _, messages in found:
        for message in messages:
            click.echo(message, err=True)
    reports = [journey_report for journey_report, _ in found if journey_report is not None]
    if fmt == "json":
        document = {"tests": run.to_json()}
        if report is not None:
            document["coverage"] = report.to_json()
        if journeys_dir or outcomes_file:
            document["journeys"] = [journeys.report_json(r) for r in reports]
        click.echo(dump_json(document), nl=False)
    else:
        click.echo(render("test", views.test_view(run)), nl=False)
        if report is not None:
            click.echo()
            click.echo(render("coverage", views.coverage_view(report, fail_under)), nl=False)
        for journey_report in reports:
            click.echo()
            click.echo(render("journeys", views.journeys_view(journey_report)), nl=False)
    failed = not run.ok or (report is not None and fail_under is not None
                            and report.percent < fail_under)
    failed = failed or any(journey_report is None for journey_report, _ in found)
    if junit_file:
        try:
            Path(junit_file).write_text(junit.junit_xml(run), encoding="utf-8")
        except OSError as exc:
            click.echo(f"score test: error: {junit_file}: {exc.strerror or exc}", err=True)
            failed = True
    sys.exit(1 if failed else 0)


def _check_outcome_options(outcomes_file, events_file, contacts_file, lead_time) -> None:
    if outcomes_file and not events_file:
        raise click.UsageError("--outcomes needs --events: the history of the labelled contacts")
    if not outcomes_file and (events_file or contacts_file):
        raise click.UsageError("--events and --contacts go with --outcomes (labelled journeys "
                               "from a history)")
    try:
        outcomes.parse_lead_time(lead_time)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--lead-time") from None


def _outcome_journeys(paths, events_file, contacts_file, outcomes_file, lead_time) -> list:
    """(report or None, messages) per model; exits 2 when an input cannot be read."""
    models = testing.collect_files(paths or (".",))
    try:
        return outcomes.evaluate_outcome_paths(models, events_file, contacts_file,
                                               outcomes_file, lead_time)
    except (OSError, ValueError, ReaderError, InputError) as exc:
        click.echo(f"score test: error: {exc}", err=True)
        sys.exit(2)
