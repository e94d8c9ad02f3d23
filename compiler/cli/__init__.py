"""The `score` command line. One module per command; each only wires flags to library calls."""
from __future__ import annotations

import importlib

import click

# (command name, module under compiler.cli) in the order `score --help` lists them.
COMMANDS = (
    ("check", "check"),
    ("fmt", "fmt"),
    ("test", "test"),
    ("run", "run"),
    ("explain", "explain"),
    ("compile", "compile"),
    ("diff", "diff"),
    ("sql", "sql"),
    ("lsp", "lsp"),
)


class _Group(click.Group):
    def list_commands(self, ctx):
        return [name for name, _ in COMMANDS]

    def get_command(self, ctx, name):
        for command_name, module in COMMANDS:
            if command_name == name:
                return importlib.import_module(f"{__name__}.{module}").command
        return None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="scorelang")
def main() -> None:
    """scorelang: lead scoring as code.

    Check, format and test `.score` models; score event histories; review rule changes.
    """
