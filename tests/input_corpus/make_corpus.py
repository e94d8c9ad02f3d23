"""Writes the input corpus of this folder (run it again after changing a case; the files it
writes are committed, so that the cases can be read without running anything):

    python tests/input_corpus/make_corpus.py

Every case is one events file with good lines among broken ones, and an entry in `cases.json`:
the exit code `score run` must give and the lines it must reject (`tests/test_input_corpus.py`
runs each case through the CLI on every engine). See README.md.
"""
from __future__ import annotations

import datetime
import decimal
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
G = '{"contact": "c%d", "event": "visit", "target": "pricing", "at": "2026-03-01T10:00:00Z"}'


def good(n: int) -> str:
    return G % n


def at(value: str, n: int = 0) -> str:
    return good(n).replace('"2026-03-01T10:00:00Z"', value)


JSONL = {
    "nesting": [good(1), '{"contact": "c2", "event": "visit", "target": "pricing", "at": 1, '
                '"props": ' + "[" * 5000 + "]" * 5000 + "}", good(3),
                '{"contact": "c4", "event": "visit", "target": "pricing", "at": 1, '
                '"props": ' + '{"a": ' * 150 + "1" + "}" * 150 + "}"],
    "time_range": [good(1), at('"0001-01-01T00:00:00+01:00"', 2),
                   at('"9999-12-31T23:30:00-01:00"', 3), at('"0001-01-01T00:00:00Z"', 4),
                   at('"9999-12-31T23:59:59.999999Z"', 5), at("-62135596801", 6),
                   at("253402300800", 7), at("100000000000000000000", 8)],
    "offsets": [at('"2026-03-01T10:00:00+99:99"', 1), at('"2026-03-01T10:00:00+24:00"', 2),
                at('"2026-03-01T10:00:00+23:59"', 3), at('"2026-03-01T10:00:00-0130"', 4),
                at('"2026-03-01T10:00:00-01:60"', 5)],
    "long_numbers": [good(1), '{"contact": "c2", "event": "visit", "target": "pricing", '
                     '"at": 1, "props": {"n": ' + "9" * 5000 + "}}", good(3),
                     at("9" * 5000, 4)],
    "surrogates": [good(1), good(2).replace('"c2"', '"\\ud800"'),
                   good(3).replace('"pricing"', '"a\\udfffb"'),
                   good(4).replace('"c4"', '"\\ud83d\\ude00"'),
                   '{"contact": "c5", "event": "visit", "at": 1, "props": {"\\ude00": 1}}'],
    "json_syntax": [good(1), "not json", "[1, 2]", good(4) + " trailing", good(5)[:-1] + ",}",
                    '{"contact": "c6", "event": "visit", "at": 1, "at": 2}',
                    '{"contact": "c7", "event": "visit", "at": 1, "props": {"x": NaN}}',
                    '{"contact": "c8", "event": "visit", "at": 1, "props": {"a": 1, "a": 2}}',
                    "", "   ", good(11)],
    # words DuckDB's JSON parser takes as numbers in any letter case, and numbers past a double
    "json_words": [good(1)] + [
        '{"contact": "c%d", "event": "visit", "at": 1, "props": %s}' % (n, props)
        for n, props in enumerate(['{"x": nan}', '{"x": -inf}', '{"x": [1, Infinity]}',
                                   '{"x": NAN}', '{"x":Inf}', '{"x": -iNfInItY}',
                                   '{"x": 1e999}', '{"x": -1e999}', '{"x": "nan, inf"}',
                                   '{"x": null, "y": [null,-1]}'], start=2)] + [good(12)],
}
# name -> (bytes, exit code); rejects found by the Python reader are written to cases.json
BYTES = {
    "crlf_bom_bad_bytes": (b"\xef\xbb\xbf" + good(1).encode() + b"\r\n" + b'{"contact": "\xff"}\r\n'
                           + good(3).encode() + b"\r\n\xfe\xfe\r\n" + good(5).encode(), 0),
    "cr_inside_a_line": (good(1).encode() + b"\r" + good(2).encode() + b"\n" + good(3).encode()
                         + b"\n", 0),
}
CSV = {
    "csv_unbalanced_quote": ("contact,event,target,at\nc1,\"visit,pricing,1772359200\n"
                             "c2,visit,pricing,1772359200\nc3,visit,pricing,1772359200\n"
                             "c4,visit,pricing,1772359200\n", 0),
    "csv_duplicate_header": ("contact,event,target,at,at\nc1,visit,pricing,1772359200,5\n", 2),
    "csv_cr_only": ("contact,event,target,at\rc1,visit,pricing,1772359200\r"
                    "c2,visit,pricing,1772359200\r", 0),
    "csv_long_numbers": ("contact,event,target,at,props.n\nc1,visit,pricing,1772359200,"
                         + "9" * 5000 + "\nc2,visit,pricing," + "9" * 5000 + ",1\n"
                         "c3,visit,pricing,1772359200,2\n", 0),
    "csv_nested_props": ("contact,event,target,at,props\nc1,visit,pricing,1772359200,\""
                         + "[" * 3000 + "]" * 3000 + "\"\nc2,visit,pricing,1772359200,\n", 0),
}


def parquet_cases() -> dict:
    import pyarrow as pa

    utc = datetime.timezone.utc

    def table(n: int, **columns):
        data = {"contact": [f"c{i}" for i in range(1, n + 1)], "event": ["visit"] * n,
                "target": ["pricing"] * n}
        data.update(columns)
        return pa.table(data)

    t0 = 1772359200
    return {
        "parquet_nanoseconds": (table(3, at=pa.array(
            [t0 * 10**9 + 1, t0 * 10**9 + 999_999_999, None], pa.timestamp("ns"))), 0),
        "parquet_time_range": (table(3, at=pa.array(
            [t0, 253402300800, -62135596801], pa.timestamp("s"))), 0),
        "parquet_binary_props": (table(2, at=pa.array([t0, t0]), props=pa.array(
            [{"blob": b"x"}, None], pa.struct([("blob", pa.binary())]))), 2),
        "parquet_datetime_props": (table(2, at=pa.array([t0, t0]), props=pa.array(
            [{"when": datetime.datetime(2026, 3, 1, tzinfo=utc)}, None],
            pa.struct([("when", pa.timestamp("us", tz="UTC"))]))), 2),
        "parquet_decimal_props": (table(3, at=pa.array([t0] * 3), props=pa.array(
            [{"d": decimal.Decimal("12.50"), "n": decimal.Decimal("3")}, None,
             {"d": None, "n": decimal.Decimal("-1")}],
            pa.struct([("d", pa.decimal128(10, 2)), ("n", pa.decimal128(10, 0))]))), 0),
        "parquet_nan_props": (table(3, at=pa.array([t0] * 3), props=pa.array(
            [{"f": 1.5}, {"f": float("nan")}, {"f": float("inf")}],
            pa.struct([("f", pa.float64())]))), 0),
    }


def main() -> None:
    import pyarrow.parquet as pq

    from runtime import io as rio
    from compiler.run import readers

    cases = {}
    for name, lines in JSONL.items():
        (HERE / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        cases[name] = {"events": f"{name}.jsonl", "exit": 0}
    for name, (data, code) in BYTES.items():
        (HERE / f"{name}.jsonl").write_bytes(data)
        cases[name] = {"events": f"{name}.jsonl", "exit": code}
    for name, (text, code) in CSV.items():
        (HERE / f"{name}.csv").write_bytes(text.encode("utf-8"))
        cases[name] = {"events": f"{name}.csv", "exit": code}
    for name, (table, code) in parquet_cases().items():
        pq.write_table(table, HERE / f"{name}.parquet")
        cases[name] = {"events": f"{name}.parquet", "exit": code}
    corrupt = bytearray((HERE / "parquet_time_range.parquet").read_bytes())
    corrupt[4:40] = b"\xff" * 36  # the first page header
    (HERE / "parquet_corrupt_page.parquet").write_bytes(bytes(corrupt))
    cases["parquet_corrupt_page"] = {"events": "parquet_corrupt_page.parquet", "exit": 2}
    for case in cases.values():
        case["rejects"] = []
        if case["exit"] == 0:
            case["rejects"] = [[item.line, item.reason] for item in
                               readers.read_events(str(HERE / case["events"]))
                               if isinstance(item, rio.Reject)]
    (HERE / "cases.json").write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n",
                                     encoding="utf-8")


if __name__ == "__main__":
    main()
