"""`score run` end to end against `Engine.run` on input already in memory (issue 12: target
score run <= 1.5x Engine.run), and where the difference goes: reading alone, the engine fed
in file order (as `score run` streams it) and the contacts-and-writing rest.

    python benchmarks/bench_run_io.py                              # B2B, 2M events, 2 rounds
    python benchmarks/bench_run_io.py --events 200000 --rounds 3
    python benchmarks/bench_run_io.py --workload leadbench         # the independent workload

Rows, each in a fresh interpreter, CPU = user + system time of the measured part, the
median over the rounds (rows interleaved within a round):
- read: every line of events.jsonl through `compiler.run.readers.read_events` (what
  `score run` uses: orjson when installed), the events counted, not kept;
- read_stdlib: the same through `runtime.io.read_events` without orjson (what an embedder
  of the standard-library runtime gets);
- read_rows: every line through `compiler.run.readers.read_row_chunks`, the rows counted:
  what `score run` reads for a table the time-order loop takes (rows, not Events);
- engine_run: `Engine(table).run(events, profiles)` on a list of the events read before
  (untimed, collector frozen), the list evaluated contact by contact;
- engine_stream: the same events as a one-shot iterator in file order (each event finds
  its contact's state cold in the CPU's caches), which the engine reads with
  `Program.batch` (runtime/compiled.py);
- engine_rows: the rows `read_rows` reads, kept in a list (untimed), as
  `InFileOrder(rows=...)`: what `score run` feeds the engine for a table the time-order
  loop takes (runtime/compiled_timeorder.py, its row variant);
- score_run: `score run --engine python --out FILE` (compile, read contacts and events,
  score, write), through `compiler.run.scoring.run_model`.
The B2B data is benchmarks/generate.py's (seed 1, one contact per 20 events) and the model
examples/b2b_saas.score; the independent workload's data and model are bench_leadbench.py's.
Every row's results are checked: a sha256 of the results (contact, scores, grades, stage).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT]

ROWS = ("read", "read_stdlib", "read_rows", "engine_run", "engine_stream", "engine_rows",
        "score_run")


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def digest(results) -> str:
    found = hashlib.sha256()
    for result in results:
        found.update(json.dumps([result["contact"], result["scores"], result["grades"],
                                 result["stage"]], sort_keys=True).encode())
    return found.hexdigest()[:16]


def child(row: str, model: str, events: str, contacts: str) -> dict:
    import gc

    from compiler.pipeline import compile as compile_model
    from compiler.run import readers, scoring
    from runtime import Engine
    from runtime import io as rio

    out = {"row": row}
    if row in ("read", "read_stdlib"):
        read = readers.read_events if row == "read" else rio.read_events
        with rio.paused_collector():
            started = cpu()
            out["lines"] = sum(1 for _ in read(events))
            out["cpu"] = cpu() - started
        return out
    if row == "read_rows":
        with rio.paused_collector():
            started = cpu()
            out["lines"] = sum(len(rejects) + sum(1 for _ in rows)
                               for rows, rejects, _ in readers.read_row_chunks(events))
            out["cpu"] = cpu() - started
        return out
    if row == "score_run":
        target = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
        options = scoring.RunOptions(events, contacts, out=target, engine="python")
        with open(os.devnull, "w", encoding="utf-8") as quiet:
            started = cpu()
            code = scoring.run_model(model, options, quiet, quiet)
            out["cpu"] = cpu() - started
        assert code == 0, code
        with open(target, encoding="utf-8") as stream:
            out["digest"] = digest(json.loads(line) for line in stream)
        os.unlink(target)
        return out
    table = compile_model(model).require_table()
    if row == "engine_rows":
        from runtime.engine import InFileOrder

        with rio.paused_collector():
            profiles = readers.read_contacts(contacts)[0]
            rows = [r for chunk, _, _ in readers.read_row_chunks(events) for r in chunk]
        gc.freeze()
        started = cpu()
        results = Engine(table).run(InFileOrder(rows=iter(rows)), profiles)
        out["cpu"] = cpu() - started
        out["digest"] = digest(results)
        return out
    with rio.paused_collector():
        profiles = readers.read_contacts(contacts)[0]
        items = [item for item in readers.read_events(events) if not hasattr(item, "reason")]
    gc.freeze()
    started = cpu()
    results = Engine(table).run(items if row == "engine_run" else iter(items), profiles)
    out["cpu"] = cpu() - started
    out["digest"] = digest(results)
    return out


def data(args) -> tuple[str, str, str]:
    """(model, events.jsonl, contacts.jsonl) of the workload, generated when missing."""
    if args.workload == "leadbench":
        import bench_leadbench

        bench = bench_leadbench.default_bench_dir()
        folder = os.path.join(tempfile.gettempdir(), "scorelang-leadbench",
                              f"{args.events}-{args.events // 20}")
        ours = bench_leadbench.ensure_data(bench, folder, args.events, args.events // 20)
        return (os.path.join(bench, "leadbench.score"), os.path.join(ours, "events.jsonl"),
                os.path.join(ours, "contacts.jsonl"))
    import bench_scale

    paths = bench_scale.events_only(args.data, args.events, max(args.events // 20, 1), 1)
    return os.path.join(ROOT, "examples", "b2b_saas.score"), paths["events"], paths["contacts"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("b2b", "leadbench"), default="b2b")
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", help="comma-separated rows")
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "scorelang-data"))
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--paths", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(args.child, *json.loads(args.paths))
        with open(args.child_out, "w", encoding="utf-8") as stream:
            json.dump(result, stream)
        return 0
    from bench_leadbench import in_child

    rows = args.only.split(",") if args.only else list(ROWS)
    paths = data(args)
    print(f"# score run against Engine.run: {args.workload}, {args.events:,} events, "
          f"{args.rounds} rounds, load average {os.getloadavg()[0]:.1f} at the start\n")
    found: dict[str, list[dict]] = {row: [] for row in rows}
    for _ in range(args.rounds):
        for row in rows:
            found[row].append(in_child(__file__, ["--child", row, "--paths", json.dumps(paths)],
                                       args.timeout))
    cpus = {row: statistics.median(r.get("cpu", float("nan")) for r in runs)
            for row, runs in found.items()}
    digests = {r["digest"] for runs in found.values() for r in runs if "digest" in r}
    print("| row | CPU s (median) | µs an event line | × engine_run |")
    print("|---|---:|---:|---:|")
    lines = next((r["lines"] for runs in found.values() for r in runs if "lines" in r),
                 args.events)
    for row in rows:
        ratio = cpus[row] / cpus["engine_run"] if "engine_run" in cpus else float("nan")
        print(f"| {row} | {cpus[row]:.2f} | {cpus[row] / lines * 1e6:.2f} | {ratio:.2f}x |")
    print(f"\nresults: {'equal' if len(digests) == 1 else 'DIFFERENT: ' + str(digests)} "
          f"across the rows that score; load average at the end {os.getloadavg()[0]:.1f}")
    return 0 if len(digests) <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
