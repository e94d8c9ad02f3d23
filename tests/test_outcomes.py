"""Journeys from a history and an outcomes file (`score test --outcomes O --events E`)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from compiler.pipeline import compile as compile_model
from compiler.review import journeys, outcomes
from runtime.events import MICROS, format_time

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "journeys"
CRM = EXAMPLES / "crm"
LEAD = 14 * 86_400 * MICROS


def _export(directory: Path) -> dict[str, str]:
    """The journey files of `directory` as a CRM export: one history, the profiles, and an
    outcome per contact closed 14 days after its latest event."""
    found, messages = journeys.read_journeys(directory)
    assert messages == []
    events, contacts, labels = [], [], ["contact,outcome,closed_at"]
    for journey in found:
        contact = journey.id.split("/", 1)[1]
        for event in journey.events:
            record = {"contact": contact, "event": event.event, "at": format_time(event.at)}
            if event.target is not None:
                record["target"] = event.target
            if event.id is not None:
                record["id"] = event.id
            if event.props:
                record["props"] = event.props
            events.append(record)
        contacts.append({"contact": contact, **journey.profile})
        closed = max(e.at for e in journey.events) + LEAD
        labels.append(f"{contact},{journey.label},{format_time(closed)}")
    events.sort(key=lambda r: (r["at"], r["contact"]))
    return {"events.jsonl": "".join(json.dumps(r) + "\n" for r in events),
            "contacts.jsonl": "".join(json.dumps(r) + "\n" for r in contacts),
            "outcomes.csv": "\r\n".join(labels) + "\r\n"}


def test_the_shipped_crm_export_is_the_journey_files(update_goldens):
    for name, text in _export(EXAMPLES / "b2b").items():
        if update_goldens:
            CRM.mkdir(exist_ok=True)
            (CRM / name).write_text(text, encoding="utf-8", newline="")
        assert (CRM / name).read_bytes().decode("utf-8") == text, name


def _crm_report(lead_time: str = "14d"):
    compiled = compile_model(str(EXAMPLES / "b2b.score"))
    return outcomes.evaluate_outcomes("b2b.score", compiled.model, compiled.table,
                                      str(CRM / "events.jsonl"), str(CRM / "contacts.jsonl"),
                                      str(CRM / "outcomes.csv"), lead_time)


def test_outcomes_journeys_equal_the_journey_files():
    """Closed 14 days after the last event, scored 14 days before: each journey file's own
    evaluation (as of its latest event), stage by stage, score by score."""
    files, messages = journeys.evaluate_path(str(EXAMPLES / "b2b.score"), EXAMPLES / "b2b")
    assert messages == []
    labelled, messages = _crm_report("14d")
    assert messages == []
    assert (labelled.won, labelled.lost) == (files.won, files.lost) == (5, 6)
    assert labelled.stages == files.stages
    assert labelled.scores == files.scores
    assert labelled.grades == files.grades
    assert [(o.journey.id, o.stage, o.grades, o.peaks) for o in labelled.outcomes] == \
        [(o.journey.id, o.stage, o.grades, o.peaks) for o in files.outcomes]


def test_a_longer_lead_time_sees_less():
    whole, _ = _crm_report("14d")
    early, messages = _crm_report("16d")
    peaks = {o.journey.id: o.peaks["engagement"] for o in whole.outcomes}
    earlier = {o.journey.id: o.peaks["engagement"] for o in early.outcomes}
    assert all(earlier[j] is None or peaks[j] is None or earlier[j] <= peaks[j] for j in peaks)
    assert earlier != peaks
    # contacts without any event two days before their last one are still in the report
    assert early.won + early.lost == 11
    assert all("no event before their cutoff" in m for m in messages)


def test_reading_the_outcomes_file(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("closed_at,contact,outcome,amount\n"
                    "2026-04-01,a,WON,10\n"
                    "2026-04-01T10:00:00+02:00,b,lost,\n"
                    "2026-04-01,c,open,\n"
                    "yesterday,d,won,\n"
                    "2026-04-01,a,lost,\n"
                    ",e,won,\n"
                    "2026-04-01,,won,\n", encoding="utf-8")
    labels, messages = outcomes.read_outcomes(str(path))
    assert [(l.contact, l.outcome, format_time(l.closed_at), l.line) for l in labels] == [
        ("a", "won", "2026-04-01T00:00:00Z", 2), ("b", "lost", "2026-04-01T08:00:00Z", 3)]
    assert [m.split(": ", 1)[0] for m in messages] == [f"{path}:{n}" for n in (4, 5, 6, 7, 8)]
    assert "neither won nor lost" in messages[0] and "closed_at" in messages[1]
    assert "already has an outcome (line 2)" in messages[2]
    assert "no closed_at" in messages[3] and "no contact" in messages[4]
    (tmp_path / "bad.csv").write_text("contact,result\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing: outcome, closed_at"):
        outcomes.read_outcomes(str(tmp_path / "bad.csv"))
    (tmp_path / "o.jsonl").write_text('{"contact": "a", "outcome": "won", "closed_at": '
                                      '"2026-04-01"}\nnot json\n', encoding="utf-8")
    labels, messages = outcomes.read_outcomes(str(tmp_path / "o.jsonl"))
    assert [l.contact for l in labels] == ["a"] and messages[0].endswith(":2: not an object "
                                                                         "with contact, outcome "
                                                                         "and closed_at")


@pytest.mark.parametrize("text, micros", [("14d", 14 * 86_400), ("2w", 14 * 86_400),
                                          ("36h", 36 * 3_600), ("14 days", 14 * 86_400),
                                          ("0", 0), ("1 week", 604_800)])
def test_lead_times(text, micros):
    assert outcomes.parse_lead_time(text) == micros * MICROS


@pytest.mark.parametrize("text", ["", "14", "-1d", "2 fortnights", "d"])
def test_bad_lead_times(text):
    with pytest.raises(ValueError, match="not a lead time"):
        outcomes.parse_lead_time(text)


def _run(*args):
    return CliRunner().invoke(main, ["test", *args])


CLI = ("examples/journeys/b2b.score", "--events", "examples/journeys/crm/events.jsonl",
       "--contacts", "examples/journeys/crm/contacts.jsonl",
       "--outcomes", "examples/journeys/crm/outcomes.csv")


def test_score_test_with_outcomes(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = _run(*CLI, "--lead-time", "14d")
    assert result.exit_code == 0, result.output
    assert "journeys for examples/journeys/b2b.score: 5 won, 6 lost " \
           "(examples/journeys/crm/outcomes.csv, each scored 14d before closed_at)" \
           in result.output
    per_file = _run("examples/journeys/b2b.score", "--journeys", "examples/journeys/b2b")
    tables = result.output.split("journeys for", 1)[1].split("\n", 1)[1]
    assert tables == per_file.output.split("journeys for", 1)[1].split("\n", 1)[1]


def test_outcome_usage_errors(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    result = _run("examples/journeys/b2b.score", "--outcomes",
                  "examples/journeys/crm/outcomes.csv")
    assert result.exit_code == 2 and "--outcomes needs --events" in result.output
    result = _run(*CLI, "--lead-time", "two weeks")
    assert result.exit_code == 2 and "not a lead time" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("who,what\n", encoding="utf-8")
    result = _run(*CLI[:5], "--outcomes", str(bad))
    assert result.exit_code == 2 and "the header must name the columns" in result.output
    assert "Traceback" not in result.output


def test_json_format_holds_the_journeys(monkeypatch):
    """`--format json` is one JSON document, journeys included (not text after the JSON)."""
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["test", *CLI, "--lead-time", "14d",
                                       "--journeys", "examples/journeys/b2b", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    files, labelled = document["journeys"]
    assert labelled["source"].startswith("examples/journeys/crm/outcomes.csv")
    assert labelled["stages"] == files["stages"] and labelled["scores"] == files["scores"]
