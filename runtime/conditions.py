"""Compact conditions (docs/rule-table.md) compiled once into Python closures.

A compiled condition is called as `test(env)` with `env = (event_props, profile, live)`:
`live` maps score and grade names to their current values and `STAGE` to the stage label.
Nothing is re-parsed per call; glob patterns become compiled regular expressions once.
Truth rules (docs/language.md 4, 9.5, 9.6): a missing value (absent or `None`) makes a leaf false;
no coercion (`True` is not `1`, `"250"` is not `250`); ordering holds only between numbers.
"""
from __future__ import annotations

import re
from typing import Callable

from .errors import TableError

Env = tuple  # (event props or None, profile, live)
Test = Callable[[Env], bool]

STAGE = " stage"  # a key no identifier can collide with
_SLOTS = {"event": 0, "contact": 1, "score": 2, "group": 2, "grade": 2, "stage": 2}
_NUMBER = (int, float)


def compile_glob(pattern: str) -> re.Pattern:
    """`*` any run of characters (`/` included), `?` one character; case-sensitive and
    whole-string (used with `fullmatch`)."""
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def kind_of(value) -> str:
    """The scorelang type of a JSON value: number, text, bool, or `other`."""
    if type(value) is bool:
        return "bool"
    if type(value) in _NUMBER:
        return "number"
    if type(value) is str:
        return "text"
    return "other"


def compile_condition(form, at: str | None = None) -> Test:
    """Compile a compact condition; `at` (file:line) is cited if the form is malformed."""
    try:
        return _compile(form)
    except (TypeError, ValueError, IndexError, KeyError) as exc:
        raise TableError(f"malformed condition {form!r}: {exc}", at) from None


def _ref(ref) -> tuple[int, str]:
    kind = ref[0]
    if kind == "stage":
        return 2, STAGE
    if kind not in _SLOTS or len(ref) != 2 or not isinstance(ref[1], str):
        raise ValueError(f"unknown reference {ref!r}")
    return _SLOTS[kind], ref[1]


def _compile(form) -> Test:
    if form is True:
        return lambda env: True
    if form is False:
        return lambda env: False
    if not isinstance(form, list) or not form:
        raise ValueError("expected true, false or a list")
    head = form[0]
    if head == "and":
        return _all([_compile(part) for part in form[1:]])
    if head == "or":
        return _any([_compile(part) for part in form[1:]])
    if head == "not":
        inner = _compile(form[1])
        return lambda env: not inner(env)
    slot, key = _ref(form[1])
    if head == "=":
        return _equal(slot, key, form[2])
    if head in _ORDER:
        return _order(slot, key, head, form[2])
    if head == "in":
        return _member(slot, key, form[2])
    if head == "glob":
        return _glob(slot, key, form[2])
    raise ValueError(f"unknown operator {head!r}")


def _all(tests: list[Test]) -> Test:
    if len(tests) == 2:
        first, second = tests
        return lambda env: first(env) and second(env)

    def test(env):
        for part in tests:
            if not part(env):
                return False
        return True
    return test


def _any(tests: list[Test]) -> Test:
    if len(tests) == 2:
        first, second = tests
        return lambda env: first(env) or second(env)

    def test(env):
        for part in tests:
            if part(env):
                return True
        return False
    return test


def _equal(slot: int, key: str, value) -> Test:
    kind = kind_of(value)
    if kind == "number":
        def test(env):
            found = env[slot].get(key)
            return type(found) in _NUMBER and found == value
    elif kind in ("text", "bool"):
        wanted = type(value)

        def test(env):
            found = env[slot].get(key)
            return type(found) is wanted and found == value
    else:
        raise ValueError(f"cannot compare with {value!r}")
    return test


_ORDER = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _order(slot: int, key: str, op: str, value) -> Test:
    if kind_of(value) != "number":
        return lambda env: False  # ordering comparisons on text or booleans are false
    if op == ">=":  # the common case, spelled out to save a call
        def test(env):
            found = env[slot].get(key)
            return type(found) in _NUMBER and found >= value
        return test
    compare = _ORDER[op]

    def test(env):
        found = env[slot].get(key)
        return type(found) in _NUMBER and compare(found, value)
    return test


def _member(slot: int, key: str, values: list) -> Test:
    # Split by type first: in Python `True == 1`, and a set would confuse them.
    numbers = frozenset(v for v in values if kind_of(v) == "number")
    texts = frozenset(v for v in values if kind_of(v) == "text")
    bools = frozenset(v for v in values if kind_of(v) == "bool")
    if any(kind_of(v) == "other" for v in values):
        raise ValueError(f"`in` list holds a value of an unknown type: {values!r}")

    def test(env):
        found = env[slot].get(key)
        kind = type(found)
        if kind is str:
            return found in texts
        if kind is bool:
            return found in bools
        if kind in _NUMBER:
            return found in numbers
        return False
    return test


def _glob(slot: int, key: str, pattern: str) -> Test:
    matcher = compile_glob(pattern).fullmatch

    def test(env):
        found = env[slot].get(key)
        return type(found) is str and matcher(found) is not None
    return test


def references(form) -> list[tuple]:
    """Every REF in a compact condition (for validation and explanations)."""
    found, stack = [], [form]
    while stack:
        node = stack.pop()
        if not isinstance(node, list) or not node:
            continue
        if node[0] in ("and", "or", "not"):
            stack.extend(node[1:])
        else:
            found.append(tuple(node[1]))
    return found


def render(form, in_where: bool = False) -> str:
    """A compact condition back in (approximately) the language's words, for explanations.
    Profile attributes take `contact.` only inside `where` (docs/language.md 9.6)."""
    def name(ref) -> str:
        if ref[0] == "stage":
            return "stage"
        return f"contact.{ref[1]}" if ref[0] == "contact" and in_where else ref[1]

    def text(node) -> str:
        if node is True or node is False:
            return "true" if node else "false"
        head = node[0]
        if head in ("and", "or"):
            return f" {head} ".join(wrap(part) for part in node[1:])
        if head == "not":
            inner = node[1]
            if isinstance(inner, list) and inner[0] in ("=", "glob"):
                return f"{name(inner[1])} != {_literal(inner[2])}"
            if isinstance(inner, list) and inner[0] == "in":
                return f"{name(inner[1])} not in ({', '.join(map(_literal, inner[2]))})"
            return f"not {wrap(inner)}"
        if head == "in":
            return f"{name(node[1])} in ({', '.join(map(_literal, node[2]))})"
        if head == "glob":
            return f"{name(node[1])} = {_literal(node[2])}"
        return f"{name(node[1])} {head} {_literal(node[2])}"

    def wrap(node) -> str:
        inner = text(node)
        return f"({inner})" if isinstance(node, list) and node[0] in ("and", "or") else inner

    return text(form)


def _literal(value) -> str:
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)
