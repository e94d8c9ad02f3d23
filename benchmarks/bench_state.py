"""Streaming state per contact over a long stream: does it grow with the stream's length?

    python benchmarks/bench_state.py                        # 1,000,000 events over 2 years
    python benchmarks/bench_state.py --events 200000 --days 365 --contacts 5000

Feeds `Engine.process` the B2B workload of benchmarks/generate.py (the same mix, skewed
activity, re-delivered duplicates; every event has an id), spread over `--days` of event time,
and at 10%, 25%, 50% and 100% of the stream prints per contact with state: the JSON snapshot's
bytes, the Python objects' bytes (a deep `sys.getsizeof` over the states, shared objects once,
profiles left out: the engine holds them whether or not a contact has state),
the seen ids kept, and the decay heap entries. Two models: benchmarks/b2b.score, and the same
without its `decay` line (a model without decay state, whose state must stay flat).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT]


def events(count: int, contacts: int, days: int, seed: int):
    """The generator's rows as Events, in time order, each with an id."""
    import generate
    from runtime import Event

    generate.SPAN_SECONDS = days * 86400
    rng = random.Random(seed)
    start = int(generate.START.timestamp()) * 1_000_000
    for number, (at, contact, kind, target, props) in enumerate(
            generate._rows(rng, count, contacts)):
        yield Event(generate.contact_id(contact), kind, start + at * 1_000_000, target,
                    f"e-{number}", props or {}, number + 1, number)


def profiles(contacts: int, seed: int) -> dict:
    import generate

    rng = random.Random(seed + 1)
    found = {}
    for number in range(contacts):
        profile = generate._profile(rng, number)
        if profile is not None:
            found[profile.pop("contact")] = profile
    return found


def deep_size(root, leave_out=()) -> int:
    """Bytes of `root` and everything it reaches, each object once, except `leave_out`'s."""
    seen, stack, total = {id(item) for item in leave_out}, [root], 0
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif hasattr(item, "__slots__"):
            stack.extend(getattr(item, name) for name in item.__slots__ if hasattr(item, name))
    return total


def measure(model: str, args) -> list[str]:
    from compiler.pipeline import compile_text
    from runtime import Engine

    table = compile_text(model).require_table()
    engine = Engine(table, profiles(args.contacts, args.seed))
    marks = {int(args.events * share) for share in (0.1, 0.25, 0.5, 1.0)}
    rows = []
    started = time.process_time()
    for count, event in enumerate(events(args.events, args.contacts, args.days, args.seed), 1):
        engine.process(event)
        if count in marks:
            states = engine._states
            snapshot = json.dumps(engine.snapshot(), separators=(",", ":"))
            per_contact = len(json.dumps(engine.snapshot()["contacts"], separators=(",", ":")))
            ids = sum(len(s.seen or ()) for s in states.values())
            heap = sum(len(a[1]) for s in states.values() for a in s.awards if a is not None)
            n = len(states)
            rows.append(f"| {count:,} | {n:,} | {len(snapshot) / n:,.0f} | {per_contact / n:,.0f} "
                        f"| {deep_size(states, engine._profiles.values()) / n:,.0f} | {ids / n:.1f} | {heap / n:.1f} |")
            print(rows[-1], flush=True)
    rows.append(f"(CPU {time.process_time() - started:.0f} s)")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with open(os.path.join(HERE, "b2b.score"), encoding="utf-8") as stream:
        b2b = stream.read()
    flat = "".join(line for line in b2b.splitlines(keepends=True)
                   if not line.startswith("decay "))
    print(f"{args.events:,} events, {args.contacts:,} contacts, {args.days} days; load average "
          f"{' / '.join(f'{v:.1f}' for v in os.getloadavg())}")
    for name, model in (("b2b.score", b2b), ("b2b.score without decay", flat)):
        print(f"\n{name}\n\n| events | contacts with state | snapshot bytes / contact | "
              "of which contact states | Python bytes / contact | seen ids / contact | "
              "decay heap entries / contact |\n|---:|---:|---:|---:|---:|---:|---:|")
        for row in measure(model, args)[-1:]:
            print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
