"""`score run --actions` against a plain run, per engine, on the independent workload.

    python benchmarks/bench_actions.py                         # 2M events, 100k contacts
    python benchmarks/bench_actions.py --events 200000 --rounds 1 --only python
    python benchmarks/bench_actions.py --since 2026-03-30     # the nightly export's shape

The data is the workload of `bench_leadbench.py` (generated once per size by its `gen.py`,
under `--data`), read from events.jsonl and contacts.jsonl. Each row runs in a fresh
interpreter and is timed through `compiler.run.engines` (reading included, writing
excluded): `ENGINE_run` is `engines.run`, `ENGINE_actions` is `engines.run_with_actions`
(the results and one record per action). CPU is user + system time of the process (DuckDB's
threads included), the median over the rounds, which run the rows in turn. Checked: the
results of both rows are the same, and the action records are the workload's own
notifications (`spec.py`: contact, the event's position `seq`, its time, the score right
after it) — the workload's section 6 output, which a plain run cannot give.
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
ENGINES = ("python", "duckdb")


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def child(engine: str, kind: str, folder: str, since: int | None = None) -> dict:
    from compiler.pipeline import compile as compile_model
    from compiler.run import engines

    ours = os.path.join(folder, "scorelang")
    table = compile_model(os.path.join(HERE, "leadbench", "leadbench.score")).table
    events, contacts = os.path.join(ours, "events.jsonl"), os.path.join(ours, "contacts.jsonl")
    rejects: list = []
    started, wall = cpu(), time.perf_counter()
    if kind == "run":
        results = engines.run(engine, table, events, contacts, None, rejects.append)
        records = None
    else:
        results, _, records = engines.run_with_actions(engine, table, events, contacts, None,
                                                       rejects.append, since=since)
    seconds, wall = cpu() - started, time.perf_counter() - wall
    digest = hash(tuple((r["contact"], json.dumps(r["scores"]), json.dumps(r["actions"]))
                        for r in results))
    out = {"cpu": seconds, "wall": wall, "digest": digest, "rejects": len(rejects),
           "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if records is not None:
        out["actions"] = len(records)
        out["spec"] = _equal_to_spec(folder, records, since)
    return out


def _equal_to_spec(folder: str, records: list[dict], since: int | None) -> bool:
    """The records are spec.py's notifications (contact, seq, at seconds, score), those
    after `since` with --since."""
    import bench_leadbench

    os.environ["LEADBENCH_DATA"] = folder
    sys.path.insert(0, bench_leadbench.default_bench_dir())
    import common

    _, expected = common.expected(common.manifest()["n_contacts"])
    got = sorted((int(r["contact"]), r["event_line"] - 1, r["at"] // 1_000_000,
                  r["scores"]["lead"]) for r in records)
    return got == sorted(n for n in expected
                         if since is None or n[2] * 1_000_000 > since)


def measure(engine: str, kind: str, folder: str, timeout: float, since: str | None) -> dict:
    import bench_leadbench

    extra = ["--since", since] if since else []
    return bench_leadbench.in_child(
        __file__, ["--child", f"{engine}:{kind}", "--child-data", folder, *extra], timeout,
        env={**os.environ, "PYTHONHASHSEED": "0"})


def table_of(results: dict) -> list[str]:
    lines = ["| engine | run CPU s | --actions CPU s | extra | run wall s | --actions wall s | "
             "actions | results equal | actions = spec.py |",
             "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for engine, runs in results.items():
        plain, acts = runs["run"], runs["actions"]
        if any("error" in r for r in plain + acts):
            lines.append(f"| {engine} | failed | | | | | | | |")
            continue
        run_cpu, run_wall = (statistics.median(r[k] for r in plain) for k in ("cpu", "wall"))
        act_cpu, act_wall = (statistics.median(r[k] for r in acts) for k in ("cpu", "wall"))
        same = all(r["digest"] == plain[0]["digest"] for r in plain + acts)
        spec = all(r["spec"] for r in acts)
        lines.append(f"| {engine} | {run_cpu:.2f} | {act_cpu:.2f} | "
                     f"{(act_cpu / run_cpu - 1) * 100:+.0f}% | {run_wall:.2f} | "
                     f"{act_wall:.2f} | {acts[0]['actions']:,} | {'yes' if same else '**NO**'} "
                     f"| {'yes' if spec else '**NO**'} |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="comma-separated engines (python, duckdb)")
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(),
                                                       "scorelang-leadbench"))
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--since", help="--since TIME for the --actions rows (ISO-8601)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-data", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        engine, kind = args.child.split(":")
        from runtime import io as rio

        since = rio.parse_as_of(args.since) if args.since else None
        result = child(engine, kind, args.child_data, since)
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
    print(f"# --actions{' --since ' + args.since if args.since else ''} against a plain run: "
          f"{args.events:,} events, {args.rounds} rounds, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start\n")
    results = {e: {"run": [], "actions": []} for e in engines}
    for _ in range(args.rounds):  # interleaved: drift on a shared machine spreads over all
        for engine in engines:
            for kind in ("run", "actions"):
                results[engine][kind].append(measure(engine, kind, folder, args.timeout,
                                                     args.since))
    print("\n".join(table_of(results)))
    print(f"\n# load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
