"""Events, rejects and times as the engines see them (docs/language.md section 7)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

MICROS = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_ONE_MICRO = timedelta(microseconds=1)
# Epoch microseconds of 0001-01-01T00:00:00Z and of the last microsecond of 9999-12-31 (UTC):
# the times the engines can print and every SQL target can hold.
MIN_MICROS = -62135596800 * MICROS
MAX_MICROS = 253402300800 * MICROS - 1
# ASCII digits only: Python's `\d` would also take Arabic-Indic and other Unicode digits, which
# no SQL target reads as a time.
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|z|[+-]\d{2}:?\d{2})?)?\Z", re.ASCII)
_SHOWN = 60  # characters of a bad value quoted in a message

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
    """ISO-8601 text to epoch microseconds. A time needs `Z` or an offset (at most 23:59); a date
    alone means midnight UTC (test files). Sub-second digits beyond microseconds are truncated.
    The time in UTC must fall in the years 1 to 9999."""
    # `2026-03-02T10:15:00Z`, the shape of nearly every event, from two caches: the days of
    # the date and the seconds of the clock, each computed once by the long way.
    if len(value) == 20 and value[19] == "Z" and value[10] == "T":
        days = _DAYS.get(value[:10])
        seconds = _SECONDS.get(value[11:19])
        if days is not None and seconds is not None:
            return (days + seconds) * MICROS
        return _cache_and_parse(value, date_only_is_utc_midnight)
    micros = _iso_micros(value)
    if micros is not None:
        return micros
    return _parse_any(value, date_only_is_utc_midnight)


_DAYS: dict[str, int] = {}  # "2026-03-02" -> seconds from the epoch to its midnight (UTC)
_SECONDS: dict[str, int] = {}  # "10:15:00" -> seconds since midnight
_CACHED = 400_000  # entries at most in each (some years of dates; every second of a day)


def _cache_and_parse(value: str, date_only_is_utc_midnight: bool) -> int:
    # fromisoformat first: a log's every new second of the day comes here once
    micros = _iso_micros(value)
    if micros is None:
        micros = _parse_any(value, date_only_is_utc_midnight)  # raises for a bad time
    if len(_DAYS) < _CACHED and len(_SECONDS) < _CACHED and value.isascii() \
            and value[4] == "-" and value[7] == "-" and value[13] == ":" and value[16] == ":":
        # a string of exactly this shape that the long way accepts has digits everywhere else
        seconds = micros // MICROS
        _DAYS[value[:10]] = seconds - seconds % 86400
        _SECONDS[value[11:19]] = seconds % 86400
        if len(_SECONDS) == _CLOCKS_ONE_BY_ONE:
            _every_clock()
    return micros


_CLOCKS_ONE_BY_ONE = 4096  # clocks cached as met; then all 86,400 at once


def _every_clock() -> None:
    """Every clock of a day, "00:00:00" to "23:59:59", into the cache: a log of a few days
    meets most of them, each one otherwise a miss through fromisoformat (in 200,000 events
    over four months, 77,000 misses). A valid day and a valid clock make a valid time, in
    the years 1 to 9999 for any day the cache holds: the two caches stay as sound as when
    each entry came from a time read."""
    for hour in range(24):
        for minute in range(60):
            prefix = f"{hour:02d}:{minute:02d}:"
            base = hour * 3600 + minute * 60
            for second in range(60):
                _SECONDS[f"{prefix}{second:02d}"] = base + second


def _iso_micros(value: str) -> int | None:
    """`...T10:15:00.250Z` and `...T10:15:00+01:00` through datetime.fromisoformat, several
    times faster than the regular expression, else None. It is given only strings whose
    separators sit where `_ISO` has them and whose fraction and offset are plain digits, which
    it reads exactly as `_parse_any` does (tests/test_times.py holds the two against each
    other); whatever it refuses goes the long way, which finds the reason."""
    if len(value) < 20 or value[10] != "T" or value[13] != ":" or value[16] != ":" \
            or value[4] != "-" or value[7] != "-" or not value.isascii():
        return None
    if value[-1] == "Z":
        fraction = value[19:-1]
    elif value[-3] == ":" and value[-6] in "+-" and value[-5:-3] <= "23" \
            and value[-2:] <= "59" and value[-5:-3].isdigit() and value[-2:].isdigit():
        fraction = value[19:-6]
    else:
        return None
    if fraction and not (2 <= len(fraction) <= 7 and fraction[0] == "."
                         and fraction[1:].isdigit()):
        return None
    try:
        delta = datetime.fromisoformat(value) - _EPOCH
    except ValueError:
        return None
    micros = (delta.days * 86400 + delta.seconds) * MICROS + delta.microseconds
    return micros if MIN_MICROS <= micros <= MAX_MICROS else None


def _parse_any(value: str, date_only_is_utc_midnight: bool) -> int:
    match = _ISO.match(value.strip())
    if not match:
        raise TimeFormatError(f"`{shown(value)}` is not an ISO-8601 time such as "
                              "2026-03-02T10:15:00Z")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if hour is not None and offset is None:
        raise TimeFormatError(f"`{shown(value)}` has no time zone: add `Z` or an offset like "
                              "+01:00")
    if hour is None and not date_only_is_utc_midnight:
        raise TimeFormatError(f"`{shown(value)}` has no time of day")
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                          int(second or 0))
    except ValueError as exc:
        raise TimeFormatError(f"`{shown(value)}` is not a valid date: {exc}") from None
    micros = (moment - _EPOCH_NAIVE) // _ONE_MICRO + int(((fraction or "") + "000000")[:6])
    if offset and offset not in ("Z", "z"):
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise TimeFormatError(f"`{shown(value)}` has the offset {offset}: an offset is at "
                                  "most 23:59 (hours 00-23, minutes 00-59)")
        shift = (hours * 3600 + minutes * 60) * MICROS
        micros -= shift if offset[0] == "+" else -shift
    if not MIN_MICROS <= micros <= MAX_MICROS:
        raise TimeFormatError(f"`{shown(value)}` is outside the years 1 to 9999 in UTC")
    return micros


def shown(value: str) -> str:
    """A bad value as a message quotes it: at most 60 characters, and printable whatever it
    holds (a lone surrogate, from a JSON escape or a command-line byte, cannot be written)."""
    text = value if len(value) <= _SHOWN else value[:_SHOWN - 1] + "…"
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def format_time(micros: int) -> str:
    """Epoch microseconds to `2026-03-03T00:00:00Z` (UTC, truncated to the second). The year
    has four digits (`0001-01-01T00:00:00Z`), as parse_time reads it: strftime's `%Y` does not
    pad years before 1000 on glibc."""
    day, second = divmod(micros // MICROS, 86400)  # UTC days have 86,400 seconds
    prefix = _DAY_PREFIXES.get(day)
    if prefix is None:  # strftime is most of the cost: once per day
        moment = _EPOCH + timedelta(days=day)
        prefix = f"{moment.year:04d}-{moment:%m-%dT}"
        if len(_DAY_PREFIXES) < _DAYS_KEPT:
            _DAY_PREFIXES[day] = prefix
    hour, second = divmod(second, 3600)
    minute, second = divmod(second, 60)
    return f"{prefix}{hour:02d}:{minute:02d}:{second:02d}Z"


# day since the epoch -> "YYYY-MM-DDT", for format_time (its own dict: `_DAYS` above is
# parse_time's, whose size limit it would otherwise share)
_DAY_PREFIXES: dict[int, str] = {}
_DAYS_KEPT = 100_000  # about 270 years of days
