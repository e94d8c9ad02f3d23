"""The reference interpreter reproduces every conformance case exactly.

Each case's `model.score` is parsed with the project's parser; the events and contacts are read
with the reference's own small reader (rejects and blank lines skipped), so that the expected
results check the interpreter, not the runtime's I/O.
"""
from __future__ import annotations

import json
import pathlib

import pytest

import reference
from runtime.events import parse_time

CASES = pathlib.Path(__file__).resolve().parent / "conformance"
CASE_DIRS = sorted(p for p in CASES.glob("*") if (p / "model.score").exists())


def _lines(path: pathlib.Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _as_of(case: pathlib.Path) -> int | None:
    words = (case / "args").read_text().split() if (case / "args").exists() else []
    if "--as-of" in words:
        return parse_time(words[words.index("--as-of") + 1])
    return None


def _model(case: pathlib.Path):
    parser = pytest.importorskip("dsl.parser", reason="dsl.parser has not landed yet")
    parsed = parser.parse_text((case / "model.score").read_text(encoding="utf-8"),
                               str(case / "model.score"))
    errors = [d for d in parsed.diagnostics if getattr(d, "is_error", True)]
    assert parsed.model is not None and not errors, errors
    return parsed.model


def test_cases_are_there():
    assert len(CASE_DIRS) >= 10, f"expected the conformance cases in {CASES}"


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_reference_matches_expected(case):
    events = reference.read_events(_lines(case / "events.jsonl"))
    contacts = reference.read_contacts(_lines(case / "contacts.jsonl"))
    got = reference.interpret(_model(case), events, contacts, _as_of(case))
    expected = [json.loads(line) for line in _lines(case / "expected.jsonl") if line.strip()]
    assert got == expected
    if (case / "expected_accounts.jsonl").exists():  # docs/language.md 10.6
        import reference_accounts

        accounts = reference_accounts.accounts(_model(case), events, contacts, _as_of(case))
        assert accounts == [json.loads(line) for line in _lines(case / "expected_accounts.jsonl")
                            if line.strip()]


def test_reader_skips_rejects_and_blank_lines():
    lines = ['{"contact": "m", "event": "visit", "at": "2026-03-01T10:00:00Z"}', "",
             "not json", '{"contact": "m", "event": "visit", "at": 1772445600, "x": 1}',
             '{"contact": "m", "event": "visit", "at": true}',
             '{"contact": "m", "event": "visit", "at": "2026-03-01T10:00:00"}',
             '{"contact": "m", "event": "visit", "at": 1772445600, "id": 7}',
             '{"contact": "m", "event": "visit", "at": 1772445600, "id": "e"}']
    events = reference.read_events(lines)
    assert [(e.line, e.at) for e in events] == [
        (1, parse_time("2026-03-01T10:00:00Z")), (8, 1772445600 * 1_000_000)]
