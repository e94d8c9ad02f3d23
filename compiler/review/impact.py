"""Impact of a rule change on real data: run the old and the new model over the same events.

A contact *changes* when its stage, a grade, its actions or the band of a score (the
histogram bin it falls in) differ between the two runs. Actions are compared as the multiset
of `(action, arg)`: firing the same notification at another time is not a change.

Movements read like the agreement: `+312 reach SQL` (contacts in SQL with the new model that
were not with the old), `-40 leave MQL` (in MQL before, not any more), `+12 enter tier A`,
`+5 get notify sales`, `-5 no longer get notify sales`, `+3 become unscored`.

Accounts (docs/language.md 10.6), when either model has `account by`, are compared the same
way, next to the contacts: an account *changes* when an account grade's label or an account
score's value differs; `+3 accounts reach abm Hot`, `-1 account leaves abm Warm`.

Histograms of each score share their bins between before and after: bounds of the declared
range when it has both, else of the values seen; about ten bins of a "nice" width (1, 2, 5
times a power of ten); the last bin includes its upper edge.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from runtime.events import Event

if TYPE_CHECKING:
    from .by_period import ByPeriod

TOP_MOVERS = 10
BINS = 10


@dataclass(frozen=True, slots=True)
class Movement:
    count: int  # signed: + enters, - leaves
    text: str  # "reach SQL"

    def __str__(self) -> str:
        return f"{self.count:+d} {self.text}"


@dataclass(frozen=True, slots=True)
class Mover:
    contact: str
    score: str
    before: int | None
    after: int | None
    stage_before: str | None
    stage_after: str | None
    handover: bool = False  # one model reset the score (a trigger's `reset`) and not the other

    @property
    def delta(self) -> int:
        return (self.after or 0) - (self.before or 0)


@dataclass(frozen=True, slots=True)
class Bin:
    low: int
    high: int  # exclusive, except for the last bin
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class Histogram:
    score: str
    bins: tuple[Bin, ...]
    unscored_before: int
    unscored_after: int
    mean_before: float | None
    mean_after: float | None


@dataclass(frozen=True, slots=True)
class ContactChange:
    contact: str
    what: tuple[str, ...]  # "stage MQL -> SQL", "tier B -> A", "+notify sales", "engagement 40-50 -> 80-90"
    stage_before: str | None = None
    stage_after: str | None = None
    scores_before: dict = field(default_factory=dict)
    scores_after: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccountChange:
    account: str
    what: tuple[str, ...]  # "abm Warm -> Hot", "heat 40 -> 80"
    scores_before: dict = field(default_factory=dict)
    scores_after: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccountImpact:
    accounts: int  # accounts under either model
    changed: tuple[AccountChange, ...]
    movements: tuple[Movement, ...]

    def to_json(self) -> dict:
        return {"accounts": self.accounts, "changed": len(self.changed),
                "movements": [{"count": m.count, "text": m.text} for m in self.movements],
                "changed_accounts": [{"account": c.account, "what": list(c.what),
                                      "scores_before": c.scores_before,
                                      "scores_after": c.scores_after} for c in self.changed]}


@dataclass(frozen=True, slots=True)
class Transition:
    before: str | None  # the stage under the old model (None: no stage)
    after: str | None
    count: int


@dataclass(frozen=True, slots=True)
class Impact:
    contacts: int
    as_of: int | None
    changed: tuple[ContactChange, ...]
    movements: tuple[Movement, ...]
    movers: tuple[Mover, ...]
    histograms: tuple[Histogram, ...]
    rejects: int = 0
    extra: dict = field(default_factory=dict)
    periods: "ByPeriod | None" = None  # with `--by week|month`
    stages: tuple[str, ...] = ()  # lifecycle order
    transitions: tuple[Transition, ...] = ()  # every (old stage, new stage) pair seen
    accounts: AccountImpact | None = None  # when either model has `account by`

    def funnel(self) -> list[tuple[str, int, int]]:
        """(stage, contacts at or past it before, after), in lifecycle order: stages only
        move forward, so a contact at SQL has passed MQL."""
        order = list(self.stages) + sorted({s for t in self.transitions
                                            for s in (t.before, t.after)
                                            if s is not None and s not in self.stages})
        rank = {stage: i for i, stage in enumerate(order)}
        rows = []
        for i, stage in enumerate(order):
            rows.append((stage,
                         sum(t.count for t in self.transitions
                             if t.before is not None and rank[t.before] >= i),
                         sum(t.count for t in self.transitions
                             if t.after is not None and rank[t.after] >= i)))
        return rows

    def to_json(self) -> dict:
        found = {
            "contacts": self.contacts,
            "changed": len(self.changed),
            "rejects": self.rejects,
            "movements": [{"count": m.count, "text": m.text} for m in self.movements],
            "top_movers": [{"contact": m.contact, "score": m.score, "before": m.before,
                            "after": m.after, "delta": m.delta, "stage_before": m.stage_before,
                            "stage_after": m.stage_after} for m in self.movers],
            "histograms": [{"score": h.score, "unscored_before": h.unscored_before,
                            "unscored_after": h.unscored_after, "mean_before": h.mean_before,
                            "mean_after": h.mean_after,
                            "bins": [{"low": b.low, "high": b.high, "before": b.before,
                                      "after": b.after} for b in h.bins]}
                           for h in self.histograms],
            "changed_contacts": [{"contact": c.contact, "what": list(c.what),
                                  "stage_before": c.stage_before, "stage_after": c.stage_after,
                                  "scores_before": c.scores_before,
                                  "scores_after": c.scores_after}
                                 for c in self.changed],
            "funnel": [{"stage": stage, "before": b, "after": a}
                       for stage, b, a in self.funnel()],
            "transitions": [{"before": t.before, "after": t.after, "count": t.count}
                            for t in self.transitions],
        }
        if self.periods is not None:
            found["by_period"] = self.periods.to_json()
        if self.accounts is not None:
            found["accounts"] = self.accounts.to_json()
        return found


# --------------------------------------------------------------------------- computing


def impact(old_table: dict, new_table: dict, events: list[Event], contacts: dict[str, dict],
           as_of: int | None = None, bounds: dict | None = None,
           stages: tuple[str, ...] = (), by: str | None = None) -> Impact:
    """Run both tables with the Python engine and compare the results contact by contact
    (and account by account, when either table has accounts).

    `bounds` maps a score to its declared (low, high) range, used for the histogram bins;
    `stages` lists stage names in lifecycle order (movements follow it); `by` (week or
    month) adds the stage entries and actions per period (`by_period`)."""
    from runtime import Engine

    with_accounts = bool(old_table.get("accounts") or new_table.get("accounts"))
    if by is None:
        before, old_accounts = Engine(old_table).run_with_accounts(list(events), contacts, as_of)
        after, new_accounts = Engine(new_table).run_with_accounts(list(events), contacts, as_of)
        result = compare_results(_by_contact(before), _by_contact(after), as_of, bounds or {},
                                 stages)
        if with_accounts:
            result = replace(result, accounts=compare_accounts(old_accounts, new_accounts))
        return result
    from .by_period import by_period, first_event, run_observed

    before, old_entries = run_observed(old_table, events, contacts, as_of)
    after, new_entries = run_observed(new_table, events, contacts, as_of)
    result = compare_results(_by_contact(before), _by_contact(after), as_of, bounds or {},
                             stages)
    until = as_of if as_of is not None else max((e.at for e in events), default=None)
    periods = by_period(by, old_table, new_table, old_entries, new_entries,
                        first_event(events), until, stages)
    result = replace(result, periods=periods)
    if with_accounts:  # the observed runs keep no accounts: a plain run of each gives them
        accounts = [Engine(table).run_with_accounts(list(events), contacts, as_of)[1]
                    for table in (old_table, new_table)]
        result = replace(result, accounts=compare_accounts(*accounts))
    return result


def compare_accounts(before: list[dict], after: list[dict]) -> AccountImpact:
    """Accounts lines (`score run --accounts`) of the old and the new model, compared: an
    account missing on one side (that model has no `account by`) has no scores or grades."""
    old, new = ({line["account"]: line for line in lines} for lines in (before, after))
    empty = {"scores": {}, "grades": {}}
    pairs = [(a, old.get(a, empty), new.get(a, empty)) for a in sorted(set(old) | set(new))]
    found: list[Movement] = []
    for grade, label in _labels(pairs, lambda r: sorted(r.get("grades", {}).items())):
        found += [Movement(m.count, m.text if abs(m.count) != 1 else m.text.replace(
            "accounts reach", "account reaches").replace("accounts leave", "account leaves"))
            for m in _movement(pairs, lambda r, g=grade, l=label: r.get("grades", {}).get(g) == l,
                               f"accounts reach {grade} {label}",
                               f"accounts leave {grade} {label}")]
    changed = tuple(change for change in (_account_change(a, b, n) for a, b, n in pairs)
                    if change.what)
    return AccountImpact(len(pairs), changed, tuple(found))


def _account_change(account: str, before: dict, after: dict) -> AccountChange:
    what = []
    for kind in ("grades", "scores"):
        old, new = before.get(kind, {}), after.get(kind, {})
        for name in dict.fromkeys([*old, *new]):
            if old.get(name) != new.get(name):
                what.append(f"{name} {_shown(old, name)} -> {_shown(new, name)}")
    return AccountChange(account, tuple(what), dict(before.get("scores", {})),
                         dict(after.get("scores", {})))


def _shown(values: dict, name: str) -> str:
    """A grade's label or a score's value; `(none)` where that model has no such name or
    the value is null (a grade without a label, a max over no member)."""
    value = values.get(name)
    return "(none)" if value is None else str(value)


def _by_contact(results: list[dict]) -> dict[str, dict]:
    return {r["contact"]: r for r in results}


def compare_results(before: dict[str, dict], after: dict[str, dict], as_of: int | None = None,
                    bounds: dict | None = None, stages: tuple[str, ...] = ()) -> Impact:
    ids = sorted(set(before) | set(after))
    empty = {"scores": {}, "grades": {}, "stage": None, "actions": []}
    pairs = [(c, before.get(c, empty), after.get(c, empty)) for c in ids]
    histograms = tuple(histogram(name, pairs, (bounds or {}).get(name))
                       for name in score_names(before, after))
    edges = {h.score: h for h in histograms}
    changed = tuple(change for change in (_contact_change(c, b, a, edges) for c, b, a in pairs)
                    if change.what)
    moves = Counter((b.get("stage"), a.get("stage")) for _, b, a in pairs)
    order = {stage: i for i, stage in enumerate((None, *stages))}

    def rank(stage):
        return (order.get(stage, len(order)), stage or "")

    transitions = tuple(Transition(b, a, n) for (b, a), n in
                        sorted(moves.items(), key=lambda item: (rank(item[0][0]),
                                                                rank(item[0][1]))))
    return Impact(len(ids), as_of, changed, movements(pairs, stages), top_movers(pairs),
                  histograms, stages=tuple(stages), transitions=transitions)


def score_names(before: dict, after: dict) -> list[str]:
    names: dict[str, None] = {}
    for results in (before, after):
        for result in results.values():
            names.update(dict.fromkeys(result.get("scores", {})))
    return list(names)


def _resets(result: dict) -> Counter:
    return Counter(a.get("arg") for a in result.get("actions", ()) if a.get("action") == "reset")


def _actions(result: dict) -> Counter:
    return Counter((a.get("action"), a.get("arg")) for a in result.get("actions", ()))


def movements(pairs, order: tuple[str, ...] = ()) -> tuple[Movement, ...]:
    """Stages in lifecycle `order` (others after, by name), then grades, actions, unscored."""
    found: list[Movement] = []
    stages = _labels(pairs, lambda r: [r.get("stage")] if r.get("stage") else [])
    stages.sort(key=lambda s: (order.index(s) if s in order else len(order), s))
    for stage in stages:
        found += _movement(pairs, lambda r, s=stage: r.get("stage") == s,
                           f"reach {stage}", f"leave {stage}")
    grades = _labels(pairs, lambda r: sorted(r.get("grades", {}).items()))
    for grade, label in grades:
        found += _movement(pairs, lambda r, g=grade, l=label: r.get("grades", {}).get(g) == l,
                           f"enter {grade} {label}", f"leave {grade} {label}")
    for kind, arg in _labels(pairs, lambda r: sorted(_actions(r))):
        found += _movement(pairs, lambda r, k=(kind, arg): _actions(r)[k] > 0,
                           f"get {kind} {arg}", f"no longer get {kind} {arg}")
    found += _movement(pairs, _unscored, "become unscored", "become scored")
    return tuple(found)


def _unscored(result: dict) -> bool:
    scores = result.get("scores", {})
    return bool(scores) and all(v is None for v in scores.values())


def _labels(pairs, labels_of) -> list:
    seen: dict = {}
    for _, before, after in pairs:
        for result in (before, after):
            seen.update(dict.fromkeys(labels_of(result)))
    return sorted(seen, key=repr)


def _movement(pairs, holds, enter: str, leave: str) -> list[Movement]:
    entering = sum(1 for _, b, a in pairs if holds(a) and not holds(b))
    leaving = sum(1 for _, b, a in pairs if holds(b) and not holds(a))
    result = []
    if entering:
        result.append(Movement(entering, enter))
    if leaving:
        result.append(Movement(-leaving, leave))
    return result


def top_movers(pairs, limit: int = TOP_MOVERS) -> tuple[Mover, ...]:
    movers = []
    for contact, before, after in pairs:
        names = list(dict.fromkeys([*before.get("scores", {}), *after.get("scores", {})]))
        resets = _resets(before), _resets(after)
        candidates = [Mover(contact, name, before.get("scores", {}).get(name),
                            after.get("scores", {}).get(name), before.get("stage"),
                            after.get("stage"), resets[0][name] != resets[1][name])
                      for name in names]
        candidates = [m for m in candidates if m.before != m.after]
        if candidates:
            movers.append(max(candidates, key=lambda m: (not m.handover, abs(m.delta))))
    # a score reset at a hand-over is a contact handed to sales, not a loss: such movers
    # come after the contacts whose scores really moved
    movers.sort(key=lambda m: (m.handover, -abs(m.delta), m.contact))
    return tuple(movers[:limit])


# --------------------------------------------------------------------------- histograms


def nice_width(span: int, bins: int = BINS) -> int:
    """The smallest of 1, 2, 5, 10, 20, 25, 50, 100, ... with `bins` bins covering `span`."""
    raw = max(1, -(-span // bins))
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= raw:
                return step * scale
        scale *= 10


def bin_edges(values: list[int], bounds: tuple | None = None) -> tuple[int, int, int]:
    """(low, width, count) of the bins for these values."""
    low_bound, high_bound = bounds if bounds else (None, None)
    if low_bound is not None and high_bound is not None:
        low, high = int(low_bound), int(high_bound)
    elif values:
        low, high = min(values), max(values)
    else:
        low, high = 0, 0
    width = nice_width(high - low)
    low = (low // width) * width
    count = max(1, -(-(high - low) // width))  # the last bin is closed: `high` falls in it
    return low, width, count


def bin_index(value: int, low: int, width: int, count: int) -> int:
    return min(max((value - low) // width, 0), count - 1)


def histogram(name: str, pairs, bounds: tuple | None = None) -> Histogram:
    befores = [b.get("scores", {}).get(name) for _, b, _ in pairs]
    afters = [a.get("scores", {}).get(name) for _, _, a in pairs]
    values = [v for v in befores + afters if v is not None]
    low, width, count = bin_edges(values, bounds)
    counts = [[0, 0] for _ in range(count)]
    for side, series in enumerate((befores, afters)):
        for value in series:
            if value is not None:
                counts[bin_index(value, low, width, count)][side] += 1
    bins = tuple(Bin(low + i * width, low + (i + 1) * width, b, a)
                 for i, (b, a) in enumerate(counts))
    return Histogram(name, bins, sum(1 for v in befores if v is None),
                     sum(1 for v in afters if v is None), _mean(befores), _mean(afters))


def _mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def band_text(histogram_: Histogram, value) -> str:
    if value is None:
        return "unscored"
    first = histogram_.bins[0]
    width = first.high - first.low
    index = bin_index(value, first.low, width, len(histogram_.bins))
    band = histogram_.bins[index]
    closing = "]" if index == len(histogram_.bins) - 1 else ")"
    return f"[{band.low}, {band.high}{closing}"


def _contact_change(contact: str, before: dict, after: dict, histograms: dict) -> ContactChange:
    what = []
    if before.get("stage") != after.get("stage"):
        what.append(f"stage {before.get('stage') or '(none)'} -> {after.get('stage') or '(none)'}")
    grades = list(dict.fromkeys([*before.get("grades", {}), *after.get("grades", {})]))
    for grade in grades:
        old, new = before.get("grades", {}).get(grade), after.get("grades", {}).get(grade)
        if old != new:
            what.append(f"{grade} {old or '(none)'} -> {new or '(none)'}")
    old_actions, new_actions = _actions(before), _actions(after)
    for (kind, arg) in sorted((new_actions - old_actions).elements()):
        what.append(f"+{kind} {arg}")
    for (kind, arg) in sorted((old_actions - new_actions).elements()):
        what.append(f"-{kind} {arg}")
    resets = _resets(before), _resets(after)
    for name, hist in histograms.items():
        old_band = band_text(hist, before.get("scores", {}).get(name))
        new_band = band_text(hist, after.get("scores", {}).get(name))
        if old_band == new_band:
            continue
        if resets[0][name] != resets[1][name]:
            side = "new" if resets[1][name] > resets[0][name] else "old"
            what.append(f"{name} {old_band} -> {new_band} (reset at hand-over by the {side} "
                        "model)")
        else:
            what.append(f"{name} {old_band} -> {new_band}")
    return ContactChange(contact, tuple(what), before.get("stage"), after.get("stage"),
                         dict(before.get("scores", {})), dict(after.get("scores", {})))
