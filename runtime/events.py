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


# `at` nearer to the epoch than this (about 116 days) is refused by the streaming API: such a
# number is almost surely epoch seconds (2026 is ~1.8e9) or milliseconds read as microseconds
NEAR_EPOCH = 10**13


@dataclass(slots=True)
class Event:
    """One event. `at` is an integer of **microseconds** since 1970-01-01T00:00:00Z (UTC);
    build events from ISO-8601 text with `Event.from_iso` and from epoch seconds with
    `Event.from_epoch_seconds`."""

    contact: str
    event: str
    at: int  # microseconds since the epoch, UTC
    target: str | None = None
    id: str | None = None
    props: dict = field(default_factory=dict)
    line: int = 0  # 1-based line (or row) of the input, 0 when not read from a file
    seq: int = 0  # input order; ties in time are processed in this order

    @classmethod
    def from_iso(cls, contact: str, event: str, at: str, target: str | None = None,
                 id: str | None = None, props: dict | None = None) -> "Event":  # noqa: A002
        """An event at ISO-8601 time `at` with `Z` or an offset (`2026-03-02T10:15:00Z`); a
        date alone is midnight UTC."""
        if not isinstance(at, str):
            raise TypeError(f"Event.from_iso: `at` must be ISO-8601 text such as "
                            f"2026-03-02T10:15:00Z, not {type(at).__name__} {at!r}")
        return cls(contact, event, parse_time(at), target, id, dict(props or {}))

    @classmethod
    def from_epoch_seconds(cls, contact: str, event: str, at: int | float,
                           target: str | None = None, id: str | None = None,  # noqa: A002
                           props: dict | None = None) -> "Event":
        """An event at `at` seconds since the epoch (what `time.time()` and most logs give)."""
        if isinstance(at, bool) or not isinstance(at, (int, float)) or at != at:
            raise TypeError(f"Event.from_epoch_seconds: `at` must be a number of seconds, "
                            f"not {type(at).__name__} {at!r}")
        micros = at * MICROS if isinstance(at, int) else round(at * MICROS)
        return cls(contact, event, micros, target, id, dict(props or {}))


def check_event(event, *, near_epoch: bool = True) -> None:
    """Refuse, with a message naming the mistake, an event the engine cannot read: wrong
    types, and (`near_epoch`) an `at` that looks like epoch seconds or milliseconds."""
    if not isinstance(event, Event):
        raise TypeError(f"expected a runtime.Event, not {type(event).__name__}")
    for name in ("contact", "event"):
        value = getattr(event, name)
        if not isinstance(value, str) or not value:
            raise TypeError(f"Event.{name} must be non-empty text, not {value!r}")
    for name in ("target", "id"):
        value = getattr(event, name)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"Event.{name} must be text or None, not {value!r}")
    if not isinstance(event.props, dict):
        raise TypeError(f"Event.props must be a dict, not {type(event.props).__name__}")
    check_micros(event.at, "Event.at", near_epoch=near_epoch)


def check_micros(value, what: str, *, near_epoch: bool = True) -> None:
    """`value` must be an int of microseconds since the epoch."""
    if isinstance(value, bool) or not isinstance(value, int):
        hint = "use Event.from_iso(...) for ISO text" if isinstance(value, str) else \
            "use Event.from_epoch_seconds(...) for seconds"
        raise TypeError(f"{what} must be an integer of microseconds since 1970-01-01T00:00:00Z"
                        f", not {type(value).__name__} {value!r}; {hint}")
    if near_epoch and -NEAR_EPOCH < value < NEAR_EPOCH:
        reading = format_time(value)
        raise ValueError(f"{what} = {value} is in microseconds since the epoch, so it means "
                         f"{reading}: it looks like epoch seconds (or milliseconds); use "
                         f"Event.from_epoch_seconds(...) or multiply seconds by 1_000_000")


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
