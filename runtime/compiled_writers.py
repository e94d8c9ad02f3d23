"""The code writers both generated loops share: `Program` (runtime/compiled.py) and the
time-order loop on flat lists (runtime/compiled_timeorder.py).

`_Writer` collects indented lines of Python source; the functions here write the pieces whose
meaning does not depend on where a loop keeps the contact's state (a stage and trigger step
takes the field's place as an argument): the stages and triggers of a point, the dispatch
tree on a code, the clamps and grades of a result, the period of an instant (and the small
pieces `Program`'s mixins share: a clamp's expression, the refs of a profile or `where`
condition). They are apart from `Program` so that the time-order loop can use them without
the rest of its writers.
"""
from __future__ import annotations

from .codegen import condition, literal
from .periods import EPOCH_ORDINAL, MICROS_PER_DAY, QUARTER

_PERIODS = {"day": "day", "week": "week", "month": "month"}  # the calendar's functions


class _Writer:
    def __init__(self):
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def block(self, lines: list[str]) -> None:
        for line in lines:
            self(line)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def write_stages_and_triggers(w: _Writer, table, refs, field, fire) -> tuple[str, list]:
    """A point's stage steps (forward only, the highest stage whose condition holds) and its
    triggers in file order, as both generated loops write them. `field(name)` is where the
    contact's `stage`, `fired` or `was_true` is read and written; `fire(w, j, actions,
    resets)` writes what trigger `j` does. Returns the test that a stage moved ("False"
    without stages) and the (flag, slots) resets for the caller to write."""
    moved = "False"
    if table.stages:  # a condition can read `stage` only where the model has stages
        stage_field = field("stage")
        w(f"stage = {stage_field}")
        w("moved = False")
        moved = "moved"
        last = len(table.stages) - 1
        for j in range(last, -1, -1):
            form = table.raw["stages"][j]["condition"]
            w(f"{'if' if j == last else 'elif'} stage < {j} and {condition(form, refs)}:")
            w(f"    {stage_field} = stage = {j}")
            w("    moved = True")
    resets: list[tuple] = []
    for j, (_, actions, _, _) in enumerate(table.triggers):
        if any(score is not None for _, _, score in actions):
            w(f"reset{j} = False")
    for j, (_, actions, each_time, raw) in enumerate(table.triggers):
        bit = 1 << j
        test = condition(raw["condition"], refs)
        if each_time:
            was_true = field("was_true")
            w(f"if {test}:")
            w(f"    if not {was_true} & {bit}:")
            w(f"        {was_true} |= {bit}")
            w.depth += 2
            fire(w, j, actions, resets)
            w.depth -= 2
            w(f"elif {was_true} & {bit}:")
            w(f"    {was_true} &= {~bit}")
        else:
            fired = field("fired")
            w(f"if not {fired} & {bit} and {test}:")
            w(f"    {fired} |= {bit}")
            w.depth += 1
            fire(w, j, actions, resets)
            w.depth -= 1
    return moved, resets


def write_tree(w: _Writer, low: int, high: int, leaf) -> None:
    """The dispatch on `code` from `low` to `high` (exclusive) as a tree of compares, so an
    event meets about log2(codes) of them: `leaf(w, code)` writes what one code does."""
    if high - low == 1:
        leaf(w, low)
        return
    middle = (low + high) // 2
    w(f"if code < {middle}:")
    w.depth += 1
    write_tree(w, low, middle, leaf)
    w.depth -= 1
    w("else:")
    w.depth += 1
    write_tree(w, middle, high, leaf)
    w.depth -= 1


def write_clamps_and_grades(w: _Writer, table) -> list[str]:
    """With each score's total in `v0`, `v1`, ...: each clamped into its bounds, then
    `grades` read from the clamped values. Returns the items of the scores dict."""
    scores = []
    for i, name in enumerate(table.score_names):
        low, high = table.lows[i], table.highs[i]
        if low is not None:
            w(f"if v{i} < {literal(low)}:")
            w(f"    v{i} = {literal(low)}")
        if high is not None:
            w(f"{'elif' if low is not None else 'if'} v{i} > {literal(high)}:")
            w(f"    v{i} = {literal(high)}")
        scores.append(f"{literal(name)}: v{i}")
    w("grades = {}")
    score_of = {name: f"v{i}" for i, name in enumerate(table.score_names)}
    for name, source, bands, otherwise in table.grades:
        value = score_of[source]
        chain = "".join(f"{literal(label)} if {value} >= {literal(threshold)} else "
                        for label, threshold in bands)
        w(f"label = {chain}{literal(otherwise)}")
        if otherwise is None:
            w("if label is not None:")
            w(f"    grades[{literal(name)}] = label")
        else:
            w(f"grades[{literal(name)}] = label")
    return scores


def write_period(w: _Writer, name: str, per: str, is_utc: bool) -> None:
    """Writes `name = ` the period (day, week or month) of the instant `at`."""
    if per == "day" and is_utc:
        w(f"{name} = {literal(EPOCH_ORDINAL)} + at // {literal(MICROS_PER_DAY)}")
    elif per == "day":
        # Calendar.day's cache of quarter hours read first (a bucket is there only when every
        # instant in it has that day), the call on a miss
        w(f"{name} = DAYS_get(at // {literal(QUARTER)})")
        w(f"if {name} is None:")
        w(f"    {name} = day(at)")
    else:
        w(f"{name} = {_PERIODS[per]}(at)")


def _clamp_source(local: str, low, high) -> str:
    text = local
    if high is not None:
        text = f"({literal(high)} if {local} > {literal(high)} else {text})"
    if low is not None:
        text = f"({literal(low)} if {local} < {literal(low)} else {text})"
    return text


def _no_values(*_):
    raise ValueError("a profile or `where` condition reads only the profile and the event")
