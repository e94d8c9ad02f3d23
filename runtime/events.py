"""Events, rejects and times as the engines see them (docs/language.md section 7)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

MICROS = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|z|[+-]\d{2}:?\d{2})?)?$")


@dataclass(slots=True)
class Event:
    contact: str
    event: str
    at: int  # microseconds since the epoch, UTC
    target: str | None = None
    id: str | None = None
    props: dict = field(default_factory=dict)
    line: int = 0  # 1-based line (or row) of the input, 0 when not read from a file
    seq: int = 0  # input order; ties in time are processed in this order


@dataclass(frozen=True, slots=True)
class Reject:
    line: int
    reason: str
    raw: str

    def to_json(self) -> dict:
        return {"line": self.line, "reason": self.reason, "raw": self.raw}


class TimeFormatError(ValueError):
    pass


def parse_time(value: str, *, date_only_is_utc_midnight: bool = True) -> int:
    """ISO-8601 text to epoch microseconds. A time needs `Z` or an offset; a date alone means
    midnight UTC (test files). Sub-second digits beyond microseconds are truncated."""
    match = _ISO.match(value.strip())
    if not match:
        raise TimeFormatError(f"`{value}` is not an ISO-8601 time such as 2026-03-02T10:15:00Z")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if hour is not None and offset is None:
        raise TimeFormatError(f"`{value}` has no time zone: add `Z` or an offset like +01:00")
    if hour is None and not date_only_is_utc_midnight:
        raise TimeFormatError(f"`{value}` has no time of day")
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                          int(second or 0), tzinfo=timezone.utc)
    except ValueError as exc:
        raise TimeFormatError(f"`{value}` is not a valid date: {exc}") from None
    micros = int(((fraction or "") + "000000")[:6])
    if offset and offset not in ("Z", "z"):
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * MICROS + micros


def format_time(micros: int) -> str:
    """Epoch microseconds to `2026-03-03T00:00:00Z` (UTC, truncated to the second). The year
    has four digits (`0001-01-01T00:00:00Z`), as parse_time reads it: strftime's `%Y` does not
    pad years before 1000 on glibc."""
    moment = _EPOCH + timedelta(seconds=micros // MICROS)
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%SZ}"
