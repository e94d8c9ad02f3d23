"""Language v2 and the SQL targets, for now: quoted event names and digit labels are computed
(conformance case 11 runs on DuckDB in tests/test_conformance_cli.py); groups, inactivity
rules, matrix grades and `by PROP` are refused with E301 naming the engines that compute them,
never approximated."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

sqlglot = pytest.importorskip("sqlglot", reason="the SQL targets need the `sql` extra")
duckdb = pytest.importorskip("duckdb", reason="the SQL targets need the `sql` extra")

from compiler.cli import main  # noqa: E402
from compiler.pipeline import compile_text  # noqa: E402
from compiler.sql import DIALECTS, UnsupportedError, check, generate  # noqa: E402
from runtime import Engine, Event, load_table  # noqa: E402
from runtime.events import parse_time  # noqa: E402

REFUSED = {
    "groups": ("score e 0..100\ngroup email of e max 40\nemail_open +1 email", 2, "groups"),
    "inactivity": ("visit +1\ninactive 30 days -5", 2, "inactivity rules"),
    "matrix": ("score f\nif x +1 f\ngrade a by f: A >= 1, else B\n"
               "grade b by f: 1 >= 1, else 2\ngrade ab by a and b", 5, "matrix grades"),
    "by": ("adjust by points", 1, "points from an event property"),
}


def _table(text: str) -> dict:
    result = compile_text(text, "m.score")
    assert result.ok, result.diagnostics
    return result.table


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("construct", sorted(REFUSED))
def test_v2_constructs_are_refused_with_e301(construct, dialect):
    text, line, words = REFUSED[construct]
    diagnostics = check(_table(text), dialect)
    assert [d.code for d in diagnostics] == ["E301"]
    (diagnostic,) = diagnostics
    assert words in diagnostic.message and dialect in diagnostic.message
    assert "--engine python" in diagnostic.hint and "--engine spark" in diagnostic.hint
    assert diagnostic.span.line == line
    with pytest.raises(UnsupportedError):
        generate(_table(text), dialect)


def test_the_cli_refuses_with_the_position_and_exit_1(tmp_path):
    (tmp_path / "m.score").write_text(REFUSED["groups"][0], encoding="utf-8")
    result = CliRunner().invoke(main, ["sql", str(tmp_path / "m.score")])
    assert result.exit_code == 1
    assert "m.score:2:1: error[E301]: groups" in result.output


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
