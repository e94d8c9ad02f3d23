"""Every case of tests/conformance through `score run`, on every engine.

The scale engineers' engines run here too: an engine whose extra is not installed, or whose
module is not built yet, is skipped with the reason.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shlex
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.run import engines
from compiler.cli import main

CASES_DIR = Path(__file__).resolve().parent / "conformance"
CASES = sorted(p for p in CASES_DIR.iterdir() if (p / "expected.jsonl").exists()) \
    if CASES_DIR.is_dir() else []
ENGINES = ["python", "duckdb", "spark"]
EVENT_KEYS = {"contact", "event", "target", "at", "id", "props"}


def engine_skip_reason(name: str) -> str | None:
    missing = engines.missing_dependency(name)
    if missing is not None:
        extra = engines.ENGINES[name][1]
        return f"the {name} engine needs `{missing}` (the `{extra}` extra is not installed)"
    if importlib.util.find_spec(f"compiler.run.engines.{engines.ENGINES[name][0]}") is None:
        return f"compiler/run/engines/{name}.py is not written yet"
    if name == "spark" and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Spark needs a Java runtime (java on PATH or JAVA_HOME)"
    return None


def expected_rejected_lines(path: Path) -> list[int]:
    """An independent oracle for section 7: which lines must be rejects."""
    rejected = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not _valid_event(line):
            rejected.append(number)
    return rejected


def _valid_event(line: str) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    if not isinstance(record, dict) or not set(record) <= EVENT_KEYS:
        return False
    if not all(isinstance(record.get(key), str) and record[key] for key in ("contact", "event")):
        return False
    if any(record.get(key) is not None and not isinstance(record[key], str)
           for key in ("target", "id")):
        return False
    if record.get("props") is not None and not isinstance(record["props"], dict):
        return False
    at = record.get("at")
    if isinstance(at, int) and not isinstance(at, bool):
        return True
    if not isinstance(at, str) or "T" not in at:
        return False
    try:
        return datetime.fromisoformat(at.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_conformance_case(case: Path, engine: str, monkeypatch, tmp_path):
    reason = engine_skip_reason(engine)
    if reason:
        pytest.skip(reason)
    monkeypatch.chdir(case)
    args = ["run", "model.score", "--events", "events.jsonl", "--engine", engine,
            "--rejects", str(tmp_path / "rejects.jsonl")]
    if (case / "contacts.jsonl").exists():
        args += ["--contacts", "contacts.jsonl"]
    args += accounts_to(tmp_path, shlex.split((case / "args").read_text(encoding="utf-8")))
    result = CliRunner().invoke(main, args, catch_exceptions=False)

    assert result.exit_code == 0, result.stderr
    expected = [json.loads(line) for line in
                (case / "expected.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    actual = [json.loads(line) for line in result.stdout.splitlines()]
    assert actual == expected
    # Key order too: the section-7 layout is contact, scores, grades, stage, actions.
    assert all(list(row) == ["contact", "scores", "grades", "stage", "actions"] for row in actual)

    rejected = expected_rejected_lines(case / "events.jsonl")
    cited = [int(line.split(":")[1]) for line in result.stderr.splitlines()
             if line.startswith("events.jsonl:")]
    assert cited == rejected
    written = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert [row["line"] for row in written] == rejected
    raw_lines = (case / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert [row["raw"] for row in written] == [raw_lines[n - 1] for n in rejected]
    check_accounts(case, tmp_path)


def accounts_to(folder: Path, args: list[str]) -> list[str]:
    """`--accounts FILE` of a case's args pointed into `folder`, not into the case folder
    (tests/conformance/README.md allows it)."""
    args = list(args)
    if "--accounts" in args:
        index = args.index("--accounts") + 1
        args[index] = str(folder / Path(args[index]).name)
    return args


def check_accounts(case: Path, folder: Path) -> None:
    """With expected_accounts.jsonl, the accounts file equals it line by line, as JSON and
    in the key order of docs/language.md 10.6."""
    expected_path = case / "expected_accounts.jsonl"
    if not expected_path.exists():
        return
    args = shlex.split((case / "args").read_text(encoding="utf-8"))
    written = folder / Path(args[args.index("--accounts") + 1]).name
    expected = [json.loads(line) for line in
                expected_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    actual = [json.loads(line) for line in written.read_text(encoding="utf-8").splitlines()]
    assert actual == expected
    assert all(list(row) == ["account", "contacts", "scores", "grades"] for row in actual)


def test_there_are_conformance_cases():
    assert len(CASES) >= 10, f"expected the conformance cases in {CASES_DIR}"
