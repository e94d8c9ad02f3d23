"""Reachability lints (W130-W135, compiler/reach.py): found in mutations of the shipped
examples, never on a shipped model, and sound: what they call unreachable never happens on
generated models and histories."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import model_strategies as ms
from compiler.check import check_model
from compiler.lower import lower
from compiler.pipeline import check_paths, compile_text
from compiler.reach import score_maxima
from compiler.resolve import resolve
from runtime import Engine

ROOT = Path(__file__).resolve().parent.parent
REACH = {"W130", "W131", "W132", "W133", "W134", "W135"}
SHIPPED = sorted([*ROOT.glob("examples/**/*.score"), *ROOT.glob("tests/conformance/*/model.score"),
                  *ROOT.glob("benchmarks/*.score")])


def test_no_reachability_warning_on_a_shipped_model():
    report = check_paths([str(p) for p in SHIPPED])
    assert len(SHIPPED) >= 20
    assert [str(d) for d in report.diagnostics if d.code in REACH] == []


def _found(name: str, old: str, new: str) -> list[tuple[str, int]]:
    text = (ROOT / "examples" / name).read_text(encoding="utf-8")
    assert old in text, old
    result = compile_text(text.replace(old, new, 1), f"examples/{name}")
    assert not any(d.is_error for d in result.diagnostics), result.diagnostics
    return [(d.code, d.span.line) for d in result.diagnostics if d.code in REACH]


def _line(name: str, text: str) -> int:
    lines = (ROOT / "examples" / name).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(text))


B2B = "b2b_saas.score"
HUBSPOT = "hubspot_port.score"


def test_a_later_stage_that_asks_less_hides_the_earlier_one():
    found = _found(B2B, "stage SQL when engagement >= 80", "stage SQL when engagement >= 40")
    assert found == [("W130", _line(B2B, "stage MQL"))]


def test_a_trigger_on_a_stage_never_reached():
    found = _found(HUBSPOT, "stage SQL when stage is MQL and engagement >= 80",
                   "stage SQL when priority in (A1, A2, B1, C1)")
    assert found == [("W130", _line(HUBSPOT, "stage MQL")),
                     ("W131", _line(HUBSPOT, "when stage is MQL notify sales"))]


def test_a_stage_that_needs_a_stage_never_reached():
    found = _found(HUBSPOT, 'when stage is MQL notify sales',
                   'stage Won when stage is MQL and fit >= 10\nwhen stage is MQL notify sales')
    assert found == []  # MQL is reachable: so is Won
    found = _found(HUBSPOT, "stage SQL when stage is MQL and engagement >= 80",
                   "stage SQL when priority in (A1, A2, B1, C1)\n"
                   "stage Won when stage is MQL and fit >= 10")
    assert ("W130", _line(HUBSPOT, "stage SQL") + 1) in found


def test_a_trigger_written_twice():
    found = _found(B2B, 'when tier is D tag "not-a-fit"',
                   'when tier is D tag "not-a-fit"\nwhen tier is D tag "not-a-fit"')
    assert found == [("W132", _line(B2B, 'when tier is D') + 1)]
    # the same condition with its operands in another order is the same trigger
    found = _found(B2B, 'when tier is D tag "not-a-fit"',
                   'when tier is D tag "not-a-fit"\n'
                   'when tier is D and engagement >= 10 tag "x"\n'
                   'when engagement >= 10 and tier is D tag "x"')
    assert found == [("W132", _line(B2B, 'when tier is D') + 2)]


def test_a_band_above_what_the_profile_rules_give():
    found = _found(B2B, "grade tier by fit: A >= 30", "grade tier by fit: A >= 40")
    assert found == [("W133", _line(B2B, "grade tier"))]
    found = _found(B2B, "when tier is D tag", "when fit >= 36 notify ceo\nwhen tier is D tag")
    assert found == [("W133", _line(B2B, "when tier is D"))]


def test_an_uncapped_rule_lifts_the_limit():
    assert _found(B2B, "grade tier by fit: A >= 30",
                  "visit pricing +1 fit\ngrade tier by fit: A >= 40") == []
    assert _found(B2B, "grade tier by fit: A >= 30",
                  "visit pricing +1 fit at most 3 per day\ngrade tier by fit: A >= 40") == []
    assert _found(B2B, "grade tier by fit: A >= 30",
                  "visit pricing +5 fit once\ngrade tier by fit: A >= 40") == []


def test_an_expected_action_no_trigger_has():
    found = _found(B2B, "    expect no notify sales", "    expect no notify salse")
    assert found == [("W134", _line(B2B, "    expect no notify sales"))]
    found = _found(B2B, '    expect tag "not-a-fit"', '    expect tag "not-fit"')
    assert found == [("W134", _line(B2B, '    expect tag "not-a-fit"'))]


def test_a_score_that_no_rule_awards():
    found = _found(B2B, "score fit\n", "score fit\nscore intent\n")
    assert found == []  # declared only: W107's to report
    text = (ROOT / "examples" / B2B).read_text(encoding="utf-8")
    text = text.replace("score fit\n", "score fit\nscore intent\n").replace(
        "stage SQL when engagement >= 80", "stage SQL when engagement >= 80 and intent >= 1")
    result = compile_text(text, "examples/b2b_saas.score")
    codes = [(d.code, d.span.line) for d in result.diagnostics]
    assert ("W135", _line(B2B, "stage SQL") + 1) in codes
    assert ("W107", _line(B2B, "score fit") + 1) in codes


# --------------------------------------------------------------------------- soundness

SOUND = settings(max_examples=150, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SOUND
@given(ms.scenarios(ms.models(absence=True), max_events=20))
def test_what_the_lints_call_unreachable_never_happens(scenario):
    """W130 stages are never entered and W131 triggers never fire, on any history; no score
    ever exceeds the most its rules can give (W133)."""
    model, events, contacts, as_of = scenario
    diagnostics = check_model(model)
    if any(d.is_error for d in diagnostics):
        return
    table = lower(model, "0" * 64)
    stages = {re.search(r"stage `([^`]+)`", d.message).group(1)
              for d in diagnostics if d.code == "W130"}
    triggers = {index for index, statement in enumerate(
        s for s in model.statements if type(s).__name__ == "Trigger")
        if any(d.code == "W131" and d.span == statement.span and statement.span is not None
               for d in diagnostics)}
    symbols, _ = resolve(model)
    maxima = score_maxima(model, symbols)
    engine = Engine(table)
    for contact in sorted({e.contact for e in events} | set(contacts)):
        explained = engine.explain(contact, events, contacts, as_of=as_of).to_json()
        assert not {change["to"] for change in explained["stages"]} & stages
        for item in explained["stages"] + explained["actions"]:
            for name, value in item["values"].items():
                if name in maxima and isinstance(value, int) and not isinstance(value, bool):
                    assert value <= maxima[name].value, (name, value, maxima[name])
        fired = {action["trigger"] for action in explained["actions"]}
        assert not fired & {table["triggers"][i]["id"] for i in triggers}


WITH_DATA = sorted(p for p in ROOT.glob("examples/*.score")
                   if (p.parent / "data" / p.stem / "events.jsonl").exists())


@pytest.mark.parametrize("path", WITH_DATA, ids=lambda p: p.name)
def test_shipped_models_stay_within_their_maxima_on_their_data(path):
    """The maxima on real data: every score of every contact of the example's sample."""
    data = path.parent / "data" / path.stem
    from compiler.run.readers import read_contacts, read_events
    from runtime.events import Event

    compiled = compile_text(path.read_text(encoding="utf-8"), str(path))
    symbols, _ = resolve(compiled.model)
    maxima = score_maxima(compiled.model, symbols)
    events = [e for e in read_events(str(data / "events.jsonl")) if isinstance(e, Event)]
    contacts = read_contacts(str(data / "contacts.jsonl"))[0]
    for result in Engine(compiled.table).run(events, contacts):
        for name, value in result["scores"].items():
            assert value is None or value <= maxima[name].value
