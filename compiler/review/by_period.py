"""`score diff --events E --by week|month`: per period, stage entries and actions, old and new.

Both models score the same history once each, with an observer of the runtime
(`runtime.observe`) that notes every stage move and every trigger firing with its time. A
period is a week (starting Monday) or a calendar month in the *new* model's time zone, so
both columns of a row count the same instants. Per period:

- `reach STAGE`: the contacts whose stage moved to STAGE during the period (a contact that
  goes from no stage straight to SQL reaches SQL, not MQL; a contact counts once per stage
  and period even if a reset lets it reach the stage again);
- `notify X`, `tag X`, `reset S`: how many times the action fired (a trigger `each time`
  counts every firing).

Periods run from the one of the earliest event to the one of the as-of time (default: the
latest event), with every period in between, empty ones included, so a chart has no gaps.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from runtime.observe import Observer
from runtime.periods import Calendar

BY = ("week", "month")


@dataclass(frozen=True, slots=True)
class Series:
    kind: str  # "stage" | "action"
    name: str  # "reach SQL", "notify sales"
    old: tuple[int, ...]  # one count per period
    new: tuple[int, ...]

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True, slots=True)
class ByPeriod:
    by: str  # week | month
    timezone: str
    periods: tuple[str, ...]  # the local date each period starts on, ISO
    series: tuple[Series, ...]

    def to_json(self) -> dict:
        return {"by": self.by, "timezone": self.timezone, "periods": list(self.periods),
                "series": [{"kind": s.kind, "name": s.name, "old": list(s.old),
                            "new": list(s.new)} for s in self.series]}


class Entries(Observer):
    """Every stage entry `(contact, stage name, at)` and action `((action, arg), at)`."""

    def __init__(self, table: dict):
        self.stages = [s["name"] for s in table["stages"]]
        self.actions = [[(a["action"], a["arg"]) for a in t["actions"]]
                        for t in table["triggers"]]
        self.entered: list[tuple[str, str, int]] = []
        self.fired: list[tuple[tuple[str, str], int]] = []
        self._contact = ""

    def start(self, state, engine) -> None:
        self._contact = state.key

    def stage(self, old: int, new: int, at: int, live: dict) -> None:
        if new >= 0:
            self.entered.append((self._contact, self.stages[new], at))

    def fire(self, index: int, at: int, live: dict) -> None:
        for action in self.actions[index]:
            self.fired.append((action, at))


def run_observed(table: dict, events: list, contacts: dict, as_of: int | None):
    """The engine's results and what `Entries` saw, from one run."""
    from runtime import Engine

    entries = Entries(table)
    results = Engine(table).run(list(events), contacts, as_of=as_of, observer=entries)
    return results, entries


def by_period(by: str, old_table: dict, new_table: dict, old: Entries, new: Entries,
              first: int | None, until: int | None,
              stage_order: tuple[str, ...] = ()) -> ByPeriod:
    """Counts per period of `by`, from the earliest event `first` to `until`."""
    if by not in BY:
        raise ValueError(f"--by must be one of {', '.join(BY)}, not {by!r}")
    zone = new_table.get("timezone") or old_table.get("timezone") or "UTC"
    calendar = Calendar(zone)
    # a contact with a profile and no events is evaluated at the as-of time alone
    seen = [at for entries in (old, new) for _, _, at in entries.entered] + \
        [at for entries in (old, new) for _, at in entries.fired]
    if seen:
        first = min([first, *seen]) if first is not None else min(seen)
        until = max([until, *seen]) if until is not None else max(seen)
    periods: list[str] = []
    if first is not None and until is not None:
        at = first
        while at <= until:
            periods.append(_label(calendar, by, at))
            at = calendar.next_start(by, at)
    index = {period: i for i, period in enumerate(periods)}

    def period_of(at: int) -> int | None:
        return index.get(_label(calendar, by, at))

    def stage_counts(entries: Entries) -> Counter:
        seen = {(contact, stage, period_of(at)) for contact, stage, at in entries.entered}
        return Counter((stage, p) for _, stage, p in seen if p is not None)

    def action_counts(entries: Entries) -> Counter:
        return Counter((action, p) for action, at in entries.fired
                       if (p := period_of(at)) is not None)

    series: list[Series] = []
    old_stages, new_stages = stage_counts(old), stage_counts(new)
    names = list(dict.fromkeys([*stage_order, *new.stages, *old.stages]))
    for stage in names:
        olds = tuple(old_stages[(stage, i)] for i in range(len(periods)))
        news = tuple(new_stages[(stage, i)] for i in range(len(periods)))
        if any(olds) or any(news):
            series.append(Series("stage", f"reach {stage}", olds, news))
    old_actions, new_actions = action_counts(old), action_counts(new)
    kinds = sorted({a for a, _ in old_actions} | {a for a, _ in new_actions})
    for action in kinds:
        olds = tuple(old_actions[(action, i)] for i in range(len(periods)))
        news = tuple(new_actions[(action, i)] for i in range(len(periods)))
        series.append(Series("action", f"{action[0]} {action[1]}", olds, news))
    return ByPeriod(by, zone, tuple(periods), tuple(series))


def _label(calendar: Calendar, by: str, at: int) -> str:
    return calendar.start_of(by, at).isoformat()  # as `score run --timeline` names periods


def first_event(events) -> int | None:
    return min((e.at for e in events), default=None)
