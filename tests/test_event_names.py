"""W111 (a test event no rule names) and W112 (a rule event the sample events never carry)."""
import json

from click.testing import CliRunner

from compiler.cli import main
from compiler.pipeline import compile
from dsl.source import SourceFile

MODEL = """add_to_cart +30
start checkout +50
email_sent without email_open within 1 day -5

test "a cart and a checkout":
    add_too_cart shoes
    start checkout
    email_sent
    email_open
    expect score = 80
"""


def diagnostics(text, **samples):
    return compile(SourceFile.from_text(text, "m.score"), **samples).diagnostics


def test_a_misspelled_test_event_is_named_with_the_closest_rule_event():
    found = [d for d in diagnostics(MODEL) if d.code == "W111"]
    assert [(d.span.line, d.span.column, d.span.end_column) for d in found] == [(6, 5, 17)]
    assert "add_too_cart" in found[0].message and found[0].hint == "did you mean `add_to_cart`?"


def test_an_event_only_an_absence_rule_waits_for_counts_as_named():
    assert "W111" not in [d.code for d in diagnostics(MODEL.replace("add_too_cart", "add_to_cart"))]


def test_a_test_event_far_from_every_rule_still_warns():
    found = [d for d in diagnostics("visit pricing +5\ntest \"t\":\n    login\n"
                                     "    expect score = 0\n") if d.code == "W111"]
    assert len(found) == 1 and "moves the test's clock" in found[0].hint


def test_with_a_catalog_an_undeclared_test_event_is_e101_only():
    text = "event visit\nvisit +5\ntest \"t\":\n    vist\n    expect score = 0\n"
    assert [d.code for d in diagnostics(text)] == ["E101"]


def test_rule_events_missing_from_the_sample_events():
    events = [{"event": "add_to_cart", "props": {}}, {"event": "start", "props": {}},
              {"event": "email_sent", "props": {}}]
    text = "ad_to_cart +30\nstart checkout +50\nemail_sent without email_open within 1 day -5\n"
    found = [d for d in diagnostics(text, sample_events=events) if d.code == "W112"]
    assert [(d.span.line, d.span.column) for d in found] == [(1, 1), (3, 20)]
    assert found[0].hint == "did you mean `add_to_cart`?"
    assert "email_open" in found[1].message and "(3 read)" in found[1].message


def test_no_sample_events_no_w112():
    assert "W112" not in [d.code for d in diagnostics("vist pricing +15\n")]


def test_score_check_events_reports_w112(tmp_path):
    (tmp_path / "m.score").write_text("vist pricing +15\nvisit home +1\n", encoding="utf-8")
    (tmp_path / "e.jsonl").write_text(
        '{"contact": "c", "event": "visit", "target": "home", "at": "2026-03-02T10:00:00Z"}\n',
        encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--format", "json", "--events",
                                       str(tmp_path / "e.jsonl"), str(tmp_path / "m.score")])
    codes = [(d["code"], d["line"]) for d in json.loads(result.stdout)["diagnostics"]]
    assert codes == [("W112", 1)] and result.exit_code == 0
    strict = CliRunner().invoke(main, ["check", "--strict", "--events", str(tmp_path / "e.jsonl"),
                                       str(tmp_path / "m.score")])
    assert strict.exit_code == 1
