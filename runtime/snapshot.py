"""Streaming state to and from JSON-safe dicts (`Engine.snapshot` / `Engine.restore`).

Only what cannot be recomputed is written: profile awards and `require` are derived again
from the profile and the table on restore, and each profile is written once (the engine's
profiles: a contact's state reads the same one). Seen event ids are written with their times,
and only those the duplicate horizon still covers as of the contact's clock (an older one
can never again make an event a duplicate).

A snapshot is untrusted input on restore: its version, its table's identity and a sha256 over
its content are checked, then every field against the table (types, lengths, indices of rules,
stages and triggers, ranges of times, sorted heaps and lists), so that what restores is a state
this runtime could have reached, never one that crashes later or silently scores otherwise.
Anything else is a `SnapshotError`.

Version 3 adds the checksum, the duplicate horizon and the times of the seen ids, and writes
profiles once; version 2 added the quiet spells and per-slot sums. Older versions are refused
rather than guessed at: replay the events.
"""
from __future__ import annotations

import hashlib
import json

from .errors import SnapshotError
from .events import MAX_MICROS, MIN_MICROS
from .table import ABSENCE

VERSION = 3
_TOP = ("snapshot", "table", "duplicate_horizon", "profiles", "contacts", "checksum")
_FIELDS = ("sums", "awards", "caps", "pending", "spell", "stage", "fired", "was_true", "actions",
           "clock", "point", "recent", "seen", "order", "dirty")


def dump(engine) -> dict:
    horizon = engine.duplicate_horizon
    contacts = {}
    for contact_id in sorted(engine._states):
        state = engine._states[contact_id]
        contacts[contact_id] = {
            "sums": list(state.sums),
            # a heap's list order depends on the order of its pushes (the compiled and
            # interpreted paths push in different orders); sorted, it is still a heap and the
            # same state writes the same snapshot
            "awards": [None if item is None else [item[0], [list(e) for e in sorted(item[1])]]
                       for item in state.awards],
            "caps": [[index, list(value) if type(value) is list else value]
                     for index, value in sorted((state.caps or {}).items())],
            "pending": [list(item) for item in state.pending],
            "spell": None if state.spell is None else list(state.spell),
            "stage": state.stage, "fired": state.fired, "was_true": state.was_true,
            "actions": [dict(action) for action in state.actions],
            "clock": state.clock, "point": state.point,
            "recent": [list(item) for item in state.recent],
            "seen": _seen(state, horizon),
            "order": state.order, "dirty": state.dirty,
        }
    body = {"snapshot": VERSION, "table": engine.table.identity, "duplicate_horizon": horizon,
            "profiles": _copy(engine._profiles), "contacts": contacts}
    body["checksum"] = checksum(body)
    return body


def _seen(state, horizon: int | None) -> list | None:
    """The ids that can still find a duplicate: every later event is at or after the clock."""
    if not state.seen:
        return None
    oldest = None if horizon is None or state.clock is None else state.clock - horizon
    kept = [[ident, at] for ident, at in state.seen.items() if oldest is None or at >= oldest]
    return kept or None


def checksum(snapshot: dict) -> str:
    """`sha256:` and the hex sha256 of the snapshot's content (all but `checksum`) as canonical
    JSON: sorted keys, no spaces, ASCII (lone surrogates escaped)."""
    body = {key: value for key, value in snapshot.items() if key != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()


def load(engine, snapshot: dict) -> None:
    if not isinstance(snapshot, dict) or "snapshot" not in snapshot:
        raise SnapshotError("not a scorelang snapshot")
    version = snapshot["snapshot"]
    if type(version) is not int or version != VERSION:
        raise SnapshotError(f"snapshot version {version!r} cannot be restored: this runtime "
                            f"reads version {VERSION} (checksummed, with inactivity spells, "
                            "group sums and the times of seen ids); rebuild the state by "
                            "replaying the events")
    if set(snapshot) != set(_TOP):
        raise SnapshotError(f"malformed snapshot: its keys are {sorted(map(str, snapshot))}, "
                            f"not {sorted(_TOP)}")
    if snapshot["table"] != engine.table.identity:
        raise SnapshotError("the snapshot was taken with another rule table")
    try:
        expected = checksum(snapshot)
    except (TypeError, ValueError, RecursionError) as exc:
        raise SnapshotError(f"malformed snapshot: not JSON data ({type(exc).__name__})") from None
    if snapshot["checksum"] != expected:
        raise SnapshotError("the snapshot's checksum does not match its content: it was changed "
                            "or cut short after it was taken")
    try:
        _load(engine, snapshot, _Shape(engine.table))
    except _Malformed as exc:
        engine._states.clear()
        raise SnapshotError(f"malformed snapshot: {exc}") from None


class _Malformed(Exception):
    pass


class _Shape:
    """What a contact's state may hold for one table."""

    def __init__(self, table):
        self.slots = len(table.slot_names)
        self.timed = frozenset(table.timed)
        self.caps = {rule.index: rule.per for rule in table.rules if rule.cap is not None}
        self.absences = {rule.index: rule.within for rule in table.rules
                         if rule.kind == ABSENCE}
        self.inactivity = len(table.inactivity)
        self.spells = tuple((rule.after, rule.every, rule.count) for rule in table.inactivity)
        self.stages = len(table.stages)
        self.triggers = (1 << len(table.triggers)) - 1


def _load(engine, snapshot: dict, shape: _Shape) -> None:
    horizon = snapshot["duplicate_horizon"]
    if horizon is not None and (type(horizon) is not int or horizon < 0):
        raise _Malformed(f"duplicate_horizon {horizon!r} is not None or an int >= 0")
    profiles = snapshot["profiles"]
    _require(type(profiles) is dict, "profiles is not an object")
    for contact_id, profile in profiles.items():
        _require(type(contact_id) is str and type(profile) is dict
                 and all(type(key) is str for key in profile),
                 f"the profile of {contact_id!r} is not an object")
    contacts = snapshot["contacts"]
    _require(type(contacts) is dict, "contacts is not an object")
    engine.duplicate_horizon = horizon
    engine._profiles = _copy(profiles)
    states = {}
    for contact_id, entry in contacts.items():
        try:
            _require(type(contact_id) is str, "a contact id is not a text")
            _check(entry, shape)
        except _Malformed as exc:
            raise _Malformed(f"contact {contact_id!r}: {exc}") from None
        state = engine._new_contact(contact_id, engine._profiles.get(contact_id))
        state.sums = list(entry["sums"])
        # heap entries of timed awards are tuples (JSON made them lists)
        state.awards = [None if item is None else [item[0], [tuple(e) for e in item[1]]]
                        for item in entry["awards"]]
        state.caps = {index: list(value) if type(value) is list else value
                      for index, value in entry["caps"]} or None
        state.pending = [tuple(item) for item in entry["pending"]]
        state.spell = None if entry["spell"] is None else list(entry["spell"])
        for name in ("stage", "fired", "was_true", "clock", "point", "order", "dirty"):
            setattr(state, name, entry[name])
        state.actions = [dict(action) for action in entry["actions"]]
        state.recent = [tuple(item) for item in entry["recent"]]
        state.seen = None if entry["seen"] is None else {ident: at for ident, at in entry["seen"]}
        states[contact_id] = state
    engine._states = states


# --------------------------------------------------------------------------- checks


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise _Malformed(what)


def _is_int(value) -> bool:
    return type(value) is int


def _is_time(value) -> bool:
    return type(value) is int and MIN_MICROS <= value <= MAX_MICROS


def _is_text(value, none: bool = False) -> bool:
    return type(value) is str or (none and value is None)


def _list(value, what: str, length: int | None = None) -> list:
    _require(type(value) is list and (length is None or len(value) == length),
             f"{what} is not a list" + ("" if length is None else f" of {length}"))
    return value


def _check(entry, shape: _Shape) -> None:
    _require(type(entry) is dict and set(entry) == set(_FIELDS),
             f"a state has the fields {sorted(_FIELDS)}")
    clock, point = entry["clock"], entry["point"]
    _require(clock is None or _is_time(clock), "clock is not a time")
    _require(point is None or _is_time(point), "point is not a time")
    _require(point is None or (clock is not None and point <= clock),
             "point is after the clock")
    sums = _list(entry["sums"], "sums", shape.slots)
    _require(all(map(_is_int, sums)), "a sum is not an integer")
    awards = _list(entry["awards"], "awards", shape.slots)
    for slot, item in enumerate(awards):
        if slot not in shape.timed:
            _require(item is None, f"awards of the untimed slot {slot} are not null")
            continue
        total, heap = _list(item, f"awards of slot {slot}", 2)
        _list(heap, f"the award heap of slot {slot}")
        for award in heap:
            _require(type(award) is list and len(award) == 4 and all(map(_is_int, award))
                     and _is_time(award[1]) and award[0] >= award[1]
                     and (clock is not None and award[1] <= clock),
                     f"an award of slot {slot} is not [next change, time, points, current]")
        _require(all(heap[(k - 1) // 2][0] <= heap[k][0] for k in range(1, len(heap))),
                 f"the award heap of slot {slot} is not a heap")
        _require(_is_int(total) and total == sum(award[3] for award in heap),
                 f"the award total of slot {slot} is not the sum of its awards")
    _check_caps(_list(entry["caps"], "caps"), shape)
    _check_pending(_list(entry["pending"], "pending"), shape)
    spell = entry["spell"]
    if spell is not None:
        _require(shape.inactivity > 0, "a quiet spell, but the table has no inactivity rule")
        _list(spell, "spell", 1 + shape.inactivity)
        _require(_is_time(spell[0]) and all(due is None or _is_int(due) for due in spell[1:]),
                 "spell is not [start, next due time or null per inactivity rule]")
        for due, (after, every, count) in zip(spell[1:], shape.spells):
            # a due time is `start + after + n * every` with n < count
            steps = None if due is None else due - spell[0] - after
            _require(steps is None or (steps >= 0 and (
                steps == 0 if every is None else
                steps % every == 0 and (count is None or steps // every < count))),
                "a due time of the spell is not one of its rule's")
    stage = entry["stage"]
    _require(_is_int(stage) and -1 <= stage < shape.stages, f"stage {stage!r} is not a stage")
    for name in ("fired", "was_true"):
        bits = entry[name]
        _require(_is_int(bits) and 0 <= bits <= shape.triggers and bits & shape.triggers == bits,
                 f"{name} is not a set of triggers")
    for action in _list(entry["actions"], "actions"):
        _require(type(action) is dict and set(action) == {"at", "action", "arg"}
                 and _is_text(action["at"]) and _is_text(action["action"])
                 and _is_text(action["arg"], none=True), "an action is not {at, action, arg}")
    for item in _list(entry["recent"], "recent"):
        _require(type(item) is list and len(item) == 2 and _is_text(item[0])
                 and _is_text(item[1], none=True), "recent is not [event, target] pairs")
    seen = entry["seen"]
    if seen is not None:
        _list(seen, "seen")
        _require(all(type(item) is list and len(item) == 2 and _is_text(item[0])
                     and _is_time(item[1]) for item in seen), "seen is not [id, time] pairs")
        _require(all(seen[k - 1][1] <= seen[k][1] for k in range(1, len(seen))),
                 "seen ids are not in time order")
        _require(len({item[0] for item in seen}) == len(seen), "a seen id is listed twice")
    order = entry["order"]
    _require(_is_int(order) and order >= 0, "order is not a count")
    _require(type(entry["dirty"]) is bool, "dirty is not true or false")


def _check_caps(caps: list, shape: _Shape) -> None:
    indices = []
    for item in caps:
        _require(type(item) is list and len(item) == 2, "caps are not [rule, count] pairs")
        index, value = item
        _require(_is_int(index) and index in shape.caps, f"rule {index!r} has no limit")
        if shape.caps[index] is None:
            _require(_is_int(value) and value >= 0, f"the count of rule {index} is not a count")
        else:
            _require(type(value) is list and len(value) == 2 and all(map(_is_int, value))
                     and value[1] >= 0, f"the count of rule {index} is not [period, count]")
        indices.append(index)
    _require(len(set(indices)) == len(indices), "a rule's count is listed twice")


def _check_pending(pending: list, shape: _Shape) -> None:
    for item in pending:
        _require(type(item) is list and len(item) == 5 and all(map(_is_int, item[:4]))
                 and _is_time(item[1]) and _is_text(item[4], none=True)
                 and item[3] in shape.absences
                 and item[0] == item[1] + shape.absences[item[3]],
                 "pending is not [due, time, order, absence rule, target] entries")
    # (due, time, order, rule) tells two pending absences apart: A's order is unique
    _require(all(pending[k - 1][:4] < pending[k][:4] for k in range(1, len(pending))),
             "pending absences are not in order")


def _copy(value):
    """A deep copy of JSON-shaped data (snapshot and engine must not share lists)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(item) for item in value]
    return value
