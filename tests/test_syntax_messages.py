"""The friendly syntax messages (dsl/syntax_catalogue.json) wherever the mistake is in a file,
and copy-paste characters named with the ASCII to type instead."""
import json
from pathlib import Path

import pytest

from dsl.parser import parse_text

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = json.loads((ROOT / "dsl" / "syntax_catalogue.json").read_text(encoding="utf-8"))

# What may come before the mistake: the catalogue's parser states must not depend on it.
BEFORE = {
    "first line": "",
    "after a rule": "visit home +5\n",
    "after a blank line": "\n",
    "after a comment": "# engagement\n",
    "after two rules and a comment": 'score engagement 0..100\nvisit home +5  # c\n\n',
    "after a test block": 'test "t":\n    visit home\n    expect score = 5\n\n',
}

CASES = [(entry["message"], example)
         for entry in CATALOGUE["entries"] for example in entry["examples"]]


@pytest.mark.parametrize("before", BEFORE.values(), ids=list(BEFORE))
@pytest.mark.parametrize("message, example", CASES, ids=[e for _, e in CASES])
def test_catalogue_message_wherever_the_mistake_is(message, example, before):
    diagnostics = parse_text(before + example, "m.score").diagnostics
    assert diagnostics, "the example must be a syntax error"
    first = diagnostics[0]
    assert first.message == message, (first.message, first.hint)
    assert first.hint
    assert first.span.line > before.count("\n")


def test_catalogue_message_after_a_semicolon():
    first = parse_text("visit home +5; visit pricing 15\n").diagnostics[0]
    assert first.message == "points need a sign" and "+15" in first.hint


def test_every_mistake_of_a_file_gets_its_message():
    text = "visit pricing 15\nvisit home +5\nwhen score >= 80\nunsubscribe -20\nstage MQL\n"
    messages = [d.message for d in parse_text(text).diagnostics]
    assert messages == ["points need a sign", "a trigger needs an action after its condition",
                        "a stage needs `when` and a condition"]


PASTED = [
    ("visit pricing \u221230\n", 15, "\u2212", "-"),
    ("when score \u2265 80 notify sales\n", 12, "\u2265", ">="),
    ("if employees \u2264 10 -5\n", 14, "\u2264", "<="),
    ("if title = \u201cCEO\u201d +5\n", 12, "\u201c", '"'),
    ('test "t":\n    contact title = \u201cCEO\u201d\n    expect score = 0\n', 21, "\u201c", '"'),
    ("visit pricing +15 at most 3 \u2013 per day\n", 29, "\u2013", "-"),
    ("if country \u2260 \"DE\" +1\n", 12, "\u2260", "!="),
]


@pytest.mark.parametrize("text, column, char, ascii", PASTED, ids=[p[2] for p in PASTED])
def test_pasted_characters_are_named_with_what_to_type(text, column, char, ascii):
    before = "visit home +5\n"
    first = parse_text(before + text + "visit x +1\n").diagnostics[0]
    assert first.code == "E002"
    assert first.span.column == column and first.span.line == 2 + text[:text.find(char)].count("\n")
    assert f"`{char}`" in first.message and f"U+{ord(char):04X}" in first.message
    assert f"type `{ascii}` instead" in first.hint


def test_a_typographic_closing_quote_is_named_in_the_unterminated_text_hint():
    first = parse_text('if title = "CEO\u201d +5\n').diagnostics[0]
    assert first.code == "E003"
    assert "\u201d" in first.hint and 'type `"`' in first.hint


def test_invisible_characters_are_named():
    nbsp = parse_text("visit\u00a0pricing +1\n").diagnostics[0]
    assert "non-breaking space" in nbsp.message and "plain space" in nbsp.hint
    zero_width = parse_text("visit pricing\u200b +1\n").diagnostics[0]
    assert "zero-width space" in zero_width.message and "delete" in zero_width.hint


def test_pasted_characters_inside_quotes_and_comments_are_text():
    result = parse_text('if title = "VP \u2013 Sales \u2265 x" +5  # \u201cfit\u201d \u2212 10\n')
    assert result.diagnostics == ()


def test_a_test_line_indented_too_far_is_an_indentation_error():
    text = 'test "t":\n    visit x\n        expect score = 0\n    expect score = 1\nvisit x +1\n'
    result = parse_text(text)
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [("E004", 3, 5)]
    assert "indented further" in result.diagnostics[0].message
    assert len(result.model.statements) == 2  # the rest is still read
