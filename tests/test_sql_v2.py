"""Language v2 in the SQL targets: every construct generates in every dialect (Snowflake and
BigQuery parsed back with sqlglot), and DuckDB computes it as the Python runtime does: points
from event properties written in every way JSON allows (raw text, as a warehouse holds it),
sums beyond 64 bits, long quiet spells with many inactivity awards, group bounds under decay
and resets. The conformance cases 11-15 run on every engine in tests/test_conformance_cli.py,
tests/test_duckdb_engine.py, tests/test_sql_postgres.py and the Spark test of
tests/test_sql_generate.py; the differential tests against the reference interpreter are
there too."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

sqlglot = pytest.importorskip("sqlglot", reason="the SQL targets need the `sql` extra")
duckdb = pytest.importorskip("duckdb", reason="the SQL targets need the `sql` extra")

from compiler.cli import main  # noqa: E402
from compiler.pipeline import compile_text  # noqa: E402
from compiler.run.engines.duckdb import _result  # noqa: E402
from compiler.sql import DIALECTS, check, generate  # noqa: E402
from runtime import Engine, Event, load_table  # noqa: E402
from runtime.events import parse_time  # noqa: E402

V2 = {
    "groups": "score e 0..100\ngroup email of e min -5 max 40\nemail_open +1 email\n"
              "decay e 10% every 1 day\nwhen email >= 3 tag m\ngrade g by email: A >= 2, else B\n"
              "stage MQL when g is A",
    "inactivity": "activity visit\nvisit +1\ninactive 30 days -5\n"
                  "inactive 1 day -1 every 2 days at most 3\nwhen score < 0 notify sales",
    "matrix": "score f\nscore h\nif x +1 f\nvisit +30 h\ngrade a by f: A >= 1, else B\n"
              "grade b by h: 1 >= 30, else 2\ngrade ab by a and b\n"
              "grade lane by a and b: hot = (A1, B1), else cold\ngrade m2 by ab and lane\n"
              "stage MQL when lane is hot",
    "by": "adjust by points\nbuy by value -50..50 at most 2 per day\nexpire score after 3 days\n"
          "when score >= 10 notify sales each time",
}


def _table(text: str) -> dict:
    result = compile_text(text, "m.score")
    assert result.ok, result.diagnostics
    return result.table


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("construct", sorted(V2))
def test_v2_constructs_generate_in_every_dialect(construct, dialect):
    table = _table(V2[construct])
    assert check(table, dialect) == []
    statements = sqlglot.parse(generate(table, dialect), read=DIALECTS[dialect].sqlglot)
    assert len(statements) == 1


def test_the_cli_prints_the_query_of_a_v2_model(tmp_path):
    (tmp_path / "m.score").write_text(V2["groups"], encoding="utf-8")
    result = CliRunner().invoke(main, ["sql", str(tmp_path / "m.score")])
    assert result.exit_code == 0, result.output
    assert result.output == generate(_table(V2["groups"]), "duckdb")


QUOTED = ('score engagement 0..100\n"Product Added" +30\n"it\'s \\"quoted\\"" +7\n'
          '"visit" pricing +2\n'
          '"Order Completed" without "Review Written" within 14 days -5\n'
          "grade heat by engagement: 1 >= 30, 2b >= 10, else 01\n"
          "stage 2b when heat in (1, 2b)\nwhen heat is 01 tag cold\n")


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_quoted_event_names_and_digit_labels_generate_in_every_dialect(dialect):
    table = _table(QUOTED)
    assert check(table, dialect) == []
    sql = generate(table, dialect)
    assert len(sqlglot.parse(sql, read=DIALECTS[dialect].sqlglot)) == 1


def test_quoted_event_names_and_digit_labels_on_duckdb_equal_the_python_engine():
    from compiler.run.engines.duckdb import run_events

    table = _table(QUOTED)
    rows = [("c1", "Product Added", None, "2026-03-01T10:00:00Z"),
            ("c1", 'it\'s "quoted"', None, "2026-03-01T10:01:00Z"),
            ("c2", "visit", "pricing", "2026-03-01T10:00:00Z"),
            ("c2", "Order Completed", "o-1", "2026-03-01T10:00:00Z"),
            ("c3", "product added", None, "2026-03-01T10:00:00Z"),
            ("c3", "Order Completed", "o-2", "2026-03-01T10:00:00Z"),
            ("c3", "Review Written", "o-2", "2026-03-02T10:00:00Z"),
            ("c3", "visit", "x", "2026-03-20T10:00:00Z")]
    events = [Event(contact, kind, parse_time(at), target, seq=seq)
              for seq, (contact, kind, target, at) in enumerate(rows)]
    expected = Engine(load_table(table)).run(events, {})
    actual = run_events(table, events, {})
    assert actual == expected
    assert {r["contact"]: r["grades"].get("heat") for r in expected} == {
        "c1": "1", "c2": "01", "c3": "01"}
    assert json.dumps(expected)  # labels are JSON strings


# --------------------------------------------------------------------------- DuckDB, raw input

START = parse_time("2026-03-01T00:00:00Z")
HOUR = 3_600_000_000


def _duckdb(table: dict, rows: list[tuple], as_of: int | None = None) -> list[dict]:
    """The DuckDB query over events given as (contact, event, at, props JSON text or None)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE events (contact VARCHAR, event VARCHAR, target VARCHAR, "
                "\"at\" BIGINT, id VARCHAR, props VARCHAR, seq BIGINT)")
    con.execute("CREATE TABLE contacts (contact VARCHAR, profile VARCHAR)")
    con.executemany("INSERT INTO events VALUES (?, ?, NULL, ?, NULL, ?, ?)",
                    [(c, e, at, props, n) for n, (c, e, at, props) in enumerate(rows)])
    return [_result(table, row) for row in con.execute(generate(table, as_of=as_of)).fetchall()]


def _python(table: dict, rows: list[tuple], as_of: int | None = None) -> list[dict]:
    """The Python runtime over the same rows, their props read by Python's `json`."""
    events = [Event(c, e, at, props=json.loads(props) if props else {}, seq=n)
              for n, (c, e, at, props) in enumerate(rows)]
    return Engine(load_table(table)).run(events, {}, as_of=as_of)


# JSON numbers as a warehouse may hold them: the value is an integer for `by PROP` when its
# double (a fraction or an exponent is written) or its integer (no fraction, no exponent) is
# one within -2^63 .. 2^63-1 (language 10.8.9)
RAW_VALUES = ["20", "-5", "0", "-0", "20.0", "2e1", "2E1", "-3.0", "2.5", "1e2", "0.5",
              "9223372036854775807", "-9223372036854775808", "9223372036854775808",
              "-9223372036854775809", "18446744073709551616", "1e19", "9.223372036854775e+18",
              "-9.223372036854775808e18", "-9223372036854775809.0", "1e400", "-1e400", "1e-400",
              "1e-320", "1.00000000000000001", "0.99999999999999999999",
              "123456789012345678901234567890", "4503599627370497", "9007199254740993",
              '"20"', "true", "false", "null", "[1]", '{"a": 1}']


@pytest.mark.parametrize("bounds", ["", " -50..50", " 0.."])
def test_points_from_raw_json_numbers_equal_the_python_runtime(bounds):
    table = _table(f"score s\nadjust by points{bounds}\nwhen s >= 10 notify sales each time")
    rows = [(f"c{n:02d}", "adjust", START + n, f'{{"points": {text}}}')
            for n, text in enumerate(RAW_VALUES)]
    rows += [("c-missing", "adjust", START, None), ("c-other", "adjust", START, '{"x": 5}')]
    assert _duckdb(table, rows) == _python(table, rows)


def test_sums_beyond_64_bits_are_exact():
    """Two awards of 2^63 - 1 (each a valid `by PROP` value): the score is 2^64 - 2, exactly
    as the Python runtime's integers give; under decay the product 2^63 * 10^9 does not
    overflow either. The thresholds are the largest literal a model may write (E008: 64 bits):
    a sum held in 64 bits would wrap to -2 and stay below them."""
    big = str(2 ** 63 - 1)
    for decay in ("", "decay s 10% every 1 day\n"):
        table = _table(f"score s\n{decay}adjust by points\nvisit +1\n"
                       "grade g by s: top >= 9223372036854775807, else low\n"
                       "when s >= 9223372036854775807 notify sales")
        rows = [("c", "adjust", START, f'{{"points": {big}}}'),
                ("c", "adjust", START + HOUR, f'{{"points": {big}}}'),
                ("c", "visit", START + 30 * HOUR, None),
                ("d", "adjust", START, '{"points": -9223372036854775808}'),
                ("d", "adjust", START + 1, '{"points": -9223372036854775808}')]
        assert _duckdb(table, rows) == _python(table, rows)
    assert _duckdb(table, rows[:2])[0]["scores"]["s"] == 2 ** 64 - 2  # within the first day


def test_a_long_quiet_spell_awards_again_and_again():
    """`every 1 hour` without `at most` over 200 quiet days: 4,800 awards in one spell, each
    an evaluation point (the trigger fires at the first one that takes the score below 0),
    with decay, and a group with a floor."""
    table = _table("score e\ngroup quiet of e min -100\nactivity visit\nvisit +5\n"
                   "inactive 2 days -10 quiet every 1 hour\ninactive 3 days -2 every 1 day at most 4\n"
                   "decay e 1% every 1 day\nwhen e < 0 tag cold\nwhen quiet <= -100 tag floor")
    rows = [("c", "visit", START, None), ("c", "visit", START + 5 * HOUR, None),
            ("c", "email_open", START + 100 * HOUR, None),  # not activity
            ("q", "email_open", START, None)]  # no activity: no spell
    as_of = START + 200 * 24 * HOUR
    assert _duckdb(table, rows, as_of) == _python(table, rows, as_of)
    for as_of in (START + 53 * HOUR, START + 53 * HOUR - 1, START + 5 * HOUR + 3 * 24 * HOUR):
        assert _duckdb(table, rows, as_of) == _python(table, rows, as_of)


def test_group_bounds_under_decay_and_a_reset():
    """A group's bound applies to the decayed sum at every point; `reset e` empties e's
    groups too; the stage reads a group and a grade over a group."""
    table = _table("score e 0..100\ngroup mail of e max 10\ngroup web of e min 2 max 30\n"
                   "email_open +4 mail\nvisit +9 web\nvisit pricing +20\n"
                   "if vip +3 mail\ndecay e 50% every 1 day\n"
                   "grade w by web: hi >= 20, else lo\nstage MQL when mail >= 10 and w is hi\n"
                   "when e >= 40 notify sales, reset e\nwhen web < 5 tag quiet each time")
    rows = [("c", "email_open", START + n * HOUR, None) for n in range(4)]
    rows += [("c", "visit", START + (5 + n) * HOUR, None) for n in range(3)]
    rows += [("c", "visit", START + 40 * HOUR, None), ("c", "email_open", START + 41 * HOUR, None)]
    for as_of in (None, START + 30 * HOUR, START + 120 * HOUR):
        assert _duckdb(table, rows, as_of) == _python(table, rows, as_of)


STAGE_READS_STAGE = ("score e\nvisit +10\nstage MQL when e >= 20\n"
                     "stage SQL when stage is MQL and e >= 30\n"
                     "when stage is SQL notify sales, reset e\nwhen e >= 10 tag warm each time\n")


def test_stage_rounds_are_aggregates_where_ctes_are_computed_once():
    """With a stage condition reading `stage`, DuckDB and PostgreSQL find each move with a
    per-contact aggregate over narrow rows (no window per round over every point), and
    store only the firing points and T's in `fire`; Spark keeps one window per round
    (docs/sql.md, "Shape of the query"). What the queries compute is the conformance cases'
    and test_stage_reading_stage_with_reset_as_the_runtime's business."""
    table = compile_text(STAGE_READS_STAGE, "m.score").table
    for dialect in ("duckdb", "postgres"):
        sql = generate(table, dialect)
        assert "p1_mk_2" in sql and "p2_mk_2" in sql
        assert "OVER (PARTITION BY x.contact) AS m_" not in sql
        assert "p1_hs AS NOT MATERIALIZED" in sql
        assert "z.fire_0 OR z.fire_1 OR z.kind = 2" in sql
    spark = generate(table, "spark")
    assert "OVER (PARTITION BY x.contact) AS m_2" in spark and "mk_1" not in spark
    assert "z.kind = 2" not in spark


def test_stage_reading_stage_with_reset_as_the_runtime():
    """The aggregate rounds and the trimmed `fire` give the runtime's results: SQL at the
    point after MQL with no award there, the reset, an `each time` tag before and after it,
    a contact that never moves and one unscored by nothing (no events of its own)."""
    table = compile_text(STAGE_READS_STAGE.replace("+10", "+15"), "m.score").table
    day = 24 * HOUR
    rows = [("a", "visit", START + k * day, None) for k in range(6)]
    rows += [("b", "visit", START, None), ("b", "other", START + day, None),
             ("b", "visit", START + 2 * day, None), ("b", "other", START + 3 * day, None),
             ("b", "visit", START + 4 * day, None), ("b", "other", START + 5 * day, None)]
    rows += [("c", "other", START, None), ("c", "visit", START + day, None)]
    expected = _python(table, rows)
    assert {r["contact"]: r["stage"] for r in expected} == {"a": "SQL", "b": "SQL", "c": None}
    assert _duckdb(table, rows) == expected
