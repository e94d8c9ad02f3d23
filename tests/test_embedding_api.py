"""The embedding API refuses bad input clearly, before any state changes (issue 9, item 6),
and the README's example runs as written."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from compiler.pipeline import CompileError, compile
from runtime import Engine, Event, parse_time
from runtime.events import MICROS

ROOT = Path(__file__).resolve().parent.parent
AT = "2026-03-02T10:00:00Z"


@pytest.fixture(scope="module")
def table():
    return compile(str(ROOT / "examples" / "b2b_saas.score")).require_table()


@pytest.fixture
def engine(table):
    return Engine(table, contacts={"c-1": {"consent": True, "title": "CEO"}})


def test_the_readme_example_runs(monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"^```python\n(.*?)^```", readme, re.S | re.M).group(1)
    monkeypatch.chdir(ROOT)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile_source(code), {})
    expected = re.search(r"print\(.*\)\s+# (.*)$", code, re.M).group(1)
    assert printed.getvalue().strip() == expected


def compile_source(code: str):
    import builtins

    return builtins.compile(code, "README.md", "exec")


@pytest.mark.parametrize("at, error, words", [
    (AT, TypeError, "microseconds"),
    (1772445600.0, TypeError, "microseconds"),
    (True, TypeError, "microseconds"),
    (1772445600, ValueError, "epoch seconds"),
    (1772445600_000, ValueError, "epoch seconds"),  # milliseconds
])
def test_a_bad_at_is_refused_before_any_state_changes(engine, at, error, words):
    before = engine.snapshot()
    with pytest.raises(error, match=words):
        engine.process(Event("c-1", "visit", at, "pricing"))
    assert engine.snapshot() == before
    # the contact is not broken: the next valid event scores as on a fresh engine
    engine.process(Event.from_iso("c-1", "visit", AT, "pricing"))
    assert engine.state("c-1")["scores"]["engagement"] == 15


def test_the_message_says_how_to_build_the_event(engine):
    with pytest.raises(ValueError) as seconds:
        engine.process(Event("c-1", "visit", 1772445600, "pricing"))
    assert "1970-01-01T00:29:32Z" in str(seconds.value)
    assert "Event.from_epoch_seconds" in str(seconds.value)
    with pytest.raises(TypeError) as text:
        engine.process(Event("c-1", "visit", AT, "pricing"))
    assert "Event.from_iso" in str(text.value)


def test_other_fields_are_checked_too(engine):
    with pytest.raises(TypeError, match="Event.contact"):
        engine.process(Event(17, "visit", parse_time(AT)))
    with pytest.raises(TypeError, match="Event.props"):
        engine.process(Event("c-1", "visit", parse_time(AT), props=[("seconds", 3)]))
    with pytest.raises(TypeError, match="advance"):
        engine.advance(AT)


def test_constructors_from_iso_text_and_epoch_seconds():
    micros = parse_time(AT)
    assert Event.from_iso("c", "visit", AT, "pricing").at == micros
    assert Event.from_iso("c", "visit", "2026-03-02T11:00:00+01:00").at == micros
    assert Event.from_epoch_seconds("c", "visit", micros // MICROS, "pricing") == \
        Event("c", "visit", micros, "pricing")
    assert Event.from_epoch_seconds("c", "visit", 1.25).at == 1_250_000
    with pytest.raises(TypeError):
        Event.from_iso("c", "visit", micros)
    with pytest.raises(TypeError):
        Event.from_epoch_seconds("c", "visit", AT)


def test_the_batch_api_names_a_text_time(engine):
    with pytest.raises(TypeError, match="Event.at must be an integer of microseconds"):
        engine.run([Event("c-1", "visit", parse_time(AT)), Event("c-2", "visit", AT)])


def test_engine_of_no_table_says_why():
    with pytest.raises(TypeError, match="require_table"):
        Engine(None)
    with pytest.raises(TypeError, match="not int"):
        Engine(42)


def test_require_table_of_a_broken_model_lists_the_errors(tmp_path):
    path = tmp_path / "m.score"
    path.write_text("score engagement 0..100\nvisit pricing +15 engagment\n", encoding="utf-8")
    result = compile(str(path))
    assert result.table is None
    with pytest.raises(CompileError) as raised:
        result.require_table()
    assert "error[E102]: unknown score `engagment`" in str(raised.value)
    assert [d.code for d in raised.value.diagnostics] == ["E102"]


def test_snapshot_and_restore_are_documented():
    assert "JSON-safe" in Engine.snapshot.__doc__
    assert "SnapshotError" in Engine.restore.__doc__
