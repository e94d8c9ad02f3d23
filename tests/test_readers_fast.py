"""The readers' fast paths give exactly what the strict paths give (issue 12, fast readers):
`parse_time`'s caches and fromisoformat against the regular expression, `fast_event` against
`decode_json` + `event_from_record`, and the JSON Lines reader against the strict path line by
line."""
from __future__ import annotations

import io
import json

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


@settings(max_examples=1500, deadline=None)
@given(_good_records().flatmap(_mutations))
def test_the_fast_path_accepts_only_what_the_strict_path_accepts_and_the_same_event(raw):
    fast = records.fast_event(raw, 7, 3)
    strict = _strict(raw, 7, 3)
    if fast is not None:
        assert strict == fast
        assert type(strict.props) is dict


@settings(max_examples=300, deadline=None)
@given(st.lists(_good_records().flatmap(_mutations), max_size=12))
def test_the_reader_gives_the_strict_path_line_by_line(lines):
    data = ("\n".join(lines) + "\n").encode("utf-8")
    expected, seq = [], 0
    for number, line in enumerate(lines, start=1):
        if line.strip():
            expected.append(_strict(line, number, seq))
            seq += isinstance(expected[-1], Event)
    assert list(rio.read_events(io.BytesIO(data))) == expected


def test_the_common_shapes_take_the_fast_path():
    for raw in ['{"contact":"c","event":"visit","at":"2026-03-01T10:00:00Z"}',
                '{"contact": "c", "event": "visit", "at": 1772445600, "target": "pricing", '
                '"id": "e-1", "props": {"seconds": 42, "page": {"path": "/a"}, "tags": ["x"]}}',
                '{"contact": "\\u00e9", "event": "visit", "at": "2026-03-01T10:00:00+01:00"}']:
        assert records.fast_event(raw, 1, 0) is not None, raw


def test_a_repeated_key_anywhere_leaves_the_fast_path():
    for raw in ['{"contact":"c","event":"visit","at":1,"at":2}',
                '{"contact":"c","event":"visit","at":1,"props":{"a":1,"a":"x"}}',
                '{"contact":"c","event":"visit","at":1,"props":{"a":[{"b":1,"b":1}]}}']:
        assert records.fast_event(raw, 1, 0) is None
        assert "duplicate key" in _strict(raw).reason
