"""Time from a keystroke (`textDocument/didChange`) to the published diagnostics of `score lsp`.

The server runs as editors start it (`score lsp --stdio`, a subprocess) and is driven by pygls'
client: each round changes one character of the model (an edit that alternates between two
texts, so every round is a new version with work to do) and waits for the
`publishDiagnostics` of that version. Models: the largest shipped example and a generated
2,000-line model (every kind of statement, 1,700 rules, tests); optionally with the example's
sample data configured, which adds the W106 comparison to every check.

    python3 benchmarks/lsp_latency.py                # 50 rounds per model
    python3 benchmarks/lsp_latency.py --rounds 200 --with-sample
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from lsp_client import Client  # noqa: E402

TARGET_MS = 100


def large_model(lines: int = 2000) -> str:
    head = ['timezone "Europe/Berlin"', "score engagement 0..1000", "score fit 0..200",
            "require consent", ""]
    rules = []
    for index in range(lines - 130):
        event = ("visit", "download", "email_open", "register")[index % 4]
        limit = ("", " once", " at most 3 per day", " at most 5")[index % 4]
        rules.append(f"{event} page_{index} +{index % 20 + 1}{limit}")
    tail = ['if title in ("CEO", "CTO", "VP*") +20 fit', "if employees >= 200 +15 fit",
            "email_sent without email_open within 24 hours -5",
            "decay engagement 10% every 30 days",
            "grade tier by fit: A >= 30, B >= 15, C >= 0, else D",
            "stage MQL when engagement >= 50 and tier in (A, B)",
            "stage SQL when engagement >= 80", "when stage is SQL notify sales, reset engagement",
            ""]
    tests = []
    while len(head) + len(rules) + len(tail) + len(tests) < lines - 6:
        number = len(tests) // 6
        tests += [f'test "journey {number}":', '    contact title = "CEO", consent = true',
                  f"    at 2026-03-02 visit page_{number * 4}", "    expect fit = 20",
                  "    expect tier is B", ""]
    return "\n".join(head + rules + tail + tests) + "\n"


def measure(client: Client, path: Path, text: str, rounds: int) -> list[float]:
    document = client.open(path, text)
    client.diagnostics(document, 1)
    # one character of the first rule with points changes: `+5` <-> `+6`
    rule = re.compile(r"[^\s#].*?\+(\d)")
    line, match = next((i, m) for i, l in enumerate(text.split("\n")) if (m := rule.match(l)))
    column = match.start(1)
    from lsprotocol import types

    edit = types.Range(types.Position(line, column), types.Position(line, column + 1))
    original = text.split("\n")[line][column]
    times = []
    for version in range(2, rounds + 2):
        digit = original if version % 2 else str((int(original) % 9) + 1)
        started = time.perf_counter()
        client.change(document, version, edit=(edit, digit))
        client.diagnostics(document, version)
        times.append((time.perf_counter() - started) * 1000)
    return times


def report(name: str, lines: int, times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    verdict = "under" if p90 < TARGET_MS else "OVER"
    return (f"{name:<34} {lines:>6,} lines  median {statistics.median(times):6.1f} ms  "
            f"p90 {p90:6.1f} ms  max {max(times):6.1f} ms  ({verdict} {TARGET_MS} ms at p90)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--with-sample", action="store_true",
                        help="configure the B2B sample data (W106 on every check)")
    options = parser.parse_args()
    examples = sorted((ROOT / "examples").glob("*.score"), key=lambda p: p.stat().st_size)
    largest = examples[-1]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        if options.with_sample:
            data = ROOT / "examples" / "data" / "b2b_saas"
            (root / "scorelang.toml").write_text(
                f'events = "{data / "events.jsonl"}"\ncontacts = "{data / "contacts.jsonl"}"\n',
                encoding="utf-8")
        client = Client(root)
        try:
            rows = []
            text = largest.read_text(encoding="utf-8")
            rows.append(report(f"{largest.relative_to(ROOT)}", text.count("\n"),
                               measure(client, root / largest.name, text, options.rounds)))
            text = large_model()
            rows.append(report("generated model", text.count("\n"),
                               measure(client, root / "large.score", text, options.rounds)))
        finally:
            client.close()
    sample = " (with the B2B sample data)" if options.with_sample else ""
    print(f"didChange -> publishDiagnostics, {options.rounds} rounds each{sample}:")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
