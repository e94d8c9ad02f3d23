"""The reference engine: the standard-library runtime (`runtime.Engine`) over streamed input."""
from __future__ import annotations

import contextlib
import gc
import os
from itertools import chain
from typing import Callable, Iterable, Iterator

from runtime import ActionLog, Engine, UnorderedInputError
from runtime import io as rio
from runtime.compiled_timeorder import Fallback, eligible
from runtime.engine import ContactBlocks, InFileOrder
from runtime.events import Event, Reject

from .. import external_sort, readers


def run(table: dict, events: str, contacts: str | None, as_of: int | None,
        on_reject: Callable[[Reject], None], progress: Callable[[int], None] | None = None,
        observer=None) -> list[dict]:
    """Score the events file against the rule table; rejected lines go to `on_reject`;
    an `observer` (runtime.observe) is told every step (rule coverage).

    The events are read once and never held: each goes into its contact's state (memory
    bounded by contacts), when every contact's events come in time order, as event logs and
    exports give them. Otherwise the file is read again through an external sort on disk
    (`compiler.run.external_sort`); rejects already reported are not reported twice.
    Rejected contacts lines are skipped here: the caller reports them (see `compiler.run.scoring`).
    """
    profiles = _profiles(contacts)
    engine = Engine(table)
    return _in_order(events, on_reject, progress, lambda accepted: engine.run(
        accepted, profiles, as_of=as_of, observer=observer),
        in_file_order=observer is None and _file_order_fits(engine))


def timeline(table: dict, events: str, contacts: str | None, as_of: int | None,
             on_reject: Callable[[Reject], None], period: str,
             progress: Callable[[int], None] | None = None) -> list[dict]:
    """Each contact's scores, grades and stage at the end of every period (Engine.timeline)."""
    profiles, accepted = _inputs(events, contacts, on_reject, progress)
    with _frozen():
        return Engine(table).timeline(accepted, profiles, as_of=as_of, period=period)


def run_with_accounts(table: dict, events: str, contacts: str | None, as_of: int | None,
                      on_reject: Callable[[Reject], None],
                      progress: Callable[[int], None] | None = None
                      ) -> tuple[list[dict], list[dict]]:
    """`run`, and the accounts (docs/language.md 10.6) from the same evaluation."""
    profiles = _profiles(contacts)
    engine = Engine(table)
    return _in_order(events, on_reject, progress, lambda accepted: engine.run_with_accounts(
        accepted, profiles, as_of=as_of), in_file_order=_file_order_fits(engine))


def _file_order_fits(engine: Engine) -> bool:
    """Whether the time-order loop takes this table and every rule list an event can match
    is inline in it: otherwise the first event of such a list would stop it (Fallback) and
    every run would read the file twice."""
    return eligible(engine.table) and engine.program.inline_complete


def _profiles(contacts: str | None) -> dict:
    with rio.paused_collector():
        return readers.read_contacts(contacts)[0] if contacts else {}


def run_with_actions(table: dict, events: str, contacts: str | None, as_of: int | None,
                     on_reject: Callable[[Reject], None], since: int | None = None,
                     accounts: bool = False, progress: Callable[[int], None] | None = None
                     ) -> tuple[list[dict], list[dict], list[dict]]:
    """`run` (and the accounts when `accounts`), and the actions fired after `since`: an
    `ActionLog` handed each action by the compiled evaluator, on the path of a plain run
    (streamed as `run` is; a new log when the input is read again in time order)."""
    profiles = _profiles(contacts)
    engine = Engine(table)

    def score(accepted):
        log = ActionLog(engine, since)
        if accounts:
            results, lines = engine.run_with_accounts(accepted, profiles, as_of=as_of,
                                                      actions=log)
        else:
            results, lines = list(engine.iter_run(accepted, profiles, as_of, actions=log)), []
        return results, lines, log.records()
    return _in_order(events, on_reject, progress, score)


def _inputs(events, contacts, on_reject, progress) -> tuple[dict, list[Event]]:
    with rio.paused_collector():
        profiles = readers.read_contacts(contacts)[0] if contacts else {}
        # A list, not a generator: a timeline walks the events more than once.
        accepted = list(_accepted(readers.read_events(events, progress=progress), on_reject))
    return profiles, accepted


def _in_order(events: str, on_reject, progress, score, in_file_order: bool = False):
    """`score(accepted events)`, fed straight from the reader; if a contact's events turn
    out not to be in time order, again from the start through an external sort, reporting
    only the rejects after the line where the first pass stopped. Standard input is first
    copied to a temporary file so that it can be read twice.

    `in_file_order` (see `_file_order_fits`; any other table keeps the regrouping below):
    the events go first in file order as an `InFileOrder` stream of rows (no `Event` a
    line), which the engine reads through its time-order loop; if that meets an event with
    an id (Fallback), the file is read again, contact by contact as below."""
    with rio.paused_collector(), _rereadable(events) as path:
        read = _Reading()
        if in_file_order:
            try:
                return score(InFileOrder(rows=chain.from_iterable(_file_order(
                    readers.read_row_chunks(path, progress=progress), on_reject, read))))
            except UnorderedInputError:
                return _sorted(path, score, _after(read.line, on_reject))
            except Fallback:
                on_reject = _after(read.line, on_reject)
                read = _Reading()
                progress = None
        try:
            return score(_contact_by_contact(readers.read_event_chunks(path, progress=progress),
                                             on_reject, read))
        except UnorderedInputError:
            pass
        return _sorted(path, score, _after(read.line, on_reject))


def _after(stopped: int, on_reject) -> Callable[[Reject], None]:
    """`on_reject` for a pass read again: only the rejects after line `stopped`."""
    def later(reject: Reject) -> None:
        if reject.line > stopped:
            on_reject(reject)
    return later


def _sorted(path, score, on_reject):
    """The pass through an external sort."""
    with external_sort.sorted_events(_accepted(readers.read_events(path), on_reject)) as ordered:
        return score(ordered)


def _file_order(chunks: Iterable[rio.RowChunk], on_reject, read: "_Reading"
                ) -> Iterator[Iterable[tuple]]:
    """The rows of the reader's chunks in line order (their rejects to `on_reject` first);
    `read.line` is the last line of the chunks handed out."""
    for rows, rejects, last in chunks:
        for reject in rejects:
            on_reject(reject)
        read.line = last
        yield rows


class _Reading:
    """The line of the last item read (an event or a reject)."""
    line = 0


@contextlib.contextmanager
def _rereadable(path: str) -> Iterator[str]:
    if path != rio.STDIN:
        yield path
        return
    import shutil
    import sys
    import tempfile

    folder = tempfile.mkdtemp(prefix="scorelang-stdin-")
    try:
        copy = os.path.join(folder, "stdin.jsonl")
        with open(copy, "wb") as out:
            shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _frozen():
    """The input holds no cycles: keep the collector's full passes off its millions of
    objects while the engine runs."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# events regrouped at a time: ~235 MB (447 bytes an event), whatever the input's size. At 2M
# B2B events over 100,000 contacts the engine took 21.4 s in blocks of 65,536, 16.8 s in
# blocks of 262,144, 14.4 s in blocks of 1,048,576 and 11.6 s for the whole list, read as one
# stream of events; since it reads the blocks as they are (ContactBlocks), `score run` took
# 18.9-19.9 CPU s and 474 MB in blocks of 262,144, 17.8-18.2 s and 572 MB in blocks of
# 524,288, 16.2 s and 772 MB in blocks of 1,048,576 (under load); at 20M B2B events (a
# million contacts) 524,288 against 262,144: 195.5 vs 205.6 CPU s, peak 3.32 vs 3.22 GiB
# (benchmarks/README.md, 2026-12-04): within the 4 GiB the issue asks for
BLOCK = 524_288


def _contact_by_contact(chunks: Iterable[list], on_reject, read: _Reading) -> ContactBlocks:
    """The events of the reader's chunks (lists of events and rejects in line order; rejects
    go to `on_reject`) in blocks of at least BLOCK, each block's contact by contact (each
    contact's events in the order read): the engine then finds a contact's state still in
    the CPU's caches for its next events, as `Engine.run` does for a list (contacts do not
    interact; each one's events keep their order, so a contact out of time order is still
    noticed). `read.line` is the last line of the blocks handed out. The blocks go to the
    engine as they are (`ContactBlocks`): its contact-by-contact loop reads each contact's
    events of a block with the state in locals, without grouping them again."""
    return ContactBlocks(_blocks(chunks, on_reject, read))


def _blocks(chunks: Iterable[list], on_reject, read: _Reading) -> Iterator[dict[str, list]]:
    groups: dict[str, list[Event]] = {}
    count = 0
    for items in chunks:
        get = groups.get
        for item in items:
            if type(item) is Event or not isinstance(item, Reject):
                bucket = get(item.contact)
                if bucket is None:
                    groups[item.contact] = [item]
                else:
                    bucket.append(item)
            else:
                on_reject(item)
        count += len(items)
        read.line = items[-1].line
        if count >= BLOCK:
            yield groups
            groups, count = {}, 0
    yield groups


def _accepted(items: Iterable[Event | Reject], on_reject, read: _Reading | None = None
              ) -> Iterator[Event]:
    for item in items:
        if read is not None:
            read.line = item.line
        if isinstance(item, Reject):
            on_reject(item)
        else:
            yield item
