"""Where a diagnostic points: a missing file (no line), and SARIF locations and rule help."""
from __future__ import annotations

import json
import os
import pathlib
import re

import jsonschema
import pytest
from click.testing import CliRunner

from compiler.cli import main
from dsl.diagnostics import CODES, error
from dsl.render import docs_anchor, render, render_json, sarif_log
from dsl.source import Span

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"


def check(*args):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "b2b.score").write_text("visit pricing +15 engagment\n",
                                                    encoding="utf-8")
    return tmp_path


def validate(log):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)
    validator(schema, format_checker=validator.FORMAT_CHECKER).validate(log)


# --------------------------------------------------------------------------- a missing file


def test_check_of_a_missing_file_says_it_does_not_exist(folder):
    result = check("models/b2b.scor")
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first == "models/b2b.scor: error[E007]: `models/b2b.scor` does not exist"
    assert "did you mean `models/b2b.score`?" in result.output
    assert ":1:1" not in result.output and "no `.score` files found" not in result.output


def test_a_missing_file_has_no_line_in_json_github_and_sarif(folder):
    as_json = json.loads(check("--format", "json", "nothing.score").output)["diagnostics"][0]
    assert (as_json["file"], as_json["line"], as_json["column"]) == ("nothing.score", None, None)
    github = check("--format", "github", "nothing.score").output.splitlines()[0]
    assert github.startswith("::error file=nothing.score,title=E007::")
    log = json.loads(check("--format", "sarif", "nothing.score").output)
    validate(log)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "nothing.score", "uriBaseId": "SRCROOT"}}


def test_a_missing_folder_is_named_with_the_working_folder(folder):
    result = check("modles/b2b.score")
    assert "the folder `modles` does not exist either" in result.output
    assert str(folder) in result.output


# --------------------------------------------------------------------------- SARIF


def test_sarif_uris_are_relative_to_the_working_folder(folder):
    log = json.loads(check("--format", "sarif", str(folder / "models" / "b2b.score")).output)
    validate(log)
    run = log["runs"][0]
    assert run["originalUriBaseIds"] == {"SRCROOT": {"uri": folder.as_uri() + "/"}}
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "models/b2b.score", "uriBaseId": "SRCROOT"}


def test_a_file_outside_the_working_folder_gets_an_absolute_file_uri(folder, tmp_path_factory):
    other = tmp_path_factory.mktemp("elsewhere") / "x y.score"
    other.write_text("visit +1 nope\n", encoding="utf-8")
    log = json.loads(check("--format", "sarif", os.path.relpath(other)).output)
    validate(log)
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": other.as_uri()} and "%20" in artifact["uri"]


def test_every_sarif_rule_links_to_its_section_of_the_diagnostics_page():
    diagnostics = [error(code, "x", Span("m.score", 1, 1, 1, 2)) for code in CODES]
    log = sarif_log(diagnostics, docs_url="https://example.org/docs/diagnostics.md", root="/")
    validate(log)
    docs = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    headings = re.findall(r"^### (([EW]\d{3}) .*)$", docs, re.M)
    anchors = {code: _github_anchor(heading) for heading, code in headings}
    for rule in log["runs"][0]["tool"]["driver"]["rules"]:
        code = rule["id"]
        assert rule["helpUri"] == f"https://example.org/docs/diagnostics.md#{anchors[code]}"
        assert f"docs/diagnostics.md#{anchors[code]}" in rule["help"]["text"]
        assert rule["helpUri"] in rule["help"]["markdown"]


def test_the_diagnostics_page_headings_are_the_registry_names():
    # the anchors of helpUri are computed from the registry: the headings must match it
    docs = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    headings = dict(re.findall(r"^### ([EW]\d{3}) (.*)$", docs, re.M))
    assert headings == dict(CODES)


def test_check_links_sarif_rules_to_the_given_docs_url(folder):
    log = json.loads(check("--format", "sarif", "--docs-url", "https://x.test/d.md",
                           "models").output)
    rule = log["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["helpUri"] == f"https://x.test/d.md#{docs_anchor(rule['id'])}"


def test_without_a_docs_url_the_checkout_file_is_linked(folder, monkeypatch):
    monkeypatch.delenv("SCORELANG_DOCS_URL", raising=False)
    rule = json.loads(check("--format", "sarif", "models").output)["runs"][0]["tool"][
        "driver"]["rules"][0]
    assert rule["helpUri"].startswith((ROOT / "docs" / "diagnostics.md").as_uri() + "#")


def test_anchors_as_github_makes_them():
    assert docs_anchor("E102") == "e102-unknown-score"
    assert docs_anchor("W109") == "w109-score-grade-or-stage-name-read-as-an-attribute-or-property"


def _github_anchor(heading: str) -> str:
    # GitHub: lower case, punctuation other than `-` and `_` dropped, spaces to `-`
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_render_json_of_a_whole_file_span_keeps_the_file():
    rendered = json.loads(render_json([error("E007", "gone", Span.whole_file("a.score"))]))
    assert rendered["diagnostics"][0]["file"] == "a.score"
    assert render([error("E007", "gone", Span.whole_file("a.score"))]).startswith(
        "a.score: error[E007]: gone\n")
