"""The VS Code extension (editors/vscode): its TextMate grammar, tested with
`vscode-tmgrammar-test` on annotated fixtures, its problem matcher on real `score check`
output, and the `.vsix` that `@vscode/vsce` packages. The npm tools come from
`npm ci` in editors/vscode (`.ci/run` does it); without them those tests skip, saying so."""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from dsl.ast import KEYWORDS

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"
PACKAGE = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
GRAMMAR = VSCODE / "syntaxes" / "score.tmLanguage.json"
BIN = VSCODE / "node_modules" / ".bin"
NO_NPM = "the npm tools of editors/vscode are not installed (run `npm ci` there; .ci/run does)"


def _generator():
    spec = importlib.util.spec_from_file_location("make_grammar", VSCODE / "make_grammar.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_grammar_is_the_generated_one():
    assert GRAMMAR.read_text(encoding="utf-8") == _generator().text(), \
        "run python3 editors/vscode/make_grammar.py"


def test_the_grammar_knows_every_keyword():
    text = GRAMMAR.read_text(encoding="utf-8")
    alternatives = set()
    for group in re.findall(r"\(\?:([a-z|]+)\)", text):
        alternatives |= set(group.split("|"))
    assert set(KEYWORDS) <= alternatives


def test_the_extension_declares_language_grammar_and_server():
    contributes = PACKAGE["contributes"]
    language = contributes["languages"][0]
    assert language["extensions"] == [".score"]
    assert (VSCODE / language["configuration"]).is_file()
    assert (VSCODE / contributes["grammars"][0]["path"]).resolve() == GRAMMAR
    assert contributes["configuration"]["properties"]["scorelang.server.command"][
        "default"] == ["score", "lsp"]
    assert (VSCODE / PACKAGE["main"]).is_file()
    configuration = json.loads((VSCODE / language["configuration"]).read_text())
    assert configuration["comments"]["lineComment"] == "#"
    indent = configuration["onEnterRules"][0]["beforeText"]
    assert re.match(indent, 'test "a CEO becomes MQL":') and not re.match(indent, "visit +1")


def test_the_problem_matcher_reads_score_check_output(tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "b2b.score").write_text(
        "score engagement\nvisit pricing +15 engagment\nvisit home +0\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    output = CliRunner().invoke(main, ["check", "--no-color", "models"]).output
    matcher = PACKAGE["contributes"]["problemMatchers"][0]
    pattern = matcher["pattern"]
    found = [m for m in map(re.compile(pattern["regexp"]).match, output.splitlines()) if m]
    assert [(m.group(pattern["file"]), m.group(pattern["line"]), m.group(pattern["column"]),
             m.group(pattern["severity"]), m.group(pattern["code"])) for m in found] == [
        ("models/b2b.score", "2", "19", "error", "E102"),
        ("models/b2b.score", "3", "12", "warning", "W101")]
    assert found[0].group(pattern["message"]) == "unknown score `engagment`"


@pytest.mark.skipif(not (BIN / "vscode-tmgrammar-test").exists(), reason=NO_NPM)
def test_the_grammar_passes_its_annotated_fixtures():
    fixtures = sorted(str(p.relative_to(VSCODE)) for p in (VSCODE / "tests").glob("*.score"))
    assert fixtures
    done = subprocess.run([str(BIN / "vscode-tmgrammar-test"), "-g",
                           str(GRAMMAR.relative_to(VSCODE)), *fixtures], cwd=VSCODE,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("run successfuly") == len(fixtures)


@pytest.mark.skipif(not (BIN / "vsce").exists(), reason=NO_NPM)
def test_vsce_packages_the_extension(tmp_path):
    out = tmp_path / "scorelang.vsix"
    done = subprocess.run([str(BIN / "vsce"), "package", "--no-yarn",
                           "--allow-missing-repository", "--out", str(out)], cwd=VSCODE,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    names = set(zipfile.ZipFile(out).namelist())
    assert {"extension/package.json", "extension/extension.js",
            "extension/syntaxes/score.tmLanguage.json", "extension/language-configuration.json",
            "extension/node_modules/vscode-languageclient/package.json"} <= names
    assert not any(name.startswith("extension/tests/") for name in names)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_extension_script_is_valid_javascript():
    done = subprocess.run(["node", "--check", str(VSCODE / "extension.js")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


SHIPPED = sorted([*ROOT.glob("examples/**/*.score"), *ROOT.glob("tests/golden/**/*.score"),
                  *ROOT.glob("tests/conformance/*/model.score")])
MODULES = VSCODE / "node_modules"


def _tokenized(paths) -> dict:
    done = subprocess.run(["node", str(VSCODE / "tokenize.js"), *map(str, paths)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(shutil.which("node") is None or not (MODULES / "vscode-textmate").exists(),
                    reason=NO_NPM)
def test_vs_code_tokenizes_every_shipped_model_without_splitting_words(tmp_path):
    probe = tmp_path / "words.score"
    probe.write_text("account by company_domain\nwhen heat >= 5 tag senior\n"
                     "visit page_10 +1\n", encoding="utf-8")
    found = _tokenized([probe, *SHIPPED])
    word = re.compile(r"[^\W\d]\w*|\d\w*")
    for file, lines in found.items():
        for number, tokens in enumerate(lines, start=1):
            text = "".join(t["text"] for t in tokens)
            # a token that begins or ends inside a word, with a keyword or number scope
            offset = 0
            for token in tokens:
                start, end = offset, offset + len(token["text"])
                offset = end
                inner = any(m.start() < start < m.end() or m.start() < end < m.end()
                            for m in word.finditer(text))
                scoped = any(s.startswith(("keyword", "constant.numeric"))
                             for s in token["scopes"])
                assert not (inner and scoped and token["text"].strip()), \
                    f"{file}:{number}: `{token['text']}` inside a word is {token['scopes']}"
    probe_lines = found[str(probe)]
    assert probe_lines[0][-1] == {"text": "company_domain", "scopes": ["source.score"]}
