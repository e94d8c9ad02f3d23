"""`score explain` and `score run --format table` as a person reads them: rules as written,
times in the model's zone with the offset, running totals, bounds, decay (issue 9, item 4)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from compiler.run.explain_text import explanation_text

MODEL = """timezone "Europe/Berlin"
score engagement 0..20
score fit
visit pricing   +15   # aligned as the team likes it
visit "blog/*" +1 at most 1 per day
if title in ("CEO") or title = "VP*" +5 fit
decay engagement 10% every 30 days
stage hot when engagement >= 20
when stage is hot notify sales
"""


def event(contact, at, target="pricing"):
    return json.dumps({"contact": contact, "event": "visit", "target": target, "at": at})


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("m.score").write_text(MODEL, encoding="utf-8")
    Path("c.jsonl").write_text('{"contact": "shop-008", "title": "VP Sales"}\n',
                               encoding="utf-8")
    Path("e.jsonl").write_text("\n".join([
        event("shop-008", "2026-01-01T10:00:00Z"),
        event("shop-008", "2026-01-01T10:30:00Z", "blog/a"),
        event("shop-008", "2026-01-01T11:00:00Z", "blog/b"),
        event("shop-008", "2026-03-02T10:00:00Z"),
        event("shop-058", "2026-03-04T10:00:00Z"),
    ]) + "\n", encoding="utf-8")
    return tmp_path


def explain(*extra):
    return CliRunner().invoke(main, ["explain", "m.score", "--events", "e.jsonl", "--contacts",
                                     "c.jsonl", *extra], catch_exceptions=False)


def test_rules_are_printed_as_written(workdir):
    out = explain("--contact", "shop-008").stdout
    assert 'm.score:6  if title in ("CEO") or title = "VP*" +5 fit' in out
    assert "m.score:4  visit pricing +15\n" in out  # the comment left out, spaces collapsed
    assert "m.score:9  when stage is hot notify sales" in out


def test_times_are_local_with_the_offset_and_json_stays_utc(workdir):
    out = explain("--contact", "shop-008").stdout
    assert out.startswith("contact shop-008 as of 2026-03-04T11:00:00+01:00 (Europe/Berlin)")
    assert "visit pricing at 2026-01-01T11:00:00+01:00" in out
    data = json.loads(explain("--contact", "shop-008", "--format", "json").stdout)
    assert data["as_of"] == "2026-03-04T10:00:00Z"
    assert data["awards"][0]["at"] == "2026-01-01T10:00:00Z"


def test_running_totals_bounds_and_decay(workdir):
    lines = explain("--contact", "shop-008").stdout.splitlines()
    awards = [line.strip() for line in lines if line.startswith("      ")]
    assert awards[0] == "the profile matches: +5 fit; fit = 5"
    # +15 on 2026-01-01, 62 days before the as-of time: two steps of 10% -> 12
    assert awards[1].endswith("+15 engagement -> +12, decayed (age 62 days: 2 steps of 10% "
                              "every 30 days); engagement = 12")
    # the first blog visit's +1 decays to 0 (trunc 0.81), the second is capped
    assert awards[2].endswith("+1 engagement -> +0, decayed (age 61 days 23 hours: 2 steps of "
                              "10% every 30 days); engagement = 12")
    assert "+1 engagement -> capped (at most 1 per day): nothing; engagement = 12" in awards[3]
    assert awards[4].endswith("+15 engagement (age 2 days, not yet decayed); "
                              "engagement = 20 (sum 27; held at the maximum 20)")
    assert "engagement = 20, fit = 5" in lines[1]


def test_stage_and_action_lines_show_what_the_condition_saw(workdir):
    out = explain("--contact", "shop-008").stdout
    assert "stage (none) -> hot at 2026-03-02T11:00:00+01:00: m.score:8  stage hot when " \
           "engagement >= 20  (engagement = 20" in out
    assert "action notify sales at 2026-03-02T11:00:00+01:00" in out


def test_an_unknown_contact_suggests_the_one_with_leading_zeros(workdir):
    result = explain("--contact", "shop-8")
    assert result.exit_code == 1
    assert "did you mean `shop-008`?" in result.stderr


def test_table_shows_action_times_in_the_model_zone(workdir):
    result = CliRunner().invoke(main, ["run", "m.score", "--events", "e.jsonl", "--contacts",
                                       "c.jsonl", "--format", "table"])
    assert "notify sales @ 2026-03-02T11:00:00+01:00" in result.stdout
    assert "times in Europe/Berlin" in result.stdout
    jsonl = CliRunner().invoke(main, ["run", "m.score", "--events", "e.jsonl", "--contacts",
                                      "c.jsonl"]).stdout
    assert '"at": "2026-03-02T10:00:00Z"' in jsonl


def test_group_bounds_in_the_running_totals():
    # a version 2 explanation (groups): the group's bound holds the group, the score sums groups
    table = {"timezone": "UTC", "scores": [{"name": "engagement", "low": 0, "high": 100,
                                            "decay": None, "expire": None}],
             "groups": [{"name": "email", "score": "engagement", "low": None, "high": 40}]}
    award = {"rule": "e-1", "source": "m.score:3", "kind": "event", "at": "2026-01-01T00:00:00Z",
             "event": {"event": "email_click", "target": None, "at": "2026-01-01T00:00:00Z"},
             "points": 30, "score": "engagement", "group": "email", "status": "counted",
             "contribution": 30}
    data = {"contact": "c", "as_of": "2026-01-02T00:00:00Z", "unscored": False,
            "result": {"scores": {"engagement": 45}, "grades": {}, "stage": None},
            "awards": [award, dict(award, rule="e-2"),
                       dict(award, group=None, points=5, contribution=5)],
            "profile": [], "stages": [], "actions": [],
            "groups": [{"group": "email", "score": "engagement", "raw": 60, "value": 40,
                        "low": None, "high": 40, "binds": "max"}]}
    text = explanation_text(data, table)
    assert "group email of engagement: 60 -> 40, max 40" in text
    assert "email = 40 (sum 60; held at the maximum 40), engagement = 40" in text
    assert text.rstrip().endswith("+5 engagement; engagement = 45")
