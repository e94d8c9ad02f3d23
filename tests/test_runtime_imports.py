"""`runtime` imports only the standard library and itself (docs/architecture.md): a rule
table must run where only Python is installed. Walks every import statement of every module."""
import ast
import sys
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parent.parent / "runtime"


def foreign_imports(source: str) -> list[str]:
    """Absolute imports of modules outside the standard library (relative ones stay inside
    the package, which the walk covers file by file)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        found += [name for name in names
                  if name.split(".")[0] not in sys.stdlib_module_names]
    return found


def test_the_walk_sees_every_kind_of_import():
    sample = ("import json\nimport lark\nfrom compiler import lower\n"
              "from . import engine\n"
              "def f():\n    import jinja2.ext\n    from dsl.ast import Model\n")
    assert foreign_imports(sample) == ["lark", "compiler", "jinja2.ext", "dsl.ast"]


@pytest.mark.parametrize("path", sorted(RUNTIME.rglob("*.py")), ids=lambda p: p.name)
def test_runtime_module_imports_only_the_standard_library(path):
    assert foreign_imports(path.read_text(encoding="utf-8")) == []


def test_the_walk_found_the_runtime():
    names = {path.name for path in RUNTIME.rglob("*.py")}
    assert {"engine.py", "table.py", "conditions.py", "__init__.py"} <= names
