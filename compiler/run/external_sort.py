"""Events in processing order (`at`, then `seq`) from input in any order, in bounded memory.

At most `chunk` events are Python objects at a time: each run of that many is sorted in memory
and written to a temporary file (marshal: the event's fields as a tuple of JSON-shaped values),
then the runs are merged lazily (`heapq.merge`), one event of each run read at a time. Input that
fits in one run never touches the disk. `seq` is unique (the input order), so the order is the
one a stable in-memory sort on `(at, seq)` gives.
"""
from __future__ import annotations

import contextlib
import heapq
import marshal
import os
import shutil
import tempfile
from operator import attrgetter
from typing import Iterable, Iterator

from runtime.events import Event

CHUNK = 250_000  # events per run: ~170 MB of Event objects at the B2B mix
_ORDER = attrgetter("at", "seq")
_BUFFER = 1 << 20


@contextlib.contextmanager
def sorted_events(events: Iterable[Event], chunk: int | None = None,
                  folder: str | None = None) -> Iterator[Iterator[Event]]:
    """The events sorted by `(at, seq)`, as an iterator valid inside the `with` block, in
    runs of `chunk` events (default CHUNK); the temporary runs (under `folder`, default the
    system's temporary folder) are removed after."""
    chunk = CHUNK if chunk is None else chunk
    where = tempfile.mkdtemp(prefix="scorelang-sort-", dir=folder)
    try:
        yield _sorted(events, chunk, where)
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _sorted(events: Iterable[Event], chunk: int, where: str) -> Iterator[Event]:
    runs: list[str] = []
    batch: list[Event] = []
    for event in events:
        batch.append(event)
        if len(batch) >= chunk:
            runs.append(_spill(batch, os.path.join(where, f"run-{len(runs)}")))
            batch = []
    batch.sort(key=_ORDER)
    if not runs:
        yield from batch
        return
    yield from heapq.merge(*[_read(path) for path in runs], iter(batch), key=_ORDER)


def _spill(batch: list[Event], path: str) -> str:
    batch.sort(key=_ORDER)
    with open(path, "wb", buffering=_BUFFER) as stream:
        dump = marshal.dump
        for e in batch:
            dump((e.contact, e.event, e.at, e.target, e.id, e.props, e.line, e.seq), stream)
    batch.clear()
    return path


def _read(path: str) -> Iterator[Event]:
    with open(path, "rb", buffering=_BUFFER) as stream:
        load = marshal.load
        while True:
            try:
                fields = load(stream)
            except EOFError:
                return
            yield Event(*fields)
