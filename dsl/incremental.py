"""Parsing a file again after an edit, reading again only the statements that changed.

The language server parses a document on every keystroke; most of its statements are the
same as a moment ago. `IncrementalParser.parse` cuts the text into the pieces the parser's
own recovery treats as units — a top-level statement (with the lines its parentheses take),
a test block with its indented lines, comments and blank lines going with the piece above —
parses each piece alone at its own line (through `dsl.parser.parse`, so every position and
diagnostic is the parser's), keeps the results by text, and moves a kept piece's positions
when lines above it were added or removed.

The result equals `parse(source)` (tests/test_incremental.py holds it to that on the fuzz
corpus). Where a piece's result could depend on its neighbours — a diagnostic outside the
piece (the parser ran past the piece's end, as after a test header with no body), too many
errors, nothing to cut — the whole text is parsed as `parse` does.
"""
from __future__ import annotations

import dataclasses
from collections import OrderedDict

from . import ast
from .diagnostics import Diagnostic
from .parser import MAX_ERRORS, ParseResult, parse
from .recovery import paren_depths
from .source import SourceFile, Span

_NOT_A_START = " \t\f\r#"
_PADDING = "x +1"  # a statement, dropped from the result


class IncrementalParser:
    """Parses successive versions of a text; pieces are kept across versions (and names)."""

    def __init__(self, keep: int = 20_000) -> None:
        self.keep = keep
        self._pieces: OrderedDict[tuple[str, str], tuple[int, ParseResult]] = OrderedDict()
        self.reused = 0  # pieces taken from the previous versions in the last parse

    def parse(self, source: SourceFile) -> ParseResult:
        lines = source.text.split("\n")
        pieces = cut(lines)
        self.reused = 0
        if len(pieces) < 2:
            return parse(source)
        statements: list = []
        diagnostics: list[Diagnostic] = []
        results: list[ParseResult] = []
        for start, end in pieces:
            result = self._piece(source.name, lines, start, end, end == len(lines))
            if result is None or (not result.ok and _ends_in_a_test(results)):
                # A test block ends where the next line that is not part of it starts:
                # when the parser drops that line, the block reaches further.
                return parse(source)
            results.append(result)
            statements.extend(result.model.statements)
            diagnostics.extend(result.diagnostics)
        if sum(1 for d in diagnostics if d.is_error) >= MAX_ERRORS:
            return parse(source)
        # The model runs from the first piece's start to the last one's end.
        begin, finish = results[0].model.span, results[-1].model.span
        span = Span(source.name, begin.line, begin.column, finish.end_line, finish.end_column)
        model = ast.Model(tuple(statements), source.name, span)
        return ParseResult(model, tuple(sorted(diagnostics, key=Diagnostic.sort_key)))

    def _piece(self, name: str, lines: list[str], start: int, end: int,
               last: bool) -> ParseResult | None:
        """The parse of lines[start:end] at its place; None when it must not stand alone."""
        text = "\n".join(lines[start:end])
        key = (name, text)
        kept = self._pieces.get(key)
        # The first and last pieces give the model's span: never ones moved from elsewhere.
        if kept is not None and (kept[0] == start or (start > 0 and not last)):
            self._pieces.move_to_end(key)
            self.reused += 1
            at, result = kept
            return result if at == start else _moved(result, start - at)
        # Below line 1 the parser reads a piece after some line of the file, not at the start
        # of a file: a line of padding puts it in that state (its messages depend on it).
        padding = _PADDING + "\n" * start if start else ""
        result = parse(SourceFile.from_text(padding + text, name))
        if result.model is None or any(
                d.span is None or not start < d.span.line <= end or _at_line_start(d, lines)
                for d in result.diagnostics):
            return None
        if start:
            statements = result.model.statements
            if not statements or statements[0].span is None or statements[0].span.line != 1:
                return None
            result = ParseResult(ast.Model(statements[1:], name, result.model.span),
                                 result.diagnostics)
        self._pieces[key] = (start, result)
        while len(self._pieces) > self.keep:
            self._pieces.popitem(last=False)
        return result


def _at_line_start(diagnostic: Diagnostic, lines: list[str]) -> bool:
    """An error on the first word of a line depends on what the parser read before the
    line, which differs between a piece alone and the whole text (the end of a statement,
    a blank line, a test block): only the whole text tells which message is right."""
    text = lines[diagnostic.span.line - 1]
    return diagnostic.span.column <= len(text) - len(text.lstrip(" \t\f\r")) + 1


def _ends_in_a_test(results: list[ParseResult]) -> bool:
    for result in reversed(results):
        if result.model.statements:
            return isinstance(result.model.statements[-1], ast.Test)
    return False


def cut(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) line indexes of the pieces: a piece starts at an unindented line that is
    not a comment and not inside parentheses."""
    depths = paren_depths(lines)
    starts = [index for index, text in enumerate(lines)
              if index == 0 or (text[:1] not in _NOT_A_START and text and depths[index] == 0)]
    return [(start, end) for start, end in zip(starts, starts[1:] + [len(lines)])]


def _moved(result: ParseResult, lines: int) -> ParseResult:
    return ParseResult(_move(result.model, lines), tuple(_move(d, lines)
                                                         for d in result.diagnostics))


def _move(value, lines: int):
    """`value` with every span `lines` lines further down."""
    if isinstance(value, Span):
        return Span(value.file, value.line + lines, value.column, value.end_line + lines,
                    value.end_column)
    if isinstance(value, tuple):
        return tuple(_move(item, lines) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return type(value)(**{f.name: _move(getattr(value, f.name), lines)
                              for f in dataclasses.fields(value)})
    return value
