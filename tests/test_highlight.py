"""Highlighting outside the language server: the Pygments lexer (`pygmentize -l score`)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pygments.token import Error, Generic, Keyword, Name, Number, String, Token

from dsl.ast import KEYWORDS
from dsl.highlight import ALL_KEYWORDS, ScoreLexer

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted([*ROOT.glob("examples/**/*.score"), *ROOT.glob("tests/golden/**/*.score"),
                  *ROOT.glob("tests/conformance/0*/model.score")])

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _tokens(text: str) -> list[tuple]:
    return [(kind, value) for kind, value in ScoreLexer().get_tokens(text) if value.strip()]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_model_lexes_without_error_tokens(path):
    text = path.read_text(encoding="utf-8")
    tokens = list(ScoreLexer(stripnl=False).get_tokens(text))
    assert [t for t in tokens if t[0] in Error] == []
    # the lexer loses no text (Pygments adds one final newline)
    assert "".join(value for _, value in tokens).rstrip("\n") == text.rstrip("\n")


def test_the_lexer_knows_every_keyword_of_the_parser():
    assert set(KEYWORDS) | {"score", "stage", "contact"} <= set(ALL_KEYWORDS)


def test_tokens_of_a_rule_line():
    assert _tokens("visit pricing +15 engagement at most 1 per day  # why") == [
        (Name.Function, "visit"), (Name, "pricing"), (Generic.Inserted, "+15"),
        (Name.Variable, "engagement"), (Keyword, "at"), (Keyword, "most"), (Number, "1"),
        (Keyword, "per"), (Keyword, "day"), (Token.Comment.Single, "# why")]
    assert _tokens("unsubscribe -20")[1] == (Generic.Deleted, "-20")
    assert _tokens("email_sent without email_open within 24 hours -5")[2:5] == [
        (Name.Function, "email_open"), (Keyword, "within"), (Number.Other, "24 hours")]


def test_labels_strings_and_dates():
    tokens = _tokens('grade tier by fit: A >= 30, else D\nwhen tier in (A, B) tag "hot"\n')
    assert (Name.Constant, "A") in tokens and (Name.Constant, "D") in tokens
    assert tokens.count((Name.Constant, "A")) == 2 and (Name.Constant, "B") in tokens
    assert (String.Double, '"hot"') in tokens
    test = _tokens('test "t":\n    at 2026-03-02T10:00:00Z visit pricing\n    expect stage '
                   'is not MQL\n')
    assert (Number.Other, "2026-03-02T10:00:00Z") in test and (Name.Function, "visit") in test
    assert test[-1] == (Name.Constant, "MQL")


def test_text_the_language_cannot_hold_is_an_error_token():
    assert (Error, "$") in _tokens("visit $ +5")


def test_the_lexer_is_registered_as_a_pygments_entry_point():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    entry = project["project"]["entry-points"]["pygments.lexers"]["score"]
    module, _, name = entry.partition(":")
    assert module == ScoreLexer.__module__ and name == ScoreLexer.__name__


def test_pygments_finds_the_lexer_by_name_once_installed():
    from importlib.metadata import entry_points

    from pygments.lexers import get_lexer_by_name

    installed = [e for e in entry_points(group="pygments.lexers") if e.name == "score"]
    if not installed:
        pytest.skip("scorelang is installed without the entry point (reinstall with pip)")
    assert get_lexer_by_name("score").name == ScoreLexer.name
