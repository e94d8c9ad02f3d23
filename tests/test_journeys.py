"""Labelled journeys: reading, statistics (checked by hand), the report on the B2B examples."""
from __future__ import annotations

import importlib.util
import json
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.review import journeys
from compiler.review.reports import render, views
from dsl import ast
from runtime.events import parse_time

ROOT = pathlib.Path(__file__).parent.parent
EXAMPLES = ROOT / "examples" / "journeys"
needs_engine = pytest.mark.skipif(
    importlib.util.find_spec("dsl.parser") is None
    or not hasattr(__import__("runtime"), "Engine"),
    reason="needs the parser (dsl/parser.py) and runtime.Engine, written by other engineers")


def write(folder: pathlib.Path, label: str, name: str, lines) -> pathlib.Path:
    path = folder / label / f"{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line)
                              for line in lines) + "\n", encoding="utf-8")
    return path


def test_reading_profile_events_and_rejects(tmp_path):
    write(tmp_path, "won", "acme", [
        {"profile": {"title": "CTO", "employees": 450}},
        {"event": "visit", "target": "pricing", "at": "2026-03-02T10:00:00Z"},
        "",
        {"event": "submit", "at": 1772445600, "contact": "ignored: the file is the contact"},
        "{not json",
        {"event": "visit", "at": "yesterday"},
        {"profile": "CTO"},
    ])
    write(tmp_path, "lost", "tiny", [{"event": "visit", "at": "2026-03-02T08:00:00Z"}])
    found, messages = journeys.read_journeys(tmp_path)
    assert [j.id for j in found] == ["won/acme", "lost/tiny"]
    acme = found[0]
    assert acme.profile == {"title": "CTO", "employees": 450}
    assert [(e.contact, e.event, e.at) for e in acme.events] == [
        ("won/acme", "visit", parse_time("2026-03-02T10:00:00Z")),
        ("won/acme", "submit", 1772445600 * 1_000_000)]
    assert [m.split(": ")[0] for m in messages] == [
        f"{tmp_path / 'won' / 'acme.jsonl'}:5", f"{tmp_path / 'won' / 'acme.jsonl'}:6",
        f"{tmp_path / 'won' / 'acme.jsonl'}:7"]
    assert found[1].profile == {}


def test_auc_by_hand():
    assert journeys.auc([3, 5], [1, 5]) == (1 + 0 + 1 + 0.5) / 4  # 3>1, 3<5, 5>1, 5=5
    assert journeys.auc([1], []) is None


def test_best_threshold_maximises_youden_j():
    won = [80, 70, 60, 20]
    lost = [65, 30, 25, None]
    threshold, split = journeys.best_threshold(won, lost)
    # J = recall - fpr: t=20: 1 - 3/4; t=60: 3/4 - 1/4 = 0.5; t=70: 2/4 - 0 = 0.5.
    # Accuracy at 60: (3 + 3)/8 = 0.75, at 70: (2 + 4)/8 = 0.75: equal, the lower t wins.
    assert threshold == 60
    assert (split.won, split.lost, split.recall, split.precision) == (3, 1, 0.75, 0.75)
    assert split.accuracy == 0.75


def test_threshold_of_no_values():
    assert journeys.best_threshold([None], [None]) == (None, None)


def _stage(name):
    return ast.Stage(name, ast.Const(True))


def test_handover_stage_is_the_notify_trigger_stage_else_the_last():
    notify = ast.Trigger(ast.Compare(ast.Ref("stage"), "is", ast.Label("MQL")),
                         (ast.Action("notify", "sales"),))
    tag = ast.Trigger(ast.Compare(ast.Ref("stage"), "is", ast.Label("SAL")),
                      (ast.Action("tag", "x"),))
    stages = (_stage("MQL"), _stage("SQL"), _stage("SAL"))
    assert journeys.handover_stage(ast.Model(stages + (tag, notify))) == "MQL"
    assert journeys.handover_stage(ast.Model(stages + (tag,))) == "SAL"
    assert journeys.handover_stage(ast.Model(())) is None


def _outcome(label, stage, peak, grade=None):
    journey = journeys.Journey(f"{label}/x", label, {}, ())
    return journeys.Outcome(journey, stage, {"tier": grade} if grade else {}, {"e": peak})


def test_report_counts_stage_reach_and_grades():
    model = ast.Model((ast.ScoreDecl("e"), _stage("MQL"), _stage("SQL"),
                       ast.Grade("tier", "e", (ast.Band("A", 50),), "B")))
    outcomes = [_outcome("won", "SQL", 90, "A"), _outcome("won", "MQL", 60, "A"),
                _outcome("won", None, 20, "B"), _outcome("lost", "MQL", 55, "A"),
                _outcome("lost", None, 10, "B")]
    report = journeys.build_report("m.score", model, outcomes)
    assert (report.won, report.lost) == (3, 2)
    mql, sql = report.stages
    assert (mql.split.won, mql.split.lost) == (2, 1)
    assert (sql.split.won, sql.split.lost, sql.handover) == (1, 0, True)
    assert mql.split.precision == pytest.approx(2 / 3) and sql.split.recall == pytest.approx(1 / 3)
    (score,) = report.scores
    assert score.won_mean == pytest.approx(170 / 3) and score.lost_mean == 32.5
    assert score.threshold == 60 and score.auc == pytest.approx(5 / 6)
    assert report.grades == (("tier", "A", 2, 1), ("tier", "B", 1, 1))
    text = render("journeys", views.journeys_view(report))
    assert "SQL (hand-over)" in text and "3 won, 2 lost" in text


@needs_engine
def test_b2b_example_journeys_separate_won_from_lost():
    report, messages = journeys.evaluate_path(str(EXAMPLES / "b2b.score"), EXAMPLES / "b2b")
    assert messages == []
    assert (report.won, report.lost) == (5, 6)
    stages = {row.stage: row for row in report.stages}
    assert stages["SQL"].handover
    # every won deal reached the hand-over; of the lost ones, none did
    assert (stages["SQL"].split.won, stages["SQL"].split.lost) == (5, 0)
    engagement = next(r for r in report.scores if r.score == "engagement")
    assert engagement.auc > 0.9
    data = journeys.report_json(report)
    # each won deal crossed SQL (engagement >= 80) and was reset to 0 at once: the peak is
    # the value the stage condition saw, before the reset
    assert all(j["peaks"]["engagement"] >= 80 for j in data["journeys"]
               if j["journey"].startswith("won/"))
    assert all(j["stage"] == "SQL" for j in data["journeys"] if j["journey"].startswith("won/"))
    no_consent = next(j for j in data["journeys"] if j["journey"] == "lost/no-consent-cto")
    assert no_consent["peaks"] == {"engagement": None, "fit": None}


@needs_engine
def test_score_test_with_journeys(monkeypatch):
    from click.testing import CliRunner

    from compiler.cli import main

    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["test", "examples/journeys/b2b.score", "--journeys",
                                       "examples/journeys/b2b"])
    assert result.exit_code == 0, result.output
    assert "3 passed, 0 failed" in result.output
    assert "journeys for examples/journeys/b2b.score: 5 won, 6 lost" in result.output


GOLDEN = ROOT / "tests" / "golden" / "test_runner" / "b2b_journeys.expected.txt"


@needs_engine
def test_journeys_report_golden(update_goldens, monkeypatch):
    from click.testing import CliRunner

    from compiler.cli import main

    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["test", "examples/journeys/b2b.score", "--journeys",
                                       "examples/journeys/b2b"])
    text = f"exit {result.exit_code}\n{result.output}"
    if update_goldens:
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


values = st.lists(st.one_of(st.none(), st.integers(-20, 120)), max_size=12)


@settings(max_examples=200, deadline=None)
@given(values, values)
def test_best_threshold_has_the_highest_j_of_every_cut(won, lost):
    threshold, split = journeys.best_threshold(won, lost)
    cuts = sorted({v for v in won + lost if v is not None})
    if not cuts:
        assert threshold is None
        return

    def youden(t):
        passes = lambda vs: sum(1 for v in vs if v is not None and v >= t)  # noqa: E731
        recall = passes(won) / len(won) if won else 0.0
        fpr = passes(lost) / len(lost) if lost else 0.0
        return recall - fpr

    assert threshold in cuts
    assert youden(threshold) == max(youden(t) for t in cuts)
    assert split.won == sum(1 for v in won if v is not None and v >= threshold)
