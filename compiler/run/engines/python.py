"""The reference engine: the standard-library runtime (`runtime.Engine`) over streamed input."""
from __future__ import annotations

import contextlib
import gc
from typing import Callable, Iterable, Iterator

from runtime import Engine
from runtime import io as rio
from runtime.events import Event, Reject

from .. import readers


def run(table: dict, events: str, contacts: str | None, as_of: int | None,
        on_reject: Callable[[Reject], None], progress: Callable[[int], None] | None = None,
        observer=None) -> list[dict]:
    """Score the events file against the rule table; rejected lines go to `on_reject`;
    an `observer` (runtime.observe) is told every step (rule coverage).

    Rejected contacts lines are skipped here: the caller reports them (see `compiler.run.scoring`).
    """
    profiles, accepted = _inputs(events, contacts, on_reject, progress)
    with _frozen():
        return Engine(table).run(accepted, profiles, as_of=as_of, observer=observer)


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
    profiles, accepted = _inputs(events, contacts, on_reject, progress)
    with _frozen():
        return Engine(table).run_with_accounts(accepted, profiles, as_of=as_of)


def _inputs(events, contacts, on_reject, progress) -> tuple[dict, list[Event]]:
    with rio.paused_collector():
        profiles = readers.read_contacts(contacts)[0] if contacts else {}
        # A list, not a generator: the engine may walk the events more than once.
        accepted = list(_accepted(readers.read_events(events, progress=progress), on_reject))
    return profiles, accepted


@contextlib.contextmanager
def _frozen():
    """The input holds no cycles: keep the collector's full passes off its millions of
    objects while the engine runs."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _accepted(items: Iterable[Event | Reject], on_reject) -> Iterator[Event]:
    for item in items:
        if isinstance(item, Reject):
            on_reject(item)
        else:
            yield item
