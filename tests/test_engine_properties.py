"""Semantic properties of the runtime engine, against the reference interpreter.

Models come from `model_strategies` (semantically valid ASTs, language v2 constructs included:
`v2=True`), lowered with `compiler.lower.lower`; the reference interpreter
(`tests/reference.py`) reads the same AST. The v2-only properties (group bounds, inactivity
spells) are in `tests/test_engine_properties_v2.py`.
Properties: the engine equals the reference; streaming equals batch; snapshot/restore through
JSON at any point equals an uninterrupted run; scores stay within their bounds; without bounds,
caps, decay, expiry, stages and resets the scores do not depend on the order of the input;
triggers fire once per false->true change (`each time`) or once ever.
"""
from __future__ import annotations

import dataclasses
import json
import random

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import model_strategies as ms
import reference
from compiler.lower import lower
from dsl import ast
from runtime import Engine

PROPERTY = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def table_of(model: ast.Model) -> dict:
    return lower(model, "0" * 64)


def _as_of(events, as_of):
    return as_of if as_of is not None else max(e.at for e in events)


def _until(events, as_of):
    """The streaming contract covers the events up to T: later ones would move the clock past
    T. Both sides get the same events, so a contact known only from them is left out of both."""
    return [e for e in events if e.at <= as_of]


def _stream(table, events, contacts, as_of, split=None):
    """Feed the events (processing order, none after T) one at a time, then advance(T).
    With `split`, snapshot after that many events, go through JSON and restore."""
    engine = Engine(table, contacts)
    emitted = []
    ordered = reference.processing_order(events)
    for index, event in enumerate(ordered):
        if index == split:
            engine = Engine.restore(table, json.loads(json.dumps(engine.snapshot())))
        emitted += engine.process(event)
    if split is not None and split >= len(ordered):
        engine = Engine.restore(table, json.loads(json.dumps(engine.snapshot())))
    emitted += engine.advance(as_of)
    everyone = sorted({e.contact for e in events} | set(contacts))
    return [engine.state(contact) for contact in everyone], emitted


# --------------------------------------------------------------------------- engine == reference


@PROPERTY
@given(ms.scenarios(v2=True))
def test_engine_equals_reference(scenario):
    model, events, contacts, as_of = scenario
    expected = reference.interpret(model, events, contacts, as_of)
    assert Engine(table_of(model)).run(events, contacts, as_of=as_of) == expected


@PROPERTY
@given(ms.scenarios(ms.models(absence=True, v2=True), max_events=20, v2=True))
def test_engine_equals_reference_on_one_busy_contact(scenario):
    """All events on one contact: more interaction between caps, absences and triggers."""
    model, events, contacts, as_of = scenario
    events = [dataclasses.replace(e, contact="c-1") for e in events]
    expected = reference.interpret(model, events, contacts, as_of)
    assert Engine(table_of(model)).run(events, contacts, as_of=as_of) == expected


# --------------------------------------------------------------------------- streaming, snapshots


@PROPERTY
@given(ms.scenarios(v2=True))
def test_streaming_equals_batch(scenario):
    model, events, contacts, as_of = scenario
    table = table_of(model)
    as_of = _as_of(events, as_of)
    events = _until(events, as_of)
    batch = Engine(table).run(events, contacts, as_of=as_of)
    streamed, emitted = _stream(table, events, contacts, as_of)
    assert streamed == batch
    for result in batch:  # the actions returned on the way are the result's actions
        mine = [{k: v for k, v in a.items() if k != "contact"}
                for a in emitted if a["contact"] == result["contact"]]
        assert mine == result["actions"]


@PROPERTY
@given(ms.scenarios(v2=True), st.integers(0, 20))
def test_snapshot_restore_anywhere_equals_uninterrupted(scenario, split):
    model, events, contacts, as_of = scenario
    table = table_of(model)
    as_of = _as_of(events, as_of)
    events = _until(events, as_of)
    whole, emitted = _stream(table, events, contacts, as_of)
    resumed, emitted_resumed = _stream(table, events, contacts, as_of, split)
    assert resumed == whole
    assert emitted_resumed == emitted


# --------------------------------------------------------------------------- invariants


@PROPERTY
@given(ms.scenarios(v2=True))
def test_scores_stay_within_bounds(scenario):
    model, events, contacts, as_of = scenario
    declared = {s.name: s for s in model.statements if isinstance(s, ast.ScoreDecl)}
    assume(any(s.has_range for s in declared.values()))
    for result in Engine(table_of(model)).run(events, contacts, as_of=as_of):
        for name, value in result["scores"].items():
            if value is None:
                continue
            bounds = declared[name]
            assert bounds.low is None or value >= bounds.low
            assert bounds.high is None or value <= bounds.high


@PROPERTY
@given(ms.scenarios(ms.order_free_models()), st.randoms(use_true_random=False))
def test_scores_do_not_depend_on_event_order(scenario, rng: random.Random):
    """Shuffle whole events (times travel with them); ids are made unique so that the
    first-of-duplicates rule cannot pick a different event among equal times."""
    model, events, contacts, as_of = scenario
    events = [dataclasses.replace(e, id=None if e.id is None else f"{e.id}-{i}")
              for i, e in enumerate(events)]
    shuffled = events[:]
    rng.shuffle(shuffled)
    shuffled = [dataclasses.replace(e, seq=i, line=i + 1) for i, e in enumerate(shuffled)]
    engine = Engine(table_of(model))
    before = engine.run(events, contacts, as_of=as_of)
    after = engine.run(shuffled, contacts, as_of=as_of)
    assert [(r["contact"], r["scores"], r["grades"]) for r in after] == \
        [(r["contact"], r["scores"], r["grades"]) for r in before]


def _expected_actions(model: ast.Model, points: list[reference.Point]) -> list[dict]:
    """Actions from the per-point condition values alone: a trigger fires at a false->true
    change of its condition (false before the first point), and only once unless `each time`."""
    triggers = [s for s in model.statements if isinstance(s, ast.Trigger)]
    actions = []
    previous = [False] * len(triggers)
    fired = [0] * len(triggers)
    for point in points:
        for index, trigger in enumerate(triggers):
            if point.conditions[index] and not previous[index] and \
                    (trigger.each_time or fired[index] == 0):
                fired[index] += 1
                actions += [{"at": reference.format_at(point.key[0]), "action": a.kind,
                             "arg": a.arg} for a in trigger.actions]
        previous = point.conditions
    return actions


@PROPERTY
@given(ms.scenarios(v2=True))
def test_triggers_fire_on_each_false_to_true_change(scenario):
    model, events, contacts, as_of = scenario
    assume(any(isinstance(s, ast.Trigger) for s in model.statements))
    traces = reference.trace(model, events, contacts, as_of)
    results = {r["contact"]: r for r in Engine(table_of(model)).run(events, contacts,
                                                                      as_of=as_of)}
    for contact, contact_trace in traces.items():
        assert results[contact]["actions"] == _expected_actions(model, contact_trace.points)


# --------------------------------------------------------------------------- the front end too


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ms.scenarios(v2=True))
def test_engine_on_formatted_and_compiled_text_equals_reference(scenario):
    """Format the AST, compile the text with the pipeline: the whole front end in the loop."""
    pytest.importorskip("dsl.parser", reason="dsl.parser has not landed yet")
    from compiler.pipeline import compile_text
    from dsl.formatter import format_model
    model, events, contacts, as_of = scenario
    compiled = compile_text(format_model(model))
    errors = [d for d in compiled.diagnostics if d.is_error]
    assert not errors, [str(d.message) for d in errors]
    table = compiled.table if compiled.table is not None else lower(compiled.model)
    expected = reference.interpret(model, events, contacts, as_of)
    assert Engine(table).run(events, contacts, as_of=as_of) == expected
