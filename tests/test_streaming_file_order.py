"""`score run --engine python` feeds the engine its events in file order as an
`InFileOrder` stream, which `Engine.run` reads through the time-order loop
(runtime/compiled_timeorder.py) where the table allows it, as rows (`InFileOrder(rows=...)`,
the loop's row variant). Properties: on generated models and logs (in time order, shuffled,
with ids or without, an as-of time before some events) the stream gives `Engine.run`'s
results on the list, or the same UnorderedInputError as a plain one-shot iterator, or
Fallback (an event with an id), and the rows of the same events give what the events give
(also to an engine that is not compiled, which reads them as events); and end to end,
through chunks of a few lines (ids first met in a later chunk, contacts out of order),
`score run`'s engine gives `Engine.run`'s results on the list and every reject once."""
from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

import model_strategies as ms
import reference
from compiler.lower import lower
from compiler.pipeline import compile_text
from compiler.run import engines
from compiler.run.engines import python as python_engine
from runtime import Engine, Event, UnorderedInputError
from runtime import io as rio
from runtime.compiled_timeorder import Fallback, eligible
from runtime.engine import InFileOrder
from test_compiled import PROPERTY
from test_streaming_batch import _line  # an event as its JSON line


def _flat_models():
    return ms.models(decay=False, expire=False, absence=False, v2=True)


def _outcome(run):
    try:
        return "ok", run()
    except UnorderedInputError as exc:
        return "unordered", str(exc)


@PROPERTY
@given(ms.scenarios(_flat_models(), max_events=30, v2=True), st.randoms(use_true_random=False),
       st.booleans(), st.booleans())
def test_a_file_order_stream_equals_the_list(scenario, rng: random.Random, keep_ids, ordered):
    model, events, contacts, as_of = scenario
    table = lower(model, "0" * 64)
    if not keep_ids:
        events = [dataclasses.replace(e, id=None) for e in events]
    events = reference.processing_order(events) if ordered else list(events)
    if not ordered:
        rng.shuffle(events)
    expected = Engine(table).run(events, contacts, as_of=as_of)
    plain = _outcome(lambda: Engine(table).run(iter(events), contacts, as_of=as_of))
    engine = Engine(table)
    try:
        streamed = _outcome(lambda: engine.run(InFileOrder(events), contacts, as_of=as_of))
    except Fallback:
        assert eligible(engine.table) and any(e.id is not None for e in events)
        return
    assert streamed == plain
    if streamed[0] == "ok":
        assert streamed[1] == expected
        results, accounts = Engine(table).run_with_accounts(InFileOrder(events), contacts,
                                                            as_of=as_of)
        assert (results, accounts) == Engine(table).run_with_accounts(events, contacts,
                                                                      as_of=as_of)
    if ordered:
        assert streamed == ("ok", expected)


def _rows(events):
    return [(e.contact, e.event, e.at, e.target, e.id, e.props or None) for e in events]


def _streamed(run):
    try:
        return _outcome(run)
    except Fallback:
        return "fallback", None


@PROPERTY
@given(ms.scenarios(_flat_models(), max_events=30, v2=True), st.randoms(use_true_random=False),
       st.booleans(), st.booleans())
def test_the_rows_of_a_file_order_stream_give_what_its_events_give(scenario, rng, keep_ids,
                                                                    ordered):
    """Rows carry no seq: their place in the stream is it, as a reader's events have it."""
    model, events, contacts, as_of = scenario
    table = lower(model, "0" * 64)
    events = reference.processing_order(events) if ordered else list(events)
    if not ordered:
        rng.shuffle(events)
    events = [dataclasses.replace(e, seq=seq, id=e.id if keep_ids else None)
              for seq, e in enumerate(events)]
    by_events = _streamed(lambda: Engine(table).run(InFileOrder(events), contacts,
                                                    as_of=as_of))
    by_rows = _streamed(lambda: Engine(table).run(InFileOrder(rows=_rows(events)), contacts,
                                                  as_of=as_of))
    assert by_rows == by_events
    if by_rows[0] == "ok":
        assert by_rows[1] == Engine(table).run(events, contacts, as_of=as_of)
        assert Engine(table).run_with_accounts(InFileOrder(rows=_rows(events)), contacts,
                                               as_of=as_of) == \
            Engine(table).run_with_accounts(events, contacts, as_of=as_of)
    interpreted = _outcome(lambda: Engine(table, compiled=False).run(
        InFileOrder(rows=_rows(events)), contacts, as_of=as_of))
    assert interpreted == _outcome(lambda: Engine(table, compiled=False).run(
        iter(events), contacts, as_of=as_of))


MODEL = """\
score engagement 0..100
visit pricing +15 at most 2 per day
visit home +5
stage MQL when engagement >= 40
"""
T0 = 1_772_323_200_000_000
MINUTE = 60 * 1_000_000


def _events(count: int, contacts: int, seed: int, ids_from: int | None) -> list[Event]:
    rng = random.Random(seed)
    kinds = [("visit", "pricing"), ("visit", "home"), ("visit", None), ("signup", None)]
    found = []
    for seq in range(count):
        event, target = rng.choice(kinds)
        found.append(Event(f"c-{rng.randrange(contacts)}", event,
                           T0 + rng.randrange(count // 3 + 1) * MINUTE, target,
                           f"e-{rng.randrange(count)}" if ids_from is not None
                           and seq >= ids_from and rng.random() < 0.5 else None,
                           {}, seq + 1, seq))
    return found


@pytest.mark.parametrize("ids_from", [None, 0, 150, 399])
@pytest.mark.parametrize("order", ["sorted", "shuffled", "one_late"])
@pytest.mark.parametrize("chunk_bytes", [1, 300, 1 << 20])
def test_score_run_in_file_order_equals_engine_run(ids_from, order, chunk_bytes, tmp_path,
                                                   monkeypatch):
    table = compile_text(MODEL).require_table()
    events = _events(400, 30, 3, ids_from)
    if order != "shuffled":
        events = sorted(events, key=lambda e: (e.at, e.seq))
    if order == "one_late":  # one contact out of time order, found in a later chunk
        late = next(i for i in range(300, 400) if events[i].at > events[200].at)
        events.insert(200, events.pop(late))
    lines = [_line(e) for e in events]
    broken = {5: "{not json", 260: '{"contact": "c-1"}'}
    for index, text in sorted(broken.items()):
        lines.insert(index, text)
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(rio, "_CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(python_engine, "BLOCK", 50)
    read = [item for item in python_engine.readers.read_events(str(path))
            if isinstance(item, Event)]
    passes = []
    real = python_engine._contact_by_contact
    monkeypatch.setattr(python_engine, "_contact_by_contact",
                        lambda *args: passes.append(1) or real(*args))
    rejects = []
    got = engines.run("python", table, str(path), None, None, rejects.append)
    assert got == Engine(table).run(read)
    assert [r.line for r in rejects] == [index + 1 for index in sorted(broken)]
    if ids_from is None:  # the time-order loop took the whole file: no second pass
        assert passes == []


PATTERNS = """\
score engagement 0..100
visit "p*" +1
visit "pr*" +2
visit "pri*" +3
visit "pric*" +4
visit home +5
"""


@pytest.mark.parametrize("model, file_order", [(MODEL, True), (PATTERNS, False)])
def test_one_pass_only_where_every_rule_list_is_inline(model, file_order, tmp_path,
                                                        monkeypatch):
    """Four patterns of one event type: some rule lists have no inline code, so the
    time-order loop would stop (Fallback) at the first such event and the file be read
    twice; `score run` then goes contact by contact from the start, in one pass."""
    table = compile_text(model).require_table()
    events = sorted(_events(200, 20, 5, None), key=lambda e: (e.at, e.seq))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(_line(e) for e in events) + "\n")
    reads, grouped = [], []
    read_chunks, read_rows, by_contact = python_engine.readers.read_event_chunks, \
        python_engine.readers.read_row_chunks, python_engine._contact_by_contact
    monkeypatch.setattr(python_engine.readers, "read_event_chunks",
                        lambda *a, **k: reads.append(1) or read_chunks(*a, **k))
    monkeypatch.setattr(python_engine.readers, "read_row_chunks",
                        lambda *a, **k: reads.append(1) or read_rows(*a, **k))
    monkeypatch.setattr(python_engine, "_contact_by_contact",
                        lambda *args: grouped.append(1) or by_contact(*args))
    assert Engine(table).program.inline_complete is file_order
    got = engines.run("python", table, str(path), None, None, [].append)
    assert got == Engine(table).run(events)
    assert reads == [1]
    assert grouped == ([] if file_order else [1])
