"""`score run --timeline day` against a plain run, per engine, on the independent workload.

    python benchmarks/bench_timeline.py                        # 2M events, 100k contacts
    python benchmarks/bench_timeline.py --events 200000 --rounds 1 --only python

The data is the workload of `bench_leadbench.py` (generated once per size by its `gen.py`,
under `--data`), read from events.jsonl and contacts.jsonl. Each measurement runs in a fresh
interpreter. CPU is user + system time of the process and of the processes it waited for
(Spark's JVM is not one of them: for spark, read the wall time).

The first table is timed through `compiler.run.engines` (reading included, writing
excluded): `run` gives the results, `timeline` one row per contact and day; it checks that
every contact's last timeline row equals its result (the timeline's definition). The second
is `score run` end to end (`compiler.run.scoring.run_model`, the JSON Lines file written,
`--format`): `score run` (plain), `score run --timeline` (for duckdb DuckDB writes the file
itself, engines.timeline_text), and the rows laid out by the Python writer
(`engines.timeline` + `writers.write_timeline`, what `score run --timeline` did before);
it checks that both timeline files hold the same bytes. An engine that cannot write timelines
says so.
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


END_TO_END = ("score_run", "score_timeline", "python_writer")


def end_to_end(engine: str, kind: str, events: str, contacts: str, period: str,
               fmt: str) -> dict:
    """One `score run` writing its file (`kind` in END_TO_END); the file's size and digest."""
    import hashlib
    import io

    from compiler.run import engines, writers
    from compiler.run.scoring import RunOptions, load_model, run_model

    model_path = os.path.join(HERE, "leadbench", "leadbench.score")
    with tempfile.TemporaryDirectory(prefix="bench-timeline-") as folder:
        out = os.path.join(folder, f"out.{fmt}")
        started, wall = cpu(), time.perf_counter()
        if kind == "python_writer":
            model = load_model(model_path)
            rows = engines.timeline(engine, model.table, events, contacts, None,
                                    lambda r: None, period)
            with open(out, "w", encoding="utf-8", newline="") as stream:
                writers.write_timeline(rows, stream, fmt, score_names=model.score_names,
                                       grade_names=model.grade_names)
        else:
            options = RunOptions(events, contacts, out=out, fmt=fmt, engine=engine,
                                 timeline=period if kind == "score_timeline" else None)
            code = run_model(model_path, options, io.StringIO(), io.StringIO())
            if code not in (0, 1):
                return {"error": f"exit {code}"}
        seconds, wall = cpu() - started, time.perf_counter() - wall
        digest = hashlib.sha256()
        with open(out, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 22), b""):
                digest.update(block)
        return {"cpu": seconds, "wall": wall, "bytes": os.path.getsize(out),
                "digest": digest.hexdigest(),
                "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(engine: str, kind: str, folder: str, period: str, fmt: str = "jsonl") -> dict:
    from compiler.pipeline import compile as compile_model
    from compiler.run import engines

    ours = os.path.join(folder, "scorelang")
    events, contacts = os.path.join(ours, "events.jsonl"), os.path.join(ours, "contacts.jsonl")
    if kind in END_TO_END:
        return end_to_end(engine, kind, events, contacts, period, fmt)
    table = compile_model(os.path.join(HERE, "leadbench", "leadbench.score")).table
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


def measure(engine: str, kind: str, folder: str, period: str, timeout: float,
            fmt: str = "jsonl") -> dict:
    import bench_leadbench

    return bench_leadbench.in_child(
        __file__, ["--child", f"{engine}:{kind}", "--child-data", folder, "--period", period,
                   "--format", fmt], timeout, env={**os.environ, "PYTHONHASHSEED": "0"})


def end_to_end_table(results: dict, period: str, fmt: str) -> list[str]:
    lines = [f"| engine | score run CPU s | wall s | --timeline {period} CPU s | wall s | "
             "timeline / run (CPU) | (wall) | Python writer CPU s | wall s | "
             "Python writer / run (CPU) | (wall) | MB | same bytes |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for engine, runs in results.items():
        plain, line, python = runs["score_run"], runs["score_timeline"], runs["python_writer"]
        if any("error" in r or "unsupported" in r for r in plain + line + python):
            lines.append(f"| {engine} | failed or unsupported | | | | | | | | | | | |")
            continue
        cpu_of = {k: statistics.median(r["cpu"] for r in v) for k, v in
                  (("run", plain), ("tl", line), ("py", python))}
        wall_of = {k: statistics.median(r["wall"] for r in v) for k, v in
                   (("run", plain), ("tl", line), ("py", python))}
        same = len({r["digest"] for r in line + python}) == 1
        lines.append(
            f"| {engine} | {cpu_of['run']:.2f} | {wall_of['run']:.2f} | {cpu_of['tl']:.2f} | "
            f"{wall_of['tl']:.2f} | **{cpu_of['tl'] / cpu_of['run']:.2f}x** | "
            f"**{wall_of['tl'] / wall_of['run']:.2f}x** | {cpu_of['py']:.2f} | "
            f"{wall_of['py']:.2f} | {cpu_of['py'] / cpu_of['run']:.2f}x | "
            f"{wall_of['py'] / wall_of['run']:.2f}x | {line[0]['bytes'] / 1e6:,.0f} | "
            f"{'yes' if same else '**NO**'} |")
    return lines


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
    parser.add_argument("--format", default="jsonl", choices=("jsonl", "csv"),
                        help="the file score run writes in the end-to-end table")
    parser.add_argument("--tables", default="engines,end-to-end",
                        help="which tables to measure: engines, end-to-end")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-data", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        engine, kind = args.child.split(":")
        result = child(engine, kind, args.child_data, args.period, args.format)
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
    tables = args.tables.split(",")
    kinds = (("run", "timeline") if "engines" in tables else ()) + \
        (END_TO_END if "end-to-end" in tables else ())
    results = {e: {kind: [] for kind in kinds} for e in engines}
    for _ in range(args.rounds):  # interleaved: drift on a shared machine spreads over all
        for engine in engines:
            for kind in kinds:
                results[engine][kind].append(measure(engine, kind, folder, args.period,
                                                     args.timeout, args.format))
    if "engines" in tables:
        print("\n".join(table_of(results, args.period)))
    if "end-to-end" in tables:
        print(f"\n`score run` end to end, {args.format} written to a file:\n")
        print("\n".join(end_to_end_table(results, args.period, args.format)))
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
