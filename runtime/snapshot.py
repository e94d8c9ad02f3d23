"""Streaming state to and from JSON-safe dicts (`Engine.snapshot` / `Engine.restore`).

Only what cannot be recomputed is written: profile awards and `require` are derived again
from the profile and the table on restore, so a snapshot stays small.

Version 2 (language v2) adds each contact's quiet spell (`spell`: the start of the spell and
the next due time of each inactivity rule) and keeps sums and awards per slot (scores, then
groups). A version-1 snapshot lacks the spells, so it is refused rather than guessed at.
"""
from __future__ import annotations

from .errors import SnapshotError

VERSION = 2
_FIELDS = ("sums", "awards", "spell", "stage", "fired", "was_true", "actions", "clock", "point",
           "order", "dirty")


def dump(engine) -> dict:
    contacts = {}
    for contact_id in sorted(engine._states):
        state = engine._states[contact_id]
        entry = {name: getattr(state, name) for name in _FIELDS}
        entry["profile"] = state.profile
        # a heap's list order depends on the order of its pushes (the compiled and interpreted
        # paths push in different orders); sorted, it is still a heap and the same state
        # writes the same snapshot
        entry["awards"] = [None if item is None else [item[0], sorted(item[1])]
                           for item in state.awards]
        entry["caps"] = [[index, value] for index, value in sorted((state.caps or {}).items())]
        entry["pending"] = [list(item) for item in state.pending]
        entry["recent"] = [list(item) for item in state.recent]
        entry["seen"] = None if state.seen is None else sorted(state.seen)
        contacts[contact_id] = _copy(entry)
    return {"snapshot": VERSION, "table": engine.table.sha256,
            "profiles": _copy(engine._profiles), "contacts": contacts}


def load(engine, snapshot: dict) -> None:
    if not isinstance(snapshot, dict) or "snapshot" not in snapshot:
        raise SnapshotError("not a scorelang snapshot")
    if snapshot["snapshot"] != VERSION:
        raise SnapshotError(f"snapshot version {snapshot['snapshot']!r} cannot be restored: this "
                            f"runtime reads version {VERSION} (it keeps inactivity spells and "
                            "group sums); rebuild the state by replaying the events")
    if snapshot.get("table") != engine.table.sha256:
        raise SnapshotError("the snapshot was taken with another rule table")
    try:
        _load_contacts(engine, snapshot)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        engine._states.clear()
        raise SnapshotError(f"malformed snapshot: {type(exc).__name__} {exc}") from None


def _load_contacts(engine, snapshot: dict) -> None:
    engine._profiles = _copy(snapshot["profiles"])
    for contact_id, entry in snapshot["contacts"].items():
        state = engine._new_contact(contact_id, _copy(entry["profile"]))
        for name in _FIELDS:
            setattr(state, name, _copy(entry[name]))
        # heap entries of timed awards are tuples (JSON made them lists)
        state.awards = [None if item is None else [item[0], [tuple(e) for e in item[1]]]
                        for item in state.awards]
        state.caps = {index: value for index, value in _copy(entry["caps"])} or None
        state.pending = [tuple(item) for item in entry["pending"]]
        state.recent = [tuple(item) for item in entry["recent"]]
        state.seen = None if entry["seen"] is None else set(entry["seen"])
        engine._states[contact_id] = state


def _copy(value):
    """A deep copy of JSON-shaped data (snapshot and engine must not share lists)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(item) for item in value]
    return value
