"""JSON Lines events decoded and validated in C by msgspec, a chunk of lines at a time, for
`score run` (issue 12). The standard-library runtime cannot import msgspec: this is the
`chunk_reader` that `compiler.run.readers` hands `runtime.io` when msgspec is installed; the
runtime's own chunk reader (`runtime.records.fast_chunk_reader`) is the fallback, and the
two give the same events and rejects (tests/test_readers_msgspec.py).

Each line is decoded by itself into a typed `_Line` (`Decoder.decode`: exactly one JSON
value per line, whitespace around it allowed as in the strict path): the keys (no unknown
key), the types (`contact` and `event` non-empty text, `at` text or whole epoch seconds of
the years 1 to 9999, `target` and `id` text or null, `props` an object or null), UTF-8, no
NaN/Infinity, no control character in a string, no trailing text, all checked in C. What
msgspec accepts, the strict path accepts alike, except what is proved here for the chunk:
- no repeated key (msgspec keeps the last): without a backslash in the chunk every `"`
  delimits a string; the strings of the decoded lines are counted (the keys present, the
  text values, and two quotes per string in the props written back by `encode`); the
  line's quotes are twice that exactly when no line lost a key (a lost key takes at least
  its own string);
- nesting at most `MAX_DEPTH`: a line has at most as many levels as `{` and `[`, and
  an event line nested deeper is at least `_SHORTEST_DEEP_EVENT` bytes long (only `props`
  nests), so only such lines are counted;
- the time: `at` text goes through `parse_time`'s caches, as in the runtime.
A line msgspec refuses, or whose time does not parse, goes to the strict path on its own
(which finds the reason); a chunk with a backslash or a repeated key is read by the
runtime's chunk reader instead.

`row_reader` reads the same lines as rows (`runtime.io.read_row_chunks`, for the time-order
loop's row variant): a chunk that every line of decodes is taken as columns, a tuple of each
field of the lines (`zip` of the structs' tuples), checked and counted in C (the types of a
column counted, not tested line by line), the times made microseconds in one `map` when all
are integers, and the rows handed out as one `zip` of the columns: no Python step a line.
Every other chunk is read by `chunk_reader` and its events made rows, so the rows and
rejects are those of the events and rejects `chunk_reader` gives
(tests/test_readers_msgspec.py)."""
from __future__ import annotations

from itertools import compress, repeat
from typing import Annotated, Any, Callable

import msgspec
from msgspec import UNSET, Meta, UnsetType
from msgspec.structs import astuple

from runtime.events import MICROS, Event, Reject, TimeFormatError, parse_time
from runtime.events import _DAYS, _SECONDS  # parse_time's caches, read inline
from runtime.io import RowChunk, event_rows
from runtime.records import MAX_DEPTH, MAX_SECONDS, MIN_SECONDS, fast_chunk_reader

__all__ = ["chunk_reader", "row_reader"]

_Text = Annotated[str, Meta(min_length=1)]
_Seconds = Annotated[int, Meta(ge=MIN_SECONDS, le=MAX_SECONDS)]


class _Line(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """One event line as decoded: UNSET for a key absent, None for null (both count for
    the quote proof: `encode` writes a null back with its key, an UNSET not at all).
    `gc=False`: a decoded line holds no cycle and lives only until its chunk is read, so
    the collector need not track it."""
    contact: _Text
    event: _Text
    at: _Seconds | str
    target: str | None | UnsetType = UNSET
    id: str | None | UnsetType = UNSET
    props: dict[str, Any] | None | UnsetType = UNSET


_SHARED_NAMES = 4096  # event types and targets kept one object each (as the runtime does)


def chunk_reader(loads: Callable[[bytes], object] | None,
                 slow: Callable[[bytes, int, int], Event | Reject | None]
                 ) -> Callable[[list[bytes], int, int], tuple[list, int]]:
    """`runtime.records.fast_chunk_reader(loads, slow)`'s contract (`read(lines, number,
    seq)` -> (items, next seq)), with the lines decoded and checked by msgspec."""
    other = fast_chunk_reader(loads, slow)
    decode = msgspec.json.Decoder(_Line).decode
    encode = msgspec.json.Encoder().encode
    failed = msgspec.MsgspecError
    count = bytes.count
    days, clocks = _DAYS, _SECONDS
    names: dict[str, str] = {}
    unset = UNSET

    def one(data: bytes):
        try:
            return astuple(decode(data))
        except failed:
            return None

    def read(lines: list[bytes], number: int, seq: int) -> tuple[list, int]:
        joined = b"".join(lines)
        if joined.find(b"\\") >= 0 or _deep(lines, _SHORTEST_DEEP_EVENT):
            return other(lines, number, seq)
        try:  # each struct gone once read (its memory reused: a list of them ran slower)
            found = walk(map(astuple, map(decode, lines)), lines, joined, number, seq)
        except failed:  # the lines msgspec refused go to the strict path
            found = walk(map(one, lines), lines, joined, number, seq)
        if found is None:  # a key repeated somewhere in the chunk
            return other(lines, number, seq)
        return found

    def walk(rows, lines: list[bytes], joined: bytes, number: int, seq: int):
        first = number
        items = []
        append = items.append
        strings = 0  # the texts (keys and values) of the lines taken, props aside
        props_met = []  # their non-empty props, whose texts encode counts
        quotes = count(joined, b'"')
        for row in rows:
            number += 1
            if row is not None:
                contact, event, at, target, event_id, props = row
                if type(at) is str:
                    day = clock = None
                    if len(at) == 20 and at[19] == "Z" and at[10] == "T":
                        day, clock = days.get(at[:10]), clocks.get(at[11:19])
                    if day is not None and clock is not None:
                        at = (day + clock) * MICROS
                    else:
                        try:
                            at = parse_time(at, date_only_is_utc_midnight=False)
                        except TimeFormatError:  # the strict path gives the reason
                            at = None
                    strings += 6
                else:
                    at *= MICROS
                    strings += 5
                if at is not None:
                    if target is unset:
                        target = None
                    elif target is None:
                        strings += 1
                    else:
                        target = names.get(target) or _shared(names, target)
                        strings += 2
                    if event_id is unset:
                        event_id = None
                    elif event_id is None:
                        strings += 1
                    else:
                        strings += 2
                    if props is unset:
                        props = {}
                    else:
                        strings += 1
                        if props is None:
                            props = {}
                        elif props:
                            props_met.append(props)
                    append(Event(contact, names.get(event) or _shared(names, event), at,
                                 target, event_id, props, number, seq))
                    seq += 1
                    continue
                strings -= 6
            data = lines[number - first - 1]
            quotes -= count(data, b'"')
            item = slow(data, number, seq)
            if item is not None:
                if type(item) is Event:
                    seq += 1
                append(item)
        if quotes != 2 * strings + count(encode(props_met), b'"'):
            return None
        return items, seq
    return read


def row_reader(loads: Callable[[bytes], object] | None,
               slow: Callable[[bytes, int, int], Event | Reject | None]
               ) -> Callable[[list[bytes], int, int], tuple[RowChunk, int]]:
    """`read(lines, number, seq)` -> (`runtime.io.RowChunk` of the lines, next seq): the
    events and rejects of `chunk_reader(loads, slow)` as rows (see the module's docstring).
    The quote proof over columns: the keys present are three a line and one for each
    `target`, `id` and `props` not UNSET, the texts two a line (contact and event) and one
    for each text `at`, `target` and `id`, and the props' strings are counted in their
    encoding, as `chunk_reader` counts them."""
    events = chunk_reader(loads, slow)
    decode = msgspec.json.Decoder(_Line).decode
    encode = msgspec.json.Encoder().encode
    failed = msgspec.MsgspecError
    count = bytes.count
    micros = MICROS.__mul__
    days, clocks = _DAYS, _SECONDS

    def read(lines: list[bytes], number: int, seq: int) -> tuple[RowChunk, int]:
        joined = b"".join(lines)
        if joined.find(b"\\") < 0 and not _deep(lines, _SHORTEST_DEEP_EVENT):
            try:
                decoded = list(map(astuple, map(decode, lines)))
            except failed:
                decoded = None
            if decoded:
                rows = columns(decoded, count(joined, b'"'))
                if rows is not None:
                    return (rows, [], number + len(lines)), seq + len(lines)
        items, seq = events(lines, number, seq)
        return event_rows(items, number + len(lines)), seq

    def columns(decoded: list[tuple], quotes: int):
        """The rows of lines all decoded, or None where the chunk needs `chunk_reader` (a
        time that does not parse fast, a repeated key)."""
        n = len(decoded)
        contacts, names, ats, targets, ids, props = zip(*decoded)
        kinds = list(map(type, ats))
        texts = n - kinds.count(int)
        ats = times(ats) if texts else map(micros, ats)
        if ats is None:
            return None
        strings = 5 * n + texts  # the keys contact, event and at; the texts contact, event
        targets, absent, kinds = _present(targets)
        strings += n - absent + kinds.count(str)
        ids, absent, kinds = _present(ids)
        strings += n - absent + kinds.count(str)
        props, absent, _ = _present(props)
        if absent < n:
            strings += n - absent
            quotes -= count(encode(props), b'"')
        if quotes != 2 * strings:
            return None
        return zip(contacts, names, ats, targets, ids, props)

    def times(ats: tuple) -> list[int] | None:
        """Microseconds of a column of `at` (seconds or text), None where a text does not
        parse (the strict path then says why)."""
        found = []
        append = found.append
        for at in ats:
            if type(at) is int:
                append(at * MICROS)
                continue
            day = clock = None
            if len(at) == 20 and at[19] == "Z" and at[10] == "T":
                day, clock = days.get(at[:10]), clocks.get(at[11:19])
            if day is not None and clock is not None:
                append((day + clock) * MICROS)
                continue
            try:
                append(parse_time(at, date_only_is_utc_midnight=False))
            except TimeFormatError:
                return None
        return found
    return read


def _present(values: tuple) -> tuple[Any, int, list]:
    """A column with UNSET (key absent) as None (`repeat(None)` when every line lacks the
    key), the count of UNSET, and the types of the values as decoded."""
    kinds = list(map(type, values))
    absent = kinds.count(UnsetType)
    if absent == len(values):
        return repeat(None), absent, kinds
    if absent:
        values = [None if value is UNSET else value for value in values]
    return values, absent, kinds


# A line msgspec accepts holds a closing bracket for each opening one: nested deeper than
# MAX_DEPTH, it is at least 2 * (MAX_DEPTH + 1) bytes long.
_SHORTEST_DEEP = 2 * (MAX_DEPTH + 1)
# An event line that decodes as a `_Line` nests only in `props` (every other key holds text
# or a number) and holds the three required keys: nested deeper than MAX_DEPTH, it is at
# least as long as the shortest such line, lists nested in the props object (two bytes a
# level). The independent workload's event lines are all shorter: none is looked at.
_SHORTEST_DEEP_EVENT = (len(b'{"contact":"c","event":"e","at":0,"props":{"":}}')
                        + 2 * (MAX_DEPTH - 1))


def _deep(lines: list[bytes], shortest: int = _SHORTEST_DEEP) -> bool:
    """Whether a line might nest deeper than MAX_DEPTH (it has more brackets); only the
    lines of at least `shortest` bytes are looked at, in Python (one `max` in C first: most
    chunks have none)."""
    if max(map(len, lines), default=0) < shortest:
        return False
    return any(data.count(b"{") + data.count(b"[") > MAX_DEPTH
               for data in compress(lines, map(shortest.__le__, map(len, lines))))


def _shared(names: dict[str, str], text: str) -> str:
    if len(names) < _SHARED_NAMES:
        names[text] = text
    return text
