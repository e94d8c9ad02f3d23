"""What the profile alone can make a lifecycle condition do, known from the rule table.

A contact's first evaluation point matters to the sparse flow (compiler/sql/lifecycle.py)
only where no award is made there: its state is then the profile points alone. Those lie in
a range known from the table (each profile rule adds its points or nothing), so a stage or
trigger condition that cannot hold for any value in that range cannot move a stage or fire a
trigger there, and the query need not find the first point at all. The analysis is
conservative: whatever it does not follow (grades, properties, the stage) may hold."""
from __future__ import annotations

from .conditions import ORDERING

Range = tuple[int, int]


def _clamped(r: Range, low: int | None, high: int | None) -> Range:
    lo, hi = r
    if low is not None:
        lo, hi = max(lo, low), max(hi, low)
    if high is not None:
        lo, hi = min(lo, high), min(hi, high)
    return lo, hi


def profile_ranges(builder) -> dict[tuple[str, str], Range]:
    """(kind, name) -> the range of that score's or group's value from profile points only."""
    slot_range = {}
    for slot in builder.slots:
        points = [p["points"] for p in builder.t["profile"] if builder.slot_of(p) == slot.index]
        slot_range[slot.index] = (sum(p for p in points if p < 0), sum(p for p in points if p > 0))
    out: dict[tuple[str, str], Range] = {}
    for slot in builder.slots[len(builder.scores):]:
        out[("group", slot.group)] = _clamped(slot_range[slot.index], slot.low, slot.high)
    for i, name in enumerate(builder.scores):
        lo, hi = slot_range[i]
        for k in builder.slots_of_score(i)[1:]:
            g = out[("group", builder.slots[k].group)]
            lo, hi = lo + g[0], hi + g[1]
        info = builder.score_info[name]
        out[("score", name)] = _clamped((lo, hi), info.get("low"), info.get("high"))
    return out


BOTH = frozenset({True, False})


def outcomes(cond, ranges: dict[tuple[str, str], Range]) -> frozenset:
    """The values `cond` may take when every score and group lies in its range."""
    if cond is True or cond is False:
        return frozenset({cond})
    if not isinstance(cond, list) or not cond:
        return BOTH
    head = cond[0]
    if head in ("and", "or"):
        parts = [outcomes(c, ranges) for c in cond[1:]]
        if head == "and":
            may_true = all(True in p for p in parts)
            may_false = any(False in p for p in parts)
        else:
            may_true = any(True in p for p in parts)
            may_false = all(False in p for p in parts)
        return frozenset(v for v, ok in ((True, may_true), (False, may_false)) if ok)
    if head == "not":
        return frozenset(not v for v in outcomes(cond[1], ranges))
    ref = cond[1]
    if not isinstance(ref, (list, tuple)) or len(ref) != 2 or tuple(ref) not in ranges:
        return BOTH
    lo, hi = ranges[tuple(ref)]
    if head not in (*ORDERING, "=", "in"):
        return frozenset({False})  # a glob on a number never holds
    values = list(cond[2]) if head == "in" else [cond[2]]
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    # (a number never equals, nor is ordered against, a value of another type)
    if head in ("=", "in"):
        may_true = any(lo <= v <= hi for v in numbers)
        may_false = not any(lo == hi == v for v in numbers)
    elif not numbers:
        may_true, may_false = False, True
    else:
        v = numbers[0]
        may_true, may_false = {"<": (lo < v, hi >= v), "<=": (lo <= v, hi > v),
                               ">": (hi > v, lo <= v), ">=": (hi >= v, lo < v)}[head]
    return frozenset(x for x, ok in ((True, may_true), (False, may_false)) if ok)


def may_act_initially(builder) -> bool:
    """Whether a stage or trigger condition may hold on the profile points alone."""
    ranges = profile_ranges(builder)
    try:
        return any(True in outcomes(item["condition"], ranges)
                   for item in [*builder.t["stages"], *builder.t["triggers"]])
    except RecursionError:  # a condition nested too deep to follow: it may hold
        return True
