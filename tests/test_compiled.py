"""The compiled evaluator (runtime/compiled.py) against the interpreted engine and the reference.

`Engine(table)` runs Python source written for its table; `Engine(table, compiled=False)`
interprets the table. Properties: on generated v1 and v2 models and streams both equal the
reference interpreter (batch on sorted, shuffled and one-shot input; streaming with the actions
returned on the way); table values reach the source only through `runtime.codegen.literal`,
whose output is one constant expression equal to the value; a table whose every name, label,
target and text is hostile (quotes, newlines, `__import__`, braces, surrogates) and whose
numbers are huge runs the same compiled and interpreted, without running any of that text.
"""
from __future__ import annotations

import ast as pyast
import dataclasses
import json
import math
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import model_strategies as ms
import reference
from compiler.lower import lower
from dsl import ast
from runtime import Engine, LateEventError, TableError
from runtime.codegen import literal

PROPERTY = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def table_of(model: ast.Model) -> dict:
    return lower(model, "0" * 64)


def _stream(engine: Engine, events, as_of):
    """Events one at a time in processing order (none after T), then advance(T)."""
    until = as_of if as_of is not None else max((e.at for e in events), default=None)
    emitted = []
    for event in reference.processing_order(events):
        if until is None or event.at <= until:
            emitted += engine.process(event)
    if until is not None:
        emitted += engine.advance(until)
    return emitted


# --------------------------------------------------------------------------- equivalence


@PROPERTY
@given(ms.scenarios(v2=True))
def test_compiled_equals_interpreted_equals_reference_v2(scenario):
    model, events, contacts, as_of = scenario
    table = table_of(model)
    expected = reference.interpret(model, events, contacts, as_of)
    assert Engine(table, compiled=False).run(events, contacts, as_of=as_of) == expected
    assert Engine(table).run(events, contacts, as_of=as_of) == expected


@PROPERTY
@given(ms.scenarios())
def test_compiled_equals_interpreted_equals_reference_v1(scenario):
    model, events, contacts, as_of = scenario
    table = table_of(model)
    expected = reference.interpret(model, events, contacts, as_of)
    assert Engine(table, compiled=False).run(events, contacts, as_of=as_of) == expected
    assert Engine(table).run(events, contacts, as_of=as_of) == expected


@PROPERTY
@given(ms.scenarios(ms.models(absence=True, v2=True), max_events=24, v2=True),
       st.randoms(use_true_random=False))
def test_compiled_on_shuffled_sorted_and_one_shot_input(scenario, rng: random.Random):
    """One busy contact: the batch loop meets ties, duplicates and out-of-order input."""
    model, events, contacts, as_of = scenario
    events = [dataclasses.replace(e, contact="c-1") for e in events]
    table = table_of(model)
    expected = reference.interpret(model, events, contacts, as_of)
    shuffled = list(events)
    rng.shuffle(shuffled)
    engine = Engine(table)
    assert engine.run(shuffled, contacts, as_of=as_of) == expected
    ordered = reference.processing_order(events)
    assert engine.run(ordered, contacts, as_of=as_of) == expected
    assert engine.run(iter(ordered), contacts, as_of=as_of) == expected
    assert list(engine.iter_run(iter(ordered), contacts, as_of=as_of)) == expected


@PROPERTY
@given(ms.scenarios(v2=True))
def test_compiled_streaming_equals_interpreted_streaming(scenario):
    model, events, contacts, as_of = scenario
    table = table_of(model)
    compiled, interpreted = Engine(table, contacts), Engine(table, contacts, compiled=False)
    assert _stream(compiled, events, as_of) == _stream(interpreted, events, as_of)
    everyone = sorted({e.contact for e in events} | set(contacts))
    assert [compiled.state(c) for c in everyone] == [interpreted.state(c) for c in everyone]
    assert _comparable(compiled.snapshot(), table) == _comparable(interpreted.snapshot(), table)


def _comparable(snapshot: dict, table: dict) -> str:
    """A snapshot as JSON; without absence rules the processing count (which only orders
    absences) is not kept up by the compiled path, so neither is the checksum compared."""
    text = json.dumps({k: v for k, v in snapshot.items() if k != "checksum"}, sort_keys=True)
    if any(rule["kind"] == "absence" for rule in table["rules"]):
        return text
    return re.sub(r'"order": [0-9]+', '"order": 0', text)


def test_a_one_shot_iterator_out_of_time_order_is_refused_by_name():
    from compiler.pipeline import compile_text
    from runtime import Event

    table = compile_text('visit pricing +5\n').table
    late = [Event("c-1", "visit", 2_000_000_000_000_000, "pricing"),
            Event("c-1", "visit", 1_000_000_000_000_000, "pricing", seq=1)]
    with pytest.raises(LateEventError, match="'c-1'.*one-shot iterator"):
        Engine(table).run(iter(late))
    assert Engine(table).run(late) == Engine(table, compiled=False).run(late)


def test_features_the_model_does_not_use_leave_no_code():
    from compiler.pipeline import compile_text

    source = Engine(compile_text('visit pricing +5 at most 1 per day\n').table).program.source
    for absent in ("awards_total(", "add_award(", "flush(", "answer(", "start_spell(",
                   "st.fired", "st.stage ="):
        assert absent not in source
    decayed = compile_text('visit pricing +5\ndecay score 10% every 7 days\n'
                           'stage MQL when score >= 5\n').table
    assert "awards_total(" in Engine(decayed).program.source


# --------------------------------------------------------------------------- the quoting function

_HOSTILE_TEXTS = ["'", '"', "'''", '"""', "\\", "\\'", "\n", "\r\n", "\u2028", "\x00",
                  "{x}", "%s", "__import__('os').system('false')", "'); raise SystemExit #",
                  "\ud800", "\U0001f600", "\\N{BULLET}", "# comment", "\t", "s1", "st.sums"]
json_scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(), st.integers(-10 ** 6000, 10 ** 6000),
    st.sampled_from([10 ** 4400, -(10 ** 4400), 2 ** 63, -(2 ** 63) - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(), st.sampled_from(_HOSTILE_TEXTS),
    st.lists(st.sampled_from(_HOSTILE_TEXTS), max_size=4).map("".join))


def _constant_only(node) -> bool:
    """An expression made of constants, unary minus and `-` alone (no names, calls, ...)."""
    if isinstance(node, pyast.Expression):
        return _constant_only(node.body)
    if isinstance(node, pyast.Constant):
        return True
    if isinstance(node, pyast.UnaryOp) and isinstance(node.op, pyast.USub):
        return _constant_only(node.operand)
    if isinstance(node, pyast.BinOp) and isinstance(node.op, pyast.Sub):
        return _constant_only(node.left) and _constant_only(node.right)
    return False


@settings(max_examples=500, deadline=None)
@given(json_scalars)
def test_literal_is_one_constant_expression_equal_to_the_value(value):
    source = literal(value)
    assert _constant_only(pyast.parse(source, mode="eval"))
    back = eval(compile(source, "<literal>", "eval"), {"__builtins__": {}})
    assert type(back) is type(value)
    if type(value) is float and math.isnan(value):
        assert math.isnan(back)
    else:
        assert back == value
        if type(value) is float:
            assert math.copysign(1, back) == math.copysign(1, value)  # -0.0 stays -0.0


@pytest.mark.parametrize("value", [[1], {"a": 1}, (1,), b"x", object(), 1j])
def test_literal_refuses_what_a_table_does_not_hold(value):
    with pytest.raises(TypeError, match="not a value a rule table holds"):
        literal(value)


# --------------------------------------------------------------------------- hostile tables

# strings that are the table's structure, not user text
_STRUCTURE = {("rules", "kind"), ("limit", "per"), ("decay", "percent"), ("source", "file"),
              ("source", "sha256"), ("actions", "action")}
# keys whose text is a name or a label of the language: the table's schema holds them to
# `[^\W\d]\w*` (names) or `\w+` (labels), so a hostile one is refused (runtime/schema.py)
_NAMES = {"name", "score", "group", "prop", "else", "by"}


def _hostile_condition(form, f, g):
    if not isinstance(form, list):
        return form
    head = form[0]
    if head in ("and", "or", "not"):
        return [head] + [_hostile_condition(part, f, g) for part in form[1:]]
    ref, operand = form[1], form[2]
    ref = [ref[0]] + [g(part) for part in ref[1:]]  # ["stage"] has no name
    if isinstance(operand, list):
        operand = [f(v) if isinstance(v, str) else v for v in operand]
    elif isinstance(operand, str):
        operand = f(operand)
    return [head, ref, operand]


def _hostile(value, f, g, parent=None, key=None):
    """The table with every free text t (event types, targets, texts, action arguments, ids)
    replaced by f(t) and every name and label n by g(n)."""
    if key in ("condition", "where", "require"):
        return _hostile_condition(value, f, g)
    if key == "bands":
        return [[g(label), threshold] for label, threshold in value]
    if key == "buckets" and value is not None:
        return [[g(label), [f(cell) for cell in cells]] for label, cells in value]
    if key in ("matrix", "of") and value is not None:
        return [g(part) if key == "matrix" else part for part in value[:1]] + \
            [g(part) for part in value[1:]]
    if key == "actions":
        return [dict(a, arg=(g if a["action"] == "reset" else f)(a["arg"])) for a in value]
    if isinstance(value, dict):
        renamed_keys = key in ("dispatch", "answers", "exact", "cells") and parent != "targets" \
            and parent != "missing_targets"
        return {(f(k) if renamed_keys else k): _hostile(v, f, g, key, k)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_hostile(v, f, g, parent, key) for v in value]
    if isinstance(value, str) and (parent, key) not in _STRUCTURE and key != "timezone":
        return (g if key in _NAMES else f)(value)
    return value


def _hostile_props(props: dict, f, g) -> dict:
    return {g(k): f(v) if isinstance(v, str) else v for k, v in props.items()}


def _hostile_event(event, f, g):
    return dataclasses.replace(event, event=f(event.event),
                               target=None if event.target is None else f(event.target),
                               props=_hostile_props(event.props, f, g))


hostile_prefixes = st.one_of(st.sampled_from(_HOSTILE_TEXTS),
                             st.lists(st.sampled_from(_HOSTILE_TEXTS), min_size=2,
                                      max_size=5).map("".join),
                             st.text(min_size=1, max_size=8),
                             st.from_regex(r"[^\W\d]\w{0,4}", fullmatch=True))
_NAME = re.compile(r"[^\W\d]\w*")


def _run_both(table, events, contacts, as_of):
    """Both paths' results, or both paths' TableError messages."""
    outcomes = []
    for compiled in (False, True):
        try:
            outcomes.append(Engine(table, compiled=compiled).run(events, contacts, as_of=as_of))
        except TableError as exc:
            outcomes.append(("refused", str(exc)))
    return outcomes


@PROPERTY
@given(ms.scenarios(v2=True), hostile_prefixes, st.booleans())
def test_hostile_tables_run_the_same_compiled_and_interpreted(scenario, prefix, names_too):
    """Hostile free text (targets, event types, texts, notify arguments) runs the same on both
    paths; a hostile name or label is refused by both alike (a table is untrusted input,
    its schema holds names to the language's), one that is a name runs the same."""
    model, events, contacts, as_of = scenario

    def f(text: str) -> str:
        return prefix + text

    g = f if names_too else (lambda name: name)
    table = _hostile(table_of(model), f, g)
    json.dumps(table)  # still a table that travels
    events = [_hostile_event(e, f, g) for e in events]
    contacts = {c: _hostile_props(p, f, g) for c, p in contacts.items()}
    interpreted, compiled = _run_both(table, events, contacts, as_of)
    assert compiled == interpreted
    surrogate = any("\ud800" <= char <= "\udfff" for char in prefix)
    refused = surrogate or (names_too and not _NAME.fullmatch(prefix))
    if refused:  # refused exactly when the schema says so, with the field named
        assert isinstance(interpreted, tuple) and "` must be " in interpreted[1], (prefix,
                                                                                interpreted)
        return
    assert not isinstance(interpreted, tuple), interpreted
    for result in interpreted:  # the table's texts reached the results as they are
        assert all(name.startswith(prefix) for name in result["scores"]) == names_too or \
            not result["scores"]
        assert all(action["arg"].startswith(prefix) for action in result["actions"]
                   if action["action"] != "reset")


_BIG = 10 ** 5000  # past Python's 4300-digit limit on decimal text


_EVIL = "'); __import__('os').system('false'); ('\n\"\"\"\\\u2028{0}"


def _hand_made_table() -> dict:
    from compiler.pipeline import compile_text

    return compile_text(
        "score engagement 0..100\n"
        "visit pricing +5\n"
        'visit "blog/*" +1 at most 2 per day\n'
        "grade tier by engagement: A >= 10, B >= 1, else C\n"
        "stage MQL when engagement >= 5\n"
        "when tier is A notify sales\n").table


@pytest.mark.parametrize("field, change", [
    ("scores[0].high", lambda t: t["scores"][0].update(high=_BIG)),
    ("rules[0].points", lambda t: t["rules"][0].update(points=_BIG // 3)),
    ("grades[0].bands[0][1]", lambda t: t["grades"][0].update(bands=[["A", _BIG // 4]])),
    ("stages[0].condition[2]",
     lambda t: t["stages"][0].update(condition=[">=", ["score", "engagement"], -_BIG])),
    ("stages[0].name", lambda t: t["stages"][0].update(name=_EVIL)),
    ("grades[0].else", lambda t: t["grades"][0].update(**{"else": _EVIL + "else"})),
    ("grades[0].bands[0][0]", lambda t: t["grades"][0].update(bands=[[_EVIL, 10]])),
])
def test_huge_numbers_and_hostile_labels_in_a_hand_made_table_are_refused_alike(field, change):
    """Numbers beyond 64 bits (E008 refuses them in a model) and labels that are no labels of
    the language: refused on load by both paths, the field named."""
    table = _hand_made_table()
    change(table)
    for compiled in (True, False):
        with pytest.raises(TableError, match=re.escape(f"`{field}` must be")):
            Engine(table, compiled=compiled)


def test_hostile_texts_in_a_hand_made_table_run_the_same_and_stay_literals():
    from runtime import Event

    table = _hand_made_table()
    evil = _EVIL
    table["scores"][0]["high"] = 2 ** 63 - 1
    table["rules"][0]["points"] = 2 ** 62
    table["rules"][0]["targets"]["exact"] = [evil]
    table["dispatch"]["visit"]["exact"] = {evil: [0]}
    table["stages"][0]["condition"] = [">=", ["score", "engagement"], -(2 ** 63)]
    table["triggers"][0]["condition"] = ["or", ["=", ["grade", "tier"], evil],
                                         ["=", ["grade", "tier"], "A"]]
    table["triggers"][0]["actions"][0]["arg"] = evil
    events = [Event("c-1", "visit", 1_700_000_000_000_000 + i, evil if i % 2 else "blog/x",
                    seq=i) for i in range(6)]
    compiled = Engine(table)
    assert compiled.run(events) == Engine(table, compiled=False).run(events)
    result = compiled.run(events)[0]
    assert result["scores"]["engagement"] == 2 ** 63 - 1  # 3 * 2^62 + 2 (no wrap), clamped
    assert result["grades"]["tier"] == "A" and result["stage"] == "MQL"
    assert result["actions"][0]["arg"] == evil
    assert evil not in compiled.program.source.replace(literal(evil), "")


def test_an_operator_outside_the_language_never_reaches_the_source():
    from runtime.codegen import Refs, condition

    refs = Refs(value=lambda *_: ("s0", None, None), grade=lambda _: "r0")
    with pytest.raises(ValueError, match="unknown operator"):
        condition(["< 1 or __import__('os') or", ["score", "x"], 1], refs)


def test_contact_by_contact_locals_survive_handlers_flush_and_the_action_log():
    # more than three patterns of one event: some rule lists get a handler written on first
    # sight, which reads and changes the state the `groups` loop holds in locals
    from compiler.pipeline import compile_text
    from runtime import ActionLog, Event

    table = compile_text(
        'visit "a*" +1 at most 3\nvisit "*b" +2 at most 1 per day\nvisit "*c*" +4\n'
        'visit "d*" +8 once\nemail_sent without email_open within 1 hours -3\n'
        'stage MQL when score >= 6\nstage SQL when score >= 12\n'
        'when score >= 9 notify sales, reset score\nwhen stage is MQL tag "warm"\n').table
    day = 86_400_000_000
    targets = ["ab", "acb", "dcb", "a", "dab", "xcx", "ab", "dcab"]
    events = []
    for n, contact in enumerate(["p", "q", "p", "r", "q", "p"] * 6):
        at = 10**15 + n * day // 7
        events.append(Event(contact, "visit", at, targets[n % len(targets)], seq=2 * n,
                            id=f"i{n % 29}"))
        events.append(Event(contact, "email_sent", at, seq=2 * n + 1))
    runs = []
    for compiled in (True, False):
        engine = Engine(table, compiled=compiled)
        log = ActionLog(engine)
        runs.append((list(engine.iter_run(events, actions=log)), log.records()))
        if compiled:
            assert engine.program.handlers  # the case this test is about was met
    assert runs[0] == runs[1]
    assert runs[0][1] and any(r["actions"] for r in runs[0][0])


def test_written_out_absences_results_and_settled_triggers_equal_the_interpreter():
    # the batch loop's own code for: an absence rule capped per local day (flush and
    # answers written for the table), a grade without `else` in the result, a once
    # trigger on a profile-only grade (settled per contact: a contact at the last stage
    # whose tier is not D skips its points), a decaying score
    from compiler.pipeline import compile_text
    from runtime import Event

    table = compile_text(
        'timezone "Europe/Berlin"\nscore engagement 0..100\nscore fit\n'
        'visit pricing +15\nvisit home +5 at most 1 per day\nemail_open +1 at most 2 per day\n'
        'email_sent without email_open within 2 hours -5 at most 1 per day\n'
        'decay engagement 10% every 3 days\n'
        'if employees >= 200 +15 fit\nif employees < 10 -10 fit\n'
        'grade tier by fit: A >= 15, B >= 0\n'
        'stage MQL when engagement >= 20\nstage SQL when engagement >= 40\n'
        'when stage is SQL notify sales\nwhen fit < 0 tag "small"\n').table
    rng = random.Random(12)
    hour = 3_600_000_000
    contacts = {f"c{k}": {"employees": rng.choice([5, 50, 500])} for k in range(12)}
    events = []
    for n in range(600):
        contact = f"c{rng.randrange(12)}"
        kind, target = rng.choice([("visit", "pricing"), ("visit", "home"),
                                   ("email_open", "m1"), ("email_sent", "m1"),
                                   ("email_sent", "m2"), ("email_open", "m2"),
                                   ("click", "x")])
        events.append(Event(contact, kind, 1_767_225_600_000_000 + n * hour // 3 +
                            rng.randrange(hour), target, seq=n))
    events.sort(key=lambda e: (e.at, e.seq))
    engine = Engine(table)
    assert engine.program.result is not None and "c_settled" in engine.program.source
    assert "flush_absence(" in engine.program.source
    expected = Engine(table, compiled=False).run(events, contacts)
    assert engine.run(events, contacts) == expected
    assert engine.run(iter(events), contacts) == expected
    assert {r["stage"] for r in expected} >= {"SQL"}
    assert any(r["grades"] == {} for r in expected) or \
        any("tier" not in r["grades"] for r in expected)


# --------------------------------------------------------------------------- bounded decay
#
# The contact-by-contact loop skips a point where a decay step is due when every live stage
# and once trigger is false at an upper bound of the decayed total (the sum of the positive
# contributions, Program._bounded_slots). Each model below has a point where that bound is
# tight (equal to the total, or equal to the threshold): a bound one step or one point too
# low, a `>` for a `>=`, or an award left out of it would skip a point that moves a stage.

_DAY = 86_400_000_000
_T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z


def _bounded_run(text: str, rows, contacts=None, as_of=None, bounded=True):
    """Compiled (contact by contact) == interpreted == reference; the results."""
    from compiler.pipeline import compile_text
    from runtime import ActionLog, Event

    compiled = compile_text(text)
    table = compiled.table
    events = [Event(contact, kind, _T0 + at, target, seq=n,
                    props={"amount": target} if type(target) is int else {})
              for n, (contact, kind, at, target) in enumerate(rows)]
    engine = Engine(table)
    assert ("positive_total(" in engine.program.source) is bounded
    expected = reference.interpret(compiled.model, events, contacts, as_of)
    assert Engine(table, compiled=False).run(events, contacts, as_of=as_of) == expected
    assert engine.run(events, contacts, as_of=as_of) == expected
    assert engine.run(list(reversed(events)), contacts, as_of=as_of) == expected
    logs = []  # the action log (values right after each action) alike
    for run_engine in (engine, Engine(table, compiled=False)):
        log = ActionLog(run_engine)
        logs.append((list(run_engine.iter_run(events, contacts, as_of=as_of, actions=log)),
                     log.records()))
    assert logs[0] == logs[1] and logs[0][0] == expected
    return {r["contact"]: r for r in expected}


def test_a_negative_award_that_expires_lifts_the_total_to_the_bound_at_a_point_without_award():
    # -10 expires at day 1, +50 at day 0.5: the total is 40 until day 1, then exactly the
    # bound (50 = the positive contributions) = the threshold; the stage moves at the first
    # point at or after day 1 (exactly at it for `a`, at day 1.2 for `b`), which has no award
    results = _bounded_run(
        "visit pricing +50\nvisit careers -10\nexpire score after 1 days\n"
        "stage MQL when score >= 50\nwhen stage is MQL notify sales\n",
        [(c, "visit", 0, "careers") for c in "ab"] +
        [(c, "visit", _DAY // 2, "pricing") for c in "ab"] +
        [("a", "click", _DAY, None), ("b", "click", _DAY + _DAY // 5, None),
         ("a", "click", 2 * _DAY, None), ("b", "click", 2 * _DAY, None)],
        contacts={"a": {}, "b": {}})
    assert results["a"]["actions"][0]["at"] == "2026-01-02T00:00:00Z"
    assert results["b"]["actions"][0]["at"] == "2026-01-02T04:48:00Z"
    assert results["a"]["stage"] == results["b"]["stage"] == "MQL"


def test_a_negative_award_decays_first_and_the_total_rises_past_the_threshold():
    # -20 at day 0, +60 at day 0.9: 40; at day 1 the -20 decays to -18 (the +60 not yet):
    # 42 >= 42 at a point without award; a bound taken from the total (40) would skip it
    results = _bounded_run(
        "visit pricing +60\nvisit careers -20\ndecay score 10% every 1 days\n"
        "stage MQL when score >= 42\nwhen stage is MQL tag \"warm\"\n",
        [("a", "visit", 0, "careers"), ("a", "visit", 9 * _DAY // 10, "pricing"),
         ("a", "click", _DAY, None), ("a", "click", 3 * _DAY, None)])
    assert results["a"]["actions"] == [{"at": "2026-01-02T00:00:00Z", "action": "tag",
                                        "arg": "warm"}]


def test_after_a_decay_step_the_bound_is_the_positive_part_not_the_total():
    # -10 at day 0, +50 at day 0.5 (decay 10% a day, expiry after 2 days): 40; at day 1.2
    # a step (-9): 41, the bound recomputed there is 50, not 41; at day 2 the -9 expires and
    # the +50 has decayed to 45: 45 >= 45 at a point without award
    results = _bounded_run(
        "visit pricing +50\nvisit careers -10\ndecay score 10% every 1 days\n"
        "expire score after 2 days\nstage MQL when score >= 45\n"
        "when stage is MQL tag \"warm\"\n",
        [("a", "visit", 0, "careers"), ("a", "visit", _DAY // 2, "pricing"),
         ("a", "click", _DAY + _DAY // 5, None), ("a", "click", 2 * _DAY, None),
         ("a", "click", 3 * _DAY, None)])
    assert results["a"]["actions"] == [{"at": "2026-01-03T00:00:00Z", "action": "tag",
                                        "arg": "warm"}]


def test_an_award_at_the_very_time_of_a_decay_step_counts_in_the_bound():
    # +30 at day 0; at day 1 (its first step: 27) another +30: 57 >= 45 at a point where a
    # step is due. The bound must hold the new award (30 + 30), not only the old one; the
    # second stage at 57 too (its threshold equal to the total); then decay, a reset, and
    # awards after it (the bound starts again from 0)
    results = _bounded_run(
        "visit pricing +30\ndecay score 10% every 1 days\n"
        "stage MQL when score >= 45\nstage SQL when score >= 57\n"
        "when stage is SQL notify sales, reset score\n",
        [("a", "visit", 0, "pricing"), ("a", "visit", _DAY, "pricing"),
         ("a", "click", 2 * _DAY, None), ("a", "visit", 2 * _DAY + 1, "pricing"),
         ("a", "visit", 3 * _DAY, "pricing"), ("a", "click", 5 * _DAY, None)])
    assert results["a"]["stage"] == "SQL"
    assert results["a"]["actions"][0]["at"] == "2026-01-02T00:00:00Z"
    # after the reset: +30 at day 2 and at day 3, two steps each by day 5: 24 + 24
    assert results["a"]["scores"]["score"] == 48


def test_points_from_the_event_raise_the_bound_only_when_positive():
    # `by amount`: -20 at day 0, +60 at day 0.9, then a capped-out award (the cap was used
    # at day 0.1: its 5 points, 4 by day 1.1, already counted); at day 1 the -20 decays to
    # -18: 42 + 5 >= 47 at a point without award
    results = _bounded_run(
        "adjust by amount\nvisit pricing +5 at most 1\ndecay score 10% every 1 days\n"
        "stage MQL when score >= 47\nwhen stage is MQL tag \"warm\"\n",
        [("a", "adjust", 0, -20), ("a", "visit", _DAY // 10, "pricing"),
         ("a", "adjust", 9 * _DAY // 10, 60),
         ("a", "visit", _DAY - 1, "pricing"), ("a", "visit", _DAY, "pricing"),
         ("a", "click", 2 * _DAY, None)])
    assert results["a"]["actions"] == [{"at": "2026-01-02T00:00:00Z", "action": "tag",
                                        "arg": "warm"}]


def test_conditions_a_falling_total_can_make_true_are_never_bounded():
    # `<` (and any `not`, grade or each-time trigger on the score) can turn true when the
    # total falls at a decay step: no bound, and the points run as before
    results = _bounded_run(
        "visit pricing +30\ndecay score 50% every 1 days\n"
        "grade heat by score: hot >= 20, else cold\n"
        "stage MQL when score >= 25\nstage SQL when not score < 28 and score > 1000\n"
        "when score < 10 tag \"cold\"\nwhen heat is cold tag \"cooled\"\n",
        [("a", "visit", 0, "pricing"), ("a", "click", _DAY, None),
         ("a", "click", 2 * _DAY, None), ("a", "click", 3 * _DAY, None)],
        bounded=False)
    assert [a["arg"] for a in results["a"]["actions"]] == ["cooled", "cold"]


# The contact-by-contact loop keeps the answer of a bound test that found every live stage
# and once trigger false (`c_quiet`) until something the test reads changes. Each model
# below changes one such thing after a quiet point and before a point where the stage must
# move: an answer kept one change too long would leave the stage behind.


def test_a_quiet_bound_is_forgotten_when_another_score_a_stage_reads_gets_points():
    # engagement +20 at day 0 (halved every day), then steps due from day 1: at day 1.5 the
    # bound 20 >= 10 but clicks < 1: quiet. At day 1.6 a click (+1 clicks, a score without
    # decay): the stage must be tested again, with the total (10 >= 10): MQL at day 1.6
    results = _bounded_run(
        "score engagement\nscore clicks\nvisit pricing +20 engagement\nclick +1 clicks\n"
        "decay engagement 50% every 1 days\n"
        "stage MQL when engagement >= 10 and clicks >= 1\nwhen stage is MQL tag \"warm\"\n",
        [("a", "visit", 0, "pricing"), ("a", "visit", 3 * _DAY // 2, "careers"),
         ("a", "click", 8 * _DAY // 5, None), ("a", "visit", 3 * _DAY, "careers")])
    assert results["a"]["actions"] == [{"at": "2026-01-02T14:24:00Z", "action": "tag",
                                        "arg": "warm"}]


def test_a_quiet_bound_outlives_a_negative_award_and_not_a_positive_one():
    # +40 at day 0 (10% a day), stage at 45: from day 1 the bound (40) is quiet; -10 at day
    # 1.5 (the bound stays 40, still quiet); +12 at day 2.5: bound 52, total 32.4 - 9 + 12
    # = 35 < 45, no stage; +15 at day 2.6: 50 >= 45, SQL's notify at day 2.6
    results = _bounded_run(
        "visit pricing +40\nvisit careers -10\nvisit webinar +12\nvisit demo +15\n"
        "decay score 10% every 1 days\n"
        "stage MQL when score >= 45\nwhen stage is MQL notify sales, reset score\n",
        [("a", "visit", 0, "pricing"), ("a", "click", _DAY + 1, None),
         ("a", "visit", 3 * _DAY // 2, "careers"), ("a", "click", 2 * _DAY, None),
         ("a", "visit", 5 * _DAY // 2, "webinar"), ("a", "visit", 13 * _DAY // 5, "demo"),
         ("a", "visit", 3 * _DAY, "demo")])
    assert [a["at"] for a in results["a"]["actions"]] == ["2026-01-03T14:24:00Z"] * 2
    assert results["a"]["scores"]["score"] == 15  # the reset, then +15 at day 3


def test_a_positive_absence_award_wakes_a_quiet_bound_at_its_own_point():
    # the absence points come from the flush the loop writes out: +30 at the absence's due
    # time (a point of its own, cause "absence" in the action log) lifts the bound past the
    # threshold after quiet points
    results = _bounded_run(
        "visit pricing +30\nemail_sent without email_open within 12 hours +30\n"
        "decay score 10% every 1 days\n"
        "stage MQL when score >= 50\nwhen stage is MQL tag \"warm\"\n",
        [(c, "visit", 0, "pricing") for c in "ab"] +
        [(c, "click", _DAY + 1, None) for c in "ab"] +
        [(c, "email_sent", 2 * _DAY, "m1") for c in "ab"] +
        [("b", "email_open", 2 * _DAY + 1, "m1")] +
        [(c, "click", 3 * _DAY, None) for c in "ab"])
    assert results["a"]["actions"] == [{"at": "2026-01-03T12:00:00Z", "action": "tag",
                                        "arg": "warm"}]
    assert results["b"]["actions"] == [] and results["b"]["stage"] is None


def test_profile_scores_read_once_per_contact_unless_a_rule_or_reset_changes_them():
    # `fit` and `tier` (profile only) are computed once per contact before its events; a
    # score a trigger resets (`base`, reset with the stage) or a rule awards (`bonus`) is
    # computed at every point as before
    text = ("score engagement\nscore fit\nscore base\nscore bonus\n"
            "if employees >= 200 +20 fit\nif employees < 10 -10 fit\n"
            "if employees >= 200 +5 base\nvisit demo +5 bonus\n"
            "visit pricing +30 engagement\ndecay engagement 10% every 1 days\n"
            "grade tier by fit: A >= 20, B >= 0, else D\n"
            "stage MQL when engagement >= 50 and tier in (A, B) and base >= 5\n"
            "stage SQL when engagement >= 80 and bonus >= 5\n"
            "when stage is MQL notify sales, reset base\nwhen tier is D tag \"small\"\n")
    rows = []
    for c in "abc":
        rows += [(c, "visit", 0, "pricing"), (c, "visit", _DAY // 2, "pricing"),
                 (c, "visit", _DAY, "demo"), (c, "visit", 2 * _DAY, "pricing"),
                 (c, "visit", 5 * _DAY // 2, "pricing"), (c, "click", 3 * _DAY, None)]
    results = _bounded_run(text, rows, contacts={"a": {"employees": 500},
                                                  "b": {"employees": 5}, "c": {}})
    # MQL at day 0.5 for `a` only (tier A, base 5); SQL for all at the same point (bonus)
    assert [a["arg"] for a in results["a"]["actions"]] == ["sales", "base"]
    assert results["a"]["actions"][0]["at"] == "2026-01-01T12:00:00Z"
    assert [a["arg"] for a in results["b"]["actions"]] == ["small"]  # tier D
    assert results["c"]["actions"] == []  # base 0 < 5: never MQL
    assert {r["stage"] for r in results.values()} == {"SQL"}
    from compiler.pipeline import compile_text

    source = Engine(compile_text(text).table).program.source
    groups = source[source.index("def groups("):]
    loop = groups[groups.index("for ev in events:"):]
    assert "r0 = " not in loop and "s1 = " not in loop  # tier and fit: before the loop
    assert "s2 = sums[2]" in loop and "s3 = sums[3]" in loop  # base, bonus: at points
