"""One bad line never kills a run (issue 10, items 2, 3, 5, 6): each input that used to crash
the readers, lose lines or shift a time is a reject with its line and reason (or, for an option
or a file that cannot be read at all, exit 2 with a message), on both engines."""
from __future__ import annotations

import datetime
import decimal
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from compiler.run import readers
from runtime import io as rio
from runtime.events import Event, Reject

GOOD = {"contact": "c", "event": "visit", "target": "pricing", "at": "2026-03-01T10:00:00Z"}
MODEL = "visit pricing +1\n"


def line(**change) -> str:
    record = dict(GOOD)
    record.update(change)
    return json.dumps(record)


def jsonl_items(*lines: str) -> list:
    return list(rio.read_events(io.BytesIO(("\n".join(lines) + "\n").encode("utf-8"))))


def csv_items(text: str) -> list:
    return list(rio.read_events(io.BytesIO(text.encode("utf-8")), fmt="csv"))


def kinds(items) -> list[tuple[str, int]]:
    return [(type(item).__name__, item.line) for item in items]


def only_reject(items, line_number: int) -> Reject:
    rejects = [item for item in items if isinstance(item, Reject)]
    assert [r.line for r in rejects] == [line_number], rejects
    return rejects[0]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


DEEP = '{"contact": "c", "event": "visit", "at": 1, "props": ' + '[' * 5000 + ']' * 5000 + '}'


# --- item 2: deep nesting, times at the ends of the range, long numbers, lone surrogates ---

def test_deeply_nested_json_is_a_reject_and_the_run_goes_on():
    items = jsonl_items(line(), DEEP, line(id="2"))
    assert kinds(items) == [("Event", 1), ("Reject", 2), ("Event", 3)]
    assert items[1].reason == "not valid JSON: nested deeper than 100 levels"


def test_deeply_nested_json_in_csv_props_and_in_contacts_is_a_reject():
    nested = ("[" * 3000 + "]" * 3000)
    items = csv_items(f"contact,event,at,props\nc,visit,1772359200,\"{{\"\"a\"\": {nested}}}\"\n"
                      "d,visit,1772359200,\n")
    reject = only_reject(items, 2)
    assert "nested deeper than 100 levels" in reject.reason
    assert [item.contact for item in items if isinstance(item, Event)] == ["d"]
    profiles, rejects = rio.read_contacts(io.BytesIO(
        ('{"contact": "a", "x": ' + "[" * 3000 + "]" * 3000 + '}\n{"contact": "b"}\n').encode()))
    assert list(profiles) == ["b"] and [r.line for r in rejects] == [1]


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_a_time_whose_offset_leaves_the_years_1_to_9999_is_a_reject(at):
    items = jsonl_items(line(at=at), line())
    reject = only_reject(items, 1)
    assert reject.reason == f"invalid time: `{at}` is outside the years 1 to 9999 in UTC"


@pytest.mark.parametrize("offset", ["+99:99", "+24:00", "-01:60", "+2400"])
def test_an_offset_past_23_59_is_a_reject_not_a_shift(offset):
    reject = only_reject(jsonl_items(line(at="2026-03-01T10:00:00" + offset)), 1)
    assert "an offset is at most 23:59" in reject.reason


def test_the_largest_offsets_still_read():
    items = jsonl_items(line(at="2026-03-01T10:00:00+23:59"), line(at="2026-03-01T10:00:00-2359"))
    assert [item.at for item in items] == [
        1772359200_000000 - (23 * 3600 + 59 * 60) * 1_000_000,
        1772359200_000000 + (23 * 3600 + 59 * 60) * 1_000_000]


def test_a_5000_digit_csv_number_is_a_reject_in_events_and_contacts():
    digits = "9" * 5000
    items = csv_items(f"contact,event,at,props.n\nc,visit,1772359200,{digits}\n"
                      f"c,visit,{digits},1\nd,visit,1772359200,2\n")
    rejects = [item for item in items if isinstance(item, Reject)]
    assert [r.line for r in rejects] == [2, 3]
    assert "`props.n` is a number with more than 4300 digits" == rejects[0].reason
    assert rejects[1].reason.startswith("invalid time: epoch seconds 999")
    assert [item.contact for item in items if isinstance(item, Event)] == ["d"]
    profiles, contact_rejects = rio.read_contacts(
        io.BytesIO(f"contact,employees\na,{digits}\nb,3\n".encode()), fmt="csv")
    assert profiles == {"b": {"employees": 3}}
    assert contact_rejects[0].reason == "`employees` is a number with more than 4300 digits"


def test_a_5000_digit_json_number_is_a_reject_that_names_the_limit():
    reject = only_reject(jsonl_items('{"contact": "c", "event": "visit", "at": 1, "props": '
                                     '{"n": ' + "9" * 5000 + '}}'), 1)
    assert reject.reason == "not valid JSON: a number with more than 4300 digits"


@pytest.mark.parametrize("text", ['"\\ud800"', '"a\\udfffb"', '"\\ude00\\ud83d"'])
def test_a_lone_surrogate_in_any_string_is_a_reject(text):
    lines = [line().replace('"c"', text, 1),
             line().replace('"pricing"', text, 1),
             '{"contact": "c", "event": "visit", "at": 1, "props": {' + text + ': 1}}']
    items = jsonl_items(*lines, line())
    assert kinds(items) == [("Reject", 1), ("Reject", 2), ("Reject", 3), ("Event", 4)]
    assert all("half of a UTF-16 surrogate pair" in item.reason for item in items[:3])


def test_a_surrogate_pair_is_one_character_and_reads():
    event = jsonl_items(line().replace('"c"', '"\\ud83d\\ude00"', 1))[0]
    assert event.contact == "\U0001F600"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("model.score").write_text(MODEL, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("as_of", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00",
                                   "9" * 5000, "2026-03-01T10:00:00+99:99", "\ud800",
                                   "2026-03-01T10:00:00Z\udcff"])
def test_the_same_values_in_as_of_are_a_usage_error(workdir, as_of):
    Path("events.jsonl").write_text(line() + "\n", encoding="utf-8")
    result = invoke("run", "model.score", "--events", "events.jsonl", "--as-of", as_of)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "--as-of" in result.output


def test_rejected_lines_with_surrogates_leave_the_output_writable(workdir):
    Path("events.jsonl").write_text(line() + "\n" + line().replace('"c"', '"\\ud800"') + "\n",
                                    encoding="utf-8")
    result = invoke("run", "model.score", "--events", "events.jsonl", "--rejects", "r.jsonl")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["scores"] == {"score": 1}
    assert "1 line rejected" in result.stderr
    Path("r.jsonl").read_text(encoding="utf-8")  # UTF-8 all through


# --- item 3: Parquet ---------------------------------------------------------------------------

pa = pytest.importorskip("pyarrow", reason="Parquet needs the sql or spark extra")
import pyarrow.parquet as pq  # noqa: E402

UTC = datetime.timezone.utc


def write_parquet(path: Path, **columns) -> str:
    table = {"contact": ["a", "b", "c"], "event": ["visit"] * 3, "target": ["pricing"] * 3}
    table.update(columns)
    pq.write_table(pa.table(table), path)
    return str(path)


def read(path: str) -> list:
    return list(readers.read_events(path))


def test_nanosecond_timestamps_that_are_not_whole_microseconds_are_truncated(tmp_path):
    at = pa.array([1772359200_000000001, 1772359200_999999999, -1], pa.timestamp("ns"))
    items = read(write_parquet(tmp_path / "e.parquet", at=at))
    assert [item.at for item in items] == [1772359200_000000, 1772359200_999999, -1]


def test_timestamps_outside_the_years_1_to_9999_are_rejects(tmp_path):
    at = pa.array([1772359200, 253402300800, -62135596801], pa.timestamp("s"))
    items = read(write_parquet(tmp_path / "e.parquet", at=at))
    assert kinds(items) == [("Event", 1), ("Reject", 2), ("Reject", 3)]
    assert items[1].reason == ("invalid time: the timestamp 253402300800 seconds after "
                               "1970-01-01 is outside the years 1 to 9999")


def test_a_corrupt_page_is_a_clear_error(tmp_path):
    path = tmp_path / "e.parquet"
    write_parquet(path, at=pa.array([1772359200] * 3, pa.int64()))
    data = bytearray(path.read_bytes())
    data[4:40] = b"\xff" * 36  # the first page header
    path.write_bytes(bytes(data))
    with pytest.raises(readers.ReaderError, match="cannot be read|not a Parquet file"):
        read(str(path))


@pytest.mark.parametrize("props, problem", [
    (pa.array([{"blob": b"x"}] * 3, pa.struct([("blob", pa.binary())])),
     "`props.blob` is of type binary"),
    (pa.array([{"when": datetime.datetime(2026, 3, 1, tzinfo=UTC)}] * 3,
              pa.struct([("when", pa.timestamp("us", tz="UTC"))])),
     "`props.when` is of type timestamp"),
])
def test_props_of_a_type_json_cannot_hold_are_a_clear_error(tmp_path, props, problem):
    path = write_parquet(tmp_path / "e.parquet", at=pa.array([1772359200] * 3), props=props)
    with pytest.raises(readers.ReaderError, match=problem):
        read(path)


def test_decimal_props_are_numbers(tmp_path):
    props = pa.array([{"d": decimal.Decimal("12.50"), "n": decimal.Decimal("3")}] * 3,
                     pa.struct([("d", pa.decimal128(10, 2)), ("n", pa.decimal128(10, 0))]))
    items = read(write_parquet(tmp_path / "e.parquet", at=pa.array([1772359200] * 3),
                               props=props))
    assert items[0].props == {"d": 12.5, "n": 3} and type(items[0].props["n"]) is int


# --- item 5: CSV that loses lines ----------------------------------------------------------

def test_an_unbalanced_quote_costs_its_own_line_only():
    text = ('contact,event,at\n'
            'a,"visit,1772359200\n'
            'b,visit,1772359200\n'
            'c,visit,1772359200\n'
            'd,visit,1772359200\n')
    items = csv_items(text)
    reject = only_reject(items, 2)
    assert reject.reason.startswith("unbalanced quote")
    assert reject.raw == 'a,"visit,1772359200'
    assert [(item.contact, item.line) for item in items if isinstance(item, Event)] == [
        ("b", 3), ("c", 4), ("d", 5)]


def test_a_quoted_cell_may_still_span_lines():
    items = csv_items('contact,event,at,props.note\na,visit,1772359200,"two\nlines"\n'
                      'b,visit,1772359200,x\n')
    assert [(item.contact, item.line, item.props) for item in items] == [
        ("a", 2, {"note": "two\nlines"}), ("b", 4, {"note": "x"})]


def test_a_header_that_names_a_column_twice_is_an_error(workdir):
    Path("events.csv").write_text("contact,event,at,at\nc,visit,1772359200,5\n")
    with pytest.raises(rio.InputError, match="names column `at` twice"):
        list(rio.read_events("events.csv"))
    result = invoke("run", "model.score", "--events", "events.csv")
    assert result.exit_code == 2 and "names column `at` twice" in result.stderr


def test_cr_only_line_ends_are_line_ends():
    items = csv_items("contact,event,at\rc,visit,1772359200\rd,visit,1772359200\r")
    assert [(item.contact, item.line) for item in items] == [("c", 2), ("d", 3)]
