"""`score run --engine python` regroups its file a block of lines at a time, contact by
contact, and hands the blocks to the engine as they are (`runtime.engine.ContactBlocks`), which
reads each through the compiled contact-by-contact loop (`Program.groups`), a contact's state
going on from one block to the next. Properties: on generated models and logs (in time order
or shuffled, duplicate ids, an as-of time before some events) cut into blocks anywhere, the
blocks give `Engine.run`'s results on the list, its accounts and its actions, or
UnorderedInputError exactly where a plain one-shot iterator gives it; end to end with small
blocks, a contact whose events span blocks (its ids repeated in a later block, ids holding
the separator) is scored as in one list, and a contact out of order across blocks sends
`score run` through the external sort."""
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
from compiler.run import external_sort
from compiler.run.engines import python as python_engine
from runtime import ActionLog, Engine, Event, UnorderedInputError
from runtime import io as rio
from runtime.engine import ContactBlocks
from test_compiled import PROPERTY
from test_observe import Recorder
from test_streaming_batch import _line  # an event as its JSON line


def _blocks(events: list, cuts) -> list[dict]:
    """`events` cut before each index of `cuts`, each part by contact (each contact's events
    in the order given), as `python_engine._blocks` regroups a file."""
    found, start = [], 0
    for end in sorted(set(cuts)) + [len(events)]:
        block: dict = {}
        for event in events[start:end]:
            block.setdefault(event.contact, []).append(event)
        found.append(block)
        start = end
    return found


def _outcome(run):
    try:
        return "ok", run()
    except UnorderedInputError:
        return "unordered", None


def _scenario_input(draw_events, rng: random.Random, ordered: bool) -> list[Event]:
    events = reference.processing_order(draw_events) if ordered else list(draw_events)
    if not ordered:
        rng.shuffle(events)
    # more repeats of a contact's ids: some events take the id of an earlier one of theirs
    ids: dict[str, list] = {}
    for k, event in enumerate(events):
        earlier = ids.setdefault(event.contact, [])
        if earlier and rng.random() < 0.3:
            events[k] = event = dataclasses.replace(event, id=rng.choice(earlier))
        if event.id is not None:
            earlier.append(event.id)
    # seq is each event's place in the input, as a reader gives it: a repeat of an id comes
    # later (a duplicate), whatever block it falls in
    return [dataclasses.replace(e, seq=seq) for seq, e in enumerate(events)]


def _cuts(rng: random.Random, size: int) -> list[int]:
    return [rng.randrange(size + 1) for _ in range(rng.randrange(4))] if size else []


@PROPERTY
@given(st.one_of(ms.scenarios(max_events=30), ms.scenarios(max_events=30, v2=True)),
       st.randoms(use_true_random=False), st.booleans())
def test_blocks_give_the_lists_results_accounts_and_actions(scenario, rng, ordered):
    model, events, contacts, as_of = scenario
    table = lower(model, "0" * 64)
    events = _scenario_input(events, rng, ordered)
    cuts = _cuts(rng, len(events))
    engine = Engine(table)
    plain = _outcome(lambda: Engine(table).run(iter(events), contacts, as_of=as_of))
    blocked = _outcome(lambda: engine.run(ContactBlocks(_blocks(events, cuts)), contacts,
                                          as_of=as_of))
    assert blocked[0] == plain[0]
    if ordered:
        assert blocked[0] == "ok"
    if blocked[0] != "ok":
        return
    assert blocked[1] == Engine(table).run(events, contacts, as_of=as_of)
    assert Engine(table).run_with_accounts(ContactBlocks(_blocks(events, cuts)), contacts,
                                           as_of=as_of) == \
        Engine(table).run_with_accounts(events, contacts, as_of=as_of)
    logs = []
    for given_events in (ContactBlocks(_blocks(events, cuts)), events):
        engine = Engine(table)
        log = ActionLog(engine)
        results = list(engine.iter_run(given_events, contacts, as_of, actions=log))
        logs.append((results, log.records()))
    assert logs[0] == logs[1]


@PROPERTY
@given(ms.scenarios(max_events=20, v2=True), st.randoms(use_true_random=False),
       st.booleans())
def test_blocks_read_as_events_by_the_interpreter_and_an_observer(scenario, rng, ordered):
    """An engine that is not compiled, and an observer, read the blocks as events."""
    model, events, contacts, as_of = scenario
    table = lower(model, "0" * 64)
    events = _scenario_input(events, rng, ordered)
    cuts = _cuts(rng, len(events))
    interpreted = _outcome(lambda: Engine(table, compiled=False).run(
        ContactBlocks(_blocks(events, cuts)), contacts, as_of=as_of))
    assert interpreted[0] == _outcome(lambda: Engine(table).run(iter(events), contacts,
                                                                as_of=as_of))[0]
    if interpreted[0] == "ok":
        assert interpreted[1] == Engine(table).run(events, contacts, as_of=as_of)
    seen, expected = Recorder(), Recorder()
    assert Engine(table).run(ContactBlocks(_blocks(events, cuts)), contacts, as_of=as_of,
                             observer=seen) == \
        Engine(table).run(events, contacts, as_of=as_of, observer=expected)
    assert seen.calls == expected.calls


T0 = 1_772_323_200_000_000
MINUTE = 60 * 1_000_000
MODEL = """\
score engagement 0..100
visit pricing +15 at most 2 per day
visit home +5
email_sent without email_open within 1 day -5
stage MQL when engagement >= 40
when stage is MQL notify sales
"""


def _event(contact: str, minute: int, event: str, target, ident, seq: int) -> Event:
    return Event(contact, event, T0 + minute * MINUTE, target, ident, {}, seq + 1, seq)


def test_a_contacts_ids_go_on_from_block_to_block():
    """Ids first met in one block are duplicates in the next (the separator in an id and
    the empty id too); between blocks they are kept as one text (memory), or as a set where
    an id holds the separator (a text would not give it back)."""
    table = compile_text("visit +1\n").require_table()
    ids = ["a", "", "a\0b", "b", "a", "", "a\0b", "c", "b"]
    events = [_event("x", k, "visit", None, ident, k) for k, ident in enumerate(ids)]
    events += [_event("y", k, "visit", None, f"y{k % 3}", len(ids) + k) for k in range(7)]
    busy = [_event("z", k, "visit", None, f"z-{k % 400}", 100 + k) for k in range(1000)]
    expected = Engine(table).run(events + busy)
    assert [r["scores"]["score"] for r in expected] == [5, 3, 400]
    for size in (1, 2, 3, 5, 333):
        blocks = _blocks(events + busy, range(size, len(events) + len(busy), size))
        assert Engine(table).run(ContactBlocks(blocks)) == expected
    engine = Engine(table)
    states, _ = engine._batch(ContactBlocks(_blocks(events + busy, [3, 12, 500])), {}, None,
                              None)
    for contact, count in (("y", 3), ("z", 400)):
        seen = states[contact].seen
        assert type(seen) is str and seen[0] == seen[-1] == "\0"
        assert sorted(seen[1:-1].split("\0")) == sorted({e.id for e in events + busy
                                                         if e.contact == contact})
        assert len(seen[1:-1].split("\0")) == count
    assert states["x"].seen == {"a", "", "a\0b", "b", "c"}


def test_a_contact_out_of_order_across_blocks_is_noticed():
    table = compile_text(MODEL).require_table()
    events = [_event("x", 10, "visit", "home", None, 0), _event("y", 1, "visit", "home", None, 1),
              _event("x", 5, "visit", "home", None, 2)]
    with pytest.raises(UnorderedInputError, match="'x'"):
        Engine(table).run(ContactBlocks(_blocks(events, [1, 2])))
    tied = [_event("x", 10, "visit", "home", None, 1), _event("x", 10, "visit", "home", None, 0)]
    with pytest.raises(UnorderedInputError):
        Engine(table).run(ContactBlocks(_blocks(tied, [1])))


def _log(count: int, contacts: int, seed: int) -> list[Event]:
    rng = random.Random(seed)
    kinds = [("visit", "pricing"), ("visit", "home"), ("email_sent", None),
             ("email_open", None)]
    found = []
    for seq in range(count):
        event, target = rng.choice(kinds)
        ident = f"e-{rng.randrange(40)}" if rng.random() < 0.7 else None  # repeats
        found.append(_event(f"c-{rng.randrange(contacts)}", seq * 7 + rng.randrange(3), event,
                            target, ident, seq))
    return found


@pytest.mark.parametrize("block", [1, 13, 100, 10_000])
def test_score_runs_blocks_give_the_lists_results_actions_and_accounts(tmp_path, monkeypatch,
                                                                       block):
    """End to end, blocks of a few lines: contacts spanning blocks, repeated ids (the
    duplicates of a later block dropped), actions and accounts as `Engine` gives them on
    the list; a contact out of order across blocks goes through the external sort."""
    monkeypatch.setattr(python_engine, "BLOCK", block)
    monkeypatch.setattr(rio, "_CHUNK_BYTES", 1)  # the reader's chunks: a line each
    # unbounded: every duplicate dropped or not shows in the score
    model = (MODEL.replace(" 0..100", "")
             + "account by company\naccount score heat = sum of engagement\n")
    table = compile_text(model).require_table()
    events = _log(600, 12, 3)
    contacts = {f"c-{k}": {"company": f"co-{k % 3}"} for k in range(12)}
    path = tmp_path / "contacts.jsonl"
    path.write_text("".join(f'{{"contact": "{c}", "company": "{p["company"]}"}}\n'
                            for c, p in contacts.items()))
    late = events[:300] + [events[450]] + events[300:450] + events[451:]
    sorts, blocked = [], []
    real_blocks = Engine._contact_blocks
    monkeypatch.setattr(Engine, "_contact_blocks",
                        lambda *args: blocked.append(1) or real_blocks(*args))
    real_sort = external_sort.sorted_events
    monkeypatch.setattr(external_sort, "sorted_events",
                        lambda *args, **kw: sorts.append(1) or real_sort(*args, **kw))
    for name, lines in (("ordered", events), ("late", late)):
        events_path = tmp_path / f"{name}.jsonl"
        events_path.write_text("".join(_line(e) + "\n" for e in lines))
        read = [item for item in python_engine.readers.read_events(str(events_path))
                if isinstance(item, Event)]
        engine = Engine(table)
        log = ActionLog(engine)
        expected = engine.run_with_accounts(read, contacts, actions=log)
        got = python_engine.run_with_actions(table, str(events_path), str(path), None,
                                             [].append, accounts=True)
        assert got == (*expected, log.records())
        assert python_engine.run(table, str(events_path), str(path), None, [].append) == \
            expected[0]
    assert len(sorts) == 2  # only the late file, once for each run
    assert len(blocked) == 4  # every first pass


@pytest.mark.parametrize("size", [7, 100, 1000])
def test_the_b2b_example_in_blocks(size):
    """The B2B example (decay: the bounds a point tests first, carried from block to block;
    absence, stages, triggers with actions, accounts) cut into blocks of `size` events."""
    from pathlib import Path

    from compiler.pipeline import compile as compile_model
    from compiler.run import readers

    folder = Path(__file__).parent.parent / "examples"
    table = compile_model(str(folder / "b2b_saas.score")).require_table()
    data = folder / "data" / "b2b_saas"
    contacts = readers.read_contacts(str(data / "contacts.jsonl"))[0]
    events = [item for item in readers.read_events(str(data / "events.jsonl"))
              if isinstance(item, Event)]
    events.sort(key=lambda e: (e.at, e.seq))  # the file is not in time order
    cuts = range(size, len(events), size)
    assert Engine(table).program._bounds
    for as_of in (None, events[len(events) // 2].at):
        expected = Engine(table).run(events, contacts, as_of=as_of)
        assert Engine(table).run(ContactBlocks(_blocks(events, cuts)), contacts,
                                 as_of=as_of) == expected
        logs = []
        for given_events in (ContactBlocks(_blocks(events, cuts)), events):
            engine = Engine(table)
            log = ActionLog(engine)
            logs.append((engine.run_with_accounts(given_events, contacts, as_of=as_of,
                                                  actions=log), log.records()))
        assert logs[0] == logs[1]
