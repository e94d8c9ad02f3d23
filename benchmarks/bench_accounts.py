"""The cost of `score run --accounts` on top of a plain run, for the runtime and DuckDB.

    python benchmarks/bench_accounts.py                    # 2M events, 100k contacts, 10k accounts
    python benchmarks/bench_accounts.py --events 200000 --contacts 10000 --accounts 1000

The data is `benchmarks/generate.py`'s event log and profiles (generated once per size under
`--data`), each profile given a `company_domain` out of `--accounts` companies (seeded; the
sizes skewed as real companies are: a few with hundreds of contacts, many with a handful; 5%
of the profiles have none). The model is the B2B example (`examples/b2b_saas.score`), whose
account section rolls the contacts up (heat, engaged, best_fit, grade abm); without
`--accounts` its account statements change nothing, so the plain run and the run with
accounts score the same model.

Every measurement runs in a fresh interpreter, the rounds interleaved (plain, accounts,
plain, ...), and the table gives the least CPU time (user + system) of the rounds:
- `python`, `duckdb`: end to end through `compiler.run.engines` (`run` against
  `run_with_accounts`), reading the files included, writing excluded;
- `duckdb-query`: the queries alone on tables already loaded: the contact query against the
  contact query kept in a temporary table, read back, and the accounts statement over it.
Checks: the contact results with and without accounts are the same, and the accounts of the
python and duckdb engines are equal.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]
MODEL = os.path.join(ROOT, "examples", "b2b_saas.score")
KINDS = ("python", "duckdb", "duckdb-query")


def dataset(folder: str, events: int, contacts: int, accounts: int, seed: int) -> dict:
    """Paths of the events and of the profiles with company domains, made when missing."""
    import generate

    where = os.path.join(folder, f"{events}-{contacts}-{seed}")
    if not os.path.exists(os.path.join(where, "contacts.jsonl")):
        started = time.perf_counter()
        generate.generate(where, events, contacts, seed)
        print(f"(generated {events:,} events in {time.perf_counter() - started:.0f} s)",
              file=sys.stderr)
    with_domains = os.path.join(where, f"contacts-{accounts}-accounts.jsonl")
    if not os.path.exists(with_domains):
        rng = random.Random(f"accounts-{seed}-{accounts}")
        weights = [rng.paretovariate(1.2) for _ in range(accounts)]
        with open(os.path.join(where, "contacts.jsonl"), encoding="utf-8") as source, \
                open(with_domains, "w", encoding="utf-8") as out:
            profiles = [json.loads(line) for line in source]
            owners = rng.choices(range(accounts), weights=weights, k=len(profiles))
            for profile, owner in zip(profiles, owners):
                if rng.random() >= 0.05:
                    profile["company_domain"] = f"company-{owner:05d}.example"
                out.write(json.dumps(profile, separators=(",", ":")) + "\n")
    return {"events": os.path.join(where, "events.jsonl"), "contacts": with_domains}


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime


def child(kind: str, with_accounts: bool, events: str, contacts: str) -> dict:
    from compiler.pipeline import compile as compile_model
    from compiler.run import engines

    table = compile_model(MODEL).require_table()
    rejects: list = []
    if kind == "duckdb-query":
        return _query(table, events, contacts, with_accounts)
    started, wall = cpu(), time.perf_counter()
    if with_accounts:
        rows, accounts = engines.run_with_accounts(kind, table, events, contacts, None,
                                                   rejects.append)
    else:
        rows, accounts = engines.run(kind, table, events, contacts, None, rejects.append), []
    seconds, wall = cpu() - started, time.perf_counter() - wall
    return {"cpu": seconds, "wall": wall, "contacts": len(rows), "accounts": len(accounts),
            "results": _digest(rows), "accounts_digest": _digest(accounts)}


def _query(table: dict, events: str, contacts: str, with_accounts: bool) -> dict:
    from compiler.run.engines import duckdb as engine
    from compiler.run.engines import duckdb_contacts, duckdb_input
    from compiler.sql.accounts import accounts_sql
    from compiler.sql import generate as generate_sql

    with tempfile.TemporaryDirectory(prefix="scorelang-bench-") as spill:
        con = engine.connect(spill)
        duckdb_contacts.load_contacts(con, contacts)
        duckdb_input.load_events(con, events, lambda reject: None, None)
        sql = generate_sql(table, "duckdb", duckdb_input.TABLE, duckdb_contacts.TABLE,
                           seq_column="line")
        statement = accounts_sql(table, "duckdb", engine.RESULTS_TABLE, duckdb_contacts.TABLE)
        started, wall = cpu(), time.perf_counter()
        if with_accounts:
            rows, accounts = engine._with_accounts(table, con, sql, statement)
        else:
            rows, accounts = engine.results(table, con.execute(sql).fetchall()), []
        seconds, wall = cpu() - started, time.perf_counter() - wall
        con.close()
    return {"cpu": seconds, "wall": wall, "contacts": len(rows), "accounts": len(accounts),
            "results": _digest(rows), "accounts_digest": _digest(accounts)}


def _digest(rows: list[dict]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def measure(kind: str, with_accounts: bool, data: dict, timeout: float) -> dict:
    import bench_leadbench

    return bench_leadbench.in_child(
        __file__, ["--child", kind, "--child-accounts", str(int(with_accounts)),
                   "--child-events", data["events"], "--child-contacts", data["contacts"]],
        timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default=",".join(KINDS), help="comma-separated: " +
                        ", ".join(KINDS))
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(),
                                                       "scorelang-bench-accounts"))
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-accounts", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-events", help=argparse.SUPPRESS)
    parser.add_argument("--child-contacts", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        found = child(args.child, bool(args.child_accounts), args.child_events,
                      args.child_contacts)
        with open(args.child_out, "w", encoding="utf-8") as stream:
            json.dump(found, stream)
        return 0
    data = dataset(args.data, args.events, args.contacts, args.accounts, args.seed)
    load = os.getloadavg()[0]
    kinds = [k for k in args.only.split(",") if k]
    runs: dict[tuple[str, bool], list[dict]] = {}
    for _ in range(args.rounds):
        for kind in kinds:
            for with_accounts in (False, True):
                runs.setdefault((kind, with_accounts), []).append(
                    measure(kind, with_accounts, data, args.timeout))
    print(f"{args.events:,} events, {args.contacts:,} contacts, {args.accounts:,} companies; "
          f"{args.rounds} rounds; load average {load:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end")
    print("| engine | plain CPU s (wall s) | with --accounts CPU s (wall s) | cost of --accounts "
          "(CPU; wall) | accounts | same results |")
    print("|---|---:|---:|---:|---:|---|")
    digests = {}
    for kind in kinds:
        plain, accounts = runs[(kind, False)], runs[(kind, True)]
        if any("error" in r for r in plain + accounts):
            print(f"| {kind} | {[r.get('error') for r in plain + accounts]} |")
            continue
        best = [min(rounds, key=lambda r: r["cpu"]) for rounds in (plain, accounts)]
        walls = [min(r["wall"] for r in rounds) for rounds in (plain, accounts)]
        same = {r["results"] for r in plain + accounts}
        digests[kind] = {r["accounts_digest"] for r in accounts}
        print(f"| {kind} | {best[0]['cpu']:.2f} ({walls[0]:.2f}) | {best[1]['cpu']:.2f} "
              f"({walls[1]:.2f}) | {100 * (best[1]['cpu'] / best[0]['cpu'] - 1):+.1f}%; "
              f"{100 * (walls[1] / walls[0] - 1):+.1f}% | {best[1]['accounts']:,} | "
              f"{'yes' if len(same) == 1 else 'NO'} |")
    if len(digests) > 1:
        equal = len(set().union(*digests.values())) == 1
        print(f"accounts equal on every engine: {'yes' if equal else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
