"""`score explain MODEL --events E --contact ID`: why a contact has its scores and stage."""
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
@click.option("--contact", "contact_id", required=True, metavar="ID",
              help="The contact to explain.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True)
def command(model, events, contacts, as_of, contact_id, fmt):
    """Explain, rule by rule, how MODEL scores one contact."""
    sys.exit(scoring.explain_contact(model, contact_id, events, sys.stdout, sys.stderr,
                                     contacts=contacts, as_of=as_of, fmt=fmt,
                                     color=terminal(sys.stderr)))
