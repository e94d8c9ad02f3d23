"""The Spark engine (local[2]) gives exactly what the Python runtime gives.

- every conformance case, results and rejects;
- Parquet and CSV inputs, a directory of files, the `write` path;
- a Hypothesis differential test: generated models (language v2 too) and event streams,
  Spark == Python (few examples: each one is a Spark job).
One SparkSession is shared by the whole test session. Skipped, saying why, when pyspark or
Java is missing.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil

import pytest

pytest.importorskip("pyspark", reason="the `spark` extra (pyspark) is not installed")
pytest.importorskip("pandas", reason="Spark's applyInPandas needs pandas (the `spark` extra)")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs a Java runtime (java on PATH or JAVA_HOME)", allow_module_level=True)

from hypothesis import HealthCheck, given, settings  # noqa: E402

from compiler.run.engines import python as python_engine  # noqa: E402
from compiler.run.engines import spark as spark_engine  # noqa: E402
from runtime.events import Event, parse_time  # noqa: E402

CASES = pathlib.Path(__file__).resolve().parent / "conformance"
CASE_DIRS = sorted(p for p in CASES.glob("*") if (p / "model.score").exists())


@pytest.fixture(scope="session")
def spark():
    session = spark_engine.session("local[2]", conf={"spark.sql.shuffle.partitions": "4"})
    yield session


def _table(path: pathlib.Path) -> dict:
    pytest.importorskip("dsl.parser", reason="dsl.parser has not landed yet")
    from compiler.pipeline import compile as compile_model

    result = compile_model(str(path))
    assert result.table is not None, [str(d) for d in result.diagnostics]
    return result.table


def _as_of(case: pathlib.Path) -> int | None:
    words = (case / "args").read_text().split() if (case / "args").exists() else []
    return parse_time(words[words.index("--as-of") + 1]) if "--as-of" in words else None


def _both(table, events: str, contacts: str | None, as_of, spark):
    python_rejects, spark_rejects = [], []
    expected = python_engine.run(table, events, contacts, as_of, python_rejects.append)
    got = spark_engine.run(table, events, contacts, as_of, spark_rejects.append, spark=spark)
    return expected, got, python_rejects, spark_rejects


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_conformance_case(case, spark):
    contacts = case / "contacts.jsonl"
    rejects = []
    got = spark_engine.run(_table(case / "model.score"), str(case / "events.jsonl"),
                           str(contacts) if contacts.exists() else None, _as_of(case),
                           rejects.append, spark=spark)
    expected = [json.loads(line) for line in (case / "expected.jsonl").read_text().splitlines()
                if line.strip()]
    assert got == expected
    python_rejects = []
    python_engine.run(_table(case / "model.score"), str(case / "events.jsonl"),
                      str(contacts) if contacts.exists() else None, _as_of(case),
                      python_rejects.append)
    assert rejects == python_rejects
    expected_accounts = case / "expected_accounts.jsonl"
    if expected_accounts.exists():  # docs/language.md 10.6
        _, accounts = spark_engine.run_with_accounts(
            _table(case / "model.score"), str(case / "events.jsonl"),
            str(contacts) if contacts.exists() else None, _as_of(case), lambda r: None,
            spark=spark)
        assert accounts == [json.loads(line) for line in
                            expected_accounts.read_text().splitlines() if line.strip()]


MODEL = """\
score engagement 0..100
visit pricing +10
visit "blog/*" +3 at most 2 per day
email_sent without email_open within 24 hours -5
if title = "CEO" +20
stage MQL when engagement >= 20
when stage is MQL notify sales, reset engagement
"""

EVENTS = [
    {"contact": "a", "event": "visit", "target": "pricing", "at": "2026-03-01T10:00:00Z"},
    {"contact": "b", "event": "visit", "target": "blog/x", "at": 1772445600, "id": "e1"},
    {"contact": "b", "event": "visit", "target": "blog/x", "at": 1772445601, "id": "e1"},
    {"contact": "a", "event": "email_sent", "target": "c1", "at": "2026-03-01T11:00:00+01:00"},
    {"contact": "a", "event": "visit", "target": "pricing", "at": "2026-03-03T10:00:00Z",
     "props": {"seconds": 12}},
]


@pytest.fixture
def model(tmp_path) -> dict:
    path = tmp_path / "model.score"
    path.write_text(MODEL, encoding="utf-8")
    return _table(path)


def _write_jsonl(path: pathlib.Path, records, extra_lines=()) -> str:
    lines = [json.dumps(record) for record in records] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_jsonl_with_rejects_and_blank_lines(model, tmp_path, spark):
    events = _write_jsonl(tmp_path / "events.jsonl", EVENTS,
                          ["", "not json", '{"contact": "a", "event": "visit", "at": true}'])
    contacts = _write_jsonl(tmp_path / "contacts.jsonl",
                            [{"contact": "a", "title": "CEO"}, {"contact": "z", "title": "x"},
                             {"contact": "a", "title": "CTO"}])
    expected, got, python_rejects, spark_rejects = _both(model, events, contacts, None, spark)
    assert got == expected
    assert [r.line for r in spark_rejects] == [7, 8]
    assert spark_rejects == python_rejects
    assert [result["contact"] for result in got] == ["a", "b", "z"]


def test_parquet_and_csv_inputs(model, tmp_path, spark):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = [dict(e, at=parse_time(e["at"]) // 1_000_000 if isinstance(e["at"], str) else e["at"])
            for e in EVENTS]
    table = pa.table({
        "contact": [r["contact"] for r in rows], "event": [r["event"] for r in rows],
        "target": [r.get("target") for r in rows], "at": [r["at"] for r in rows],
        "id": [r.get("id") for r in rows],
        "props": [json.dumps(r["props"]) if "props" in r else None for r in rows]})
    pq.write_table(table, tmp_path / "events.parquet")
    csv_lines = ["contact,event,target,at,id,props.seconds"] + [
        f"{r['contact']},{r['event']},{r.get('target', '')},{r['at']},{r.get('id', '')},"
        f"{r.get('props', {}).get('seconds', '')}" for r in rows] + ["a,visit,x"]
    (tmp_path / "events.csv").write_text("\n".join(csv_lines) + "\n", encoding="utf-8")
    for name in ("events.parquet", "events.csv"):
        expected, got, python_rejects, spark_rejects = _both(
            model, str(tmp_path / name), None, None, spark)
        assert got == expected, name
        assert spark_rejects == python_rejects, name
    assert [r.line for r in spark_rejects] == [7]  # the CSV row with too few cells


def test_a_directory_is_its_files_in_name_order(model, tmp_path, spark):
    folder = tmp_path / "events"
    folder.mkdir()
    _write_jsonl(folder / "part-0.jsonl", EVENTS[:2])
    _write_jsonl(folder / "part-1.jsonl", EVENTS[2:], ["broken"])
    (folder / "_SUCCESS").write_text("")
    whole = _write_jsonl(tmp_path / "all.jsonl", EVENTS, ["broken"])
    rejects = []
    got = spark_engine.run(model, str(folder), None, None, rejects.append, spark=spark)
    python_rejects = []
    assert got == python_engine.run(model, whole, None, None, python_rejects.append)
    assert rejects == python_rejects and [r.line for r in rejects] == [6]


def test_write_parquet_and_jsonl(model, tmp_path, spark):
    events = _write_jsonl(tmp_path / "events.jsonl", EVENTS, ["oops"])
    expected = python_engine.run(model, events, None, None, lambda reject: None)
    count = spark_engine.write(model, events, None, None, str(tmp_path / "out-json"),
                               fmt="jsonl", rejects=str(tmp_path / "rejects.jsonl"), spark=spark)
    assert count == 1
    assert json.loads((tmp_path / "rejects.jsonl").read_text())["line"] == 6
    parts = sorted((tmp_path / "out-json").glob("part-*"))
    written = [json.loads(line) for part in parts for line in part.read_text().splitlines()]
    assert written == expected
    spark_engine.write(model, events, None, None, str(tmp_path / "out-pq"), spark=spark)
    frame = spark.read.parquet(str(tmp_path / "out-pq")).orderBy("contact").collect()
    assert [row["contact"] for row in frame] == [r["contact"] for r in expected]
    assert [dict(row["scores"]) for row in frame] == [r["scores"] for r in expected]
    assert [[a.asDict() for a in row["actions"]] for row in frame] == \
        [r["actions"] for r in expected]


def test_spark_submit_entry_point_prints_results(model, tmp_path, spark, capsys):
    table = tmp_path / "table.json"
    table.write_text(json.dumps(model))
    events = _write_jsonl(tmp_path / "events.jsonl", EVENTS, ["oops"])
    assert spark_engine.main(["--table", str(table), "--events", events]) == 0
    out, err = capsys.readouterr()
    expected = python_engine.run(model, events, None, None, lambda reject: None)
    assert [json.loads(line) for line in out.splitlines()] == expected
    assert f"{events}:6: not valid JSON" in err


# --- differential: generated models and streams -------------------------------------------------

def _event_json(event: Event) -> dict:
    record = {"contact": event.contact, "event": event.event, "at": _iso(event.at)}
    if event.target is not None:
        record["target"] = event.target
    if event.id is not None:
        record["id"] = event.id
    if event.props:
        record["props"] = event.props
    return record


def _iso(micros: int) -> str:
    from runtime.events import format_time

    return format_time(micros)[:-1] + f".{micros % 1_000_000:06d}Z"


def test_spark_equals_python_on_generated_scenarios(spark, tmp_path_factory):
    import model_strategies
    from compiler.lower import lower

    @settings(max_examples=6, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(model_strategies.scenarios(max_events=12, v2=True))
    def check(scenario):
        model, events, profiles, as_of = scenario
        table = lower(model, "0" * 64)
        folder = tmp_path_factory.mktemp("scenario")
        events_path = _write_jsonl(folder / "events.jsonl", [_event_json(e) for e in events])
        contacts_path = _write_jsonl(folder / "contacts.jsonl",
                                     [{"contact": c, **p} for c, p in profiles.items()])
        expected, got, python_rejects, spark_rejects = _both(
            table, events_path, contacts_path, as_of, spark)
        assert got == expected
        assert spark_rejects == python_rejects

    check()


@pytest.mark.parametrize("name,period", [("b2b_saas", "week"), ("hubspot_port", "day")])
def test_timeline_equals_the_python_engine(name, period, spark):
    """`score run --timeline` on Spark: the same rows as the Python engine (v2 included)."""
    examples = CASES.parent.parent / "examples"
    table = _table(examples / f"{name}.score")
    data = examples / "data" / name
    arguments = (table, str(data / "events.jsonl"), str(data / "contacts.jsonl"), None)
    expected = python_engine.timeline(*arguments, lambda reject: None, period)
    rejects = []
    got = spark_engine.timeline(*arguments, rejects.append, period, spark=spark)
    assert got == expected
    assert len(got) > 1000
