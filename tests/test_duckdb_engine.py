"""The DuckDB engine (`compiler.run.engines.duckdb`) against the conformance cases, the
reference interpreter (hypothesis, generated models and event streams) and the Python
runtime, plus hostile strings end to end."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

duckdb = pytest.importorskip("duckdb", reason="the DuckDB engine needs the `sql` extra")
pytest.importorskip("pyarrow", reason="the DuckDB engine needs the `sql` extra")

import model_strategies as ms  # noqa: E402
import reference  # noqa: E402
from compiler.run.engines import EngineError  # noqa: E402
from compiler.run.engines import duckdb as engine  # noqa: E402
from compiler.lower import lower  # noqa: E402
from compiler.sql import check  # noqa: E402
from dsl import ast  # noqa: E402
from runtime import Engine  # noqa: E402
from runtime import io as rio  # noqa: E402
from runtime import schema  # noqa: E402
from runtime.errors import TableError  # noqa: E402
from runtime.events import Event, parse_time  # noqa: E402

CASES_DIR = Path(__file__).resolve().parent / "conformance"
CASES = sorted(p for p in CASES_DIR.glob("*") if (p / "model.score").exists())
CON = duckdb.connect()
PARSER_MISSING = importlib.util.find_spec("dsl.parser") is None


def _table_of(case: Path) -> dict:
    if PARSER_MISSING:
        pytest.skip("dsl.parser has not landed yet: the conformance models cannot be compiled")
    from compiler.pipeline import compile as compile_model

    result = compile_model(str(case / "model.score"))
    assert result.table is not None, [d.message for d in result.diagnostics]
    return result.table


def _as_of(case: Path) -> int | None:
    words = (case / "args").read_text().split() if (case / "args").exists() else []
    return rio.parse_as_of(words[words.index("--as-of") + 1]) if "--as-of" in words else None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_conformance_case(case: Path):
    table = _table_of(case)
    contacts = case / "contacts.jsonl"
    rejects = []
    results = engine.run(table, str(case / "events.jsonl"),
                         str(contacts) if contacts.exists() else None, _as_of(case),
                         rejects.append)
    expected = [json.loads(line) for line in
                (case / "expected.jsonl").read_text(encoding="utf-8").splitlines() if line]
    assert results == expected
    # rejects: the same lines and reasons as the Python reader reports
    python_rejects = [r for r in rio.read_events(str(case / "events.jsonl"))
                      if not isinstance(r, Event)]
    assert [(r.line, r.reason) for r in rejects] == [(r.line, r.reason) for r in python_rejects]
    if (case / "expected_accounts.jsonl").exists():  # docs/language.md 10.6
        again, accounts = engine.run_with_accounts(
            table, str(case / "events.jsonl"), str(contacts) if contacts.exists() else None,
            _as_of(case), lambda reject: None)
        assert again == expected
        assert accounts == [json.loads(line) for line in (case / "expected_accounts.jsonl")
                            .read_text(encoding="utf-8").splitlines() if line]


# --------------------------------------------------------------------------- differential

def _differential(scenario) -> None:
    model, events, contacts, as_of = scenario
    table = lower(model)
    assume(not check(table, "duckdb"))  # refusals are tested below
    expected = reference.interpret(model, events, contacts, as_of)
    assert engine.run_events(table, events, contacts, as_of, connection=CON) == expected


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(ms.scenarios(ms.models(resets=False)))
def test_duckdb_equals_reference_interpreter(scenario):
    _differential(scenario)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(ms.scenarios(ms.models()))
def test_duckdb_equals_reference_with_resets(scenario):
    _differential(scenario)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(ms.scenarios(v2=True))
def test_duckdb_equals_reference_on_v2_models(scenario):
    """Language v2: groups with bounds, inactivity rules over long quiet gaps, matrix grades
    and digit labels, `by PROP` with integer, decimal, text, null, out-of-range and missing
    values, quoted event names."""
    _differential(scenario)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(ms.scenarios(v2=True, max_events=40))
def test_duckdb_equals_python_runtime_on_v2_models(scenario):
    model, events, contacts, as_of = scenario
    table = lower(model)
    assume(not check(table, "duckdb"))
    expected = Engine(table).run(events, contacts, as_of=as_of)
    assert engine.run_events(table, events, contacts, as_of, connection=CON) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(ms.scenarios(ms.models(), max_events=40))
def test_duckdb_equals_python_runtime(scenario):
    runtime = pytest.importorskip("runtime.engine", reason="runtime.engine has not landed yet")
    model, events, contacts, as_of = scenario
    table = lower(model)
    assume(not check(table, "duckdb"))
    expected = runtime.Engine(table).run(events, contacts, as_of=as_of)
    assert engine.run_events(table, events, contacts, as_of, connection=CON) == expected


# --------------------------------------------------------------------------- hostile strings

hostile = st.one_of(st.sampled_from(["'; DROP TABLE events; --", "a'b", "\\", "x\x00y", "é",
                                     "%_!", "日本", "\"q\"", "a\nb"]),
                    st.text(min_size=1, max_size=8))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(target=hostile, other=hostile, arg=hostile, label=hostile)
def test_hostile_targets_labels_and_arguments(target, other, arg, label):
    assume(target != other)
    model = ast.Model((
        ast.EventRule("visit", ast.Targets((target,)), None, 7),
        ast.EventRule("visit", ast.Targets((other,)), None, 1),
        ast.Grade("tier", "score", (ast.Band(label, 7),)),
        ast.Trigger(ast.Compare(ast.Ref("score"), ">=", ast.Number(7)),
                    (ast.Action("notify", arg),)),
    ))
    table = lower(model)
    at = parse_time("2026-03-01T10:00:00Z")
    events = [Event("c'1", "visit", at, target), Event("c'1", "visit", at + 1, "none")]
    if not schema._LABEL.fullmatch(label):
        # no model can write such a label: a table holding one is refused before any SQL
        with pytest.raises(TableError, match="label"):
            engine.run_events(table, events, {}, None, connection=CON)
        return
    assert engine.run_events(table, events, {}, None, connection=CON) == \
        reference.interpret(model, events, {}, None)


# --------------------------------------------------------------------------- refusals

def _resetting(each_time: bool) -> ast.Model:
    return ast.Model((
        ast.EventRule("visit", ast.Targets(), None, 10),
        ast.Trigger(ast.Compare(ast.Ref("score"), ">=", ast.Number(20)),
                    (ast.Action("reset", "score"),), each_time),
    ))


def test_each_time_reset_is_refused_with_a_diagnostic(tmp_path):
    table = lower(_resetting(True))
    diagnostics = check(table, "duckdb")
    assert [d.code for d in diagnostics] == ["E301"]
    assert "each time" in diagnostics[0].message and "duckdb" in diagnostics[0].message
    assert "--engine python" in diagnostics[0].hint
    events = tmp_path / "events.jsonl"
    events.write_text('{"contact": "a", "event": "visit", "at": "2026-03-01T00:00:00Z"}\n')
    with pytest.raises(EngineError, match="E301"):
        engine.run(table, str(events), None, None, lambda reject: None)


def test_once_reset_is_supported():
    model = _resetting(False)
    table = lower(model)
    assert check(table, "duckdb") == []
    start = parse_time("2026-03-01T00:00:00Z")
    events = [Event("a", "visit", start + i * 10**6) for i in range(5)]
    results = engine.run_events(table, events, {}, None, connection=CON)
    assert results == reference.interpret(model, events, {}, None)
    assert results[0]["scores"] == {"score": 30}  # 10 + 10, reset, then 3 x 10


def test_csv_input_gives_the_same_result_as_jsonl(tmp_path):
    case = CASES_DIR / "09_targets_glob_list_where"
    table = _table_of(case)
    rows = [json.loads(line) for line in (case / "events.jsonl").read_text().splitlines()]
    csv_path = tmp_path / "events.csv"
    lines = ["contact,event,target,at,props.seconds"]
    for row in rows:
        seconds = row.get("props", {}).get("seconds", "")
        lines.append(f"{row['contact']},{row['event']},{row['target']},{row['at']},{seconds}")
    csv_path.write_text("\n".join(lines) + "\n")
    from_csv = engine.run(table, str(csv_path), None, None, lambda reject: None)
    from_jsonl = engine.run(table, str(case / "events.jsonl"), None, None, lambda r: None)
    assert from_csv == from_jsonl


def test_a_parquet_file_replaced_while_it_is_read_is_an_error(tmp_path, monkeypatch):
    """The engine reads a Parquet events file again in its query (it is not copied into
    DuckDB): a file replaced in between would be scored unvalidated, so it is refused."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from compiler.run.engines import duckdb_input

    table = _table_of(CASES_DIR / "09_targets_glob_list_where")
    path = tmp_path / "events.parquet"
    rows = {"contact": ["a"], "event": ["visit"], "at": [1772359200]}
    pq.write_table(pa.table(rows), path)
    assert len(engine.run(table, str(path), None, None, lambda r: None)) == 1

    def then_replace(read):
        def reading(*args, **kwargs):
            found = read(*args, **kwargs)
            replaced = tmp_path / "new.parquet"
            pq.write_table(pa.table({**rows, "contact": [""]}), replaced)  # a reject, unseen
            replaced.replace(path)
            return found
        return reading

    monkeypatch.setattr(duckdb_input, "load_events", then_replace(duckdb_input.load_events))
    with pytest.raises(EngineError, match="changed while the duckdb engine read it"):
        engine.run(table, str(path), None, None, lambda r: None)


CORPUS = Path(__file__).resolve().parent / "input_corpus"
ONE_PASS_INPUTS = sorted(CORPUS.glob("*.jsonl"))


@pytest.mark.parametrize("path", ONE_PASS_INPUTS, ids=[p.name for p in ONE_PASS_INPUTS])
def test_one_pass_scoring_equals_loading_then_querying(path):
    """`duckdb_input.scored` (the events read, validated and scored in one statement) gives
    the rows and rejects of `load_events` and the query over `sl_events`, or None having
    reported nothing."""
    from compiler.run.engines import duckdb_contacts, duckdb_input
    from compiler.run.parquet import ParquetError
    from compiler.sql import generate

    table = _table_of(CASES_DIR / "09_targets_glob_list_where")

    def query(name: str) -> str:
        return generate(table, "duckdb", name, duckdb_contacts.TABLE, seq_column="line")

    def both(read):
        con, rejects = duckdb.connect(), []
        duckdb_contacts.load_contacts(con, None)
        try:
            rows = read(con, lambda r: rejects.append((r.line, r.reason, r.raw)))
        except ParquetError as exc:
            return str(exc)
        finally:
            con.close()
        return rows, rejects

    def loaded(con, on_reject):
        duckdb_input.load_events(con, str(path), on_reject, copy=False)
        return con.execute(query(duckdb_input.TABLE)).fetchall()

    one = both(lambda con, on_reject: duckdb_input.scored(con, str(path), on_reject, query))
    usual = both(loaded)
    if not isinstance(one, str) and one[0] is None:
        assert one[1] == []  # nothing reported: the caller loads the events
    else:
        assert one == usual  # the same rows and rejects, or the same clear error


def test_one_pass_scoring_leaves_a_line_python_accepts_to_the_usual_way(tmp_path):
    """A line SQL leaves to Python and Python accepts (a time with a space for `T`) was not
    seen by the query: `scored` reports nothing and returns None, and `run` scores it."""
    from compiler.run.engines import duckdb_contacts, duckdb_input
    from compiler.sql import generate

    table = _table_of(CASES_DIR / "09_targets_glob_list_where")
    path = tmp_path / "events.jsonl"
    path.write_text('{"contact": "a", "event": "visit", "at": "2026-03-01T10:00:00Z"}\n'
                    '{"contact": "b", "event": "visit", "at": "2026-03-01 10:00:00Z"}\n'
                    '{"contact": "", "event": "visit", "at": "2026-03-01T10:00:00Z"}\n')
    def scored(path):
        con, rejects = duckdb.connect(), []
        duckdb_contacts.load_contacts(con, None)
        rows = duckdb_input.scored(con, str(path), rejects.append, lambda name: generate(
            table, "duckdb", name, duckdb_contacts.TABLE, seq_column="line"))
        return rows, [r.line for r in rejects]

    assert scored(path) == (None, [])
    without = tmp_path / "without.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    without.write_text(lines[0] + lines[2])
    rows, rejects = scored(without)
    assert [row[0] for row in rows] == ["a"] and rejects == [2]
    rejects = []
    results = engine.run(table, str(path), None, None, rejects.append)
    assert [r["contact"] for r in results] == ["a", "b"]
    assert [r.line for r in rejects] == [3]


def _contacts_files(tmp_path) -> list[Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    jsonl = tmp_path / "contacts.jsonl"
    jsonl.write_text('{"contact": "a", "plan": "pro"}\n'
                     '\n'
                     '{"contact": "", "plan": "pro"}\n'
                     '{"plan": "free"}\n'
                     '{"contact": "b", "plan": "x", "plan": "y"}\n'
                     '[1, 2]\n'
                     '{"contact": "c", "nested": {"deep": [1, {"x": null}]}}\n'
                     '{"contact": "a", "plan": NaN}\n'
                     '{"contact": 7}\n', encoding="utf-8")
    csv = tmp_path / "contacts.csv"
    csv.write_text("contact,plan\na,pro\n,free\nb,x\n", encoding="utf-8")
    parquet = tmp_path / "contacts.parquet"
    pq.write_table(pa.table({"contact": ["a", "", None, "b"],
                             "plan": ["pro", "free", None, "x"]}), parquet)
    clean = tmp_path / "clean.parquet"
    pq.write_table(pa.table({"contact": ["a", "b"], "plan": ["pro", None]}), clean)
    return [jsonl, csv, parquet, clean]


def test_the_engine_reports_the_contacts_rejects_of_the_python_reader(tmp_path):
    """`on_contact_reject` gets the rejects `readers.read_contacts` gives (line, reason, raw
    text, in order), for every contacts format, and the profiles are those it reads."""
    from compiler.run import readers

    table = _table_of(CASES_DIR / "07_require_consent")
    events = CASES_DIR / "07_require_consent" / "events.jsonl"
    for path in _contacts_files(tmp_path):
        profiles, expected = readers.read_contacts(str(path))
        reported = []
        results = engine.run(table, str(events), str(path), None, lambda r: None,
                             on_contact_reject=reported.append)
        assert [(r.line, r.reason, r.raw) for r in reported] == \
            [(r.line, r.reason, r.raw) for r in expected], path.name
        assert results == engine.run(table, str(events), str(path), None, lambda r: None)
        assert {r["contact"] for r in results} >= set(profiles)
    assert expected == [] and len(readers.read_contacts(str(tmp_path / "contacts.jsonl"))[1]) > 4


def test_connections_draw_no_progress_bar(monkeypatch):
    """DuckDB draws its progress bar on standard output, where `score run` writes the
    results: every connection the engine opens has it off (the one `connect` makes, and the
    ones `run_events` and `run_events_with_accounts` open when given none)."""
    def setting(con) -> bool:
        return con.execute("SELECT current_setting('enable_progress_bar')").fetchall()[0][0]

    real_connect = duckdb.connect

    def loud(*args, **kwargs):  # DuckDB's default where standard output is a terminal
        con = real_connect(*args, **kwargs)
        con.execute("SET enable_progress_bar = true")
        return con

    monkeypatch.setattr(duckdb, "connect", loud)
    assert setting(engine.connect()) is False
    real, seen = engine.quiet, []

    def recording(con):
        con = real(con)
        seen.append(setting(con))
        return con

    monkeypatch.setattr(engine, "quiet", recording)
    table = _table_of(CASES[0])
    engine.run_events(table, [], {})
    engine.run_events_with_accounts(table, [], {})
    assert seen == [False, False]
