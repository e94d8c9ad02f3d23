"""The runtime's accounts (docs/language.md 10.6): batch `run_with_accounts`, streaming
`Engine.account` / `Engine.accounts`, `Rollup` merging, and the table's `accounts` section."""
import copy
import json
from pathlib import Path

import pytest

from compiler.pipeline import compile as compile_model, compile_text
from runtime import Engine, Event, TableError, load_table
from runtime.accounts import Rollup, account_of
from runtime.io import read_contacts, read_events

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "tests" / "conformance" / "16_accounts"

MODEL = """\
score engagement 0..100
score fit
require consent
visit pricing +30 engagement
if title = "CEO" +30 fit
grade tier by fit: A >= 30, else B
stage SQL when engagement >= 60
account by domain
account score heat = sum of engagement
account score sql = count where stage is SQL
account score ceo = count where title = "CEO"
account score best = max of engagement where tier is A
account score low = min of fit
account score members = count
account grade abm by heat: Hot >= 60, else Cold
account grade top by best: Top >= 1
"""


def table_of(text: str) -> dict:
    result = compile_text(text)
    assert result.table is not None, result.diagnostics
    return result.table


def at(day: int, hour: int = 0) -> int:
    return Event.from_iso("x", "visit", f"2026-03-{day:02d}T{hour:02d}:00:00Z").at


PROFILES = {
    "a1": {"domain": "acme.com", "consent": True, "title": "CEO"},
    "a2": {"domain": "acme.com", "consent": True},
    "a3": {"domain": "acme.com", "consent": False},
    "b1": {"domain": "beta.io", "consent": True},
    "e1": {"domain": "", "consent": True},  # empty text: no account (10.8.12)
    "n1": {"domain": None, "consent": True},
    "x1": {"domain": ["acme.com"], "consent": True},
}
EVENTS = [Event("a1", "visit", at(2, 9), "pricing"), Event("a1", "visit", at(2, 10), "pricing"),
          Event("a2", "visit", at(2, 11), "pricing"), Event("a3", "visit", at(2, 12), "pricing"),
          Event("z9", "visit", at(2, 13), "pricing")]


def test_conformance_case_16_through_the_library():
    table = compile_model(CASE / "model.score").table
    events = [e for e in read_events(str(CASE / "events.jsonl")) if isinstance(e, Event)]
    profiles, _ = read_contacts(str(CASE / "contacts.jsonl"))
    results, accounts = Engine(table).run_with_accounts(events, profiles)
    expected = [json.loads(line) for line in (CASE / "expected_accounts.jsonl").open()]
    assert accounts == expected
    assert results == Engine(table).run(events, profiles)


def test_every_aggregate_and_grade():
    _, accounts = Engine(table_of(MODEL)).run_with_accounts(EVENTS, PROFILES)
    assert accounts == [
        {"account": "acme.com", "contacts": 3,
         "scores": {"heat": 90, "sql": 1, "ceo": 1, "best": 60, "low": 0, "members": 2},
         "grades": {"abm": "Hot", "top": "Top"}},
        {"account": "beta.io", "contacts": 1,
         "scores": {"heat": 0, "sql": 0, "ceo": 0, "best": None, "low": 0, "members": 1},
         "grades": {"abm": "Cold"}},  # `top` reads a null score: absent (10.8.13)
    ]


def test_account_values_equal_a_plain_aggregation_of_the_results():
    results, accounts = Engine(table_of(MODEL)).run_with_accounts(EVENTS, PROFILES)
    by_id = {r["contact"]: r for r in results}
    for line in accounts:
        members = [c for c, p in PROFILES.items() if account_of(p, "domain") == line["account"]]
        scored = [by_id[c] for c in members if by_id[c]["scores"]["engagement"] is not None]
        assert line["contacts"] == len(members)
        assert line["scores"]["heat"] == sum(r["scores"]["engagement"] for r in scored)
        assert line["scores"]["members"] == len(scored)
        assert line["scores"]["sql"] == sum(r["stage"] == "SQL" for r in scored)
        assert line["scores"]["low"] == min((r["scores"]["fit"] for r in scored), default=None)


def test_without_account_by_the_table_has_no_accounts():
    table = table_of("visit +1")
    assert table["accounts"] is None
    results, accounts = Engine(table).run_with_accounts(EVENTS, PROFILES)
    assert accounts == [] and list(Engine(table, PROFILES).accounts()) == []
    assert results == Engine(table).run(EVENTS, PROFILES)


def test_streaming_accounts_equal_the_batch_as_of_the_same_time():
    table = table_of(MODEL)
    engine = Engine(table, PROFILES)
    for event in EVENTS:
        engine.process(event)
    engine.advance(at(2, 13))
    _, batch = Engine(table).run_with_accounts(EVENTS, PROFILES)
    assert list(engine.accounts()) == batch
    assert engine.account("beta.io") == batch[1]
    assert engine.account("nobody.org") is None


def test_streaming_account_reads_each_member_at_its_last_point():
    engine = Engine(table_of(MODEL), PROFILES)
    engine.process(EVENTS[0])  # a1 at 09:00: 30 points; a2 has no point yet
    assert engine.account("acme.com")["scores"]["heat"] == 30
    engine.process(EVENTS[2])
    assert engine.account("acme.com")["scores"]["heat"] == 60


def test_set_profile_moves_a_member_between_accounts():
    engine = Engine(table_of(MODEL), PROFILES)
    engine.process(EVENTS[0])
    assert engine.account("acme.com")["contacts"] == 3
    engine.set_profile("a1", {"domain": "beta.io", "consent": True, "title": "CEO"})
    assert engine.account("acme.com")["contacts"] == 2
    assert engine.account("beta.io")["scores"]["heat"] == 30
    engine.set_profile("a2", {"consent": True})
    engine.set_profile("a3", {"consent": True})
    assert engine.account("acme.com") is None
    assert [line["account"] for line in engine.accounts()] == ["beta.io"]
    engine.set_profile("new", {"domain": "gamma.net", "consent": True})
    assert engine.account("gamma.net")["contacts"] == 1


def test_accounts_survive_a_snapshot():
    table = table_of(MODEL)
    engine = Engine(table, PROFILES)
    for event in EVENTS:
        engine.process(event)
    restored = Engine.restore(table, engine.snapshot())
    assert list(restored.accounts()) == list(engine.accounts())


def test_rollups_of_disjoint_contacts_merge_into_the_whole():
    table = table_of(MODEL)
    engine = Engine(table)
    spec = engine.table.accounts
    results = {c: engine.evaluate(c, EVENTS, PROFILES) for c in PROFILES}
    whole, left, right = Rollup(spec), Rollup(spec), Rollup(spec)
    for i, contact in enumerate(sorted(PROFILES)):
        values = results[contact]
        live = None if values["scores"]["engagement"] is None else {
            **values["scores"], **values["groups"], **values["grades"],
            " stage": values["stage"]}
        whole.add(PROFILES[contact], live)
        (left if i % 2 else right).add(PROFILES[contact], live)
    left.merge(right.partial())
    assert left.results() == whole.results()
    assert whole.results() == Engine(table).run_with_accounts(EVENTS, PROFILES)[1]


@pytest.mark.parametrize("value, account", [
    ("Acme", "Acme"), ("acme", "acme"), ("", None), (None, None), (42, None), (True, None),
    ({"a": 1}, None)])
def test_the_account_is_the_exact_non_empty_text(value, account):
    assert account_of({"domain": value}, "domain") == account
    assert account_of({}, "domain") is None and account_of(None, "domain") is None


def test_a_table_older_than_accounts_loads():
    table = table_of(MODEL)
    del table["accounts"]
    assert Engine(table).run_with_accounts(EVENTS, PROFILES)[1] == []


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(by=3), "`accounts.by` must be a name"),
    (lambda a: a.update(scores={}), "accounts.scores"),
    (lambda a: a["scores"][0].update(aggregate="avg"), "unknown aggregate"),
    (lambda a: a["scores"][0].update(of=["score", "nope"]), "reads unknown"),
    (lambda a: a["scores"][1].update(of=["score", "fit"]), "`count` reads no score"),
    (lambda a: a["scores"][1].update(where=["=", ["grade", "nope"], "A"]), "unknown grade"),
    (lambda a: a["scores"][1].update(name="heat"), "name of its own"),
    (lambda a: a["grades"][0].update(score="engagement"), "unknown account score"),
    (lambda a: a["grades"][0].update(bands=[["Hot", "60"]]), r"`accounts.grades\[0\].bands\[0\]\[1\]` must be a number"),
    (lambda a: a["grades"][0].update(bands=[[1, 60]]), r"`accounts.grades\[0\].bands\[0\]\[0\]` must be a label"),
])
def test_malformed_accounts_sections_are_refused_at_load(change, message):
    table = copy.deepcopy(table_of(MODEL))
    change(table["accounts"])
    with pytest.raises(TableError, match=message):
        load_table(table)
