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
