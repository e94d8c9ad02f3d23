"""Reading events and contacts, writing results and rejects (docs/language.md section 7, 9.10-9.11).

Standard library only. Readers never raise for bad data: every line becomes either an `Event`
(or a profile) or a `Reject(line, reason, raw)`, so a run over a million events with ten broken
lines scores the rest and reports the ten. How one line is validated lives in `runtime.records`.

Formats are chosen by the file's extension: `.csv` is CSV, anything else (`.jsonl`, `.ndjson`,
`.json`, `-` for standard input) is JSON Lines. Parquet lives in `compiler.run.readers` because it
needs pyarrow.

A JSON Lines line ends at LF (a CR before it is dropped); a CSV line ends at CR, LF or CRLF.

CSV typing rule (CSV cells are text): an empty cell is a missing value; `true` / `false` (any
case) are booleans; `0`, `-12`, `250` (no leading zeros, no `+`) are integers; `2.5`, `-0.75`
are decimals; everything else stays text (so `01234` and `+49 30 1234` stay text). A row whose
quoted cell runs past its line and leaves the row with the wrong number of cells is an unbalanced
quote: that line is rejected and the lines after it are read again on their own, so one stray
`"` costs one line, not every line up to the next quote.
"""
from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import os
import re
import sys
from typing import IO, Callable, Iterable, Iterator, Mapping

from .events import Event, Reject, TimeFormatError, format_time, shown
from .records import (EVENT_KEYS, MAX_DEPTH, REQUIRED_KEYS, RecordError,  # noqa: F401
                      contact_of_record, decode_json, epoch_seconds_to_micros,
                      event_from_record, fast_chunk_reader, fast_event, fast_line_reader,
                      parse_as_of, profile_from_record, type_name, validate_event)

STDIN = "-"
STDIN_NAME = "<stdin>"

_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+\Z")
_CSV_PROP_PREFIX = "props."
# RFC 4180 line ends: the csv module quotes a cell holding any character of the line end, so
# with "\r\n" a cell with a lone "\r" or "\n" is quoted too and reads back unchanged.
_CSV_LINE_END = "\r\n"
_PROGRESS_LINES = 4096  # lines between two progress calls

Progress = Callable[[int], None]  # called with the number of bytes read so far


class InputError(ValueError):
    """A file that cannot be read at all (missing, a directory, not permitted, a CSV header
    that names a column twice)."""


# --- names and formats ------------------------------------------------------------------------

def display_name(source: str | os.PathLike | IO) -> str:
    """The name rejects cite: the path as given, `<stdin>` for `-`, a stream's `name`."""
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        return STDIN_NAME if text == STDIN else text
    return str(getattr(source, "name", STDIN_NAME))


def file_format(source: str | os.PathLike | IO) -> str:
    """`csv`, `parquet` or `jsonl`, from the extension (streams and `-` are JSON Lines)."""
    if not isinstance(source, (str, os.PathLike)):
        return "jsonl"
    suffix = os.path.splitext(os.fspath(source))[1].lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    return "jsonl"


@contextlib.contextmanager
def paused_collector():
    """The cyclic garbage collector off while millions of events are built (they hold no
    cycles, and each full collection would walk all of them again), on again after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- JSON Lines -------------------------------------------------------------------------------

def event_of_line(raw: str, line: int, seq: int) -> Event | Reject:
    """One JSON Lines line (without its line end) as an `Event` or a `Reject`."""
    event = fast_event(raw, line, seq)
    if event is not None:
        return event
    try:
        return event_from_record(decode_json(raw), line, seq)
    except RecordError as exc:
        return Reject(line, str(exc), raw)


def _jsonl_events(stream: IO[bytes], progress: Progress | None,
                  loads: Callable[[bytes], object] | None = None,
                  chunk_reader: ChunkReader | None = None) -> Iterator[Event | Reject]:
    for items in _jsonl_chunks(stream, progress, loads, chunk_reader=chunk_reader):
        yield from items


# lines read and validated at a time (about 400 event lines): a chunk's lines, their joined
# copy and the events made of them stay in the CPU's caches (1 MB of L2 a core here) until
# the engine reads them. At 1 MB a chunk, `score run` on the independent workload (200,000
# events) took 0.79-1.0 s against 0.52-0.74 s at 64 KB (benchmarks/README.md, 2026-12-04)
_CHUNK_BYTES = 1 << 16

# (loads, slow) -> read(lines, number, seq) -> (items, seq): `fast_chunk_reader`'s contract.
# `compiler.run.readers` passes one that decodes with msgspec (`compiler.run.fast_jsonl`).
ChunkReader = Callable[..., Callable[[list, int, int], tuple]]


def _jsonl_chunks(stream: IO[bytes], progress: Progress | None,
                  loads: Callable[[bytes], object] | None = None,
                  size: int | None = None, chunk_reader: ChunkReader | None = None,
                  read: Callable[[list, int, int], tuple] | None = None
                  ) -> Iterator[list[Event | Reject]]:
    """The events and rejects of a JSON Lines stream, in order, in lists of the lines of
    about `size` bytes (`runtime.records.fast_chunk_reader`, or `chunk_reader` given the
    same arguments, or `read` already made so: what it gives for each chunk): one call per
    chunk, not a generator step per line."""
    read = read or (chunk_reader or fast_chunk_reader)(loads, _slow_line)
    size = size or _CHUNK_BYTES
    seq = done = number = 0
    while True:
        lines = stream.readlines(size)
        if not lines:
            break
        items, seq = read(lines, number, seq)
        number += len(lines)
        if progress is not None:
            done += sum(map(len, lines))
            progress(done)
        if items:
            yield items
    if progress is not None:
        progress(done)


def read_event_chunks(source: str | os.PathLike | IO, *, progress: Progress | None = None,
                      loads: Callable[[bytes], object] | None = None,
                      chunk_reader: ChunkReader | None = None
                      ) -> Iterator[list[Event | Reject]]:
    """`read_events` of a JSON Lines source in lists of consecutive items (in order, each
    list ~64 KB of lines): what `score run` reads, without a generator step per line."""
    stream, owned = _open_binary(source)
    try:
        yield from _jsonl_chunks(stream, progress, loads, chunk_reader=chunk_reader)
    finally:
        if owned:
            stream.close()


# A chunk of rows: (the accepted events as rows, its rejects, the number of its last line).
# A row is a tuple (contact, event, at, target, id, props) (`compiled_timeorder.ROW`): `at`
# in microseconds, `props` a dict or None for none; `seq` is the row's place in the file.
RowChunk = tuple[Iterable[tuple], list[Reject], int]


def read_row_chunks(source: str | os.PathLike | IO, *, progress: Progress | None = None,
                    loads: Callable[[bytes], object] | None = None,
                    chunk_reader: ChunkReader | None = None,
                    row_reader: ChunkReader | None = None) -> Iterator[RowChunk]:
    """`read_event_chunks` with rows instead of events, for `InFileOrder(rows=...)` (no
    `Event` object a line): a chunk of rows for each chunk of lines. `row_reader` (the
    contract of `fast_chunk_reader`, but `read` gives a `RowChunk` for the lines) reads
    them (`compiler.run.fast_jsonl.row_reader`); else the events of `chunk_reader` (or
    `fast_chunk_reader`) are made rows (`event_rows`)."""
    if row_reader is not None:
        read = row_reader(loads, _slow_line)
    else:
        events = (chunk_reader or fast_chunk_reader)(loads, _slow_line)

        def read(lines: list[bytes], number: int, seq: int) -> tuple[RowChunk, int]:
            items, seq = events(lines, number, seq)
            return event_rows(items, number + len(lines)), seq
    stream, owned = _open_binary(source)
    try:
        yield from _jsonl_chunks(stream, progress, read=read)
    finally:
        if owned:
            stream.close()


def event_rows(items: Iterable[Event | Reject], last: int) -> RowChunk:
    """A reader's events and rejects (in line order, up to line `last`) as a `RowChunk`."""
    rows, rejects = [], []
    for item in items:
        if isinstance(item, Reject):
            rejects.append(item)
        else:
            rows.append((item.contact, item.event, item.at, item.target, item.id, item.props))
    return rows, rejects, last


def _slow_line(data: bytes, number: int, seq: int) -> Event | Reject | None:
    if number == 1 and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return line_item(data, number, seq)


def line_item(data: bytes, number: int, seq: int) -> Event | Reject | None:
    """One JSON Lines line as its bytes (a byte order mark already dropped): an `Event`, a
    `Reject`, or None for a blank line. What the fast path leaves comes here, and so do the
    lines the DuckDB engine's SQL does not accept."""
    try:
        raw = data.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raw = data.decode("utf-8", errors="replace").rstrip("\r\n")
        return Reject(number, f"not valid UTF-8 (byte {exc.start + 1})", raw) \
            if raw.strip() else None
    if not raw.strip():
        return None
    return event_of_line(raw, number, seq)


def _contact_rows(stream: IO[bytes], chunk_records: ChunkRecords | None
                  ) -> Iterator[tuple[int, object, str]]:
    """(line, record or RecordError, raw) for every non-blank line of a JSON Lines stream of
    contacts, a chunk of lines at a time: by `chunk_records(contact_lines)` when given
    (`compiler.run.fast_contacts`, msgspec), else by `contact_lines`."""
    read = contact_lines if chunk_records is None else chunk_records(contact_lines)
    number = 0
    while True:
        lines = stream.readlines(_CHUNK_BYTES)
        if not lines:
            break
        yield from read(lines, number)
        number += len(lines)


# (contact_lines) -> read(lines, number) -> rows: a faster reader of contacts lines, which
# gives what `contact_lines` gives (`compiler.run.readers` passes one that uses msgspec).
ChunkRecords = Callable[[Callable], Callable[[list, int], list]]


def contact_lines(lines: list[bytes], number: int) -> list[tuple[int, object, str]]:
    """The strict path for contacts lines (the first is line `number + 1`): (line, record or
    RecordError, raw text without its line end) for every non-blank line."""
    rows = []
    for data in lines:
        number += 1
        if number == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            raw = data.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raw = data.decode("utf-8", errors="replace").rstrip("\r\n")
            if raw[:1] == "{" or raw.strip():
                rows.append((number, RecordError(f"not valid UTF-8 (byte {exc.start + 1})"),
                             raw))
            continue
        if raw[:1] == "{" or raw.strip():
            try:
                rows.append((number, decode_json(raw), raw))
            except RecordError as exc:
                rows.append((number, exc, raw))
    return rows


# --- CSV --------------------------------------------------------------------------------------

def csv_value(text: str):
    """A CSV cell typed by the rule in this module's docstring (None = missing). Raises
    `RecordError` for an integer too long for Python to read (sys.get_int_max_str_digits)."""
    if text == "":
        return None
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if _INTEGER.match(text):
        try:
            return int(text)
        except ValueError:
            raise RecordError(f"a number with more than {sys.get_int_max_str_digits()} "
                              "digits") from None
    if _DECIMAL.match(text):
        return float(text)
    return text


class _Feed:
    """The physical lines of a CSV stream for `csv.reader`, one at a time, with the lines of
    the current row kept (`taken`) so that they can be handed out again (`put_back`)."""

    def __init__(self, lines: Iterator[tuple[int, str, bool]]) -> None:
        self.lines = lines
        self.again: list[tuple[int, str, bool]] = []  # put back, in reverse order
        self.taken: list[tuple[int, str, bool]] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.again.pop() if self.again else next(self.lines)
        self.taken.append(line)
        return line[1]

    def put_back(self, lines: list[tuple[int, str, bool]]) -> None:
        self.again.extend(reversed(lines))


def _csv_lines(stream: IO[bytes], progress: Progress | None
               ) -> Iterator[tuple[int, str, bool]]:
    """(number, text with its line end, valid UTF-8) per physical line; CR, LF and CRLF all end
    a line (newline="" keeps them, as the csv module wants)."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    done = 0
    try:
        for number, line in enumerate(text, start=1):
            if progress is not None:
                done += len(line)
                if number % _PROGRESS_LINES == 0:
                    progress(done)
            if line.isascii():
                yield number, line, True
                continue
            try:
                line.encode("utf-8")
            except UnicodeEncodeError:  # a byte that is not UTF-8, kept as a surrogate
                line = line.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                yield number, line, False
            else:
                yield number, line, True
        if progress is not None:
            progress(done)
    finally:
        with contextlib.suppress(ValueError):  # already closed by its owner
            text.detach()  # the caller owns (and closes) the stream


def _csv_rows(stream: IO[bytes], progress: Progress | None, name: str = STDIN_NAME):
    """(line, {column: text} or RecordError, raw) per non-blank data row; `line` is the row's
    first line (a quoted cell may span several). Raises `InputError` for a header that names
    a column twice."""
    feed = _Feed(_csv_lines(stream, progress))
    reader = csv.reader(feed)
    header: list[str] | None = None
    while True:
        feed.taken = []
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a NUL byte, or a field larger than csv's limit
            taken = feed.taken
            yield taken[0][0], RecordError(f"unreadable CSV: {exc}"), _line_raw(taken[0])
            feed.put_back(taken[1:])
            continue
        taken = feed.taken
        if not taken or not any(cell.strip() for cell in cells):
            continue
        start = taken[0][0]
        if header is None:
            header = _header(cells, name)
            continue
        if not all(ok for _, _, ok in taken):
            yield start, RecordError("not valid UTF-8"), csv_raw(cells)
        elif len(cells) == len(header):
            yield start, dict(zip(header, cells)), cells  # the raw text, when needed: csv_raw
        elif len(taken) > 1:
            yield start, RecordError(
                f"unbalanced quote: the quoted cell opened on this line runs to line "
                f"{taken[-1][0]} and leaves {len(cells)} cells, not {len(header)}; the lines "
                "after this one are read again on their own"), _line_raw(taken[0])
            feed.put_back(taken[1:])
        else:
            yield start, RecordError(f"expected {len(header)} cells, found {len(cells)}"), \
                csv_raw(cells)


def _header(cells: list[str], name: str) -> list[str]:
    header = [cell.strip() for cell in cells]
    seen: dict[str, int] = {}
    for index, column in enumerate(header, start=1):
        if column in seen:
            raise InputError(f"{name}: the header names column `{shown(column)}` twice "
                             f"(columns {seen[column]} and {index}); rename or remove one")
        seen[column] = index
    return header


def _line_raw(line: tuple[int, str, bool]) -> str:
    return line[1].rstrip("\r\n")


def csv_raw(cells: list[str]) -> str:
    """A CSV row's cells joined back into one CSV line (the `raw` of its reject)."""
    out = io.StringIO()
    csv.writer(out, lineterminator=_CSV_LINE_END).writerow(cells)
    return out.getvalue()[:-len(_CSV_LINE_END)]


def event_record_from_csv(row: dict[str, str]) -> dict:
    """A CSV row as an event record: empty cells are missing, `at` digits are epoch seconds,
    `props` holds a JSON object and `props.NAME` columns add typed properties. Raises
    `RecordError` with the whole reason."""
    record: dict = {}
    props: dict = {}
    for column, cell in row.items():
        if column.startswith(_CSV_PROP_PREFIX) and len(column) > len(_CSV_PROP_PREFIX):
            try:
                value = csv_value(cell)
            except RecordError as exc:
                raise RecordError(f"`{shown(column)}` is {exc}") from None
            if value is not None:
                props[column[len(_CSV_PROP_PREFIX):]] = value
        elif cell == "":
            continue
        elif column == "props":
            try:
                record["props"] = decode_json(cell)
            except RecordError as exc:
                raise RecordError(f"`props` is {exc}") from None
        elif column == "at" and _INTEGER.match(cell.strip()):
            digits = cell.strip()
            if len(digits) > 20:
                raise RecordError(f"invalid time: epoch seconds {shown(digits)} are outside "
                                  "the years 1 to 9999")
            record["at"] = int(digits)
        else:
            record[column] = cell
    if props:
        base = record.get("props", {})
        if isinstance(base, dict):
            record["props"] = {**base, **props}
    return record


def _csv_events(stream: IO[bytes], progress: Progress | None, name: str
                ) -> Iterator[Event | Reject]:
    seq = 0
    for line, row, cells in _csv_rows(stream, progress, name):
        if isinstance(row, RecordError):
            yield Reject(line, str(row), cells)
            continue
        try:
            item = event_from_record(event_record_from_csv(row), line, seq)
        except RecordError as exc:
            yield Reject(line, str(exc), csv_raw(cells))
            continue
        seq += 1
        yield item


# --- readers ----------------------------------------------------------------------------------

def _open_binary(source: str | os.PathLike | IO) -> tuple[IO[bytes], bool]:
    """A binary stream for the source and whether we must close it. Raises `InputError`."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if path == STDIN:
            return _binary(sys.stdin), False
        try:
            return open(path, "rb"), True
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return _binary(source), False


def _binary(stream) -> IO[bytes]:
    if isinstance(stream, (io.RawIOBase, io.BufferedIOBase)):
        return stream
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        return buffer
    return io.BytesIO(stream.read().encode("utf-8", "surrogateescape"))


def read_events(source: str | os.PathLike | IO, *, progress: Progress | None = None,
                fmt: str | None = None, loads: Callable[[bytes], object] | None = None,
                chunk_reader: ChunkReader | None = None) -> Iterator[Event | Reject]:
    """Every event line of a JSON Lines or CSV source as an `Event` or a `Reject`, in order.

    `seq` numbers the accepted events from 0; blank lines are skipped (but counted for line
    numbers). `loads` (optional, JSON Lines only): a faster JSON decoder for the lines'
    fast path, such as `orjson.loads` (see `runtime.records.fast_line_reader`); the events
    and rejects are the same with it, and with a `chunk_reader` (see `_jsonl_chunks`). Raises `InputError` only when the file cannot be read
    at all."""
    fmt = fmt or file_format(source)
    if fmt == "parquet":
        raise InputError(f"{display_name(source)}: Parquet is read by compiler.run.readers")
    stream, owned = _open_binary(source)
    try:
        if fmt == "csv":
            yield from _csv_events(stream, progress, display_name(source))
        else:
            yield from _jsonl_events(stream, progress, loads, chunk_reader)
    finally:
        if owned:
            stream.close()


def read_contacts(source: str | os.PathLike | IO, *, fmt: str | None = None,
                  chunk_records: ChunkRecords | None = None
                  ) -> tuple[dict[str, dict], list[Reject]]:
    """Profiles by contact id (the last line wins for a contact listed twice) and rejects.
    `chunk_records` reads JSON Lines faster, with the same results (see `_contact_rows`)."""
    fmt = fmt or file_format(source)
    if fmt == "parquet":
        raise InputError(f"{display_name(source)}: Parquet is read by compiler.run.readers")
    stream, owned = _open_binary(source)
    try:
        if fmt == "csv":
            rows = (_typed_row(line, row, cells)
                    for line, row, cells in _csv_rows(stream, None, display_name(source)))
        else:
            rows = _contact_rows(stream, chunk_records)
        return collect_contacts(rows)
    finally:
        if owned:
            stream.close()


def _typed_row(line: int, row, cells) -> tuple[int, object, str | list[str]]:
    if isinstance(row, RecordError):
        return line, row, cells
    typed = {}
    for column, cell in row.items():
        try:
            value = csv_value(cell)
        except RecordError as exc:
            return line, RecordError(f"`{shown(column)}` is {exc}"), cells
        if value is not None:
            typed[column] = value
    return line, typed, cells


def collect_contacts(rows: Iterable[tuple[int, object, object]]
                     ) -> tuple[dict[str, dict], list[Reject]]:
    """(line, record or error, raw) rows into profiles and rejects (shared with Parquet). The
    raw may also be a CSV row's cells or a function giving the text: it is made only for the
    rows rejected."""
    profiles: dict[str, dict] = {}
    rejects: list[Reject] = []
    texts: dict[str, str] = {}
    for line, record, raw in rows:
        try:
            if isinstance(record, RecordError):
                raise record
            contact = contact_of_record(record)
        except RecordError as exc:
            rejects.append(Reject(line, str(exc), _raw_text(raw)))
            continue
        profiles.pop(contact, None)  # keep the order of last appearance
        profiles[contact] = _shared(record, texts)
    return profiles, rejects


_SHARED_TEXTS = 100_000  # distinct texts remembered while reading (the repeated come early)


def _shared(record: dict, texts: dict[str, str]) -> dict:
    """The profile of a contacts record (every key but `contact`) with its keys and its
    repeated short texts (a title, a country) one object for every contact: a batch run
    holds every profile, and each line's decoding made its own copies (~56 bytes a text)."""
    shared = {}
    for key, value in record.items():
        if key == "contact":
            continue
        key = texts.get(key) or _remember(texts, key)
        if type(value) is str and len(value) <= 64:
            value = texts.get(value) or _remember(texts, value)
        shared[key] = value
    return shared


def _remember(texts: dict[str, str], text: str) -> str:
    if len(texts) < _SHARED_TEXTS:
        texts[text] = text
    return text


def _raw_text(raw) -> str:
    if isinstance(raw, str):
        return raw
    return raw() if callable(raw) else csv_raw(raw)


# --- writers ----------------------------------------------------------------------------------

def result_json(result: Mapping, *, share: bool = False) -> dict:
    """A result in the key order of section 7: contact, scores, grades, stage, actions.
    `share`: plain dicts of scores and grades are used as they are instead of copied (for a
    dict encoded at once and not kept: the same JSON text)."""
    get = result.get
    scores = get("scores", _EMPTY)
    grades = get("grades", _EMPTY)
    actions = get("actions", ())
    return {
        "contact": result["contact"],
        "scores": scores if share and type(scores) is dict else dict(scores),
        "grades": grades if share and type(grades) is dict else dict(grades),
        "stage": get("stage"),
        "actions": [_action_json(action) for action in actions] if actions else [],
    }


_EMPTY: dict = {}


def _action_json(action: Mapping) -> dict:
    at = action["at"]
    if isinstance(at, int) and not isinstance(at, bool):
        at = format_time(at)
    return {"at": at, "action": action["action"], "arg": action["arg"]}


# json.dumps(value, ensure_ascii=False), without a new encoder for every line
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_line(value) -> str:
    """One JSON Lines line: UTF-8 text as is, except the characters some readers take for a
    line break (U+0085, U+2028, U+2029), which are escaped (they only occur inside strings)."""
    text = _ENCODE(value)
    if not text.isascii() and any(char in text for char in _LINE_BREAKS):
        for char, escaped in _LINE_BREAKS.items():
            text = text.replace(char, escaped)
    return text + "\n"


def write_results_jsonl(results: Iterable[Mapping], stream: IO[str]) -> None:
    """The results' lines, written a batch of lines at a time (one write per batch)."""
    batch: list[str] = []
    add = batch.append
    for result in results:
        add(json_line(result_json(result, share=True)))
        if len(batch) >= _WRITE_BATCH:
            stream.write("".join(batch))
            batch.clear()
    if batch:
        stream.write("".join(batch))


_WRITE_BATCH = 4096  # lines joined into one write


def result_columns(results: list[Mapping], score_names: Iterable[str] = (),
                   grade_names: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    """CSV columns as (header, section, key): contact, one per score, one per grade, stage,
    actions. Names come from the model when given, else from the results in first-seen order;
    a score or grade named like a fixed column is prefixed `score:` / `grade:`."""
    scores = _ordered(score_names, (r.get("scores", {}) for r in results))
    grades = _ordered(grade_names, (r.get("grades", {}) for r in results))
    fixed = {"contact", "stage", "actions"}
    columns = [("contact", "contact", "")]
    columns += [(f"score:{n}" if n in fixed else n, "scores", n) for n in scores]
    columns += [(f"grade:{n}" if n in fixed or n in scores else n, "grades", n) for n in grades]
    return columns + [("stage", "stage", ""), ("actions", "actions", "")]


def _ordered(declared: Iterable[str], mappings: Iterable[Mapping]) -> list[str]:
    names = list(dict.fromkeys(declared))
    seen = set(names)
    for mapping in mappings:
        for name in mapping:
            if name not in seen:
                seen.add(name)
                names.append(name)
    return names


def write_results_csv(results: Iterable[Mapping], stream: IO[str], *,
                      score_names: Iterable[str] = (), grade_names: Iterable[str] = ()) -> None:
    """One row per contact; a missing score, grade or stage is an empty cell; actions are the
    JSON text of the section-7 list."""
    rows = [result_json(result) for result in results]
    columns = result_columns(rows, score_names, grade_names)
    writer = csv.writer(stream, lineterminator=_CSV_LINE_END)
    writer.writerow([header for header, _, _ in columns])
    for row in rows:
        writer.writerow([_csv_cell(row, section, key) for _, section, key in columns])


def _csv_cell(row: dict, section: str, key: str) -> str:
    if section == "actions":
        return json.dumps(row["actions"], ensure_ascii=False)
    value = row[section].get(key) if key else row[section]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def account_json(account: Mapping) -> dict:
    """An accounts line in the key order of language 10.6: account, contacts, scores, grades."""
    return {"account": account["account"], "contacts": account["contacts"],
            "scores": dict(account.get("scores", {})), "grades": dict(account.get("grades", {}))}


def write_accounts_jsonl(accounts: Iterable[Mapping], stream: IO[str]) -> None:
    for account in accounts:
        stream.write(json_line(account_json(account)))


def account_columns(accounts: list[Mapping], score_names: Iterable[str] = (),
                    grade_names: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    """Accounts CSV columns as (header, section, key): account, contacts, one per account
    score, one per account grade (prefixed `score:` / `grade:` when named like another)."""
    scores = _ordered(score_names, (a.get("scores", {}) for a in accounts))
    grades = _ordered(grade_names, (a.get("grades", {}) for a in accounts))
    fixed = {"account", "contacts"}
    columns = [("account", "account", ""), ("contacts", "contacts", "")]
    columns += [(f"score:{n}" if n in fixed else n, "scores", n) for n in scores]
    columns += [(f"grade:{n}" if n in fixed or n in scores else n, "grades", n) for n in grades]
    return columns


def write_accounts_csv(accounts: Iterable[Mapping], stream: IO[str], *,
                       score_names: Iterable[str] = (), grade_names: Iterable[str] = ()) -> None:
    """One row per account; a null account score or an absent grade is an empty cell."""
    rows = [account_json(account) for account in accounts]
    columns = account_columns(rows, score_names, grade_names)
    writer = csv.writer(stream, lineterminator=_CSV_LINE_END)
    writer.writerow([header for header, _, _ in columns])
    for row in rows:
        writer.writerow([_csv_cell(row, section, key) for _, section, key in columns])


def reject_json(reject: Reject, file: str | None = None) -> dict:
    """A rejects-file line: `file` (when known), `line`, `reason`, `raw`."""
    record = {"file": file} if file is not None else {}
    record.update(reject.to_json())
    return record


def write_rejects_jsonl(rejects: Iterable[Reject], stream: IO[str],
                        file: str | None = None) -> None:
    for reject in rejects:
        stream.write(json_line(reject_json(reject, file)))


def format_reject(reject: Reject, file: str) -> str:
    """`events.jsonl:3: invalid time: ...` as written to stderr."""
    return f"{file}:{reject.line}: {reject.reason}"
