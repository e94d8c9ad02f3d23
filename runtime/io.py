"""Reading events and contacts, writing results and rejects (docs/language.md section 7, 9.10-9.11).

Standard library only. Readers never raise for bad data: every line becomes either an `Event`
(or a profile) or a `Reject(line, reason, raw)`, so a run over a million events with ten broken
lines scores the rest and reports the ten.

Formats are chosen by the file's extension: `.csv` is CSV, anything else (`.jsonl`, `.ndjson`,
`.json`, `-` for standard input) is JSON Lines. Parquet lives in `compiler.run.readers` because it
needs pyarrow.

CSV typing rule (CSV cells are text): an empty cell is a missing value; `true` / `false` (any
case) are booleans; `0`, `-12`, `250` (no leading zeros, no `+`) are integers; `2.5`, `-0.75`
are decimals; everything else stays text (so `01234` and `+49 30 1234` stay text).
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from typing import IO, Callable, Iterable, Iterator, Mapping

from .events import MICROS, Event, Reject, TimeFormatError, format_time, parse_time

EVENT_KEYS = ("contact", "event", "target", "at", "id", "props")
REQUIRED_KEYS = ("contact", "event", "at")
_EVENT_KEY_SET = frozenset(EVENT_KEYS)
STDIN = "-"
STDIN_NAME = "<stdin>"

# Epoch seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: times outside cannot be printed.
_MIN_SECONDS = -62135596800
_MAX_SECONDS = 253402300799
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+\Z")
_CSV_PROP_PREFIX = "props."
# RFC 4180 line ends: the csv module quotes a cell holding any character of the line end, so
# with "\r\n" a cell with a lone "\r" or "\n" is quoted too and reads back unchanged.
_CSV_LINE_END = "\r\n"

Progress = Callable[[int], None]  # called with the number of bytes read so far


class InputError(ValueError):
    """A file that cannot be read at all (missing, a directory, not permitted)."""


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


# --- times ------------------------------------------------------------------------------------

def epoch_seconds_to_micros(seconds: int) -> int:
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS:
        raise TimeFormatError(f"epoch seconds {seconds} are outside the years 1 to 9999")
    return seconds * MICROS


def parse_as_of(text: str) -> int:
    """`--as-of`: ISO-8601 with `Z` or an offset, a date (midnight UTC), or epoch seconds."""
    value = text.strip()
    if _INTEGER.match(value):
        return epoch_seconds_to_micros(int(value))
    return parse_time(value, date_only_is_utc_midnight=True)


def _event_time(value) -> int:
    if isinstance(value, bool):
        raise TimeFormatError("`at` must be ISO-8601 text or integer epoch seconds, "
                              "found true/false")
    if isinstance(value, int):
        return epoch_seconds_to_micros(value)
    if isinstance(value, float):
        raise TimeFormatError(f"`at` as a number must be whole epoch seconds, found {value!r}")
    if isinstance(value, str):
        return parse_time(value, date_only_is_utc_midnight=False)
    if hasattr(value, "utcoffset") and hasattr(value, "timestamp"):  # datetime from Parquet
        return _datetime_micros(value)
    raise TimeFormatError(f"`at` must be ISO-8601 text or integer epoch seconds, "
                          f"found {type_name(value)}")


def _datetime_micros(moment) -> int:
    """A `datetime` as epoch microseconds; a naive one is read as UTC (Parquet convention)."""
    from datetime import datetime, timezone

    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86400 + delta.seconds) * MICROS + delta.microseconds


# --- validation -------------------------------------------------------------------------------

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


class RecordError(ValueError):
    """Why one decoded record is not an event or a contact (the reason of its `Reject`)."""



def event_from_record(record, line: int, seq: int) -> Event:
    """Validate one decoded record (a JSON object, a CSV row, a Parquet row) into an `Event`.

    Raises `RecordError` with the reason; `validate_event` turns it into a `Reject`."""
    if not isinstance(record, dict):
        raise RecordError(f"expected a JSON object, found {type_name(record)}")
    if not record.keys() <= _EVENT_KEY_SET:
        unknown = [key for key in record if key not in _EVENT_KEY_SET]
        raise RecordError(f"unknown key `{unknown[0]}` (allowed: {', '.join(EVENT_KEYS)})")
    for key in REQUIRED_KEYS:
        if key not in record:
            raise RecordError(f"missing required key `{key}`")
    contact = _required_text(record, "contact")
    event = _required_text(record, "event")
    try:
        at = _event_time(record["at"])
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
    if not isinstance(record, dict):
        raise RecordError(f"expected a JSON object, found {type_name(record)}")
    if "contact" not in record:
        raise RecordError("missing required key `contact`")
    contact = _required_text(record, "contact")
    return contact, {key: value for key, value in record.items() if key != "contact"}


# --- JSON Lines -------------------------------------------------------------------------------

def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in JSON")


def _unique_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key `{key}`")
        result[key] = value
    return result


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_keys)


def decode_json(text: str):
    """Strict JSON: no NaN/Infinity, no duplicate keys. Raises `RecordError`."""
    try:
        value, end = _DECODER.raw_decode(text, _skip_space(text, 0))
    except json.JSONDecodeError as exc:
        raise RecordError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    except ValueError as exc:
        raise RecordError(f"not valid JSON: {exc}") from None
    end = _skip_space(text, end)
    if end != len(text):
        raise RecordError(f"not valid JSON: extra text at column {end + 1}")
    return value


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


class _Line:
    """One physical line: its 1-based number, its text (bad bytes replaced) and whether it
    was valid UTF-8 (`bad_byte` is the 1-based column of the first bad byte, else 0)."""

    __slots__ = ("number", "text", "bad_byte")

    def __init__(self, number: int, text: str, bad_byte: int) -> None:
        self.number, self.text, self.bad_byte = number, text, bad_byte


def _lines(stream: IO[bytes], progress: Progress | None) -> Iterator[_Line]:
    done = 0
    for number, data in enumerate(stream, start=1):
        done += len(data)
        if progress is not None and number % 4096 == 0:
            progress(done)
        if number == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            yield _Line(number, data.decode("utf-8"), 0)
        except UnicodeDecodeError as exc:
            yield _Line(number, data.decode("utf-8", errors="replace"), exc.start + 1)
    if progress is not None:
        progress(done)


def _jsonl_records(stream: IO[bytes], progress: Progress | None):
    """(line, record or RecordError, raw) for every non-blank line of a JSON Lines stream."""
    for line in _lines(stream, progress):
        raw = line.text.rstrip("\r\n")
        if not raw.strip():
            continue
        if line.bad_byte:
            yield line.number, RecordError(f"not valid UTF-8 (byte {line.bad_byte})"), raw
            continue
        try:
            yield line.number, decode_json(raw), raw
        except RecordError as exc:
            yield line.number, exc, raw


# --- CSV --------------------------------------------------------------------------------------

def csv_value(text: str):
    """A CSV cell typed by the rule in this module's docstring (None = missing)."""
    if text == "":
        return None
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if _INTEGER.match(text):
        return int(text)
    if _DECIMAL.match(text):
        return float(text)
    return text


def _csv_rows(stream: IO[bytes], progress: Progress | None):
    """(line, {column: text} or RecordError, raw) per non-blank data row; `line` is the
    row's first line (a quoted cell may span several)."""
    bad_lines: set[int] = set()

    def texts():
        for line in _lines(stream, progress):
            if line.bad_byte:
                bad_lines.add(line.number)
            yield line.text

    reader = csv.reader(texts())
    header = None
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, RecordError(f"unreadable CSV: {exc}"), ""
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if header is None:
            if any(cell.strip() for cell in cells):
                header = [name.strip() for name in cells]
            continue
        if not any(cell.strip() for cell in cells):
            continue
        raw = csv_raw(cells)
        if any(number in bad_lines for number in range(start, line)):
            yield start, RecordError("not valid UTF-8"), raw
        elif len(cells) != len(header):
            yield start, RecordError(f"expected {len(header)} cells, found {len(cells)}"), raw
        else:
            yield start, dict(zip(header, cells)), raw


def csv_raw(cells: list[str]) -> str:
    """A CSV row's cells joined back into one CSV line (the `raw` of its reject)."""
    out = io.StringIO()
    csv.writer(out, lineterminator=_CSV_LINE_END).writerow(cells)
    return out.getvalue()[:-len(_CSV_LINE_END)]


def event_record_from_csv(row: dict[str, str]) -> dict:
    """A CSV row as an event record: empty cells are missing, `at` digits are epoch seconds,
    `props` holds a JSON object and `props.NAME` columns add typed properties."""
    record: dict = {}
    props: dict = {}
    for column, cell in row.items():
        if column.startswith(_CSV_PROP_PREFIX) and len(column) > len(_CSV_PROP_PREFIX):
            value = csv_value(cell)
            if value is not None:
                props[column[len(_CSV_PROP_PREFIX):]] = value
        elif cell == "":
            continue
        elif column == "props":
            record["props"] = decode_json(cell)
        elif column == "at" and _INTEGER.match(cell.strip()):
            record["at"] = int(cell.strip())
        else:
            record[column] = cell
    if props:
        base = record.get("props", {})
        if isinstance(base, dict):
            record["props"] = {**base, **props}
    return record


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
    return io.BytesIO(stream.read().encode("utf-8"))


def read_events(source: str | os.PathLike | IO, *, progress: Progress | None = None,
                fmt: str | None = None) -> Iterator[Event | Reject]:
    """Every event line of a JSON Lines or CSV source as an `Event` or a `Reject`, in order.

    `seq` numbers the accepted events from 0; blank lines are skipped (but counted for line
    numbers). Raises `InputError` only when the file cannot be opened."""
    fmt = fmt or file_format(source)
    if fmt == "parquet":
        raise InputError(f"{display_name(source)}: Parquet is read by compiler.run.readers")
    stream, owned = _open_binary(source)
    try:
        yield from _events_from_stream(stream, fmt, progress)
    finally:
        if owned:
            stream.close()


def _events_from_stream(stream, fmt: str, progress) -> Iterator[Event | Reject]:
    seq = 0
    records = _csv_rows(stream, progress) if fmt == "csv" else _jsonl_records(stream, progress)
    for line, record, raw in records:
        if isinstance(record, RecordError):
            yield Reject(line, str(record), raw)
            continue
        if fmt == "csv":
            try:
                record = event_record_from_csv(record)
            except RecordError as exc:
                yield Reject(line, f"`props` is {exc}", raw)
                continue
        item = validate_event(record, line, seq, raw)
        if isinstance(item, Event):
            seq += 1
        yield item


def read_contacts(source: str | os.PathLike | IO, *, fmt: str | None = None
                  ) -> tuple[dict[str, dict], list[Reject]]:
    """Profiles by contact id (the last line wins for a contact listed twice) and rejects."""
    fmt = fmt or file_format(source)
    if fmt == "parquet":
        raise InputError(f"{display_name(source)}: Parquet is read by compiler.run.readers")
    stream, owned = _open_binary(source)
    try:
        if fmt == "csv":
            rows = ((line, row if isinstance(row, RecordError) else _typed_row(row), raw)
                    for line, row, raw in _csv_rows(stream, None))
        else:
            rows = _jsonl_records(stream, None)
        return collect_contacts(rows)
    finally:
        if owned:
            stream.close()


def _typed_row(row: dict[str, str]) -> dict:
    typed = {column: csv_value(cell) for column, cell in row.items()}
    return {column: value for column, value in typed.items() if value is not None}


def collect_contacts(rows: Iterable[tuple[int, object, str]]
                     ) -> tuple[dict[str, dict], list[Reject]]:
    """(line, record or error, raw) rows into profiles and rejects (shared with Parquet)."""
    profiles: dict[str, dict] = {}
    rejects: list[Reject] = []
    for line, record, raw in rows:
        try:
            if isinstance(record, RecordError):
                raise record
            contact, profile = profile_from_record(record)
        except RecordError as exc:
            rejects.append(Reject(line, str(exc), raw))
            continue
        profiles.pop(contact, None)  # keep the order of last appearance
        profiles[contact] = profile
    return profiles, rejects


# --- writers ----------------------------------------------------------------------------------

def result_json(result: Mapping) -> dict:
    """A result in the key order of section 7: contact, scores, grades, stage, actions."""
    return {
        "contact": result["contact"],
        "scores": dict(result.get("scores", {})),
        "grades": dict(result.get("grades", {})),
        "stage": result.get("stage"),
        "actions": [_action_json(action) for action in result.get("actions", ())],
    }


def _action_json(action: Mapping) -> dict:
    at = action["at"]
    if isinstance(at, int) and not isinstance(at, bool):
        at = format_time(at)
    return {"at": at, "action": action["action"], "arg": action["arg"]}


_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_line(value) -> str:
    """One JSON Lines line: UTF-8 text as is, except the characters some readers take for a
    line break (U+0085, U+2028, U+2029), which are escaped (they only occur inside strings)."""
    text = json.dumps(value, ensure_ascii=False)
    if any(char in text for char in _LINE_BREAKS):
        for char, escaped in _LINE_BREAKS.items():
            text = text.replace(char, escaped)
    return text + "\n"


def write_results_jsonl(results: Iterable[Mapping], stream: IO[str]) -> None:
    for result in results:
        stream.write(json_line(result_json(result)))


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
