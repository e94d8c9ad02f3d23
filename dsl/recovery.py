"""Error recovery for the parser: blanking the logical line (or test block) at fault so the
rest of the file can be parsed again, line numbers kept. Works on text lines only."""
from __future__ import annotations

from .diagnostics import error
from .source import SourceFile

MAX_DEPTH = 100  # nesting of conditions; deeper is surely a generated or broken file
MAX_ERRORS = 50


def paren_depths(lines: list[str]) -> list[int]:
    """Paren depth at the start of each line (strings and comments skipped)."""
    depths, depth = [], 0
    for text in lines:
        depths.append(depth)
        if "(" not in text and ")" not in text:
            continue
        in_string = escaped = False
        for char in text:
            if in_string:
                escaped = (char == "\\") and not escaped
                if char == '"' and not escaped:
                    in_string = False
                continue
            if char == '"':
                in_string = True
            elif char == "#":
                break
            elif char == "(":
                depth += 1
            elif char == ")":
                depth = max(0, depth - 1)
        if in_string:  # an unterminated string ends at the line's end
            pass
    return depths


def blank_statement(lines: list[str], line: int, depths: list[int] | None = None) -> bool:
    """Blank the logical line (a statement, maybe spread over lines by parentheses) that
    holds `line`. False when there was nothing left to blank (no progress possible)."""
    index = min(max(line - 1, 0), len(lines) - 1)
    depths = depths if depths is not None else paren_depths(lines)
    start = index
    while start > 0 and depths[start] > 0:
        start -= 1
    end = index
    while end + 1 < len(lines) and depths[end + 1] > 0:
        end += 1
    if not any(lines[i].strip() for i in range(start, end + 1)):
        return blank_block(lines, line)
    for i in range(start, end + 1):
        lines[i] = ""
        depths[i] = 0
    return True


def blank_block(lines: list[str], line: int) -> bool:
    """Blank `line` and the lines indented deeper than it that follow."""
    index = min(max(line - 1, 0), len(lines) - 1)
    while index < len(lines) and not lines[index].strip():
        index += 1
    if index >= len(lines):
        return False
    indent = len(lines[index]) - len(lines[index].lstrip())
    lines[index] = ""
    index += 1
    while index < len(lines):
        text = lines[index]
        if text.strip() and len(text) - len(text.lstrip()) <= indent:
            break
        lines[index] = ""
        index += 1
    return True


def blank_deep_nesting(source: SourceFile, lines: list[str], diagnostics: list) -> list[int]:
    """Report and blank statements nested deeper than MAX_DEPTH before lark sees them."""
    depths = paren_depths(lines)
    reported: list[int] = []
    inside_reported = False
    for index, text in enumerate(lines):
        inside_reported = inside_reported and depths[index] > 0
        if inside_reported:
            continue
        depth = depths[index]
        for column, char in enumerate(text, start=1):
            if char == "(":
                depth += 1
                if depth > MAX_DEPTH:
                    reported.append(index)
                    inside_reported = True
                    diagnostics.append(error(
                        "E005", f"parentheses nested more than {MAX_DEPTH} deep",
                        source.span(index + 1, column),
                        "split the condition, or remove the extra parentheses"))
                    break
            elif char == ")":
                depth -= 1
        if len(reported) >= MAX_ERRORS // 2:
            break
    for index in reversed(reported):
        blank_statement(lines, index + 1, depths)
    return depths
