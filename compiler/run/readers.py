"""Events and contacts from any supported file: JSON Lines and CSV (via `runtime.io`) and
Parquet (via pyarrow, part of the `sql` and `spark` extras).

Parquet rows are validated exactly like JSON lines (`runtime.io.validate_event`); the 1-based
row number is the line number. Columns: `contact`, `event`, `at` (a timestamp, integer epoch
seconds or ISO-8601 text), `target`, `id`, `props` (a struct, a map or JSON text). A timestamp
column without a time zone is read as UTC.
"""
from __future__ import annotations

import json
import os
from typing import Iterator

from runtime import io as rio
from runtime.events import Event, Reject

_BATCH_ROWS = 65_536


class ReaderError(Exception):
    """A file that cannot be read at all: missing, unreadable, or pyarrow not installed."""


def read_events(path: str, *, progress: rio.Progress | None = None) -> Iterator[Event | Reject]:
    """Every event of the file (or `-` for standard input, JSON Lines) as an Event or a Reject."""
    if rio.file_format(path) == "parquet":
        return _parquet_events(path, progress)
    _check_readable(path)
    return rio.read_events(path, progress=progress)


def read_contacts(path: str) -> tuple[dict[str, dict], list[Reject]]:
    """Profiles by contact id (the last row wins) and the rows rejected."""
    if rio.file_format(path) == "parquet":
        rows = _parquet_rows(path, None)
        return rio.collect_contacts((line, record, raw) for line, record, raw, _ in rows)
    _check_readable(path)
    try:
        return rio.read_contacts(path)
    except rio.InputError as exc:
        raise ReaderError(str(exc)) from None


def _check_readable(path: str) -> None:
    if path == rio.STDIN:
        return
    if not os.path.exists(path):
        raise ReaderError(f"{path}: no such file")
    if os.path.isdir(path):
        raise ReaderError(f"{path}: is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise ReaderError(f"{path}: permission denied")


def _pyarrow_parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ReaderError("reading Parquet needs pyarrow: install the `sql` or `spark` extra "
                          "(pip install 'scorelang[sql]')") from None
    return pq


def _parquet_events(path: str, progress) -> Iterator[Event | Reject]:
    seq = 0
    for line, record, raw, _ in _parquet_rows(path, progress):
        item = rio.validate_event(record, line, seq, raw)
        if isinstance(item, Event):
            seq += 1
        yield item


def _parquet_rows(path: str, progress) -> Iterator[tuple[int, dict, str, int]]:
    """(row number, record, raw JSON text, bytes so far) for every row of a Parquet file."""
    pq = _pyarrow_parquet()
    _check_readable(path)
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise ReaderError(f"{path}: not a Parquet file: {exc}") from None
    total = os.path.getsize(path)
    import pyarrow

    maps = {f.name for f in parquet.schema_arrow if pyarrow.types.is_map(f.type)}
    rows_total = max(parquet.metadata.num_rows, 1)
    line = 0
    for batch in parquet.iter_batches(batch_size=_BATCH_ROWS):
        for record in batch.to_pylist():
            line += 1
            record = {key: _plain(value, key in maps) for key, value in record.items()
                      if value is not None or key in rio.REQUIRED_KEYS}
            if isinstance(record.get("props"), str):
                record["props"] = _json_object(record["props"])
            yield line, record, json.dumps(record, default=str, ensure_ascii=False), 0
        if progress is not None:
            progress(total * line // rows_total)


def _json_object(text: str):
    try:
        value = json.loads(text)
    except ValueError:
        return text  # rejected by the validator: `props` must be an object
    return value


def _plain(value, is_map: bool = False):
    """Parquet values as JSON-like values: a map column arrives as a list of (key, value)
    pairs; a struct as a dict whose null fields are missing."""
    if is_map and isinstance(value, list):
        return {key: _plain(item) for key, item in value if item is not None}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if item is not None}
    return value
