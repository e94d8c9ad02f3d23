"""`score run`, `score explain` and `score compile` through click's CliRunner: stdout, stderr
and exit codes (docs/running.md)."""
from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.run import engines
from compiler.cli import main

MODEL = "visit pricing +1\nwhen score >= 3 notify sales\n"
DAY = "2026-03-0{}T10:00:00Z"


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def event(contact: str, day: int = 1, **extra) -> str:
    record = {"contact": contact, "event": "visit", "target": "pricing", "at": DAY.format(day)}
    record.update(extra)
    return json.dumps(record)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("model.score").write_text(MODEL, encoding="utf-8")
    return tmp_path


def write_events(*lines: str, name: str = "events.jsonl") -> str:
    Path(name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return name


def rows(stdout: str) -> dict[str, dict]:
    return {row["contact"]: row for row in map(json.loads, stdout.splitlines())}


# --- broken lines among many good ones --------------------------------------------------------

BROKEN = [
    "not json at all",
    '{"contact": "c1", "event": "visit"}',
    '{"contact": "c1", "event": "visit", "at": "2026-03-01T10:00:00Z", "colour": "red"}',
    '{"contact": 7, "event": "visit", "at": "2026-03-01T10:00:00Z"}',
    '{"contact": "c1", "event": "visit", "at": "yesterday"}',
    '{"contact": "c1", "event": "visit", "at": 1772445600.5}',
    '{"contact": "c1", "event": "visit", "at": "2026-03-01T10:00:00Z", "id": 5}',
    '{"contact": "c1", "event": "visit", "at": "2026-03-01T10:00:00Z", "props": [1]}',
    '["contact", "c1"]',
    '{"contact": "c1", "event": "visit", "at": "2026-03-01T10:00:00"}',
]


def test_broken_lines_among_many_good_ones_are_reported_and_the_rest_is_scored(workdir):
    rng = random.Random(7)
    lines = [event(f"c{rng.randrange(40)}", day=rng.randrange(1, 5)) for _ in range(3000)]
    positions = sorted(rng.sample(range(len(lines) + len(BROKEN)), len(BROKEN)))
    for position, line in zip(positions, BROKEN):
        lines.insert(position, line)
    write_events(*lines)
    broken_numbers = [p + 1 for p in positions]

    result = invoke("run", "model.score", "--events", "events.jsonl", "--rejects", "rejects.jsonl")

    assert result.exit_code == 0, result.stderr
    cited = [line for line in result.stderr.splitlines() if line.startswith("events.jsonl:")]
    assert [int(line.split(":")[1]) for line in cited] == broken_numbers
    assert "10 lines rejected" in result.stderr
    written = [json.loads(line) for line in Path("rejects.jsonl").read_text().splitlines()]
    assert [(r["file"], r["line"], r["raw"]) for r in written] == [
        ("events.jsonl", n, line) for n, line in zip(broken_numbers, BROKEN)]
    assert all(r["reason"] for r in written)
    good = Counter(json.loads(line)["contact"] for n, line in enumerate(lines, start=1)
                   if n not in broken_numbers)
    scored = rows(result.stdout)
    assert {c: row["scores"]["score"] for c, row in scored.items()} == dict(good)
    assert list(scored) == sorted(scored)


def test_max_rejects_fails_only_when_exceeded(workdir):
    write_events(event("a"), "oops", event("a", 2), "{}")
    at_limit = invoke("run", "model.score", "--events", "events.jsonl", "--max-rejects", 2)
    over = invoke("run", "model.score", "--events", "events.jsonl", "--max-rejects", 1)
    assert at_limit.exit_code == 0
    assert over.exit_code == 1
    assert "exceed --max-rejects 1" in over.stderr
    assert rows(over.stdout)["a"]["scores"]["score"] == 2  # still scored


def test_rejects_alone_do_not_change_the_exit_code(workdir):
    write_events("oops", "oops")
    result = invoke("run", "model.score", "--events", "events.jsonl")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.splitlines()[:2] == [
        "events.jsonl:1: not valid JSON: Expecting value at column 1",
        "events.jsonl:2: not valid JSON: Expecting value at column 1"]


def test_contacts_rejects_cite_the_contacts_file(workdir):
    write_events(event("a"))
    Path("contacts.jsonl").write_text('{"contact": "a"}\n{"title": "CEO"}\n', encoding="utf-8")
    result = invoke("run", "model.score", "--events", "events.jsonl", "--contacts",
                    "contacts.jsonl")
    assert result.exit_code == 0
    assert "contacts.jsonl:2: missing required key `contact`" in result.stderr.splitlines()


# --- options ----------------------------------------------------------------------------------

def test_as_of_hides_later_events(workdir):
    write_events(*(event("a", day) for day in (1, 2, 3, 4)))
    every = invoke("run", "model.score", "--events", "events.jsonl")
    early = invoke("run", "model.score", "--events", "events.jsonl", "--as-of", "2026-03-02")
    assert rows(every.stdout)["a"]["scores"]["score"] == 4
    assert rows(every.stdout)["a"]["actions"] == [
        {"at": DAY.format(3), "action": "notify", "arg": "sales"}]
    assert rows(early.stdout)["a"]["scores"]["score"] == 1  # 2026-03-02T00:00Z: day 1 only
    assert rows(early.stdout)["a"]["actions"] == []


@pytest.mark.parametrize("value", ["yesterday", "2026-03-02T10:00:00", "2026-02-30"])
def test_a_bad_as_of_gets_a_clear_message(workdir, value):
    write_events(event("a"))
    result = invoke("run", "model.score", "--events", "events.jsonl", "--as-of", value)
    assert result.exit_code == 2
    assert "--as-of" in result.stderr and value in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_model_with_errors_refuses_to_run(workdir):
    Path("bad.score").write_text("score engagement\nvisit pricing +15 engagment\n")
    write_events(event("a"))
    result = invoke("run", "bad.score", "--events", "events.jsonl")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "bad.score:2:" in result.stderr and "error[" in result.stderr
    assert "nothing was scored" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--events", "missing.jsonl"], "missing.jsonl: no such file"),
    (["--events", "."], "is a directory"),
    (["--events", "-", "--contacts", "-"], "cannot both read standard input"),
])
def test_unusable_inputs_get_a_message_and_exit_2(workdir, args, message):
    result = invoke("run", "model.score", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_events_from_standard_input(workdir):
    result = invoke("run", "model.score", "--events", "-",
                    input=event("a") + "\nbroken\n" + event("b") + "\n")
    assert result.exit_code == 0
    assert set(rows(result.stdout)) == {"a", "b"}
    assert "<stdin>:2: not valid JSON" in result.stderr


def test_csv_events_and_contacts(workdir):
    Path("scored.score").write_text('visit pricing where seconds >= 30 +5\n'
                                    'if employees >= 200 +20\n')
    Path("events.csv").write_text("contact,event,target,at,props.seconds\n"
                                  "a,visit,pricing,2026-03-01T10:00:00Z,45\n"
                                  "a,visit,pricing,1772445600,10\n"
                                  "b,visit,pricing,not-a-time,99\n")
    Path("contacts.csv").write_text("contact,employees\na,250\nc,1000\n")
    result = invoke("run", "scored.score", "--events", "events.csv", "--contacts", "contacts.csv")
    assert result.exit_code == 0, result.stderr
    assert {c: r["scores"]["score"] for c, r in rows(result.stdout).items()} == {"a": 25, "c": 20}
    assert result.stderr.startswith("events.csv:4: invalid time")


def test_csv_output_to_a_file(workdir):
    write_events(event("a"), event("b"), event("b", 2), event("b", 3))
    result = invoke("run", "model.score", "--events", "events.jsonl", "--out", "scores.csv")
    assert result.exit_code == 0 and result.stdout == ""
    table = list(csv.DictReader(io.StringIO(Path("scores.csv").read_text())))
    assert [(r["contact"], r["score"], r["stage"]) for r in table] == [("a", "1", ""),
                                                                      ("b", "3", "")]
    assert json.loads(table[1]["actions"])[0]["arg"] == "sales"


def test_table_format_shows_every_contact(workdir):
    write_events(event("alice"), event("bob"))
    result = invoke("run", "model.score", "--events", "events.jsonl", "--format", "table")
    assert result.exit_code == 0
    assert "alice" in result.stdout and "bob" in result.stdout and "2 contacts" in result.stdout


def test_compiled_table_scores_like_the_model(workdir):
    write_events(event("a"), event("a", 2), event("a", 3), event("b"))
    compiled = invoke("compile", "model.score", "-o", "table.json")
    assert compiled.exit_code == 0, compiled.stderr
    assert json.loads(Path("table.json").read_text())["format"] == 2
    from_model = invoke("run", "model.score", "--events", "events.jsonl")
    from_table = invoke("run", "table.json", "--events", "events.jsonl")
    assert from_table.exit_code == 0
    assert from_table.stdout == from_model.stdout


def test_compile_refuses_a_model_with_errors(workdir):
    Path("bad.score").write_text("visit pricing +\n")
    result = invoke("compile", "bad.score", "-o", "table.json")
    assert result.exit_code == 1
    assert "bad.score:1:" in result.stderr
    assert not Path("table.json").exists()


def test_a_json_file_that_is_not_a_table_is_refused(workdir):
    Path("other.json").write_text('{"hello": 1}')
    write_events(event("a"))
    result = invoke("run", "other.json", "--events", "events.jsonl")
    assert result.exit_code == 2 and "not a usable rule table" in result.stderr
    # one line: the reason and what to do, not a second "has errors" line after it
    assert result.stderr.count("\n") == 1, result.stderr
    explained = invoke("explain", "other.json", "--events", "events.jsonl", "--contact", "a")
    assert explained.exit_code == 2 and explained.stderr.count("\n") == 1, explained.stderr
    assert "not a usable rule table" in explained.stderr


# --- engines ----------------------------------------------------------------------------------

def test_auto_picks_python_for_small_inputs_and_duckdb_above_the_threshold(workdir):
    write_events(event("a"))
    assert engines.choose("auto", "events.jsonl") == "python"
    expected = "python" if engines.missing_dependency("duckdb") or \
        not (Path(engines.__file__).parent / "duckdb.py").exists() else "duckdb"
    assert engines.choose("auto", "events.jsonl", threshold=10) == expected
    assert engines.choose("auto", "-", threshold=0) == "python"
    assert engines.choose("spark", "events.jsonl") == "spark"


def test_an_engine_whose_extra_is_missing_says_which_extra(workdir, monkeypatch):
    monkeypatch.setitem(engines.ENGINES, "ghost", ("ghost", "sql", ("no_such_module_xyz",)))
    with pytest.raises(engines.EngineError, match=r"scorelang\[sql\]"):
        engines.get("ghost")
    monkeypatch.setitem(engines.ENGINES, "unbuilt", ("unbuilt_xyz", "sql", ()))
    with pytest.raises(engines.EngineError, match="not part of this installation"):
        engines.get("unbuilt")
    with pytest.raises(engines.EngineError, match="unknown engine"):
        engines.get("nope")


def test_run_with_an_unavailable_engine_exits_2(workdir):
    write_events(event("a"))
    if engines.missing_dependency("spark") is None:
        pytest.skip("pyspark is installed here, so the spark engine is available")
    result = invoke("run", "model.score", "--events", "events.jsonl", "--engine", "spark")
    assert result.exit_code == 2
    assert "scorelang[spark]" in result.stderr


# --- explain ----------------------------------------------------------------------------------

def test_explain_text_and_json(workdir):
    write_events(event("a"), event("a", 2), event("b"))
    text = invoke("explain", "model.score", "--events", "events.jsonl", "--contact", "a")
    as_json = invoke("explain", "model.score", "--events", "events.jsonl", "--contact", "a",
                     "--format", "json")
    assert text.exit_code == 0 and as_json.exit_code == 0, text.stderr + as_json.stderr
    assert "pricing" in text.stdout
    explained = json.loads(as_json.stdout)
    assert explained["contact"] == "a"


def test_explain_an_unknown_contact_suggests_a_close_one(workdir):
    write_events(event("alice"))
    result = invoke("explain", "model.score", "--events", "events.jsonl", "--contact", "alise")
    assert result.exit_code == 1
    assert "contact `alise`" in result.stderr and "alice" in result.stderr


# --- progress ---------------------------------------------------------------------------------

class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal_for_large_inputs(workdir, monkeypatch):
    from compiler.run import writers as output

    write_events(*(event("a") for _ in range(100)))
    with output.progress_bar("events.jsonl", io.StringIO()) as progress:
        assert progress is None  # not a terminal
    with output.progress_bar("events.jsonl", _Terminal()) as progress:
        assert progress is None  # too small to be worth a bar
    monkeypatch.setattr(output, "PROGRESS_MIN_BYTES", 10)
    terminal = _Terminal()
    with output.progress_bar("events.jsonl", terminal) as progress:
        assert progress is not None
        progress(Path("events.jsonl").stat().st_size)
    assert "events.jsonl" in terminal.getvalue()


def test_contacts_from_standard_input(workdir):
    Path("scored.score").write_text("if employees >= 200 +20\nvisit pricing +1\n")
    write_events(event("a"))
    result = invoke("run", "scored.score", "--events", "events.jsonl", "--contacts", "-",
                    input='{"contact": "a", "employees": 250}\n{"oops": 1}\n')
    assert result.exit_code == 0, result.stderr
    assert rows(result.stdout)["a"]["scores"]["score"] == 21
    assert "<stdin>:2: missing required key `contact`" in result.stderr


@pytest.mark.parametrize("option", ["--out", "--rejects"])
def test_an_unwritable_output_is_refused_before_scoring(workdir, option):
    write_events(event("a"))
    result = invoke("run", "model.score", "--events", "events.jsonl", option, "no/such/dir.jsonl")
    assert result.exit_code == 2
    assert "no/such/dir.jsonl: cannot write" in result.stderr
    assert result.stdout == ""


def test_parquet_events_through_the_cli(workdir):
    pa = pytest.importorskip("pyarrow", reason="Parquet needs the sql or spark extra")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"contact": ["a", "a", None, "b"], "event": ["visit"] * 4,
                             "target": ["pricing"] * 4,
                             "at": ["2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z",
                                    "2026-03-02T10:00:00Z", "2026-03-01T10:00:00Z"]}),
                   "events.parquet")
    result = invoke("run", "model.score", "--events", "events.parquet")
    assert result.exit_code == 0, result.stderr
    assert {c: r["scores"]["score"] for c, r in rows(result.stdout).items()} == {"a": 2, "b": 1}
    assert result.stderr.startswith("events.parquet:3: `contact` must be text, found null")
