"""The time-order loop on flat lists (runtime/compiled_timeorder.py) against the reference.

`Engine.run` on a list without event ids, for a table without decay, expiry, absence or
inactivity, runs one function written for the table with each contact's state in a list.
Properties: on generated models of that kind and id-free logs (in time order, shuffled, with
an as-of time before some events) it equals the reference interpreter and the interpreted
engine, also with hostile texts in the table; examples pin down the cases a shortcut could get
wrong (the first point of a contact without any award, caps, resets to the profile's awards,
`require`, an id met after the probes, a rule list without inline code).
"""
from __future__ import annotations

import dataclasses
import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

import model_strategies as ms
import reference
from compiler.lower import lower
from compiler.pipeline import compile_text
from runtime import ActionLog, Engine, Event
from runtime.engine import InFileOrder
from runtime.compiled_timeorder import eligible
from test_compiled import PROPERTY, _hostile, _hostile_event, _hostile_props, _run_both, \
    hostile_prefixes

DAY = 86_400_000_000
START = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z


def _flat_models(v2: bool):
    return ms.models(decay=False, expire=False, absence=False, v2=v2)


def _without_ids(events):
    return [dataclasses.replace(e, id=None) for e in events]


def _loop_used(engine: Engine) -> bool:
    return engine._time_order_built and engine._time_order is not None


@PROPERTY
@given(ms.scenarios(_flat_models(v2=True), max_events=24, v2=True),
       st.randoms(use_true_random=False))
def test_time_order_loop_equals_reference_v2(scenario, rng: random.Random):
    model, events, contacts, as_of = scenario
    table = lower(model, "0" * 64)
    events = _without_ids(events)
    expected = reference.interpret(model, events, contacts, as_of)
    ordered = reference.processing_order(events)
    shuffled = list(events)
    rng.shuffle(shuffled)
    engine = Engine(table)
    for given_events in (ordered, shuffled, events):
        assert engine.run(given_events, contacts, as_of=as_of) == expected
    assert Engine(table, compiled=False).run(events, contacts, as_of=as_of) == expected
    if eligible(engine.table) and events:
        assert _loop_used(engine)


@PROPERTY
@given(ms.scenarios(_flat_models(v2=False), max_events=24))
def test_time_order_loop_equals_reference_v1(scenario):
    model, events, contacts, as_of = scenario
    table = lower(model, "0" * 64)
    events = reference.processing_order(_without_ids(events))
    expected = reference.interpret(model, events, contacts, as_of)
    engine = Engine(table)
    assert engine.run(events, contacts, as_of=as_of) == expected
    if events:
        assert _loop_used(engine)


@PROPERTY
@given(ms.scenarios(_flat_models(v2=True), v2=True), hostile_prefixes, st.booleans())
def test_time_order_loop_with_hostile_tables(scenario, prefix, names_too):
    """Hostile texts (targets, event types, labels, notify arguments) through the loop's
    own source: the same results as the interpreter, or the same refusal."""
    model, events, contacts, as_of = scenario

    def f(text: str) -> str:
        return prefix + text

    g = f if names_too else (lambda name: name)
    table = _hostile(lower(model, "0" * 64), f, g)
    json.dumps(table)
    events = reference.processing_order(
        [_hostile_event(e, f, g) for e in _without_ids(events)])
    contacts = {c: _hostile_props(p, f, g) for c, p in contacts.items()}
    interpreted, compiled = _run_both(table, events, contacts, as_of)
    assert compiled == interpreted


def _both(text: str, events, contacts=None, as_of=None):
    table = compile_text(text).table
    engine = Engine(table)
    got = engine.run(events, contacts, as_of=as_of)
    assert _loop_used(engine)
    assert got == Engine(table, compiled=False).run(events, contacts, as_of=as_of)
    return got


def test_the_first_point_runs_without_an_award():
    # the profile alone meets the trigger: it fires at the contact's first event, though
    # that event matches no rule (a loop testing the trigger only after awards would fire
    # it at the as-of point, a day later)
    events = [Event("a", "visit", START, "docs", seq=0),
              Event("a", "visit", START + DAY, "docs", seq=1)]
    got = _both('if title = "CEO" +90\nvisit pricing +5\nwhen score >= 80 notify sales\n',
                events, {"a": {"title": "CEO"}})
    assert got[0]["actions"] == [{"at": "2026-01-01T00:00:00Z", "action": "notify",
                                  "arg": "sales"}]


def test_caps_resets_stages_and_require():
    text = ('require employees >= 10\nscore lead 0..100\nif employees >= 200 +15\n'
            'visit "blog/*" +10 at most 2\nemail_open +20 at most 1 per day\n'
            'submit form +30 once\nstage MQL when lead >= 40\nstage SQL when lead >= 60\n'
            'when lead >= 50 notify sales, reset lead\nwhen lead >= 30 tag "warm" each time\n')
    contacts = {"big": {"employees": 500}, "small": {"employees": 3}}
    kinds = [("visit", "blog/a"), ("visit", "blog/b"), ("visit", "blog/c"),
             ("email_open", "m"), ("email_open", "m"), ("submit", "form"),
             ("submit", "form"), ("visit", "home")]
    events = []
    for n in range(60):
        event, target = kinds[n % len(kinds)]
        events.append(Event(("big", "small", "none")[n % 3], event, START + n * DAY // 5,
                            target, seq=n))
    got = _both(text, events, contacts)
    by = {r["contact"]: r for r in got}
    assert by["small"]["scores"] == {"lead": None}
    assert any(a["action"] == "notify" for a in by["big"]["actions"])
    assert by["big"]["stage"] is not None
    # an as-of time before the last events: they make their contacts, nothing else
    early = _both(text, events, contacts, as_of=START + 3 * DAY)
    assert [r["contact"] for r in early] == [r["contact"] for r in got]
    assert early != got


def test_an_id_after_the_probes_and_an_unknown_rule_list_fall_back_equal():
    text = ('visit "a*" +1 at most 3\nvisit "*b" +2 at most 1 per day\nvisit "*c*" +4\n'
            'visit "d*" +8 once\nwhen score >= 9 notify sales\n')
    targets = ["ab", "acb", "dcb", "a", "dab", "xcx", "ab", "dcab"]
    events = [Event("pq"[n % 2], "visit", START + n * DAY // 7, targets[n % 8], seq=n)
              for n in range(40)]
    _both(text, events)  # four patterns: some rule lists get a handler, the loop hands over
    events[7] = dataclasses.replace(events[7], id="x")
    events[9] = dataclasses.replace(events[9], id="x")  # a duplicate of event 7
    table = compile_text(text).table
    got = Engine(table).run(events)
    assert got == Engine(table, compiled=False).run(events)
    assert got != Engine(table).run(_without_ids(events))


def test_an_action_log_takes_the_loop_with_the_state_objects():
    table = compile_text('visit pricing +50\nwhen score >= 80 notify sales\n').table
    events = [Event("a", "visit", START + n, "pricing", seq=n) for n in range(3)]
    runs = []
    for compiled in (True, False):
        engine = Engine(table, compiled=compiled)
        log = ActionLog(engine)
        runs.append((list(engine.iter_run(events, actions=log)), log.records()))
    assert runs[0] == runs[1] and runs[0][1]


def test_the_dispatch_by_type_alone_where_its_rules_ignore_the_target(monkeypatch):
    """The loop looks up a type whose rules name no target by its name alone (one code for
    every target, None too), a type whose rules do by name then target; a bound of three
    entries clears the cache midway (events and rows alike give the interpreter's results)."""
    import runtime.compiled_timeorder as timeorder

    monkeypatch.setattr(timeorder, "_CACHE_LIMIT", 3)
    text = ('visit pricing +5\nvisit "blog/*" +3 at most 2\nemail_open +1 at most 2 per day\n'
            'signup +2 once\nwhen score >= 12 notify sales\n')
    kinds = [("visit", "pricing"), ("email_open", "m1"), ("visit", "blog/a"),
             ("email_open", None), ("visit", None), ("signup", "x"), ("visit", "home"),
             ("email_open", "m2"), ("other", "pricing"), ("visit", "blog/b")]
    events = [Event("pqr"[n % 3], kinds[n % len(kinds)][0], START + n * DAY // 9,
                    kinds[n % len(kinds)][1], seq=n) for n in range(70)]
    table = compile_text(text).table
    engine = Engine(table)
    assert engine.table.targets_matter("visit")
    assert not engine.table.targets_matter("email_open")
    assert not engine.table.targets_matter("other")  # no rule at all
    got = _both(text, events)
    assert got == Engine(table, compiled=False).run(iter(events))  # event by event
    rows = [(e.contact, e.event, e.at, e.target, e.id, None) for e in events]
    engine = Engine(table)
    assert engine.run(InFileOrder(rows=rows)) == got
    cache = engine._time_order._namespace["TCACHE"]
    assert set(cache) <= {"visit", "email_open", "signup", "other"} and len(cache) <= 3
    assert all(type(code) is (dict if event == "visit" else int)
               for event, code in cache.items())



def test_a_target_neither_text_nor_none_is_refused_as_before():
    """An event type whose rules ignore the target is found by its name alone, yet an
    unhashable target is refused as the engine refuses it elsewhere (it named it before
    the loop's lookup stopped hashing targets of such types); a hashable one is scored."""
    table = compile_text('email_open +1\nvisit pricing +2\n').table
    events = [Event("a", "email_open", START + n, "m" if n < 2 else ["x"], seq=n)
              for n in range(4)]
    for compiled in (True, False):
        with pytest.raises(TypeError, match="Event.target must be text or None"):
            Engine(table, compiled=compiled).run(events)
    events[3] = dataclasses.replace(events[3], target=5)
    events[2] = dataclasses.replace(events[2], target=None)
    engine = Engine(table)
    assert engine.run(events) == Engine(table, compiled=False).run(events)
    assert _loop_used(engine)
