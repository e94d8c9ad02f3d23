"""`score diff OLD NEW --events E --by week|month`: stage entries and actions per period."""
from __future__ import annotations

import json
import pathlib
import re
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import model_strategies as ms
from compiler.lower import lower
from compiler.review.impact import impact
from runtime import Engine
from runtime.periods import Calendar

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "diff_periods"
B2B = ROOT / "examples" / "b2b_saas.score"
DATA = ROOT / "examples" / "data" / "b2b_saas"


def _micros(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(moment.timestamp() * 1_000_000)


def _label(calendar, by, at):
    return calendar.start_of(by, at).isoformat()


def _expected(table, events, contacts, as_of, by):
    """From the results' action times and the explanations' stage changes, not the observer."""
    calendar = Calendar(table["timezone"])
    engine = Engine(table)
    actions, stages = {}, set()
    for result in engine.run(events, contacts, as_of=as_of):
        for action in result["actions"]:
            key = (f"{action['action']} {action['arg']}",
                   _label(calendar, by, _micros(action["at"])))
            actions[key] = actions.get(key, 0) + 1
        for change in engine.explain(result["contact"], events, contacts,
                                     as_of=as_of).to_json()["stages"]:
            if change["to"] is not None:
                stages.add((result["contact"], f"reach {change['to']}",
                            _label(calendar, by, _micros(change["at"]))))
    reached = {}
    for _, name, period in stages:
        reached[(name, period)] = reached.get((name, period), 0) + 1
    return actions, reached


def _counted(periods, side):
    found = {}
    for series in periods.series:
        for period, count in zip(periods.periods, getattr(series, side)):
            if count:
                found[(series.name, period)] = count
    return found


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data(), st.sampled_from(("week", "month")))
def test_counts_per_period_equal_the_results_and_explanations(data, by):
    old, events, contacts, as_of = data.draw(ms.scenarios())
    new = data.draw(ms.models())
    old_table, new_table = lower(old, "0" * 64), lower(new, "1" * 64)
    new_table["timezone"] = old_table["timezone"]  # one calendar for both expectations
    periods = impact(old_table, new_table, events, contacts, as_of, by=by).periods
    for table, side in ((old_table, "old"), (new_table, "new")):
        actions, reached = _expected(table, events, contacts, as_of, by)
        counted = _counted(periods, side)
        assert {k: v for k, v in counted.items() if not k[0].startswith("reach ")} == actions
        assert {k: v for k, v in counted.items() if k[0].startswith("reach ")} == reached
    # every period from the earliest event's to the as-of time's, each once, in order
    assert list(periods.periods) == sorted(set(periods.periods))
    if events:
        calendar = Calendar(new_table["timezone"])
        until = as_of if as_of is not None else max(e.at for e in events)
        first = min(e.at for e in events)
        if first <= until:
            assert periods.periods[0] == _label(calendar, by, first)
            assert periods.periods[-1] == _label(calendar, by, until)


def test_without_by_there_is_no_period_table():
    from compiler.pipeline import compile_text

    table = compile_text("visit pricing +10\nstage MQL when score >= 10\n", "m.score").table
    assert impact(table, table, [], {}, None).periods is None


def _cli(*args):
    from compiler.cli import main

    return CliRunner().invoke(main, ["diff", *args])


@pytest.fixture
def pair(tmp_path, monkeypatch):
    """The b2b example and a copy whose SQL asks 70 instead of 80, with the example's data."""
    monkeypatch.chdir(tmp_path)
    text = B2B.read_text(encoding="utf-8")
    (tmp_path / "old.score").write_text(text, encoding="utf-8")
    (tmp_path / "new.score").write_text(text.replace("stage SQL when engagement >= 80",
                                                     "stage SQL when engagement >= 70"),
                                        encoding="utf-8")
    for name in ("events.jsonl", "contacts.jsonl"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
    return tmp_path


ARGS = ("--events", "events.jsonl", "--contacts", "contacts.jsonl", "old.score", "new.score")


@pytest.mark.parametrize("by", ["week", "month"])
@pytest.mark.parametrize("fmt, suffix", [("text", "txt"), ("markdown", "md"), ("json", "json")])
def test_golden_period_tables(pair, by, fmt, suffix, update_goldens):
    result = _cli("--by", by, "--format", fmt, *ARGS)
    assert result.exit_code == 0, result.output
    expected = GOLDEN / f"b2b_sql70.{by}.expected.{suffix}"
    if update_goldens:
        GOLDEN.mkdir(exist_ok=True)
        expected.write_text(result.output, encoding="utf-8")
    assert result.output == expected.read_text(encoding="utf-8")


def test_the_json_totals_equal_the_impact_movements(pair):
    """Contacts in SQL at the end under the new model and not the old reached it in a week."""
    data = json.loads(_cli("--by", "week", "--format", "json", *ARGS).output)
    impact_ = data["files"][0]["impact"]
    series = {s["name"]: s for s in impact_["by_period"]["series"]}
    assert len(series["reach SQL"]["old"]) == len(impact_["by_period"]["periods"])
    assert sum(series["reach SQL"]["new"]) > sum(series["reach SQL"]["old"])
    notify = series["notify sales"]
    assert notify["old"] != notify["new"]
    # b2b resets engagement at the hand-over, so each `notify sales` comes with a reset
    assert series["reset engagement"]["new"] == notify["new"]


def test_html_has_a_table_and_a_line_chart_per_series(pair):
    html = _cli("--by", "week", "--format", "html", *ARGS).output
    data = json.loads(_cli("--by", "week", "--format", "json", *ARGS).output)
    by_period = data["files"][0]["impact"]["by_period"]
    assert '<table class="periods">' in html
    charts = [ET.fromstring(svg) for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S)
              if "per period" in svg]
    assert len(charts) == len(by_period["series"])
    svg = "{http://www.w3.org/2000/svg}"
    for chart, series in zip(charts, by_period["series"]):
        lines = {p.get("class"): p.get("points").split() for p in chart.iter(f"{svg}polyline")}
        assert len(lines["old"]) == len(lines["new"]) == len(by_period["periods"])
        # the highest point of the new line is the series' peak (y grows downwards)
        peak = max(series["new"])
        lowest_y = min(float(p.split(",")[1]) for p in lines["new"])
        top = [float(p.split(",")[1]) for p in lines["new"]].index(lowest_y)
        assert series["new"][top] == peak


def test_by_needs_events(pair):
    result = _cli("--by", "week", "old.score", "new.score")
    assert result.exit_code == 2 and "--by needs --events" in result.output
    assert "Traceback" not in result.output
