"""The readers' fast paths give exactly what the strict paths give (issue 12, fast readers):
`parse_time`'s caches and fromisoformat against the regular expression, `fast_event` (and
`fast_line_reader` over orjson, what `score run` uses) against `decode_json` +
`event_from_record`, and the JSON Lines reader against the strict path line by line."""
from __future__ import annotations

import io
import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from runtime import events as rev
from runtime import io as rio
from runtime import records
from runtime.events import Event, Reject, TimeFormatError

# --- times --------------------------------------------------------------------------------------

_DIGITS = st.sampled_from("0123456789")
_TIME_CHARS = st.sampled_from("0123456789-:T Zz.+,W\u0663\u00a0e")


def _canonical_times():
    """Strings of the shapes the fast paths take, with every position free to go wrong."""
    def build(year, month, day, hour, minute, second, fraction, zone):
        text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
        return text + (f".{fraction}" if fraction else "") + zone
    zones = st.one_of(st.just("Z"), st.builds(
        lambda sign, h, m: f"{sign}{h:02d}:{m:02d}", st.sampled_from("+-"),
        st.integers(0, 99), st.integers(0, 99)))
    return st.builds(build, st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32),
                     st.integers(0, 25), st.integers(0, 61), st.integers(0, 61),
                     st.text(_DIGITS, max_size=10), zones)


def _slow(value: str):
    try:
        return rev._parse_any(value, False)
    except TimeFormatError:
        return "refused"


def _fast(value: str):
    try:
        return rev.parse_time(value, date_only_is_utc_midnight=False)
    except TimeFormatError:
        return "refused"


@settings(max_examples=3000, deadline=None)
@given(_canonical_times())
@example("0001-01-01T00:00:00+01:00")
@example("9999-12-31T23:30:00-01:00")
@example("9999-12-31T23:59:59.999999Z")
@example("2026-03-02T10:15:00+23:59")
@example("2026-03-02T10:15:00.1234567Z")
@example("2026-02-29T10:15:00Z")
@example("2024-02-29T10:15:00Z")
def test_fast_times_equal_the_regular_expression(value):
    assert _fast(value) == _slow(value)
    assert _fast(value) == _slow(value)  # again, now from the caches


@settings(max_examples=2000, deadline=None)
@given(st.text(_TIME_CHARS, min_size=18, max_size=32))
@example("2026-W10-1T10:15:00Z")
@example("2026-03-02T10:15:00.1+01Z")
@example("\u0662026-03-02T10:15:00Z")
def test_fast_times_equal_the_regular_expression_on_any_text(value):
    assert _fast(value) == _slow(value)
    assert _fast(value) == _slow(value)


def test_a_cached_date_and_clock_do_not_accept_a_new_bad_combination():
    rev.parse_time("2026-03-02T10:15:00Z")
    assert _fast("2026-03-02X10:15:00Z") == "refused"
    assert _fast("2026-03-02T10:15:00z") == _slow("2026-03-02T10:15:00z")


# --- JSON lines -----------------------------------------------------------------------------------

def _strict(raw: str, line: int = 1, seq: int = 0):
    try:
        return records.event_from_record(records.decode_json(raw), line, seq)
    except records.RecordError as exc:
        return Reject(line, str(exc), raw)


_KEYS = st.sampled_from(["contact", "event", "at", "target", "id", "props", "x", "seconds"])
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                     st.floats(allow_nan=False), st.text(max_size=6),
                     st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-01T10:00:00.5+01:00",
                                      "c", "visit", "", "a\"b", "\\u00e9", "\U0001F600"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=3)), max_leaves=8)


def _good_records():
    return st.fixed_dictionaries(
        {"contact": st.sampled_from(["c", "c-1", ""]), "event": st.just("visit"),
         "at": st.sampled_from(["2026-03-01T10:00:00Z", 1772445600, 1.5, "nope", None, True])},
        optional={"target": st.one_of(st.none(), st.text(max_size=4)),
                  "id": st.one_of(st.none(), st.text(max_size=4), st.integers()),
                  "props": st.one_of(st.none(), st.dictionaries(_KEYS, _VALUES, max_size=4),
                                     _VALUES),
                  "colour": st.just("red")})


def _mutations(record: dict):
    """JSON text of a record, sometimes with a repeated key, spaces, escapes or a tail."""
    text = json.dumps(record, ensure_ascii=False)
    return st.sampled_from([
        text,
        json.dumps(record),  # \u escapes
        text.replace(", ", ","),
        text[:-1] + ', "contact": "d"}' if len(record) else text,
        text[:-1] + ', "at": 1}' if len(record) else text,
        text.replace('"props": {', '"props": {"seconds": 1, "seconds": 2, ', 1),
        text.replace('"props": {', '"props": {"n": NaN, ', 1),
        text.replace('": ', '" : ', 1),
        " " + text,
        text + " ",
        text + " x",
        text.replace('"c"', '"\\ud800"', 1),
        text.replace('"c"', '"\\ud83d\\ude00"', 1),
        text.replace('"c"', '"a\\"b"', 1),
        text.replace("{", "[", 1),
    ])


def _orjson_loads():
    return pytest.importorskip("orjson").loads


def _fast_paths():
    """(name, function of a line's text) for each fast path: the standard library's on the
    text, orjson's on the line's bytes with their line end."""
    def over_orjson(raw, line, seq):
        return records.fast_line_reader(_orjson_loads())(raw.encode("utf-8") + b"\n", line, seq)
    return [pytest.param(records.fast_event, id="stdlib"), pytest.param(over_orjson, id="orjson")]


def _same(fast: Event, strict: Event) -> None:
    """Equal, and of the same types all the way down (2**64 == float(2**64) in Python)."""
    assert strict == fast
    assert repr(strict) == repr(fast)
    assert type(strict.props) is dict


@pytest.mark.parametrize("fast_path", _fast_paths())
@settings(max_examples=1500, deadline=None)
@given(raw=_good_records().flatmap(_mutations))
def test_the_fast_path_accepts_only_what_the_strict_path_accepts_and_the_same_event(fast_path,
                                                                                    raw):
    fast = fast_path(raw, 7, 3)
    strict = _strict(raw, 7, 3)
    if fast is not None:
        _same(fast, strict)


_NUMBERS = st.one_of(st.integers(-2**80, 2**80), st.floats(allow_nan=False),
                     st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -2**63, -2**63 - 1,
                                      10**19, -10**18, 1e308, 5e-324, -0.0]))


@pytest.mark.parametrize("fast_path", _fast_paths())
@settings(max_examples=800, deadline=None)
@given(values=st.lists(_NUMBERS, min_size=1, max_size=4), text=st.booleans())
@example(values=[2**64, 1.5], text=False)  # orjson reads 2**64 as a float
@example(values=[-2**63 - 1, 0.25], text=False)
def test_numbers_of_any_size_keep_their_value_and_type(fast_path, values, text):
    props = {f"n{k}": value for k, value in enumerate(values)}
    if text:
        props["t"] = "12345678901234567890"
    raw = json.dumps({"contact": "c", "event": "buy", "at": 1772445600, "props": props})
    fast, strict = fast_path(raw, 1, 0), _strict(raw, 1, 0)
    if fast is not None:
        _same(fast, strict)


def test_a_number_beyond_64_bits_beside_a_float_leaves_the_orjson_path():
    """orjson reads 18446744073709551616 as 1.8446744073709552e+19: with a float in the line
    that cannot be told from a float written so, and the strict path must read it."""
    fast = records.fast_line_reader(_orjson_loads())
    line = b'{"contact":"c","event":"e","at":1,"props":{"n":18446744073709551616,"x":1.5}}'
    assert fast(line, 1, 0) is None
    assert _strict(line.decode()).props["n"] == 2**64
    assert fast(line.replace(b"18446744073709551616", b"184467440737095516"), 1, 0) \
        .props["n"] == 184467440737095516


def _strict_lines(lines: list[str]) -> list:
    """What the strict path gives for `lines`, one by one, blank lines skipped."""
    expected, seq = [], 0
    for number, line in enumerate(lines, start=1):
        if line.strip():
            expected.append(_strict(line, number, seq))
            seq += isinstance(expected[-1], Event)
    return expected


@pytest.mark.parametrize("loads", [None, "orjson"])
@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_good_records().flatmap(_mutations), max_size=12))
def test_the_reader_gives_the_strict_path_line_by_line(loads, lines):
    data = ("\n".join(lines) + "\n").encode("utf-8")
    expected = _strict_lines(lines)
    decoder = _orjson_loads() if loads else None
    assert list(rio.read_events(io.BytesIO(data), loads=decoder)) == expected


_BYTES_LINES = [b'\xef\xbb\xbf{"contact":"c","event":"e","at":1}',
                b'{"contact":"c","event":"e","at":1,"props":{"p":"\xff"}}',
                b'{"contact":"c","event":"e","at":1,"props":{"p":"\xed\xa0\x80"}}',
                b'{"contact":"c","event":"e","at":1}\r',
                b'{"contact":"c","event":"e","at":1} \t',
                b'{"contact":"c","event":"e","at":1}\r{"contact":"d","event":"e","at":1}',
                b'{"contact":"c","event":"e","at":1,"props":{"p":"\\ud83d\\ude00"}}',
                b'{"contact":"c","event":"e","at":1,"props":{"p":"\\ud83d"}}',
                b'{"contact":"c","event":"e","at":NaN}', b"   ", b"", b"[]", b"{}"]


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.sampled_from(_BYTES_LINES), max_size=8))
def test_orjson_and_the_standard_library_read_any_bytes_alike(lines):
    data = b"\n".join(lines) + b"\n"
    plain = list(rio.read_events(io.BytesIO(data)))
    assert list(rio.read_events(io.BytesIO(data), loads=_orjson_loads())) == plain


def test_the_common_shapes_take_the_fast_path():
    over_orjson = records.fast_line_reader(_orjson_loads())
    for raw in ['{"contact":"c","event":"visit","at":"2026-03-01T10:00:00Z"}',
                '{"contact": "c", "event": "visit", "at": 1772445600, "target": "pricing", '
                '"id": "e-1", "props": {"seconds": 42, "page": {"path": "/a"}, "tags": ["x"]}}',
                '{"contact": "\\u00e9", "event": "visit", "at": "2026-03-01T10:00:00+01:00"}']:
        assert records.fast_event(raw, 1, 0) is not None, raw
        assert over_orjson(raw.encode() + b"\n", 1, 0) is not None, raw


def test_a_repeated_key_anywhere_leaves_the_fast_path():
    for raw in ['{"contact":"c","event":"visit","at":1,"at":2}',
                '{"contact":"c","event":"visit","at":1,"props":{"a":1,"a":"x"}}',
                '{"contact":"c","event":"visit","at":1,"props":{"a":[{"b":1,"b":1}]}}']:
        assert records.fast_event(raw, 1, 0) is None
        assert records.fast_line_reader(_orjson_loads())(raw.encode(), 1, 0) is None
        assert "duplicate key" in _strict(raw).reason


@pytest.mark.parametrize("size", [1, 150, 1 << 20])
@settings(max_examples=200, deadline=None)
@given(lines=st.lists(_good_records().flatmap(_mutations), max_size=12))
def test_chunks_of_lines_of_any_size_give_the_strict_path_line_by_line(size, lines):
    """`score run` reads a chunk of lines at a time (`records.fast_chunk_reader`: one
    backslash search and one quote count for the chunk): the same events and rejects, with
    their line numbers and seq, wherever the chunks end."""
    data = ("\n".join(lines) + "\n").encode("utf-8")
    expected = _strict_lines(lines)
    chunks = list(rio._jsonl_chunks(io.BytesIO(data), None, _orjson_loads(), size))
    assert [item for chunk in chunks for item in chunk] == expected
    assert all(chunks)


def test_a_repeated_key_in_one_line_of_a_chunk_is_found_by_the_quote_count_of_the_chunk():
    good = '{"contact":"c","event":"visit","at":"2026-03-01T10:00:00Z","id":"e-%d"}'
    lines = [good % n for n in range(5)]
    lines[3] = '{"contact":"c","event":"visit","at":1,"props":{"a":1,"a":2}}'
    data = ("\n".join(lines) + "\n").encode()
    [chunk] = list(rio._jsonl_chunks(io.BytesIO(data), None, _orjson_loads()))
    assert [type(item) for item in chunk] == [Event, Event, Event, Reject, Event]
    assert chunk[3].line == 4 and "duplicate key" in chunk[3].reason
    assert [item.seq for item in chunk if type(item) is Event] == [0, 1, 2, 3]


def test_the_chunk_reader_shares_event_types_and_targets():
    """One object per event type and target while a block of events is held (memory)."""
    data = b"".join(b'{"contact":"c%d","event":"visit","at":1,"target":"home"}\n' % n
                    for n in range(3))
    [chunk] = list(rio._jsonl_chunks(io.BytesIO(data), None, _orjson_loads()))
    assert chunk[0].event is chunk[2].event and chunk[0].target is chunk[2].target
    assert chunk[0].contact == "c0" and chunk[2].contact == "c2"


def test_every_clock_of_the_day_is_cached_as_the_long_way_reads_it():
    rev._every_clock()
    midnight = rev._parse_any("2026-03-02T00:00:00Z", False)
    assert len(rev._SECONDS) >= 86400
    clocks = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
    assert all(rev._SECONDS[clock] * rev.MICROS ==
               rev._parse_any(f"2026-03-02T{clock}Z", False) - midnight for clock in clocks)
    assert "24:00:00" not in rev._SECONDS and "23:59:60" not in rev._SECONDS
