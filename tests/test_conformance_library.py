"""Every case of the conformance suite through the library: `pipeline.compile` then
`Engine.run` (the CLI has its own conformance test). Events are read by a tiny reader here,
independent of `runtime.io`, so that a reader bug and an engine bug cannot hide each other."""
import json
import shlex
from pathlib import Path

import pytest

from compiler.pipeline import compile as compile_model
from runtime import Engine, Event, parse_time

CASES = Path(__file__).resolve().parent / "conformance"
EVENT_KEYS = {"contact", "event", "target", "at", "id", "props"}


def read_events(path: Path) -> list[Event]:
    """Accepted events only; anything else (rejects) is skipped."""
    events = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            event = _event(line, number)
            if event is not None:
                events.append(event)
    return events


def _event(line: str, number: int) -> Event | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or set(record) - EVENT_KEYS \
            or not {"contact", "event", "at"} <= set(record):
        return None
    at = record["at"]
    try:
        if type(at) is int:
            micros = at * 1_000_000
        elif isinstance(at, str):
            micros = parse_time(at, date_only_is_utc_midnight=False)
        else:
            return None
    except ValueError:
        return None
    texts = [record["contact"], record["event"]]
    optional = [record.get("target"), record.get("id")]
    if not all(isinstance(t, str) for t in texts) \
            or not all(t is None or isinstance(t, str) for t in optional) \
            or not isinstance(record.get("props", {}), dict):
        return None
    return Event(record["contact"], record["event"], micros, record.get("target"),
                 record.get("id"), record.get("props") or {}, number, number)


def read_contacts(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    contacts = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            contacts[record.pop("contact")] = record  # the last line of a contact wins
    return contacts


def as_of_of(args: str) -> int | None:
    words = shlex.split(args)
    return parse_time(words[words.index("--as-of") + 1]) if "--as-of" in words else None


@pytest.mark.parametrize("case", sorted(p for p in CASES.iterdir() if p.is_dir()),
                         ids=lambda p: p.name)
def test_conformance_case(case):
    result = compile_model(case / "model.score")
    assert result.ok, [str(d) for d in result.diagnostics]
    args = (case / "args").read_text() if (case / "args").exists() else ""
    got, accounts = Engine(result.table).run_with_accounts(
        read_events(case / "events.jsonl"), read_contacts(case / "contacts.jsonl"),
        as_of_of(args))
    assert got == read_lines(case / "expected.jsonl")
    if (case / "expected_accounts.jsonl").exists():  # docs/language.md 10.6
        assert accounts == read_lines(case / "expected_accounts.jsonl")


def read_lines(path: Path) -> list:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_the_suite_is_there():
    assert len([p for p in CASES.iterdir() if p.is_dir()]) >= 10
