"""`score run --actions FILE [--since T]`: one line per action fired, with the point, the
causing event and the values the trigger saw; equal on the python, duckdb and spark engines
(tests/test_actions_spark.py) and in the PostgreSQL statement (tests/test_actions_postgres.py);
the contact results unchanged."""
from __future__ import annotations

import csv
import importlib.util
import io
import json
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import model_strategies as ms
from compiler.cli import main
from compiler.lower import lower
from compiler.pipeline import compile as compile_model
from compiler.run import engines
from compiler.run.readers import read_contacts, read_events
from runtime import ActionLog, Engine, format_time
from runtime.events import Event
from runtime.timeline import time_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ("b2b_saas", "hubspot_port", "loyalty", "online_shop", "vod")
CASES = sorted(p for p in (ROOT / "tests" / "conformance").iterdir()
               if (p / "model.score").exists())
B2B = ROOT / "examples" / "b2b_saas.score"
B2B_DATA = ROOT / "examples" / "data" / "b2b_saas"


def _inputs(name: str) -> tuple[dict, str, str | None, int | None]:
    """(table, events, contacts, as_of) of an example or a conformance case."""
    from compiler.run.scoring import rio

    if name in EXAMPLES:
        data = ROOT / "examples" / "data" / name
        return (compile_model(str(ROOT / "examples" / f"{name}.score")).table,
                str(data / "events.jsonl"), str(data / "contacts.jsonl"), None)
    case = ROOT / "tests" / "conformance" / name
    words = (case / "args").read_text().split() if (case / "args").exists() else []
    as_of = rio.parse_as_of(words[words.index("--as-of") + 1]) if "--as-of" in words else None
    contacts = case / "contacts.jsonl"
    return (compile_model(str(case / "model.score")).table, str(case / "events.jsonl"),
            str(contacts) if contacts.exists() else None, as_of)


def _flat(results: list[dict]) -> list[tuple]:
    return [(r["contact"], a["at"], a["action"], a["arg"]) for r in results
            for a in r["actions"]]


def _run(engine: str, table, events, contacts, as_of, since=None, accounts=False):
    return engines.run_with_actions(engine, table, events, contacts, as_of, lambda r: None,
                                    since=since, accounts=accounts)


# --------------------------------------------------------------------------- the runtime

@pytest.mark.parametrize("name", EXAMPLES + tuple(c.name for c in CASES))
def test_records_are_the_results_actions_with_their_points(name):
    """One record per action of the results, in their order; the results are those of a
    plain run; an event point names its event (id and line), other points none."""
    table, events, contacts, as_of = _inputs(name)
    plain = engines.run("python", table, events, contacts, as_of, lambda r: None)
    results, _, records = _run("python", table, events, contacts, as_of)
    assert results == plain
    assert [(r["contact"], format_time(r["at"]), r["action"], r["arg"]) for r in records] \
        == _flat(plain)
    lines = {e.line: e for e in read_events(events) if isinstance(e, Event)}
    for record in records:
        assert record["point"] in ("event", "due", "as-of")
        if record["point"] == "event":
            event = lines[record["event_line"]]
            assert (event.contact, event.at, event.id) == \
                (record["contact"], record["at"], record["event_id"])
        else:
            assert record["event_id"] is None and record["event_line"] is None


def test_values_are_those_the_trigger_saw():
    """`notify sales, reset engagement` at SQL: both records carry the engagement that
    reached SQL (before the reset), the stage SQL; the result shows the reset."""
    table, events, contacts, _ = _inputs("b2b_saas")
    results, _, records = _run("python", table, events, contacts, None)
    resets = [r for r in records if r["action"] == "reset"]
    assert resets
    for reset in resets:
        assert reset["stage"] == "SQL" and reset["scores"]["engagement"] >= 80
        notify = [r for r in records if r["contact"] == reset["contact"]
                  and r["at"] == reset["at"] and r["action"] == "notify"]
        assert notify and notify[0]["scores"] == reset["scores"]
    assert set(records[0]) == {"contact", "at", "action", "arg", "point", "event_id",
                               "event_line", "scores", "grades", "stage"}


def test_compiled_and_interpreted_give_the_same_records():
    table, events, contacts, _ = _inputs("hubspot_port")
    accepted = [e for e in read_events(events) if isinstance(e, Event)]
    profiles = read_contacts(contacts)[0]
    found = []
    for compiled in (True, False):
        engine = Engine(table, compiled=compiled)
        log = ActionLog(engine)
        list(engine.iter_run(accepted, profiles, actions=log))
        found.append(log.records())
    assert found[0] == found[1] and found[0]


def test_streaming_records_equal_the_batch_records():
    """process() every event in time order, then advance(T): the same records as a batch
    run as of T (process and advance take the log too)."""
    table, events, contacts, _ = _inputs("b2b_saas")
    accepted = sorted((e for e in read_events(events) if isinstance(e, Event)),
                      key=lambda e: (e.at, e.seq))
    profiles = read_contacts(contacts)[0]
    until = max(e.at for e in accepted)
    batch = Engine(table)
    expected = ActionLog(batch)
    list(batch.iter_run(accepted, profiles, until, actions=expected))
    stream = Engine(table, contacts=profiles)
    log = ActionLog(stream)
    returned = []
    for event in accepted:
        returned += stream.process(event, actions=log)
    returned += stream.advance(until, actions=log)
    assert log.records() == expected.records()
    assert len(returned) == len(log)
    assert sorted((a["contact"], a["at"], a["action"]) for a in returned) == sorted(
        (r["contact"], format_time(r["at"]), r["action"]) for r in log.records())


def test_values_are_read_once_per_point_and_again_in_a_new_call():
    """The actions of one point share one reading of the values; after `begin()` (a new
    process/advance call) a point of the same contact, time and kind is read anew."""
    from types import SimpleNamespace

    from runtime.conditions import STAGE

    readings = []

    def live(state, at):
        readings.append(at)
        return {"s": len(readings), STAGE: None}

    engine = SimpleNamespace(table=SimpleNamespace(score_names=("s",), grades=()), live=live)
    log = ActionLog(engine)
    state = SimpleNamespace(key="c")
    tag, reset = {"action": "tag", "arg": "hot"}, {"action": "reset", "arg": "s"}
    log.fired(state, 5, tag, "as-of")
    log.fired(state, 5, reset, "as-of")
    log.begin()
    log.fired(state, 5, tag, "as-of")
    assert [r["scores"]["s"] for r in log.records()] == [1, 1, 2]
    assert [r["point"] for r in log.records()] == ["as-of"] * 3


def test_since_keeps_the_actions_after_it():
    table, events, contacts, _ = _inputs("b2b_saas")
    _, _, every = _run("python", table, events, contacts, None)
    times = sorted({r["at"] for r in every})
    since = times[len(times) // 2]
    _, _, later = _run("python", table, events, contacts, None, since=since)
    assert later == [r for r in every if r["at"] > since]
    assert later and len(later) < len(every)
    with pytest.raises(TypeError):
        ActionLog(Engine(table), since="2026-03-01")


# --------------------------------------------------------------------------- duckdb

needs_duckdb = pytest.mark.skipif(importlib.util.find_spec("duckdb") is None,
                                  reason="the duckdb engine needs the `sql` extra")


@needs_duckdb
@pytest.mark.parametrize("name", EXAMPLES + tuple(c.name for c in CASES))
def test_duckdb_equals_the_python_engine(name):
    table, events, contacts, as_of = _inputs(name)
    from compiler.sql import check

    if check(table, "duckdb"):
        pytest.skip(f"the duckdb engine refuses {name} (E3xx)")
    accounts = bool(table.get("accounts"))
    expected = _run("python", table, events, contacts, as_of, accounts=accounts)
    assert _run("duckdb", table, events, contacts, as_of, accounts=accounts) == expected
    if expected[2]:
        since = expected[2][len(expected[2]) // 2]["at"]
        assert _run("duckdb", table, events, contacts, as_of, since=since)[2] == \
            _run("python", table, events, contacts, as_of, since=since)[2]


def _write(folder: Path, events, contacts) -> tuple[str, str]:
    with open(folder / "events.jsonl", "w", encoding="utf-8") as out:
        for e in events:
            record = {"contact": e.contact, "event": e.event, "at": time_text(e.at)}
            if e.target is not None:
                record["target"] = e.target
            if e.id is not None:
                record["id"] = e.id
            if e.props:
                record["props"] = e.props
            out.write(json.dumps(record) + "\n")
    with open(folder / "contacts.jsonl", "w", encoding="utf-8") as out:
        for contact, profile in contacts.items():
            out.write(json.dumps({"contact": contact, **profile}) + "\n")
    return str(folder / "events.jsonl"), str(folder / "contacts.jsonl")


def _differential(scenario, since_pick):
    from compiler.sql import check

    model, events, contacts, as_of = scenario
    table = lower(model, "0" * 64)
    assume(not check(table, "duckdb"))
    with tempfile.TemporaryDirectory() as folder:
        events_path, contacts_path = _write(Path(folder), events, contacts)
        expected = _run("python", table, events_path, contacts_path, as_of)
        assert _run("duckdb", table, events_path, contacts_path, as_of) == expected
        times = sorted({r["at"] for r in expected[2]})
        if times:
            since = times[since_pick % len(times)]
            assert _run("duckdb", table, events_path, contacts_path, as_of, since=since) == \
                _run("python", table, events_path, contacts_path, as_of, since=since)


@needs_duckdb
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(ms.scenarios(ms.models(), max_events=14), st.integers(0, 50))
def test_generated_models_and_histories_equal_the_python_engine(scenario, since_pick):
    _differential(scenario, since_pick)


@needs_duckdb
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(ms.scenarios(v2=True, max_events=14), st.integers(0, 50))
def test_generated_v2_models_and_histories_equal_the_python_engine(scenario, since_pick):
    _differential(scenario, since_pick)


# --------------------------------------------------------------------------- the CLI

def _cli(args: list[str]):
    return CliRunner().invoke(main, args)


def _b2b(*extra: str) -> list[str]:
    return ["run", str(B2B), "--events", str(B2B_DATA / "events.jsonl"), "--contacts",
            str(B2B_DATA / "contacts.jsonl"), *extra]


@pytest.mark.parametrize("engine", ["python", pytest.param("duckdb", marks=needs_duckdb)])
def test_cli_jsonl_and_csv(tmp_path, engine):
    plain = tmp_path / "plain.jsonl"
    assert _cli(_b2b("--out", str(plain), "--engine", engine)).exit_code == 0
    out, jsonl, text = tmp_path / "r.jsonl", tmp_path / "a.jsonl", tmp_path / "a.csv"
    result = _cli(_b2b("--out", str(out), "--actions", str(jsonl), "--engine", engine))
    assert result.exit_code == 0, result.output
    assert out.read_text() == plain.read_text()  # the results are unchanged
    assert _cli(_b2b("--out", str(out), "--actions", str(text), "--engine", engine)
                ).exit_code == 0
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    rows = list(csv.DictReader(io.StringIO(text.read_text(), newline="")))
    assert len(lines) == len(rows) > 0
    assert list(rows[0]) == ["contact", "at", "action", "arg", "point", "event_id",
                             "event_line", "engagement", "fit", "tier", "stage"]
    events_name = str(B2B_DATA / "events.jsonl")
    for line, row in zip(lines, rows):
        assert line["at"].endswith("Z") and row["at"] == line["at"]
        assert row["event_line"] == (line["event_line"] or "")
        assert line["event_line"].startswith(events_name + ":")
        assert row["engagement"] == str(line["scores"]["engagement"])
        assert row["tier"] == (line["grades"].get("tier") or "")
        assert row["stage"] == (line["stage"] or "")
    flat = [(r["contact"], a["at"], a["action"], a["arg"])
            for r in map(json.loads, plain.read_text().splitlines()) for a in r["actions"]]
    assert [(x["contact"], x["at"], x["action"], x["arg"]) for x in lines] == flat


def test_cli_format_option_wins_over_the_extension(tmp_path):
    target = tmp_path / "actions.txt"
    result = _cli(_b2b("--out", str(tmp_path / "r.jsonl"), "--actions", str(target),
                       "--format", "csv"))
    assert result.exit_code == 0
    assert target.read_text().startswith("contact,at,action,arg,")


def test_cli_since(tmp_path):
    every, later = tmp_path / "all.jsonl", tmp_path / "later.jsonl"
    assert _cli(_b2b("--out", str(tmp_path / "r"), "--actions", str(every))).exit_code == 0
    result = _cli(_b2b("--out", str(tmp_path / "r"), "--actions", str(later),
                       "--since", "2026-03-01T00:00:00+01:00"))
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in every.read_text().splitlines()]
    kept = [x for x in lines if x["at"] > "2026-02-28T23:00:00Z"]
    assert [json.loads(x) for x in later.read_text().splitlines()] == kept
    assert 0 < len(kept) < len(lines)


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", "", "1.5e9x"])
def test_cli_bad_since_is_a_usage_error(tmp_path, since):
    result = _cli(_b2b("--out", str(tmp_path / "r"), "--actions", str(tmp_path / "a"),
                       "--since", since))
    assert result.exit_code == 2
    assert "--since" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("args, message", [
    (["--since", "2026-03-01"], "--since selects the actions"),
    (["--actions", "A", "--timeline", "week"], "cannot be combined with --actions"),
    (["--actions", "-"], "cannot both go to standard output"),
    (["--actions", "A", "--coverage"], "--coverage and --actions"),
])
def test_cli_combinations_refused(tmp_path, args, message):
    args = [str(tmp_path / "a") if a == "A" else a for a in args]
    result = _cli(_b2b(*args))
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_cli_actions_to_stdout_with_accounts(tmp_path):
    """--actions - with the results and accounts in files; the accounts are those of a run
    without --actions."""
    case = ROOT / "tests" / "conformance" / "16_accounts"
    base = ["run", str(case / "model.score"), "--events", str(case / "events.jsonl"),
            "--contacts", str(case / "contacts.jsonl")]
    assert _cli(base + ["--out", str(tmp_path / "r0"), "--accounts", str(tmp_path / "x0")]
                ).exit_code == 0
    result = _cli(base + ["--out", str(tmp_path / "r1"), "--accounts", str(tmp_path / "x1"),
                          "--actions", "-"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x0").read_text() == (tmp_path / "x1").read_text()
    assert (tmp_path / "r0").read_text() == (tmp_path / "r1").read_text()
    for line in result.stdout.splitlines():
        assert json.loads(line)["action"]


@needs_duckdb
def test_input_out_of_time_order(tmp_path):
    """A shuffled events file: the python engine reads it again through its external sort,
    the causing lines are those of the shuffled file, equal to the duckdb engine's; the
    records are those of the ordered file but for the lines."""
    import random

    table, events, contacts, _ = _inputs("b2b_saas")
    lines = Path(events).read_text(encoding="utf-8").splitlines(keepends=True)
    random.Random(7).shuffle(lines)
    shuffled = tmp_path / "events.jsonl"
    shuffled.write_text("".join(lines), encoding="utf-8")
    got = _run("python", table, str(shuffled), contacts, None)
    assert got == _run("duckdb", table, str(shuffled), contacts, None)
    ordered = _run("python", table, events, contacts, None)
    assert got[0] == ordered[0]

    def without_lines(records):
        return [{**r, "event_line": None} for r in records]
    assert without_lines(got[2]) == without_lines(ordered[2])
    moved = {n + 1: line for n, line in enumerate(lines)}
    for record in got[2]:
        if record["event_line"] is not None:
            assert json.loads(moved[record["event_line"]]).get("id") == record["event_id"]


def test_score_sql_actions(tmp_path):
    result = _cli(["sql", str(B2B), "--dialect", "postgres", "--actions", "--since",
                   "2026-03-01"])
    assert result.exit_code == 0, result.output
    assert "AS event_id" in result.stdout and "a.ts > CAST(1772323200000000 AS BIGINT)" \
        in result.stdout
    assert "actagg" not in result.stdout  # the results' per-contact array is not built
    quiet = tmp_path / "quiet.score"
    quiet.write_text("score s\nvisit pricing +5\n", encoding="utf-8")
    result = _cli(["sql", str(quiet), "--actions"])
    assert result.exit_code == 1 and "no action can fire" in result.output
    result = _cli(["sql", str(B2B), "--since", "2026-03-01"])
    assert result.exit_code == 2 and "--since" in result.output
