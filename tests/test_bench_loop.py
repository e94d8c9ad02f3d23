"""The benchmark's plain loop (`benchmarks/b2b_loop.py`) scores the B2B model correctly.

`bench_engine.py` compares the loop with the engine on every run; this test keeps the loop
honest on its own, against the reference interpreter, on a small generated log where caps,
absences, decay steps, stages, the reset and the tier-D tag all occur.
"""
from __future__ import annotations

import pathlib
import sys
from collections import Counter

import pytest

import reference
from runtime.events import Event
from runtime.io import read_contacts, read_events

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import b2b_loop  # noqa: E402
import generate  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("b2b")
    generate.generate(str(folder), 4000, 80, seed=5)
    events = [e for e in read_events(str(folder / "events.jsonl")) if isinstance(e, Event)]
    events.sort(key=lambda event: (event.at, event.seq))
    profiles, rejects = read_contacts(str(folder / "contacts.jsonl"))
    assert not rejects
    return events, profiles


def _model():
    parser = pytest.importorskip("dsl.parser", reason="dsl.parser has not landed yet")
    parsed = parser.parse_text((BENCHMARKS / "b2b.score").read_text(encoding="utf-8"),
                               "b2b.score")
    assert parsed.model is not None
    return parsed.model


def test_generator_is_seeded(tmp_path):
    for name in ("one", "two"):
        generate.generate(str(tmp_path / name), 500, 20, seed=3)
    for file in ("events.jsonl", "contacts.jsonl"):
        assert (tmp_path / "one" / file).read_bytes() == (tmp_path / "two" / file).read_bytes()


def test_loop_equals_reference(data):
    events, profiles = data
    expected = b2b_loop.summary_of_engine(reference.interpret(_model(), events, profiles))
    assert b2b_loop.summary_of_loop(b2b_loop.score_b2b(events, profiles)) == expected
    stages = Counter(row[4] for row in expected)
    actions = Counter(action[1:] for row in expected if row[5] for action in row[5])
    assert stages["SQL"] and stages["MQL"] and stages[None], stages
    assert actions[("reset", "engagement")] and actions[("tag", "not-a-fit")], actions


def test_loop_equals_reference_at_an_earlier_as_of(data):
    events, profiles = data
    as_of = events[len(events) // 2].at + 1  # absences pending, decay mid-step
    expected = b2b_loop.summary_of_engine(reference.interpret(_model(), events, profiles, as_of))
    got = b2b_loop.summary_of_loop(b2b_loop.score_b2b(events, profiles, as_of))
    assert got == expected
