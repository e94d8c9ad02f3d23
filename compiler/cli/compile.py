"""`score compile MODEL -o TABLE.json`: check a model and write its rule table."""
from __future__ import annotations

import sys

import click

from ..run import scoring
from ._options import terminal


@click.command("compile")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--out", "-o", metavar="FILE", help="Write the table here (default: stdout).")
def command(model, out):
    """Compile MODEL to the JSON rule table that `score run` and the engines load."""
    sys.exit(scoring.compile_to_file(model, out, sys.stdout, sys.stderr,
                                     color=terminal(sys.stderr)))
