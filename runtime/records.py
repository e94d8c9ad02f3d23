"""One decoded line (a JSON object, a CSV row, a Parquet row) into an `Event` or a reason why
not (docs/language.md section 7, 9.10). Standard library only; shared by every reader and engine.

Two ways to the same answer for a JSON line:
- `decode_json` + `event_from_record`, the strict path: no NaN/Infinity, no duplicate key at any
  depth, nesting at most `MAX_DEPTH` levels, numbers within Python's digit limit, no lone
  surrogate (`"\\ud800"` is half of a UTF-16 pair, not text: it could not be written out);
- `fast_event`, for the lines that provably need none of those checks (no escaped quote, no
  surrogate escape, few brackets): the C scanner without a per-object hook, and a count of the
  line's quotes that proves no key was repeated. It returns None for anything else, and the
  strict path then decides and finds the reason. The two agree on every line
  (tests/test_readers_fast.py);
- `fast_line_reader(loads)`, the same proof over a faster decoder (orjson) reading the line's
  bytes, for `score run`.
"""
from __future__ import annotations

import json
import json.scanner
import re
import sys
from typing import Callable

from .events import MAX_MICROS, MICROS, MIN_MICROS, Event, Reject, TimeFormatError, parse_time
from .events import _DAYS, _SECONDS  # parse_time's caches, read inline by _checked
from .events import shown

EVENT_KEYS = ("contact", "event", "target", "at", "id", "props")
REQUIRED_KEYS = ("contact", "event", "at")
_EVENT_KEY_SET = frozenset(EVENT_KEYS)
MAX_DEPTH = 100  # levels of nested objects and lists in one line

# Epoch seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: times outside cannot be printed.
MIN_SECONDS = MIN_MICROS // MICROS
MAX_SECONDS = MAX_MICROS // MICROS
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


class RecordError(ValueError):
    """Why one decoded record is not an event or a contact (the reason of its `Reject`)."""


def type_name(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# --- times ------------------------------------------------------------------------------------

def epoch_seconds_to_micros(seconds: int) -> int:
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise TimeFormatError(f"epoch seconds {shown(str(seconds))} are outside the years 1 to "
                              "9999")
    return seconds * MICROS


def parse_as_of(text: str) -> int:
    """`--as-of`: ISO-8601 with `Z` or an offset, a date (midnight UTC), or epoch seconds."""
    value = text.strip()
    if _INTEGER.match(value):
        if len(value) > 20:  # beyond any year 1-9999, and int() refuses past 4300 digits
            raise TimeFormatError(f"epoch seconds {shown(value)} are outside the years 1 to "
                                  "9999")
        return epoch_seconds_to_micros(int(value))
    return parse_time(value, date_only_is_utc_midnight=True)


def event_time(value) -> int:
    if isinstance(value, bool):
        raise TimeFormatError("`at` must be ISO-8601 text or integer epoch seconds, "
                              "found true/false")
    if isinstance(value, int):
        return epoch_seconds_to_micros(value)
    if isinstance(value, float):
        raise TimeFormatError(f"`at` as a number must be whole epoch seconds, found {value!r}")
    if isinstance(value, str):
        return parse_time(value, date_only_is_utc_midnight=False)
    raise TimeFormatError(f"`at` must be ISO-8601 text or integer epoch seconds, "
                          f"found {type_name(value)}")


# --- validation -------------------------------------------------------------------------------

def event_from_record(record, line: int, seq: int) -> Event:
    """Validate one decoded record (a JSON object, a CSV row, a Parquet row) into an `Event`.

    Raises `RecordError` with the reason; `validate_event` turns it into a `Reject`."""
    if not isinstance(record, dict):
        raise RecordError(f"expected a JSON object, found {type_name(record)}")
    if not record.keys() <= _EVENT_KEY_SET:
        unknown = [key for key in record if key not in _EVENT_KEY_SET]
        raise RecordError(f"unknown key `{shown(unknown[0])}` (allowed: {', '.join(EVENT_KEYS)})")
    for key in REQUIRED_KEYS:
        if key not in record:
            raise RecordError(f"missing required key `{key}`")
    contact = _required_text(record, "contact")
    event = _required_text(record, "event")
    try:
        at = event_time(record["at"])
    except TimeFormatError as exc:
        raise RecordError(f"invalid time: {exc}") from None
    target = _optional_text(record, "target")
    event_id = _optional_text(record, "id")
    props = record.get("props")
    if props is None:
        props = {}
    elif not isinstance(props, dict):
        raise RecordError(f"`props` must be an object, found {type_name(props)}")
    return Event(contact, event, at, target, event_id, props, line, seq)


def _required_text(record: dict, key: str) -> str:
    value = record[key]
    if not isinstance(value, str):
        raise RecordError(f"`{key}` must be text, found {type_name(value)}")
    if not value:
        raise RecordError(f"`{key}` must not be empty")
    return value


def _optional_text(record: dict, key: str) -> str | None:
    value = record.get(key)
    if value is None or isinstance(value, str):
        return value
    raise RecordError(f"`{key}` must be text, found {type_name(value)}")


def validate_event(record, line: int, seq: int, raw: str) -> Event | Reject:
    try:
        return event_from_record(record, line, seq)
    except RecordError as exc:
        return Reject(line, str(exc), raw)


def profile_from_record(record) -> tuple[str, dict]:
    """One contacts line: `contact` (non-empty text) and the profile (every other key)."""
    contact = contact_of_record(record)
    return contact, {key: value for key, value in record.items() if key != "contact"}


def contact_of_record(record) -> str:
    """The `contact` of one contacts line (non-empty text), checked as `profile_from_record`
    checks it, without making the profile."""
    if not isinstance(record, dict):
        raise RecordError(f"expected a JSON object, found {type_name(record)}")
    if "contact" not in record:
        raise RecordError("missing required key `contact`")
    return _required_text(record, "contact")


# --- strict JSON ------------------------------------------------------------------------------

def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in JSON")


def _unique_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key `{shown(key)}`")
        result[key] = value
    return result


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
_SCAN = json.scanner.make_scanner(json.JSONDecoder(parse_constant=_reject_constant))


def decode_json(text: str):
    """Strict JSON (see the module's docstring). Raises `RecordError`."""
    if text.count("{") + text.count("[") > MAX_DEPTH and _depth(text) > MAX_DEPTH:
        raise RecordError(f"not valid JSON: nested deeper than {MAX_DEPTH} levels")
    try:
        value, end = _DECODER.raw_decode(text, _skip_space(text, 0))
    except json.JSONDecodeError as exc:
        raise RecordError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:  # only with a recursion limit below MAX_DEPTH's needs
        raise RecordError(f"not valid JSON: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):
            raise RecordError(f"not valid JSON: a number with more than "
                              f"{sys.get_int_max_str_digits()} digits") from None
        raise RecordError(f"not valid JSON: {exc}") from None
    end = _skip_space(text, end)
    if end != len(text):
        raise RecordError(f"not valid JSON: extra text at column {end + 1}")
    if "\\u" in text:
        surrogate = _lone_surrogate(value)
        if surrogate is not None:
            raise RecordError(f"not valid JSON: `\\u{ord(surrogate):04x}` is half of a UTF-16 "
                              "surrogate pair, not a character")
    return value


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def _depth(text: str) -> int:
    """The deepest nesting of objects and lists in JSON text (brackets in strings ignored)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "}]":
            depth -= 1
    return deepest


def _lone_surrogate(value) -> str | None:
    """The first lone surrogate in any string (keys included) of a decoded JSON value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                for char in item:
                    if "\ud800" <= char <= "\udfff":
                        return char
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


# --- the fast path ----------------------------------------------------------------------------

def fast_event(raw: str, line: int, seq: int) -> Event | None:
    """The event of a well-formed line in one scan, or None when the strict path must decide.

    Sound because: without an escaped quote every `"` of the line delimits a string, so the
    line holds `count('"') / 2` strings; the decoded record holds one per key and per text
    value; the two numbers differ exactly when a key was repeated (the C scanner keeps the last
    of a repeated key). Only `props` may nest, and its depth is counted; no `\\uD8..`-`\\uDF..`
    escape means no surrogate."""
    if raw[:1] != "{" or ("\\" in raw and ('\\"' in raw or _SURROGATE_ESCAPE.search(raw))):
        return None
    try:
        record, end = _SCAN(raw, 0)
    except (StopIteration, ValueError, RecursionError):
        return None
    if end != len(raw):
        return None
    return _checked(record, raw.count('"'), line, seq, None)


def fast_line_reader(loads: Callable[[bytes], object] | None = None
                     ) -> Callable[[bytes, int, int], Event | None]:
    """`fast_event` for a line's bytes (its line end included). Without `loads`, the
    standard library's scanner reads the decoded text; `loads` is a faster JSON decoder of
    the bytes (`orjson.loads`: `compiler.run.readers` passes it when installed; the runtime
    itself imports nothing outside the standard library).

    `loads` must refuse what the strict path refuses in the lines it is given (bytes that are
    not UTF-8, NaN, trailing text, control characters in strings): then the proof of
    `fast_event` holds for it too. One reading differs in orjson: an integer beyond 64 bits
    becomes a float; a line with a float and a run of 19 or more digits (the shortest integer
    outside 64 bits) goes the strict path, which keeps the integer."""
    if loads is None:
        def fast_text(data: bytes, line: int, seq: int) -> Event | None:
            try:
                raw = data.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                return None
            return fast_event(raw, line, seq)
        return fast_text

    def fast(data: bytes, line: int, seq: int) -> Event | None:
        # one search for a backslash (find: faster than `in` on bytes); the rare line with
        # one pays for the other two
        if data[:1] != b"{" or (data.find(b"\\") >= 0 and (
                b'\\"' in data or _SURROGATE_ESCAPE_BYTES.search(data))):
            return None
        try:
            record = loads(data)
        except (ValueError, TypeError, RecursionError):
            return None
        if type(record) is not dict:
            return None
        return _checked(record, data.count(b'"'), line, seq, data)
    return fast


def fast_chunk_reader(loads: Callable[[bytes], object] | None,
                      slow: Callable[[bytes, int, int], Event | Reject | None]
                      ) -> Callable[[list[bytes], int, int], tuple[list, int]]:
    """`fast_line_reader(loads)` for consecutive lines at once: `read(lines, number, seq)`
    gives (the events and rejects of `lines`, whose first is line `number + 1`, in order; the
    seq after them). A line the fast path leaves goes to `slow(data, number, seq)` (the strict
    path: an event, a reject, or None for a blank line).

    The same events as line by line, with two tests made once for all the lines: no
    backslash anywhere (else every line is read as `fast_line_reader` reads it), and the
    quotes of the lines taken by the fast path twice the texts of their records. Each line's
    texts are at most half its quotes (a text comes from a quoted string of the line, and
    without a backslash every quote delimits one), so the sums are equal exactly when every
    line's are, as `fast_event` requires; when they differ, the lines are read again one by
    one."""
    line_fast = fast_line_reader(loads)

    def one_by_one(lines: list[bytes], number: int, seq: int) -> tuple[list, int]:
        items = []
        for data in lines:
            number += 1
            item = line_fast(data, number, seq)
            if item is None:
                item = slow(data, number, seq)
                if item is None:
                    continue
            if type(item) is Event:
                seq += 1
            items.append(item)
        return items, seq

    if loads is None:
        return one_by_one
    keys, days, clocks = _EVENT_KEY_SET, _DAYS, _SECONDS
    names: dict[str, str] = {}  # event types and targets met (at most _SHARED_NAMES)

    def read(lines: list[bytes], number: int, seq: int) -> tuple[list, int]:
        joined = b"".join(lines)
        if joined.find(b"\\") >= 0:
            return one_by_one(lines, number, seq)
        quotes = joined.count(b'"')
        start, strings = seq, 0
        items = []
        append = items.append
        for data in lines:
            number += 1
            # _checked written out (a call is a tenth of a line's time), the quote count
            # left to the end
            record = None
            if data[0] == 123:  # "{"
                try:
                    record = loads(data)
                except (ValueError, TypeError, RecursionError):
                    pass
            if type(record) is dict and record.keys() <= keys:
                get = record.get
                contact, event, at = get("contact"), get("event"), get("at")
                if type(contact) is str and type(event) is str and contact and event:
                    count = len(record) + 2
                    if type(at) is str:
                        day = clock = None
                        if len(at) == 20 and at[19] == "Z" and at[10] == "T":
                            day, clock = days.get(at[:10]), clocks.get(at[11:19])
                        if day is not None and clock is not None:
                            at = (day + clock) * MICROS
                        else:
                            try:
                                at = parse_time(at, date_only_is_utc_midnight=False)
                            except TimeFormatError:
                                at = None
                        count += 1
                    elif type(at) is int and MIN_SECONDS <= at <= MAX_SECONDS:
                        at *= MICROS
                    else:
                        at = None
                    if at is not None:
                        target, event_id, props = get("target"), get("id"), get("props")
                        if target is not None:
                            count += 1
                            if type(target) is not str:
                                at = None
                        if event_id is not None:
                            count += 1
                            if type(event_id) is not str:
                                at = None
                        if props is None:
                            props = {}
                        elif type(props) is not dict:
                            at = None
                        elif props:
                            # _strings_in for flat props written out, else called
                            inside = len(props)
                            for value in props.values():
                                kind = type(value)
                                if kind is str:
                                    inside += 1
                                elif kind is not int and kind is not bool and value is not None:
                                    inside = _strings_in(props, 2, data)
                                    break
                            if inside < 0:
                                at = None
                            count += inside
                        if at is not None:
                            strings += count
                            # one object for each event type and target (blocks of events
                            # held by `score run`: ~110 bytes an event less)
                            event = names.get(event) or _shared(names, event)
                            if target is not None:
                                target = names.get(target) or _shared(names, target)
                            append(Event(contact, event, at, target, event_id, props, number,
                                         seq))
                            seq += 1
                            continue
            quotes -= data.count(b'"')
            item = slow(data, number, seq)
            if item is not None:
                if type(item) is Event:
                    seq += 1
                append(item)
        if quotes != 2 * strings:  # some line repeated a key: each line on its own
            return one_by_one(lines, number - len(lines), start)
        return items, seq
    return read


_SHARED_NAMES = 4096


def _shared(names: dict[str, str], text: str) -> str:
    if len(names) < _SHARED_NAMES:
        names[text] = text
    return text


def _checked(record: dict, quotes: int, line: int, seq: int, data: bytes | None
             ) -> Event | None:
    """The event of a decoded line holding `quotes` double quotes, or None (see fast_event).
    `data` is the line's bytes when a decoder other than the standard library's read it."""
    if not record.keys() <= _EVENT_KEY_SET:
        return None
    get = record.get
    contact, event, at = get("contact"), get("event"), get("at")
    if type(contact) is not str or type(event) is not str or not contact or not event:
        return None
    strings = len(record) + 2
    if type(at) is str:
        # parse_time's first step inline (a call is a tenth of the line's time)
        days = seconds = None
        if len(at) == 20 and at[19] == "Z" and at[10] == "T":
            days, seconds = _DAYS.get(at[:10]), _SECONDS.get(at[11:19])
        if days is not None and seconds is not None:
            at = (days + seconds) * MICROS
        else:
            try:
                at = parse_time(at, date_only_is_utc_midnight=False)
            except TimeFormatError:
                return None
        strings += 1
    elif type(at) is int and MIN_SECONDS <= at <= MAX_SECONDS:
        at *= MICROS
    else:
        return None
    target, event_id, props = get("target"), get("id"), get("props")
    if target is not None:
        if type(target) is not str:
            return None
        strings += 1
    if event_id is not None:
        if type(event_id) is not str:
            return None
        strings += 1
    if props is None:
        props = {}
    elif type(props) is dict:
        if props:
            inside = _strings_in(props, 2, data)
            if inside < 0:
                return None
            strings += inside
    else:
        return None
    if quotes != 2 * strings:
        return None
    return Event(contact, event, at, target, event_id, props, line, seq)


def _strings_in(value, depth: int, data: bytes | None) -> int:
    """Keys and text values in a decoded JSON object or list at nesting `depth`, at any depth
    below; -1 when it nests deeper than MAX_DEPTH, or holds a float that may have been an
    integer beyond 64 bits (see fast_line_reader; `data` is None for the standard library)."""
    if depth > MAX_DEPTH:
        return -1
    count = 0
    if type(value) is dict:
        count = len(value)
        value = value.values()
    for item in value:
        kind = type(item)
        if kind is str:
            count += 1
        elif kind is dict or kind is list:
            inside = _strings_in(item, depth + 1, data)
            if inside < 0:
                return -1
            count += inside
        elif kind is float and data is not None and _LONG_DIGITS.search(data):
            return -1
    return count
