"""`score test`: test blocks -> engine input, expect checks, runner output, JUnit XML."""
from __future__ import annotations

import importlib.util
import pathlib
import xml.etree.ElementTree as ET

import pytest

from compiler.review import testing
from compiler.review.reports import junit, render, views
from dsl import ast
from dsl.source import Span
from runtime.events import MICROS, parse_time

GOLDEN = pathlib.Path(__file__).parent / "golden" / "test_runner"
START = parse_time("2026-01-01T00:00:00Z")
HOUR = 3600 * MICROS

needs_engine = pytest.mark.skipif(
    importlib.util.find_spec("dsl.parser") is None
    or not hasattr(__import__("runtime"), "Engine"),
    reason="needs the parser (dsl/parser.py) and runtime.Engine, written by other engineers")


def span(line: int, column: int = 5) -> Span:
    return Span("m.score", line, column, line, column + 10)


def event(name: str, target=None, at=None, after=None, line=2, **props) -> ast.TestEvent:
    properties = tuple(ast.Assignment(k, ast.Number(v)) for k, v in props.items())
    return ast.TestEvent(name, target, at, after, properties, span=span(line))


def block(*steps) -> ast.Test:
    return ast.Test("t", tuple(steps), span=span(1, 1))


# --------------------------------------------------------------------------- scenario


def test_first_event_defaults_to_start_and_later_lines_add_one_second():
    scenario = testing.scenario_of(block(event("visit"), event("visit"), event("visit")))
    assert [e.at for e in scenario.events] == [START, START + MICROS, START + 2 * MICROS]
    assert scenario.as_of == START + 2 * MICROS


def test_after_on_the_first_line_counts_from_start():
    scenario = testing.scenario_of(block(event("visit", after=ast.Duration(2, "hour"))))
    assert scenario.events[0].at == START + 2 * HOUR


def test_at_date_is_midnight_utc_and_after_counts_from_previous_line():
    scenario = testing.scenario_of(block(
        event("visit", at="2026-03-02"),
        event("visit", after=ast.Duration(30, "minute")),
        event("visit"),
        event("visit", at="2026-03-01T10:00:00+01:00"),
    ))
    march_2 = parse_time("2026-03-02T00:00:00Z")
    assert [e.at for e in scenario.events] == [
        march_2, march_2 + 1800 * MICROS, march_2 + 1801 * MICROS,
        parse_time("2026-03-01T09:00:00Z")]
    # the default as-of time is the latest event time, not the last line's
    assert scenario.as_of == march_2 + 1801 * MICROS


def test_now_sets_the_as_of_time():
    at = testing.scenario_of(block(event("visit"), ast.TestNow(at="2026-02-01")))
    assert at.as_of == parse_time("2026-02-01T00:00:00Z")
    after = testing.scenario_of(block(event("visit", at="2026-03-02"),
                                      ast.TestNow(after=ast.Duration(30, "day"))))
    assert after.as_of == parse_time("2026-04-01T00:00:00Z")


def test_test_without_events_is_as_of_start():
    assert testing.scenario_of(block(ast.ExpectUnscored())).as_of == START


def test_profile_properties_targets_and_order():
    scenario = testing.scenario_of(block(
        ast.TestContact((ast.Assignment("title", ast.Text("CEO")),
                         ast.Assignment("employees", ast.Number(250)),
                         ast.Assignment("consent", ast.Bool(True)))),
        event("visit", "pricing", seconds=42),
        event("email_open"),
    ))
    assert scenario.profile == {"title": "CEO", "employees": 250, "consent": True}
    first, second = scenario.events
    assert (first.contact, first.event, first.target, first.props) == \
        (testing.TEST_CONTACT, "visit", "pricing", {"seconds": 42})
    assert (second.target, second.seq) == (None, 1)


def test_unreadable_date_is_an_error_with_position_not_an_exception():
    test = block(event("visit", at="2026-02-30", line=7))
    outcome = testing.run_test(test, engine=None)
    assert not outcome.passed
    assert outcome.errors[0].startswith("m.score:7:5: error:")


# --------------------------------------------------------------------------- expects

RESULT = {"contact": "test", "scores": {"engagement": 70, "fit": 35}, "grades": {"tier": "A"},
          "stage": "MQL", "actions": [{"at": "2026-03-03T00:00:00Z", "action": "tag",
                                       "arg": "hot"}]}
UNSCORED = {"contact": "test", "scores": {"engagement": None, "fit": None}, "grades": {},
            "stage": None, "actions": []}


@pytest.mark.parametrize("op, value, passed", [
    ("=", 70, True), ("=", 71, False), ("!=", 70, False), ("<", 71, True), ("<=", 69, False),
    (">", 69, True), (">=", 71, False),
])
def test_score_comparisons(op, value, passed):
    result = testing.check_expect(ast.ExpectScore("engagement", op, value, span=span(9)), RESULT)
    assert result.passed is passed
    assert result.actual == "engagement = 70"
    assert result.at == "m.score:9:5"


def test_unknown_score_says_so():
    result = testing.check_expect(ast.ExpectScore("intent", "=", 0, span=span(3)), RESULT)
    assert not result.passed
    assert result.actual == "no score named intent (scores: engagement, fit)"


def test_score_of_unscored_contact_never_satisfies_a_comparison():
    result = testing.check_expect(ast.ExpectScore("engagement", "!=", 3, span=span(3)), UNSCORED)
    assert not result.passed and result.actual == "engagement = null (unscored)"


@pytest.mark.parametrize("expect, passed", [
    (ast.ExpectLabel("stage", "MQL"), True),
    (ast.ExpectLabel("stage", "SQL"), False),
    (ast.ExpectLabel("stage", "SQL", negated=True), True),
    (ast.ExpectLabel("tier", "A"), True),
    (ast.ExpectLabel("tier", "B"), False),
    (ast.ExpectUnscored(), False),
    (ast.ExpectAction("tag", "hot"), True),
    (ast.ExpectAction("tag", "hot", negated=True), False),
    (ast.ExpectAction("notify", "sales"), False),
    (ast.ExpectAction("notify", "sales", negated=True), True),
])
def test_label_unscored_and_action_expects(expect, passed):
    assert testing.check_expect(expect, RESULT).passed is passed


def test_unscored_and_missing_stage():
    assert testing.check_expect(ast.ExpectUnscored(), UNSCORED).passed
    result = testing.check_expect(ast.ExpectLabel("stage", "MQL", span=span(4)), UNSCORED)
    assert not result.passed and result.actual == "stage is (none)"


def test_failure_lists_the_awards_of_the_explanation():
    explanation = {"awards": [
        {"score": "engagement", "points": 15, "contribution": 12, "kind": "event",
         "event": {"event": "visit", "target": "pricing", "at": "2026-03-02T00:00:00Z"},
         "status": "counted", "rule": "r1", "source": "m.score:3"},
        {"score": "engagement", "points": -5, "kind": "absence", "absence_of": "email_open",
         "after": {"event": "email_sent", "target": "n1", "at": "2026-03-01T00:00:00Z"},
         "status": "reset", "reset_at": "2026-03-03T00:00:00Z", "rule": "r2",
         "source": "m.score:4"},
        {"score": "fit", "points": 20, "contribution": 20, "kind": "event", "rule": "r9",
         "event": {"event": "visit"}, "status": "counted", "source": "m.score:9"},
    ], "profile": [{"score": "fit", "points": 20, "rule": "r7", "source": "m.score:7",
                    "condition": 'title = "CEO"'}]}
    score = testing.check_expect(ast.ExpectScore("engagement", "=", 99, span=span(5)), RESULT,
                                 explanation)
    assert score.because == (
        "m.score:3 [r1] visit pricing at 2026-03-02T00:00:00Z: +15 engagement -> contributes 12",
        "m.score:4 [r2] no email_open after email_sent n1 at 2026-03-01T00:00:00Z: -5 engagement"
        " -> discarded by reset at 2026-03-03T00:00:00Z")
    grade = testing.check_expect(ast.ExpectLabel("tier", "B", span=span(6)), RESULT,
                                 {**explanation, "grade_scores": {"tier": "fit"}})
    assert grade.because == ("m.score:9 [r9] visit: +20 fit -> contributes 20",
                             'm.score:7 [r7] profile if title = "CEO": +20 fit')


# --------------------------------------------------------------------------- reports


def _run() -> testing.TestRun:
    passed = testing.TestOutcome("m.score", 1, "passes", (
        testing.ExpectResult("expect stage is MQL", "m.score:3:5", True, "stage is MQL",
                             "stage is MQL"),))
    failed = testing.TestOutcome("m.score", 5, "fails", (
        testing.ExpectResult("expect engagement = 80", "m.score:8:5", False, "engagement = 80",
                             "engagement = 70", ("+70 engagement from visit pricing",)),))
    broken = testing.TestOutcome("other.score", 0, "(compile)",
                                 errors=("other.score:1:1: error[E001]: unexpected text",))
    return testing.TestRun((passed, failed, broken))


def test_text_report_is_pytest_like_and_ends_with_the_summary():
    text = render("test", views.test_view(_run()))
    lines = text.splitlines()
    assert lines[:3] == ["m.score::passes PASSED", "m.score::fails FAILED",
                         "other.score::(compile) FAILED"]
    assert lines[-1] == "1 passed, 2 failed"
    assert "m.score:8:5: expect engagement = 80" in lines
    assert "    actual:   engagement = 70" in lines


def test_junit_xml_structure():
    root = ET.fromstring(junit.junit_xml(_run()))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["m.score", "other.score"]
    assert [s.get("tests") for s in suites] == ["2", "1"]
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == ["passes", "fails"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure.get("message") == "m.score:8:5: expected engagement = 80, actual engagement = 70"
    assert "+70 engagement from visit pricing" in failure.text
    assert suites[1].find("testcase").find("error") is not None
    assert all(float(c.get("time")) >= 0 for c in root.iter("testcase"))


# --------------------------------------------------------------------------- with the engine

MODEL = """\
score engagement 0..100
score fit
require consent
visit pricing +15
register webinar +25
submit contact_form +30 once
if title = "CEO" +20 fit
grade tier by fit: A >= 20, else C
stage MQL when engagement >= 50
stage SQL when engagement >= 80
when stage is SQL notify sales, reset engagement
"""

PASSING = MODEL + """
test "a CEO who compares prices becomes MQL":
    contact title = "CEO", consent = true
    at 2026-03-02 visit pricing
    register webinar
    submit contact_form
    expect engagement = 70
    expect tier is A
    expect stage is MQL
    expect no notify sales

test "the contact form after two webinars hands over":
    contact consent = true
    register webinar
    register webinar
    submit contact_form
    expect stage is SQL
    expect notify sales
    expect engagement = 0

test "no consent":
    visit pricing
    expect unscored
"""

FAILING = MODEL + """
test "wrong expectations":
    contact title = "CEO", consent = true
    at 2026-03-02 visit pricing
    register webinar
    expect engagement = 50
    expect tier is C
    expect stage is MQL
    expect notify sales

test "fine":
    contact consent = true
    visit pricing
    expect engagement = 15
"""


def _cli(args, cwd):
    from click.testing import CliRunner

    from compiler.cli import main

    return CliRunner().invoke(main, ["test", *args])


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@needs_engine
def test_passing_tests_exit_0(folder):
    (folder / "ok.score").write_text(PASSING, encoding="utf-8")
    result = _cli(["ok.score"], folder)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "3 passed, 0 failed"


@needs_engine
def test_failing_expects_are_reported_with_position_and_values(folder):
    (folder / "bad.score").write_text(FAILING, encoding="utf-8")
    result = _cli(["bad.score", "--junit", "out.xml"], folder)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "1 passed, 1 failed"
    line = FAILING.splitlines().index("    expect engagement = 50") + 1
    assert f"bad.score:{line}:5: expect engagement = 50" in result.output
    assert "    actual:   engagement = 40" in result.output
    assert "expect tier is C" in result.output and "tier is A" in result.output
    assert "    actual:   stage is (none)" in result.output  # 40 < 50: no stage yet
    assert "    actual:   no notify fired" in result.output
    root = ET.parse(folder / "out.xml").getroot()
    assert (root.get("tests"), root.get("failures")) == ("2", "1")


@needs_engine
def test_model_with_errors_is_a_failure_with_diagnostics(folder):
    (folder / "broken.score").write_text("visit pricing +15 engagment\n", encoding="utf-8")
    result = _cli(["broken.score"], folder)
    assert result.exit_code == 1
    assert "broken.score:1:" in result.output
    assert result.output.splitlines()[-1] == "0 passed, 1 failed"


@needs_engine
@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.score")))
def test_golden_output(name, update_goldens, monkeypatch):
    monkeypatch.chdir(GOLDEN)
    result = _cli([f"{name}.score"], GOLDEN)
    expected = GOLDEN / f"{name}.expected.txt"
    text = f"exit {result.exit_code}\n{result.output}"
    if update_goldens:
        expected.write_text(text, encoding="utf-8")
    assert text == expected.read_text(encoding="utf-8")
