"""Numbers every engine can hold (issue 10 items 8, 10 and 12).

The rule table holds integers as 64-bit numbers (the SQL targets' BIGINT, Spark's LongType)
and decimals as IEEE doubles. A literal outside that is refused as it is read (E008), so no
later stage meets it: integers (points, bounds, thresholds, counts) must lie in
-2^63..2^63-1, a duration must be shorter than 2^63 microseconds (about 292,000 years), and a
decimal must be exactly the number that its double prints as: `0.1` and `2.5` are, but
`99999999999999999999.5` (a double holds it as 100000000000000000000) is not. So `score fmt`,
which prints decimals through the double, always writes back the same decimal value.
"""
from __future__ import annotations

import re
from decimal import Decimal

from lark import Token, Tree

from .diagnostics import Diagnostic, error
from .source import Span

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
_MICROS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_INTEGER = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?\d+(?:\.\d+)?")
_DURATION = re.compile(r"(\d+)[ \t]*([a-z])")
_SHOWN = 24  # characters of a long literal quoted in a message


def check_numbers(tree: Tree, name: str) -> list[Diagnostic]:
    """E008 for every number literal of the parse tree that an engine cannot hold."""
    found = []
    tokens = (child for subtree in tree.iter_subtrees()  # not recursive: deep conditions
              for child in subtree.children if isinstance(child, Token))
    for token in tokens:
        problem = _problem(token.type, str(token))
        if problem is not None:
            span = Span(name, token.line, token.column, token.end_line, token.end_column)
            found.append(error("E008", problem[0], span, problem[1]))
    return found


def _problem(kind: str, text: str) -> tuple[str, str] | None:
    if kind in ("POINTS", "RANGE"):
        for literal in _INTEGER.findall(text.lstrip("+")):
            if not INT64_MIN <= int(literal) <= INT64_MAX:
                return _too_big(literal)
    elif kind in ("NUMBER", "PERCENT"):
        literal = text.rstrip("%")
        if "." not in literal:
            if not INT64_MIN <= int(literal) <= INT64_MAX:
                return _too_big(literal)
        elif not exact_decimal(literal):
            return (f"the decimal {_short(literal)} cannot be held exactly: the engines "
                    f"compute with {_short(repr(float(literal)))}",
                    "write at most 15 significant digits")
    elif kind == "DURATION":
        match = _DURATION.match(text)
        if match and int(match.group(1)) * _MICROS[match.group(2)] * 10 ** 6 > INT64_MAX:
            return (f"the duration {_short(text)} is too long",
                    "durations must be shorter than 292,000 years")
    return None


def exact_decimal(literal: str) -> bool:
    """Whether the double nearest to `literal` prints (shortest form) as the same number."""
    value = float(literal)
    return value == value and abs(value) != float("inf") and \
        Decimal(repr(value)) == Decimal(literal)


def _too_big(literal: str) -> tuple[str, str]:
    return (f"the number {_short(literal)} is out of range",
            f"numbers lie between {INT64_MIN} and {INT64_MAX}")


def _short(text: str) -> str:
    text = text.strip()
    return f"`{text}`" if len(text) <= _SHOWN else f"`{text[:_SHOWN]}...` ({len(text)} characters)"
