"""Options shared by `score run` and `score explain`."""
from __future__ import annotations

import click

from runtime import io as rio
from runtime.events import TimeFormatError


class AsOfType(click.ParamType):
    """`--as-of`: ISO-8601 with Z or an offset, a date (midnight UTC), or epoch seconds."""

    name = "time"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            return rio.parse_as_of(value)
        except TimeFormatError as exc:
            self.fail(f"{exc} (or a date like 2026-03-02, or integer epoch seconds)", param, ctx)


AS_OF = AsOfType()


def terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def history_inputs(command):
    """`--events` (required) and `--contacts`, as `score run` and `score explain` take them."""
    command = click.option("--contacts", "-c", metavar="FILE",
                           help="Contact profiles: .jsonl, .csv or .parquet.")(command)
    return click.option("--events", "-e", required=True, metavar="FILE",
                        help="Events: .jsonl, .csv or .parquet; `-` reads JSON Lines from "
                             "stdin.")(command)
