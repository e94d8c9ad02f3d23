"""`Engine.run(..., observer=...)`: an observer sees every step and changes no result."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import model_strategies as ms
from compiler.lower import lower
from runtime import Engine
from runtime.observe import Observer


class Recorder(Observer):
    def __init__(self):
        self.calls = []

    def start(self, state, engine):
        self.calls.append(("start", state.key, state.scored))

    def award(self, rule, at, capped, points):
        self.calls.append(("award", rule.id, at, capped))

    def absence(self, rule, item, capped):
        self.calls.append(("absence", rule.id, item[0], capped))

    def stage(self, old, new, at, live):
        self.calls.append(("stage", old, new, at))

    def fire(self, index, at, live):
        self.calls.append(("fire", index, at))

    def result(self, contact_id, result):
        self.calls.append(("result", contact_id))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ms.scenarios())
def test_an_observer_changes_nothing_and_sees_what_explain_sees(scenario):
    model, events, contacts, as_of = scenario
    engine = Engine(lower(model, "0" * 64))
    recorder = Recorder()
    assert engine.run(events, contacts, as_of=as_of, observer=recorder) == \
        engine.run(events, contacts, as_of=as_of)
    for contact in sorted({e.contact for e in events} | set(contacts)):
        explained = engine.explain(contact, events, contacts, as_of=as_of).to_json()
        own = _calls_of(recorder.calls, contact)
        awards = [c for c in own if c[0] in ("award", "absence")]
        assert [c[1] for c in awards] == [a["rule"] for a in explained["awards"]]
        assert [c[-1] for c in awards] == [a["status"] == "capped" for a in explained["awards"]]
        assert sum(1 for c in own if c[0] == "stage") == len(explained["stages"])
        fired = [c for c in own if c[0] == "fire"]
        assert len({(c[1], c[2]) for c in fired}) == len(
            {(a["trigger"], a["at"]) for a in explained["actions"]})


def _calls_of(calls, contact):
    own, inside = [], False
    for call in calls:
        if call[0] == "start":
            inside = call[1] == contact
        elif call[0] == "result":
            inside = False
        elif inside:
            own.append(call)
    return own


def test_an_observer_of_another_kind_is_refused_before_anything_runs():
    from dsl.parser import parse_text

    engine = Engine(lower(parse_text("visit +1\n").model, "0" * 64))
    with pytest.raises(TypeError, match="runtime.observe.Observer"):
        engine.run([], {}, as_of=0, observer=object())
