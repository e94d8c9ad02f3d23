"""`score run --timeline --engine duckdb`: the generated query as of every period end gives
the rows of the Python engine's `Engine.timeline`, on the examples and on generated data."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

pytest.importorskip("duckdb", reason="the duckdb engine needs the `sql` extra")

import model_strategies as ms  # noqa: E402
from compiler.lower import lower  # noqa: E402
from compiler.pipeline import compile as compile_model  # noqa: E402
from compiler.run import engines  # noqa: E402
from compiler.run.readers import read_contacts, read_events  # noqa: E402
from compiler.sql import check  # noqa: E402
from compiler.sql.timeline import timeline_sql  # noqa: E402
from runtime import Engine  # noqa: E402
from runtime.events import Event  # noqa: E402
from runtime.timeline import time_text  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ("b2b_saas", "hubspot_port", "loyalty", "online_shop", "vod")


def _python(table, events_path, contacts_path, as_of, period):
    events = [e for e in read_events(events_path) if isinstance(e, Event)]
    contacts = read_contacts(contacts_path)[0] if contacts_path else {}
    return Engine(table).timeline(events, contacts, as_of=as_of, period=period)


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("period", ["week", "month"])
def test_examples_equal_the_python_engine(name, period):
    table = compile_model(str(ROOT / "examples" / f"{name}.score")).table
    if check(table, "duckdb"):
        pytest.skip(f"the duckdb engine refuses {name} (E3xx: see compiler/sql/support.py)")
    data = ROOT / "examples" / "data" / name
    events, contacts = str(data / "events.jsonl"), str(data / "contacts.jsonl")
    rejects: list = []
    rows = engines.timeline("duckdb", table, events, contacts, None, rejects.append, period)
    assert rows == _python(table, events, contacts, None, period)
    python_rejects = [r for r in read_events(events) if not isinstance(r, Event)]
    assert [(r.line, r.reason) for r in rejects] == [(r.line, r.reason) for r in python_rejects]


def test_b2b_by_day_with_an_as_of_time():
    table = compile_model(str(ROOT / "examples" / "b2b_saas.score")).table
    data = ROOT / "examples" / "data" / "b2b_saas"
    events, contacts = str(data / "events.jsonl"), str(data / "contacts.jsonl")
    as_of = 1_770_000_000_000_000  # 2026-02-02, inside the history
    rows = engines.timeline("duckdb", table, events, contacts, as_of, lambda r: None, "day")
    assert rows == _python(table, events, contacts, as_of, "day")
    assert rows[-1]["as_of"] == time_text(as_of) or rows[-1]["as_of"] < time_text(as_of)


def _write(folder: Path, events, contacts) -> tuple[str, str]:
    with open(folder / "events.jsonl", "w", encoding="utf-8") as out:
        for e in events:
            record = {"contact": e.contact, "event": e.event, "at": time_text(e.at)}
            if e.target is not None:
                record["target"] = e.target
            if e.id is not None:
                record["id"] = e.id
            if e.props:
                record["props"] = e.props
            out.write(json.dumps(record) + "\n")
    with open(folder / "contacts.jsonl", "w", encoding="utf-8") as out:
        for contact, profile in contacts.items():
            out.write(json.dumps({"contact": contact, **profile}) + "\n")
    return str(folder / "events.jsonl"), str(folder / "contacts.jsonl")


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(ms.scenarios(ms.models(), max_events=12), st.sampled_from(("day", "week", "month")))
def test_generated_models_and_histories_equal_the_python_engine(scenario, period):
    model, events, contacts, as_of = scenario
    table = lower(model, "0" * 64)
    assume(not check(table, "duckdb"))
    with tempfile.TemporaryDirectory() as folder:
        events_path, contacts_path = _write(Path(folder), events, contacts)
        expected = _python(table, events_path, contacts_path, as_of, period)
        rows = engines.timeline("duckdb", table, events_path, contacts_path, as_of,
                                lambda r: None, period)
    assert rows == expected


_ONE = dict(decay=False, expire=False, resets=False, stage_chains=False)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(ms.scenarios(ms.models(**_ONE), max_events=12),
                 ms.scenarios(ms.models(v2=True, **_ONE), max_events=12, v2=True)),
       st.sampled_from(("day", "week", "month")))
def test_the_one_statement_timeline_equals_the_python_engine(scenario, period):
    """Models whose state changes only at awards take the one-statement timeline
    (compiler/sql/timeline.py); its rows equal the Python engine's."""
    model, events, contacts, as_of = scenario
    table = lower(model, "0" * 64)
    assume(not check(table, "duckdb"))
    assert timeline_sql(table, "e", "c", 0, "SELECT 0 AS end_at") is not None
    with tempfile.TemporaryDirectory() as folder:
        events_path, contacts_path = _write(Path(folder), events, contacts)
        expected = _python(table, events_path, contacts_path, as_of, period)
        rows = engines.timeline("duckdb", table, events_path, contacts_path, as_of,
                                lambda r: None, period)
    assert rows == expected


def test_models_with_decay_or_a_reset_take_a_query_per_period_end():
    for name in ("b2b_saas", "hubspot_port"):
        table = compile_model(str(ROOT / "examples" / f"{name}.score")).table
        assert timeline_sql(table, "e", "c", 0, "SELECT 0 AS end_at") is None
