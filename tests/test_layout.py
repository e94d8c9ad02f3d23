"""The direction of imports (docs/architecture.md): `runtime` imports nothing of ours, `dsl`
imports neither `compiler` nor `runtime`, no modules import each other in a circle, and the
CLI imports only library entry points. Every import statement counts, those inside functions
too: a circle through a lazy import is still a circle."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("dsl", "compiler", "runtime")

# What the CLI may call: the entry points of docs/architecture.md.
CLI_MAY_IMPORT = {
    "compiler.pipeline", "compiler.loader",
    "compiler.run", "compiler.run.scoring", "compiler.run.engines", "compiler.run.writers",
    "compiler.run.readers",
    "compiler.review", "compiler.review.compare", "compiler.review.testing",
    "compiler.review.journeys", "compiler.review.gitrev", "compiler.review.reports",
    "compiler.review.coverage", "compiler.review.outcomes",
    "compiler.review.reports.views", "compiler.review.reports.junit",
    "compiler.sql.emit", "compiler.sql.dialects", "compiler.lsp",
    "dsl.diagnostics", "dsl.render", "dsl.formatter", "dsl.source",
    "runtime", "runtime.io", "runtime.events",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for package in OURS
            for path in sorted((ROOT / package).rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Our modules that `name` imports: `from a.b import c` counts as `a.b.c` when that is a
    module, else as `a.b`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        found |= {target for target in targets if target.split(".")[0] in OURS}
    found.discard(name)
    return found


GRAPH = {name: imports_of(name, path, set(modules())) for name, path in modules().items()}


def test_the_walk_resolves_relative_and_lazy_imports(tmp_path):
    known = {"compiler.run", "compiler.run.readers", "compiler.sql", "compiler.sql.query"}
    probe = tmp_path / "x.py"
    probe.write_text("import json\nfrom ... import sql\nfrom ...sql import query\n"
                     "def f():\n    from .. import readers\n", encoding="utf-8")
    # for compiler.run.engines.x: `..` is compiler.run, `...` is compiler
    assert imports_of("compiler.run.engines.x", probe, known) == {
        "compiler.sql", "compiler.sql.query", "compiler.run.readers"}


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if n.startswith("runtime")))
def test_runtime_imports_nothing_of_ours(name):
    assert {m for m in GRAPH[name] if not m.startswith("runtime")} == set()


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if n.startswith("dsl")))
def test_dsl_imports_neither_compiler_nor_runtime(name):
    assert {m for m in GRAPH[name] if not m.startswith("dsl")} == set()


def test_no_modules_import_each_other_in_a_circle():
    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for nxt in GRAPH.get(todo.pop(), ()):
                # a package's __init__ importing its own submodules is not a circle back
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    circles = sorted({tuple(sorted((a, b))) for a in GRAPH for b in GRAPH[a]
                      if b in GRAPH and a in reach(b) and not _package_of(a, b)})
    assert circles == []


def _package_of(a: str, b: str) -> bool:
    """`compiler.sql` (its __init__) and `compiler.sql.query`: a package and its own module
    are one unit for this test, as Python imports the package before the module."""
    return a.startswith(b + ".") or b.startswith(a + ".")


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if n.startswith("compiler.cli")))
def test_the_cli_imports_only_library_entry_points(name):
    foreign = {m for m in GRAPH[name] if not m.startswith("compiler.cli")}
    assert foreign - CLI_MAY_IMPORT == set()


def test_the_graph_covers_every_package():
    assert {"runtime.engine", "dsl.parser", "compiler.pipeline", "compiler.run.scoring",
            "compiler.review.diff", "compiler.sql.query", "compiler.cli.run"} <= set(GRAPH)
