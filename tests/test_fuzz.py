"""The whole toolchain against mutated models (issue 10, "Tests"): no exception escapes
`compile`, `check_paths`, `format_source`, the test runner or `score run` on the python and
duckdb engines; where fmt formats, the result is a fixed point and means the same model with
the same comments. Mutants come from a seeded mutator over the shipped models, goldens and
conformance models (tests/fuzz.py), so a failure names its seed and reproduces exactly.

The run is bounded: `FUZZ_MUTANTS` mutants (default 400) or `FUZZ_SECONDS` (default 45) of
wall time, whichever comes first; `score run` runs on every `RUN_EVERY`-th mutant that
compiles (the engines are the slow part)."""
from __future__ import annotations

import os
import random
import time
import traceback
from pathlib import Path

from click.testing import CliRunner

from compiler.cli import main
from compiler.pipeline import check_paths, compile as compile_model
from compiler.review.testing import run_files
from dsl.diagnostics import has_errors
from dsl.formatter import format_source
from dsl.parser import parse_text
from dsl.source import SourceFile
from fuzz import corpus, mutant

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = int(os.environ.get("FUZZ_MUTANTS", "400"))
SECONDS = float(os.environ.get("FUZZ_SECONDS", "45"))
RUN_EVERY = 8
SEED = 20261202


def _events(tmp_path: Path) -> Path:
    """A small history touching every shipped model's events, with a few broken lines."""
    lines = []
    for path in sorted((ROOT / "examples" / "data").glob("*/events.jsonl")):
        lines += path.read_text(encoding="utf-8").splitlines()[:60]
    lines += ['{"contact": "c", "event": "visit", "at": "9999-12-31T23:59:59Z"}',
              '{"contact": "c", "event": "visit", "at": "0001-01-01T00:00:00Z"}', "not json"]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _comments(text: str) -> list[str]:
    return [c.text for c in SourceFile.from_text(text).comments()]


def _check_one(path: Path, text: str, events: Path, run: bool) -> bool:
    """Every tool on one mutant; returns whether it compiled without errors."""
    source = SourceFile.from_text(text, str(path))
    result = compile_model(path)
    check_paths([str(path)])
    run_files([str(path)])
    formatted = format_source(source)
    if formatted.text is not None:
        again = format_source(SourceFile.from_text(formatted.text, str(path)))
        assert again.text == formatted.text, "fmt is not a fixed point"
        before, after = parse_text(text), parse_text(formatted.text)
        if not has_errors(before.diagnostics):
            assert not has_errors(after.diagnostics), "fmt output does not parse"
            assert after.model == before.model, "fmt changed the model"
        assert _comments(formatted.text) == _comments(text), "fmt lost or moved a comment"
    ok = result.table is not None and not has_errors(result.diagnostics)
    if ok and run:
        outputs = {}
        for engine in ("python", "duckdb"):
            invoked = CliRunner().invoke(main, ["run", str(path), "--events", str(events),
                                                "--engine", engine])
            assert isinstance(invoked.exception, (SystemExit, type(None))), (
                engine, "".join(traceback.format_exception(invoked.exception)))
            assert invoked.exit_code in (0, 1, 2), (engine, invoked.exit_code)
            outputs[engine] = (invoked.exit_code, invoked.stdout)
        if outputs["python"][0] == outputs["duckdb"][0] == 0:
            assert outputs["python"][1] == outputs["duckdb"][1], "the engines disagree"
    return ok


def test_no_exception_escapes_any_tool_on_mutated_models(tmp_path):
    models = corpus(ROOT)
    events = _events(tmp_path)
    deadline = time.monotonic() + SECONDS
    done = compiled = 0
    for index in range(MUTANTS):
        if time.monotonic() > deadline:
            break
        rng = random.Random(SEED + index)
        name, original = rng.choice(models)
        text = mutant(rng, original)
        path = tmp_path / f"m{index}.score"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            compiled += _check_one(path, text, events, run=compiled % RUN_EVERY == 0)
        except Exception as exc:
            raise AssertionError(
                f"mutant {index} (seed {SEED + index}) of {name}: {exc!r}\n{text[:2000]!r}"
            ) from exc
        path.unlink()
        done += 1
    assert done >= min(MUTANTS, 50), f"only {done} mutants in {SECONDS} s"
