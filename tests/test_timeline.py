"""Score timelines (`Engine.timeline`, `score run --timeline`): each row is the contact's
result as of its period's end, as a separate `run(as_of=END)` gives it; the last row of a
contact is its result; periods follow the model's time zone."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import model_strategies as ms
from compiler.lower import lower
from compiler.pipeline import compile as compile_model
from compiler.run.readers import read_contacts, read_events
from runtime import Engine, parse_time
from runtime.events import Event
from runtime.periods import Calendar

PROPERTY = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
EXAMPLES = ("b2b_saas", "hubspot_port", "loyalty", "online_shop", "vod")


def _state(result: dict) -> tuple:
    return result["scores"], result["grades"], result["stage"]


def assert_equals_as_of_runs(engine: Engine, events, contacts, as_of, period: str) -> list:
    rows = engine.timeline(events, contacts, as_of=as_of, period=period)
    final = {r["contact"]: r for r in engine.run(events, contacts, as_of=as_of)}
    runs: dict[str, dict] = {}
    for row in rows:
        if row["as_of"] not in runs:
            runs[row["as_of"]] = {r["contact"]: r for r in engine.run(
                events, contacts, as_of=parse_time(row["as_of"]))}
        assert _state(row) == _state(runs[row["as_of"]][row["contact"]]), row
    by_contact: dict[str, list] = {}
    for row in rows:
        by_contact.setdefault(row["contact"], []).append(row)
    assert sorted(by_contact) == list(by_contact)  # sorted by contact
    for contact, own in by_contact.items():
        assert _state(own[-1]) == _state(final[contact])  # the last row is the result
        periods = [date.fromisoformat(r["period"]) for r in own]
        assert periods == sorted(set(periods))
        for before, after in zip(periods, periods[1:]):  # one row per period, no gaps
            assert after == _following(before, period)
    return rows


def _following(day: date, period: str) -> date:
    if period == "day":
        return day + timedelta(days=1)
    if period == "week":
        return day + timedelta(days=7)
    return (day + timedelta(days=32)).replace(day=1)


@PROPERTY
@given(ms.scenarios(), st.sampled_from(("day", "week", "month")))
def test_timeline_equals_repeated_as_of_runs(scenario, period):
    model, events, contacts, as_of = scenario
    engine = Engine(lower(model, "0" * 64))
    rows = assert_equals_as_of_runs(engine, events, contacts, as_of, period)
    until = as_of if as_of is not None else max(e.at for e in events)
    first = {}
    for event in sorted(events, key=lambda e: e.at):
        if event.at <= until:
            first.setdefault(event.contact, event.at)
    calendar = engine.table.calendar
    for contact in {e.contact for e in events} | set(contacts):
        own = [r for r in rows if r["contact"] == contact]
        start = first.get(contact, until)
        assert own[0]["period"] == calendar.start_of(period, start).isoformat()
        assert own[-1]["period"] == calendar.start_of(period, until).isoformat()


@PROPERTY
@given(ms.scenarios(v2=True), st.sampled_from(("day", "week")))
def test_timeline_equals_repeated_as_of_runs_on_v2_models(scenario, period):
    """Groups, inactivity spells (awards due between events), matrix grades, `by PROP`."""
    model, events, contacts, as_of = scenario
    assert_equals_as_of_runs(Engine(lower(model, "0" * 64)), events, contacts, as_of, period)


@PROPERTY
@given(ms.scenarios(ms.models(absence=True), max_events=20))
def test_timeline_of_one_busy_contact_by_day(scenario):
    """Decay steps, absences due and stage chains between the events of one contact."""
    import dataclasses

    model, events, contacts, as_of = scenario
    events = [dataclasses.replace(e, contact="c-1") for e in events]
    assert_equals_as_of_runs(Engine(lower(model, "0" * 64)), events, contacts, as_of, "day")


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_timeline_by_week_equals_as_of_runs(name):
    compiled = compile_model(f"examples/{name}.score")
    events = [e for e in read_events(f"examples/data/{name}/events.jsonl")
              if isinstance(e, Event)]
    contacts = read_contacts(f"examples/data/{name}/contacts.jsonl")[0]
    rows = assert_equals_as_of_runs(Engine(compiled.table), events, contacts, None, "week")
    assert len({r["period"] for r in rows}) >= 10


def test_period_ends_are_local_midnights_and_the_last_row_is_as_of_t():
    compiled = compile_model_text('timezone "Europe/Berlin"\nvisit +10\n'
                                  'decay score 50% every 1 day\n')
    engine = Engine(compiled)
    events = [Event("c", "visit", parse_time("2026-03-28T22:30:00Z"), None, None, {}, 1, 0),
              Event("c", "visit", parse_time("2026-03-30T08:00:00Z"), None, None, {}, 2, 1)]
    rows = engine.timeline(events, {}, as_of=parse_time("2026-03-31T12:00:00Z"))
    # 22:30 UTC on the 28th is 23:30 in Berlin: still the 28th; summer time starts on the 29th
    assert [(r["period"], r["as_of"], r["scores"]["score"]) for r in rows] == [
        ("2026-03-28", "2026-03-28T22:59:59.999999Z", 10),
        ("2026-03-29", "2026-03-29T21:59:59.999999Z", 10),  # 23 hours: 1 day old at 22:30
        ("2026-03-30", "2026-03-30T21:59:59.999999Z", 15),  # 5 (a day old) + 10
        ("2026-03-31", "2026-03-31T12:00:00Z", 7),  # as of T: 2 + 5
    ]


def test_a_move_at_a_period_end_does_not_carry_over():
    """A stage reached only because decay lifted a negative award by the end of a day shows
    in that day's row, reset included (as `--as-of` shows it), but not in the result."""
    table = compile_model_text(
        "score s -100..100\nunsubscribe -40\nvisit +45\ncomplaint -30\n"
        "decay s 50% every 1 day\nstage warm when s >= 10\nwhen stage is warm reset s\n")
    events = [Event("c", "unsubscribe", parse_time("2026-02-28T23:00:00Z"), None, None, {}, 1, 0),
              Event("c", "visit", parse_time("2026-03-01T00:30:00Z"), None, None, {}, 2, 1),
              Event("c", "complaint", parse_time("2026-03-02T00:00:00Z"), None, None, {}, 3, 2)]
    engine = Engine(table)
    rows = assert_equals_as_of_runs(engine, events, {}, None, "day")
    # at the visit: -40 + 45 = 5. At the end of the 1st the -40 is a day old (-20), the +45
    # not yet: 25 moves to warm, which resets. At the complaint a microsecond later the same
    # -20 + 45 and -30: -5, and the contact was never warm.
    assert [(r["period"], r["stage"], r["scores"]["s"]) for r in rows] == [
        ("2026-02-28", None, -40), ("2026-03-01", "warm", 0), ("2026-03-02", None, -5)]


def compile_model_text(text: str) -> dict:
    from compiler.pipeline import compile as compile_source
    from dsl.source import SourceFile

    result = compile_source(SourceFile("timeline.score", text))
    assert result.table is not None, result.diagnostics
    return result.table


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Santiago", "Asia/Kolkata",
                                  "Pacific/Apia", "America/Havana"])
def test_next_start_is_the_first_instant_of_the_next_period(zone):
    calendar = Calendar(zone)
    moment = parse_time("2024-01-01T12:00:00Z")
    for _ in range(400):
        for per in ("day", "week", "month"):
            start = calendar.next_start(per, moment)
            assert calendar.key(per, start - 1) == calendar.key(per, moment)
            assert calendar.key(per, start) != calendar.key(per, moment)
            assert calendar.start_of(per, start) > calendar.start_of(per, moment)
        moment += 86_400_000_000 - 3_600_000_000 * 5


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("per", ["day", "week", "month"])
def test_the_last_period_ends_with_the_calendar(zone, per):
    """Events in the calendar's last days (local dates up to 10000-01-01, which `datetime`
    cannot hold, east of UTC): their period is the last one, ending at 9999-12-31T23:59:59.999999Z
    (these ran into an OverflowError)."""
    engine = Engine(compile_model_text(f'timezone "{zone}"\nvisit +10\n'))
    events = [Event("c", "visit", parse_time("9999-12-30T10:00:00Z"), None, None, {}, 1, 0),
              Event("c", "visit", parse_time("9999-12-31T23:59:59Z"), None, None, {}, 2, 1)]
    rows = engine.timeline(events, {}, as_of=parse_time("9999-12-31T23:59:59.999999Z"),
                           period=per)
    assert rows[-1]["as_of"] == "9999-12-31T23:59:59.999999Z"
    assert rows[-1]["scores"]["score"] == 20
    assert [r["period"] for r in rows] == sorted({r["period"] for r in rows})
    calendar = Calendar(zone)
    assert calendar.next_start(per, parse_time("9999-12-31T23:59:59.999999Z")) == \
        parse_time("9999-12-31T23:59:59.999999Z") + 1


def test_an_unknown_period_is_refused():
    with pytest.raises(ValueError, match="day, week, month"):
        Engine(compile_model_text("visit +1\n")).timeline([], {}, as_of=0, period="hour")


def test_a_stage_chain_moves_again_at_a_period_end():
    """`stage SQL when stage is MQL`: after the move to MQL at an event, the next point moves
    on to SQL; the period's end is that point in its row (and T in the result)."""
    table = compile_model_text("visit +10\nstage MQL when score >= 10\n"
                               "stage SQL when stage is MQL\n")
    events = [Event("c", "visit", parse_time("2026-03-02T10:00:00Z"), None, None, {}, 1, 0),
              Event("d", "visit", parse_time("2026-03-04T10:00:00Z"), None, None, {}, 2, 1)]
    rows = assert_equals_as_of_runs(Engine(table), events, {}, None, "day")
    assert [(r["contact"], r["period"], r["stage"]) for r in rows] == [
        ("c", "2026-03-02", "SQL"), ("c", "2026-03-03", "SQL"), ("c", "2026-03-04", "SQL"),
        ("d", "2026-03-04", "SQL")]


def test_score_run_timeline_writes_rows_in_every_format(tmp_path):
    from click.testing import CliRunner

    from compiler.cli import main

    data = "examples/data/b2b_saas"
    base = ["run", "examples/b2b_saas.score", "-e", f"{data}/events.jsonl", "-c",
            f"{data}/contacts.jsonl", "--timeline", "week"]
    jsonl = CliRunner().invoke(main, base)
    assert jsonl.exit_code == 0
    rows = [__import__("json").loads(line) for line in jsonl.stdout.splitlines()]
    compiled = compile_model("examples/b2b_saas.score")
    events = [e for e in read_events(f"{data}/events.jsonl") if isinstance(e, Event)]
    contacts = read_contacts(f"{data}/contacts.jsonl")[0]
    assert rows == Engine(compiled.table).timeline(events, contacts, period="week")
    assert list(rows[0]) == ["contact", "period", "as_of", "scores", "grades", "stage"]
    out = tmp_path / "timeline.csv"
    assert CliRunner().invoke(main, base + ["--out", str(out)]).exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "contact,period,as_of,engagement,fit,tier,stage"
    assert len(lines) == len(rows) + 1
    first = rows[0]
    assert lines[1] == ",".join([first["contact"], first["period"], first["as_of"],
                                 str(first["scores"]["engagement"]), str(first["scores"]["fit"]),
                                 first["grades"].get("tier", ""), first["stage"] or ""])
    refused = CliRunner().invoke(main, base + ["--coverage"])
    assert refused.exit_code == 2 and "cannot be combined with --coverage" in refused.output
