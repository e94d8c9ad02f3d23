"""Every user string reaches generated SQL through `compiler.sql.quoting`: property tests with
hostile text (quotes, backslashes, NUL, unicode, `'; DROP TABLE`), read back by DuckDB for
the duckdb dialect and by sqlglot's parser for the others."""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

duckdb = pytest.importorskip("duckdb", reason="the SQL targets need the `sql` extra")
sqlglot = pytest.importorskip("sqlglot", reason="the SQL targets need the `sql` extra")
from sqlglot import exp  # noqa: E402

from compiler.sql.dialects import DIALECTS, get_dialect  # noqa: E402
from compiler.sql.quoting import (QuotingError, glob_to_like, quote_identifier,  # noqa: E402
                                  quote_string)

HOSTILE = ["'; DROP TABLE events; --", "a'b", "a''b", "\\", "\\'", "'\\", "a\\nb", "\x00",
           "x\x00y\x00", "\"", "`", "``", "é", "日本語", "\U0001F600", "\n", "$1", "%_!", "*?",
           "' OR '1'='1", "\\\\'", "--", "/*", "*/", "${x}", "\r\n"]
texts = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20),
                  st.text(alphabet="'\"\\`\x00%_!*?;- é\n", max_size=12))

_CON = duckdb.connect()


def _sqlglot_value(node) -> str:
    """The string value of a parsed literal expression (literals, `||` and CHR(0))."""
    if isinstance(node, exp.Paren):
        return _sqlglot_value(node.this)
    if isinstance(node, exp.Literal) and node.is_string:
        return node.this
    if isinstance(node, (exp.DPipe, exp.Concat)):
        return "".join(_sqlglot_value(child) for child in node.iter_expressions())
    if isinstance(node, exp.Chr) and node.expressions[0].this in (0, "0"):
        return "\x00"
    name = getattr(node, "name", "")
    if isinstance(node, exp.Anonymous) and name.upper() in ("CHAR", "CHR", "CODE_POINTS_TO_STRING"):
        return "\x00"
    if isinstance(node, exp.Func) and node.sql().upper().startswith(("CHAR(0", "CODE_POINTS")):
        return "\x00"
    raise AssertionError(f"unexpected node {node!r}")


@settings(max_examples=300, deadline=None)
@given(texts)
@example("'; DROP TABLE events; --")
def test_duckdb_string_literal_reads_back_exactly(value):
    literal = quote_string(value, get_dialect("duckdb"))
    assert _CON.execute(f"SELECT {literal}").fetchone()[0] == value


@pytest.mark.parametrize("name", [n for n in DIALECTS if n != "duckdb"])
@settings(max_examples=200, deadline=None)
@given(value=texts)
def test_other_dialects_string_literal_parses_back_exactly(name, value):
    dialect = get_dialect(name)
    try:
        literal = quote_string(value, dialect)
    except QuotingError:
        assert "\x00" in value and dialect.nul_char is None
        return
    statements = sqlglot.parse(f"SELECT {literal}", read=dialect.sqlglot)
    assert len(statements) == 1
    projections = statements[0].expressions
    assert len(projections) == 1
    assert _sqlglot_value(projections[0]) == value


def test_postgres_refuses_nul():
    with pytest.raises(QuotingError):
        quote_string("a\x00b", get_dialect("postgres"))


identifiers = st.one_of(st.sampled_from([h for h in HOSTILE if "\x00" not in h]),
                        st.text(min_size=1, max_size=12).filter(lambda s: "\x00" not in s))


@settings(max_examples=200, deadline=None)
@given(identifiers)
def test_duckdb_identifier_names_exactly_that_column(name):
    ident = quote_identifier(name, get_dialect("duckdb"))
    cursor = _CON.execute(f"SELECT 1 AS {ident}")
    assert cursor.description[0][0] == name


@pytest.mark.parametrize("name", [n for n in DIALECTS if n != "duckdb"])
@settings(max_examples=100, deadline=None)
@given(value=identifiers)
def test_other_dialects_identifier_parses_back(name, value):
    dialect = get_dialect(name)
    statement = sqlglot.parse_one(f"SELECT x AS {quote_identifier(value, dialect)}",
                                  read=dialect.sqlglot)
    assert statement.expressions[0].alias == value


def test_identifier_refuses_nul_and_empty():
    for bad in ("", "a\x00b"):
        with pytest.raises(QuotingError):
            quote_identifier(bad, get_dialect("duckdb"))


def _glob(pattern: str, text: str) -> bool:
    """The language's glob (docs/language.md 3.1): `*` any run, `?` one character, whole string."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, flags=re.DOTALL) is not None


glob_alphabet = "ab*?%_!\\'é\n/"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=glob_alphabet, max_size=8), st.text(alphabet=glob_alphabet, max_size=8))
@example("blog/*", "blog")
@example("a!%", "a!%")
@example("a%", "ab")
def test_glob_as_like_matches_like_the_language(pattern, text):
    dialect = get_dialect("duckdb")
    like = dialect.like("?::VARCHAR", glob_to_like(pattern, dialect.like_escape))
    assert _CON.execute(f"SELECT {like}", [text]).fetchone()[0] == _glob(pattern, text)


json_values = st.one_of(st.integers(-10**15, 10**15), st.floats(allow_nan=False,
                        allow_infinity=False, width=32), st.booleans(), st.text(max_size=6),
                        st.none(), st.lists(st.integers(), max_size=2))


@settings(max_examples=200, deadline=None)
@given(identifiers, json_values)
def test_duckdb_json_access_is_typed_and_exact_for_any_key(key, value):
    dialect = get_dialect("duckdb")
    document = json.dumps({key: value, key + "x": "other"})
    number, text, flag = (f(" ? ", key) for f in (dialect.json_number, dialect.json_text,
                                                  dialect.json_bool))
    row = _CON.execute(f"SELECT {number}, {text}, {flag}",
                       [document, document, document, document, document, document]).fetchone()
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    assert row[0] == (float(value) if is_number else None)
    assert row[1] == (value if isinstance(value, str) else None)
    assert row[2] == (value if isinstance(value, bool) else None)
