"""The parser and formatter on accounts (docs/language.md 10.6): what each statement reads as,
where `account`, `sum`, `count`, `of`, `max`, `min` are keywords, and round trips."""
import pytest
from hypothesis import HealthCheck, given, settings

from dsl import ast
from dsl.formatter import format_model, statement_text
from dsl.parser import parse_text

from strategies import account_statements


def _statements(text: str):
    result = parse_text(text)
    assert result.diagnostics == (), result.diagnostics
    return result.model.statements


def _one(text: str):
    (statement,) = _statements(text)
    return statement


def _diagnostics(text: str):
    return [(d.code, d.message) for d in parse_text(text).diagnostics]


def test_account_by():
    assert _one("account by company_domain") == ast.AccountBy("company_domain")


@pytest.mark.parametrize("text, expected", [
    ("account score heat = sum of engagement",
     ast.AccountScore("heat", "sum", "engagement")),
    ("account score best = max of fit", ast.AccountScore("best", "max", "fit")),
    ("account score worst = min of fit", ast.AccountScore("worst", "min", "fit")),
    ("account score members = count", ast.AccountScore("members", "count")),
])
def test_aggregates(text, expected):
    assert _one(text) == expected


def test_sum_with_where_is_a_filter():
    statement = _one("account score a_heat = sum of engagement where tier in (A, B)")
    assert statement.aggregate == "sum" and statement.condition is None
    assert statement.where == ast.In(ast.Ref("tier"), (ast.Label("A"), ast.Label("B")))


def test_count_where_is_what_is_counted_and_a_second_where_filters():
    one = _one("account score champions = count where stage is SQL")
    assert one.condition == ast.Compare(ast.Ref("stage"), "is", ast.Label("SQL"))
    assert one.where is None
    two = _one('account score vp = count where title = "VP*" where tier is A')
    assert two.condition == ast.Compare(ast.Ref("title"), "=", ast.Text("VP*"))
    assert two.where == ast.Compare(ast.Ref("tier"), "is", ast.Label("A"))


def test_account_grade():
    grade = _one("account grade abm by heat: Hot >= 150, Warm >= 60, else Cold")
    assert grade == ast.AccountGrade("abm", "heat", (ast.Band("Hot", 150), ast.Band("Warm", 60)),
                                     "Cold")
    assert _one("account grade g by s: 1 >= 5").bands == (ast.Band("1", 5),)


def test_positions_are_kept():
    score = _statements("score e\naccount score heat = sum of e")[1]
    assert (score.span.line, score.span.column) == (2, 1)


def test_account_needs_quotes_at_a_rule_start():
    (diagnostic,) = _diagnostics("account +5")
    assert diagnostic[0] == "E001" and "account statement" in diagnostic[1]
    assert _one('"account" +5').event == "account"


@pytest.mark.parametrize("word", ["account", "sum", "count", "of", "max", "min"])
def test_account_words_are_names_elsewhere(word):
    statements = _statements(f"score {word}\nvisit +1 {word}\nwhen {word} >= 3 tag x\n"
                             f"account score {word} = sum of {word} where {word} > 1\n"
                             f"account grade {word} by {word}: A >= 1")
    assert statements[0].name == word
    assert statements[1].score == word
    assert statements[2].condition.ref.name == word
    assert (statements[3].name, statements[3].score, statements[3].where.ref.name) == (
        word, word, word)
    assert (statements[4].name, statements[4].score) == (word, word)


def test_an_account_score_is_written_with_equals():
    assert _diagnostics("account score heat >= sum of e") == [
        ("E006", "an account score is written `account score heat = ...`, not with `>=`")]


@pytest.mark.parametrize("text", [
    "account score heat sum of engagement",  # no `=`
    "account score heat = avg of engagement",  # not an aggregate
    "account score heat = sum engagement",  # no `of`
    "account score heat = sum of e where a where b",  # two filters on a sum
    "account by",
    "account by a b",
    "account grade g by s",  # no bands
])
def test_malformed_account_statements_are_syntax_errors(text):
    codes = [code for code, _ in _diagnostics(text)]
    assert codes and codes[0] == "E001", codes


def test_a_grade_band_needs_at_least():
    assert _diagnostics("account grade g by s: A > 3")[0][0] == "E006"


@pytest.mark.parametrize("text", [
    "account by company_domain",
    "account score heat = sum of engagement",
    "account score c = count",
    "account score c = count where stage is SQL",
    'account score c = count where title = "VP*" where tier is A or fit > 10',
    "account score b = max of fit where (a or b) and c",
    "account grade abm by heat: Hot >= 150, Warm >= 60.5, else Cold",
])
def test_canonical_text_is_a_fixed_point(text):
    statement = _one(text)
    assert statement_text(statement) == text


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(account_statements)
def test_generated_account_statements_round_trip(statement):
    text = format_model(ast.Model((statement,)))
    assert _one(text) == statement
