"""`score test` on language v2 (docs/language.md 10.7): `expect GROUP op N` reads the group's
value from the engine, `expect notify|tag ARG N times` counts firings (`0 times` is `no`)."""
from __future__ import annotations

import pytest

from compiler.pipeline import compile_text
from compiler.review import testing
from dsl import ast
from runtime import Engine

MODEL = """score engagement 0..100
group email of engagement max 10
email_open +3 email
"Page Viewed" +1
when email >= 10 tag maxed
when engagement >= 1 notify sales each time
when engagement >= 12 notify sales each time
grade heat by engagement: 1 >= 11, else 2
"""


def _outcome(steps: str):
    text = MODEL + 'test "t":\n' + "".join(f"    {line}\n" for line in steps.splitlines())
    compiled = compile_text(text, "m.score")
    assert compiled.ok, compiled.diagnostics
    test = next(s for s in compiled.model.statements if isinstance(s, ast.Test))
    return testing.run_test(test, Engine(compiled.table))


EVENTS = "email_open\nemail_open\nemail_open\nemail_open\n\"Page Viewed\"\n"


@pytest.mark.parametrize("expect, passed", [
    ("expect email = 10", True),          # 12 points, held at max 10
    ("expect email >= 11", False),
    ("expect engagement = 11", True),
    ("expect heat is 1", True),           # a digit label
    ("expect tag maxed 1 time", True),
    ("expect tag maxed 1 times", True),
    ("expect tag maxed 2 times", False),
    ("expect notify sales 1 times", True),  # the second trigger never holds (11 < 12)
    ("expect notify sales 2 times", False),
    ("expect tag other 0 times", True),
    ("expect tag maxed 0 times", False),  # 0 times means `no`
])
def test_v2_expectations(expect, passed):
    outcome = _outcome(EVENTS + expect)
    assert outcome.passed is passed, outcome.expects


def test_a_failing_group_expect_shows_its_awards_and_the_bound():
    (result,) = _outcome(EVENTS + "expect email = 12").expects
    assert result.actual == "email = 10"
    assert result.because[-1] == ("group email of engagement: awards sum to 12, value 10, "
                                  "held at its max 10")
    assert sum("email_open" in line for line in result.because) == 4


def test_a_failing_count_says_how_many_times_it_fired():
    (result,) = _outcome(EVENTS + "expect notify sales 3 times").expects
    assert result.expected == "notify sales 3 times"
    assert result.actual.startswith("notify sales fired 1 time (notify sales at ")


def test_an_unknown_name_lists_scores_and_groups():
    result = testing.check_expect(ast.ExpectScore("emal", "=", 1),
                                  {"scores": {"engagement": 3}, "groups": {"email": 3}})
    assert result.actual == "no score or group named emal (engagement, email)"
