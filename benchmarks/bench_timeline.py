"""`score run --timeline day` against a plain run, per engine, on the independent workload.

    python benchmarks/bench_timeline.py                        # 2M events, 100k contacts
    python benchmarks/bench_timeline.py --events 200000 --rounds 1 --only python

The data is the workload of `bench_leadbench.py` (generated once per size by its `gen.py`,
under `--data`), read from events.jsonl and contacts.jsonl. Each row runs in a fresh
interpreter and is timed end to end through `compiler.run.engines` (reading included, writing
excluded): `ENGINE_run` gives the results, `ENGINE_timeline` one row per contact and day. CPU
is user + system time of the process and of the processes it waited for (Spark's JVM is not
one of them: for spark, read the wall time). The table gives, per engine, the timeline's cost
as a multiple of the plain run, and checks that every contact's last timeline row equals its
result (the timeline's definition). An engine that cannot write timelines says so.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]
ENGINES = ("python", "duckdb", "spark")


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime


def child(engine: str, kind: str, folder: str, period: str) -> dict:
    from compiler.pipeline import compile as compile_model
    from compiler.run import engines

    ours = os.path.join(folder, "scorelang")
    table = compile_model(os.path.join(HERE, "leadbench", "leadbench.score")).table
    events, contacts = os.path.join(ours, "events.jsonl"), os.path.join(ours, "contacts.jsonl")
    rejects: list = []
    started, wall = cpu(), time.perf_counter()
    try:
        if kind == "run":
            rows = engines.run(engine, table, events, contacts, None, rejects.append)
        else:
            rows = engines.timeline(engine, table, events, contacts, None, rejects.append,
                                    period)
    except engines.EngineError as exc:
        return {"unsupported": str(exc).splitlines()[0]}
    seconds, wall = cpu() - started, time.perf_counter() - wall
    if kind == "run":
        last = {r["contact"]: r["scores"] for r in rows}
    else:
        last = {}
        for row in rows:  # sorted by contact, then period: the last row wins
            last[row["contact"]] = row["scores"]
    digest = sorted((c, json.dumps(s, sort_keys=True)) for c, s in last.items())
    return {"cpu": seconds, "wall": wall, "rows": len(rows), "rejects": len(rejects),
            "digest": hash(tuple(digest)),
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure(engine: str, kind: str, folder: str, period: str, timeout: float) -> dict:
    import bench_leadbench

    return bench_leadbench.in_child(
        __file__, ["--child", f"{engine}:{kind}", "--child-data", folder, "--period", period],
        timeout, env={**os.environ, "PYTHONHASHSEED": "0"})


def table_of(results: dict, period: str) -> list[str]:
    lines = [f"| engine | run CPU s | run wall s | timeline {period} CPU s | timeline wall s | "
             "timeline rows | timeline / run (CPU) | (wall) | last rows = results |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for engine, runs in results.items():
        plain, line = runs["run"], runs["timeline"]
        if any("unsupported" in r for r in line):
            lines.append(f"| {engine} | {_median(plain, 'cpu')} | {_median(plain, 'wall')} | "
                         f"not supported: {line[0]['unsupported']} | | | | | |")
            continue
        if any("error" in r for r in plain + line):
            lines.append(f"| {engine} | failed | | | | | | | |")
            continue
        run_cpu, run_wall = (statistics.median(r[k] for r in plain) for k in ("cpu", "wall"))
        tl_cpu, tl_wall = (statistics.median(r[k] for r in line) for k in ("cpu", "wall"))
        same = all(r["digest"] == plain[0]["digest"] for r in plain + line)
        lines.append(f"| {engine} | {run_cpu:.2f} | {run_wall:.2f} | {tl_cpu:.2f} | "
                     f"{tl_wall:.2f} | {line[0]['rows']:,} | {tl_cpu / run_cpu:.2f}x | "
                     f"{tl_wall / run_wall:.2f}x | {'yes' if same else '**NO**'} |")
    return lines


def _median(runs, key) -> str:
    values = [r[key] for r in runs if key in r]
    return f"{statistics.median(values):.2f}" if values else "-"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="comma-separated engines (python, duckdb, spark)")
    parser.add_argument("--period", default="day", choices=("day", "week", "month"))
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(),
                                                       "scorelang-leadbench"))
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-data", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        engine, kind = args.child.split(":")
        result = child(engine, kind, args.child_data, args.period)
        with open(args.child_out, "w", encoding="utf-8") as stream:
            json.dump(result, stream)
        return 0
    import bench_leadbench

    bench = bench_leadbench.default_bench_dir()
    if not os.path.exists(os.path.join(bench, "gen.py")):
        print(f"skipped: the workload is not here ({bench} has no gen.py)")
        return 0
    engines = [e for e in (args.only.split(",") if args.only else ENGINES) if e]
    folder = os.path.join(args.data, f"{args.events}-{max(args.events // 20, 1)}")
    bench_leadbench.ensure_data(bench, folder, args.events, max(args.events // 20, 1))
    print(f"# --timeline {args.period} against a plain run: {args.events:,} events, "
          f"{args.rounds} rounds, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start\n")
    results = {e: {"run": [], "timeline": []} for e in engines}
    for _ in range(args.rounds):  # interleaved: drift on a shared machine spreads over all
        for engine in engines:
            for kind in ("run", "timeline"):
                results[engine][kind].append(measure(engine, kind, folder, args.period,
                                                     args.timeout))
    print("\n".join(table_of(results, args.period)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
