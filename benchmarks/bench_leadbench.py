"""The independent lead-scoring workload (issue 12): its hand-written references next to our
engines, CPU time, interleaved, every result checked.

    python benchmarks/bench_leadbench.py                          # 2M events, 100k contacts
    python benchmarks/bench_leadbench.py --events 200000 --rounds 1
    python benchmarks/bench_leadbench.py --growth 200000,2000000,20000000 --only duckdb-e2e

The workload is `benchmarks/leadbench/`, a verbatim copy of the independent workload (or
`--bench-dir`, or $LEADBENCH_DIR): `gen.py` writes its data, `ref_python.py` and `duckdb_sql.py` are the hand-
written references, `leadbench.score` the same rules in our language. Without that folder the
script says so and exits 0. The data is generated once per size (under `--data`), then turned
into our input format once (contact ids as text, `at` as epoch seconds, `props` as given):
events.jsonl, events.parquet, contacts.jsonl.

Rows, each measured in a fresh interpreter (CPU = user + system time of the process, DuckDB's
threads included; peak = its largest resident set):
- ref_python, ref_python_dict, duckdb_hand: the references, input in memory (not timed);
- engine_run: `Engine(table).run(events, profiles)` on `Event` objects already in memory
  (the compiled evaluator, runtime/compiled.py);
- engine_interpreted: the same with `Engine(table, compiled=False)` (the table interpreted);
- score_run: `score run` end to end, python engine, from events.jsonl;
- generated_query: our generated DuckDB query on tables already loaded in DuckDB;
- duckdb_e2e / duckdb_e2e_parquet: the duckdb engine end to end from events.jsonl /
  events.parquet (reading and validating included; `engines.run`, the engine alone);
- duckdb_score_run / duckdb_score_run_parquet: `score run --engine duckdb` itself, the same
  and what the command adds (the contacts' rejects, the results written).
Every row's scores must equal the workload's expected result (its `spec.py`) for every contact,
and its notifications (contact, time) too: our results carry the time of a notify, not the
triggering event's `seq` (issue 12 item 6). Rounds run the rows in turn (interleaved), so that
drift on a shared machine spreads over all of them; the table shows the median.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT]
ROWS = ("ref_python", "ref_python_dict", "duckdb_hand", "engine_run", "engine_interpreted",
        "score_run",
        "generated_query", "duckdb_e2e", "duckdb_e2e_parquet", "duckdb_score_run",
        "duckdb_score_run_parquet")


def default_bench_dir() -> str:
    return os.environ.get("LEADBENCH_DIR") or os.path.join(HERE, "leadbench")


# --- data ---------------------------------------------------------------------------------

def ensure_data(bench: str, folder: str, events: int, contacts: int) -> str:
    if not os.path.exists(os.path.join(folder, "manifest.json")):
        os.makedirs(folder, exist_ok=True)
        print(f"# generating {events:,} events for {contacts:,} contacts in {folder} (gen.py)",
              flush=True)
        subprocess.run([sys.executable, os.path.join(bench, "gen.py"), "--events", str(events),
                        "--contacts", str(contacts), "--out", folder], check=True,
                       stdout=subprocess.DEVNULL)
    ours = os.path.join(folder, "scorelang")
    if not os.path.exists(os.path.join(ours, "done")):
        convert(folder, ours)
    return ours


def convert(folder: str, ours: str) -> None:
    """The workload's Parquet files in our input format (docs/running.md)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    os.makedirs(ours, exist_ok=True)
    events = pq.read_table(os.path.join(folder, "events.parquet"))
    table = pa.table({"contact": pc.cast(events["contact"], pa.string()),
                      "event": events["event"], "target": events["target"],
                      "at": events["at"], "props": events["props"]})
    pq.write_table(table, os.path.join(ours, "events.parquet"))
    dumps = json.dumps
    with open(os.path.join(ours, "events.jsonl"), "w", encoding="utf-8") as out:
        for batch in table.to_batches(max_chunksize=100_000):
            columns = [batch.column(i).to_pylist() for i in range(5)]
            out.writelines(
                f'{{"contact":"{c}","event":{dumps(e)},"target":{dumps(t)},"at":{a},'
                f'"props":{p}}}\n' for c, e, t, a, p in zip(*columns))
    contacts = pq.read_table(os.path.join(folder, "contacts.parquet")).to_pylist()
    with open(os.path.join(ours, "contacts.jsonl"), "w", encoding="utf-8") as out:
        for row in contacts:
            record = {"contact": str(row.pop("id"))}
            record.update({key: value for key, value in row.items() if value is not None})
            out.write(dumps(record) + "\n")
    open(os.path.join(ours, "done"), "w").close()


# --- one row (in a child process) -----------------------------------------------------------

def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(row: str, bench: str, folder: str) -> dict:
    os.environ["LEADBENCH_DATA"] = folder
    sys.path.insert(0, bench)
    import common

    ours = os.path.join(folder, "scorelang")
    limit = common.manifest()["n_contacts"]
    if row in ("ref_python", "ref_python_dict", "duckdb_hand"):
        import duckdb_sql
        import ref_python

        kind = "arrow" if row == "duckdb_hand" else "dicts"
        inp = common.load_input(kind, limit)
        if row == "duckdb_hand":
            ctx, run = duckdb_sql.setup(inp), duckdb_sql.run
        else:
            ctx = ref_python.setup(inp)
            run = ref_python.run if row == "ref_python" else ref_python.run_dict
        started = cpu()
        result = run(ctx)
        seconds = cpu() - started
        scores, notifies = common.normalize(result)
        output = (scores, sorted({(c, a) for c, _, a, _ in notifies}))
    else:
        seconds, output = _ours(row, bench, ours)
    expected_scores, expected_notifies = common.expected(limit)
    expected = (expected_scores, sorted({(c, a) for c, _, a, _ in expected_notifies}))
    return {"cpu": seconds, "ok": output == expected, "events": common.manifest()["n_events"],
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _ours(row: str, bench: str, ours: str):
    import gc

    from compiler.pipeline import compile as compile_model
    from compiler.run import engines, readers, scoring
    from runtime import Engine

    model = os.path.join(bench, "leadbench.score")
    table = compile_model(model).table
    events_jsonl = os.path.join(ours, "events.jsonl")
    contacts = os.path.join(ours, "contacts.jsonl")
    if row in ("engine_run", "engine_interpreted"):
        from runtime import io as rio

        with rio.paused_collector():
            profiles = readers.read_contacts(contacts)[0]
            events = [e for e in readers.read_events(events_jsonl) if not hasattr(e, "reason")]
        gc.freeze()
        started = cpu()
        results = Engine(table, compiled=row == "engine_run").run(events, profiles)
        return cpu() - started, _summary(results)
    if row in ("score_run", "duckdb_score_run", "duckdb_score_run_parquet"):
        out = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
        events_path = os.path.join(ours, "events.parquet") if row.endswith("parquet") else \
            events_jsonl
        options = scoring.RunOptions(events_path, contacts, out=out,
                                     engine="python" if row == "score_run" else "duckdb")
        started = cpu()
        code = scoring.run_model(model, options, sys.stdout, sys.stderr)
        seconds = cpu() - started
        assert code == 0
        with open(out, encoding="utf-8") as stream:
            results = [json.loads(line) for line in stream]
        os.unlink(out)
        return seconds, _summary(results)
    if row == "generated_query":
        from compiler.run.engines import duckdb as engine
        from compiler.run.engines import duckdb_input
        from compiler.sql import generate

        con = engine.connect(tempfile.mkdtemp(prefix="scorelang-bench-"))
        duckdb_input.load_events(con, os.path.join(ours, "events.parquet"), lambda r: None)
        con.execute(f"CREATE TEMP TABLE ev AS SELECT * FROM {duckdb_input.TABLE}")
        con.register("contacts", engine._contacts_arrow(readers.read_contacts(contacts)[0]))
        sql = generate(table, "duckdb", "ev", "contacts", seq_column="line")
        started = cpu()
        rows = con.execute(sql).fetchall()
        seconds = cpu() - started
        return seconds, _summary([engine._result(table, r) for r in rows])
    events_path = os.path.join(ours, "events.parquet" if row.endswith("parquet") else
                               "events.jsonl")
    rejects: list = []
    started = cpu()
    results = engines.run("duckdb", table, events_path, contacts, None, rejects.append)
    seconds = cpu() - started
    assert not rejects
    return seconds, _summary(results)


def _summary(results: list[dict]):
    from runtime.events import parse_time

    scores, notifies = {}, set()
    for result in results:
        contact = int(result["contact"])
        scores[contact] = result["scores"]["lead"]
        for action in result["actions"]:
            at = action["at"]
            at = parse_time(at) // 1_000_000 if isinstance(at, str) else at // 1_000_000
            notifies.add((contact, at))
    return scores, sorted(notifies)


# --- the parent: rounds, table, growth ------------------------------------------------------

def in_child(script: str, args: list[str], timeout: float, env: dict | None = None) -> dict:
    """What `script --child ... --child-out FILE` wrote to FILE, run in a fresh interpreter
    (so its CPU time and peak memory are its own), or {"error": ...} when it failed. The
    benchmark scripts beside this one measure through it too."""
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    try:
        subprocess.run([sys.executable, script, *args, "--child-out", out], check=True,
                       timeout=timeout, env=env)
        with open(out, encoding="utf-8") as stream:
            return json.load(stream)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        return {"error": type(exc).__name__}
    finally:
        os.unlink(out)


def measure(row: str, bench: str, folder: str, timeout: float) -> dict:
    started = time.perf_counter()
    result = in_child(__file__, ["--child", row, "--bench-dir", bench, "--child-data", folder],
                      timeout)
    result["wall"] = time.perf_counter() - started
    return result


def table_of(results: dict[str, list[dict]], events: int) -> list[str]:
    cpus = {row: statistics.median(r["cpu"] for r in runs) for row, runs in results.items()
            if runs and all("cpu" in r for r in runs)}
    lines = ["| row | CPU s (median) | events/CPU s | × ref_python | peak MiB | results |",
             "|---|---:|---:|---:|---:|---|"]
    base = cpus.get("ref_python")
    for row, runs in results.items():
        if row not in cpus:
            lines.append(f"| {row} | failed: {runs[0].get('error') if runs else '?'} | | | | |")
            continue
        ok = "equal to spec.py" if all(r["ok"] for r in runs) else "**DIFFERENT**"
        ratio = f"{cpus[row] / base:.1f}" if base else ""
        lines.append(f"| {row} | {cpus[row]:.2f} | {events / cpus[row]:,.0f} | {ratio} | "
                     f"{max(r['peak_mib'] for r in runs):,.0f} | {ok} |")
    pairs = [("engine_run", "ref_python"), ("engine_run", "ref_python_dict"),
             ("engine_interpreted", "engine_run"),
             ("score_run", "engine_run"), ("generated_query", "duckdb_hand"),
             ("duckdb_e2e", "generated_query"), ("duckdb_e2e_parquet", "generated_query"),
             ("duckdb_score_run", "generated_query"),
             ("duckdb_score_run_parquet", "generated_query")]
    notes = [f"{a} / {b}: {cpus[a] / cpus[b]:.2f}x" for a, b in pairs if a in cpus and b in cpus]
    return lines + ([""] + notes if notes else [])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dir", default=default_bench_dir())
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--contacts", type=int, help="default: events / 20")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="comma-separated rows")
    parser.add_argument("--growth", default="", help="event counts for the growth table, "
                        "e.g. 200000,2000000,20000000 (rows --growth-rows)")
    parser.add_argument("--growth-rows", default="ref_python,generated_query,duckdb_e2e,"
                        "duckdb_e2e_parquet,score_run")
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(),
                                                       "scorelang-leadbench"))
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-data", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(args.child, args.bench_dir, args.child_data)
        with open(args.child_out, "w", encoding="utf-8") as stream:
            json.dump(result, stream)
        return 0
    if not os.path.exists(os.path.join(args.bench_dir, "gen.py")):
        print(f"skipped: the independent workload is not here ({args.bench_dir} has no gen.py; "
              "pass --bench-dir or set LEADBENCH_DIR)")
        return 0
    rows = [r for r in (args.only.split(",") if args.only else ROWS) if r]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        parser.error(f"unknown row {unknown[0]} (choose from {', '.join(ROWS)})")
    load = os.getloadavg()[0]
    print(f"# Lead-scoring workload: {args.events:,} events, {args.rounds} rounds, "
          f"{os.cpu_count()} cores, load average {load:.1f} at the start\n")
    folder = _folder(args, args.events)
    results: dict[str, list[dict]] = {row: [] for row in rows}
    for _ in range(args.rounds):
        for row in rows:
            results[row].append(measure(row, args.bench_dir, folder, args.timeout))
    print("\n".join(table_of(results, args.events)))
    for size in [int(s) for s in args.growth.split(",") if s]:
        growth_rows = [r for r in args.growth_rows.split(",") if r]
        folder = _folder(args, size)
        print(f"\n## {size:,} events\n")
        print("\n".join(table_of({row: [measure(row, args.bench_dir, folder, args.timeout)]
                                  for row in growth_rows}, size)))
    return 0


def _folder(args, events: int) -> str:
    contacts = args.contacts if args.contacts and events == args.events else max(events // 20, 1)
    folder = os.path.join(args.data, f"{events}-{contacts}")
    ensure_data(args.bench_dir, folder, events, contacts)
    return folder


if __name__ == "__main__":
    sys.exit(main())
