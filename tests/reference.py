"""A reference interpreter for `.score` models: plain, slow and obviously correct.

It reads `dsl.ast.Model` directly (no rule table, no compiler) and follows docs/language.md
(sections 3-7, 9 and 10) line by line. At every evaluation point it recomputes everything from
scratch: the awards of all events so far (caps by re-counting the matching events), absence
awards by scanning for answers, inactivity awards by scanning every quiet spell for activity,
decay with `Fraction`, expiry, group bounds, clamping, grades (matrix grades too), the stage,
the triggers and the resets. It shares no code with the runtime engine except the `Event`
record and `parse_time`, so the two can check each other.

Entry points:
- `interpret(model, events, contacts, as_of=None) -> list[result dict]` (section 7 results,
  sorted by contact), the same contract as `Engine.run`;
- `trace(model, events, contacts, as_of=None) -> dict[contact, ContactTrace]`: the results plus
  the state at every evaluation point (used to check trigger firing);
- `read_events(lines)` / `read_contacts(lines)`: a small independent reader for the
  conformance cases (rejects are skipped).

Readings fixed here where docs/language.md leaves room (kept in constants/comments):
- a capped absence award still makes its due time an evaluation point, as a capped event does
  (`CAPPED_ABSENCE_IS_POINT`);
- a trigger's "previous value" is its value at step 4 of the previous evaluation point;
- the result's grades are computed from the scores after the last point's resets;
- a number compared with a grade or `stage` is the label of its text (`heat is 1`: "1").
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from functools import lru_cache
from zoneinfo import ZoneInfo

from dsl import ast
from runtime.events import Event, parse_time

MICROS = 1_000_000
SCALE = 10 ** 9
CAPPED_ABSENCE_IS_POINT = True
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MISSING = object()

# Keys of evaluation points, ordered: events of a time (in processing order), then the absence
# awards due at that time, then the as-of time T.
EVENT_POINT, ABSENCE_POINT, AS_OF_POINT = 0, 1, 2


# --------------------------------------------------------------------------- the model, read


@dataclass
class View:
    """The statements of a model sorted by kind (file order kept within each kind)."""
    scores: list[ast.ScoreDecl]
    zone: ZoneInfo
    requires: list[ast.Condition]
    event_rules: list[ast.EventRule]
    absence_rules: list[ast.AbsenceRule]
    profile_rules: list[ast.ProfileRule]
    decays: dict[str, ast.Decay]
    expires: dict[str, ast.Expire]
    grades: list  # ast.Grade and ast.MatrixGrade, in file order
    stages: list[ast.Stage]
    triggers: list[ast.Trigger]
    groups: list[ast.GroupDecl] = field(default_factory=list)
    inactivity_rules: list[ast.InactivityRule] = field(default_factory=list)
    activity: frozenset | None = None  # None: every surviving event is activity (10.3)

    @property
    def default_score(self) -> str:
        return self.scores[0].name

    @property
    def score_names(self) -> list[str]:
        return [declaration.name for declaration in self.scores]

    @property
    def group_names(self) -> list[str]:
        return [group.name for group in self.groups]

    def group_score(self, group: ast.GroupDecl) -> str:
        return group.score or self.default_score

    def target_of(self, name: str | None) -> tuple[str, str | None]:
        """(score, group) for the name after a rule's points: a score, a group, or nothing
        (the default score)."""
        for group in self.groups:
            if group.name == name:
                return self.group_score(group), group.name
        return (name or self.default_score), None


def view_of(model: ast.Model) -> View:
    statements = model.statements
    scores = [s for s in statements if isinstance(s, ast.ScoreDecl)] or [ast.ScoreDecl("score")]
    zones = [s.zone for s in statements if isinstance(s, ast.TimezoneDecl)]
    view = View(
        scores=scores,
        zone=ZoneInfo(zones[-1] if zones else "UTC"),
        requires=[s.condition for s in statements if isinstance(s, ast.Require)],
        event_rules=[s for s in statements if isinstance(s, ast.EventRule)],
        absence_rules=[s for s in statements if isinstance(s, ast.AbsenceRule)],
        profile_rules=[s for s in statements if isinstance(s, ast.ProfileRule)],
        decays={s.score: s for s in statements if isinstance(s, ast.Decay)},
        expires={s.score: s for s in statements if isinstance(s, ast.Expire)},
        grades=[s for s in statements if isinstance(s, (ast.Grade, ast.MatrixGrade))],
        stages=[s for s in statements if isinstance(s, ast.Stage)],
        triggers=[s for s in statements if isinstance(s, ast.Trigger)],
        groups=[s for s in statements if isinstance(s, ast.GroupDecl)],
        inactivity_rules=[s for s in statements if isinstance(s, ast.InactivityRule)],
    )
    activities = [s for s in statements if isinstance(s, ast.ActivityDecl)]
    if activities:
        view.activity = frozenset(activities[0].events)
    names = set(view.score_names) | set(view.group_names)
    for rule in (view.event_rules + view.absence_rules + view.profile_rules
                 + view.inactivity_rules):
        if rule.score is not None and rule.score not in names:
            raise ValueError(f"unknown score or group `{rule.score}`")
    return view


# --------------------------------------------------------------------------- matching


def glob_matches(pattern: str, text: str) -> bool:
    """`*` any run of characters (`/` included), `?` one character; whole string, case-sensitive."""
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.fullmatch("".join(parts), text, re.DOTALL) is not None


def targets_match(targets: ast.Targets, target: str | None) -> bool:
    if not targets.items or targets.any:
        return True
    if target is None:  # section 9.7: no string pattern, not even "*", matches no target
        return False
    return any(glob_matches(item, target) for item in targets.items)


def answer_targets_match(rule: ast.AbsenceRule, a: Event, b: Event) -> bool:
    """Section 9.4: B with no targets must carry A's target; `any` lets every target answer."""
    if rule.missing_targets.any:
        return True
    if not rule.missing_targets.items:
        return b.target == a.target
    return targets_match(rule.missing_targets, b.target)


# --------------------------------------------------------------------------- conditions


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    return "other"


def _equals(actual, literal: ast.Value) -> bool:
    """`=` without coercion; a missing value is never equal (section 9.5/9.6)."""
    if actual is _MISSING or actual is None:
        return False
    match literal:
        case ast.Text(value=text):
            if _kind(actual) != "text":
                return False
            if "*" in text or "?" in text:
                return glob_matches(text, actual)
            return actual == text
        case ast.Label(name=name):
            return _kind(actual) == "text" and actual == name
        case ast.Number(value=number):
            return _kind(actual) == "number" and actual == number
        case ast.Bool(value=flag):
            return _kind(actual) == "bool" and actual is flag
    raise TypeError(f"not a value: {literal!r}")


def _ordered(actual, op: str, literal: ast.Value) -> bool:
    """Ordering comparisons hold only between two numbers."""
    if actual is _MISSING or actual is None or _kind(actual) != "number":
        return False
    if not isinstance(literal, ast.Number):
        return False
    right = literal.value
    return {"<": actual < right, "<=": actual <= right,
            ">": actual > right, ">=": actual >= right}[op]


def _as_written(ref: ast.Ref, value: ast.Value, labels) -> ast.Value:
    """Section 10.4: compared with a grade or `stage` (a name in `labels`), an unquoted
    number is the label of its text (`heat is 1`); elsewhere a digit label (`01`, `2b`) is
    the number it spells, or else text (10.8.7)."""
    if not ref.contact and ref.name in labels:
        return ast.Label(str(value.value)) if isinstance(value, ast.Number) else value
    if isinstance(value, ast.Label) and value.name[:1].isdigit():
        return ast.Number(int(value.name)) if value.name.isdigit() else ast.Text(value.name)
    return value


def evaluate(condition: ast.Condition, lookup, labels=frozenset()) -> bool:
    """`lookup(ref) -> value or _MISSING` resolves names for the context of the condition;
    `labels`: the names whose values are labels there (grades and `stage`)."""
    match condition:
        case ast.Const(value=value):
            return value
        case ast.Truth(ref=ref):
            return _equals(lookup(ref), ast.Bool(True))
        case ast.Compare(ref=ref, op=op, value=value):
            actual = lookup(ref)
            value = _as_written(ref, value, labels)
            if op in ("=", "is"):
                return _equals(actual, value)
            if op in ("!=", "is not"):
                return not _equals(actual, value)
            return _ordered(actual, op, value)
        case ast.In(ref=ref, values=values, negated=negated):
            actual = lookup(ref)
            found = any(_equals(actual, _as_written(ref, value, labels)) for value in values)
            return not found if negated else found
        case ast.Not(operand=operand):
            return not evaluate(operand, lookup, labels)
        case ast.And(operands=operands):
            return all(evaluate(operand, lookup, labels) for operand in operands)
        case ast.Or(operands=operands):
            return any(evaluate(operand, lookup, labels) for operand in operands)
    raise TypeError(f"not a condition: {condition!r}")


def profile_lookup(profile: dict):
    """`if` and `require`: names are profile attributes only (section 9.6)."""
    return lambda ref: profile.get(ref.name, _MISSING)


def where_lookup(event: Event, profile: dict):
    """`where`: a bare name is an event property, `contact.X` a profile attribute."""
    def lookup(ref: ast.Ref):
        source = profile if ref.contact else (event.props or {})
        return source.get(ref.name, _MISSING)
    return lookup


def state_lookup(view: View, profile: dict, scores: dict, grades: dict, stage: str | None,
                 groups: dict):
    """Stages and triggers: a score, a group, a grade, `stage`, then a profile attribute
    (sections 4 and 10.2)."""
    grade_names = {grade.name for grade in view.grades}

    def lookup(ref: ast.Ref):
        if not ref.contact:
            if ref.name in scores:
                return scores[ref.name]
            if ref.name in groups:
                return groups[ref.name]
            if ref.name in grade_names:
                return grades.get(ref.name, _MISSING)
            if ref.name == "stage":
                return _MISSING if stage is None else stage
        return profile.get(ref.name, _MISSING)
    return lookup


def label_names(view: View) -> frozenset:
    """Names whose values are labels in stage and trigger conditions (10.4)."""
    taken = set(view.score_names) | set(view.group_names)
    return frozenset(g.name for g in view.grades if g.name not in taken) | {"stage"}


# --------------------------------------------------------------------------- time


def local_date(micros: int, zone: ZoneInfo):
    return (_EPOCH + timedelta(microseconds=micros)).astimezone(zone).date()


def period_of(limit: ast.Limit | None, micros: int, zone: ZoneInfo):
    """The calendar period a cap counts in: None (ever), a day, a week from Monday, a month."""
    if limit is None or limit.per is None:
        return None
    day = local_date(micros, zone)
    if limit.per == "day":
        return day
    if limit.per == "week":
        return day - timedelta(days=day.weekday())
    if limit.per == "month":
        return (day.year, day.month)
    raise ValueError(f"unknown period {limit.per!r}")


def duration_micros(duration: ast.Duration) -> int:
    return duration.seconds * MICROS


def format_at(micros: int) -> str:
    """UTC to the second, a four-digit year (`0001-…`: glibc's `%Y` does not pad)."""
    moment = _EPOCH + timedelta(seconds=micros // MICROS)
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%SZ}"


def _fraction(number) -> Fraction:
    return Fraction(str(number)) if isinstance(number, float) else Fraction(number)


@lru_cache(maxsize=None)
def multiplier(percent_text: str, k: int) -> int:
    """M_k = floor(10^9 * ((100 - P) / 100)^k), exactly."""
    factor = (100 - Fraction(percent_text)) / 100
    return (SCALE * factor ** k).__floor__()


def trunc_div(numerator: int, denominator: int) -> int:
    quotient = abs(numerator) // denominator
    return quotient if numerator >= 0 else -quotient


def contribution(view: View, award: "Award", now: int) -> int:
    """What an event or absence award contributes to its score as of `now` (section 5)."""
    age = now - award.at
    expire = view.expires.get(award.score)
    if expire is not None and age >= duration_micros(expire.after):
        return 0
    decay = view.decays.get(award.score)
    if decay is None:
        return award.points
    k = age // duration_micros(decay.every)
    return trunc_div(award.points * multiplier(str(_fraction(decay.percent)), k), SCALE)


# --------------------------------------------------------------------------- awards


@dataclass(frozen=True)
class Award:
    score: str
    points: int
    at: int  # the award's time: the event's, or the due time of an absence/inactivity award
    key: tuple  # the evaluation point that applies it
    capped: bool = False
    group: str | None = None  # the group of `score` it belongs to (10.2)


def processing_order(events: list[Event]) -> list[Event]:
    """By time, then input order (`seq`, then position in the list)."""
    numbered = sorted(enumerate(events), key=lambda pair: (pair[1].at, pair[1].seq, pair[0]))
    return [event for _, event in numbered]


def event_key(index: int, event: Event) -> tuple:
    return (event.at, EVENT_POINT, index)


INT64 = (-(2 ** 63), 2 ** 63 - 1)


def property_points(by, event: Event) -> int | None:
    """10.5, 10.8.9: the property's value if it is a number with an integer value (`20`,
    `20.0`, `2e1`) within the signed 64-bit range, bounded to `by`'s range; None (the rule
    does not match) for anything else: 2.5, text, a bool, null, missing, inf, nan."""
    value = (event.props or {}).get(by.prop)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    exact = Fraction(value)
    if exact.denominator != 1 or not INT64[0] <= exact <= INT64[1]:
        return None
    points = int(exact)
    if by.low is not None:
        points = max(points, by.low)
    if by.high is not None:
        points = min(points, by.high)
    return points


def event_awards(view: View, events: list[Event], profile: dict, until: tuple) -> list[Award]:
    """Every event award applied up to the point `until`, caps re-counted from the start."""
    awards = []
    for rule in view.event_rules:
        score, group = view.target_of(rule.score)
        by = rule.by
        counts: dict = {}
        for index, event in enumerate(events):
            key = event_key(index, event)
            if key > until:
                break
            if event.event != rule.event or not targets_match(rule.targets, event.target):
                continue
            if rule.where is not None and not evaluate(rule.where, where_lookup(event, profile)):
                continue
            points = rule.points if by is None else property_points(by, event)
            if points is None:
                continue  # `by PROP` without an integer: no match, nothing counted (10.5)
            period = period_of(rule.limit, event.at, view.zone)
            seen = counts.get(period, 0)
            counts[period] = seen + 1
            capped = rule.limit is not None and seen >= rule.limit.count
            awards.append(Award(score, points, event.at, key, capped, group))
    return awards


def absence_awards(view: View, events: list[Event], until: tuple) -> list[Award]:
    """Every absence award due up to the point `until`: for each A, scan for an answering B."""
    awards = []
    for rule in view.absence_rules:
        score, group = view.target_of(rule.score)
        within = duration_micros(rule.within)
        due_list = []
        for index, a in enumerate(events):
            if a.event != rule.event or not targets_match(rule.targets, a.target):
                continue
            due = a.at + within
            if (due, ABSENCE_POINT) > until:
                continue
            answered = any(
                other != index and b.event == rule.missing and a.at <= b.at <= due
                and answer_targets_match(rule, a, b)
                for other, b in enumerate(events))
            if not answered:
                due_list.append((due, a.at, index))
        counts: dict = {}
        for due, _, _ in sorted(due_list):
            period = period_of(rule.limit, due, view.zone)
            seen = counts.get(period, 0)
            counts[period] = seen + 1
            capped = rule.limit is not None and seen >= rule.limit.count
            awards.append(Award(score, rule.points, due, (due, ABSENCE_POINT), capped, group))
    return awards


def activity_times(view: View, events: list[Event]) -> list[int]:
    """The times of the activity events (10.3), each once: several at one time start one
    spell."""
    return sorted({e.at for e in events if view.activity is None or e.event in view.activity})


def inactivity_awards(view: View, events: list[Event], until: tuple) -> list[Award]:
    """Every inactivity award due up to the point `until`: for each quiet spell (an activity
    time u), the due times u + D + k * D2 for as long as no activity has a time in
    (u, due], `at most N` per spell, one award without `every`."""
    times = activity_times(view, events)
    awards = []
    for rule in view.inactivity_rules:
        score, group = view.target_of(rule.score)
        after = duration_micros(rule.after)
        every = None if rule.every is None else duration_micros(rule.every)
        most = 1 if every is None else (None if rule.limit is None else rule.limit.count)
        for u in times:
            k = 0
            while most is None or k < most:
                due = u + after + k * (every or 0)
                if (due, ABSENCE_POINT) > until:
                    break
                if any(u < v <= due for v in times):
                    break  # an activity answered it: the spell is over
                awards.append(Award(score, rule.points, due, (due, ABSENCE_POINT), False, group))
                k += 1
    return awards


def profile_points(view: View, profile: dict) -> dict[tuple, int]:
    """Profile awards per (score, group): group None for the score's ungrouped part."""
    points = {(name, None): 0 for name in view.score_names}
    points.update({(view.group_score(g), g.name): 0 for g in view.groups})
    for rule in view.profile_rules:
        if evaluate(rule.condition, profile_lookup(profile)):
            points[view.target_of(rule.score)] += rule.points
    return points


# --------------------------------------------------------------------------- evaluation


def clamp(value: int, declaration) -> int:
    """Within a score's `low..high`, or a group's `min`/`max` (same field names)."""
    if declaration.low is not None and value < declaration.low:
        value = declaration.low
    if declaration.high is not None and value > declaration.high:
        value = declaration.high
    return value


def raw_groups(view: View, totals: dict[tuple, int]) -> dict[str, int]:
    """Each group's sum before its bounds."""
    return {g.name: totals[(view.group_score(g), g.name)] for g in view.groups}


def combine(view: View, totals: dict[tuple, int]) -> tuple[dict, dict]:
    """Section 10.2: group = clamp(its awards + its profile awards, min, max); score =
    clamp(its groups' values + its ungrouped awards and profile awards, LO, HI)."""
    groups = {g.name: clamp(totals[(view.group_score(g), g.name)], g) for g in view.groups}
    sums = {name: totals[(name, None)] for name in view.score_names}
    for g in view.groups:
        sums[view.group_score(g)] += groups[g.name]
    return {d.name: clamp(sums[d.name], d) for d in view.scores}, groups


def compute_totals(view: View, events: list[Event], profile: dict, point: tuple,
                   resets: dict[str, tuple]) -> dict[tuple, int]:
    """The raw sums per (score, group) as of the point, from scratch: awards so far minus
    the reset ones (a reset of a score discards its groups' awards too)."""
    now = point[0]
    awards = (event_awards(view, events, profile, point) + absence_awards(view, events, point)
              + inactivity_awards(view, events, point))
    totals = profile_points(view, profile)
    for award in awards:
        if award.capped:
            continue
        reset = resets.get(award.score)
        if reset is not None and award.key <= reset:
            continue
        totals[(award.score, award.group)] += contribution(view, award, now)
    return totals


def compute_scores(view: View, events: list[Event], profile: dict, point: tuple,
                   resets: dict[str, tuple]) -> tuple[dict, dict]:
    """Every score and group value as of the point."""
    return combine(view, compute_totals(view, events, profile, point, resets))


def compute_grades(view: View, scores: dict[str, int], groups: dict[str, int]) -> dict:
    """Grades in file order: a band grade reads a score or a group; a matrix grade (10.4)
    joins the labels of two grades before it, absent when either is."""
    grades = {}
    for grade in view.grades:
        if isinstance(grade, ast.MatrixGrade):
            first, second = grades.get(grade.first), grades.get(grade.second)
            if first is None or second is None:
                continue
            cell = first + second
            if not grade.buckets:
                grades[grade.name] = cell
                continue
            label = next((b.label for b in grade.buckets if cell in b.cells), grade.otherwise)
            if label is not None:
                grades[grade.name] = label
            continue
        value = groups[grade.score] if grade.score in groups else scores[grade.score]
        label = next((band.label for band in grade.bands if value >= band.threshold),
                     grade.otherwise)
        if label is not None:
            grades[grade.name] = label
    return grades


def evaluation_points(view: View, events: list[Event], as_of: int) -> list[tuple]:
    points = [event_key(index, event) for index, event in enumerate(events)]
    final = (as_of, AS_OF_POINT)
    dues = {award.key for award in absence_awards(view, events, final)
            if CAPPED_ABSENCE_IS_POINT or not award.capped}
    dues |= {award.key for award in inactivity_awards(view, events, final)}
    return sorted(points + list(dues)) + [final]


@dataclass
class Point:
    """The state at one evaluation point, after step 4 (before the resets of step 5)."""
    key: tuple
    scores: dict
    grades: dict
    stage: str | None
    conditions: list[bool]  # each trigger's condition, in file order
    actions: list[dict]
    groups: dict = field(default_factory=dict)
    raw_groups: dict = field(default_factory=dict)  # the groups' sums before their bounds


@dataclass
class ContactTrace:
    result: dict
    points: list[Point] = field(default_factory=list)
    groups: dict | None = None  # as of T (None: unscored)
    raw_groups: dict | None = None


def unscored(view: View, contact: str) -> dict:
    return {"contact": contact, "scores": {name: None for name in view.score_names},
            "grades": {}, "stage": None, "actions": []}


def trace_contact(view: View, contact: str, profile: dict, events: list[Event],
                  as_of: int | None) -> ContactTrace:
    """`events`: the contact's surviving events (no duplicates, none after T), in order."""
    if not all(evaluate(c, profile_lookup(profile)) for c in view.requires):
        return ContactTrace(unscored(view, contact))
    stage_names = [stage.name for stage in view.stages]
    labels = label_names(view)
    stage: str | None = None
    previous = [False] * len(view.triggers)
    fired = [False] * len(view.triggers)
    resets: dict[str, tuple] = {}
    actions: list[dict] = []
    points: list[Point] = []
    keys = [] if as_of is None else evaluation_points(view, events, as_of)
    for key in keys:
        totals = compute_totals(view, events, profile, key, resets)  # (1)
        scores, groups = combine(view, totals)  # (2)
        grades = compute_grades(view, scores, groups)
        lookup = state_lookup(view, profile, scores, grades, stage, groups)  # (3)
        holding = [i for i, s in enumerate(view.stages)
                   if evaluate(s.condition, lookup, labels)]
        if holding and (stage is None or holding[-1] > stage_names.index(stage)):
            stage = stage_names[holding[-1]]
        lookup = state_lookup(view, profile, scores, grades, stage, groups)  # (4)
        conditions = [evaluate(t.condition, lookup, labels) for t in view.triggers]
        here = []
        for index, trigger in enumerate(view.triggers):
            rising = conditions[index] and not previous[index]
            if rising and (trigger.each_time or not fired[index]):
                fired[index] = True
                here.extend({"at": format_at(key[0]), "action": action.kind, "arg": action.arg}
                            for action in trigger.actions)
        previous = conditions
        for action in here:  # (5)
            if action["action"] == "reset":
                resets[action["arg"]] = key
        actions.extend(here)
        points.append(Point(key, scores, grades, stage, conditions, here, groups,
                            raw_groups(view, totals)))
    if keys:
        totals = compute_totals(view, events, profile, keys[-1], resets)
    else:
        totals = profile_points(view, profile)
    scores, groups = combine(view, totals)
    result = {"contact": contact, "scores": scores,
              "grades": compute_grades(view, scores, groups), "stage": stage,
              "actions": actions}
    return ContactTrace(result, points, groups, raw_groups(view, totals))


def _profiles(contacts) -> dict[str, dict]:
    """Contacts as `{id: profile}` or as rows `{"contact": id, ...}` (the last row wins)."""
    if contacts is None:
        return {}
    if isinstance(contacts, dict):
        return {key: dict(value) for key, value in contacts.items()}
    profiles = {}
    for row in contacts:
        row = dict(row)
        profiles[row.pop("contact")] = row
    return profiles


def trace(model: ast.Model, events: list[Event], contacts=None,
          as_of: int | None = None) -> dict[str, ContactTrace]:
    view = view_of(model)
    profiles = _profiles(contacts)
    profiles = {key: {k: v for k, v in value.items() if v is not None}
                for key, value in profiles.items()}  # JSON null counts as missing
    if as_of is None and events:
        as_of = max(event.at for event in events)  # duplicates included (section 9.10)
    seen: set = set()
    surviving: dict[str, list[Event]] = {}
    for event in processing_order(events):
        if event.id is not None:
            if (event.contact, event.id) in seen:
                continue
            seen.add((event.contact, event.id))
        if as_of is not None and event.at <= as_of:
            surviving.setdefault(event.contact, []).append(event)
    everyone = sorted({event.contact for event in events} | set(profiles))
    return {contact: trace_contact(view, contact, profiles.get(contact, {}),
                                   surviving.get(contact, []), as_of)
            for contact in everyone}


def interpret(model: ast.Model, events: list[Event], contacts=None,
              as_of: int | None = None) -> list[dict]:
    """The section-7 results, sorted by contact, as `Engine.run` returns them."""
    return [t.result for t in trace(model, events, contacts, as_of).values()]


# --------------------------------------------------------------------------- reading inputs

_EVENT_KEYS = {"contact", "event", "at", "target", "id", "props"}


def _event_from(row, line: int, seq: int) -> Event | None:
    """One JSONL row as an Event, or None for a reject (section 7)."""
    if not isinstance(row, dict) or set(row) - _EVENT_KEYS:
        return None
    contact, name, at = row.get("contact"), row.get("event"), row.get("at")
    if not isinstance(contact, str) or not isinstance(name, str):
        return None
    if isinstance(at, bool):
        return None
    if isinstance(at, int):
        micros = at * MICROS
    elif isinstance(at, str):
        try:
            micros = parse_time(at, date_only_is_utc_midnight=False)
        except ValueError:
            return None
    else:
        return None
    target, ident, props = row.get("target"), row.get("id"), row.get("props")
    if target is not None and not isinstance(target, str):
        return None
    if ident is not None and not isinstance(ident, str):
        return None
    if props is not None and not isinstance(props, dict):
        return None
    return Event(contact, name, micros, target, ident, props or {}, line, seq)


def read_events(lines) -> list[Event]:
    events = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except ValueError:
            continue
        event = _event_from(row, number, len(events))
        if event is not None:
            events.append(event)
    return events


def read_contacts(lines) -> dict[str, dict]:
    rows = [json.loads(text) for text in lines if text.strip()]
    return _profiles(rows)
