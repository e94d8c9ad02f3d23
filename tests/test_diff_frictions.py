"""`score diff`: threshold edits on conditions are changes, and the JSON impact counts rejects."""
from __future__ import annotations

import json

from click.testing import CliRunner

from compiler.cli import main
from compiler.review.diff import diff_models
from dsl.parser import parse_text

OLD = """score engagement 0..100
score fit
visit pricing +15
if employees >= 200 +15 fit
stage MQL when engagement >= 50
stage SQL when engagement >= 80
when engagement >= 40 tag "hot"
when engagement >= 60 and stage is MQL notify sdr each time
"""
NEW = OLD.replace("employees >= 200", "employees >= 250").replace(
    "stage SQL when engagement >= 80", "stage SQL when engagement >= 70").replace(
    'engagement >= 40 tag "hot"', 'engagement >= 25 tag "hot"').replace(
    "engagement >= 60 and", "engagement >= 65 and")


def diff(old, new):
    return diff_models(parse_text(old, "old.score").model, parse_text(new, "new.score").model)


def fields(result):
    return sorted((c.kind, f.field, f.old, f.new) for c in result.changes for f in c.fields)


def test_threshold_edits_are_changes_not_an_added_and_a_removed_rule():
    result = diff(OLD, NEW)
    assert result.counts() == {"added": 0, "removed": 0, "changed": 4}
    assert fields(result) == [
        ("profile rule", "threshold employees >=", "200", "250"),
        ("stage", "threshold engagement >=", "80", "70"),
        ("trigger", "threshold engagement >=", "40", "25"),
        ("trigger", "threshold engagement >=", "60", "65"),
    ]


def test_the_reverse_diff_is_the_diff_reversed():
    def meaning(result):  # the file names differ by construction; the rest must not
        return [(c.kind, c.status, c.subject, c.old, c.new, c.fields) for c in result.changes]
    assert meaning(diff(NEW, OLD)) == meaning(diff(OLD, NEW).reversed())


def test_two_edited_triggers_pair_by_their_actions():
    old = 'when engagement >= 40 tag "hot"\nwhen engagement >= 60 notify sales\n'
    new = 'when engagement >= 70 notify sales\nwhen engagement >= 45 tag "hot"\n'
    assert fields(diff(old, new)) == [("trigger", "threshold engagement >=", "40", "45"),
                                      ("trigger", "threshold engagement >=", "60", "70")]


def test_a_threshold_and_an_action_edit_show_both():
    result = diff('when engagement >= 40 tag "hot"\n', 'when engagement >= 25 notify sales\n')
    assert fields(result) == [("trigger", "actions", "tag hot", "notify sales"),
                              ("trigger", "threshold engagement >=", "40", "25")]


def test_another_condition_is_still_a_new_trigger():
    result = diff('when engagement >= 40 tag "hot"\n', 'when fit >= 40 tag "hot"\n')
    assert result.counts() == {"added": 1, "removed": 1, "changed": 0}


def test_text_report_shows_the_threshold(tmp_path):
    (tmp_path / "old.score").write_text(OLD, encoding="utf-8")
    (tmp_path / "new.score").write_text(NEW, encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", str(tmp_path / "old.score"),
                                       str(tmp_path / "new.score")])
    assert "threshold engagement >=: 40 -> 25" in result.output
    assert "+ when" not in result.output and "- when" not in result.output


def test_json_impact_counts_the_rejected_lines(tmp_path):
    (tmp_path / "old.score").write_text(OLD, encoding="utf-8")
    (tmp_path / "new.score").write_text(NEW, encoding="utf-8")
    good = '{"contact": "c-%d", "event": "visit", "target": "pricing", "at": "2026-03-0%dT10:00:00Z"}'
    lines = [good % (i, 1 + i % 3) for i in range(6)] + ["not json", '{"contact": "x"}']
    (tmp_path / "e.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["diff", "--events", str(tmp_path / "e.jsonl"), str(tmp_path / "old.score"),
            str(tmp_path / "new.score")]
    text = CliRunner().invoke(main, args)
    assert "2 rejected lines" in text.output
    report = json.loads(CliRunner().invoke(main, ["diff", "--format", "json", *args[1:]]).stdout)
    assert report["rejects"] == 2
    assert report["files"][0]["impact"]["rejects"] == 2
