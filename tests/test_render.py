"""Rendering diagnostics: text (STYLE.md), JSON, GitHub annotations, SARIF 2.1.0."""
from __future__ import annotations

import json
import pathlib

import jsonschema
import pytest

from dsl.diagnostics import error, warning
from dsl.render import (JSON_VERSION, format_diagnostic, github_annotation, render, render_json,
                        render_sarif, render_text, summary)
from dsl.source import SourceFile, Span

SCHEMA = pathlib.Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

SOURCE = SourceFile.from_text(
    "score engagement 0..100\nvisit pricing +15 engagment\n\tvisit \"blog/*\" +5\n",
    "models/b2b.score")
UNKNOWN = error("E102", "unknown score `engagment`", Span("models/b2b.score", 2, 19, 2, 28),
                hint="did you mean `engagement`?")
TABBED = warning("W101", "this rule awards 0 points", Span("models/b2b.score", 3, 17, 3, 19),
                 notes=("first note", "second note"))
NOWHERE = error("E110", "including \"a.score\" makes a cycle", None)


def test_text_matches_style_guide():
    assert format_diagnostic(UNKNOWN, SOURCE) == (
        "models/b2b.score:2:19: error[E102]: unknown score `engagment`\n"
        "  2 | visit pricing +15 engagment\n"
        "    |                   ^^^^^^^^^\n"
        "    = hint: did you mean `engagement`?")


def test_text_keeps_tabs_so_carets_line_up_and_lists_notes():
    assert format_diagnostic(TABBED, SOURCE) == (
        "models/b2b.score:3:17: warning[W101]: this rule awards 0 points\n"
        "  3 | \tvisit \"blog/*\" +5\n"
        "    | \t               ^^\n"
        "    = note: first note\n"
        "    = note: second note")


def test_text_gutter_grows_with_the_line_number():
    source = SourceFile.from_text("\n" * 119 + "visit x +0\n", "m.score")
    rendered = format_diagnostic(
        warning("W101", "zero", Span("m.score", 120, 9, 120, 11), hint="h"), source)
    assert rendered.splitlines()[1:] == ["  120 | visit x +0", "      |         ^^",
                                         "      = hint: h"]


def test_text_without_source_or_span():
    assert format_diagnostic(UNKNOWN, None) == (
        "models/b2b.score:2:19: error[E102]: unknown score `engagment`\n"
        "    = hint: did you mean `engagement`?")
    assert format_diagnostic(NOWHERE) == "error[E110]: including \"a.score\" makes a cycle"


def test_multi_line_span_is_underlined_to_the_end_of_its_first_line():
    diagnostic = error("E001", "x", Span("models/b2b.score", 2, 7, 3, 4))
    assert format_diagnostic(diagnostic, SOURCE).splitlines()[2] == "    |       " + "^" * 21


def test_colour_only_when_asked():
    plain = render_text([UNKNOWN], {SOURCE.name: SOURCE})
    coloured = render_text([UNKNOWN], {SOURCE.name: SOURCE}, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[1;31merror[E102]" in coloured
    # Stripping the escapes gives back the plain text.
    import re
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_summary_line():
    assert summary([]) == "no problems found"
    assert summary([UNKNOWN, TABBED, NOWHERE], files_checked=1) == "2 errors, 1 warning in 1 file"
    assert render_text([], files_checked=3) == "no problems found in 3 files\n"


def test_json_is_versioned_and_complete():
    document = json.loads(render_json([UNKNOWN, NOWHERE]))
    assert document["version"] == JSON_VERSION == 1
    assert document["summary"] == {"errors": 2, "warnings": 0}
    assert document["diagnostics"][0] == {
        "code": "E102", "severity": "error", "message": "unknown score `engagment`",
        "file": "models/b2b.score", "line": 2, "column": 19, "end_line": 2, "end_column": 28,
        "hint": "did you mean `engagement`?", "notes": []}
    assert document["diagnostics"][1]["file"] is None


def test_json_is_stable():
    assert render_json([UNKNOWN, TABBED]) == render_json([UNKNOWN, TABBED])
    assert list(json.loads(render_json([TABBED]))["diagnostics"][0]) == [
        "code", "severity", "message", "file", "line", "column", "end_line", "end_column",
        "hint", "notes"]


def test_github_annotation():
    assert github_annotation(UNKNOWN) == (
        "::error file=models/b2b.score,line=2,col=19,endColumn=28,title=E102::"
        "unknown score `engagment`%0A= hint: did you mean `engagement`?")
    assert github_annotation(TABBED).startswith("::warning file=models/b2b.score,line=3,")


def test_github_escapes_properties_and_data():
    diagnostic = error("E007", "100% wrong\nreally", Span("a,b:c.score", 1, 1, 1, 2))
    assert github_annotation(diagnostic) == (
        "::error file=a%2Cb%3Ac.score,line=1,col=1,endColumn=2,title=E007::100%25 wrong%0Areally")


def test_github_output_ends_with_summary():
    assert render_github_lines([UNKNOWN])[-1] == "1 error, 0 warnings"


def render_github_lines(diagnostics):
    return render(diagnostics, fmt="github").splitlines()


@pytest.fixture(scope="module")
def sarif_validator():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    return validator(schema, format_checker=validator.FORMAT_CHECKER)


def test_sarif_validates_against_the_2_1_0_schema(sarif_validator):
    log = json.loads(render_sarif([UNKNOWN, TABBED, NOWHERE]))
    sarif_validator.validate(log)
    assert log["version"] == "2.1.0"


def test_sarif_schema_rejects_a_broken_log(sarif_validator):
    # The validator is real: a result with a 0 column (SARIF columns are 1-based) fails.
    log = json.loads(render_sarif([UNKNOWN]))
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startColumn"] = 0
    with pytest.raises(jsonschema.ValidationError):
        sarif_validator.validate(log)


def test_sarif_content():
    run = json.loads(render_sarif([UNKNOWN, TABBED]))["runs"][0]
    assert run["tool"]["driver"]["name"] == "scorelang"
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["E102", "W101"]
    first, second = run["results"]
    assert first["level"] == "error" and second["level"] == "warning"
    assert second["ruleIndex"] == 1
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "models/b2b.score", "uriBaseId": "SRCROOT"},
        "region": {"startLine": 2, "startColumn": 19, "endLine": 2, "endColumn": 28}}
    assert first["message"]["text"] == ("unknown score `engagment`\n"
                                        "hint: did you mean `engagement`?")


def test_sarif_uri_is_percent_encoded():
    diagnostic = error("E102", "x", Span("my models/ä.score", 1, 1, 1, 2))
    location = json.loads(render_sarif([diagnostic]))["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "my%20models/%C3%A4.score"


def test_unknown_format_is_a_programming_error():
    with pytest.raises(ValueError):
        render([], fmt="xml")


def test_wide_characters_take_two_columns():
    source = SourceFile.from_text("訪問 価格 +5 得点\n", "jp.score")
    rendered = format_diagnostic(error("E102", "unknown score `得点`",
                                       Span("jp.score", 1, 10, 1, 12)), source)
    # Four ideographs, two spaces and `+5 ` before the word: 8 + 2 + 3 cells.
    assert rendered.splitlines()[2] == "    | " + " " * 13 + "^^^^"
