"""Streaming batch (issue 12 item 2): `Engine.run` and `score run --engine python` read
time-ordered input once without holding its events (a state per contact only); input out of
time order is sorted on disk in runs of bounded size (`compiler.run.external_sort`), never
as one list. Results and rejects stay what they were."""
from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from compiler.pipeline import compile_text
from compiler.run import engines, external_sort
from compiler.run.engines import python as python_engine
from runtime import Engine, Event, UnorderedInputError, format_time, parse_time
from runtime import io as rio

MODEL = """\
score engagement 0..100
visit pricing +15 at most 2 per day
visit home +5
email_sent without email_open within 1 day -5
stage MQL when engagement >= 40
when stage is MQL notify sales
"""
T0 = parse_time("2026-03-01T00:00:00Z")
MINUTE = 60 * 1_000_000


class Counted(Event):
    """An Event that counts the instances alive, to show what a run holds."""
    alive = 0
    most = 0

    def __init__(self, *args, **fields):
        super().__init__(*args, **fields)
        Counted.alive += 1
        Counted.most = max(Counted.most, Counted.alive)

    def __del__(self):
        Counted.alive -= 1


def _events(count: int, contacts: int, seed: int = 7) -> list[Event]:
    rng = random.Random(seed)
    kinds = [("visit", "pricing"), ("visit", "home"), ("email_sent", "c1"), ("email_open", "c1"),
             ("visit", None)]
    found = []
    for seq in range(count):
        event, target = rng.choice(kinds)
        found.append(Event(f"c-{rng.randrange(contacts)}", event,
                           T0 + rng.randrange(count // 4 + 1) * MINUTE, target,
                           f"e-{rng.randrange(count)}" if rng.random() < 0.3 else None,
                           {}, seq + 1, seq))
    return found


def _line(event: Event) -> str:
    record = {"contact": event.contact, "event": event.event, "at": format_time(event.at)}
    if event.target is not None:
        record["target"] = event.target
    if event.id is not None:
        record["id"] = event.id
    return json.dumps(record)


def test_a_time_ordered_generator_is_never_held():
    table = compile_text(MODEL).require_table()
    events = sorted(_events(3000, 50), key=lambda e: (e.at, e.seq))
    expected = Engine(table).run(events)
    Counted.alive = Counted.most = 0

    def counted():
        for e in events:
            yield Counted(**{f.name: getattr(e, f.name) for f in dataclasses.fields(Event)})
    for compiled in (True, False):
        Counted.alive = Counted.most = 0
        assert Engine(table, compiled=compiled).run(counted()) == expected
        assert Counted.most <= 2, (compiled, Counted.most)


def test_a_generator_out_of_order_is_refused_by_name():
    table = compile_text(MODEL).require_table()
    events = _events(200, 5)  # input order, not time order
    with pytest.raises(UnorderedInputError, match="one-shot iterator"):
        Engine(table).run(iter(events))
    assert Engine(table).run(events) == Engine(table).run(
        sorted(events, key=lambda e: (e.at, e.seq)))


@pytest.mark.parametrize("chunk", [1, 7, 100, 10_000])
def test_the_external_sort_is_the_stable_sort(chunk, tmp_path):
    events = _events(1000, 20)
    for index, e in enumerate(events[:50]):  # odd values survive the disk
        events[index] = dataclasses.replace(e, props={"x": [1, 2.5, None, True, 10 ** 30],
                                                      "\ud800": "\u2028"})
    with external_sort.sorted_events(iter(events), chunk=chunk, folder=str(tmp_path)) as out:
        assert list(out) == sorted(events, key=lambda e: (e.at, e.seq))
    assert list(tmp_path.iterdir()) == []  # the runs are removed


def _write(path: Path, events: list[Event], broken: dict[int, str]) -> None:
    lines = [_line(e) for e in events]
    for index, text in sorted(broken.items()):
        lines.insert(index, text)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


BROKEN = {0: "not json", 5: '{"contact": "c-1"}', 900: '{"contact": 7, "event": "visit"}',
          1500: "[1]"}


def test_the_python_engine_sorts_a_shuffled_file_on_disk_in_bounded_runs(tmp_path,
                                                                        monkeypatch):
    table = compile_text(MODEL).require_table()
    events = _events(2000, 40)
    ordered = sorted(events, key=lambda e: (e.at, e.seq))
    _write(tmp_path / "sorted.jsonl", ordered, BROKEN)
    _write(tmp_path / "shuffled.jsonl", events, BROKEN)
    rejects = {"sorted": [], "shuffled": []}
    results = {}
    for name in rejects:
        results[name] = engines.run("python", table, str(tmp_path / f"{name}.jsonl"), None,
                                    None, rejects[name].append)
    assert results["shuffled"] == results["sorted"] == Engine(table).run(ordered)
    # every reject once, in line order, whichever pass read it
    assert [(r.line, r.reason) for r in rejects["shuffled"]] == \
        [(r.line, r.reason) for r in rejects["sorted"]]
    assert len(rejects["sorted"]) == len(BROKEN)

    # what the sorted pass holds: a run of events, not the input
    real = python_engine.readers.read_events

    def counted(path, **options):
        for item in real(path, **options):
            if isinstance(item, Event):
                item = Counted(**{f.name: getattr(item, f.name)
                                  for f in dataclasses.fields(Event)})
            yield item
    monkeypatch.setattr(python_engine.readers, "read_events", counted)
    real_chunks = python_engine.readers.read_event_chunks

    def counted_chunks(path, **options):  # the first pass reads chunks of lines
        for chunk in real_chunks(path, **options):
            yield [Counted(**{f.name: getattr(item, f.name) for f in dataclasses.fields(Event)})
                   if isinstance(item, Event) else item for item in chunk]
    monkeypatch.setattr(python_engine.readers, "read_event_chunks", counted_chunks)
    monkeypatch.setattr(rio, "_CHUNK_BYTES", 1)  # a line at a time
    monkeypatch.setattr(external_sort, "CHUNK", 300)
    monkeypatch.setattr(python_engine, "BLOCK", 50)  # regrouped contact by contact
    Counted.alive = Counted.most = 0
    assert engines.run("python", table, str(tmp_path / "shuffled.jsonl"), None, None,
                       lambda reject: None) == results["sorted"]
    assert Counted.most <= 360, Counted.most
    Counted.alive = Counted.most = 0
    assert engines.run("python", table, str(tmp_path / "sorted.jsonl"), None, None,
                       lambda reject: None) == results["sorted"]
    # a chunk at a time in file order (the time-order loop), or a block of BLOCK
    # (contact by contact), never the input
    assert 1 <= Counted.most <= 52, Counted.most


def test_score_run_sorts_standard_input_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("model.score").write_text(MODEL, encoding="utf-8")
    events = _events(500, 10)
    _write(tmp_path / "sorted.jsonl", sorted(events, key=lambda e: (e.at, e.seq)), {})
    _write(tmp_path / "shuffled.jsonl", events, {3: "oops"})
    runner = CliRunner()
    from_file = runner.invoke(main, ["run", "model.score", "--events", "sorted.jsonl"],
                              catch_exceptions=False)
    piped = runner.invoke(main, ["run", "model.score", "--events", "-"],
                          input=(tmp_path / "shuffled.jsonl").read_text(encoding="utf-8"),
                          catch_exceptions=False)
    assert from_file.exit_code == 0
    assert piped.stdout == from_file.stdout
    assert piped.stderr.count("not valid JSON") == 1


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "interpreted"])
def test_batch_ids_are_one_short_text_per_contact_and_exact(compiled):
    """A batch run keeps every id of the run: as one text while short (memory), a set past
    that; ids holding the separator or each other's parts are still told apart."""
    table = compile_text("visit +1\n").require_table()
    ids = ["a\0b", "a", "b", "", "ab", "a\0b", "b"] + [f"id-{k}" for k in range(100)] + ["a"]
    events = [Event("c", "visit", T0 + k * MINUTE, None, ident, {}, k + 1, k)
              for k, ident in enumerate(ids)]
    events.append(Event("d", "visit", T0, None, "x", {}, len(ids) + 1, len(ids)))
    engine = Engine(table, compiled=compiled)
    results = engine.run(events)
    assert [r["scores"]["score"] for r in results] == [len(set(ids)), 1]
    states, _ = engine._batch(iter(sorted(events, key=lambda e: (e.at, e.seq))), {}, None, None)
    assert type(states["c"].seen) is set and states["d"].seen == "\0x\0"


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "interpreted"])
def test_a_busy_contacts_ids_are_bucketed_texts_and_exact(compiled):
    """Past ID_TEXT characters a contact's ids become texts bucketed by hash (IdTexts, ~10
    bytes an id where a set of strings took ~80): every repeat of an id is still a duplicate,
    wherever it went, the empty id and ids with a NUL included."""
    from runtime.steps import IdTexts

    table = compile_text("visit +1\n").require_table()
    ids = [f"e-{k}" for k in range(3000)]
    ids += ["", "a\0b", "e-1", "e-2999", "", "a\0b", "e-17"] + [f"e-{k}" for k in range(0, 3000, 7)]
    events = [Event("c", "visit", T0 + k * MINUTE, None, ident, {}, k + 1, k)
              for k, ident in enumerate(ids)]
    engine = Engine(table, compiled=compiled)
    assert [r["scores"]["score"] for r in engine.run(events)] == [len(set(ids))]
    states, _ = engine._batch(iter(events), {}, None, None)
    seen = states["c"].seen
    assert type(seen) is IdTexts and len(seen) == len(set(ids)) and len(seen.texts) > 8
    assert all(ident in seen for ident in set(ids)) and "e-3000" not in seen


@pytest.mark.parametrize("from_stdin", [False, True], ids=["file", "stdin"])
def test_score_run_reads_the_contacts_once_and_reports_their_rejects(tmp_path, monkeypatch,
                                                                     from_stdin):
    """`score run` reads the contacts to report their rejects; the python engine gets that
    read again instead of parsing the file a second time (100k contacts: about a second)."""
    from compiler.run import readers

    monkeypatch.chdir(tmp_path)
    Path("model.score").write_text("require consent\nvisit +1\n", encoding="utf-8")
    _write(tmp_path / "events.jsonl", sorted(_events(40, 4), key=lambda e: (e.at, e.seq)), {})
    contacts = "".join(json.dumps({"contact": f"c-{k}", "consent": k % 2 == 0}) + "\n"
                       for k in range(4)) + "{oops\n"
    Path("contacts.jsonl").write_text(contacts, encoding="utf-8")
    reads = []
    real = readers._read_contacts
    monkeypatch.setattr(readers, "_read_contacts", lambda path: reads.append(path) or real(path))
    result = CliRunner().invoke(main, ["run", "model.score", "--events", "events.jsonl",
                                       "--contacts", "-" if from_stdin else "contacts.jsonl"],
                                input=contacts if from_stdin else None, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert len(reads) == 1
    assert result.stderr.count("not valid JSON") == 1 and ":5:" in result.stderr
    scored = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["contact"] for r in scored if r["scores"]["score"] is not None] == ["c-0", "c-2"]
    assert not readers._kept


def test_a_kept_contacts_read_is_not_used_for_a_changed_file(tmp_path):
    from compiler.run import readers

    path = tmp_path / "contacts.jsonl"
    path.write_text('{"contact": "a", "n": 1}\n', encoding="utf-8")
    assert readers.read_contacts(str(path), keep=True)[0] == {"a": {"n": 1}}
    path.write_text('{"contact": "a", "n": 22}\n', encoding="utf-8")
    assert readers.read_contacts(str(path))[0] == {"a": {"n": 22}}
    assert not readers._kept


@pytest.mark.parametrize("block", [1, 7, 64, 5000])
def test_blocks_regrouped_contact_by_contact_give_the_same_results_and_rejects(
        tmp_path, monkeypatch, block):
    """`score run` feeds the engine blocks of events regrouped contact by contact (the CPU's
    caches): any block size gives the results of a plain run, and on input out of time order
    (noticed inside a block or across blocks) each reject once, in line order."""
    monkeypatch.setattr(python_engine, "BLOCK", block)
    table = compile_text(MODEL).require_table()
    events = _events(1200, 30)
    ordered = sorted(events, key=lambda e: (e.at, e.seq))
    expected = Engine(table).run(ordered)
    for name, lines in (("sorted", ordered), ("shuffled", events)):
        _write(tmp_path / f"{name}.jsonl", lines, {0: "not json", 700: "[1]", 1100: "{}"})
        rejects = []
        assert engines.run("python", table, str(tmp_path / f"{name}.jsonl"), None, None,
                           rejects.append) == expected
        assert [r.line for r in rejects] == [1, 701, 1101]
