"""Language v2 (issue 11): events per CPU second of the v2 example in the runtime, its generated
DuckDB query against a hand-written one, and the v1 B2B model's speed against another checkout
of the code (the version before language v2).

    python benchmarks/bench_v2.py                                  # 1,000,000 events, 3 rounds
    python benchmarks/bench_v2.py --events 200000 --rounds 1
    git worktree add --detach /tmp/before 118837f                  # the commit before v2
    python benchmarks/bench_v2.py --before /tmp/before             # adds the v1 comparison
    python benchmarks/bench_v2.py --only duckdb --contacts 100000  # the DuckDB rows alone

Rows, each a fresh interpreter running `bench_engine.py --worker` (input read and frozen, not
timed; CPU = `time.process_time()` of `Engine.run` or of the streaming loop):
- `v2 batch`, `v2 streaming`: `examples/hubspot_port.score` (groups with limits, inactivity,
  a matrix grade, `by points`, quoted event names) on its sample data scaled up
  (`examples/generate_data.py`, 90 days);
- `v1 batch`, `v1 batch (before)`: `benchmarks/b2b.score` on the B2B benchmark data, with
  this checkout and with the one `--before` names (its own runtime and compiler); both must
  give the same results (digests compared) and the ratio is printed: the target is that no
  v1 model gets slower by more than 5%.
- `v2 duckdb generated`, `v2 duckdb hand`: the same v2 data in DuckDB, the query that
  `score run --engine duckdb` generates (compiler/sql) against the hand-written one
  (`duckdb_hand_v2.py`), in one worker that loads the tables once (not timed) and runs the two
  queries in turn, each round; CPU = `time.process_time()` of executing and fetching (all
  DuckDB threads). Both must give the same results (compared contact by contact, in the
  runtime's JSON shape) and the ratio is printed: the target is generated <= 1.5 x hand.
Rounds run the rows in turn (interleaved) so that drift on a shared machine spreads over all;
the table shows the median CPU time.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
V2_MODEL = os.path.join(ROOT, "examples", "hubspot_port.score")
V1_MODEL = os.path.join(HERE, "b2b.score")


def v2_data(folder: str, events: int, contacts: int, seed: int) -> str:
    target = os.path.join(folder, f"hubspot-{events}-{contacts}-{seed}")
    if not os.path.exists(os.path.join(target, "contacts.jsonl")):
        sys.path.insert(0, os.path.join(ROOT, "examples"))
        from generate_data import generate

        rows, profiles = generate("hubspot_port", seed, size=(contacts, events))
        os.makedirs(target, exist_ok=True)
        with open(os.path.join(target, "events.jsonl"), "w", encoding="utf-8") as out:
            out.writelines(json.dumps(row) + "\n" for row in rows)
        with open(os.path.join(target, "contacts.jsonl"), "w", encoding="utf-8") as out:
            out.writelines(json.dumps(profile) + "\n" for profile in profiles)
    return target


def v1_data(folder: str, events: int, contacts: int, seed: int) -> str:
    target = os.path.join(folder, f"b2b-{events}-{contacts}-{seed}")
    if not os.path.exists(os.path.join(target, "contacts.jsonl")):
        sys.path.insert(0, HERE)
        from generate import generate

        generate(target, events, contacts, seed)
    return target


def measure(checkout: str, mode: str, data: str, model: str) -> dict:
    """One worker of `checkout`'s own bench_engine.py, importing only that checkout."""
    script = os.path.join(checkout, "benchmarks", "bench_engine.py")
    env = {**os.environ, "PYTHONPATH": checkout}
    done = subprocess.run([sys.executable, script, "--worker", mode, "--data", data,
                           "--model", model], capture_output=True, text=True, cwd=checkout,
                          env=env)
    if done.returncode != 0:
        raise SystemExit(f"{mode} of {checkout} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def duckdb_worker(data: str, rounds: int) -> dict:
    """Generated and hand-written DuckDB queries on the same loaded tables, in turn."""
    import time

    sys.path[:0] = [ROOT, HERE]
    import duckdb_hand_v2
    from compiler.pipeline import compile as compile_model
    from compiler.run.engines import duckdb as engine
    from compiler.sql import generate
    from runtime.io import result_json

    table = compile_model(V2_MODEL).table
    connection = engine.connect()
    connection.execute("SET enable_progress_bar = false")
    duckdb_hand_v2.load(connection, os.path.join(data, "events.jsonl"),
                        os.path.join(data, "contacts.jsonl"))
    queries = {"generated": generate(table, "duckdb", "events", "contacts", seq_column="line"),
               "hand": duckdb_hand_v2.SQL}
    cpu: dict[str, list[float]] = {name: [] for name in queries}
    rows: dict[str, list] = {}
    for _ in range(rounds):
        for name, sql in queries.items():
            started = time.process_time()
            rows[name] = connection.execute(sql).fetchall()
            cpu[name].append(time.process_time() - started)
    generated = {r["contact"]: result_json(r) for r in engine.results(table, rows["generated"])}
    hand = duckdb_hand_v2.full(rows["hand"])
    (events,), = connection.execute("SELECT count(*) FROM events").fetchall()
    return {"cpu": cpu, "same": generated == hand, "events": events, "contacts": len(hand),
            "resets": sum(1 for r in hand.values() if r["stage"] == "SQL")}


def measure_duckdb(data: str, rounds: int) -> dict:
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--duckdb-worker", data,
                           "--rounds", str(rounds)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": ROOT})
    if done.returncode != 0:
        raise SystemExit(f"the DuckDB worker failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", default="/tmp/scorelang-bench-v2")
    parser.add_argument("--before", help="another checkout of scorelang to compare v1 with")
    parser.add_argument("--only", choices=("engine", "duckdb"),
                        help="only the engine rows, or only the DuckDB rows")
    parser.add_argument("--duckdb-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.duckdb_worker:
        print(json.dumps(duckdb_worker(args.duckdb_worker, args.rounds)))
        return 0

    v2 = v2_data(args.data, args.events, args.contacts, args.seed)
    status = 0 if args.only == "engine" else duckdb_rows(v2, args.rounds)
    if args.only == "duckdb":
        return status
    v1 = v1_data(args.data, args.events, args.contacts, args.seed)
    rows = {"v2 batch": (ROOT, "batch", v2, V2_MODEL),
            "v2 streaming": (ROOT, "streaming", v2, V2_MODEL),
            "v1 batch": (ROOT, "batch", v1, V1_MODEL)}
    if args.before:
        before = os.path.abspath(args.before)
        rows["v1 batch (before)"] = (before, "batch", v1,
                                     os.path.join(before, "benchmarks", "b2b.score"))
    runs: dict[str, list[dict]] = {name: [] for name in rows}
    for _ in range(args.rounds):
        for name, row in rows.items():
            runs[name].append(measure(*row))
    print(f"{args.events:,} events, {args.contacts:,} contacts, {args.rounds} round(s), "
          f"median CPU; load average {os.getloadavg()[0]:.1f}")
    print(f"{'row':<20} {'CPU s':>8} {'events/CPU s':>13} {'peak MB':>8}  digest")
    for name, found in runs.items():
        cpu = statistics.median(r["cpu_seconds"] for r in found)
        print(f"{name:<20} {cpu:>8.2f} {found[0]['events'] / cpu:>13,.0f} "
              f"{max(r['rss_peak_mb'] for r in found):>8,.0f}  {found[0]['digest'][:12]}")
    if args.before:
        now = statistics.median(r["cpu_seconds"] for r in runs["v1 batch"])
        then = statistics.median(r["cpu_seconds"] for r in runs["v1 batch (before)"])
        same = runs["v1 batch"][0]["digest"] == runs["v1 batch (before)"][0]["digest"]
        print(f"v1 now / before: {now / then:.3f} (target <= 1.05); results "
              f"{'identical' if same else 'DIFFERENT'}")
        status = status or (0 if same else 1)
    return status


def duckdb_rows(data: str, rounds: int) -> int:
    found = measure_duckdb(data, rounds)
    generated, hand = (statistics.median(found["cpu"][name]) for name in ("generated", "hand"))
    print(f"DuckDB {duckdb_version()}: {found['events']:,} events, {found['contacts']:,} "
          f"contacts ({found['resets']:,} reset), {rounds} round(s), median CPU; load "
          f"average {os.getloadavg()[0]:.1f}")
    print(f"{'row':<20} {'CPU s':>8} {'events/CPU s':>13}")
    for name, cpu in (("v2 duckdb generated", generated), ("v2 duckdb hand", hand)):
        print(f"{name:<20} {cpu:>8.2f} {found['events'] / cpu:>13,.0f}")
    print(f"generated / hand: {generated / hand:.2f} (target <= 1.5); results "
          f"{'identical' if found['same'] else 'DIFFERENT'}")
    return 0 if found["same"] else 1


def duckdb_version() -> str:
    import duckdb

    return duckdb.__version__


if __name__ == "__main__":
    raise SystemExit(main())
