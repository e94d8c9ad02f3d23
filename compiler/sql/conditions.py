"""Rule-table conditions (docs/rule-table.md, "Conditions") as SQL boolean expressions.

Every expression built here is two-valued (never NULL): a leaf is `COALESCE(test, FALSE)`,
so a missing value makes the leaf false and `NOT` of it true (docs/language.md 9.5-9.6), exactly
like the Python engine. Types are checked, never coerced: a number equals only a number, a
text only a text, a boolean only a boolean; ordering comparisons hold only between numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from runtime.conditions import compile_glob

from .dialects import Dialect
from .quoting import glob_to_like

TRUE, FALSE = "TRUE", "FALSE"
ORDERING = ("<", "<=", ">", ">=")


@dataclass
class Scope:
    """How the references of one context read in SQL.

    `json_columns` maps a REF kind (`event`, `contact`) to the SQL JSON column holding it;
    `score`/`group`/`grade` map names to SQL expressions of the current (clamped) value /
    label;
    `stage` is the SQL expression of the current stage index (0 = no stage) and `stages`
    the declared labels in lifecycle order."""
    dialect: Dialect
    json_columns: dict[str, str] = field(default_factory=dict)
    score: Callable[[str], str] | None = None
    grade: Callable[[str], str] | None = None
    stage: str | None = None
    stages: tuple[str, ...] = ()
    group: Callable[[str], str] | None = None


class UnsupportedCondition(ValueError):
    pass


def condition_sql(cond, scope: Scope) -> str:
    if cond is True:
        return TRUE
    if cond is False:
        return FALSE
    if not isinstance(cond, list) or not cond:
        raise UnsupportedCondition(f"not a condition: {cond!r}")
    head = cond[0]
    if head in ("and", "or"):
        parts = _listed_leaves(cond, scope)
        joiner = " AND " if head == "and" else " OR "
        return "(" + joiner.join(parts) + ")"
    if head == "not":
        return f"(NOT {condition_sql(cond[1], scope)})"
    if head in ("=", *ORDERING):
        return _leaf(scope, cond[1], head, [cond[2]])
    if head == "in":
        return _leaf(scope, cond[1], "in", list(cond[2]))
    if head == "glob":
        return _leaf(scope, cond[1], "glob", [cond[2]])
    raise UnsupportedCondition(f"unknown condition form `{head}`")


LISTED_MIN = 16  # from this many `=` leaves on one kind of JSON value, one list test


def _listed_leaves(cond, scope: Scope) -> list[str]:
    """The terms of an `and`/`or`: its `=` leaves on event or profile properties grouped by
    (reference, kind) into one list test each where the dialect has one (a condition of
    thousands of terms is then a few constants to plan, not thousands of expressions; issue
    10 item 13), and so are its children that are an `and` (under an `and`: an `or`) of such
    leaves on one reference, into one test over all their leaves; every other child as
    itself. Terms are two-valued, so their order is free."""
    groups: dict[tuple[str, str], list] = {}  # (reference, kind) -> [(leaf, key, text)]
    # (reference, "nested") -> [(child, [(key, kind, text)])]: the children that are an
    # `and` (under an `or`; an `or` under an `and`) of such leaves on one reference
    nested: dict[tuple[str, str], list] = {}
    slots: list = []  # a child, or the key of a group (or of `nested`) at its first member
    for child in cond[1:]:
        listed = _listed(child, scope)
        if listed is None:
            inner = _nested(child, "or" if cond[0] == "and" else "and", scope)
            if inner is None:
                slots.append(child)
                continue
            ref, leaves = inner
            key = (ref, "nested")
            if key not in nested:
                nested[key] = []
                slots.append(key)
            nested[key].append((child, leaves))
            continue
        group, text = listed
        if group not in groups:
            groups[group] = []
            slots.append(group)
        groups[group].append((child, child[1][1], text))
    every = cond[0] == "and"
    parts = []
    for slot in slots:
        if not isinstance(slot, tuple):
            parts.append(condition_sql(slot, scope))
            continue
        column = scope.json_columns[slot[0]]
        test = None
        if slot[1] == "nested":
            members = nested[slot]
            if sum(len(leaves) for _, leaves in members) >= LISTED_MIN:
                test = scope.dialect.json_equal_groups(column, [ls for _, ls in members], every)
            parts += [test] if test is not None else [condition_sql(c, scope) for c, _ in members]
            continue
        leaves = groups[slot]
        if len(leaves) >= LISTED_MIN:
            test = scope.dialect.json_equal_each(column, slot[1], [(k, t) for _, k, t in leaves],
                                                 every)
        parts += [test] if test is not None else [condition_sql(c, scope) for c, _, _ in leaves]
    return parts


def _nested(cond, head: str, scope: Scope):
    """(reference, [(key, kind, value as text)]) of a `head` (`and`, `or`) whose every child
    is a `=` leaf a list test can read, all on one reference; else None."""
    if not isinstance(cond, list) or len(cond) < 2 or cond[0] != head:
        return None
    ref, leaves = None, []
    for child in cond[1:]:
        listed = _listed(child, scope)
        if listed is None or (ref is not None and listed[0][0] != ref):
            return None
        (ref, kind), text = listed
        leaves.append((child[1][1], kind, text))
    return ref, leaves


def _listed(cond, scope: Scope):
    """((reference, kind), value as text) of a `=` leaf a list test can read, else None: an
    integer beyond 2^53 keeps its own leaf (a double would round it)."""
    if not isinstance(cond, list) or len(cond) != 3 or cond[0] != "=":
        return None
    ref, value = cond[1], cond[2]
    if not isinstance(ref, list) or len(ref) != 2 or ref[0] not in scope.json_columns:
        return None
    if isinstance(value, bool):
        return (ref[0], "bool"), "true" if value else "false"
    if isinstance(value, int) and abs(value) <= 2 ** 53:
        return (ref[0], "number"), str(value)
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return (ref[0], "number"), repr(value)
    if isinstance(value, str):
        return (ref[0], "text"), value
    return None


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    raise UnsupportedCondition(f"unsupported literal {value!r}")


def _number(value) -> str:
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    if "inf" in text or "nan" in text:
        raise UnsupportedCondition(f"unsupported number {value!r}")
    return text


def _leaf(scope: Scope, ref, op: str, values: list) -> str:
    if op == "glob" and ref[0] == "stage":
        if scope.stage is None:
            raise UnsupportedCondition("the stage is not available here")
        matches = compile_glob(values[0]).fullmatch
        matching = [str(n + 1) for n, label in enumerate(scope.stages) if matches(label)]
        return f"COALESCE({scope.stage} IN ({', '.join(matching)}), FALSE)" if matching else FALSE
    if op == "glob":
        text = _typed(scope, ref, "text")
        if text is None:
            return FALSE
        d = scope.dialect
        return f"COALESCE({d.like(text, glob_to_like(values[0], d.like_escape))}, FALSE)"
    # the literals compared with the reference read as each kind, in order of appearance: an
    # `in` list is one IN test per kind, never a chain of ORs (issue 10 item 13)
    literals: dict[str, dict[str, None]] = {}  # kind -> literals (a dict: ordered, no repeats)
    for value in values:
        kind = _kind(value)
        if op in ORDERING and kind != "number":
            continue  # ordering comparisons hold only between two numbers
        if kind == "number":
            literal = _number(value)
        elif kind == "bool":
            literal = TRUE if value else FALSE
        elif ref[0] != "stage":
            literal = value  # quoted by the dialect (`string`, or `text_in` as one list)
        else:
            literal = _label(scope, ref, value)
            if literal is None:
                continue
        literals.setdefault(kind, {})[literal] = None
    tests: list[str] = []
    for kind, items in literals.items():
        expr = _typed(scope, ref, kind)
        if expr is None:
            continue
        text = kind == "text" and ref[0] != "stage"
        if op == "in" and text:
            tests.append(scope.dialect.text_in(expr, list(items)))
        elif op == "in":
            tests.append(scope.dialect.in_list(expr, list(items)))
        else:
            tests += [f"{expr} {op} {scope.dialect.string(v) if text else v}" for v in items]
    if not tests:
        return FALSE
    body = tests[0] if len(tests) == 1 else "(" + " OR ".join(tests) + ")"
    return f"COALESCE({body}, FALSE)"


def _label(scope: Scope, ref, value: str) -> str | None:
    """A text literal; compared with `["stage"]` it becomes the stage's index."""
    if ref[0] == "stage":
        if value not in scope.stages:
            return None  # no declared stage has that label: never equal
        return str(scope.stages.index(value) + 1)
    return scope.dialect.string(value)


def _typed(scope: Scope, ref, kind: str) -> str | None:
    """The SQL value of REF when it holds a `kind` value, else NULL; None when REF can never
    hold such a value (a score is never text, a grade never a number)."""
    head = ref[0]
    d = scope.dialect
    if head in ("event", "contact"):
        column = scope.json_columns.get(head)
        if column is None:
            raise UnsupportedCondition(f"`{head}` references are not available here")
        reader = {"number": d.json_number, "text": d.json_text, "bool": d.json_bool}[kind]
        return reader(column, ref[1])
    if head == "score":
        if scope.score is None:
            raise UnsupportedCondition("scores are not available here")
        return scope.score(ref[1]) if kind == "number" else None
    if head == "group":
        if scope.group is None:
            raise UnsupportedCondition("groups are not available here")
        return scope.group(ref[1]) if kind == "number" else None
    if head == "grade":
        if scope.grade is None:
            raise UnsupportedCondition("grades are not available here")
        return scope.grade(ref[1]) if kind == "text" else None
    if head == "stage":
        if scope.stage is None:
            raise UnsupportedCondition("the stage is not available here")
        # the index is compared with the label's index; 0 (no stage) matches no label
        return scope.stage if kind == "text" else None
    raise UnsupportedCondition(f"unknown reference {ref!r}")


def references(cond):
    """Every REF of a condition, in order (without recursion: conditions may be deep)."""
    stack = [cond]
    while stack:
        node = stack.pop()
        if not isinstance(node, list) or not node:
            continue
        if node[0] in ("and", "or"):
            stack.extend(reversed(node[1:]))
        elif node[0] == "not":
            stack.append(node[1])
        else:
            yield node[1]
