"""Times as a person reads them: in the model's time zone, with the offset.

Results in JSON Lines and CSV stay in UTC with `Z` (docs/language.md section 7); the readable
outputs (`score run --format table`, `score explain`) show the local time of the model's
`timezone`, written as ISO-8601 with its offset (`2026-03-02T11:15:00+01:00`), which
`--as-of` reads back.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runtime.events import MICROS, TimeFormatError, parse_time

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class LocalTime:
    """Formats UTC times (`...Z` text or epoch microseconds) in one IANA zone."""

    def __init__(self, zone: str | None) -> None:
        self.name = zone or "UTC"
        try:
            self.zone = ZoneInfo(self.name)
        except (ZoneInfoNotFoundError, ValueError):  # a table checked elsewhere; be lenient
            self.name, self.zone = "UTC", ZoneInfo("UTC")

    @property
    def is_utc(self) -> bool:
        return self.name in ("UTC", "Etc/UTC")

    def text(self, value: str | int | None) -> str:
        if value is None:
            return "-"
        if isinstance(value, str):
            try:
                value = parse_time(value)
            except TimeFormatError:
                return value
        if self.is_utc:
            moment = _EPOCH + timedelta(seconds=value // MICROS)
            return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%SZ}"
        try:
            moment = (_EPOCH + timedelta(seconds=value // MICROS)).astimezone(self.zone)
        except (OverflowError, ValueError):  # at the ends of the calendar: keep UTC
            return f"{(_EPOCH + timedelta(seconds=value // MICROS)):%Y-%m-%dT%H:%M:%SZ}"
        offset = moment.strftime("%z")
        return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}{offset[:3]}:{offset[3:]}"
