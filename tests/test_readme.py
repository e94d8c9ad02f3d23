"""The README's quick start is what CI runs, and its prerequisites are stated."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> dict[str, str]:
    """`# N. ...` comment lines of the quick start, each with the command line after it."""
    return dict(re.findall(r"^# (\d)\. .*\n(.+)$", README, re.M))


def test_ci_runs_exactly_the_readme_test_command():
    command = quick_start_commands()["2"]
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert command in lines, f".ci/run must run `{command}`"
    assert "pytest" in command


def test_the_first_command_installs_and_scores_an_example():
    command = quick_start_commands()["1"]
    assert command.startswith("python3 -m pip install -e . && score run examples/")
    for path in re.findall(r"(examples/\S+)", command):
        assert (ROOT / path).exists(), path


def test_the_prerequisites_are_stated():
    start = README.index("## Quick start")
    section = README[start:README.index("\n## ", start + 1)]
    for needed in ("Python 3.10", "virtual environment", "externally-managed-environment",
                   "Java 17", "python3 -m venv"):
        assert needed in section, needed
