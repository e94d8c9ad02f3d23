"""`score explain MODEL --events E --contact ID | --account ID`: why a contact has its scores
and stage, or how an account's scores come from its members."""
from __future__ import annotations

import sys

import click

from ..run import scoring
from ._options import AS_OF, history_inputs, terminal


@click.command("explain")
@click.argument("model", type=click.Path(dir_okay=False))
@history_inputs
@click.option("--as-of", type=AS_OF, metavar="TIME",
              help="Explain as of this time; default: the latest event time.")
@click.option("--contact", "contact_id", metavar="ID", help="The contact to explain.")
@click.option("--account", "account_id", metavar="ID",
              help="The account to explain (a model with `account by`; give --contacts).")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True)
def command(model, events, contacts, as_of, contact_id, account_id, fmt):
    """Explain, rule by rule, how MODEL scores one contact (or one account)."""
    if (contact_id is None) == (account_id is None):
        raise click.UsageError("give one of --contact ID or --account ID")
    if account_id is not None:
        sys.exit(scoring.explain_account(model, account_id, events, sys.stdout, sys.stderr,
                                         contacts=contacts, as_of=as_of, fmt=fmt,
                                         color=terminal(sys.stderr)))
    sys.exit(scoring.explain_contact(model, contact_id, events, sys.stdout, sys.stderr,
                                     contacts=contacts, as_of=as_of, fmt=fmt,
                                     color=terminal(sys.stderr)))
