"""Option types shared by `score run` and `score explain`."""
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
