"""`score check` and parse+format against model size (issue 10 items 11, 13), and the fuzz
corpus throughput (seeded mutants of the shipped models through `check_paths`).

    python benchmarks/bench_check_scale.py                      # 10 KB .. 1 MB, 200 mutants
    python benchmarks/bench_check_scale.py --sizes 10000,100000 --mutants 50

Times are CPU seconds of this process (`time.process_time`): the machine is shared, so wall
time says little. Each shape is generated to the size asked: `lines` (one rule per line),
`one-line` (rules joined by `;` on a single line, each with an unknown score: the worst case
for diagnostics), `condition` (one `or` condition of that size), `targets` (one target list).
Linear means the ms-per-KB columns stay flat as the size grows.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from compiler.pipeline import check_paths  # noqa: E402
from dsl import render  # noqa: E402
from dsl.formatter import format_source  # noqa: E402
from dsl.parser import parse  # noqa: E402
from dsl.source import SourceFile  # noqa: E402


def shape(name: str, size: int) -> str:
    if name == "lines":
        return "score s\n" + "".join(f"visit p{i} +1\n" for i in range(size // 14))
    if name == "one-line":
        return "score s\n" + "; ".join(["vist pricing +5 engagment"] * (size // 27)) + "\n"
    if name == "condition":
        return "score s\nif " + " or ".join(f"x{i} = {i}" for i in range(size // 14)) + " +1\n"
    if name == "targets":
        return "score s\nvisit (" + ", ".join(f"p{i}" for i in range(size // 7)) + ") +1\n"
    raise ValueError(name)


def measure(text: str, folder: Path) -> tuple[float, float, int, int]:
    """(check CPU s, parse+format CPU s, diagnostics, bytes of the text report)."""
    path = folder / "model.score"
    path.write_text(text, encoding="utf-8")
    start = time.process_time()
    report = check_paths([str(path)])
    output = render.render(report.diagnostics, report.sources, "text")
    check = time.process_time() - start
    source = SourceFile.from_text(text, "model.score")
    start = time.process_time()
    parse(source)
    format_source(source)
    return check, time.process_time() - start, len(report.diagnostics), len(output)


def fuzz_throughput(count: int, folder: Path) -> tuple[float, float]:
    """Models per CPU second through check_paths, and the corpus' mean size in bytes."""
    import fuzz

    rng = random.Random(1)
    models = fuzz.corpus(ROOT)
    texts = [fuzz.mutant(rng, rng.choice(models)[1]) for _ in range(count)]
    start = time.process_time()
    for i, text in enumerate(texts):
        path = folder / f"m{i}.score"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        check_paths([str(path)])
    return count / (time.process_time() - start), sum(map(len, texts)) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,300000,1000000")
    parser.add_argument("--shapes", default="lines,one-line,condition,targets")
    parser.add_argument("--mutants", type=int, default=200)
    args = parser.parse_args()
    check_paths([])  # the grammar is built once, before any timing
    parse(SourceFile.from_text("score s\n", "warm.score"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"{'shape':10} {'KB':>6} {'check s':>8} {'ms/KB':>7} {'parse+fmt s':>11} "
              f"{'ms/KB':>7} {'diags':>6} {'report B':>9}")
        for name in args.shapes.split(","):
            for size in map(int, args.sizes.split(",")):
                text = shape(name, size)
                kb = len(text.encode("utf-8")) / 1000
                check, fmt, diagnostics, report = measure(text, folder)
                print(f"{name:10} {kb:6.0f} {check:8.2f} {check / kb * 1e3:7.1f} "
                      f"{fmt:11.2f} {fmt / kb * 1e3:7.1f} {diagnostics:6} {report:9}",
                      flush=True)
        if args.mutants:
            rate, mean = fuzz_throughput(args.mutants, folder)
            print(f"fuzz corpus: {args.mutants} seeded mutants (mean {mean / 1000:.1f} KB): "
                  f"{rate:.1f} models per CPU second through check_paths")


if __name__ == "__main__":
    main()
