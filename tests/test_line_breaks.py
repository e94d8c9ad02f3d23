"""One definition of a line (issue 10 item 9): only `\\n` ends a line, as the grammar reads
it. `\\f`, `\\v`, `\\x1c`-`\\x1e`, `\\x85`, U+2028 and U+2029 (which `str.splitlines` also
breaks on) are characters inside a line: fmt keeps them where they are, keeps every comment
with its statement, is idempotent, and diagnostics quote the line the parser numbered."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from compiler.cli import main
from compiler.cli.fmt import unified_diff
from compiler.pipeline import compile as compile_model
from compiler.review.journeys import read_journey
from dsl import render
from dsl.formatter import format_source
from dsl.source import SourceFile, split_lines

# every character other than `\n` that `str.splitlines` breaks on
OTHER_BREAKS = ["\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
IN_LINE = [c for c in OTHER_BREAKS if c != "\r"]  # `\r` alone is blank to the grammar


def fmt(text: str) -> str:
    result = format_source(SourceFile.from_text(text))
    assert not result.diagnostics, [d.message for d in result.diagnostics]
    return result.text


def test_split_lines_breaks_at_newline_only():
    assert split_lines("a\u2028b\nc\r\nd\x85e\n") == ["a\u2028b", "c", "d\x85e"]
    assert split_lines("a\n\nb") == ["a", "", "b"]
    assert split_lines("") == []


@pytest.mark.parametrize("char", IN_LINE, ids=[f"U+{ord(c):04X}" for c in IN_LINE])
def test_fmt_keeps_comment_text_and_place(char):
    text = (f"score engagement\n"
            f"visit home +5  # before{char}after\n"
            f"# own line{char}tail\n"
            f"visit pricing +1\n")
    formatted = fmt(text)
    assert f"# before{char}after" in formatted
    assert f"# own line{char}tail" in formatted
    lines = formatted.split("\n")
    # the own-line comment stays just above the statement that follows it
    below = lines.index(f"# own line{char}tail") + 1
    assert lines[below] == "visit pricing +1"
    assert fmt(formatted) == formatted


@pytest.mark.parametrize("char", IN_LINE, ids=[f"U+{ord(c):04X}" for c in IN_LINE])
def test_fmt_keeps_characters_in_strings(char):
    text = f'score engagement\nvisit "blog{char}x" +5  # note\n'
    formatted = fmt(text)
    assert f'"blog{char}x"' in formatted and "# note" in formatted
    assert fmt(formatted) == formatted


@pytest.mark.parametrize("char", IN_LINE, ids=[f"U+{ord(c):04X}" for c in IN_LINE])
def test_diagnostic_quotes_the_line_the_parser_numbered(char):
    text = f"score engagement\n# a{char}b\nvisit home +5 at most 0 per day\nvisit pricing +\n"
    source = SourceFile.from_text(text, "m.score")
    result = compile_model(source)
    assert result.diagnostics
    for diagnostic in result.diagnostics:
        line = diagnostic.span.line
        assert source.line_text(line) == text.split("\n")[line - 1]
    shown = render.render_text(result.diagnostics, {"m.score": source})
    assert "visit pricing +" in shown or "visit home" in shown
    assert f"a{char}b" not in shown and "| b" not in shown


def test_line_numbers_match_the_parser_on_every_statement():
    text = "score engagement\n# x\u2028y\x85z\x0cw\nvisit home +5\nvisit pricing +1\n"
    source = SourceFile.from_text(text, "m.score")
    model = compile_model(source).model
    lines = [source.line_text(statement.span.line) for statement in model.statements]
    assert lines == ["score engagement", "visit home +5", "visit pricing +1"]


def test_fmt_diff_counts_lines_as_patch_does():
    diff = unified_diff("a\u2028b\n", "a\u2028b\nc\n", "m.score")
    assert "+c" in diff and diff.count("\n+") == 2  # the +++ header and the one added line
    assert "a\u2028b" in diff


def test_fmt_cli_leaves_a_formatted_file_with_u2028_alone(tmp_path):
    path = tmp_path / "m.score"
    path.write_text("score engagement\nvisit home +5  # a\u2028b\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["fmt", "--check", str(path)])
    assert result.exit_code == 0, result.output


def test_journey_line_with_u2028_in_a_string_is_one_event(tmp_path):
    path = tmp_path / "j.jsonl"
    event = {"event": "visit", "target": "a\u2028b", "at": "2026-03-01T10:00:00Z"}
    path.write_text(json.dumps(event, ensure_ascii=False) + "\n", encoding="utf-8")
    journey, rejects = read_journey(path, "won")
    assert not rejects and len(journey.events) == 1
