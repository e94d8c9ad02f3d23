"""A rule table is untrusted input (issue 10 item 1): every field is checked against its kind at
load (`runtime/schema.py`), so a table whose `source.sha256` holds a newline and a statement is
refused with a `TableError` by `score sql` and `score run` (exit 2) instead of adding that
statement to the query; and every table value written into SQL, comments included, goes
through `compiler.sql.quoting` (`quote_comment` for comments), property-tested here."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from compiler.cli import main
from compiler.pipeline import compile_text
from runtime import Engine, TableError, load_table

duckdb = pytest.importorskip("duckdb", reason="the SQL targets need the `sql` extra")
sqlglot = pytest.importorskip("sqlglot", reason="the SQL targets need the `sql` extra")
from compiler.sql import DIALECTS, generate  # noqa: E402
from compiler.sql.accounts import accounts_sql  # noqa: E402
from compiler.sql.quoting import quote_comment  # noqa: E402

INJECTION = "\nDROP TABLE x; --"
MODEL = ("score engagement 0..100\nvisit pricing +5\ngrade tier by engagement: A >= 5, else B\n"
         "stage MQL when engagement >= 5\nwhen stage is MQL notify sales\n"
         "account by company\naccount score heat = sum of engagement\n")
EVENTS = ('{"contact": "c-1", "event": "visit", "target": "pricing", '
          '"at": "2026-03-01T10:00:00Z"}\n')


def good_table() -> dict:
    return json.loads(json.dumps(compile_text(MODEL).table))


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def hostile(tmp_path):
    table = good_table()
    table["source"]["sha256"] = INJECTION
    path = tmp_path / "table.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    (tmp_path / "events.jsonl").write_text(EVENTS, encoding="utf-8")
    return path


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_score_sql_refuses_a_table_whose_hash_holds_a_statement(hostile, dialect):
    for extra in ((), ("--accounts",)):
        result = invoke("sql", hostile, "--dialect", dialect, *extra)
        assert result.exit_code == 2, result.output
        assert result.stdout == ""  # no SQL at all, so no DROP
        assert "not a usable rule table: `source.sha256` must be 64 lowercase hex digits" \
            in result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_score_run_refuses_it_on_every_engine(hostile, engine):
    result = invoke("run", hostile, "--events", hostile.parent / "events.jsonl",
                    "--engine", engine)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "`source.sha256` must be 64 lowercase hex digits or null" in result.stderr


def test_the_sql_generators_refuse_a_table_given_as_a_dict():
    """Library users pass dicts, never loaded through `load_table`: `generate` and
    `accounts_sql` check the table themselves."""
    table = good_table()
    table["source"]["sha256"] = INJECTION
    with pytest.raises(TableError, match="source.sha256"):
        generate(table, "postgres")
    with pytest.raises(TableError, match="source.sha256"):
        accounts_sql(table, "postgres")


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_a_valid_table_gives_exactly_its_statements(dialect):
    """The other side: a good table's query and accounts statement parse to exactly one
    statement each, whose header comment holds the hash."""
    table = good_table()
    for sql in (generate(table, dialect), accounts_sql(table, dialect)):
        assert len(sqlglot.parse(sql, read=DIALECTS[dialect].sqlglot)) == 1
        assert f"-- source sha256 {table['source']['sha256']}\n" in sql


def _mutated(path, value):
    table = good_table()
    node = table
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return table


@pytest.mark.parametrize("path, value, field", [
    (("source", "sha256"), "AB" * 32, "source.sha256"),
    (("source", "sha256"), "ab" * 31, "source.sha256"),
    (("source", "sha256"), 7, "source.sha256"),
    (("source", "file"), ["x"], "source.file"),
    (("scores", 0, "name"), "engagement; DROP", "scores[0].name"),
    (("scores", 0, "name"), "1st", "scores[0].name"),
    (("scores", 0, "high"), 2 ** 63, "scores[0].high"),
    (("scores", 0, "low"), True, "scores[0].low"),
    (("rules", 0, "points"), 2 ** 64, "rules[0].points"),
    (("rules", 0, "points"), 5.0, "rules[0].points"),
    (("rules", 0, "event"), "visit\ud800", "rules[0].event"),
    (("rules", 0, "targets", "exact"), ["pricing", 3], "rules[0].targets.exact[1]"),
    (("rules", 0, "limit"), {"count": 0, "per": None}, "rules[0].limit.count"),
    (("grades", 0, "bands"), [["A B", 5]], "grades[0].bands[0][0]"),
    (("grades", 0, "bands"), [["A", math.nan]], "grades[0].bands[0][1]"),
    (("grades", 0, "bands"), [["A", math.inf]], "grades[0].bands[0][1]"),
    (("grades", 0, "else"), "", "grades[0].else"),
    (("stages", 0, "name"), "M-QL", "stages[0].name"),
    (("stages", 0, "condition"), [">=", ["score", "engagement"], 2 ** 70], "condition[2]"),
    (("stages", 0, "condition"), [">=", ["score", "a b"], 1], "condition[1][1]"),
    (("stages", 0, "condition"), ["xor", ["score", "engagement"], 1], "stages[0].condition"),
    (("triggers", 0, "actions", 0, "action"), "exec", "actions[0].action"),
    (("triggers", 0, "each_time"), "yes", "triggers[0].each_time"),
    (("accounts", "by"), "company)--", "accounts.by"),
    (("timezone",), 3, "timezone"),
])
def test_each_field_is_checked_with_a_message_naming_it(path, value, field):
    with pytest.raises(TableError, match=f"`[^`]*{_re(field)}` must be"):
        load_table(_mutated(path, value))
    with pytest.raises(TableError):
        Engine(_mutated(path, value), compiled=False)


def _re(text: str) -> str:
    import re
    return re.escape(text)


def test_decay_multipliers_must_be_the_exact_ones():
    table = compile_text("score e\ndecay e 10% every 1 day\nvisit +5\n").table
    load_table(table)
    decay = table["scores"][0]["decay"]
    for wrong in ([10 ** 9, 2], decay["multipliers"][:-1], [5] + decay["multipliers"][1:]):
        decay["multipliers"] = wrong
        with pytest.raises(TableError, match="multipliers"):
            load_table(table)


def test_a_deeply_nested_table_file_is_a_table_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(TableError, match="cannot read rule table"):
        load_table(path)


@pytest.mark.parametrize("compiled", [True, False])
def test_a_condition_nested_deeper_than_a_model_can_is_refused_without_recursion(compiled):
    table = good_table()
    form = [">=", ["score", "engagement"], 5]
    for _ in range(50_000):
        form = ["not", form]
    table["stages"][0]["condition"] = form
    with pytest.raises(TableError, match="nested more than 200 levels"):
        Engine(table, compiled=compiled)  # no RecursionError: the walk keeps its own stack
    table["stages"][0]["condition"] = form = [">=", ["score", "engagement"], 5]
    for _ in range(150):  # deeper than a model may write (E005), but within the limit
        form = ["not", form]
    table["stages"][0]["condition"] = form
    Engine(table, compiled=compiled)


# ------------------------------------------------------------------------ quote_comment
HOSTILE = ["\n", "\r", "\r\n", "*/", "/*", "\x00", "\ud800", "\udfff", "\u2028", "\u0085",
           "\x0c", "--", ";", "'", '"', "\\", "$1", "?", "%s", ":name", INJECTION,
           "*/ DROP TABLE x; /*", "\U0001F600"]
comment_texts = st.one_of(st.sampled_from(HOSTILE),
                          st.lists(st.sampled_from(HOSTILE + ["a", " ", "x.y"]),
                                   max_size=6).map("".join),
                          st.text(max_size=30))


@settings(max_examples=300, deadline=None)
@given(comment_texts)
@example(INJECTION)
@example("a\ud800b*/\x00\n")
def test_a_comment_is_one_printable_line_that_gives_the_text_back(text):
    comment = quote_comment(text)
    assert comment.startswith("-- ")
    assert all(" " <= char <= "~" for char in comment)  # printable ASCII: no line break
    for dangerous in ("*/", "/*", ";", "'", '"', "?", "$", "%", ":"):
        assert dangerous not in comment
    assert comment[3:].encode("ascii").decode("unicode_escape") == text


@settings(max_examples=60, deadline=None)
@given(comment_texts)
@example(INJECTION)
def test_a_comment_adds_no_statement_in_any_dialect(text):
    sql = quote_comment(text) + "\nSELECT 1 AS one"
    for dialect in DIALECTS.values():
        assert len(sqlglot.parse(sql, read=dialect.sqlglot)) == 1, dialect.name
    assert duckdb.connect().execute(sql).fetchall() == [(1,)]


def test_quote_comment_takes_text_only():
    with pytest.raises(TypeError):
        quote_comment(b"x")  # type: ignore[arg-type]


def test_the_query_header_goes_through_quote_comment():
    """Were the hash ever to hold other text (a table checked by an older runtime), the
    header would still be comments only."""
    import compiler.sql.query as query

    table = good_table()
    builder = query.QueryBuilder(table, DIALECTS["duckdb"], "events", "contacts", None, "seq")
    builder.t = dict(table, source={"sha256": INJECTION, "file": None})
    header = builder.build().header
    assert header[1] == "-- source sha256 \\x0aDROP TABLE x\\x3b --"


def test_the_example_tables_still_load():
    for path in sorted(Path(__file__).parent.parent.glob("examples/*.score")):
        result = compile_text(path.read_text(encoding="utf-8"), str(path))
        load_table(json.loads(json.dumps(result.table)))
