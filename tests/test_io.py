"""Readers and writers of runtime.io and compiler.run.readers.

The formats are those of docs/language.md section 7 and readings 9.10-9.11.
"""
from __future__ import annotations

import ast
import io
import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.run import readers
from runtime import io as rio
from runtime.events import Event, Reject, TimeFormatError, format_time, parse_time

T0 = "2026-03-01T10:00:00Z"
T0_MICROS = parse_time(T0)


def jsonl(*lines: str) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode("utf-8"))


def read(*lines: str) -> list:
    return list(rio.read_events(jsonl(*lines)))


def only(items: list):
    assert len(items) == 1, items
    return items[0]


def good(**extra) -> str:
    record = {"contact": "c", "event": "visit", "at": T0}
    record.update(extra)
    return json.dumps(record)


# --- events: accepted -------------------------------------------------------------------------

def test_a_full_event_keeps_every_field():
    event = only(read(good(target="pricing", id="e-1", props={"seconds": 42})))
    assert event == Event("c", "visit", T0_MICROS, "pricing", "e-1", {"seconds": 42}, 1, 0)


def test_epoch_seconds_and_offsets_become_the_same_microseconds():
    epoch = T0_MICROS // 1_000_000
    items = read(good(at=epoch), good(at="2026-03-01T11:00:00+01:00"),
                 good(at="2026-03-01T10:00:00.250Z"))
    assert [item.at for item in items] == [T0_MICROS, T0_MICROS, T0_MICROS + 250_000]


def test_null_optional_keys_are_absent():
    event = only(read(good(target=None, id=None, props=None)))
    assert (event.target, event.id, event.props) == (None, None, {})


def test_blank_lines_are_skipped_but_counted_and_seq_counts_accepted_events():
    items = read(good(), "", "   ", "not json", good(id="x"))
    assert [(type(i).__name__, i.line) for i in items] == [
        ("Event", 1), ("Reject", 4), ("Event", 5)]
    assert [i.seq for i in items if isinstance(i, Event)] == [0, 1]


def test_byte_order_mark_and_crlf_are_tolerated():
    data = ("\ufeff" + good() + "\r\n" + good(id="2") + "\r\n").encode("utf-8")
    items = list(rio.read_events(io.BytesIO(data)))
    assert [type(i) for i in items] == [Event, Event]
    assert items[1].id == "2"


# --- events: rejects --------------------------------------------------------------------------

@pytest.mark.parametrize("line, reason", [
    ("this is not json", "not valid JSON"),
    ('{"contact": "c", ', "not valid JSON"),
    ("[1, 2]", "expected a JSON object, found a list"),
    ('"text"', "expected a JSON object, found text"),
    (good(colour="red"), "unknown key `colour`"),
    ('{"event": "visit", "at": "2026-03-01T10:00:00Z"}', "missing required key `contact`"),
    ('{"contact": "c", "at": "2026-03-01T10:00:00Z"}', "missing required key `event`"),
    ('{"contact": "c", "event": "visit"}', "missing required key `at`"),
    (good(contact=17), "`contact` must be text, found a number"),
    (good(contact=""), "`contact` must not be empty"),
    (good(event=None), "`event` must be text, found null"),
    (good(target=3), "`target` must be text, found a number"),
    (good(id=991), "`id` must be text, found a number"),
    (good(props=[1]), "`props` must be an object, found a list"),
    (good(props="x"), "`props` must be an object, found text"),
    (good(at="not a time"), "invalid time"),
    (good(at="2026-03-01T10:00:00"), "has no time zone"),
    (good(at="2026-03-01"), "has no time of day"),
    (good(at="2026-02-30T10:00:00Z"), "not a valid date"),
    (good(at=1772445600.5), "whole epoch seconds"),
    (good(at=1772445600.0), "whole epoch seconds"),
    (good(at=True), "found true/false"),
    (good(at=10 ** 20), "outside the years"),
    ('{"contact": "c", "event": "visit", "at": 1, "at": 2}', "duplicate key `at`"),
    ('{"contact": "c", "event": "visit", "at": 1, "props": {"x": NaN}}', "NaN is not allowed"),
    (good() + " trailing", "extra text"),
])
def test_each_kind_of_broken_line_is_rejected_with_its_reason(line, reason):
    items = read(good(), line)
    assert len(items) == 2
    reject = items[1]
    assert isinstance(reject, Reject)
    assert reject.line == 2
    assert reason in reject.reason
    assert reject.raw == line


def test_invalid_utf8_is_a_reject_not_an_error():
    data = good().encode() + b"\n" + b'{"contact": "\xff"}\n' + good(id="z").encode() + b"\n"
    items = list(rio.read_events(io.BytesIO(data)))
    assert [type(i) for i in items] == [Event, Reject, Event]
    assert items[1].line == 2 and "not valid UTF-8" in items[1].reason


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40).filter(lambda b: b"\n" not in b and b"\r" not in b),
                max_size=20))
def test_any_bytes_give_one_item_per_non_blank_line_and_never_raise(lines):
    data = b"\n".join(lines) + b"\n"
    items = list(rio.read_events(io.BytesIO(data)))
    expected = [n for n, line in enumerate(lines, start=1)
                if line.decode("utf-8", errors="replace").strip()]
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):
        first = lines[0][3:].decode("utf-8", errors="replace").strip()
        expected = [n for n in expected if n != 1 or first]
    assert [item.line for item in items] == expected


# --- events: CSV ------------------------------------------------------------------------------

def read_csv(text: str) -> list:
    return list(rio.read_events(io.BytesIO(text.encode("utf-8")), fmt="csv"))


def test_csv_events_with_typed_property_columns_and_epoch_seconds():
    items = read_csv("contact,event,target,at,id,props.seconds,props.plan\n"
                     "c1,visit,pricing,2026-03-01T10:00:00Z,e1,42,pro\n"
                     f"c2,unsubscribe,,{T0_MICROS // 1_000_000},,,\n")
    assert items[0] == Event("c1", "visit", T0_MICROS, "pricing", "e1",
                             {"seconds": 42, "plan": "pro"}, 2, 0)
    assert items[1] == Event("c2", "unsubscribe", T0_MICROS, None, None, {}, 3, 1)


def test_csv_props_column_holds_a_json_object():
    items = read_csv('contact,event,at,props\nc,visit,2026-03-01T10:00:00Z,"{""s"": 3}"\n'
                     "c,visit,2026-03-01T10:00:00Z,[1]\n"
                     "c,visit,2026-03-01T10:00:00Z,{bad\n")
    assert items[0].props == {"s": 3}
    assert "`props` must be an object" in items[1].reason
    assert items[2].line == 4 and "not valid JSON" in items[2].reason


def test_csv_rejects_cite_the_first_line_of_their_row():
    items = read_csv('contact,event,at,target\n'
                     'c,visit,2026-03-01T10:00:00Z,"two\nlines"\n'
                     "\n"
                     "c,visit,never,x\n"
                     "c,visit\n"
                     "c,visit,2026-03-01T10:00:00Z,x,extra\n")
    assert isinstance(items[0], Event) and items[0].target == "two\nlines"
    assert [(i.line, i.reason.split(":")[0]) for i in items[1:]] == [
        (5, "invalid time"), (6, "expected 4 cells, found 2"), (7, "expected 4 cells, found 5")]


def test_csv_unknown_column_rejects_rows_that_fill_it():
    items = read_csv("contact,event,at,colour\nc,visit,2026-03-01T10:00:00Z,\n"
                     "c,visit,2026-03-01T10:00:00Z,red\n")
    assert isinstance(items[0], Event)
    assert items[1].line == 3 and "unknown key `colour`" in items[1].reason


@pytest.mark.parametrize("cell, value", [
    ("", None), ("true", True), ("FALSE", False), ("0", 0), ("-12", -12), ("250", 250),
    ("2.5", 2.5), ("-0.75", -0.75), ("01234", "01234"), ("+49", "+49"), ("1e3", "1e3"),
    ("CEO", "CEO"), (" 7", " 7"), ("1.", "1."),
])
def test_csv_typing_rule(cell, value):
    assert rio.csv_value(cell) == value and type(rio.csv_value(cell)) is type(value)


@given(st.integers())
def test_csv_integers_round_trip(number):
    assert rio.csv_value(str(number)) == number


# --- contacts ---------------------------------------------------------------------------------

def test_contacts_last_line_wins_and_broken_lines_are_rejects():
    profiles, rejects = rio.read_contacts(jsonl(
        '{"contact": "a", "title": "CEO", "employees": 250}',
        '{"contact": "b", "consent": true}',
        "",
        '{"title": "no id"}',
        '{"contact": 5}',
        "oops",
        '{"contact": "a", "title": "CTO"}'))
    assert profiles == {"a": {"title": "CTO"}, "b": {"consent": True}}
    assert [(r.line, r.reason) for r in rejects] == [
        (4, "missing required key `contact`"), (5, "`contact` must be text, found a number"),
        (6, "not valid JSON: Expecting value at column 1")]


def test_contacts_csv_are_typed_and_empty_cells_are_missing():
    profiles, rejects = rio.read_contacts(io.BytesIO(
        b"contact,title,employees,consent,zip\nc1,CEO,250,true,01234\nc2,,9.5,False,\n"),
        fmt="csv")
    assert profiles == {"c1": {"title": "CEO", "employees": 250, "consent": True, "zip": "01234"},
                        "c2": {"employees": 9.5, "consent": False}}
    assert rejects == []


def test_contacts_from_a_path_by_extension(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("contact,title\nx,CEO\n", encoding="utf-8")
    assert rio.read_contacts(str(path)) == ({"x": {"title": "CEO"}}, [])


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(rio.InputError, match="cannot read"):
        list(rio.read_events(str(tmp_path / "nope.jsonl")))


def test_standard_input_is_read_as_json_lines(monkeypatch):
    stdin = io.TextIOWrapper(io.BytesIO((good() + "\n").encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert [i.contact for i in rio.read_events("-")] == ["c"]
    assert rio.display_name("-") == "<stdin>"


# --- times ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2026-03-01T10:00:00Z", T0_MICROS), ("2026-03-01T11:00:00+01:00", T0_MICROS),
    ("1772359200", T0_MICROS), ("2026-03-01", parse_time("2026-03-01T00:00:00Z")),
])
def test_as_of_accepts_iso_dates_and_epoch_seconds(text, expected):
    assert rio.parse_as_of(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-03-01T10:00:00", "2026-13-01", "1.5"])
def test_bad_as_of_is_a_time_format_error(text):
    with pytest.raises(TimeFormatError):
        rio.parse_as_of(text)


@pytest.mark.parametrize("text", [
    "0001-01-01T00:00:00Z", "0999-12-31T23:59:59Z", "0999-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
])
def test_times_print_a_four_digit_year_that_reads_back(text):
    """ISO 8601 and the SQL engines: `0001-…`, not glibc strftime's unpadded `1-…`."""
    assert format_time(parse_time(text)) == text
    assert format_time(parse_time(text) + 999_999) == text  # truncated to the second


# --- writers ----------------------------------------------------------------------------------

RESULTS = [
    {"actions": [{"arg": "sales", "action": "notify", "at": T0_MICROS + 999_999}],
     "stage": "SQL", "grades": {"tier": "A"}, "scores": {"engagement": 15, "fit": 35},
     "contact": "c-17"},
    {"contact": "u", "scores": {"engagement": None, "fit": None}, "grades": {}, "stage": None,
     "actions": []},
]


def test_results_jsonl_has_the_section_7_key_order_and_times_to_the_second():
    out = io.StringIO()
    rio.write_results_jsonl(RESULTS, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == ('{"contact": "c-17", "scores": {"engagement": 15, "fit": 35}, '
                        '"grades": {"tier": "A"}, "stage": "SQL", "actions": [{"at": '
                        '"2026-03-01T10:00:00Z", "action": "notify", "arg": "sales"}]}')
    assert json.loads(lines[1]) == RESULTS[1]


def test_results_csv_has_a_column_per_score_and_grade():
    out = io.StringIO()
    rio.write_results_csv(RESULTS, out, grade_names=["tier", "band"])
    rows = out.getvalue().splitlines()
    assert rows[0] == "contact,engagement,fit,tier,band,stage,actions"
    assert rows[1].startswith("c-17,15,35,A,,SQL,")
    assert rows[2] == "u,,,,,,[]"
    import csv
    actions = list(csv.reader(rows[1:2]))[0][-1]
    assert json.loads(actions) == [{"at": "2026-03-01T10:00:00Z", "action": "notify",
                                    "arg": "sales"}]


def test_results_csv_prefixes_names_that_clash_with_fixed_columns():
    columns = rio.result_columns([{"contact": "x", "scores": {"stage": 1},
                                   "grades": {"stage": "A"}}])
    assert [header for header, _, _ in columns] == [
        "contact", "score:stage", "grade:stage", "stage", "actions"]


def test_rejects_jsonl_keeps_file_line_reason_and_raw():
    out = io.StringIO()
    rio.write_rejects_jsonl([Reject(4, "not valid JSON", "oops")], out, "events.jsonl")
    assert json.loads(out.getvalue()) == {"file": "events.jsonl", "line": 4,
                                         "reason": "not valid JSON", "raw": "oops"}
    assert rio.format_reject(Reject(4, "why", "x"), "e.jsonl") == "e.jsonl:4: why"


# --- Parquet ----------------------------------------------------------------------------------

def test_parquet_rows_are_validated_like_json_lines(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet needs the sql or spark extra")
    import datetime

    import pyarrow.parquet as pq

    utc = datetime.timezone.utc
    table = pa.table({
        "contact": ["a", None, "c", "d"],
        "event": ["visit"] * 4,
        "at": pa.array([datetime.datetime(2026, 3, 1, 10, tzinfo=utc)] * 3 + [None],
                       pa.timestamp("us", tz="UTC")),
        "target": ["pricing", None, None, None],
        "props": pa.array([[("seconds", 42)], None, [], None],
                          pa.map_(pa.string(), pa.int64())),
    })
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)
    items = list(readers.read_events(str(path)))
    assert items[0] == Event("a", "visit", T0_MICROS, "pricing", None, {"seconds": 42}, 1, 0)
    assert isinstance(items[1], Reject) and items[1].line == 2
    assert items[1].reason == "`contact` must be text, found null"
    assert items[2] == Event("c", "visit", T0_MICROS, None, None, {}, 3, 1)
    assert items[3].line == 4 and "invalid time" in items[3].reason


def test_parquet_contacts_last_row_wins(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet needs the sql or spark extra")
    import pyarrow.parquet as pq

    path = tmp_path / "contacts.parquet"
    pq.write_table(pa.table({"contact": ["a", "a", None], "employees": [1, 250, 3]}), path)
    profiles, rejects = readers.read_contacts(str(path))
    assert profiles == {"a": {"employees": 250}}
    assert [(r.line, r.reason) for r in rejects] == [(3, "`contact` must be text, found null")]


def test_parquet_without_pyarrow_says_which_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = tmp_path / "events.parquet"
    path.write_bytes(b"")
    with pytest.raises(readers.ReaderError, match=r"scorelang\[sql\]"):
        list(readers.read_events(str(path)))


def test_a_file_that_is_not_parquet_is_a_reader_error(tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet needs the sql or spark extra")
    path = tmp_path / "events.parquet"
    path.write_text("not parquet")
    with pytest.raises(readers.ReaderError, match="not a Parquet file"):
        list(readers.read_events(str(path)))


# --- the runtime stays standard-library only --------------------------------------------------

def test_runtime_io_imports_only_the_standard_library_and_runtime():
    tree = ast.parse(open(rio.__file__, encoding="utf-8").read())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module.split(".")[0])
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}, modules


# --- writers: round trips ---------------------------------------------------------------------

_names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8)
_results = st.lists(st.fixed_dictionaries({
    "contact": _names,
    "scores": st.fixed_dictionaries({"engagement": st.none() | st.integers(),
                                     "fit": st.none() | st.integers()}),
    "grades": st.dictionaries(st.sampled_from(["tier", "band"]), _names, max_size=2),
    "stage": st.none() | _names,
    "actions": st.lists(st.fixed_dictionaries({
        "at": st.integers(0, 4_000_000_000 * 1_000_000),
        "action": st.sampled_from(["notify", "tag", "reset"]), "arg": _names}), max_size=3),
}), max_size=5)


@settings(max_examples=100, deadline=None)
@given(_results)
def test_jsonl_and_csv_writers_carry_the_same_results(results):
    jsonl_out, csv_out = io.StringIO(), io.StringIO()
    rio.write_results_jsonl(results, jsonl_out)
    rio.write_results_csv(results, csv_out, grade_names=["tier", "band"])
    from_jsonl = [json.loads(line) for line in jsonl_out.getvalue().splitlines()]
    import csv

    from_csv = list(csv.DictReader(io.StringIO(csv_out.getvalue(), newline="")))
    assert len(from_jsonl) == len(from_csv) == len(results)
    for result, line, row in zip(results, from_jsonl, from_csv):
        assert list(line) == ["contact", "scores", "grades", "stage", "actions"]
        assert line["contact"] == row["contact"] == result["contact"]
        for name, value in result["scores"].items():
            assert line["scores"][name] == value
            assert row[name] == ("" if value is None else str(value))
        for name in ("tier", "band"):
            assert row[name] == result["grades"].get(name, "")
        assert row["stage"] == (result["stage"] or "")
        assert json.loads(row["actions"]) == line["actions"]
        assert [a["at"] for a in line["actions"]] == [
            rio.format_time(a["at"]) for a in result["actions"]]
