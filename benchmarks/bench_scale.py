"""Scale and peers: events per second and peak memory of every way to score the same data.

    python benchmarks/bench_scale.py                  # 2,000,000 events, 100,000 contacts
    python benchmarks/bench_scale.py --quick          # 200,000 events, 10,000 contacts
    python benchmarks/bench_scale.py --only runtime-batch,duckdb-hand --events 500000

Every measurement runs in a fresh subprocess; its peak memory is the largest resident set of
that process and all its descendants (the Spark JVM and its Python workers included), sampled
every 50 ms from /proc. Each measurement reads the same generated files (benchmarks/generate.py)
and includes reading and validating them, except the DuckDB query rows, which time the query
on tables already loaded (the load is shown in the note).

Checks printed in the last column:
- `exact`: the section-7 results equal the Python runtime's, contact by contact.
- `same scores on N contacts`: engagement, fit and tier equal the runtime's on every contact
  where no `reset` fired (the scores-only hand-written query leaves out the lifecycle).
- `same totals`: per-contact, per-score sums of points equal the runtime's on the flat table
  (event rules only; what a stateless rule engine computes).
Then the DuckDB time at 200k, 2M and 20M events (the query alone), which must grow linearly.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT]

MODEL_CANDIDATES = ("examples/b2b_saas.score", "benchmarks/b2b.score")


# --- data: benchmarks/generate.py's event log, plus the same events as Parquet -----------------

def dataset(folder: str, events: int, contacts: int, seed: int) -> dict:
    """Paths of the data set under `folder`, generated (and converted to Parquet) when missing;
    `lines` is the number of event lines."""
    import generate

    where = os.path.join(folder, f"{events}-{contacts}-{seed}")
    paths = {"events": os.path.join(where, "events.jsonl"),
             "contacts": os.path.join(where, "contacts.jsonl"),
             "parquet": os.path.join(where, "events.parquet")}
    if not os.path.exists(paths["contacts"]):
        started = time.perf_counter()
        generate.generate(where, events, contacts, seed)
        print(f"(generated {events:,} events in {time.perf_counter() - started:.0f} s)",
              file=sys.stderr)
    if not os.path.exists(paths["parquet"]):
        to_parquet(paths["events"], paths["parquet"])
    paths["csv"] = os.path.join(where, "events.csv")
    if not os.path.exists(paths["csv"]):
        to_csv(paths["events"], paths["csv"])
    with open(paths["events"], "rb") as stream:
        chunks = iter(lambda: stream.read(1 << 24), b"")
        paths["lines"] = sum(chunk.count(b"\n") for chunk in chunks)
    return paths


def _duckdb_connection():
    import duckdb

    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    return connection


def to_parquet(jsonl: str, parquet: str) -> None:
    """The same events, in the same order, as Parquet: `at` a UTC timestamp (ISO text or epoch
    seconds in the JSON), `props` JSON text."""
    import duckdb

    connection = _duckdb_connection()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(f"""
        COPY (SELECT contact, event, target,
                     CASE WHEN json_type("at") = 'VARCHAR'
                          THEN CAST(json_extract_string("at", '$') AS TIMESTAMPTZ)
                          ELSE to_timestamp(CAST("at" AS BIGINT)) END AS "at",
                     id, CAST(props AS VARCHAR) AS props
              FROM read_json(?, format = 'newline_delimited',
                             columns = {{contact: 'VARCHAR', event: 'VARCHAR', target: 'VARCHAR',
                                        "at": 'JSON', id: 'VARCHAR', props: 'JSON'}}))
        TO '{parquet}.tmp' (FORMAT parquet, ROW_GROUP_SIZE 1000000)""", [jsonl])
    os.replace(parquet + ".tmp", parquet)


def to_csv(jsonl: str, target: str) -> None:
    """The same events, in the same order, as CSV: `at` as in the JSON, `props` JSON text."""
    import csv

    columns = ("contact", "event", "target", "at", "id", "props")
    with open(jsonl, encoding="utf-8") as source, \
            open(target + ".tmp", "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        for line in source:
            record = json.loads(line)
            if "props" in record:
                record["props"] = json.dumps(record["props"])
            writer.writerow(["" if record.get(c) is None else record[c] for c in columns])
    os.replace(target + ".tmp", target)


# name -> (what it computes, check kind)
MEASURES = {
    "runtime-batch": ("scorelang runtime, batch (`score run`)", "reference"),
    "runtime-streaming": ("scorelang runtime, streaming (process per event)", "exact"),
    "score-run-python": ("`score run --engine python`, time-ordered input, results to a file",
                         "digest"),
    "score-run-python-shuffled": ("`score run --engine python`, the same lines shuffled in "
                                  "blocks of 100,000 (the external sort on disk)", "digest"),
    "duckdb-generated": ("scorelang DuckDB engine (generated SQL), end to end", "exact"),
    "duckdb-generated-query": ("generated SQL, query on loaded tables", "exact"),
    "spark-local": ("scorelang Spark engine, local[2]", "exact"),
    "python-loop": ("hand-written Python loop (b2b_loop.py)", "exact"),
    "duckdb-hand": ("hand-written DuckDB SQL, complete result, query on loaded tables", "exact"),
    "duckdb-hand-scores": ("hand-written DuckDB SQL, final scores only (no lifecycle), query "
                           "on loaded tables", "scores"),
    "runtime-flat": ("scorelang runtime, event rules only (flat)", "flat-reference"),
    "reader-python-jsonl": ("Python reader: events.jsonl to Event objects", "reader"),
    "reader-python-csv": ("Python reader: the same events as CSV", "reader"),
    "reader-python-parquet": ("Python reader: the same events as Parquet (record batches)",
                              "reader"),
    "reader-duckdb-jsonl": ("DuckDB engine's reader: events.jsonl validated into a DuckDB "
                            "table", "reader"),
    "reader-duckdb-parquet": ("DuckDB engine's reader: events.parquet validated into a DuckDB "
                              "table", "reader"),
    "zen-engine": ("GoRules zen-engine decision table", "totals"),
    "rule-engine": ("rule-engine Rule.matches", "totals"),
    "business-rules": ("business-rules run_all", "totals"),
    "durable-rules": ("durable_rules ruleset, post", "totals"),
}


# --- child side: one measurement --------------------------------------------------------------

def _compile(model: str) -> dict:
    from compiler.pipeline import compile as compile_model

    result = compile_model(model)
    if result.table is None:
        raise SystemExit(f"{model} does not compile: {result.diagnostics}")
    return result.table


def _results_by_contact(results: list[dict]) -> dict:
    from runtime.io import result_json

    return {result["contact"]: result_json(result) for result in results}


def _flat_totals(results: list[dict]) -> dict:
    return {result["contact"]: {k: v for k, v in result["scores"].items() if v}
            for result in results}


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system, reaped children included) of `pid` and its descendants."""
    total = 0
    for member in _tree(pid):
        try:
            with open(f"/proc/{member}/stat", "rb") as stream:
                fields = stream.read().rsplit(b")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


class _Clock:
    """Wall time and CPU time of this process tree (the JVM and Spark's workers included)
    between its creation and `stop()`; CPU time is what other load on the machine spares."""

    cpu = 0.0

    def __init__(self):
        self.started, self.cpu_started = time.perf_counter(), _tree_cpu(os.getpid())

    def stop(self) -> float:
        _Clock.cpu = _tree_cpu(os.getpid()) - self.cpu_started
        return time.perf_counter() - self.started


def child(args) -> dict:
    """Run one measurement; returns seconds, events and the output for the checks."""
    import peers

    paths = json.loads(args.paths)
    hand = ("python-loop", "duckdb-hand", "duckdb-hand-scores")
    table = None if args.child in hand else _compile(args.model)
    sys.path.insert(0, HERE)
    note = ""
    name = args.child
    if name in ("runtime-batch", "runtime-flat", "duckdb-generated", "spark-local"):
        from compiler.run import engines

        rejects: list = []
        engine = {"runtime-batch": "python", "runtime-flat": "python",
                  "duckdb-generated": "duckdb", "spark-local": "spark"}[name]
        if name == "runtime-flat":
            table = peers.flat_table(table)
        if engine == "spark":
            from compiler.run.engines import spark

            started = time.perf_counter()
            spark.session("local[2]")
            note = f"session start {time.perf_counter() - started:.0f} s not counted"
        started = _Clock()
        results = engines.run(engine, table, paths["events"], paths["contacts"], None,
                              rejects.append)
        seconds = started.stop()
        output = _flat_totals(results) if name == "runtime-flat" else _results_by_contact(results)
        note = note or f"{len(rejects)} rejects"
    elif name.startswith("score-run-python"):
        seconds, output, note = _score_run(args.model, paths)
    elif name == "runtime-streaming":
        seconds, output, note = _streaming(table, paths)
    elif name in ("duckdb-hand", "duckdb-hand-scores", "duckdb-generated-query"):
        seconds, output, note = _duckdb_query(name, table, paths)
    elif name == "python-loop":
        seconds, output = _loop(paths)
    elif name.startswith("reader-"):
        seconds, output = _reader(name, paths)
    else:
        peer = {"zen-engine": peers.zen, "rule-engine": peers.rule_engine_peer,
                "business-rules": peers.business_rules_peer,
                "durable-rules": peers.durable_peer}[name]
        started = _Clock()
        output = peer(table, peers.accepted_events(paths["events"]))
        seconds = started.stop()
    return {"seconds": seconds, "cpu": _Clock.cpu, "output": output, "note": note}


def _score_run(model: str, paths: dict):
    """`score run --engine python` end to end, results to a file; the output is its sha256."""
    import hashlib

    from compiler.cli import main as cli

    out = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
    started = _Clock()
    try:
        cli(["run", model, "--events", paths["events"], "--contacts", paths["contacts"],
             "--engine", "python", "--out", out], standalone_mode=False)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    seconds = started.stop()
    digest = hashlib.sha256()
    with open(out, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    os.unlink(out)
    return seconds, {"sha256": digest.hexdigest()}, ""


def _loop(paths: dict):
    """b2b_loop.py on the events as the Python reader validates them, in processing order."""
    import b2b_loop
    from compiler.run import readers
    from runtime.events import Event

    started = _Clock()
    profiles = readers.read_contacts(paths["contacts"])[0]
    events = [item for item in readers.read_events(paths["events"]) if isinstance(item, Event)]
    events.sort(key=lambda event: (event.at, event.seq))
    summary = b2b_loop.summary_of_loop(b2b_loop.score_b2b(events, profiles))
    seconds = started.stop()
    output = {}
    for contact, engagement, fit, tier, stage, actions in summary:
        scored = engagement is not None
        output[contact] = {
            "contact": contact, "scores": {"engagement": engagement, "fit": fit},
            "grades": {"tier": tier} if scored else {}, "stage": stage,
            "actions": [{"at": at, "action": kind, "arg": arg} for at, kind, arg in actions or ()]}
    return seconds, output


def _reader(name: str, paths: dict):
    """Reading and validating the events alone: (seconds, {"events": n, "rejects": m})."""
    from compiler.run import readers
    from runtime import io as rio
    from runtime.events import Reject

    source = {"jsonl": paths["events"], "csv": paths["csv"], "parquet": paths["parquet"]}[
        name.rsplit("-", 1)[1]]
    counts = {"events": 0, "rejects": 0}
    if name.startswith("reader-duckdb"):
        from compiler.run.engines import duckdb as engine
        from compiler.run.engines import duckdb_input

        connection = engine.connect(tempfile.mkdtemp(prefix="scorelang-bench-"))
        started = _Clock()
        duckdb_input.load_events(connection, source, lambda reject: counts.__setitem__(
            "rejects", counts["rejects"] + 1))
        counts["events"] = connection.execute(
            f"SELECT count(*) FROM {duckdb_input.TABLE}").fetchone()[0]
        return started.stop(), counts
    started = _Clock()
    with rio.paused_collector():
        for item in readers.read_events(source):
            counts["rejects" if isinstance(item, Reject) else "events"] += 1
    return started.stop(), counts


def _streaming(table: dict, paths: dict):
    """The runtime fed one event at a time (`Engine.process`, processing order), then
    `advance(T)` and every contact's state."""
    from compiler.run import readers
    from runtime import Engine
    from runtime.events import Event
    from runtime.io import result_json

    started = _Clock()
    profiles = readers.read_contacts(paths["contacts"])[0]
    events = [item for item in readers.read_events(paths["events"]) if isinstance(item, Event)]
    events.sort(key=lambda event: (event.at, event.seq))
    engine = Engine(table, profiles)
    for event in events:
        engine.process(event)
    engine.advance(max(event.at for event in events))
    contacts = sorted({event.contact for event in events} | set(profiles))
    output = {contact: result_json(engine.state(contact)) for contact in contacts}
    seconds = started.stop()
    return seconds, output, ""


def _duckdb_query(name: str, table: dict, paths: dict):
    import duckdb_hand

    connection = _duckdb_connection()
    started = time.perf_counter()
    if name in ("duckdb-hand", "duckdb-hand-scores"):
        duckdb_hand.load(connection, paths["parquet"], paths["contacts"])
        sql = duckdb_hand.FULL_SQL if name == "duckdb-hand" else duckdb_hand.SCORES_SQL
        convert = duckdb_hand.full if name == "duckdb-hand" else duckdb_hand.scores
    else:
        from compiler.run.engines import duckdb as engine
        from compiler.sql import generate

        _load_generated_inputs(connection, paths)
        sql = generate(table, "duckdb", "events", "contacts")

        def convert(rows):
            return _results_by_contact([engine._result(table, row) for row in rows])
    loaded = time.perf_counter() - started
    # timed: the query and fetching its rows; turning them into Python dicts for the check
    # (parsing the JSON columns of 1M rows takes seconds) is not the query's cost
    started = _Clock()
    rows = connection.execute(sql).fetchall()
    seconds = started.stop()
    return seconds, convert(rows), f"load {loaded:.1f} s not counted"


def _load_generated_inputs(connection, paths: dict) -> None:
    """The tables the generated query reads (compiler/run/engines/duckdb.py): events with `at` in
    microseconds and the file's row number as `seq`; contacts with their profile as JSON."""
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(
        "CREATE TABLE events AS SELECT contact, event, target, epoch_us(\"at\") AS \"at\", id, "
        "props, file_row_number AS seq FROM read_parquet(?, file_row_number = true)",
        [paths["parquet"]])
    connection.execute(
        "CREATE TABLE contacts AS SELECT json_extract_string(json, '$.contact') AS contact, "
        "CAST(json AS VARCHAR) AS profile FROM read_json_objects(?, format = 'newline_delimited')",
        [paths["contacts"]])


# --- parent side: subprocesses, memory, checks, tables ----------------------------------------

def _tree(pid: int) -> set[int]:
    """`pid` and all its descendants (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stream:
                    fields = stream.read().rsplit(b")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {pid}, [pid]
    while frontier:
        current = frontier.pop()
        for child_pid, parent in parents.items():
            if parent == current and child_pid not in tree:
                tree.add(child_pid)
                frontier.append(child_pid)
    return tree


def _tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants."""
    total = 0
    for member in _tree(pid):
        try:
            with open(f"/proc/{member}/statm") as stream:
                total += int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(name: str, model: str, paths: dict, timeout: float) -> dict:
    """One measurement in a fresh interpreter; adds `peak_rss` (bytes) and `error`."""
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    command = [sys.executable, os.path.abspath(__file__), "--child", name, "--model", model,
               "--paths", json.dumps(paths), "--child-out", out]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, cwd=ROOT)
    peak, started = 0, time.monotonic()
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        if time.monotonic() - started > timeout:
            process.kill()
            process.wait()
            return {"error": f"over {timeout:.0f} s", "peak_rss": peak}
        time.sleep(0.05)
    stderr = process.stderr.read()
    if process.returncode != 0:
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        return {"error": lines[-1] if lines else f"exit {process.returncode}", "peak_rss": peak}
    with open(out, encoding="utf-8") as stream:
        result = json.load(stream)
    os.unlink(out)
    result["peak_rss"] = peak
    return result


def check(name: str, result: dict, reference: dict | None, flat: dict | None) -> str:
    kind = MEASURES[name][1]
    output = result.get("output")
    if output is None or kind in ("reference", "flat-reference"):
        return "reference" if output is not None else ""
    if kind == "digest":
        return "see the memory rows"
    if kind == "reader":
        return f"{output['events']:,} events, {output['rejects']:,} rejects"
    if kind == "exact":
        if reference is None:
            return "no reference"
        wrong = sorted(c for c in set(reference) | set(output) if reference.get(c) != output.get(c))
        return "exact" if not wrong else f"DIFFERS on {len(wrong)} contacts (first {wrong[0]})"
    if kind == "scores":
        if reference is None:
            return "no reference"
        compared, wrong = 0, []
        for contact, expected in reference.items():
            if any(action["action"] == "reset" for action in expected["actions"]):
                continue
            compared += 1
            got = output.get(contact, {})
            want = {"engagement": expected["scores"].get("engagement"),
                    "fit": expected["scores"].get("fit"),
                    "tier": expected["grades"].get("tier")}
            if got != want:
                wrong.append(contact)
        if wrong:
            return f"DIFFERS on {len(wrong)} of {compared} contacts (first {wrong[0]})"
        return f"same scores on {compared:,} contacts (no reset)"
    if flat is None:
        return "no reference"
    cleaned = {c: {k: v for k, v in s.items() if v} for c, s in output.items()}
    cleaned = {c: s for c, s in cleaned.items() if s}
    expected = {c: s for c, s in flat.items() if s}
    wrong = sorted(c for c in set(expected) | set(cleaned) if expected.get(c) != cleaned.get(c))
    return "same totals" if not wrong else f"DIFFERS on {len(wrong)} contacts (first {wrong[0]})"


def shuffled(paths: dict, seed: int, block: int = 100_000) -> str:
    """The events file with its lines shuffled within blocks (bounded memory): out of time
    order everywhere, so `score run` must sort it."""
    target = paths["events"].replace(".jsonl", "-shuffled.jsonl")
    if os.path.exists(target):
        return target
    import random

    rng = random.Random(seed)
    with open(paths["events"], "rb") as source, open(target + ".tmp", "wb") as out:
        while True:
            lines = [line for _, line in zip(range(block), source)]
            if not lines:
                break
            rng.shuffle(lines)
            out.writelines(lines)
    os.replace(target + ".tmp", target)
    return target


def memory_scaling(model: str, args, sizes: list[int]) -> list[str]:
    """Peak resident memory of `score run --engine python` against the number of events, on
    time-ordered input and on the same lines shuffled: memory must follow the contacts (one
    per 20 events here), not the events; both give the same bytes."""
    lines = ["| events | contacts | sorted: wall s (CPU s) | peak MiB | shuffled: wall s (CPU s) "
             "| peak MiB | peak growth (sorted; shuffled) | same output |",
             "|---:|---:|---:|---:|---:|---:|---:|---|"]
    print("\n".join(lines), flush=True)
    first = None
    for size in sizes:
        contacts = max(size // 20, 1)
        paths = events_only(args.data, size, contacts, args.seed)
        ordered = measure("score-run-python", model, paths, args.timeout)
        mixed = {"error": "not measured", "peak_rss": 0}
        if size <= args.shuffled_up_to:
            mixed = measure("score-run-python-shuffled", model,
                            {**paths, "events": shuffled(paths, args.seed)}, args.timeout)
        peaks = (ordered["peak_rss"] / 2**20, mixed["peak_rss"] / 2**20)
        first = first or peaks
        same = "-"
        if "output" in ordered and "output" in mixed:
            same = "yes" if ordered["output"] == mixed["output"] else "DIFFERENT"
        lines.append(f"| {paths['lines']:,} | {contacts:,} | {_secs(ordered)} | {peaks[0]:,.0f} "
                     f"| {_secs(mixed)} | {peaks[1]:,.0f} | {peaks[0] / first[0]:.1f}x; "
                     f"{peaks[1] / first[1] if first[1] else 0:.1f}x | {same} |")
        print(lines[-1], flush=True)
    print(f"\nload average at the end {load_average()}")
    return lines


def events_only(folder: str, events: int, contacts: int, seed: int) -> dict:
    """`dataset` without the Parquet and CSV copies (the memory rows read JSON Lines). Above
    2M events, copies of the 2M log with the contacts renamed (`c-` to `c1-`, `c2-`, ...):
    each contact's events stay in time order and contacts interleave in blocks, which is
    what the memory bound is about, and writing them takes seconds where generating 20M
    events takes the better part of an hour."""
    import generate

    where = os.path.join(folder, f"{events}-{contacts}-{seed}")
    paths = {"events": os.path.join(where, "events.jsonl"),
             "contacts": os.path.join(where, "contacts.jsonl")}
    base = 2_000_000
    if not os.path.exists(paths["contacts"]) and events > base and events % base == 0:
        source = events_only(folder, base, base // 20, seed)
        os.makedirs(where, exist_ok=True)
        for name in ("events", "contacts"):
            with open(paths[name] + ".tmp", "wb") as out:
                for copy in range(events // base):
                    with open(source[name], "rb") as stream:  # whole lines: no split name
                        for lines in iter(lambda: stream.readlines(1 << 24), []):
                            out.write(b"".join(lines).replace(
                                b'"contact":"c-', f'"contact":"c{copy}-'.encode()))
            os.replace(paths[name] + ".tmp", paths[name])
    if not os.path.exists(paths["contacts"]):
        generate.generate(where, events, contacts, seed)
    with open(paths["events"], "rb") as stream:
        paths["lines"] = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 24),
                                                                   b""))
    return paths


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as stream:
            cpu = next(line.split(":", 1)[1].strip() for line in stream
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def _row(name: str, result: dict, events: int, verdict: str) -> str:
    peak = f"{result['peak_rss'] / 2**20:,.0f}"
    if "error" in result:
        return f"| {name} | {MEASURES[name][0]} | failed: {result['error'][:80]} | | | | {peak} | |"
    rate = events / result["seconds"] if result["seconds"] else float("inf")
    cpu_rate = events / result["cpu"] if result["cpu"] else float("inf")
    note = f" ({result['note']})" if result.get("note") else ""
    return (f"| {name} | {MEASURES[name][0]}{note} | {result['seconds']:,.1f} | {rate:,.0f} | "
            f"{result['cpu']:,.1f} | {cpu_rate:,.0f} | {peak} | {verdict} |")


def load_average() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def scaling(model: str, args, sizes: list[int]) -> list[str]:
    """The generated and the hand-written DuckDB query at each size: time, their ratio, CPU per
    million events (flat when time is linear), and whether their results are the same."""
    lines = ["| events | contacts | generated wall s (CPU s) | hand-written wall s (CPU s) | "
             "generated / hand (CPU; wall) | CPU s per M events (generated; hand) | same results |",
             "|---:|---:|---:|---:|---:|---:|---|"]
    print("\n".join(lines), flush=True)
    for size in sizes:
        contacts = max(size // 20, 1)
        paths = dataset(args.data, size, contacts, args.seed)
        generated = measure("duckdb-generated-query", model, paths, args.timeout)
        hand = measure("duckdb-hand", model, paths, args.timeout)
        ratio = per_m = "-"
        if "cpu" in generated and "cpu" in hand:
            ratio = (f"{generated['cpu'] / hand['cpu']:.2f}; "
                     f"{generated['seconds'] / hand['seconds']:.2f}")
            per_m = "; ".join(f"{r['cpu'] / paths['lines'] * 1e6:.2f}" for r in (generated, hand))
        same = "-"
        if "output" in generated and "output" in hand:
            wrong = [c for c in set(generated["output"]) | set(hand["output"])
                     if generated["output"].get(c) != hand["output"].get(c)]
            same = f"all {len(hand['output']):,}" if not wrong else f"DIFFER on {len(wrong):,}"
        lines.append(f"| {paths['lines']:,} | {contacts:,} | {_secs(generated)} | {_secs(hand)} "
                     f"| {ratio} | {per_m} | {same} |")
        print(lines[-1], flush=True)
    print(f"\nload average at the end {load_average()}")
    return lines


def _secs(result: dict) -> str:
    if "seconds" not in result:
        return f"failed: {result.get('error', '')[:60]}"
    return f"{result['seconds']:.2f} ({result['cpu']:.2f})"


def _model(path: str | None) -> str:
    if path:
        return path
    for candidate in MODEL_CANDIDATES:
        full = os.path.join(ROOT, candidate)
        if os.path.exists(full) and "reset engagement" in open(full, encoding="utf-8").read():
            return full
    raise SystemExit("no B2B model found: pass --model")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true",
                        help="200,000 events, 10,000 contacts; scaling 20k/200k/2M")
    parser.add_argument("--only", help="comma-separated measurement names")
    parser.add_argument("--skip", default="", help="comma-separated measurement names")
    parser.add_argument("--scaling", default="200000,2000000,20000000",
                        help="event counts for the DuckDB scaling rows ('' to skip)")
    parser.add_argument("--memory", default="",
                        help="event counts for the `score run --engine python` peak memory "
                             "rows, sorted and shuffled input (e.g. 200000,2000000,20000000); "
                             "with it, only these rows are measured")
    parser.add_argument("--shuffled-up-to", type=int, default=2_000_000,
                        help="the largest --memory size also measured on shuffled input")
    parser.add_argument("--model", help="the .score model (default: the B2B model)")
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "scorelang-data"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per measurement")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--paths", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(args)
        with open(args.child_out, "w", encoding="utf-8") as stream:
            json.dump(result, stream)
        return 0
    if args.quick:
        args.events, args.contacts = 200_000, 10_000
        if args.scaling == parser.get_default("scaling"):
            args.scaling = "20000,200000,2000000"
    model = _model(args.model)
    if args.memory:
        print(f"# `score run --engine python`: peak memory against events\n\nMachine: "
              f"{machine()}; load average at start {load_average()}\n")
        memory_scaling(model, args, [int(size) for size in args.memory.split(",") if size])
        return 0
    names = [n for n in (args.only.split(",") if args.only else MEASURES) if n]
    names = [n for n in names if n not in args.skip.split(",")]
    unknown = [n for n in names if n not in MEASURES]
    if unknown:
        parser.error(f"unknown measurement {unknown[0]} (choose from {', '.join(MEASURES)})")
    paths = dataset(args.data, args.events, args.contacts, args.seed)
    print(f"# Scale and peers: {paths['lines']:,} event lines, {args.contacts:,} contacts, "
          f"model {os.path.relpath(model, ROOT)}\n\nMachine: {machine()}; load average at "
          f"start {load_average()}\n")
    header = ["| measurement | what | wall s | events/s | CPU s | events/CPU s | peak RSS (MiB) "
              "| agrees with the runtime |", "|---|---|---:|---:|---:|---:|---:|---|"]
    print("\n".join(header), flush=True)
    results, reference, flat = {}, None, None
    ordered = sorted(names, key=lambda n: MEASURES[n][1] not in ("reference", "flat-reference"))
    for name in ordered:
        results[name] = measure(name, model, paths, args.timeout)
        if MEASURES[name][1] == "reference":
            reference = results[name].get("output")
        if MEASURES[name][1] == "flat-reference":
            flat = results[name].get("output")
        print(_row(name, results[name], paths["lines"],
                   check(name, results[name], reference, flat)), flush=True)
    generated, hand = results.get("duckdb-generated-query", {}), results.get("duckdb-hand", {})
    if "cpu" in generated and "cpu" in hand:
        print(f"\ngenerated / hand-written DuckDB query: {generated['cpu'] / hand['cpu']:.2f}x "
              f"the CPU time, {generated['seconds'] / hand['seconds']:.2f}x the wall time "
              "(target <= 1.5x)")
    sizes = [int(size) for size in args.scaling.split(",") if size]
    if sizes:
        print("\n## DuckDB time against events\n")
        scaling(model, args, sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
