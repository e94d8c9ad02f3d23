"""`score run`'s JSON Lines reader over msgspec (`compiler.run.fast_jsonl`, issue 12) gives
exactly what the strict path gives line by line: the same events (values and types, line,
seq) and the same rejects (line, reason, raw), on generated files with broken lines,
repeated keys, NaN/Infinity, unknown keys, wrong types, bytes that are not UTF-8, CRLF,
blank lines, deep nesting, and a last line cut at the end of the file. Its rows (`row_reader`,
for the time-order loop's row variant) are those events as rows and the same rejects, and a
chunk of common lines is read as columns, without the event reader."""
from __future__ import annotations

import io
import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from runtime import io as rio
from runtime import records
from runtime.events import Event, Reject

pytest.importorskip("msgspec")
orjson = pytest.importorskip("orjson")

from compiler.run import fast_jsonl, readers  # noqa: E402
from jsonl_lines import strict_lines  # noqa: E402


def _strict_file(data: bytes) -> list:
    """The strict path, line by line: `decode_json` + `event_from_record` on each line's
    text (a byte order mark dropped on line 1; blank lines skipped but counted)."""
    items, seq = [], 0
    for number, raw, bad in strict_lines(data):
        if bad:
            items.append(Reject(number, f"not valid UTF-8 (byte {bad})", raw))
            continue
        try:
            item = records.event_from_record(records.decode_json(raw), number, seq)
        except records.RecordError as exc:
            item = Reject(number, str(exc), raw)
        items.append(item)
        seq += type(item) is Event
    return items


def _msgspec_file(data: bytes, size: int | None = None) -> list:
    chunks = rio._jsonl_chunks(io.BytesIO(data), None, orjson.loads, size,
                               chunk_reader=fast_jsonl.chunk_reader)
    return [item for chunk in chunks for item in chunk]


def _msgspec_rows(data: bytes, size: int | None = None) -> tuple[list, list]:
    """The rows and rejects of `row_reader` over the file, props None for none."""
    read = fast_jsonl.row_reader(orjson.loads, rio._slow_line)
    rows, rejects, lines = [], [], 0
    for chunk_rows, chunk_rejects, last in rio._jsonl_chunks(io.BytesIO(data), None, size=size,
                                                            read=read):
        assert last > lines
        lines = last
        rows.extend(row[:5] + (row[5] or None,) for row in chunk_rows)
        rejects.extend(chunk_rejects)
    return rows, rejects


def _rows_of(items: list) -> tuple[list, list]:
    rows, rejects, _ = rio.event_rows(items, 0)
    return [row[:5] + (row[5] or None,) for row in rows], rejects


def _same(found: list, expected: list) -> None:
    """Equal, and of the same types all the way down (1 == 1.0 == True in Python)."""
    assert found == expected
    assert repr(found) == repr(expected)


_KEYS = st.sampled_from(["contact", "event", "at", "target", "id", "props", "x", "n"])
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
    st.text(max_size=5),
    st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-01T10:00:00.5+01:00", "c", "visit", "",
                     'a"b', "\\", "\u00e9", "\U0001F600", "\x00", "\u2028", 2**64, -2**63 - 1,
                     10**19, 1e308, -0.0, 5e-324]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=3)), max_leaves=8)
_TIMES = st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-01T10:00:00.123456789Z",
                          "2026-03-01T10:00:00+01:00", "2026-03-01 10:00:00Z",
                          "2026-02-30T10:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01",
                          "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59Z", "nope", "",
                          1772445600, -62135596800, 253402300799, 253402300800, -62135596801,
                          1.5, 1e400, 2**64, None, True, [], {}])


def _records():
    return st.fixed_dictionaries(
        {"contact": st.sampled_from(["c", "c-1", "", 7, None]),
         "event": st.sampled_from(["visit", "demo", "", False]),
         "at": _TIMES},
        optional={"target": st.one_of(st.none(), st.text(max_size=4), st.integers()),
                  "id": st.one_of(st.none(), st.text(max_size=4), st.integers()),
                  "props": st.one_of(st.none(), st.dictionaries(_KEYS, _VALUES, max_size=4),
                                     _VALUES),
                  "colour": st.just("red")})


def _line(record: dict):
    """A record's JSON text as bytes, mutated: repeated keys, NaN, escapes, spaces, bad
    bytes, a tail, another bracket."""
    text = json.dumps(record, ensure_ascii=False)
    plain = text.replace(", ", ",").replace(": ", ":")
    return st.sampled_from([
        text, plain, plain, plain,
        json.dumps(record),  # \u escapes for what is not ASCII
        text[:-1] + ', "contact": "d"}' if record else text,
        text[:-1] + ', "at": 1}' if record else text,
        text.replace('"props": {', '"props": {"n": 1, "n": 2, ', 1),
        text.replace('"props": {', '"props": {"n": NaN, ', 1),
        text.replace('"props": {', '"props": {"n": -Infinity, ', 1),
        text.replace('"props": {', '"props": {"n": [[[[[[[[[[]]]]]]]]]], ', 1),
        text.replace('"props": {', '"props": {"n": ' + "[" * 98 + "]" * 98 + ", ", 1),
        text.replace('"props": {', '"props": {"n": ' + "[" * 99 + "]" * 99 + ", ", 1),
        text.replace('": ', '" : ', 1),
        " " + text, text + " ", text + "\r", text + " x", text + "}", "[" + text + "]",
        text.replace('"c"', '"\\ud800"', 1),
        text.replace('"c"', '"a\\"b"', 1),
        text.replace("{", "[", 1),
        text + text,
    ]).map(lambda line: line.encode("utf-8", "surrogatepass"))


_EXTRA_LINES = [b"", b"   ", b"\t", b"\r", b"\x0c", b"{}", b"[]", b"null", b"{", b"}",
                b'\xef\xbb\xbf{"contact":"c","event":"e","at":1}',
                b'{"contact":"c","event":"e","at":1,"props":{"p":"\xff"}}',
                b'{"contact":"c","event":"e","at":1,"props":{"p":"\xed\xa0\x80"}}',
                b'{"contact":"c\xc0\x80","event":"e","at":1}',
                b'{"contact":"c","event":"e","at":1}\r{"contact":"d","event":"e","at":1}',
                b'{"contact":"c","event":"e","at":1,"props":{"n":' + b"1" * 5000 + b"}}",
                b'{"contact":"c","event":"e","at":1,"props":{"n":18446744073709551616,'
                b'"x":1.5}}',
                b'{"contact":"c","event":"e","at":"2026-03-01T10:00:00Z","target":null,'
                b'"id":null,"props":null}',
                b'{"contact":"c","event":"e","at":1,"contact":"c"}',
                # the shortest event line nested too deep (fast_jsonl._SHORTEST_DEEP_EVENT),
                # and the same line a level less deep
                b'{"contact":"c","event":"e","at":0,"props":{"":' + b"[" * 99 + b"]" * 99
                + b"}}",
                b'{"contact":"c","event":"e","at":0,"props":{"":' + b"[" * 98 + b"]" * 98
                + b"}}"]


def _lines():
    return st.one_of(_records().flatmap(_line), st.sampled_from(_EXTRA_LINES))


def _file(lines: list[bytes], crlf: bool, cut: int | None) -> bytes:
    data = b"".join(line + (b"\r\n" if crlf else b"\n") for line in lines)
    if cut is not None and lines:  # the last line cut short, no line end
        data = data[:len(data) - len(lines[-1]) - 1 - (1 if crlf else 0)] + \
            lines[-1][:cut]
    return data


def _files(test):
    """A test over generated files (lines, CRLF or not, the last line cut, chunk size), a
    key repeated in props among the examples."""
    test = example(lines=[b'{"contact":"c","event":"e","at":1,"props":{"a":1,"a":2}}'] * 2,
                   crlf=False, cut=None, size=1 << 20)(test)
    test = given(lines=st.lists(_lines(), max_size=14), crlf=st.booleans(),
                 cut=st.one_of(st.none(), st.integers(0, 80)),
                 size=st.sampled_from([1, 200, 1 << 20]))(test)
    return settings(max_examples=600, deadline=None)(test)


@_files
@example(lines=[b'{"contact":"c","event":"e","at":1,"props":{"n":' + b"[" * 99 + b"]" * 99
                + b"}}"], crlf=False, cut=None, size=1 << 20)
def test_the_msgspec_reader_gives_the_strict_path_line_by_line(lines, crlf, cut, size):
    data = _file(lines, crlf, cut)
    _same(_msgspec_file(data, size), _strict_file(data))


@_files
@example(lines=[b'{"contact":"c","event":"e","at":1,"target":"t","props":{"a":1}}',
                b'{"contact":"c","event":"e","at":"2026-03-01T10:00:00Z","id":null}',
                b'{"contact":"c","event":"e","at":"2026-03-01T10:00:00+01:00","id":"i",'
                b'"target":null,"props":null}'], crlf=False, cut=None, size=1 << 20)
def test_the_rows_are_the_strict_paths_events_as_rows(lines, crlf, cut, size):
    data = _file(lines, crlf, cut)
    rows, rejects = _msgspec_rows(data, size)
    expected_rows, expected_rejects = _rows_of(_strict_file(data))
    _same(rows, expected_rows)
    _same(rejects, expected_rejects)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_records().flatmap(_line), min_size=1, max_size=30))
def test_the_msgspec_reader_equals_the_runtimes_reader(lines):
    """The runtime's own reader (standard library, no orjson) reads the same file alike."""
    data = b"\n".join(lines) + b"\n"
    _same(_msgspec_file(data), list(rio.read_events(io.BytesIO(data))))


def _spied_reader(monkeypatch) -> list:
    """The chunk reader with its fallback (the runtime's chunk reader) counted."""
    calls: list = []
    runtime_reader = fast_jsonl.fast_chunk_reader

    def counted(loads, slow):
        fallback = runtime_reader(loads, slow)

        def read(*args):
            calls.append(args[1])
            return fallback(*args)
        return read
    monkeypatch.setattr(fast_jsonl, "fast_chunk_reader", counted)
    return calls


def test_common_lines_are_read_without_the_fallback(monkeypatch):
    calls = _spied_reader(monkeypatch)
    data = b"".join([
        b'{"contact":"c-1","event":"visit","at":"2026-03-01T10:00:00Z","id":"e-1",'
        b'"target":"blog","props":{"seconds":42,"page":{"path":"/a"},"tags":["x"]}}\n',
        b'{"contact":"c-2","event":"click","target":"home","at":1772445600,"props":null}\n',
        b'{"contact": "c-3", "event": "visit", "at": "2026-03-01T10:00:00+01:00"}\n',
        b'{"contact":"c-4","event":"visit","at":1772445600,"target":null,"id":null}\r\n',
        b"\n",
        b'{"contact":"c-5","event":"visit","at":"nope"}\n'])
    items = _msgspec_file(data)
    assert calls == []
    assert [type(item) for item in items] == [Event, Event, Event, Event, Reject]
    assert items[4].line == 6 and items[4].reason.startswith("invalid time")
    _same(items, _strict_file(data))


def test_common_lines_are_read_as_columns(monkeypatch):
    """Lines msgspec decodes, times that parse: rows without the event reader."""
    calls: list = []
    event_reader = fast_jsonl.chunk_reader

    def counted(loads, slow):
        read = event_reader(loads, slow)
        return lambda *args: calls.append(args[1]) or read(*args)
    monkeypatch.setattr(fast_jsonl, "chunk_reader", counted)
    data = b"".join([
        b'{"contact":"c-1","event":"visit","at":"2026-03-01T10:00:00Z","id":"e-1",'
        b'"target":"blog","props":{"seconds":42,"page":{"path":"/a"},"tags":["x"]}}\n',
        b'{"contact":"c-2","event":"click","target":"home","at":1772445600,"props":null}\n',
        b'{"contact": "c-3", "event": "visit", "at": "2026-03-01T10:00:00+01:00"}\n',
        b'{"contact":"c-4","event":"visit","at":1772445600,"target":null,"id":null}\r\n'])
    rows, rejects = _msgspec_rows(data)
    assert calls == [] and rejects == []
    _same(rows, _rows_of(_strict_file(data))[0])
    rows, rejects = _msgspec_rows(data + b'{"contact":"c-5","event":"visit","at":"nope"}\n')
    assert calls == [0] and [r.line for r in rejects] == [5]


def test_a_repeated_key_in_one_line_sends_the_chunk_to_the_fallback(monkeypatch):
    calls = _spied_reader(monkeypatch)
    good = b'{"contact":"c","event":"visit","at":"2026-03-01T10:00:00Z","id":"e-%d"}'
    lines = [good % n for n in range(5)]
    lines[3] = b'{"contact":"c","event":"visit","at":1,"props":{"a":1,"a":"x"}}'
    items = _msgspec_file(b"\n".join(lines) + b"\n")
    assert calls == [0]
    assert [type(item) for item in items] == [Event, Event, Event, Reject, Event]
    assert items[3].line == 4 and "duplicate key" in items[3].reason
    assert [item.seq for item in items if type(item) is Event] == [0, 1, 2, 3]


def test_nesting_beyond_the_limit_is_refused_as_the_strict_path_refuses_it():
    def line(levels):  # the record itself and props are two levels
        return (b'{"contact":"c","event":"e","at":1,"props":{"n":' + b"[" * (levels - 2)
                + b"]" * (levels - 2) + b"}}\n")
    deepest, too_deep = _msgspec_file(line(records.MAX_DEPTH) + line(records.MAX_DEPTH + 1))
    assert type(deepest) is Event
    assert too_deep.line == 2 and "nested deeper than 100 levels" in too_deep.reason


def test_the_shortest_event_line_nested_too_deep_is_looked_at():
    """Event lines shorter than `_SHORTEST_DEEP_EVENT` are not counted for brackets: the
    shortest line a `_Line` decodes that nests past the limit is exactly that long."""
    levels = records.MAX_DEPTH - 1  # below the record and its props object
    line = b'{"contact":"c","event":"e","at":0,"props":{"":' + b"[" * levels + \
        b"]" * levels + b"}}"
    assert len(line) == fast_jsonl._SHORTEST_DEEP_EVENT
    assert records._depth(line.decode()) == records.MAX_DEPTH + 1
    assert fast_jsonl._deep([b"{}", line], fast_jsonl._SHORTEST_DEEP_EVENT)
    assert not fast_jsonl._deep([b"{}", line[1:]], fast_jsonl._SHORTEST_DEEP_EVENT)
    (reject,) = _msgspec_file(line)  # the last line, without a line end: no byte to spare
    assert "nested deeper than 100 levels" in reject.reason
    rows, (reject,) = _msgspec_rows(line)
    assert rows == [] and "nested deeper than 100 levels" in reject.reason


def _nested(draw, levels: int):
    """A props value nested `levels` deep: lists and objects (short keys, other members
    beside it) chosen at random at each level."""
    value = draw(st.sampled_from([0, "", None, [], {}]))
    for _ in range(levels):
        if draw(st.booleans()):
            value = [value] + draw(st.lists(st.integers(0, 9), max_size=1))
        else:
            others = draw(st.dictionaries(st.text("ab", max_size=1), st.integers(0, 9),
                                          max_size=1))
            value = {**others, draw(st.text("xyz", max_size=2)): value}
    return value


@settings(max_examples=300, deadline=None)
@given(data=st.data(), levels=st.integers(records.MAX_DEPTH - 3, records.MAX_DEPTH + 2))
def test_no_event_line_shorter_than_the_bound_nests_too_deep(data, levels):
    """What `_SHORTEST_DEEP_EVENT` claims: a line that decodes as an event line (`_Line`)
    and nests deeper than MAX_DEPTH is at least that long, so `_deep` finds it."""
    import msgspec

    record = {"contact": data.draw(st.text("c", min_size=1, max_size=2)),
              "event": data.draw(st.text("e", min_size=1, max_size=2)),
              "at": data.draw(st.integers(0, 99)),
              "props": {data.draw(st.text("p", max_size=1)): _nested(data.draw, levels)}}
    keys = data.draw(st.permutations(list(record)))
    line = json.dumps({key: record[key] for key in keys}, separators=(",", ":")).encode()
    msgspec.json.Decoder(fast_jsonl._Line).decode(line)
    if records._depth(line.decode()) > records.MAX_DEPTH:
        assert len(line) >= fast_jsonl._SHORTEST_DEEP_EVENT
        assert fast_jsonl._deep([line], fast_jsonl._SHORTEST_DEEP_EVENT)


def test_event_types_and_targets_are_one_object_each():
    data = b"".join(b'{"contact":"c%d","event":"visit","at":1,"target":"home"}\n' % n
                    for n in range(3))
    first, _, last = _msgspec_file(data)
    assert first.event is last.event and first.target is last.target


def test_score_run_reads_through_msgspec():
    assert readers._chunk_reader is fast_jsonl.chunk_reader
