"""Rule coverage (`score test --coverage`, `score run --coverage`): goldens, the threshold,
and the counts against what `score explain` shows for every contact."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from compiler.pipeline import compile as compile_model
from compiler.review import coverage
from compiler.run.readers import read_contacts, read_events
from runtime import Engine
from runtime.events import Event

GOLDEN = Path(__file__).parent / "golden" / "coverage"
DATA = Path("examples/data/b2b_saas")


def _invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("fmt,suffix", [("text", "txt"), ("json", "json")])
def test_golden_coverage(fmt, suffix, update_goldens, monkeypatch):
    monkeypatch.chdir(GOLDEN.parent.parent.parent)
    result = _invoke("test", "tests/golden/coverage/funnel.score", "--coverage", "--format", fmt)
    assert result.exit_code == 0, result.output
    expected = GOLDEN / f"funnel.expected.{suffix}"
    if update_goldens:
        expected.write_text(result.output, encoding="utf-8")
    assert result.output == expected.read_text(encoding="utf-8")


def test_every_kind_of_item_is_reported_with_its_line(monkeypatch):
    monkeypatch.chdir(GOLDEN.parent.parent.parent)
    report = json.loads(_invoke("test", "tests/golden/coverage/funnel.score", "--coverage",
                                "--format", "json").output)["coverage"]
    missed = {(item["at"].rsplit(":", 1)[1], item["kind"], item["missing"])
              for item in report["files"][0]["items"] if not item["covered"]}
    assert {("5", "require", "never failed"), ("10", "limit", "`once` never reached"),
            ("11", "rule", "never awarded"), ("12", "rule", "never awarded"),
            ("14", "limit", "`at most 2` in a quiet spell never reached"),
            ("18", "label", "never ended in `B`"), ("21", "stage", "never reached"),
            ("23", "trigger", "never fired")} <= missed
    assert report["percent"] == 50.0 and report["contacts"] == 2


def test_fail_under(monkeypatch):
    monkeypatch.chdir(GOLDEN.parent.parent.parent)
    low = _invoke("test", "tests/golden/coverage/funnel.score", "--coverage", "--fail-under", "60")
    assert low.exit_code == 1
    assert low.output.rstrip().endswith("coverage 50.0% is under --fail-under 60%")
    enough = _invoke("test", "tests/golden/coverage/funnel.score", "--fail-under", "50")
    assert enough.exit_code == 0, enough.output  # --fail-under implies --coverage
    assert "coverage: 12 of 24 (50.0%)" in enough.output


def test_a_new_test_covers_what_it_exercises(tmp_path):
    text = (GOLDEN / "funnel.score").read_text(encoding="utf-8")
    text += ('\ntest "four opens in a day count three, and nobody with XX is scored":\n'
             '    contact consent = true, country = "XX"\n'
             '    at 2026-03-02 email_open\n    email_open\n    email_open\n    email_open\n'
             '    expect unscored\n')
    path = tmp_path / "funnel.score"
    path.write_text(text, encoding="utf-8")
    report = json.loads(_invoke("test", str(path), "--coverage", "--format", "json").output)
    items = {(i["at"].rsplit(":", 1)[1], i["missing"]): i for i in
             report["coverage"]["files"][0]["items"]}
    assert items[("6", "never failed")]["covered"]  # the XX contact fails `country != "XX"`
    assert not items[("11", "never awarded")]["covered"]  # unscored: nothing is awarded
    text = text.replace('country = "XX"\n    at 2026-03-02 email_open',
                        'country = "DE"\n    at 2026-03-02 email_open')
    text = text.replace("    expect unscored\n", "    expect engagement = 3\n")
    path.write_text(text, encoding="utf-8")
    report = json.loads(_invoke("test", str(path), "--coverage", "--format", "json").output)
    items = {(i["at"].rsplit(":", 1)[1], i["missing"]): i for i in
             report["coverage"]["files"][0]["items"]}
    assert items[("11", "never awarded")]["count"] == 3
    assert items[("11", "`at most 3 per day` never reached")]["count"] == 1


def test_run_coverage_counts_what_explain_shows():
    """Over a history: each rule's awards and capped matches, the stages reached and the
    triggers fired are those of the explanations of every contact."""
    compiled = compile_model("examples/b2b_saas.score")
    events = [e for e in read_events(str(DATA / "events.jsonl")) if isinstance(e, Event)]
    contacts = read_contacts(str(DATA / "contacts.jsonl"))[0]
    results, report = coverage.run_coverage(compiled.table, compiled.model, events, contacts,
                                            None, "events.jsonl")
    engine = Engine(compiled.table)
    assert results == engine.run(events, contacts)
    awarded, capped, stages, fired = {}, {}, {}, {}
    for contact in sorted({e.contact for e in events} | set(contacts)):
        explained = engine.explain(contact, events, contacts).to_json()
        profile = [] if explained["unscored"] else explained["profile"]  # no points unscored
        for award in explained["awards"] + profile:
            target = capped if award.get("status") == "capped" else awarded
            target[award["source"]] = target.get(award["source"], 0) + 1
        for change in explained["stages"]:
            stages[change["source"]] = stages.get(change["source"], 0) + 1
        for source in {(a["source"], a["at"]) for a in explained["actions"]}:
            fired[source[0]] = fired.get(source[0], 0) + 1
    counted = {}
    for item in report.files[0].items:
        counted.setdefault(item.kind, {})[item.at] = item.count
    assert {at: n for at, n in counted["rule"].items() if n} == awarded
    assert {at: n for at, n in counted["limit"].items() if n} == capped
    assert {at: n for at, n in counted["stage"].items() if n} == stages
    assert {at: n for at, n in counted["trigger"].items() if n} == fired


def test_run_coverage_on_the_command_line(tmp_path):
    out = tmp_path / "coverage.json"
    result = CliRunner().invoke(main, ["run", "examples/b2b_saas.score", "-e",
                                       str(DATA / "events.jsonl"), "-c",
                                       str(DATA / "contacts.jsonl"), "--coverage-out",
                                       str(out), "-o", str(tmp_path / "results.jsonl")])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["source"].endswith("events.jsonl") and report["contacts"] == 300
    missed = [i for f in report["files"] for i in f["items"] if not i["covered"]]
    assert [(i["kind"], i["subject"]) for i in missed] == [
        ("limit", "email_open +1 at most 3 per day")]
    text = CliRunner().invoke(main, ["run", "examples/b2b_saas.score", "-e",
                                     str(DATA / "events.jsonl"), "--coverage", "-o",
                                     str(tmp_path / "r.jsonl")])
    assert "never failed: require consent" not in text.output  # every contact fails it
    assert "never held: require consent" in text.output
    refused = CliRunner().invoke(main, ["run", "examples/b2b_saas.score", "-e",
                                        str(DATA / "events.jsonl"), "--coverage",
                                        "--engine", "duckdb"])
    assert refused.exit_code == 2
    assert "--coverage needs --engine python" in refused.output
