"""`score check`: exit codes, every output format, folders, includes, sample data."""
from __future__ import annotations

import json
import pathlib
import re

import jsonschema
import pytest
from click.testing import CliRunner

from compiler.cli import main

pytest.importorskip("dsl.parser", reason="the parser (dsl/parser.py) has not landed yet")

SCHEMA = pathlib.Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
GOOD = "score engagement 0..100\nvisit pricing +15 engagement\n"
TYPO = "score engagement 0..100\nvisit pricing +15 engagment\n"
WARN = "score engagement 0..100\nvisit pricing +0\n"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(folder: pathlib.Path, name: str, text: str) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return name


def run(*args):
    return CliRunner().invoke(main, ["check", *args])


def test_clean_file_exits_0(folder):
    result = run(write(folder, "good.score", GOOD))
    assert result.exit_code == 0, result.output
    assert result.output == "no problems found in 1 file\n"


def test_error_exits_1_with_position_and_hint(folder):
    result = run(write(folder, "typo.score", TYPO))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "typo.score:2:19: error[E102]: unknown score `engagment`",
        "  2 | visit pricing +15 engagment",
        "    |                   ^^^^^^^^^",
        "    = hint: did you mean `engagement`?",
        "",
        "1 error, 0 warnings in 1 file",
    ]


def test_warnings_pass_unless_strict(folder):
    name = write(folder, "warn.score", WARN)
    assert run(name).exit_code == 0
    assert run("--strict", name).exit_code == 1


def test_folder_is_searched_recursively_and_sorted(folder):
    write(folder, "models/b.score", TYPO)
    write(folder, "models/deep/a.score", WARN)
    write(folder, "models/notes.txt", "not a model")
    result = run("models")
    assert result.exit_code == 1
    headers = [line for line in result.output.splitlines() if re.match(r"^\S+:\d+:\d+: ", line)]
    assert headers == [
        "models/b.score:2:19: error[E102]: unknown score `engagment`",
        "models/deep/a.score:2:15: warning[W101]: this rule awards 0 points",
    ]
    assert result.output.endswith("1 error, 1 warning in 2 files\n")


def test_no_paths_means_current_folder(folder):
    write(folder, "x.score", TYPO)
    result = run()
    assert result.exit_code == 1
    assert "x.score:2:19: error[E102]" in result.output


def test_missing_path_is_a_clean_error(folder):
    result = run("nowhere.score")
    assert result.exit_code == 1
    assert "nowhere.score: error[E007]: `nowhere.score` does not exist" in result.output
    assert "Traceback" not in result.output


def test_syntax_error_reported_without_traceback(folder):
    result = run(write(folder, "bad.score", "visit pricing +15 (((\n"))
    assert result.exit_code == 1
    assert re.search(r"bad\.score:1:\d+: error\[E0\d\d\]", result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_json_format(folder):
    result = run("--format", "json", write(folder, "typo.score", TYPO))
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["version"] == 1
    assert document["summary"] == {"errors": 1, "warnings": 0}
    [diagnostic] = document["diagnostics"]
    assert (diagnostic["code"], diagnostic["file"], diagnostic["line"], diagnostic["column"],
            diagnostic["end_column"]) == ("E102", "typo.score", 2, 19, 28)


def test_github_format(folder):
    result = run("--format", "github", write(folder, "typo.score", TYPO))
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "::error file=typo.score,line=2,col=19,endColumn=28,title=E102::unknown score "
        "`engagment`%0A= hint: did you mean `engagement`?")


def test_sarif_format_validates(folder):
    write(folder, "typo.score", TYPO)
    write(folder, "warn.score", WARN)
    result = run("--format", "sarif", ".")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)
    validator(schema, format_checker=validator.FORMAT_CHECKER).validate(log)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("E102", "error"),
                                                          ("W101", "warning")]
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["endColumn"]) == (2, 19, 28)


def test_colour_on_request_only(folder):
    name = write(folder, "typo.score", TYPO)
    assert "\x1b[" not in run(name).output
    assert "\x1b[1;31merror[E102]" in run("--color", name).output


def test_included_file_is_checked_through_its_includer(folder):
    # Alone, the catalog would warn that its events are unused; through the model it is fine.
    write(folder, "common/catalog.score", "event visit (seconds: number)\nevent click\n")
    write(folder, "model.score", 'include "common/catalog.score"\n'
                                 'visit pricing where seconds = "long" +15\nclick +1\n')
    result = run("--format", "json", ".")
    codes = [(d["code"], d["file"]) for d in json.loads(result.stdout)["diagnostics"]]
    assert codes == [("E201", "model.score")]


def test_include_errors(folder):
    write(folder, "a.score", 'include "b.score"\nvisit x +1\n')
    write(folder, "b.score", 'include "a.score"\n')
    write(folder, "c.score", 'include "missing.score"\nvisit x +1\n')
    result = run("--format", "json", ".")
    found = [(d["code"], d["file"]) for d in json.loads(result.stdout)["diagnostics"]]
    assert ("E109", "c.score") in found
    # a.score and b.score each find the cycle; it is reported once.
    assert [code for code, _ in found].count("E110") == 1


def test_sample_data_warnings(folder):
    name = write(folder, "m.score", 'if titel = "CEO" +5\nvisit any where secs > 3 +1\n')
    write(folder, "contacts.jsonl", '{"contact": "c1", "title": "CEO"}\n')
    write(folder, "events.jsonl", '{"contact": "c1", "event": "visit", '
                                  '"at": "2026-01-01T00:00:00Z", "props": {"seconds": 4}}\n')
    result = run("--format", "json", "--contacts", "contacts.jsonl", "--events", "events.jsonl",
                 name)
    assert result.exit_code == 0
    diagnostics = json.loads(result.stdout)["diagnostics"]
    assert [(d["code"], d["hint"]) for d in diagnostics] == [
        ("W106", "did you mean `title`?"), ("W106", "did you mean `seconds`?")]
    assert run("--strict", "--contacts", "contacts.jsonl", name).exit_code == 1


def test_unreadable_sample_data_exits_2(folder):
    result = run("--contacts", "nope.jsonl", write(folder, "m.score", GOOD))
    assert result.exit_code == 2
    assert "nope.jsonl" in result.output


def test_empty_folder_says_so(folder):
    result = run()
    assert result.exit_code == 0
    assert result.stdout == "no problems found in 0 files\n"
    assert result.stderr == "note: no `.score` files found in .\n"
