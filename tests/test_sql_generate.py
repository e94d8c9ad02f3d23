"""`compiler.sql.generate` and `score sql`: deterministic output with the source hash, every
dialect's query parses (sqlglot), user strings only as quoted literals, refusals as E301."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, assume, given, settings

sqlglot = pytest.importorskip("sqlglot", reason="the SQL targets need the `sql` extra")
duckdb = pytest.importorskip("duckdb", reason="the SQL targets need the `sql` extra")
from sqlglot import exp  # noqa: E402

import model_strategies as ms  # noqa: E402
from compiler.cli import main  # noqa: E402
from compiler.lower import lower  # noqa: E402
from compiler.sql import DIALECTS, UnsupportedError, check, generate  # noqa: E402
from dsl import ast  # noqa: E402

HOSTILE_TARGET = "x'); DROP TABLE events; --"
MODEL = ast.Model((
    ast.ScoreDecl("engagement", 0, 100, True),
    ast.TimezoneDecl("Europe/Berlin"),
    ast.EventRule("visit", ast.Targets((HOSTILE_TARGET, "blog/*")), None, 5,
                  limit=ast.Limit(2, "week")),
    ast.EventRule("visit", ast.Targets(), ast.Compare(ast.Ref("seconds"), ">=", ast.Number(30)),
                  3),
    ast.AbsenceRule("email_sent", ast.Targets(), "email_open", ast.Targets(),
                    ast.Duration(1, "day"), -2),
    ast.Decay("engagement", 10, ast.Duration(30, "day")),
    ast.Grade("tier", "engagement", (ast.Band("A", 50),), "B"),
    ast.Stage("MQL", ast.Compare(ast.Ref("employees"), ">=", ast.Number(10))),
    ast.Trigger(ast.Compare(ast.Ref("stage"), "is", ast.Label("MQL")),
                (ast.Action("notify", "sales"),)),
))


@pytest.fixture(scope="module")
def table():
    return lower(MODEL, "ab" * 32)


def test_output_is_deterministic_and_carries_the_source_hash(table):
    first = generate(table)
    assert first == generate(json.loads(json.dumps(table)))
    assert first.startswith("-- scorelang rule table format 2, dialect duckdb\n")
    assert f"-- source sha256 {'ab' * 32}\n" in first


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_dialect_parses_and_quotes_user_text_as_a_literal(table, dialect):
    sql = generate(table, dialect, events_table="analytics.web.events")
    statements = sqlglot.parse(sql, read=DIALECTS[dialect].sqlglot)
    assert len(statements) == 1  # the hostile target did not end the statement
    literals = {node.this for node in statements[0].find_all(exp.Literal) if node.is_string}
    assert HOSTILE_TARGET in literals
    tables = {t.name for t in statements[0].find_all(exp.Table)}
    assert "events" in tables and "contacts" in tables


def test_dialect_spellings(table):
    assert "jsonb_typeof" in generate(table, "postgres")
    assert "`analytics`.`events`" in generate(table, "bigquery", events_table="analytics.events")
    assert "DATETIME_TRUNC" in generate(table, "bigquery")
    assert "CONVERT_TIMEZONE('UTC', 'Europe/Berlin'" in generate(table, "snowflake")
    assert "variant_get" in generate(table, "spark") or "try_variant_get" in generate(table, "spark")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(ms.models())
def test_generated_models_parse_in_every_dialect(model):
    table = lower(model)
    assume(not check(table))
    for name, dialect in DIALECTS.items():
        if check(table, name):  # refused in this dialect (E301/E302): nothing to parse
            continue
        sql = generate(table, name)
        assert len(sqlglot.parse(sql, read=dialect.sqlglot)) == 1, name


def test_query_runs_on_empty_tables_in_duckdb(table):
    con = duckdb.connect()
    con.execute("CREATE TABLE events (contact VARCHAR, event VARCHAR, target VARCHAR, "
                "\"at\" BIGINT, id VARCHAR, props JSON, seq BIGINT)")
    con.execute("CREATE TABLE contacts (contact VARCHAR, profile JSON)")
    con.execute("INSERT INTO contacts VALUES ('solo', '{}')")
    rows = con.execute(generate(table, as_of=0)).fetchall()
    assert rows == [("solo", '{"engagement":0}', '{"tier":"B"}', None, "[]")]


def test_without_a_seq_column_ties_follow_at_only(table):
    sql = generate(table, seq_column=None)
    assert "ROW_NUMBER() OVER (ORDER BY e.\"at\")" in sql


def test_refused_table_raises_with_diagnostics():
    model = ast.Model((
        ast.EventRule("visit", ast.Targets(), None, 10),
        ast.Stage("MQL", ast.Compare(ast.Ref("score"), ">=", ast.Number(10))),
        ast.Trigger(ast.Compare(ast.Ref("score"), ">=", ast.Number(10)),
                    (ast.Action("reset", "score"),), True),
    ))
    with pytest.raises(UnsupportedError) as info:
        generate(lower(model), "snowflake")
    assert [d.code for d in info.value.diagnostics] == ["E301"]
    assert "snowflake" in info.value.diagnostics[0].message


def test_postgres_refuses_nul_text_with_e302():
    model = ast.Model((ast.EventRule("visit", ast.Targets(("a\x00b",)), None, 1),))
    table = lower(model)
    assert check(table, "duckdb") == []
    assert [d.code for d in check(table, "postgres")] == ["E302"]


# --------------------------------------------------------------------------- the CLI

def test_cli_prints_the_query(table, tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(table))
    result = CliRunner().invoke(main, ["sql", str(path), "--dialect", "postgres",
                                       "--events-table", "raw.events", "--as-of",
                                       "2026-03-02T00:00:00Z"])
    assert result.exit_code == 0, result.output
    assert '"raw"."events"' in result.output
    assert "CAST(1772409600000000 AS BIGINT) AS as_of" in result.output
    assert result.output == generate(table, "postgres", "raw.events", as_of=1772409600000000)


def test_cli_refusal_exits_1_with_the_diagnostic(tmp_path):
    model = ast.Model((
        ast.EventRule("visit", ast.Targets(), None, 10),
        ast.Trigger(ast.Compare(ast.Ref("score"), ">=", ast.Number(10)),
                    (ast.Action("reset", "score"),), True),
    ))
    path = tmp_path / "model.json"
    path.write_text(json.dumps(lower(model)))
    result = CliRunner().invoke(main, ["sql", str(path)])
    assert result.exit_code == 1
    assert "E301" in result.output and "--engine python" in result.output


def test_cli_rejects_an_unknown_dialect(table, tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(table))
    result = CliRunner().invoke(main, ["sql", str(path), "--dialect", "oracle"])
    assert result.exit_code == 2


# --------------------------------------------------------------------------- Spark SQL, run

def _spark_session():
    import shutil

    pytest.importorskip("pyspark", reason="running the Spark dialect needs pyspark")
    if shutil.which("java") is None:
        pytest.skip("running the Spark dialect needs a Java runtime")
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master("local[1]").appName("scorelang-sql-test")
            .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2").getOrCreate())


def test_spark_dialect_passes_every_conformance_case():
    """The generated Spark SQL, run in a local Spark session, on every shared case."""
    from pathlib import Path

    from compiler.run import readers
    from compiler.pipeline import compile as compile_model
    from runtime import io as rio

    cases = Path(__file__).resolve().parent / "conformance"
    checked = 0
    for case in sorted(p for p in cases.glob("*") if (p / "model.score").exists()):
        table = compile_model(str(case / "model.score")).table
        words = (case / "args").read_text().split()
        as_of = rio.parse_as_of(words[words.index("--as-of") + 1]) if "--as-of" in words else None
        accepted = [e for e in readers.read_events(str(case / "events.jsonl"))
                    if not hasattr(e, "reason")]
        contacts = case / "contacts.jsonl"
        profiles = readers.read_contacts(str(contacts))[0] if contacts.exists() else {}
        expected = [json.loads(line) for line in
                    (case / "expected.jsonl").read_text().splitlines() if line]
        assert _spark_run(table, accepted, profiles, as_of) == expected, case.name
        checked += 1
    assert checked >= 10


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # a Spark run is slow to shrink
@given(ms.scenarios(ms.models()))
def test_spark_dialect_equals_reference_on_generated_models(scenario):
    """A few generated models and event streams through Spark SQL (slow: few examples)."""
    import reference

    model, events, contacts, as_of = scenario
    table = lower(model)
    assume(not check(table, "spark"))  # refused in Spark SQL (E301): nothing to run
    assert _spark_run(table, events, contacts, as_of) == \
        reference.interpret(model, events, contacts, as_of)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(ms.scenarios(v2=True))
def test_spark_dialect_equals_reference_on_generated_v2_models(scenario):
    """Language v2 models and streams (groups, inactivity over long quiet gaps, matrix
    grades, `by PROP` with every kind of value) through Spark SQL (slow: few examples)."""
    import reference

    model, events, contacts, as_of = scenario
    table = lower(model)
    assume(not check(table, "spark"))
    assert _spark_run(table, events, contacts, as_of) == \
        reference.interpret(model, events, contacts, as_of)


def test_spark_dialect_points_from_raw_json_numbers():
    """`by PROP` over JSON numbers written in every way (tests/test_sql_v2.py's list), as
    the Python runtime reads the same text; Spark's VARIANT keeps a number with a fraction
    as a decimal, read as a double here, and an integer beyond 64 bits as a decimal."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    import test_sql_v2 as v2
    from compiler.run.engines.duckdb import _result

    table = v2._table("score s\nadjust by points\nwhen s >= 10 notify sales each time")
    rows = [(f"c{n:02d}", "adjust", v2.START + n, f'{{"points": {text}}}')
            for n, text in enumerate(v2.RAW_VALUES)]
    spark = _spark_session()
    schema = StructType([StructField(n, t) for n, t in (
        ("contact", StringType()), ("event", StringType()), ("target", StringType()),
        ("at", LongType()), ("id", StringType()), ("props", StringType()), ("seq", LongType()))])
    spark.createDataFrame([(c, e, None, at, None, props, n) for n, (c, e, at, props)
                           in enumerate(rows)], schema).createOrReplaceTempView("events")
    spark.createDataFrame([], "contact string, profile string").createOrReplaceTempView(
        "contacts")
    got = [_result(table, tuple(row)) for row in spark.sql(generate(table, "spark")).collect()]
    assert got == v2._python(table, rows)


def _spark_run(table, events, contacts, as_of):
    """The generated Spark SQL of `table` over `events` and `contacts`, as result dicts."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    from compiler.run.engines.duckdb import _result

    spark = _spark_session()
    events_schema = StructType([StructField(n, t) for n, t in (
        ("contact", StringType()), ("event", StringType()), ("target", StringType()),
        ("at", LongType()), ("id", StringType()), ("props", StringType()), ("seq", LongType()))])
    rows = [(e.contact, e.event, e.target, e.at, e.id, json.dumps(e.props) if e.props else None,
             n) for n, e in enumerate(events)]
    spark.createDataFrame(rows, events_schema).createOrReplaceTempView("events")
    spark.createDataFrame([(k, json.dumps(v)) for k, v in contacts.items()],
                          "contact string, profile string").createOrReplaceTempView("contacts")
    return [_result(table, tuple(row)) for row in
            spark.sql(generate(table, "spark", as_of=as_of)).collect()]


def test_spark_dialect_absence_text_globs_and_profile_stages():
    """The shape of the model the differential run once reported (absence rules, a `where`
    text glob, stages on a profile attribute glob, a stage chain, a `once` reset): Spark SQL
    equals the reference on a stream with NULL targets, repeated times and unanswered A's."""
    import reference
    from runtime.events import Event, parse_time

    title = ast.Ref("title")
    model = ast.Model((
        ast.ScoreDecl("engagement", 0, 60, True),
        ast.TimezoneDecl("Asia/Kolkata"),
        ast.EventRule("visit", ast.Targets(("blog/*",)), ast.In(ast.Ref("plan"),
                      (ast.Text("ent*"), ast.Text("pro")), False), 7,
                      limit=ast.Limit(1, "day")),
        ast.EventRule("download", ast.Targets(), ast.Compare(ast.Ref("plan"), "!=",
                      ast.Text("ent*")), 4),
        ast.AbsenceRule("email_sent", ast.Targets(), "email_open", ast.Targets(),
                        ast.Duration(2, "hour"), 5),
        ast.AbsenceRule("visit", ast.Targets(("pricing", "c?")), "download",
                        ast.Targets(any=True), ast.Duration(1, "day"), -3,
                        limit=ast.Limit(1, None)),
        ast.Grade("tier", "engagement", (ast.Band("A", 15), ast.Band("B", 5)), "C"),
        ast.Stage("MQL", ast.Or((ast.Compare(title, "=", ast.Text("VP*")),
                                 ast.Compare(ast.Ref("engagement"), ">=", ast.Number(10))))),
        ast.Stage("SQL", ast.And((ast.Compare(ast.Ref("stage"), "is", ast.Label("MQL")),
                                  ast.In(title, (ast.Text("V?"), ast.Text("CEO")), False),
                                  ast.Compare(ast.Ref("tier"), "is", ast.Label("A"))))),
        ast.Trigger(ast.Compare(ast.Ref("stage"), "is", ast.Label("SQL")),
                    (ast.Action("notify", "sales"), ast.Action("reset", "engagement")), False),
        ast.Trigger(ast.Compare(ast.Ref("tier"), "is not", ast.Label("C")),
                    (ast.Action("tag", "hot"),), True),
    ))
    start = parse_time("2026-03-01T00:00:00Z")
    hour = 3600 * 1_000_000
    stream = [  # (contact, event, hours after start, target, props)
        ("c-1", "visit", 0, "blog/a", {"plan": "enterprise"}),
        ("c-1", "email_sent", 0, None, {}),
        ("c-1", "visit", 0, "pricing", {"plan": "pro"}),
        ("c-1", "visit", 1, "blog/bb", {"plan": "pro"}),
        ("c-1", "download", 3, None, {"plan": 1}),
        ("c-1", "email_sent", 5, "c1", {}),
        ("c-1", "visit", 30, "blog/a", {"plan": "entry"}),
        ("c-1", "download", 30, "home", {"plan": "free"}),
        ("c-2", "email_sent", 2, None, {}),
        ("c-2", "email_open", 3, "x", {}),
        ("c-2", "visit", 4, "c2", {"plan": "pro"}),
        ("c-2", "visit", 4, "blog/a", {"plan": "pro"}),
        ("c-2", "visit", 40, "blog/bb", {"plan": "ent"}),
        ("c-3", "visit", 1, None, {"plan": "pro"}),
        ("c-3", "email_sent", 1, None, {}),
        ("c-3", "email_open", 2, None, {}),
    ]
    events = [Event(contact=c, event=name, at=start + h * hour, target=target, id=None,
                    props=props, line=n + 1, seq=n)
              for n, (c, name, h, target, props) in enumerate(stream)]
    contacts = {"c-1": {"title": "VX"}, "c-2": {"title": "VP Sales"}, "c-3": {"title": 5}}
    table = lower(model)
    assert check(table, "spark") == []
    for as_of in (None, start + 6 * hour, start + 50 * hour):
        at = as_of if as_of is not None else max(e.at for e in events)
        expected = reference.interpret(model, events, contacts, at)
        assert _spark_run(table, events, contacts, as_of) == expected, as_of


def test_spark_dialect_decaying_score_read_by_stages_and_a_reset():
    """The B2B example (engagement decays 10% a month; both stages and the resetting trigger
    read it) on the first 40 contacts of its sample history, three months: Spark SQL equals
    the reference interpreter. Spark SQL once refused this (its optimizer failed on an
    earlier form of the query)."""
    from pathlib import Path

    import reference
    from compiler.run import readers
    from compiler.pipeline import compile as compile_model
    from dsl.parser import parse_text

    root = Path(__file__).resolve().parent.parent
    source = root / "examples" / "b2b_saas.score"
    data = root / "examples" / "data" / "b2b_saas"
    table = compile_model(str(source)).table
    assert check(table, "spark") == []
    profiles = readers.read_contacts(str(data / "contacts.jsonl"))[0]
    kept = set(sorted(profiles)[:40])
    events = [e for e in readers.read_events(str(data / "events.jsonl"))
              if not hasattr(e, "reason") and e.contact in kept]
    contacts = {k: v for k, v in profiles.items() if k in kept}
    expected = reference.interpret(parse_text(source.read_text(encoding="utf-8")).model,
                                   events, contacts, None)
    assert any(r["stage"] == "SQL" for r in expected)  # the reset fires in this sample
    assert _spark_run(table, events, contacts, None) == expected


def test_spark_dialect_decay_steps_with_no_matching_awards():
    """The model the differential run reported (a decaying score whose only rule matches no
    event here, stages and an `each time` trigger): Spark's optimizer once failed on the
    decay change rows (`CROSS JOIN tnow` then an inner join: "assertion failed at
    ReorderJoin.createOrderedJoin"); Spark SQL equals the reference."""
    import reference
    from runtime.events import Event

    title, engagement, stage = ast.Ref("title"), ast.Ref("engagement"), ast.Ref("stage")
    model = ast.Model((
        ast.ScoreDecl("engagement", 9, 67, True),
        ast.EventRule("email_sent", ast.Targets(any=True), ast.Not(ast.In(
            ast.Ref("country", True), (ast.Text("DE"), ast.Text("DE"), ast.Text("FR")),
            True)), 6, "engagement"),
        ast.Decay("engagement", 33, ast.Duration(2, "day")),
        ast.Stage("MQL", ast.Compare(ast.Ref("name", True), ">=", ast.Number(-10))),
        ast.Stage("SQL", ast.Or((ast.In(title, (ast.Text("V?"),), False),
                                 ast.Compare(engagement, ">", ast.Number(63)),
                                 ast.Compare(title, "is not", ast.Text("Dev"))))),
        ast.Stage("SAL", ast.And((ast.In(title, (ast.Text("CEO"), ast.Text("VP*"),
                                                 ast.Text("V?")), False),
                                  ast.Compare(stage, "is", ast.Label("SQL")),
                                  ast.Compare(engagement, "=", ast.Number(-23))))),
        ast.Trigger(ast.Or((ast.Compare(stage, "is", ast.Label("SAL")),
                            ast.In(title, (ast.Text("CTO"), ast.Text("Dev"), ast.Text("CEO")),
                                   True))),
                    (ast.Action("notify", "hot"),), True),
    ))
    stream = [  # (contact, event, at in seconds, target, id, props)
        ("c-3", "email_open", 1772391600, None, None, {"seconds": 49, "plan": "enterprise"}),
        ("c-1", "email_open", 1772550000, None, "e1", {"paid": 1, "seconds": 30.5}),
        ("c-3", "email_open", 1772668800, None, "e3", {"seconds": 30.5, "plan": 1}),
        ("c-1", "unsubscribe", 1772418600, "blog/bb", "e2", {}),
        ("c-1", "download", 1772503200, "pricing", None, {"plan": 1}),
        ("c-1", "visit", 1772380800, None, "e1", {"paid": False, "plan": 1, "seconds": 22}),
        ("c-1", "email_sent", 1772587800, "blog/bb", "e1", {"paid": "true"}),
        ("c-3", "email_sent", 1772555400, "blog/bb", "e2", {}),
        ("c-1", "visit", 1772503200, "c2", "e2", {}),
    ]
    events = [Event(contact=c, event=name, at=at * 1_000_000, target=target, id=id_,
                    props=props, line=n + 1, seq=n)
              for n, (c, name, at, target, id_, props) in enumerate(stream)]
    contacts = {"c-1": {}, "c-2": {"title": "VP Sales", "employees": 199.5, "country": "US",
                                   "consent": None}, "c-3": {"consent": "true"}}
    as_of = 1772467200 * 1_000_000
    table = lower(model)
    assert check(table, "spark") == []
    assert _spark_run(table, events, contacts, as_of) == \
        reference.interpret(model, events, contacts, as_of)
