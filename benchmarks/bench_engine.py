"""Engine benchmark: events per second and peak memory of the runtime on the B2B model.

    python benchmarks/bench_engine.py                       # 2,000,000 events, 100,000 contacts
    python benchmarks/bench_engine.py --events 100000 --contacts 5000   # a quick check

Generates the data once with `benchmarks/generate.py` (kept under `--data`), then measures,
each in a fresh subprocess so that peak memory is that mode's own:

- `batch`: `Engine(table).run(events, contacts)` (the compiled evaluator, runtime/compiled.py);
- `interpreted`: the same with `Engine(table, compiled=False)` (the table interpreted);
- `streaming`: `Engine.process(event)` for every event in processing order, then `advance(T)`,
  then `state(contact)` for every contact; also the JSON snapshot's size per contact;
- `loop`: `b2b_loop.score_b2b`, a plain hand-written Python loop for this one model (the
  practical limit for pure Python).

Reading the input is not timed (every mode reads the same `Event` objects the same way), and
the input is then frozen (`gc.freeze()`) so that the cyclic garbage collector does not rescan two
million input objects while a mode runs (`--no-freeze` to see that cost); the
RSS after reading is printed next to the peak so that what a mode itself needs shows. Wall and
CPU time are both printed: on a shared machine CPU time is the steadier of the two. All three
must give the same scores, grades, stages and actions: the script compares their digests and
exits 1 when they differ.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODES = ("batch", "interpreted", "streaming", "loop")


def _rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as stream:
            return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except OSError:
        return _rss_mb()


def _table(model_path: str) -> dict:
    from compiler import pipeline
    compiled = pipeline.compile(model_path)
    errors = [d for d in compiled.diagnostics if d.is_error]
    if errors:
        raise SystemExit(f"{model_path} does not compile: {errors}")
    if compiled.table is not None:
        return compiled.table
    from compiler.lower import lower  # a pipeline that does not lower yet
    source = next(iter(compiled.sources.values()), None)
    return lower(compiled.model, getattr(source, "hash", ""))


def _read(data: str):
    from runtime.events import Event
    from runtime.io import read_contacts, read_events
    events = [e for e in read_events(os.path.join(data, "events.jsonl")) if isinstance(e, Event)]
    events.sort(key=lambda event: (event.at, event.seq))  # processing order
    profiles, _ = read_contacts(os.path.join(data, "contacts.jsonl"))
    return events, profiles


def _digest(summary: list) -> str:
    return hashlib.sha256(json.dumps(summary, separators=(",", ":")).encode()).hexdigest()


def worker(mode: str, data: str, model: str, freeze: bool = True) -> dict:
    sys.path[:0] = [ROOT, HERE]
    from b2b_loop import score_b2b, summary_of_engine, summary_of_loop
    table = _table(model) if mode != "loop" else None
    events, profiles = _read(data)
    if freeze:
        gc.collect()
        gc.freeze()  # the input is not the engine's: keep the collector off its 2M objects
    loaded_mb = _current_rss_mb()
    as_of = max(event.at for event in events)
    extra = {}
    if mode == "loop":
        started, cpu = time.perf_counter(), time.process_time()
        results = score_b2b(events, profiles, as_of)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        summary = summary_of_loop(results)
    else:
        from runtime import Engine
        if mode in ("batch", "interpreted"):
            started, cpu = time.perf_counter(), time.process_time()
            results = Engine(table, compiled=mode == "batch").run(events, profiles, as_of=as_of)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        else:
            started, cpu = time.perf_counter(), time.process_time()
            engine = Engine(table, profiles)
            for event in events:
                engine.process(event)
            engine.advance(as_of)
            contacts = sorted({event.contact for event in events} | set(profiles))
            results = [engine.state(contact) for contact in contacts]
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            snapshot = json.dumps(engine.snapshot(), separators=(",", ":"))
            extra = {"state_bytes": len(snapshot), "contacts": len(contacts)}
        summary = summary_of_engine(results)
    return {"mode": mode, "events": len(events), "seconds": seconds, "cpu_seconds": cpu,
            "events_per_s": len(events) / seconds if seconds else float("inf"),
            "events_per_cpu_s": len(events) / cpu if cpu else float("inf"),
            "rss_loaded_mb": loaded_mb, "rss_peak_mb": _rss_mb(), "results": len(summary),
            "digest": _digest(summary), **extra}


def _run_worker(mode: str, data: str, model: str, freeze: bool) -> dict:
    command = [sys.executable, os.path.abspath(__file__), "--worker", mode, "--data", data,
               "--model", model] + ([] if freeze else ["--no-freeze"])
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ensure_data(args) -> str:
    folder = os.path.join(args.data, f"{args.events}-{args.contacts}-{args.seed}")
    if not os.path.exists(os.path.join(folder, "contacts.jsonl")):
        sys.path.insert(0, HERE)
        from generate import generate
        generate(folder, args.events, args.contacts, args.seed)
    return folder


def _table_text(rows: list[dict]) -> str:
    lines = [f"{'mode':<10} {'events':>10} {'wall s':>8} {'events/s':>10} {'CPU s':>8} "
             f"{'events/CPU s':>12} {'RSS read MB':>12} {'peak MB':>9} {'run MB':>8}"]
    for row in rows:
        lines.append(f"{row['mode']:<10} {row['events']:>10,} {row['seconds']:>8.2f} "
                     f"{row['events_per_s']:>10,.0f} {row['cpu_seconds']:>8.2f} "
                     f"{row['events_per_cpu_s']:>12,.0f} {row['rss_loaded_mb']:>12,.0f} "
                     f"{row['rss_peak_mb']:>9,.0f} "
                     f"{row['rss_peak_mb'] - row['rss_loaded_mb']:>8,.0f}")
    return "\n".join(lines)


# issue 12: `Engine.run` at least 2x faster than the plain loop; streaming within 2x of it
TARGETS = {"batch": 0.5, "streaming": 2.0}


def _ratio_lines(rows: list[dict]) -> list[str]:
    """Each mode's CPU and wall time over the plain loop's, per pair (the k-th row of the
    mode with the k-th loop row, so that `--modes batch,loop,batch,loop` pairs rows run
    next to each other) and their median, against the mode's target."""
    loops = [row for row in rows if row["mode"] == "loop"]
    lines = []
    for mode, target in TARGETS.items():
        mine = [row for row in rows if row["mode"] == mode]
        pairs = list(zip(mine, loops))
        if not pairs:
            continue
        cpu = [row["cpu_seconds"] / loop["cpu_seconds"] for row, loop in pairs]
        wall = [row["seconds"] / loop["seconds"] for row, loop in pairs]
        verdict = "met" if statistics.median(cpu) <= target else "NOT met"
        lines.append(f"{mode}: {statistics.median(cpu):.2f}x the plain loop's CPU time, "
                     f"{statistics.median(wall):.2f}x its wall time (median of {len(pairs)} "
                     f"pair{'s' if len(pairs) > 1 else ''}: CPU "
                     f"{', '.join(f'{r:.2f}' for r in cpu)}; target <= {target}x: {verdict})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="engine benchmark on the B2B model")
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", default="/tmp/scorelang-bench")
    parser.add_argument("--model", default=os.path.join(HERE, "b2b.score"))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--no-freeze", dest="freeze", action="store_false",
                        help="let the garbage collector scan the input events too")
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.data, args.model, args.freeze)))
        return 0
    data = _ensure_data(args)
    rows = [_run_worker(mode, data, args.model, args.freeze) for mode in args.modes.split(",")]
    print(f"model {os.path.relpath(args.model, ROOT)}, data {data}, "
          f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"input {'frozen (gc.freeze)' if args.freeze else 'scanned by the collector'}")
    print(_table_text(rows))
    by_mode = {row["mode"]: row for row in rows}
    if "streaming" in by_mode:
        row = by_mode["streaming"]
        print(f"streaming state: {row['state_bytes']:,} bytes of JSON snapshot for "
              f"{row['contacts']:,} contacts = {row['state_bytes'] / row['contacts']:,.0f} "
              f"bytes per contact (target < 1024)")
    for line in _ratio_lines(rows):
        print(line)
    digests = {row["digest"] for row in rows}
    if len(digests) != 1:
        print("RESULTS DIFFER: " + ", ".join(f"{r['mode']}={r['digest'][:12]}" for r in rows))
        return 1
    print(f"all modes agree on {rows[0]['results']:,} contacts (digest {rows[0]['digest'][:12]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
