"""The formatter: goldens, round trips over generated ASTs, every documented program, the CLI.

Every property is checked through the real parser: `parse(format(m)) == m` and formatting is
idempotent (OPA's `fmt` re-parses and formats its own output the same way).
"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.cli import main
from dsl import ast, formatter
from dsl.diagnostics import has_errors
from dsl.formatter import format_model, format_source, is_plain_name, quote
from dsl.parser import parse_text
from dsl.source import SourceFile

from strategies import conditions, models, tests_blocks

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "format"
INPUTS = sorted(p for p in GOLDEN.glob("*.score") if not p.name.endswith(".formatted.score"))
LANGUAGE = ROOT / "docs" / "language.md"
CONFORMANCE = sorted((ROOT / "tests" / "conformance").glob("*/model.score"))


def fmt(text: str, name: str = "<string>") -> str:
    result = format_source(SourceFile.from_text(text, name))
    assert result.text is not None, result.diagnostics
    return result.text


def model_of(text: str) -> ast.Model:
    result = parse_text(text)
    assert not has_errors(result.diagnostics), (result.diagnostics, text)
    return result.model


def comment_texts(text: str) -> list[str]:
    return [c.text for c in SourceFile.from_text(text).comments()]


def assert_formats_faithfully(text: str) -> str:
    """The output means the same model, keeps every comment in order, and is a fixed point."""
    formatted = fmt(text)
    assert model_of(formatted) == model_of(text)
    assert comment_texts(formatted) == comment_texts(text)
    assert fmt(formatted) == formatted
    return formatted


# --------------------------------------------------------------------------- goldens


def test_goldens_cover_enough_inputs():
    assert len(INPUTS) >= 6


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_golden(path, update_goldens):
    expected_path = path.with_name(path.stem + ".formatted.score")
    formatted = assert_formats_faithfully(path.read_text(encoding="utf-8"))
    if update_goldens or not expected_path.exists():
        expected_path.write_text(formatted, encoding="utf-8")
        if not update_goldens:
            pytest.fail(f"{expected_path.name} was missing and has been written; review it")
    assert formatted == expected_path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models())
def test_generated_models_round_trip(model):
    text = format_model(model)
    assert model_of(text) == model, text
    assert format_model(model_of(text)) == text


@settings(max_examples=150, deadline=None)
@given(conditions())
def test_generated_conditions_round_trip(condition):
    model = ast.Model((ast.Require(condition),))
    assert model_of(format_model(model)) == model


@settings(max_examples=100, deadline=None)
@given(models(max_statements=5), tests_blocks)
def test_formatted_output_with_comments_is_stable(model, test):
    """Comments sprinkled over formatted text survive, in order, and formatting converges."""
    lines = format_model(ast.Model(model.statements + (test,))).splitlines()
    commented = []
    for number, line in enumerate(lines):
        commented.append(f"{line}  # c{number}" if line.strip() else line)
        if number % 3 == 0:
            commented.append(f"# own {number}")
    assert_formats_faithfully("\n".join(commented) + "\n")


_EDITS = st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(
    (" ", "\t", "\n", "\n\n", ";", "; ", " # c", "\n# d\n", "\n    # e\n", "#", None))),
    max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models(max_statements=6), _EDITS)
def test_edited_programs_format_or_fail_cleanly(model, edits):
    """Stray spaces, line breaks, `;`, comments and deletions: the result is a syntax error
    or a stable formatting, never an exception or the E090 safety net."""
    text = format_model(model)
    for position, edit in edits:
        position %= len(text) + 1
        if edit is None:
            text = text[:position] + text[position + 1:]
        else:
            text = text[:position] + edit + text[position:]
    result = format_source(SourceFile.from_text(text))
    assert "E090" not in [d.code for d in result.diagnostics]
    if result.text is not None:
        assert model_of(result.text) == model_of(text)
        assert fmt(result.text) == result.text
        assert comment_texts(result.text) == comment_texts(text)


def _language_programs() -> list[str]:
    """The `score` fenced blocks of the language reference (templates are `text`, data `json`)."""
    blocks = re.findall(r"^( *)```score\n(.*?)^\1```", LANGUAGE.read_text(encoding="utf-8"),
                        re.S | re.M)
    return [textwrap.dedent(block) for _, block in blocks]


def test_language_reference_has_programs():
    assert len(_language_programs()) >= 2  # the smallest and the realistic example


@pytest.mark.parametrize("program", _language_programs(), ids=lambda p: p.split("\n")[0][:30])
def test_language_reference_programs(program):
    assert_formats_faithfully(program)


@pytest.mark.parametrize("path", CONFORMANCE, ids=lambda p: p.parent.name)
def test_conformance_models(path):
    assert_formats_faithfully(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- decisions


@pytest.mark.parametrize("source, expected", [
    ("if (a or b) and c +1\n", "if (a or b) and c +1\n"),
    ("if a or (b and c) +1\n", "if a or b and c +1\n"),
    ("if (not a) and b +1\n", "if not a and b +1\n"),
    ("if not (a or b) +1\n", "if not (a or b) +1\n"),
    ("if ((a)) +1\n", "if a +1\n"),
])
def test_minimal_parentheses(source, expected):
    assert fmt(source) == expected
    assert model_of(expected) == model_of(source)


@pytest.mark.parametrize("target, written", [
    ("pricing", "pricing"), ("preisseite_2", "preisseite_2"), ("größe", "größe"),
    ("blog/*", '"blog/*"'), ("any", '"any"'), ("once", '"once"'), ("score", '"score"'),
    ("2fa", '"2fa"'), ('say "hi"', '"say \\"hi\\""'), ("a\\b", '"a\\\\b"'),
])
def test_targets_bare_only_when_plain(target, written):
    rule = ast.EventRule("visit", ast.Targets((target,)), None, 5)
    text = format_model(ast.Model((rule,)))
    assert text == f"visit {written} +5\n"
    assert model_of(text).statements == (rule,)


def test_plain_names_exclude_keywords():
    assert is_plain_name("visit") and is_plain_name("_x1")
    assert not is_plain_name("within") and not is_plain_name("1a") and not is_plain_name("")
    assert quote('a"b\\c') == '"a\\"b\\\\c"'


def test_points_align_within_a_block_only():
    text = fmt("visit home +5 at most 1 per day\nvisit pricing +15\n"
               "\nunsubscribe -20\nemail_open +1 once\n")
    assert text == ("visit home    +5  at most 1 per day\n"
                    "visit pricing +15\n"
                    "\n"
                    "unsubscribe -20\n"
                    "email_open  +1  once\n")


def test_a_long_rule_head_does_not_push_its_block():
    text = fmt("visit home +5\nemail_sent without email_open within 24 hours -5\n"
               "register webinar +25 fit\n")
    assert text == ("visit home       +5\n"
                    "email_sent without email_open within 24 hours -5\n"
                    "register webinar +25 fit\n")


def test_a_statement_ends_a_rule_block():
    text = fmt("visit home +5\nscore fit\nvisit pricing_page +15\n")
    assert text == "visit home +5\nscore fit\nvisit pricing_page +15\n"


def test_layout_of_lines_and_blank_lines():
    text = fmt("\n\nscore  fit ;visit a +1   \n\n\n\nvisit b +2")
    assert text == "score fit\nvisit a +1\n\nvisit b +2\n"


def test_durations_and_limits_are_spelled_out():
    text = fmt("decay s 10% every 1d\nexpire s after 24h\nvisit x +1 at most 1\n")
    assert text == ("decay s 10% every 1 day\nexpire s after 24 hours\nvisit x +1 once\n")


def test_blank_line_around_tests():
    text = fmt('score s\ntest "t":\n    expect unscored\nvisit a +1\n')
    assert text == 'score s\n\ntest "t":\n    expect unscored\n\nvisit a +1\n'


def test_test_blocks_are_reindented_without_blank_line_after_header():
    source = 'test "t":\r\n\r\n\tat 2026-01-01 visit a ; expect a = 1 # x\r\n\r\n\t# end'
    assert fmt(source) == 'test "t":\n    at 2026-01-01 visit a\n    expect a = 1  # x\n\n' \
                          "    # end\n"


def test_comment_after_joined_statements_stays_on_the_last():
    assert fmt("visit a +1; visit b +2 # why\n") == "visit a +1\nvisit b +2  # why\n"


def test_trailing_comments_of_consecutive_lines_align():
    text = fmt("score engagement 0..100 # a\nscore fit # b\n\nscore x # c\n")
    assert text == "score engagement 0..100  # a\nscore fit                # b\n\nscore x  # c\n"


def test_only_comments_and_empty_files():
    assert fmt("") == ""
    assert fmt("\n\n") == ""
    assert fmt("  # only a comment\n\n\n# another") == "# only a comment\n\n# another\n"


def test_syntax_error_gives_diagnostics_and_no_text():
    result = format_source(SourceFile.from_text("visit pricing +15\nvisit (a, +\n", "m.score"))
    assert result.text is None
    assert has_errors(result.diagnostics)
    assert result.diagnostics[0].span.line == 2


def test_safety_net_refuses_output_that_changes_the_model(monkeypatch):
    monkeypatch.setattr(formatter, "format_model", lambda model, comments=(): "visit x +1\n")
    result = format_source(SourceFile.from_text("visit pricing +15\n", "m.score"))
    assert result.text is None
    assert [d.code for d in result.diagnostics] == ["E090"]


def test_safety_net_refuses_output_that_loses_a_comment(monkeypatch):
    monkeypatch.setattr(formatter, "format_model", lambda model, comments=(): "visit a +1\n")
    result = format_source(SourceFile.from_text("visit a +1  # keep me\n", "m.score"))
    assert result.text is None and result.diagnostics[0].code == "E090"


# --------------------------------------------------------------------------- CLI

UGLY = "visit pricing +15;unsubscribe   -20\n"
PRETTY = "visit pricing +15\nunsubscribe   -20\n"


def run(*args, stdin=None):
    return CliRunner().invoke(main, ["fmt", *args], input=stdin)


def test_cli_rewrites_in_place(tmp_path):
    path = tmp_path / "m.score"
    path.write_text(UGLY)
    result = run(str(path))
    assert result.exit_code == 0, result.output
    assert path.read_text() == PRETTY
    assert "m.score" in result.stderr


def test_cli_leaves_formatted_files_alone(tmp_path):
    path = tmp_path / "m.score"
    path.write_text(PRETTY)
    before = path.stat().st_mtime_ns
    result = run(str(path))
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    assert path.stat().st_mtime_ns == before


def test_cli_check_lists_files_and_writes_nothing(tmp_path):
    (tmp_path / "sub").mkdir()
    ugly, pretty = tmp_path / "sub" / "ugly.score", tmp_path / "pretty.score"
    ugly.write_text(UGLY)
    pretty.write_text(PRETTY)
    (tmp_path / "notes.txt").write_text(UGLY)
    result = run("--check", str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [str(ugly)]
    assert ugly.read_text() == UGLY
    assert run("--check", str(pretty)).exit_code == 0


def test_cli_diff(tmp_path):
    path = tmp_path / "m.score"
    path.write_text(UGLY)
    result = run("--diff", str(path))
    assert result.exit_code == 0
    assert f"--- a/{path}" in result.stdout and f"+++ b/{path}" in result.stdout
    assert "-visit pricing +15;unsubscribe   -20" in result.stdout
    assert "+unsubscribe   -20" in result.stdout
    assert path.read_text() == UGLY
    assert run("--check", "--diff", str(path)).exit_code == 1


def test_cli_stdin_to_stdout():
    result = run("-", stdin=UGLY)
    assert result.exit_code == 0
    assert result.stdout == PRETTY
    assert run("--check", "-", stdin=UGLY).stdout == "<stdin>\n"


def test_cli_syntax_error_reports_position_and_keeps_file(tmp_path):
    path = tmp_path / "bad.score"
    path.write_text("visit pricing +15\nvisit (a, +\n")
    result = run(str(path))
    assert result.exit_code == 1
    assert re.search(rf"{re.escape(str(path))}:2:\d+: error\[E0\d\d\]", result.stderr)
    assert "Traceback" not in result.output
    assert path.read_text() == "visit pricing +15\nvisit (a, +\n"


def test_cli_refuses_invalid_utf8(tmp_path):
    path = tmp_path / "latin1.score"
    path.write_bytes("visit caf\xe9 +1\n".encode("latin-1"))
    result = run(str(path))
    assert result.exit_code == 1
    assert "E007" in result.stderr and "UTF-8" in result.stderr
    assert path.read_bytes() == "visit caf\xe9 +1\n".encode("latin-1")


def test_cli_missing_path_is_a_usage_error(tmp_path):
    result = run(str(tmp_path / "nope.score"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_cli_writes_through_symlinks(tmp_path):
    target, link = tmp_path / "real.score", tmp_path / "link.score"
    target.write_text(UGLY)
    link.symlink_to(target)
    assert run(str(link)).exit_code == 0
    assert link.is_symlink() and target.read_text() == PRETTY


def test_cli_write_failure_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    from compiler.cli import fmt as fmt_command

    def refuse(path, text):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(fmt_command, "_write", refuse)
    path = tmp_path / "m.score"
    path.write_text(UGLY)
    result = run(str(path))
    assert result.exit_code == 1
    assert f"cannot write {path}: Permission denied" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
