"""Properties of language v2 (docs/language.md 10.2, 10.3) on generated models and streams.

Models and streams come from `model_strategies` with `v2=True`, lowered with
`compiler.lower.lower`; where a property needs to know what happened at each evaluation point
it asks the reference interpreter (`tests/reference.py`), which computes it independently.

- a group's value stays within its bounds, at every point of a stream and as of T;
- raising a group's `max` never lowers its score, provided no trigger resets that score (the
  only way a group's value feeds back into the awards: stages, grades and other triggers never
  change a score, and limits count events whatever the values);
- no inactivity award is due less than its DURATION after the latest activity before it, and
  none is due while an activity happened in its quiet spell;
- a model whose group bounds are never reached (at no evaluation point, by the reference's
  raw group sums) gives the same results as the same model without its groups (their rules
  sending points to the group's score instead).
"""
from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import model_strategies as ms
import reference
from compiler.lower import lower
from dsl import ast
from runtime import Engine

GROUPED = ms.models(v2=True, min_groups=1)
PROPERTY = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def table_of(model: ast.Model) -> dict:
    return lower(model, "0" * 64)


def _of(model: ast.Model, kind) -> list:
    return [s for s in model.statements if isinstance(s, kind)]


def _everyone(events, contacts) -> list[str]:
    return sorted({e.contact for e in events} | set(contacts))


# --------------------------------------------------------------------------- bounds


@PROPERTY
@given(ms.scenarios(GROUPED, v2=True))
def test_group_values_stay_within_their_bounds(scenario):
    model, events, contacts, as_of = scenario
    groups = {g.name: g for g in _of(model, ast.GroupDecl)}
    assume(groups)
    table = table_of(model)

    def within(values: dict) -> None:
        for name, value in values["groups"].items():
            if value is None:
                continue  # unscored
            group = groups[name]
            assert group.low is None or value >= group.low, (name, value)
            assert group.high is None or value <= group.high, (name, value)

    engine = Engine(table)
    for contact in _everyone(events, contacts):
        within(engine.evaluate(contact, events, contacts, as_of))
    # and at every point of a stream
    streaming = Engine(table, contacts)
    for event in reference.processing_order(events):
        if as_of is not None and event.at > as_of:
            break
        streaming.process(event)
        within(streaming.values(event.contact))


def _with_max(model: ast.Model, name: str, high: int) -> ast.Model:
    statements = tuple(dataclasses.replace(s, high=high)
                       if isinstance(s, ast.GroupDecl) and s.name == name else s
                       for s in model.statements)
    return dataclasses.replace(model, statements=statements)


def _resets(model: ast.Model) -> set[str]:
    return {a.arg for t in _of(model, ast.Trigger) for a in t.actions if a.kind == "reset"}


@settings(PROPERTY, max_examples=200)  # a bound that binds before and after is the rarer case
@given(ms.scenarios(ms.models(v2=True, min_groups=1, resets=False), max_events=24, v2=True),
       st.integers(-10, 30), st.integers(1, 30))
def test_raising_a_group_max_never_lowers_its_score(scenario, high, by):
    """The group's max is set low (`high`, so that it binds often), then raised by `by`. The
    models have no `reset`: a reset of the group's score is the one feedback of a group's value
    into the awards, so with one the property does not hold."""
    model, events, contacts, as_of = scenario
    default = (_of(model, ast.ScoreDecl) or [ast.ScoreDecl("score")])[0].name
    assert not _resets(model)
    group = _of(model, ast.GroupDecl)[0]
    high = max(high, group.low) if group.low is not None else high
    score = group.score or default
    before = Engine(table_of(_with_max(model, group.name, high))).run(events, contacts,
                                                                       as_of=as_of)
    after = Engine(table_of(_with_max(model, group.name, high + by))).run(events, contacts,
                                                                           as_of=as_of)
    for old, new in zip(before, after):
        if old["scores"][score] is not None:
            assert new["scores"][score] >= old["scores"][score], (old, new)


# --------------------------------------------------------------------------- inactivity


def _surviving(events, as_of):
    """Per contact, the events that count (no duplicate ids, none after T), as times."""
    if as_of is None:
        as_of = max(e.at for e in events)
    seen, kept = set(), {}
    for event in reference.processing_order(events):
        if event.id is not None:
            if (event.contact, event.id) in seen:
                continue
            seen.add((event.contact, event.id))
        if event.at <= as_of:
            kept.setdefault(event.contact, []).append(event)
    return kept, as_of


@PROPERTY
@given(ms.scenarios(v2=True))
def test_no_inactivity_award_is_due_before_its_duration_after_the_latest_activity(scenario):
    model, events, contacts, as_of = scenario
    rules = _of(model, ast.InactivityRule)
    assume(rules and events)
    table = table_of(model)
    after = {rule["id"]: rule["after"] for rule in table["inactivity"]}
    listed = _of(model, ast.ActivityDecl)
    activity = None if not listed else set(listed[0].events)
    kept, as_of = _surviving(events, as_of)
    engine = Engine(table)
    for contact in _everyone(events, contacts):
        awards = [a for a in engine.explain(contact, events, contacts, as_of).to_json()["awards"]
                  if a["kind"] == "inactivity"]
        times = sorted(e.at for e in kept.get(contact, ())
                       if activity is None or e.event in activity)
        for award in awards:
            due = reference.parse_time(award["at"])
            before = [t for t in times if t < due]
            assert before, award  # an award needs a quiet spell, which needs an activity
            latest = before[-1]
            assert due - latest >= after[award["rule"]], award
            assert award["spell_start"] == reference.format_at(latest)
            assert due <= as_of


# --------------------------------------------------------------------------- groups that never bind


def _without_groups(model: ast.Model) -> ast.Model:
    """The model with its groups removed, their rules sending points to the group's score."""
    default = (_of(model, ast.ScoreDecl) or [ast.ScoreDecl("score")])[0].name
    owner = {g.name: g.score or default for g in _of(model, ast.GroupDecl)}
    kept = []
    for statement in model.statements:
        if isinstance(statement, ast.GroupDecl):
            continue
        if getattr(statement, "score", None) in owner and not isinstance(statement, ast.Grade):
            statement = dataclasses.replace(statement, score=owner[statement.score])
        kept.append(statement)
    return dataclasses.replace(model, statements=tuple(kept))


def _reads_a_group(model: ast.Model) -> bool:
    names = {g.name for g in _of(model, ast.GroupDecl)}
    if any(g.score in names for g in _of(model, ast.Grade)):
        return True
    for statement in _of(model, ast.Stage) + _of(model, ast.Trigger):
        for node in ast.walk_condition(statement.condition):
            ref = getattr(node, "ref", None)
            if ref is not None and not ref.contact and ref.name in names:
                return True
    return False


def _widened(model: ast.Model) -> ast.Model:
    """Bounds far beyond anything a stream reaches (often enough for the property to apply)."""
    statements = tuple(
        dataclasses.replace(s, low=None if s.low is None else s.low - 10 ** 6,
                            high=None if s.high is None else s.high + 10 ** 6)
        if isinstance(s, ast.GroupDecl) else s for s in model.statements)
    return dataclasses.replace(model, statements=statements)


def _never_reached(model: ast.Model, traces) -> bool:
    bounds = {g.name: g for g in _of(model, ast.GroupDecl)}
    for contact_trace in traces.values():
        sums = [point.raw_groups for point in contact_trace.points]
        sums.append(contact_trace.raw_groups or {})
        for raw in sums:
            for name, value in raw.items():
                group = bounds[name]
                if (group.low is not None and value < group.low) or \
                        (group.high is not None and value > group.high):
                    return False
    return True


@PROPERTY
@given(ms.scenarios(GROUPED, v2=True), st.booleans())
def test_groups_whose_bounds_are_never_reached_change_nothing(scenario, widen):
    model, events, contacts, as_of = scenario
    assume(_of(model, ast.GroupDecl) and not _reads_a_group(model))
    if widen:
        model = _widened(model)
    assume(_never_reached(model, reference.trace(model, events, contacts, as_of)))
    plain = _without_groups(model)
    assert Engine(table_of(model)).run(events, contacts, as_of=as_of) == \
        Engine(table_of(plain)).run(events, contacts, as_of=as_of)
