"""Syntax errors in words a marketer understands, not token names."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

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
def _data() -> dict:
    text = resources.files("dsl").joinpath("syntax_catalogue.json").read_text(encoding="utf-8")
    return json.loads(text)


def _catalogue() -> list[dict]:
    return _data()["entries"]


def describe_lookalike(char: str) -> tuple[str, str] | None:
    """A character pasted from a document in place of an ASCII one: what it is, what to type."""
    known = _data()["characters"].get(char)
    if known is None:
        return None
    what = f"{known['name']} (U+{ord(char):04X})"
    if known["type"] == "nothing":
        return (f"{what} is hidden here", "delete it: it is invisible, so retype the word "
                f"around it, e.g. `{known['example']}`")
    if known["type"] == " ":
        return (f"{what} is here, not a plain space",
                f"type a plain space instead, e.g. `{known['example']}`")
    return (f"`{char}` is {what}, not `{known['type']}`",
            f"type `{known['type']}` instead, e.g. `{known['example']}`")


def lookalike_in(text: str) -> tuple[str, str] | None:
    """The first look-alike character of `text` (e.g. the rest of a line) and what to type."""
    for char in text:
        if char != "'" and char in _data()["characters"]:
            return char, _data()["characters"][char]["type"]
    return None


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
