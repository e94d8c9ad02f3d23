"""The DuckDB engine's own reading of the input (`compiler/run/engines/duckdb_input.py`) gives
what the Python readers give: the same events (line, contact, event, target, time, id, props)
and the same rejects (line, reason, raw text), on a corpus of hostile JSON lines (LF, CRLF, a
byte order mark, bytes that are not UTF-8, no final LF), on Parquet files of every column type,
and on Parquet files with flipped bytes; and SQL, not Python, accepts the well-formed lines."""
from __future__ import annotations

import datetime
import decimal
import json
import random
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

duckdb = pytest.importorskip("duckdb", reason="the DuckDB engine needs the `sql` extra")
pa = pytest.importorskip("pyarrow", reason="the DuckDB engine needs the `sql` extra")
import pyarrow.parquet as pq  # noqa: E402

from compiler.run import readers  # noqa: E402
from compiler.run.engines import duckdb_input  # noqa: E402
from runtime.events import Reject, TimeFormatError, parse_time  # noqa: E402


def python_side(path: str):
    events, rejects = [], []
    for item in readers.read_events(path):
        if isinstance(item, Reject):
            rejects.append((item.line, item.reason, item.raw))
        else:
            events.append((item.line, item.contact, item.event, item.target, item.at, item.id,
                           json.dumps(item.props, sort_keys=True) if item.props else None))
    return events, rejects


def duckdb_side(path: str, copy: bool = True):
    con = duckdb.connect()
    rejects = []
    duckdb_input.load_events(con, path, lambda r: rejects.append((r.line, r.reason, r.raw)),
                             copy=copy)
    rows = con.execute(f'SELECT line, contact, event, target, "at", id, props '
                       f'FROM {duckdb_input.TABLE} ORDER BY line').fetchall()
    events = [(line, contact, event, target, at, event_id,
               json.dumps(json.loads(props), sort_keys=True) if props else None)
              for line, contact, event, target, at, event_id, props in rows]
    return events, rejects


def sql_accepted(path: str) -> int:
    """How many lines SQL itself accepted (kind 1 before the Python reader settles the rest)."""
    con = duckdb.connect()
    duckdb_input.prepare(con)
    if path.endswith(".parquet"):
        schema = duckdb_input.pq_reader.open_file(path).schema_arrow
        con.execute(f"CREATE TEMP TABLE x AS {duckdb_input._parquet_select(schema)}", [path])
    else:
        con.execute(f"CREATE TEMP TABLE x AS WITH src AS (SELECT ordinality AS line, "
                    f"strlen(t) AS n, t, t AS raw FROM {duckdb_input.LINE_READER} "
                    f"WITH ORDINALITY), {duckdb_input._CLASSIFY}", [path])
    return con.execute("SELECT count(*) FROM x WHERE kind = 1").fetchone()[0]


# --- JSON Lines ---------------------------------------------------------------------------------

# Lines of every kind a reader meets: good ones in every shape, and every class of reject.
lines = json.loads((Path(__file__).resolve().parent / "input_corpus" / "hostile_lines.json")
                   .read_text(encoding="utf-8"))


def write(path, lines, end="\n", bom=False, final=True) -> str:
    data = end.join(lines) + (end if final else "")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))
    return str(path)


@pytest.mark.parametrize("end, bom, final", [("\n", False, True), ("\r\n", False, True),
                                             ("\n", True, True), ("\n", False, False)])
def test_the_hostile_lines_read_the_same(tmp_path, end, bom, final):
    path = write(tmp_path / "e.jsonl", lines, end, bom, final)
    assert duckdb_side(path) == python_side(path)


def test_bytes_that_are_not_utf8_read_the_same(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_bytes("\n".join(lines[:5]).encode() + b'\n{"contact": "\xff"}\n\xff\xfe\n'
                     + "\n".join(lines[5:]).encode())
    assert duckdb_side(str(path)) == python_side(str(path))


def test_random_mixtures_read_the_same(tmp_path):
    rnd = random.Random(1)
    for _ in range(25):
        chosen = [rnd.choice(lines) for _ in range(rnd.randint(0, 40))]
        path = write(tmp_path / "e.jsonl", chosen, rnd.choice(["\n", "\n", "\r\n"]),
                     rnd.random() < 0.2)
        assert duckdb_side(path) == python_side(path)


def _nested(depth: int) -> str:
    """An event whose props hold lists nested so that the line is `depth` levels deep."""
    lists = depth - 2
    return ('{"contact":"c","event":"visit","at":1772445600,"props":{"k":'
            + "[" * lists + "1" + "]" * lists + "}}")


@pytest.mark.parametrize("line, in_sql", [
    (_nested(100), True), (_nested(101), False), (_nested(99), True),
    # short props whose lists reach the limit exactly, or just past it
    ('{"contact":"c","event":"v","at":1,"props":{"k":' + "[" * 98 + "]" * 98 + "}}", True),
    ('{"contact":"c","event":"v","at":1,"props":{"k":' + "[" * 99 + "]" * 99 + "}}", False),
    # the keys counted: null values, a repeated key (null or not), an unknown key
    ('{"contact":"c","event":"v","at":1,"target":null,"id":null}', True),
    ('{"contact":"c","event":"v","at":1,"target":null,"target":"x"}', False),
    ('{"contact":"c","event":"v","at":1,"target":"x","target":null}', False),
    ('{"contact":"c","event":"v","at":1,"id":null,"id":null}', False),
    ('{"contact":"c","event":"v","at":1,"event":"w"}', False),
    ('{"contact":"c","event":"v","at":1,"other":null}', False),
    ('{"contact":"c","event":"v","at":1,"other":2}', False),
    # objects inside props (which could hide a repeated key) are Python's
    ('{"contact":"c","event":"v","at":1,"props":{"a":{"b":1,"b":2}}}', False),
    ('{"contact":"c","event":"v","at":1,"props":{"a":[{"b":1}]}}', False),
    ('{"contact":"c","event":"v","at":1,"props":{"a":"{","b":"["}}', False),
])
def test_the_keys_and_the_nesting_at_their_limits(tmp_path, line, in_sql):
    path = write(tmp_path / "e.jsonl", [line])
    assert sql_accepted(path) == in_sql
    assert duckdb_side(path) == python_side(path)


def test_sql_accepts_the_well_formed_lines_itself(tmp_path):
    well_formed = [line for line in lines[:2]] * 50 + [
        '{"contact":"c","event":"visit","at":1772445600,"props":{"a":[1,"x",true,null]}}',
        '{"contact": "c", "event": "visit", "at": "2026-03-01T10:00:00.25+01:00", "id": null}']
    path = write(tmp_path / "e.jsonl", well_formed)
    assert sql_accepted(path) == len(well_formed)
    assert duckdb_side(path) == python_side(path)


# --- the fast path: lines DuckDB writes back as they are ----------------------------------

def fast_lines(path: str) -> int:
    """How many lines took the fast path (`duckdb_input._CANON`)."""
    con = duckdb.connect()
    duckdb_input.prepare(con)
    body = duckdb_input._CLASSIFY[:duckdb_input._CLASSIFY.index("\nSELECT line, CASE")]
    return con.execute(f"WITH src AS (SELECT ordinality AS line, strlen(t) AS n, t, t AS raw "
                       f"FROM {duckdb_input.LINE_READER} WITH ORDINALITY), {body} "
                       "SELECT count(*) FILTER (WHERE fast) FROM p", [path]).fetchone()[0]


_HEAD = '{"contact":"c","event":"visit","target":"t","at":1772445600'


@pytest.mark.parametrize("line, fast, in_sql", [
    (_HEAD + "}", True, True),
    (_HEAD + ',"id":"e1","props":{"a":1,"b":"x","c":true}}', True, True),
    ('{"contact":"c","event":"visit","at":"2026-03-01T10:00:00Z","props":{"a":-1}}', True,
     True),
    (_HEAD + ',"props":{"a":null,"b":[1,"nan"]}}', True, True),
    # bare words in props, every case and sign, in lists too: DuckDB writes them back as read
    *((_HEAD + ',"props":{"a":' + word + "}}", True, False)
      for word in ("NaN", "nan", "-NaN", "Infinity", "-Infinity", "inf", "-INF", "iNfInItY")),
    (_HEAD + ',"props":{"a":[1,NaN]}}', True, False),
    (_HEAD + ',"props":{"a":"x","b":-inf}}', True, False),
    # what DuckDB writes otherwise: trailing commas, spaces, another order, a null, escapes
    (_HEAD + ',}', False, False),
    (_HEAD + ',"props":{"a":1,}}', False, False),
    (_HEAD + ',"props":{"a":[1,]}}', False, False),
    (_HEAD + ',"props": {"a":1}}', False, True),
    ('{"event":"visit","contact":"c","at":1772445600}', False, True),
    (_HEAD + ',"id":null}', False, True),
    ('{"contact":"c\\u0041","event":"visit","at":1772445600}', False, True),
    ('{"contact":"c\\"","event":"visit","at":1772445600}', False, True),
    # the types: a number or a list where a string goes, a repeated key, an unknown one
    ('{"contact":1,"event":"visit","at":1772445600}', False, False),
    ('{"contact":"c","event":"visit","target":["t"],"at":1772445600}', False, False),
    (_HEAD + ',"props":{"a":1,"a":2}}', True, False),
    (_HEAD + ',"at":1}', False, False),
    (_HEAD + ',"other":1}', False, False),
    ('{"contact":"","event":"visit","at":1772445600}', True, False),
    ('{"contact":"c","event":"visit","at":1.5}', True, False),
])
def test_the_fast_path_takes_only_what_python_accepts(tmp_path, line, fast, in_sql):
    path = write(tmp_path / "e.jsonl", [line])
    assert (fast_lines(path), sql_accepted(path)) == (fast, in_sql)
    assert duckdb_side(path) == python_side(path)


_GOOD_STRINGS = st.sampled_from(['"c"', '"visit"', '"é"', '"a b"', '"x/y"'])
_WORDS = ["NaN", "nan", "-NaN", "Infinity", "-Infinity", "inf", "-inf", "INF", "nAn"]
_TEXTS = st.text(st.sampled_from('ab-:,[]{}"\\/ éNn\t'), max_size=6)


def _string(text: str, escape: bool) -> str:
    return json.dumps(text, ensure_ascii=escape)


_SCALARS = st.one_of(
    st.builds(_string, _TEXTS, st.booleans()), st.integers(-10**6, 10**12).map(str),
    _GOOD_STRINGS,
    st.sampled_from(["true", "false", "null", "1.5", "-0", "1e3", "1E999"] + _WORDS))
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3).map(
    lambda items: "[" + ",".join(items) + "]"))
_PROPS = st.lists(st.tuples(st.sampled_from(["a", "b", "nan", "a:n"]), _VALUES),
                  max_size=4)


def _mostly(good, bad):
    """Hypothesis: `good` three times in four, else `bad`."""
    return st.integers(0, 3).flatmap(lambda pick: bad if pick == 0 else good)


@st.composite
def _event_lines(draw):
    """A JSON line near the fast path's: the known keys, most often in its order and written
    DuckDB's way, with values of every type, bare words, trailing commas and spaces."""
    members = [("contact", draw(_mostly(_GOOD_STRINGS, st.sampled_from(
                   ['""', "1", "null", '"\\u0063"', '"c\\""'])))),
               ("event", draw(_mostly(_GOOD_STRINGS, st.sampled_from(['""', "[]", "NaN"]))))]
    if draw(st.booleans()):
        members.append(("target", draw(_mostly(_GOOD_STRINGS, _SCALARS))))
    members.append(("at", draw(_mostly(st.sampled_from(
        ["1772445600", '"2026-03-01T10:00:00Z"']), st.sampled_from(
        ["1.5", "NaN", "-inf", "-1", '"x"', "null"])))))
    if draw(st.booleans()):
        members.append(("id", draw(_mostly(_GOOD_STRINGS, _SCALARS))))
    if draw(st.booleans()):
        props = draw(_PROPS)
        comma = "," if draw(st.integers(0, 9)) == 0 and props else ""
        members.append(("props", "{" + ",".join(f'"{k}":{v}' for k, v in props) + comma
                        + "}"))
    if draw(st.integers(0, 9)) == 0:
        members.append(draw(st.sampled_from([("other", "1"), ("at", "1"), ("target", "null")])))
    if draw(st.integers(0, 4)) == 0:
        members = draw(st.permutations(members))
    space = draw(st.sampled_from(["", "", "", " "]))
    comma = "," if draw(st.integers(0, 9)) == 0 else ""
    return ("{" + ("," + space).join(f'"{k}":{space}{v}' for k, v in members) + comma
            + "}")


@settings(max_examples=300, deadline=None)
@given(st.lists(_event_lines(), min_size=1, max_size=12))
def test_lines_near_the_fast_path_read_the_same(tmp_path_factory, lines):
    path = write(tmp_path_factory.mktemp("fast") / "e.jsonl", lines)
    assert duckdb_side(path) == python_side(path)


_CON = duckdb.connect()
duckdb_input.prepare(_CON)


def _strict(text: str) -> bool:
    """Whether Python's JSON takes `text` without a NaN or an infinity."""
    def refuse(word):
        raise ValueError(word)

    try:
        json.loads(text, parse_constant=refuse)
    except ValueError:
        return False
    return True


_SPACE = st.sampled_from(["", "", " ", "\t", " \n "])
_WORD_VALUES = st.one_of(
    st.sampled_from(_WORDS + ["null", "1", "-2.5", "true", '":nan"', '"a,inf"', '"[-NaN"',
                              '"x: Infinity"', '"nan"']),
    st.builds(_string, _TEXTS, st.booleans()))


@st.composite
def _word_texts(draw):
    """JSON objects (no trailing commas) whose values are bare words, strings holding them,
    lists of them, spaced in every way."""
    def value():
        if draw(st.integers(0, 3)) == 0:
            items = draw(st.lists(_WORD_VALUES, max_size=3))
            return "[" + ",".join(draw(_SPACE) + item + draw(_SPACE) for item in items) + "]"
        return draw(_WORD_VALUES)

    members = [f'"{draw(st.sampled_from(["a", "b:n", "c"]))}"{draw(_SPACE)}:{draw(_SPACE)}'
               f"{value()}" for _ in range(draw(st.integers(0, 3)))]
    return "{" + draw(_SPACE) + ("," + draw(_SPACE)).join(members) + draw(_SPACE) + "}"


@settings(max_examples=1000, deadline=None)
@given(_word_texts())
@example('{"a": [1, nan]}')
@example('{"a":"x", "b":-Infinity}')
def test_no_bare_words_lets_through_only_what_python_takes(text):
    valid, clean = _CON.execute(
        f"SELECT json_valid($t), {duckdb_input.no_bare_words('$t')}", {"t": text}).fetchone()
    assert not (valid and clean) or _strict(text)


# --- times: the SQL macro against parse_time ----------------------------------------------

_TIMES = st.builds(
    lambda y, mo, d, h, mi, s, f, z: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"
    + (f".{f}" if f else "") + z,
    st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25),
    st.integers(0, 61), st.integers(0, 61), st.text("0123456789", max_size=10),
    st.one_of(st.just("Z"), st.builds(lambda sign, h, m: f"{sign}{h:02d}:{m:02d}",
                                      st.sampled_from("+-"), st.integers(0, 30),
                                      st.integers(0, 70))))
@settings(max_examples=1500, deadline=None)
@given(_TIMES)
@example("0001-01-01T00:00:00+01:00")
@example("9999-12-31T23:30:00-01:00")
@example("2026-03-01T24:00:00Z")
@example("2026-03-01T10:00:00+24:00")
@example("2026-03-01T10:00:00.123456789Z")
def test_the_sql_time_is_parse_time(text):
    sql = _CON.execute("SELECT sl_iso_us(?)", [text]).fetchone()[0]
    try:
        expected = parse_time(text, date_only_is_utc_midnight=False)
    except TimeFormatError:
        expected = None
    assert sql == expected  # every string of these shapes: SQL takes it exactly or refuses it


# --- Parquet ------------------------------------------------------------------------------

UTC = datetime.timezone.utc
T = datetime.datetime(2026, 3, 1, 10, tzinfo=UTC)
D = decimal.Decimal


def base(**columns):
    """Six rows: the second has no contact, the fourth an empty one and no time."""
    table = {"contact": ["a", None, "c", "", "e", "f"], "event": ["visit"] * 6,
             "at": pa.array([T, T, T, None, T, T], pa.timestamp("us", tz="UTC"))}
    table.update(columns)
    return pa.table(table)


def struct(rows, **fields):
    return pa.array(rows, pa.struct(list(fields.items())))


cases = {
    "plain": base(),
    "target_id": base(target=["pricing", None, "x", None, None, "y"],
                      id=["e1", None, None, "e4", None, "e6"]),
    "map_props": base(props=pa.array(
        [[("seconds", 42)], None, [], None, [("a", 1), ("b", 2)], [("x", None)]],
        pa.map_(pa.string(), pa.int64()))),
    "struct_props": base(props=struct(
        [{"s": 1, "t": "x"}, None, {"s": None, "t": None}, None, {"s": 2, "t": "y"},
         {"s": 3, "t": None}], s=pa.int64(), t=pa.string())),
    "float_props": base(props=struct(
        [{"f": 1.5}, {"f": float("nan")}, {"f": float("inf")}, None, {"f": -0.0}, {"f": None}],
        f=pa.float64())),
    "decimal_props": base(props=struct(
        [{"d": D("12.50")}, {"d": D("3")}, None, None, {"d": None}, {"d": D("-1.25")}],
        d=pa.decimal128(10, 2))),
    "decimal0_props": base(props=struct(
        [{"d": D("12")}, None, None, None, None, {"d": D("-1")}], d=pa.decimal128(10, 0))),
    "json_props": base(props=['{"a": 1}', None, "not json", "[1]", '{"a": 1, "a": 2}', "{}"]),
    "json_props2": base(props=['{"a": {"b": 1}}', '{"x": NaN}', '{"a": 1,}', '{"s": "x"}',
                               ' {"a": 2} ', '{"k": [1, 2]}']),
    # an empty object with spaces in it goes to Python (the view takes only `{}` as empty)
    "json_props3": base(props=['{ }', '{}', '{"a":1,"b":{"c":2}}', '{"a": 1 }', None,
                               '{"a":"{"}']),
    # words DuckDB's parser takes as numbers in any letter case, Python's in none
    "json_props_words": base(props=['{"x": nan}', '{"x": [1, -Inf]}', '{"x":INFINITY}',
                                    '{"x": "nan, inf"}', '{"info": 1}', '{"x": -nAn}']),
    "ns": base(at=pa.array([1772359200000000001, 1772359200999999999, -1, None, 0, -1000],
                           pa.timestamp("ns"))),
    "s_unit": base(at=pa.array([1772359200, 253402300800, -62135596801, None, -62135596800,
                                253402300799], pa.timestamp("s"))),
    "ms_unit": base(at=pa.array([1772359200123, 253402300800000, None, None, 5, -5],
                                pa.timestamp("ms", tz="America/New_York"))),
    "int_at": base(at=pa.array([1772359200, 10**15, -62135596801, None, 0, 253402300799])),
    "str_at": base(at=["2026-03-01T10:00:00Z", "nope", "2026-03-01T10:00:00+01:00", None,
                       " 2026-03-01T10:00:00Z", "2026-03-01T10:00:00"]),
    "float_at": base(at=pa.array([1.5, 1772359200.0, None, None, 2.0, 3.0])),
    "bool_at": base(at=pa.array([True, False, None, None, True, True])),
    "date_at": base(at=pa.array([datetime.date(2026, 3, 1)] * 5 + [None], pa.date32())),
    "int_contact": base(contact=pa.array([1, None, 3, 4, 5, 6])),
    "unknown": base(colour=["red", None, None, "blue", None, None]),
    "no_at": pa.table({"contact": ["a", "b"], "event": ["v", "v"]}),
    "dict_strings": base(event=pa.array(["visit"] * 6).dictionary_encode(),
                         target=pa.array(["x", None, "y", "x", "x", None]).dictionary_encode()),
    "large_string": base(contact=pa.array(["a", None, "c", "", "e", "f"], pa.large_string())),
    "int_props": base(props=pa.array([1, None, 2, None, None, None])),
    "list_in_props": base(props=struct(
        [{"l": [1, 2]}, {"l": []}, {"l": None}, None, {"l": [3]}, {"l": [None]}],
        l=pa.list_(pa.int64()))),
}

@pytest.mark.parametrize("copy", [True, False], ids=["copied", "view"])
@pytest.mark.parametrize("name", sorted(cases))
def test_parquet_of_every_column_type_reads_the_same(tmp_path, name, copy):
    path = str(tmp_path / f"{name}.parquet")
    pq.write_table(cases[name], path)
    assert duckdb_side(path, copy) == python_side(path)


def test_sql_accepts_the_good_parquet_rows_itself(tmp_path):
    path = str(tmp_path / "e.parquet")
    pq.write_table(cases["struct_props"], path)
    assert sql_accepted(path) == 4


def test_parquet_with_flipped_bytes_reads_the_same_or_fails_the_same(tmp_path):
    n = 3000
    table = pa.table({"contact": [f"c{i % 50}" for i in range(n)], "event": ["visit"] * n,
                      "at": pa.array([1772359200 + i for i in range(n)], pa.int64()),
                      "target": [f"t{i % 7}" for i in range(n)]})
    good = tmp_path / "good.parquet"
    pq.write_table(table, good, compression="none", row_group_size=1000)
    data = good.read_bytes()
    rnd = random.Random(3)
    for _ in range(15):
        broken = bytearray(data)
        for _ in range(rnd.choice([1, 3, 20])):
            broken[rnd.randrange(4, len(broken) - 8)] = rnd.randrange(256)
        path = tmp_path / "broken.parquet"
        path.write_bytes(bytes(broken))
        outcomes = []
        for side in (python_side, duckdb_side, lambda p: duckdb_side(p, copy=False)):
            try:
                outcomes.append(side(str(path)))
            except readers.ReaderError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1] == outcomes[2]


# --- contacts -----------------------------------------------------------------------------

def _profiles_both(path: str):
    from compiler.run.engines import duckdb_contacts

    con = duckdb.connect()
    duckdb_contacts.load_contacts(con, path)
    ours = {contact: json.loads(profile) for contact, profile in
            con.execute(f"SELECT contact, profile FROM {duckdb_contacts.TABLE}").fetchall()}
    return readers.read_contacts(path)[0], ours


PROFILE_LINES = lines + [
    '{"contact": "a", "title": "CEO", "employees": 250}', '{"contact": "a", "title": null}',
    '{"contact": "b", "x": {"y": 1}}', '{"contact": "c", "contact": "d"}', '{"contact": ""}',
    '{"contact": 5}', '{"title": "x"}', '{"contact": "e", "l": [1, {"a": 1, "a": 2}]}',
    '{"contact": "f", "a": 1, "b": 2, "a": 3}', '{"contact": "g", "t": "\\u00e9\\ud83d\\ude00"}',
    '{"contact": "h", "n": nan}', '{"contact": "i", "l": [-inf]}', '{"contact": "j", "n":Infinity}',
    '{"contact": "k", "t": "inf, nan"}']


def test_contacts_read_the_same(tmp_path):
    rnd = random.Random(2)
    for _ in range(20):
        chosen = [rnd.choice(PROFILE_LINES) for _ in range(rnd.randint(0, 30))]
        python, ours = _profiles_both(write(tmp_path / "c.jsonl", chosen))
        assert ours == python


@pytest.mark.parametrize("columns", [
    {"contact": ["a", "b", None, "", "a"], "employees": [1, None, 3, 4, 5]},
    {"contact": ["a", "b"], "s": struct([{"u": 1, "v": None}, None], u=pa.int64(), v=pa.string())},
    {"contact": ["a", "b"], "d": pa.array([D("1.50"), None], pa.decimal128(5, 2))},
    {"contact": ["a", "b"], "d": pa.array([D("1"), None], pa.decimal128(5, 0))},
    {"contact": ["a", "b"], "f": [1.5, float("nan")]},
    {"contact": [1, 2], "f": [1, 2]},
    {"contact": ["a", "b"], "l": [[1, None], []]},
], ids=["plain", "struct", "decimal", "whole_decimal", "nan", "int_contact", "list"])
def test_parquet_contacts_read_the_same(tmp_path, columns):
    path = str(tmp_path / "c.parquet")
    pq.write_table(pa.table(columns), path)
    python, ours = _profiles_both(path)
    assert ours == python


@pytest.mark.parametrize("data, by_duckdb", [
    (b'{"contact":"c","event":"v","at":1}\n\n{"contact":"d","event":"v","at":2}', True),
    (b'\xef\xbb\xbf{"contact":"c","event":"v","at":1}\n', True),
    (b'{"contact":"c","event":"v","at":1}\r\n', False),
    (b'{"contact":"c","event":"v","at":1}\n{"contact":"\xff"}\n', False)])
def test_duckdb_cuts_the_lines_unless_it_would_cut_them_otherwise(tmp_path, monkeypatch, data,
                                                                   by_duckdb):
    """The lines DuckDB read are checked against the file's bytes after the one pass that
    reads and validates them; pyarrow cuts the file only when they do not add up."""
    path = tmp_path / "e.jsonl"
    path.write_bytes(data)
    cut = []
    batches = duckdb_input._line_batches
    monkeypatch.setattr(duckdb_input, "_line_batches",
                        lambda *args: cut.append(1) or batches(*args))
    assert duckdb_side(str(path)) == python_side(str(path))
    assert (not cut) == by_duckdb
