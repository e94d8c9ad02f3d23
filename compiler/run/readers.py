"""Events and contacts from any supported file: JSON Lines and CSV (via `runtime.io`) and
Parquet (via pyarrow, part of the `sql` and `spark` extras: `compiler.run.parquet`).

JSON Lines are decoded by orjson when it is installed (a dependency of the package; the
standard-library runtime cannot import it): two to three times faster than the standard
library's decoder on event lines, with the same events and rejects
(`runtime.records.fast_line_reader`)."""
from __future__ import annotations

import os
from itertools import islice
from typing import Iterator

from runtime import io as rio
from runtime.events import Event, Reject

from .errors import ReaderError

try:
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - orjson is a dependency; the runtime reads without it
    _loads = None

try:
    from .fast_contacts import contact_records as _contact_records
    from .fast_jsonl import chunk_reader as _chunk_reader, row_reader as _row_reader
except ImportError:  # pragma: no cover - msgspec is a dependency; orjson or the stdlib read
    _chunk_reader = _row_reader = _contact_records = None

__all__ = ["ReaderError", "read_contacts", "read_event_chunks", "read_events",
           "read_row_chunks"]


def read_events(path: str, *, progress: rio.Progress | None = None) -> Iterator[Event | Reject]:
    """Every event of the file (or `-` for standard input, JSON Lines) as an Event or a Reject."""
    _check_readable(path)
    if rio.file_format(path) == "parquet":
        from . import parquet

        return parquet.read_events(path, progress)
    return rio.read_events(path, progress=progress, loads=_loads, chunk_reader=_chunk_reader)


def read_event_chunks(path: str, *, progress: rio.Progress | None = None
                      ) -> Iterator[list[Event | Reject]]:
    """`read_events` in lists of consecutive items, in order (what `score run` feeds its
    python engine: JSON Lines are read a chunk of lines at a time)."""
    _check_readable(path)
    if rio.file_format(path) != "jsonl":
        items = read_events(path, progress=progress)
        return iter(lambda: list(islice(items, _CHUNK)), [])
    return rio.read_event_chunks(path, progress=progress, loads=_loads,
                                 chunk_reader=_chunk_reader)


def read_row_chunks(path: str, *, progress: rio.Progress | None = None
                    ) -> Iterator[rio.RowChunk]:
    """`read_event_chunks` with the accepted events as rows (`runtime.io.read_row_chunks`):
    what `score run` feeds the time-order loop in file order (`InFileOrder(rows=...)`)."""
    _check_readable(path)
    if rio.file_format(path) != "jsonl":
        return (rio.event_rows(items, items[-1].line)
                for items in read_event_chunks(path, progress=progress))
    return rio.read_row_chunks(path, progress=progress, loads=_loads,
                               chunk_reader=_chunk_reader, row_reader=_row_reader)


_CHUNK = 8192  # items at a time from a CSV or Parquet reader


# `score run` reads the contacts to report their rejects, then the engine reads them again
# from the path: the first read kept here (`keep=True`) serves the second, once, while the
# file is unchanged; `drop_kept` lets it go when the engine did not ask.
_kept: dict[str, tuple[tuple, tuple]] = {}


def read_contacts(path: str, *, keep: bool = False) -> tuple[dict[str, dict], list[Reject]]:
    """Profiles by contact id (the last row wins) and the rows rejected. With `keep`, the
    next read of the same unchanged file gets this result again instead of reading it."""
    stamp = _stamp(path)
    kept = _kept.pop(os.path.abspath(path), None) if path != rio.STDIN else None
    if kept is not None and stamp is not None and kept[0] == stamp:
        return kept[1]
    found = _read_contacts(path)
    if keep and stamp is not None:
        _kept[os.path.abspath(path)] = (stamp, found)
    return found


def drop_kept() -> None:
    _kept.clear()


def _stamp(path: str) -> tuple | None:
    if path == rio.STDIN:
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _read_contacts(path: str) -> tuple[dict[str, dict], list[Reject]]:
    _check_readable(path)
    if rio.file_format(path) == "parquet":
        from . import parquet

        return rio.collect_contacts(parquet.contact_rows(path))
    try:
        return rio.read_contacts(path, chunk_records=_contact_records)
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
