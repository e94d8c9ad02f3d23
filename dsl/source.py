"""Source files and positions.

Every AST node and every diagnostic carries a `Span` so that errors, explanations and
runtime traces can cite `file:line:column`. Lines and columns are 1-based; `end_column`
is exclusive (the column just after the last character).

A line ends at `\n` (a `\r` just before it belongs to the line break), as the grammar reads
it; nothing else ends a line: `\f`, `\v`, `\x85`, U+2028 and U+2029 are characters inside
a line (in a string or a comment, or an error elsewhere). `split_lines` is that one
definition; everything that numbers lines uses it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path


# what the grammar ignores at the end of a line (dsl/score.lark: %ignore /[\t \f\r]+/)
LINE_END_BLANKS = " \t\f\r"


def split_lines(text: str) -> list[str]:
    """The lines of `text` as the parser numbers them: split at `\n` only, the `\r` of a
    `\r\n` removed. A text ending with `\n` has no empty last line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


@dataclass(frozen=True, slots=True)
class Span:
    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def whole_file(cls, file: str) -> "Span":
        """The file as a whole (line 0), for a problem with no line: a missing file."""
        return cls(file, 0, 0, 0, 0)

    @property
    def is_whole_file(self) -> bool:
        return self.line == 0

    def __str__(self) -> str:
        if self.is_whole_file:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"

    def cover(self, other: "Span | None") -> "Span":
        """The smallest span containing both spans."""
        if other is None:
            return self
        start = min((self.line, self.column), (other.line, other.column))
        end = max((self.end_line, self.end_column), (other.end_line, other.end_column))
        return Span(self.file, start[0], start[1], end[0], end[1])


@dataclass(frozen=True, slots=True)
class Comment:
    """A `#` comment: `own_line` when nothing but white space precedes it on its line."""

    text: str  # including the leading '#'
    line: int
    column: int
    own_line: bool


@dataclass(frozen=True, slots=True)
class SourceFile:
    name: str
    text: str
    _lines: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def from_text(cls, text: str, name: str = "<string>") -> "SourceFile":
        if text.startswith("\ufeff"):
            text = text[1:]
        return cls(name, text, tuple(split_lines(text)))

    @classmethod
    def read(cls, path: str | Path) -> "SourceFile":
        data = Path(path).read_bytes()
        return cls.from_text(data.decode("utf-8", errors="replace"), str(path))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def line_text(self, line: int) -> str:
        if 1 <= line <= len(self._lines):
            return self._lines[line - 1]
        return ""

    def span(self, line: int, column: int, end_line: int | None = None,
             end_column: int | None = None) -> Span:
        return Span(self.name, line, column, end_line or line,
                    end_column if end_column is not None else column + 1)

    def comments(self) -> tuple[Comment, ...]:
        """Every comment, found by a scan that skips `#` inside double-quoted strings."""
        found = []
        for number, line in enumerate(self._lines, start=1):
            column = _comment_column(line)
            if column is not None:
                found.append(Comment(line[column:].rstrip(LINE_END_BLANKS), number, column + 1,
                                     not line[:column].strip(LINE_END_BLANKS)))
        return tuple(found)


def _comment_column(line: str) -> int | None:
    in_string = False
    escaped = False
    for index, char in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "#":
            return index
    return None
