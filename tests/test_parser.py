"""The parser: every program of the spec parses; bad text only ever gives diagnostics."""
import random
import re
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import ast
from dsl.parser import MAX_DEPTH, parse_text
from fuzz import RANDOM_TEXTS, mutate

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
CONFORMANCE_MODELS = sorted((ROOT / "tests" / "conformance").glob("*/model.score"))
EXAMPLES = sorted((ROOT / "examples").glob("*.score"))


def _spec_programs():
    """The `score` fenced blocks of the language reference (templates are `text`, data `json`)."""
    blocks = re.findall(r"^( *)```score\n(.*?)^\1```", LANGUAGE, re.S | re.M)
    return [textwrap.dedent(block) for _, block in blocks]


# Statements of the language reference, each a complete program on its own.
SPEC_SNIPPETS = [
    "besuch preisseite +15",
    'visit "blog/*" +10 at most 5',
    "visit pricing where seconds >= 30 +5",
    'visit pricing where contact.country = "DE" +5',
    "download (ebook, whitepaper) +15",
    "email_sent without email_open within 24 hours -5",
    "email_sent without email_open any within 24h -5",
    "require consent",
    "require consent = true",
    "decay engagement 10% every 30 days",
    "expire score after 7 days",
    "grade tier by fit: A >= 30, B >= 15, C >= 0, else D",
    "stage MQL when engagement >= 50 and tier in (A, B)",
    "when stage is SQL notify sales, reset engagement",
    'when tier is D tag "not-a-fit"',
    'when engagement >= 40 tag "hot" each time',
    "when stage is not SQL notify nurture",
    "if employees >= 200 +15 fit",
    'event visit target page (seconds: number, url: text, first: bool)',
    'include "catalog.score"',
    'timezone "Europe/Berlin"',
    "score engagement 0..",
    "score balance -50..50",
    "visit any +1; unsubscribe -20",
    "email_open +1 at most 3 per day",
    "visit pricing +10 at most 1 per week",
    "visit pricing +10 at most 2 per month",
    "submit contact_form +30 once",
    'if not (title in ("CEO", "CTO") or employees > 1000) and region != "EU" -5',
    'if title not in ("intern*") +1',
]


@pytest.mark.parametrize("index", range(len(_spec_programs())))
def test_spec_programs_parse(index):
    result = parse_text(_spec_programs()[index], "language.md")
    assert result.diagnostics == ()
    assert result.model.statements


def test_language_reference_fences_say_what_they_hold():
    # an unlabelled block would be skipped silently by the program tests above
    fences = re.findall(r"^ *```(.*)$", LANGUAGE, re.M)
    openings = fences[0::2]
    assert openings and set(openings) <= {"score", "text", "json"}, openings
    assert not any(fences[1::2]), "a closing fence carries a label: a block is unbalanced"


def test_spec_has_both_full_programs():
    programs = _spec_programs()
    assert any("test " in p for p in programs) and len(programs) >= 2


@pytest.mark.parametrize("snippet", SPEC_SNIPPETS)
def test_spec_snippets_parse(snippet):
    result = parse_text(snippet)
    assert result.diagnostics == (), result.diagnostics
    assert result.model.statements


@pytest.mark.parametrize("path", CONFORMANCE_MODELS, ids=lambda p: p.parent.name)
def test_conformance_models_parse(path):
    result = parse_text(path.read_text(encoding="utf-8"), str(path))
    assert result.diagnostics == ()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_parse(path):
    assert parse_text(path.read_text(encoding="utf-8"), str(path)).diagnostics == ()


def test_realistic_model_builds_the_expected_ast():
    model = parse_text(_spec_programs()[1]).model
    kinds = [type(s).__name__ for s in model.statements]
    assert kinds.count("EventRule") == 9 and kinds.count("ProfileRule") == 3
    absence = next(s for s in model.statements if isinstance(s, ast.AbsenceRule))
    assert absence == ast.AbsenceRule("email_sent", ast.NO_TARGETS, "email_open", ast.NO_TARGETS,
                                      ast.Duration(24, "hour"), -5)
    blog = next(s for s in model.statements
                if isinstance(s, ast.EventRule) and s.targets.items == ("blog/*",))
    assert blog.points == 10 and blog.limit == ast.Limit(5)
    grade = next(s for s in model.statements if isinstance(s, ast.Grade))
    assert [b.label for b in grade.bands] == ["A", "B", "C"] and grade.otherwise == "D"
    stage = next(s for s in model.statements if isinstance(s, ast.Stage))
    assert stage.condition == ast.And((
        ast.Compare(ast.Ref("engagement"), ">=", ast.Number(50)),
        ast.In(ast.Ref("tier"), (ast.Label("A"), ast.Label("B")))))
    test = model.statements[-1]
    assert isinstance(test, ast.Test) and test.name == "a CEO who compares prices becomes MQL"
    assert test.steps[0] == ast.TestContact((
        ast.Assignment("title", ast.Text("CEO")), ast.Assignment("employees", ast.Number(250)),
        ast.Assignment("consent", ast.Bool(True))))
    assert test.steps[1] == ast.TestEvent("visit", "pricing", "2026-03-02")
    assert ast.ExpectAction("notify", "sales", negated=True) in test.steps
    assert ast.ExpectLabel("tier", "A") in test.steps


def test_where_names_and_contact_prefix():
    rule = parse_text('visit pricing where seconds >= 30 and contact.country = "DE" +5').model
    where = rule.statements[0].where
    assert where.operands[0].ref == ast.Ref("seconds")
    assert where.operands[1].ref == ast.Ref("country", contact=True)


def test_soft_keywords_are_names_in_conditions():
    model = parse_text("score score 0..100\nstage S when score >= 1\n"
                       "when stage is S notify sales").model
    assert model.statements[0] == ast.ScoreDecl("score", 0, 100, True)
    assert model.statements[2].condition == ast.Compare(ast.Ref("stage"), "is", ast.Label("S"))


def test_test_block_times_and_steps():
    text = ('test "t":\n    at 2026-03-02T10:15:00+01:00 visit pricing with seconds = 40\n'
            '    after 2 days email_open "m-1"\n    visit home\n    now after 1h\n'
            '    expect score >= 3; expect unscored\n    expect stage is not SQL\n')
    steps = parse_text(text).model.statements[0].steps
    assert steps[0] == ast.TestEvent("visit", "pricing", "2026-03-02T10:15:00+01:00", None,
                                     (ast.Assignment("seconds", ast.Number(40)),))
    assert steps[1] == ast.TestEvent("email_open", "m-1", None, ast.Duration(2, "day"))
    assert steps[2] == ast.TestEvent("visit", "home")
    assert steps[3] == ast.TestNow(None, ast.Duration(1, "hour"))
    assert steps[4:] == (ast.ExpectScore("score", ">=", 3), ast.ExpectUnscored(),
                         ast.ExpectLabel("stage", "SQL", negated=True))


def test_strings_unescape_and_unicode_names():
    model = parse_text('visit "say \\"hi\\" \\\\ now" +1\nbesuch preisseite +15').model
    assert model.statements[0].targets.items == ('say "hi" \\ now',)
    assert model.statements[1].event == "besuch"


def test_spans_point_at_statements_and_words():
    model = parse_text("score engagement 0..100\n\nvisit pricing +15 engagement  # c\n").model
    rule = model.statements[1]
    assert (rule.span.line, rule.span.column) == (3, 1)
    assert (rule.targets.span.line, rule.targets.span.column) == (3, 7)


def test_multiline_lists_inside_parentheses():
    model = parse_text('download (ebook,\n          whitepaper) +15\nvisit x +1').model
    assert model.statements[0].targets.items == ("ebook", "whitepaper")
    assert model.statements[1].span.line == 3


SYNTAX_ERRORS = [
    ("visit pricing 15", "E001", 1, 15, "points need a sign"),
    ("visit pricing", "E001", 1, 14, "gives no points"),
    ("when score >= 80", "E001", 1, 17, "needs an action"),
    ("stage MQL", "E001", 1, 10, "needs `when`"),
    ('test "x"\n', "E001", 1, 9, "followed by `:`"),
    ("visit pricing +1\n    visit home +2", "E001", 2, 5, "may be indented"),
    ('visit "blog/* +5', "E003", 1, 7, "no closing quote"),
    ('visit pricing "x" +5', "E001", 1, 15, "expected points such as +15"),
    ("visit pricing +5 at most 3 per fortnight", "E006", 1, 32, "calendar period"),
    ("grade t by s: A > 3, else B", "E006", 1, 17, "A >= N"),
    ("decay engagement 120% every 30 days", "E204", 1, 18, "between 0% and 100%"),
    ("visit x +1 at most 0", "E205", 1, 20, "at least 1"),
    ('test "t":\n    contact a = 1\n\tvisit x\n', "E004", 3, 1, "tabs and spaces"),
    ('test "t":\n    at 2026-02-30 visit x\n', "E006", 2, 8, "not a valid date"),
    ('test "t":\n    at 2026-02-03T10:00 visit x\n', "E006", 2, 8, "no time zone"),
    ("visit pricing +15 @", "E002", 1, 19, "found `@`"),
]


@pytest.mark.parametrize("text, code, line, column, words", SYNTAX_ERRORS)
def test_syntax_errors_in_words_at_the_right_place(text, code, line, column, words):
    diagnostics = parse_text(text, "m.score").diagnostics
    first = diagnostics[0]
    assert (first.code, first.span.line, first.span.column) == (code, line, column)
    assert words in first.message + (first.hint or "")
    assert "NAME" not in first.message and "POINTS" not in first.message


def test_every_error_is_reported_and_the_rest_is_parsed():
    text = "visit pricing 15\nvisit home +5\nwhen score >= 80\nunsubscribe -20\nstage MQL\n"
    result = parse_text(text)
    assert [d.span.line for d in result.diagnostics] == [1, 3, 5]
    assert [s.event for s in result.model.statements] == ["visit", "unsubscribe"]


def test_ten_thousand_nested_parentheses_is_a_clear_error():
    text = "when " + "(" * 10_000 + "x" + ")" * 10_000 + " notify s\nvisit a +1\n"
    result = parse_text(text)
    assert [d.code for d in result.diagnostics] == ["E005"]
    assert result.diagnostics[0].span.column == 5 + MAX_DEPTH + 1
    assert len(result.model.statements) == 1


def test_ten_thousand_nots_is_a_clear_error():
    result = parse_text("when " + "not " * 10_000 + "x notify s\nvisit a +1\n")
    assert [d.code for d in result.diagnostics] == ["E005"]
    assert len(result.model.statements) == 1


def test_a_megabyte_of_junk_gives_bounded_diagnostics():
    rnd = random.Random(7)
    junk = "".join(rnd.choice('ab (+)"#\n\t;:=<>0123456789xyz-.') for _ in range(1_000_000))
    result = parse_text(junk)
    assert 1 <= len(result.diagnostics) <= 51
    assert all(d.span is not None and d.span.line >= 1 for d in result.diagnostics)


def test_a_megabyte_of_rules_parses():
    text = 'visit pricing +15 at most 3 per day\nif title in ("CEO", "VP*") +20 fit\n' * 14_200
    assert len(text) > 1_000_000
    result = parse_text(text)
    assert result.diagnostics == () and len(result.model.statements) == 28_400


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RANDOM_TEXTS)
def test_random_text_only_ever_yields_diagnostics(text):
    result = parse_text(text, "fuzz.score")
    for diagnostic in result.diagnostics:
        assert diagnostic.code.startswith("E") and diagnostic.span.line >= 1


def _mutation_sources():
    sources = [p.read_text(encoding="utf-8") for p in EXAMPLES]
    return sources + [_spec_programs()[1]]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_examples_only_ever_yield_diagnostics(data):
    text = mutate(data, data.draw(st.sampled_from(_mutation_sources())))
    result = parse_text(text, "mutated.score")
    assert result.model is not None or result.diagnostics
