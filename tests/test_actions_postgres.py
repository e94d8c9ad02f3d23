"""The actions statement (compiler/sql/actions.py) in the postgres dialect, run on a live
PostgreSQL server (tests/pg_server.py, as tests/test_sql_postgres.py): the rows equal the
Python engine's `runtime.ActionLog` records on the examples and the conformance cases, and on
generated models and histories (hypothesis), with and without `since`."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from test_sql_postgres import CASES, _as_of, pg  # noqa: F401  (the server fixture)

import model_strategies as ms  # noqa: E402
from compiler.lower import lower  # noqa: E402
from compiler.pipeline import compile as compile_model  # noqa: E402
from compiler.run import readers  # noqa: E402
from compiler.run.engines.duckdb import action_records  # noqa: E402
from compiler.sql import check  # noqa: E402
from compiler.sql.actions import actions_sql  # noqa: E402
from runtime import ActionLog, Engine  # noqa: E402
from runtime.events import Event  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ("b2b_saas", "hubspot_port", "loyalty", "online_shop", "vod")


def _python(table, events, profiles, as_of, since):
    engine = Engine(table)
    log = ActionLog(engine, since)
    list(engine.iter_run(events, profiles, as_of, actions=log))
    return log.records()


def _postgres(pg, table, events, profiles, as_of, since):
    """The statement's records; `pg.load` numbers the events 0, 1, … (`seq`): the line of
    an event point is read back through that number."""
    pg.load(events, profiles)
    sql = actions_sql(table, "postgres", as_of=as_of, since=since)
    if sql is None:
        return []
    records = action_records(table, pg.con.execute(sql).fetchall())
    for record in records:
        if record["event_line"] is not None:
            record["event_line"] = events[record["event_line"]].line or None
    return records


def _compare(pg, table, events, profiles, as_of):
    expected = _python(table, events, profiles, as_of, None)
    assert _postgres(pg, table, events, profiles, as_of, None) == expected
    if expected:
        since = expected[len(expected) // 2]["at"]
        assert _postgres(pg, table, events, profiles, as_of, since) == \
            _python(table, events, profiles, as_of, since)


@pytest.mark.parametrize("name", EXAMPLES + tuple(c.name for c in CASES))
def test_examples_and_cases_equal_the_python_engine(pg, name):
    if name in EXAMPLES:
        model, data = ROOT / "examples" / f"{name}.score", ROOT / "examples" / "data" / name
        as_of = None
    else:
        data = model = ROOT / "tests" / "conformance" / name
        model, as_of = model / "model.score", _as_of(data)
    table = compile_model(str(model)).table
    if check(table, "postgres"):
        pytest.skip(f"the postgres dialect refuses {name}")
    events = [e for e in readers.read_events(str(data / "events.jsonl"))
              if isinstance(e, Event)]
    contacts = data / "contacts.jsonl"
    profiles = readers.read_contacts(str(contacts))[0] if contacts.exists() else {}
    _compare(pg, table, events, profiles, as_of)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(ms.scenarios(ms.models()), ms.scenarios(v2=True)))
def test_generated_models_equal_the_python_engine(pg, scenario):
    model, events, contacts, as_of = scenario
    table = lower(model)
    assume(not check(table, "postgres"))
    _compare(pg, table, list(events), contacts, as_of)
