"""`score run MODEL --events E`: score an event history; results on stdout, rejects on stderr."""
from __future__ import annotations

import sys

import click

from ..run import engines, scoring
from ..run import writers as output
from ._options import AS_OF, history_inputs, terminal


@click.command("run")
@click.argument("model", type=click.Path(dir_okay=False))
@history_inputs
@click.option("--as-of", type=AS_OF, metavar="TIME",
              help="Score as of this time (ISO-8601 with Z or offset, a date, or epoch "
                   "seconds); default: the latest event time.")
@click.option("--out", "-o", metavar="FILE", help="Write results here instead of stdout.")
@click.option("--format", "fmt", type=click.Choice(output.FORMATS),
              help="Results as jsonl (default), csv, or a readable table.")
@click.option("--rejects", metavar="FILE", help="Also write rejected lines here (JSON Lines).")
@click.option("--accounts", metavar="FILE",
              help="Also write one line per account here (the model's `account` "
                   "statements), in --format or by the file's extension.")
@click.option("--actions", metavar="FILE",
              help="Also write one line per action fired here (contact, time, action, "
                   "argument, the event that caused it, the scores, grades and stage it was "
                   "fired on), in --format or by the file's extension.")
@click.option("--since", type=AS_OF, metavar="TIME",
              help="With --actions: only the actions fired after TIME (the forms of "
                   "--as-of).")
@click.option("--timeline", type=click.Choice(("day", "week", "month")),
              help="Write, instead of the results, each contact's scores, grades and stage "
                   "at the end of every day, week or month (the model's time zone).")
@click.option("--coverage", is_flag=True,
              help="Also report (on stderr) what of the model the history never exercised: "
                   "rules that never awarded, limits never reached, stages, triggers.")
@click.option("--coverage-out", metavar="FILE",
              help="Write the coverage report here (JSON for a .json name); implies "
                   "--coverage.")
@click.option("--max-rejects", type=click.IntRange(min=0), metavar="N",
              help="Exit 1 when more than N lines are rejected.")
@click.option("--engine", type=click.Choice(engines.names()), default="python", show_default=True,
              help="Which engine scores the events.")
@click.option("--auto-threshold", type=click.IntRange(min=0), default=engines.AUTO_THRESHOLD,
              show_default=True, metavar="BYTES",
              help="With --engine auto: events files larger than this use duckdb.")
def command(model, events, contacts, as_of, out, fmt, rejects, accounts, actions, since,
            timeline, coverage, coverage_out, max_rejects, engine, auto_threshold):
    """Score the --events file with MODEL (a .score file or a compiled .json table).

    Results go to stdout (or --out), rejected lines to stderr as FILE:LINE: REASON.
    Exit 0 when the input was scored, 1 when MODEL has errors or rejects exceed
    --max-rejects, 2 when an option or file cannot be used. See docs/running.md.
    """
    options = scoring.RunOptions(events, contacts, as_of, out, fmt, rejects, max_rejects, engine,
                                 auto_threshold, color=terminal(sys.stdout), accounts=accounts,
                                 timeline=timeline, coverage=coverage or coverage_out is not None,
                                 coverage_out=coverage_out, actions=actions, since=since)
    sys.exit(scoring.run_model(model, options, sys.stdout, sys.stderr))
