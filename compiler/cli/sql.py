"""`score sql MODEL --dialect D`: print the one query that computes MODEL's results."""
from __future__ import annotations

import sys

import click

from ..sql.dialects import DIALECTS
from ..sql.emit import emit_accounts_sql, emit_sql
from ._options import AS_OF, terminal


@click.command("sql")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--dialect", type=click.Choice(list(DIALECTS)), default="duckdb", show_default=True,
              help="SQL dialect of the query.")
@click.option("--events-table", default="events", show_default=True, metavar="TABLE",
              help="Events table: contact, event, target, at (epoch microseconds), id, "
                   "props (JSON), seq (input order). `db.schema.table` is allowed.")
@click.option("--contacts-table", default="contacts", show_default=True, metavar="TABLE",
              help="Contacts table: contact, profile (JSON object).")
@click.option("--seq-column", default="seq", show_default=True, metavar="COLUMN",
              help="Column giving the input order of events of equal time; `none` orders "
                   "them by `at` only.")
@click.option("--as-of", type=AS_OF, default=None, metavar="TIME",
              help="Fix the as-of time T (default: the latest `at` in the events table).")
@click.option("--accounts", is_flag=True,
              help="Print the accounts statement instead (docs/language.md 10.6): it reads "
                   "the results of the contact query, kept in --results-table.")
@click.option("--results-table", default="results", show_default=True, metavar="TABLE",
              help="With --accounts: where the contact query's results are kept.")
@click.option("--actions", is_flag=True,
              help="Print the actions statement instead: a row per action fired, with its "
                   "point, causing event and the values it was fired on (docs/sql.md).")
@click.option("--since", type=AS_OF, default=None, metavar="TIME",
              help="With --actions: only the actions fired after TIME.")
def command(model, dialect, events_table, contacts_table, seq_column, as_of, accounts,
            results_table, actions, since):
    """Print the SQL query computing MODEL's results (see docs/sql.md)."""
    seq = None if seq_column.lower() == "none" else seq_column
    if since is not None and not actions:
        raise click.UsageError("--since selects the rows of --actions: give --actions too")
    if actions and accounts:
        raise click.UsageError("--actions and --accounts print different statements: ask "
                               "for one at a time")
    if accounts:
        sys.exit(emit_accounts_sql(model, dialect, sys.stdout, sys.stderr,
                                   results_table=results_table, contacts_table=contacts_table,
                                   color=terminal(sys.stderr)))
    sys.exit(emit_sql(model, dialect, sys.stdout, sys.stderr, events_table=events_table,
                      contacts_table=contacts_table, as_of=as_of, seq_column=seq,
                      color=terminal(sys.stderr), actions=actions, since=since))
