"""Python source from rule-table values: the one quoting function and compact conditions.

The compiled evaluator (`runtime.compiled`) writes Python source specialised to one rule
table. A value read from the table (a text, a number, a label) reaches that source only
through `literal`, which accepts plain JSON scalars and returns an expression that evaluates
to an equal value of the same type; anything else raises TypeError. Names the table declares
(scores, rules, events) never reach the source at all: the source uses their indices.
Conditions are written as Python expressions with the truth rules of docs/rule-table.md
(a missing value makes every leaf false, no coercion, ordering only between numbers).
"""
from __future__ import annotations

import math
from typing import Callable

# Python refuses to convert decimal texts of more than 4300 digits (sys.int_info); hexadecimal
# is exempt, so large integers are written in hexadecimal and never hit the limit.
_DECIMAL_DIGITS = 18
_ORDERS = ("<", "<=", ">", ">=")
_OPERATORS = frozenset(_ORDERS + ("=", "in", "glob"))


def literal(value) -> str:
    """A Python expression equal to `value` (a JSON scalar), of the same type. The only way a
    table value enters generated source; property-tested with hostile values."""
    kind = type(value)
    if value is None:
        return "None"
    if kind is bool:
        return "True" if value else "False"
    if kind is int:
        if abs(value) < 10 ** _DECIMAL_DIGITS:
            return f"({value})"
        return f"(-{hex(-value)})" if value < 0 else f"({hex(value)})"
    if kind is float:
        if math.isnan(value):
            return "(1e999-1e999)"
        if math.isinf(value):
            return "(1e999)" if value > 0 else "(-1e999)"
        return f"({value!r})"
    if kind is str:
        # repr() of a str is a literal that evaluates to the same text: quotes, backslashes,
        # newlines and unpaired surrogates are escaped
        return repr(value)
    raise TypeError(f"not a value a rule table holds: {kind.__name__}")


def number_kind(value) -> str:
    """`number`, `text`, `bool` or `other`, as the runtime's conditions read a literal."""
    kind = type(value)
    if kind is bool:
        return "bool"
    if kind is int or kind is float:
        return "number"
    if kind is str:
        return "text"
    return "other"


class Refs:
    """How the generated code reads each REF of a condition. `score`/`group`: the name of a
    local holding the raw (unclamped) sum and the bounds, so that compares become integer
    compares; `grade`: a local holding the label or None; `stage`: the local stage index and
    the stage labels; `contact` / `event`: the local dict to `.get` from."""

    def __init__(self, *, value: Callable[[str, str], tuple], grade: Callable[[str], str],
                 stage_labels: tuple = (), stage_local: str = "stage",
                 profile_local: str = "profile", props_local: str = "props",
                 globs: Callable[[str], str] | None = None):
        self.value = value  # (kind, name) -> (raw local, low, high)
        self.grade = grade  # name -> local
        self.stage_labels = stage_labels
        self.stage_local = stage_local
        self.profile_local = profile_local
        self.props_local = props_local
        self.globs = globs  # pattern -> name of a compiled fullmatch in the namespace
        self.temps = 0


def condition(form, refs: Refs) -> str:
    """A Python expression for a compact condition."""
    if form is True:
        return "True"
    if form is False:
        return "False"
    head = form[0]
    if head == "and":
        return "(" + " and ".join(condition(part, refs) for part in form[1:]) + ")"
    if head == "or":
        return "(" + " or ".join(condition(part, refs) for part in form[1:]) + ")"
    if head == "not":
        return f"(not {condition(form[1], refs)})"
    if head not in _OPERATORS:  # an operator is written into the source as it is
        raise ValueError(f"unknown operator {head!r}")
    ref, operand = form[1], form[2]
    kind = ref[0]
    if kind in ("score", "group"):
        raw, low, high = refs.value(kind, ref[1])
        return _bounded(head, raw, operand, low, high)
    if kind == "grade":
        return _label(head, refs.grade(ref[1]), operand, refs)
    if kind == "stage":
        return _stage(head, operand, refs)
    if kind in ("contact", "event"):
        source = refs.profile_local if kind == "contact" else refs.props_local
        return _untyped(head, f"{source}.get({literal(ref[1])})", operand, refs)
    raise ValueError(f"unknown reference {ref!r}")


def _bounded(op: str, raw: str, operand, low, high) -> str:
    """`clamp(raw, low, high) OP operand` as a compare on the raw integer where the bounds
    allow (the clamp moves a value only past a bound, so a threshold inside the bounds gives
    the same answer on the raw sum)."""
    if low is not None and high is not None and low > high:
        return _plain(op, _clamped(raw, low, high), operand)
    if op == "in":
        numbers = [v for v in operand if number_kind(v) == "number"]
        if not numbers:
            return "False"
        return " ".join(["(", _clamped(raw, low, high), "in", _set(numbers), ")"])
    if op == "glob" or number_kind(operand) != "number":
        return "False"  # a score is a number: it equals no text and matches no pattern
    value = operand
    if value != value:
        return "False"  # NaN: every comparison is false
    v = literal(value)
    if op == "=":
        if not math.isfinite(value) or value != int(value):
            return "False"  # 2.5 or an infinity: no integer equals it
        if (low is not None and value < low) or (high is not None and value > high):
            return "False"
        at_low, at_high = low is not None and value == low, high is not None and value == high
        if at_low and at_high:
            return "True"
        if at_low:
            return f"({raw} <= {v})"
        if at_high:
            return f"({raw} >= {v})"
        return f"({raw} == {v})"
    always, never = _decided(op, value, low, high)
    if always:
        return "True"
    if never:
        return "False"
    return f"({raw} {op} {v})"


def _decided(op: str, value, low, high) -> tuple[bool, bool]:
    """(always true, always false) of `clamp(x) OP value` from the bounds alone."""
    if op == ">=":
        return low is not None and low >= value, high is not None and high < value
    if op == ">":
        return low is not None and low > value, high is not None and high <= value
    if op == "<=":
        return high is not None and high <= value, low is not None and low > value
    return high is not None and high < value, low is not None and low >= value  # "<"


def _clamped(raw: str, low, high) -> str:
    text = raw
    if high is not None:
        text = f"({literal(high)} if {text} > {literal(high)} else {text})"
    if low is not None:  # the low bound wins when both apply (as the engine clamps)
        text = f"({literal(low)} if {raw} < {literal(low)} else {text})"
    return text


def _plain(op: str, value: str, operand) -> str:
    """A compare on an integer expression without bound reasoning."""
    if op == "in":
        numbers = [v for v in operand if number_kind(v) == "number"]
        return f"({value} in {_set(numbers)})" if numbers else "False"
    if op == "glob" or number_kind(operand) != "number":
        return "False"
    return f"({value} {'==' if op == '=' else op} {literal(operand)})"


def _label(op: str, local: str, operand, refs: Refs) -> str:
    """A grade's label: a text or None (absent)."""
    if op == "=":
        return f"({local} == {literal(operand)})" if number_kind(operand) == "text" else "False"
    if op == "in":
        texts = [v for v in operand if number_kind(v) == "text"]
        return f"({local} in {_set(texts)})" if texts else "False"
    if op == "glob":
        return f"({local} is not None and {refs.globs(operand)}({local}) is not None)"
    return "False"  # ordering holds only between numbers


def _stage(op: str, operand, refs: Refs) -> str:
    labels, local = refs.stage_labels, refs.stage_local
    if op in ("=", "in"):
        wanted = [operand] if op == "=" else list(operand)
        indices = sorted({i for i, label in enumerate(labels)
                          for v in wanted if number_kind(v) == "text" and v == label})
        if not indices:
            return "False"
        if len(indices) == 1:
            return f"({local} == {indices[0]})"
        return f"({local} in {_set(indices)})"
    if op == "glob":
        if not labels:
            return "False"
        table = "(" + "".join(f"{literal(label)}, " for label in labels) + ")"
        return f"({local} >= 0 and {refs.globs(operand)}({table}[{local}]) is not None)"
    return "False"


def _untyped(op: str, read: str, operand, refs: Refs) -> str:
    """A profile attribute or an event property: any JSON value, or missing."""
    name = f"_v{refs.temps}"
    refs.temps += 1
    bind = f"({name} := {read})"
    kind = number_kind(operand)
    if op == "=":
        if kind == "number":
            return f"(type({bind}) in _NUMBER and {name} == {literal(operand)})"
        if kind == "text":
            return f"(type({bind}) is str and {name} == {literal(operand)})"
        if kind == "bool":
            return f"({bind} is {literal(operand)})"
        raise ValueError(f"cannot compare with {operand!r}")
    if op in _ORDERS:
        if kind != "number":
            return "False"
        return f"(type({bind}) in _NUMBER and {name} {op} {literal(operand)})"
    if op == "in":
        parts = []
        kinds = [number_kind(v) for v in operand]
        if "other" in kinds:
            raise ValueError(f"`in` list holds a value of an unknown type: {operand!r}")
        texts = [v for v, k in zip(operand, kinds) if k == "text"]
        numbers = [v for v, k in zip(operand, kinds) if k == "number"]
        bools = [v for v, k in zip(operand, kinds) if k == "bool"]
        if texts:
            parts.append(f"(_t is str and {name} in {_set(texts)})")
        if numbers:
            parts.append(f"((_t is int or _t is float) and {name} in {_set(numbers)})")
        if bools:  # in Python True == 1: booleans are compared as booleans only
            parts.append(f"(_t is bool and {name} in {_set(bools)})")
        if not parts:
            return "False"
        return f"((_t := type({bind})) is not None and ({' or '.join(parts)}))"
    if op == "glob":
        return f"(type({bind}) is str and {refs.globs(operand)}({name}) is not None)"
    raise ValueError(f"unknown operator {op!r}")


def _set(values) -> str:
    """A set display of literals (Python folds `x in {...}` of constants to a frozenset)."""
    return "{" + ", ".join(literal(v) for v in values) + "}"
