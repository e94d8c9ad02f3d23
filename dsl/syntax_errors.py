"""Syntax errors in words a marketer understands, not token names."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

# What each terminal means to a reader; the order is the order they are offered in.
_WORDS = {
    "POINTS": "points such as +15 or -20",
    "NAME": "a name",
    "QNAME": "`contact.` and an attribute",
    "STRING": 'a quoted text such as "CEO"',
    "NUMBER": "a number",
    "CMP": "a comparison (=, !=, <, <=, >, >=)",
    "DURATION": "a duration such as 24 hours",
    "PERCENT": "a percentage such as 10%",
    "RANGE": "a range such as 0..100",
    "DATETIME": "a date such as 2026-03-02 or 2026-03-02T10:15:00Z",
    "_LPAR": "`(`",
    "_RPAR": "`)`",
    "_NEWLINE": "the end of the line",
    "_INDENT": "an indented line",
    "_DEDENT": "the end of the indented block",
    "$END": "the end of the file",
}
_FOUND = {"_NEWLINE": "the end of the line", "$END": "the end of the file",
          "_INDENT": "an indented line", "_DEDENT": "the end of the indented block"}
_MAX_ALTERNATIVES = 6


@lru_cache(maxsize=1)
def _catalogue() -> list[dict]:
    path = Path(__file__).with_name("syntax_catalogue.json")
    return json.loads(path.read_text(encoding="utf-8"))["entries"]


def match_catalogue(exc: UnexpectedInput, parse) -> tuple[str, str] | None:
    """The catalogue entry whose example fails in the same parser state on the same kind of
    token (stricter than lark's `match_examples`, which would accept any token there)."""
    if not isinstance(exc, UnexpectedToken):
        return None
    for entry in _catalogue():
        for example in entry["examples"]:
            failure = _failure(parse, example)
            if failure is not None and failure == _situation(exc):
                return entry["message"], entry["hint"]
    return None


def _situation(exc: UnexpectedToken):
    # The LALR state on top of the stack says where in a statement the parser is; lark's
    # ParserState equality also compares the stack's depth, which counts the statements and
    # blocks before it, so an example (a first line) would only match on a file's first line.
    state = exc.state
    position = getattr(state, "position", state)
    return position, exc.token.type


@lru_cache(maxsize=None)
def _failure_cached(parse, example: str):
    try:
        parse(example)
    except UnexpectedToken as exc:
        return _situation(exc)
    except Exception:
        return None
    return None


def _failure(parse, example: str):
    return _failure_cached(parse, example)


def _word(parser, terminal: str) -> str:
    if terminal in _WORDS:
        return _WORDS[terminal]
    try:
        pattern = parser.get_terminal(terminal).pattern
    except KeyError:
        return terminal.lower()
    return f"`{pattern.value}`"


def _expected(exc: UnexpectedInput) -> set[str]:
    if isinstance(exc, UnexpectedToken):
        return set(exc.accepts or exc.expected)
    if isinstance(exc, UnexpectedCharacters):
        return set(exc.allowed or ())
    return set()


def describe_unexpected(exc: UnexpectedInput, parser) -> tuple[str, str | None]:
    expected = _expected(exc)
    order = list(_WORDS)
    ranked = sorted(expected, key=lambda t: (order.index(t) if t in order else len(order), t))
    words = [_word(parser, t) for t in ranked if t not in ("_DEDENT", "$END")]
    if isinstance(exc, UnexpectedCharacters):
        found = f"`{exc.char}`"
    else:
        token = exc.token
        found = _FOUND.get(token.type, f"`{token}`")
    if not words:
        return f"unexpected {found}", None
    if len(words) > _MAX_ALTERNATIVES:
        words = words[:_MAX_ALTERNATIVES] + ["…"]
    choices = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"expected {choices} here, but found {found}", None
