"""The hand-written DuckDB query of the v2 benchmark (`benchmarks/duckdb_hand_v2.py`) scores
`examples/hubspot_port.score` exactly as the Python engine does.

`bench_v2.py` compares the hand query with the generated one on every run; this test keeps the
hand query honest on its own, against `Engine.run`, on small generated logs (three seeds) where
the model's parts all occur: capped and uncapped awards, absences, quiet spells, both stages,
the reset, the nurture tag again after the reset, the email-maxed tag.
"""
from __future__ import annotations

import json
import pathlib
import sys
from collections import Counter

import pytest

from runtime import Engine
from runtime.events import Event, parse_time
from runtime.io import read_contacts, read_events, result_json

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "examples")]

import duckdb_hand_v2  # noqa: E402
from generate_data import generate  # noqa: E402

duckdb = pytest.importorskip("duckdb")


def _table():
    from compiler.pipeline import compile as compile_model

    compiled = compile_model(str(ROOT / "examples" / "hubspot_port.score"))
    assert compiled.table is not None, compiled.diagnostics
    return compiled.table


@pytest.fixture(scope="module")
def table():
    return _table()


def _write(folder: pathlib.Path, seed: int) -> tuple[str, str]:
    rows, profiles = generate("hubspot_port", seed, size=(300, 6000))
    events, contacts = folder / "events.jsonl", folder / "contacts.jsonl"
    events.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    contacts.write_text("".join(json.dumps(p) + "\n" for p in profiles), encoding="utf-8")
    return str(events), str(contacts)


def _engine(table, events_path: str, contacts_path: str) -> dict:
    events = [e for e in read_events(events_path) if isinstance(e, Event)]
    events.sort(key=lambda event: (event.at, event.seq))
    profiles, rejects = read_contacts(contacts_path)
    assert not rejects
    return {r["contact"]: result_json(r) for r in Engine(table).run(events, profiles)}


def _hand(events_path: str, contacts_path: str) -> dict:
    connection = duckdb.connect()
    try:
        duckdb_hand_v2.load(connection, events_path, contacts_path)
        return duckdb_hand_v2.full(connection.execute(duckdb_hand_v2.SQL).fetchall())
    finally:
        connection.close()


def _after_reset(result: dict, arg: str) -> bool:
    """Whether `tag arg` fired after the contact's reset."""
    actions = result["actions"]
    resets = [parse_time(a["at"]) for a in actions if a["action"] == "reset"]
    return bool(resets) and any(a["arg"] == arg and parse_time(a["at"]) > resets[0]
                                for a in actions)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hand_query_equals_engine(tmp_path, table, seed):
    events_path, contacts_path = _write(tmp_path, seed)
    expected = _engine(table, events_path, contacts_path)
    got = _hand(events_path, contacts_path)
    assert sorted(got) == sorted(expected)
    wrong = [contact for contact in expected if got[contact] != expected[contact]]
    assert not wrong, (len(wrong), expected[wrong[0]], got[wrong[0]])
    # the log exercises what the hand query specialises
    stages = Counter(r["stage"] for r in expected.values())
    actions = Counter(a["arg"] for r in expected.values() for a in r["actions"])
    assert stages["SQL"] and stages["MQL"] and stages[None], stages
    assert actions["engagement"] and actions["email-maxed"] and actions["nurture"], actions
    assert any(_after_reset(r, "nurture") for r in expected.values())
    assert any(r["scores"]["engagement"] is None for r in expected.values())  # no consent
    repeated = Counter(r["contact"] for r in expected.values() for a in r["actions"]
                       if a["arg"] == "nurture")
    assert max(repeated.values()) >= 2  # `each time`


def test_hand_query_sees_quiet_spells_and_absences(tmp_path, table):
    """A contact written by hand: a demo request, an unanswered email, an activity at the
    very time a quiet spell's award was due (no award), then three quiet spells."""
    events = [{"contact": "c", "event": "Form Submitted", "target": "demo-request",
               "at": "2026-01-05T12:00:00Z", "id": "1"},
              {"contact": "c", "event": "Email Sent", "target": "spring-launch",
               "at": "2026-01-06T12:00:00Z", "id": "2"},
              {"contact": "c", "event": "Email Sent", "target": "spring-launch",
               "at": "2026-01-06T12:00:00Z", "id": "2"},  # a duplicate id counts once
              {"contact": "c", "event": "sales_adjust", "at": "2026-01-07T12:00:00Z",
               "props": {"points": 40}},
              # exactly 30 days after the demo request: answers that spell's first due
              {"contact": "c", "event": "Email Opened", "target": "newsletter-03",
               "at": "2026-02-04T12:00:00Z"},
              {"contact": "c", "event": "Meeting Booked", "at": "2026-06-01T00:00:00Z"}]
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (tmp_path / "contacts.jsonl").write_text(json.dumps(
        {"contact": "c", "consent": True, "job_title": "CTO", "company_size": 500,
         "industry": "SaaS"}) + "\n")
    paths = str(tmp_path / "events.jsonl"), str(tmp_path / "contacts.jsonl")
    expected = _engine(table, *paths)
    # 30 (demo) - 2 (unanswered) + 25 (manual, bounded) + 2 (open) - 30 (three quiet spells
    # from the open) + 25 (meeting)
    assert expected["c"]["scores"]["engagement"] == 50
    assert _hand(*paths) == expected


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_query_equals_engine(tmp_path, table, seed):
    """The generated query on the same logs (its second pass after the reset reads the first
    pass's sums, and its stage is read off the move rounds: compiler/sql/lifecycle.py)."""
    from compiler.run.engines import duckdb as engine
    from compiler.sql import generate

    events_path, contacts_path = _write(tmp_path, seed)
    expected = _engine(table, events_path, contacts_path)
    connection = duckdb.connect()
    try:
        duckdb_hand_v2.load(connection, events_path, contacts_path)
        sql = generate(table, "duckdb", "events", "contacts", seq_column="line")
        assert "HUGEINT" not in sql  # `by points manual -25..25` keeps BIGINT sums
        got = {r["contact"]: result_json(r)
               for r in engine.results(table, connection.execute(sql).fetchall())}
    finally:
        connection.close()
    assert got == expected


def test_a_by_rule_bounded_beyond_written_points_keeps_wide_sums(tmp_path):
    """Bounds beyond what a written award may be: the sums are still exact past 2^63."""
    from compiler.pipeline import compile as compile_model
    from compiler.run.engines import duckdb as engine
    from compiler.sql import generate

    model = tmp_path / "m.score"
    model.write_text("score s\npurchase by value -9000000000000000000..9000000000000000000\n")
    compiled = compile_model(str(model))
    assert compiled.table is not None, compiled.diagnostics
    assert "HUGEINT" in generate(compiled.table, "duckdb")
    events = [Event("c", "purchase", parse_time("2026-01-01T00:00:0%dZ" % n), None, None,
                    {"value": 8_000_000_000_000_000_000}) for n in range(2)]
    python = [result_json(r) for r in Engine(compiled.table).run(events, {})]
    assert python[0]["scores"]["s"] == 16_000_000_000_000_000_000
    assert [result_json(r) for r in engine.run_events(compiled.table, events, {})] == python
