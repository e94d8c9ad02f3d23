"""Observers: what the engine reports while it evaluates one contact.

`Engine.run(..., observer=OBS)` and `Engine.explain` call an observer at every step of every
contact's evaluation; `runtime.explain.Tracer` (explanations) and the rule coverage of
`score test --coverage` / `score run --coverage` are observers. With an observer the engine
evaluates every point (none of the shortcuts that skip a point whose outcome cannot change),
so every stage move and firing is reported. An observer must not change what it is given.

The arguments are the engine's own objects; what an observer may read of them:
- `state` (start, point): `key` (the contact id), `scored`, `profile`;
- `rule` (award, absence, inactivity): `index`, `id`, `at` (`file:line`), `score` (index),
  `group`, `cap` and `per` (its limit, `cap` None without one);
- `item` (absence): `(due, a_at, a_order, rule index, target)`;
- `live` (stage, fire): scores, groups, grades by name, and the stage under `" stage"`.
"""
from __future__ import annotations


class Observer:
    """Every hook, doing nothing: subclasses override what they need."""

    def start(self, state, engine) -> None:
        """A contact's evaluation begins (its profile and `require` are applied)."""

    def point(self, state, kind: str, at: int, event) -> None:
        """An evaluation point: `kind` is event, absence, inactivity or as-of; `event` the
        event of an event point, else None."""

    def award(self, rule, at: int, capped: bool, points: int) -> None:
        """An event rule matched: it awarded `points`, or nothing when `capped` (its limit
        was reached)."""

    def absence(self, rule, item: tuple, capped: bool) -> None:
        """An absence rule's award fell due (awarded, or withheld by its limit)."""

    def inactivity(self, rule, due: int, start: int) -> None:
        """An inactivity rule awarded at `due`, in the quiet spell since `start`."""

    def reset(self, score: int, at: int) -> None:
        """Score number `score` was reset."""

    def stage(self, old: int, new: int, at: int, live: dict) -> None:
        """The stage moved from index `old` (-1: none) to `new`."""

    def fire(self, index: int, at: int, live: dict) -> None:
        """Trigger number `index` fired."""

    def finish(self, groups: list[tuple]) -> None:
        """`Engine.explain` only: each group's value as of the last point."""

    def result(self, contact_id: str, result: dict) -> None:
        """`Engine.run` only: the contact's result (docs/language.md 7), once it is final."""
