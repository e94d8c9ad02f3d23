"""The action log: every action fired, with what caused it and the values it was fired on.

`Engine.iter_run(..., actions=ActionLog(engine))` (and `run_with_accounts`, `process`,
`advance`) hands the log each action as it fires. The log is a sink of the compiled
evaluator, not an observer: a run with it takes the same (compiled) path as a plain run and
pays only for the actions themselves. One record per action, JSON-safe:

    {"contact": "c-17", "at": 1772496000000000, "action": "notify", "arg": "sales",
     "point": "event", "event_id": "e-991", "event_line": 42,
     "scores": {"engagement": 85, "fit": 35}, "grades": {"tier": "A"}, "stage": "SQL"}

- `at` is the time of the evaluation point, in microseconds (the writers print it in UTC);
- `point` is the kind of that point: `event`, `due` (an absence or inactivity award fell due)
  or `as-of` (the as-of time T, or `advance(now)`);
- `event_id` and `event_line` are the causing event's `id` and input line (None when it has
  none, and both None at a `due` or `as-of` point: no event caused the action);
- `scores`, `grades`, `stage` are the contact's values at the point as the trigger saw them:
  after the point's awards, grades and stage move, before its resets (a `reset` fired at a
  point shows the score it discards; the reset shows in later records and in the result).

`records()` gives them sorted by contact, each contact's in evaluation order (the order of
the result's `actions`). `since` (microseconds) keeps only actions fired after that time.
"""
from __future__ import annotations

from .conditions import STAGE

POINT_EVENT, POINT_DUE, POINT_AS_OF = "event", "due", "as-of"
_DUE = frozenset(("absence", "inactivity"))


class ActionLog:
    """A sink for the engine's actions (see the module docstring)."""

    def __init__(self, engine, since: int | None = None):
        if since is not None and type(since) is not int:
            raise TypeError(f"ActionLog(since=): microseconds since the epoch (an int), not "
                            f"{type(since).__name__} {since!r}")
        self.engine = engine
        self.since = since
        self._records: list[dict] = []
        self._point = None  # (state, at, cause) of the values in `_values`
        self._values: tuple = ()

    def fired(self, state, at: int, action: dict, cause) -> None:
        """One action fired at the point of time `at` of `state`; `cause` is the event, or
        "absence", "inactivity", "as-of"."""
        if self.since is not None and at <= self.since:
            return
        point = self._point
        if point is None or point[0] is not state or point[1] != at or point[2] is not cause:
            self._point = (state, at, cause)
            self._values = self._values_of(state, at)
        scores, grades, stage = self._values
        if isinstance(cause, str):
            kind = POINT_DUE if cause in _DUE else POINT_AS_OF
            ident = line = None
        else:
            kind, ident, line = POINT_EVENT, cause.id, cause.line or None
        self._records.append({
            "contact": state.key, "at": at, "action": action["action"], "arg": action["arg"],
            "point": kind, "event_id": ident, "event_line": line,
            "scores": dict(scores), "grades": dict(grades), "stage": stage})

    def restart(self) -> None:
        """The engine starts the run again (it had to sort its input): forget what came."""
        self._records.clear()
        self._point = None

    def begin(self) -> None:
        """A new `process` / `advance` call: its points are new even at the same time and of
        the same kind as the last one (the values of a point are read once, at its first
        action; within one call a point is the only one of its contact, time and cause)."""
        self._point = None

    def records(self) -> list[dict]:
        """Every record, sorted by contact; a contact's in evaluation order."""
        return sorted(self._records, key=_contact)

    def __len__(self) -> int:
        return len(self._records)

    def _values_of(self, state, at: int) -> tuple:
        engine = self.engine
        table = engine.table
        live = engine.live(state, at)
        scores = {name: live[name] for name in table.score_names}
        grades = {name: live[name] for name, *_ in table.grades if name in live}
        return scores, grades, live[STAGE]


def _contact(record: dict) -> str:
    return record["contact"]
