"""The generated DuckDB query against model size (issue 10 item 13): SQL size, and the CPU
time DuckDB takes to plan and run it, for models of 100 to 10,000 targets, rules or values.

    python benchmarks/bench_sql_scale.py                        # 100, 1,000, 10,000
    python benchmarks/bench_sql_scale.py --sizes 1000,30000 --shapes targets,in

Shapes (N = the size): `targets` (one rule, `visit (p0, ..., pN) +1`), `rules` (N rules
`visit pI +1`, a tenth of them capped `at most 2 per day`), `in` (a profile rule
`if plan in ("v0", ..., "vN")`), `condition` (a profile rule `if x0 = 0 or ... or xN = N`,
each term reading another property), `pairs` (a profile rule `if x0 = 0 and y0 = 0 or x1 = 1
and y1 = 1 or ...`, N pairs, its own sizes `--pair-sizes`; with `--before`, also the same
condition written out leaf by leaf as before, interleaved), `cmp` (`if x0 > 5 or ... or xN > 5`,
leaves no list test takes, one constant; its own sizes `--cmp-sizes`; with `--before`, also
each leaf reading its path twice alike, as before, interleaved), `cmpd` (`x_i > i`: distinct
constants, the reference). The query runs on one contact
with three events, so the time is almost all DuckDB planning the query: linear means the
ms-per-1k columns stay flat as N grows. Times are CPU seconds of this process
(`time.process_time`, DuckDB's threads included): the machine is shared, so wall time says
little. Each result is checked against
the Python engine.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import duckdb  # noqa: E402

from compiler.pipeline import compile_text  # noqa: E402
from compiler.run.engines import duckdb as duck  # noqa: E402
from compiler.sql import generate  # noqa: E402
from compiler.sql.dialects import DuckDB  # noqa: E402
from runtime import Engine, Event  # noqa: E402


def shape(name: str, size: int) -> str:
    if name == "targets":
        return "score s\nvisit (" + ", ".join(f"p{i}" for i in range(size)) + ") +1\n"
    if name == "rules":
        return "score s\n" + "".join(f"visit p{i} +1" + (" at most 2 per day" if i % 10 == 0
                                                          else "") + "\n" for i in range(size))
    if name == "in":
        return ("score s\nvisit +1\nif plan in (" + ", ".join(f'"v{i}"' for i in range(size))
                + ") +5\n")
    if name == "pairs":
        return ("score s\nvisit +1\nif " + " or ".join(f"x{i} = {i} and y{i} = {i}"
                                                      for i in range(size)) + " +5\n")
    if name in ("cmp", "cmpd"):
        return ("score s\nvisit +1\nif " + " or ".join(
            f"x{i} > {5 if name == 'cmp' else i}" for i in range(size)) + " +5\n")
    if name == "condition":
        return ("score s\nvisit +1\nif " + " or ".join(f"x{i} = {i}" for i in range(size))
                + " +5\n")
    raise ValueError(name)


EVENTS = [Event.from_iso("c", "visit", f"2026-03-0{day}T10:00:00Z", "p1") for day in (2, 2, 3)]
PROFILES = {"c": {"plan": "v1", "x1": 1}}
AS_OF = 1_800_000_000_000_000


def measure(text: str, before: str = "") -> tuple[float, float, int]:
    """(compile+generate CPU s, DuckDB CPU s, SQL bytes); the result checked against Python.
    `before`: `written` (an `or` of `and`s of `=` leaves written leaf by leaf, as before the
    list test over groups) or `twice` (a leaf reads its type and its text through one path,
    as before the JSON pointer)."""
    start = time.process_time()
    table = compile_text(text).require_table()
    if before == "written":
        with mock.patch.object(DuckDB, "json_equal_groups", lambda *args: None):
            sql = generate(table, "duckdb", "events", "contacts", as_of=AS_OF)
    elif before == "twice":
        with mock.patch.object(DuckDB, "_pointer_text", staticmethod(DuckDB._path_text)):
            sql = generate(table, "duckdb", "events", "contacts", as_of=AS_OF)
    else:
        sql = generate(table, "duckdb", "events", "contacts", as_of=AS_OF)
    made = time.process_time() - start
    con = duckdb.connect()
    con.register("events", duck._events_arrow(EVENTS))
    con.register("contacts", duck._contacts_arrow(PROFILES))
    start = time.process_time()
    rows = con.execute(sql).fetchall()
    ran = time.process_time() - start
    con.close()
    expected = Engine(table).run(EVENTS, PROFILES, as_of=AS_OF)
    got = duck.results(table, rows)
    if [r["scores"] for r in got] != [r["scores"] for r in expected]:
        raise SystemExit(f"DuckDB and Python disagree: {got} != {expected}")
    return made, ran, len(sql.encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--shapes", default="targets,rules,in,condition,pairs")
    parser.add_argument("--pair-sizes", default="100,200,500,1000")
    parser.add_argument("--cmp-sizes", default="200,400,800,1600")
    parser.add_argument("--before", action="store_true",
                        help="pairs also written out leaf by leaf (9 s at 500 pairs), cmp "
                             "also with each path read twice alike")
    args = parser.parse_args()
    measure(shape("targets", 10))  # DuckDB and the grammar warmed up before any timing
    print(f"{'shape':10} {'N':>7} {'SQL KB':>8} {'B/item':>7} {'compile s':>9} "
          f"{'duckdb s':>9} {'ms/1k':>8}")
    for name in args.shapes.split(","):
        sizes = {"pairs": args.pair_sizes, "cmp": args.cmp_sizes,
                 "cmpd": args.cmp_sizes}.get(name, args.sizes)
        old = {"pairs": "written", "cmp": "twice"}.get(name) if args.before else None
        for size in map(int, sizes.split(",")):
            runs = [(name, "")] + ([(old, old)] if old else [])
            for label, before in runs:
                made, ran, size_sql = measure(shape(name, size), before)
                print(f"{label:10} {size:7} {size_sql / 1000:8.1f} {size_sql / size:7.0f} "
                      f"{made:9.2f} {ran:9.2f} {ran / size * 1e6:8.1f}", flush=True)


if __name__ == "__main__":
    main()
