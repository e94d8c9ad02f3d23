"""Events and contacts from Parquet, read as columns (pyarrow record batches), never as row
dicts. Part of the `sql` and `spark` extras.

A row is validated like a JSON line, with the reasons of `runtime.records`: the 1-based row
number is its line number, and a null cell is a missing key (a null `contact`, `event` or `at`
is "found null"). Columns: `contact`, `event`, `target`, `id` (text); `at`: a timestamp of any
unit (one without a time zone is UTC; nanoseconds are truncated to the microsecond, as ISO text
is), integer epoch seconds or ISO-8601 text; `props`: a struct, a map with text keys, or JSON
text. The values of `props` and of a profile are JSON values: text, numbers (a decimal is a
number: an integer when it has no decimal places), true/false, lists and structs or maps of
these. A column holding any other type (binary, timestamps, dates, ...) there is a clear error
for the whole file before any row is read; a NaN or infinite float is a reject, as in JSON.

The raw text of a reject is the row as a JSON object without its null cells, made only for the
rows rejected.
"""
from __future__ import annotations

import decimal
import functools
import json
import math
import os
from typing import Iterable, Iterator

from runtime.events import MAX_MICROS, MICROS, MIN_MICROS, Event, Reject, TimeFormatError
from runtime.events import format_time, shown
from runtime.records import (EVENT_KEYS, REQUIRED_KEYS, RecordError, decode_json,
                             epoch_seconds_to_micros, event_time, type_name)

from .errors import ReaderError

BATCH_ROWS = 65_536
_UNIT_MICROS = {"s": (MICROS, 1), "ms": (1000, 1), "us": (1, 1), "ns": (1, 1000)}  # (×, ÷)


class ParquetError(ReaderError):
    """A Parquet file that cannot be read at all: not Parquet, a page that cannot be decoded,
    a column of a type no JSON value holds, pyarrow missing."""


def _pa():
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ParquetError("reading Parquet needs pyarrow: install the `sql` or `spark` extra "
                           "(pip install 'scorelang[sql]')") from None
    return pyarrow


def open_file(path: str):
    _pa()
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise ParquetError(f"{path}: not a Parquet file: {exc}") from None


def batches(path: str, progress=None, columns: list[str] | None = None
            ) -> Iterator[tuple[int, object]]:
    """(line of its first row, RecordBatch) over the whole file, in order. A page that cannot
    be decoded is a `ParquetError` naming its row group."""
    parquet = open_file(path)
    total = max(os.path.getsize(path), 1)
    rows_total = max(parquet.metadata.num_rows, 1)
    line = 1
    for group in range(parquet.metadata.num_row_groups):
        try:
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS, row_groups=[group],
                                              columns=columns):
                yield line, batch
                line += batch.num_rows
        except (OSError, ValueError, ArithmeticError, MemoryError) as exc:
            raise ParquetError(f"{path}: row group {group} (rows from {line}) cannot be read: "
                               f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                               ) from None
        if progress is not None:
            progress(total * (line - 1) // rows_total)


# --- types ----------------------------------------------------------------------------------

def _base(kind):
    pa = _pa()
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def is_text(kind) -> bool:
    pa = _pa()
    kind = _base(kind)
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) \
        or getattr(pa.types, "is_string_view", lambda _: False)(kind)


def json_type_problem(kind, where: str) -> str | None:
    """Why values of this Arrow type are not JSON values (see the docstring), else None."""
    pa = _pa()
    kind = _base(kind)
    if is_text(kind) or pa.types.is_boolean(kind) or pa.types.is_integer(kind) \
            or pa.types.is_floating(kind) or pa.types.is_decimal(kind) or pa.types.is_null(kind):
        return None
    if pa.types.is_struct(kind):
        for index in range(kind.num_fields):
            field = kind.field(index)
            problem = json_type_problem(field.type, f"{where}.{field.name}")
            if problem:
                return problem
        return None
    if pa.types.is_map(kind):
        if not is_text(kind.key_type):
            return f"`{where}` is a map with {kind.key_type} keys (JSON keys are text)"
        return json_type_problem(kind.item_type, f"{where}[*]")
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) \
            or pa.types.is_fixed_size_list(kind):
        return json_type_problem(kind.value_type, f"{where}[*]")
    return f"`{where}` is of type {kind}"


def check_schema(path: str, schema, checked: Iterable[str]) -> None:
    """Refuse, before reading, a column among `checked` whose values are not JSON values."""
    pa = _pa()
    for name in checked:
        if name not in schema.names:
            continue
        kind = _base(schema.field(name).type)
        if name == "props" and not (pa.types.is_struct(kind) or pa.types.is_map(kind)):
            continue  # JSON text, or a wrong type: a reject per row, as in JSON
        problem = json_type_problem(kind, name)
        if problem:
            raise ParquetError(f"{path}: {problem}, which no JSON value holds; convert it "
                               "(to text or a number) or leave the column out")


def _type_found(kind) -> str:
    """What `runtime.records.type_name` says of the values of this Arrow type."""
    pa = _pa()
    kind = _base(kind)
    if pa.types.is_boolean(kind):
        return "true/false"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "a number"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return "a list"
    if pa.types.is_struct(kind) or pa.types.is_map(kind):
        return "an object"
    if pa.types.is_date(kind):
        return "a date"
    if pa.types.is_timestamp(kind):
        return "a timestamp"
    return str(kind)


# --- values ---------------------------------------------------------------------------------

def plain(value, kind):
    """A Parquet value (as pyarrow gives it) as the JSON value it stands for: a map or struct
    becomes a dict without its null entries, a decimal a number. Raises `RecordError` for NaN
    and infinities."""
    pa = _pa()
    if value is None:
        return None
    kind = _base(kind)
    if pa.types.is_map(kind):
        return {key: plain(item, kind.item_type) for key, item in value if item is not None}
    if pa.types.is_struct(kind):
        fields = {kind.field(i).name: kind.field(i).type for i in range(kind.num_fields)}
        return {key: plain(item, fields[key]) for key, item in value.items() if item is not None}
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) \
            or pa.types.is_fixed_size_list(kind):
        return [plain(item, kind.value_type) for item in value]
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise RecordError(f"{value!r}, which JSON cannot hold")
    if isinstance(value, decimal.Decimal):
        return int(value) if value.as_tuple().exponent >= 0 else float(value)
    return value


class Column:
    """One column of a batch as validation needs it, converted once per batch: `values` per
    row (None = null); `found` when no value of the column's type can be right (its type name
    for the reason); `problems` per row, a reason found while converting (or None)."""

    __slots__ = ("values", "found", "problems")

    def __init__(self, values: list, found: str | None = None, problems: list | None = None):
        self.values, self.found, self.problems = values, found, problems


def _text_column(array) -> Column:
    if is_text(array.type):
        return Column(array.to_pylist())
    return Column(_presence(array), found=_type_found(array.type))


def _time_column(array) -> Column:
    """`at` as epoch microseconds (timestamps and integers), text and other JSON-like values
    as they are (validated per row), or `found` for a type that is never a time."""
    pa = _pa()
    kind = _base(array.type)
    if pa.types.is_dictionary(array.type):
        array = array.cast(kind)
    if pa.types.is_timestamp(kind):
        scale, divide = _UNIT_MICROS[kind.unit]
        values, problems = [], [None] * len(array)
        for row, count in enumerate(array.cast(pa.int64()).to_pylist()):
            micros = None if count is None else count * scale // divide  # floor, as ISO text
            if micros is not None and not MIN_MICROS <= micros <= MAX_MICROS:
                problems[row] = out_of_range(micros)
            values.append(micros)
        return Column(values, problems=problems)
    if pa.types.is_integer(kind):
        values, problems = [], [None] * len(array)
        for row, seconds in enumerate(array.to_pylist()):
            try:
                values.append(None if seconds is None else epoch_seconds_to_micros(seconds))
            except TimeFormatError as exc:
                values.append(None)
                problems[row] = f"invalid time: {exc}"
        return Column(values, problems=problems)
    if is_text(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        return Column(array.to_pylist())
    return Column(_presence(array), found=_type_found(kind))


def out_of_range(micros: int) -> str:
    return (f"invalid time: the timestamp {micros // MICROS} seconds after 1970-01-01 is "
            "outside the years 1 to 9999")


def _props_column(array) -> Column:
    pa = _pa()
    kind = _base(array.type)
    if pa.types.is_dictionary(array.type):
        array = array.cast(kind)
    if pa.types.is_map(kind) or pa.types.is_struct(kind):
        decode = lambda value: plain(value, kind)  # noqa: E731
        prefix = "`props` holds "
    elif is_text(kind):
        decode = decode_json
        prefix = "`props` is "
    elif pa.types.is_null(kind):
        return Column([None] * len(array))
    else:
        return Column(_presence(array), found=_type_found(kind))
    values, problems = [], [None] * len(array)
    for row, value in enumerate(array.to_pylist()):
        try:
            values.append(None if value is None else decode(value))
        except RecordError as exc:
            values.append(None)
            problems[row] = prefix + str(exc)
    return Column(values, problems=problems)


def _presence(array) -> list:
    """True for a set cell, None for a null one (the values of a column of a wrong type)."""
    return [True if valid else None for valid in array.is_valid().to_pylist()]


_CONVERT = {"contact": _text_column, "event": _text_column, "target": _text_column,
            "id": _text_column, "at": _time_column, "props": _props_column}


def event_columns(batch) -> dict[str, Column]:
    """The columns of a batch of events; an unknown column only says which cells are set."""
    return {name: _CONVERT.get(name, lambda a: Column(_presence(a)))(batch.column(i))
            for i, name in enumerate(batch.schema.names)}


# --- rows -----------------------------------------------------------------------------------

def event_rows(batch, rows: Iterable[int], first_line: int, seq: int
               ) -> Iterator[Event | Reject]:
    """The events and rejects of the given rows (0-based, increasing) of a batch whose first
    row is line `first_line`; `seq` numbers the accepted events from the value given."""
    columns = event_columns(batch)
    unknown = [columns[name] for name in columns if name not in EVENT_KEYS]
    unknown_names = [name for name in columns if name not in EVENT_KEYS]
    missing = next((key for key in REQUIRED_KEYS if key not in columns), None)
    contact, event, at = columns.get("contact"), columns.get("event"), columns.get("at")
    target, ids, props = columns.get("target"), columns.get("id"), columns.get("props")
    for row in rows:
        reason = None
        for name, column in zip(unknown_names, unknown):
            if column.values[row]:
                reason = f"unknown key `{shown(name)}` (allowed: {', '.join(EVENT_KEYS)})"
                break
        if reason is None and missing is not None:
            reason = f"missing required key `{missing}`"
        if reason is None:
            reason = (_text_reason(contact, row, "contact", True)
                      or _text_reason(event, row, "event", True) or _time_reason(at, row)
                      or _text_reason(target, row, "target", False)
                      or _text_reason(ids, row, "id", False) or _props_reason(props, row))
        if reason is not None:
            yield Reject(first_line + row, reason, row_raw(batch, row))
            continue
        yield Event(contact.values[row], event.values[row], at.values[row],
                    target.values[row] if target is not None else None,
                    ids.values[row] if ids is not None else None,
                    (props.values[row] or {}) if props is not None else {}, first_line + row,
                    seq)
        seq += 1


def _text_reason(column: Column | None, row: int, key: str, required: bool) -> str | None:
    if column is None:
        return None
    value = column.values[row]
    if value is None:
        return f"`{key}` must be text, found null" if required else None
    if column.found is not None:
        return f"`{key}` must be text, found {column.found}"
    if required and not value:
        return f"`{key}` must not be empty"
    return None


def _time_reason(column: Column, row: int) -> str | None:
    if column.found is not None:
        return _time_reason_of(column.found if column.values[row] else None)
    if column.problems is not None:  # already microseconds
        if column.problems[row] is not None:
            return column.problems[row]
        return None if column.values[row] is not None else _time_reason_of(None)
    try:
        column.values[row] = event_time(column.values[row])
    except TimeFormatError as exc:
        return f"invalid time: {exc}"
    return None


def _time_reason_of(found: str | None) -> str:
    return ("invalid time: `at` must be ISO-8601 text or integer epoch seconds, found "
            f"{found or 'null'}")


def _props_reason(column: Column | None, row: int) -> str | None:
    if column is None:
        return None
    if column.problems is not None and column.problems[row] is not None:
        return column.problems[row]
    value = column.values[row]
    if value is None:
        return None
    if column.found is not None:
        return f"`props` must be an object, found {column.found}"
    if not isinstance(value, dict):
        return f"`props` must be an object, found {type_name(value)}"
    return None


def row_raw(batch, row: int) -> str:
    """A row as a JSON object without its null cells (a required key stays, as null): the raw
    text of its reject. Timestamps are ISO text when they can be, else their count and unit."""
    pa = _pa()
    record = {}
    for index, name in enumerate(batch.schema.names):
        array = batch.column(index)
        kind = _base(array.type)
        if not array[row].is_valid:
            if name in REQUIRED_KEYS:
                record[name] = None
            continue
        if pa.types.is_timestamp(kind):
            count = array.cast(pa.int64())[row].as_py()
            scale, divide = _UNIT_MICROS[kind.unit]
            micros = count * scale // divide
            record[name] = (iso_micros(micros) if MIN_MICROS <= micros <= MAX_MICROS
                            else f"{count} {kind.unit} after 1970-01-01")
            continue
        try:
            record[name] = array[row].as_py()
        except (ValueError, OverflowError, ArithmeticError):
            record[name] = str(array[row])
    return json.dumps(record, default=str, ensure_ascii=False)


def iso_micros(micros: int) -> str:
    """A time as ISO-8601 text in UTC, with its microseconds when it has any."""
    text = format_time(micros)
    fraction = micros % MICROS
    return f"{text[:-1]}.{fraction:06d}Z" if fraction else text


# --- whole files ----------------------------------------------------------------------------

def read_events(path: str, progress=None) -> Iterator[Event | Reject]:
    parquet = open_file(path)
    check_schema(path, parquet.schema_arrow, ("props",))
    seq = 0
    for first, batch in batches(path, progress):
        for item in event_rows(batch, range(batch.num_rows), first, seq):
            if type(item) is Event:
                seq += 1
            yield item


def contact_rows(path: str) -> Iterator[tuple[int, object, object]]:
    """(line, record or RecordError, raw) per row of a contacts file, for
    `runtime.io.collect_contacts`; the raw is a function, called only for a rejected row."""
    parquet = open_file(path)
    schema = parquet.schema_arrow
    check_schema(path, schema, [name for name in schema.names if name != "contact"])
    for first, batch in batches(path):
        names = batch.schema.names
        kinds = [batch.schema.field(i).type for i in range(len(names))]
        columns = [batch.column(i).to_pylist() for i in range(len(names))]
        for row in range(batch.num_rows):
            raw = functools.partial(row_raw, batch, row)
            try:
                yield first + row, _profile_record(names, kinds, columns, row), raw
            except RecordError as exc:
                yield first + row, exc, raw


def _profile_record(names, kinds, columns, row: int) -> dict:
    record = {}
    for name, kind, values in zip(names, kinds, columns):
        value = values[row]
        if value is None:
            if name == "contact":
                record[name] = None
        elif name == "contact":
            record[name] = value
        else:
            try:
                record[name] = plain(value, kind)
            except RecordError as exc:
                raise RecordError(f"`{shown(name)}` holds {exc}") from None
    return record
