"""The accounts statement (`compiler.sql.accounts`, docs/language.md 10.6) over the contact
query's results: DuckDB against the reference interpreter on generated models, Spark SQL
run on the conformance case and a few generated models, every dialect parsed back with
sqlglot, the refusal of groups, hostile account names, and `score sql --accounts`.
(PostgreSQL runs it in tests/test_sql_postgres.py, the Spark engine in test_spark_engine.py.)"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

duckdb = pytest.importorskip("duckdb", reason="the accounts statement runs in DuckDB here")
pytest.importorskip("pyarrow", reason="the DuckDB engine needs the `sql` extra")

import account_strategies as acs  # noqa: E402
import reference_accounts  # noqa: E402
from compiler.cli import main  # noqa: E402
from compiler.lower import lower  # noqa: E402
from compiler.pipeline import compile as compile_model, compile_text  # noqa: E402
from compiler.run.engines import duckdb as engine  # noqa: E402
from compiler.sql import DIALECTS, UnsupportedError, check  # noqa: E402
from compiler.sql.accounts import accounts_sql, check_accounts  # noqa: E402
from runtime import Engine  # noqa: E402
from runtime.events import Event, parse_time  # noqa: E402

CASE = Path(__file__).resolve().parent / "conformance" / "16_accounts"
CON = duckdb.connect()


def _case():
    from compiler.run import readers

    table = compile_model(str(CASE / "model.score")).table
    events = [e for e in readers.read_events(str(CASE / "events.jsonl")) if isinstance(e, Event)]
    profiles = readers.read_contacts(str(CASE / "contacts.jsonl"))[0]
    expected = [json.loads(line) for line in (CASE / "expected_accounts.jsonl").read_text()
                .splitlines() if line]
    return table, events, profiles, expected


def test_duckdb_conformance_case():
    table, events, profiles, expected = _case()
    results, accounts = engine.run_events_with_accounts(table, events, profiles, connection=CON)
    assert accounts == expected
    assert results == engine.run_events(table, events, profiles, connection=CON)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(acs.account_scenarios(acs.account_models(groups=False)))
def test_duckdb_equals_the_reference_on_generated_models(scenario):
    model, events, contacts, as_of = scenario
    table = lower(model)
    assume(not check(table, "duckdb"))  # the contact query's refusals are tested elsewhere
    _, accounts = engine.run_events_with_accounts(table, events, contacts, as_of, connection=CON)
    assert accounts == reference_accounts.accounts(model, events, contacts, as_of)


MODEL = """\
score engagement 0..100
group capped of engagement max 30
visit pricing +20 capped
account by domain
account score heat = sum of engagement
account score capped_heat = sum of capped
account score c = count where capped >= 10
"""


def test_account_scores_reading_a_group_are_refused():
    table = compile_text(MODEL).table
    found = check_accounts(table, "duckdb")
    assert [d.code for d in found] == ["E301", "E301"]
    assert "capped" in found[0].message and "--engine python" in found[0].hint
    with pytest.raises(UnsupportedError):
        accounts_sql(table, "duckdb")


def test_no_account_by_means_no_statement():
    assert accounts_sql(compile_text("visit +1").table, "duckdb") is None


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_dialect_parses_back(dialect):
    import sqlglot

    table = _case()[0]
    sql = accounts_sql(table, dialect, "db.results", "db.contacts")
    name = DIALECTS[dialect].sqlglot if hasattr(DIALECTS[dialect], "sqlglot") else dialect
    parsed = sqlglot.parse_one(sql, read=name)
    assert parsed is not None and "agg" in sql and "db" in sql


hostile = st.one_of(st.sampled_from(["'; DROP TABLE x; --", "a'b", "\\", "x\x00y", "é", "%_!",
                                     "日本", '"q"', "a\nb", "Acme", "acme"]),
                    st.text(min_size=1, max_size=8))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(names=st.lists(hostile, min_size=1, max_size=4))
def test_hostile_account_names_come_back_exactly_and_sorted(names):
    table = compile_text("score s\nvisit +3\naccount by domain\naccount score n = count\n"
                         "account score t = sum of s").table
    at = parse_time("2026-03-01T10:00:00Z")
    profiles = {f"c{i}": {"domain": name} for i, name in enumerate(names)}
    events = [Event(f"c{i}", "visit", at) for i in range(len(names))]
    _, accounts = engine.run_events_with_accounts(table, events, profiles, connection=CON)
    assert accounts == Engine(table).run_with_accounts(events, profiles)[1]


def test_score_sql_prints_the_accounts_statement(tmp_path):
    result = CliRunner().invoke(main, ["sql", str(CASE / "model.score"), "--accounts",
                                       "--results-table", "warehouse.scored",
                                       "--dialect", "postgres"])
    assert result.exit_code == 0, result.stderr
    assert '"warehouse"."scored" AS r' in result.stdout
    assert result.stdout.startswith("-- scorelang accounts")
    model = tmp_path / "m.score"
    model.write_text("visit +1\n")
    result = CliRunner().invoke(main, ["sql", str(model), "--accounts"])
    assert result.exit_code == 1 and "no `account by`" in result.stderr


# --------------------------------------------------------------------------- Spark SQL

def _spark():
    import shutil

    pytest.importorskip("pyspark", reason="running the Spark dialect needs pyspark")
    if shutil.which("java") is None:
        pytest.skip("running the Spark dialect needs a Java runtime")
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master("local[1]").appName("scorelang-sql-test")
            .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2").getOrCreate())


def _spark_accounts(table, events, contacts, as_of):
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    from compiler.sql import generate

    spark = _spark()
    schema = StructType([StructField(n, t) for n, t in (
        ("contact", StringType()), ("event", StringType()), ("target", StringType()),
        ("at", LongType()), ("id", StringType()), ("props", StringType()), ("seq", LongType()))])
    rows = [(e.contact, e.event, e.target, e.at, e.id, json.dumps(e.props) if e.props else None,
             n) for n, e in enumerate(events)]
    spark.createDataFrame(rows, schema).createOrReplaceTempView("events")
    spark.createDataFrame([(k, json.dumps(v)) for k, v in contacts.items()],
                          "contact string, profile string").createOrReplaceTempView("contacts")
    spark.sql(generate(table, "spark", as_of=as_of)).createOrReplaceTempView("results")
    return [engine.account_line(table, tuple(row)) for row in
            spark.sql(accounts_sql(table, "spark")).collect()]


def test_spark_dialect_conformance_case():
    table, events, profiles, expected = _case()
    assert _spark_accounts(table, events, profiles, None) == expected


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # a Spark run is slow to shrink
@given(acs.account_scenarios(acs.account_models(groups=False)))
def test_spark_dialect_equals_the_reference_on_generated_models(scenario):
    model, events, contacts, as_of = scenario
    table = lower(model)
    assume(not check(table, "spark"))
    assert _spark_accounts(table, events, contacts, as_of) == \
        reference_accounts.accounts(model, events, contacts, as_of)
