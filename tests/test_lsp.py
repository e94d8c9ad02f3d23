"""`score lsp` driven by a real LSP client (pygls') over stdio: what an editor sees."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from lsprotocol import types

from compiler.cli import main
from compiler.pipeline import check_paths
from dsl.render import diagnostic_to_json

from lsp_client import ROOT, Client, position, uri

EXAMPLES = sorted((ROOT / "examples").glob("*.score"))
B2B = ROOT / "examples" / "b2b_saas.score"


@pytest.fixture(scope="module")
def client():
    session = Client(ROOT)
    yield session
    session.close()


def _doc(document: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(document)


def _check_json(path: Path) -> list[dict]:
    """What `score check FILE --format json` reports."""
    return [diagnostic_to_json(d) for d in check_paths([str(path)]).diagnostics]


def _as_json(found: types.Diagnostic) -> tuple:
    return (found.code, found.range.start.line + 1, found.range.start.character + 1,
            found.range.end.line + 1, found.range.end.character + 1)


BROKEN = """score engagement 0..100
visit pricing 15
visit home +5 engagment
grade tier by engagement: A >= 50, else B
stage MQL when tier is AA
"""
FIXED = """score engagement 0..100
visit pricing +15
visit home +5 engagement
grade tier by engagement: A >= 50, else B
stage MQL when tier is A
"""


def test_initialize_announces_every_feature(client):
    capabilities = client.initialized.capabilities
    assert capabilities.hover_provider and capabilities.definition_provider
    assert capabilities.document_formatting_provider and capabilities.document_symbol_provider
    assert capabilities.code_action_provider and capabilities.code_lens_provider
    assert capabilities.completion_provider.trigger_characters
    assert "scorelang.runTest" in capabilities.execute_command_provider.commands
    assert client.initialized.server_info.name == "scorelang"


def test_diagnostics_on_open_equal_score_check_and_clear_when_fixed(client, tmp_path):
    path = tmp_path / "broken.score"
    path.write_text(BROKEN, encoding="utf-8")
    document = client.open(path, BROKEN)
    shown = client.diagnostics(document, 1)
    # A syntax error is reported alone (as `score check` does): fix it, then see the rest.
    expected = _check_json(path)
    assert [_as_json(d) for d in shown] == [
        (d["code"], d["line"], d["column"], d["end_line"], d["end_column"]) for d in expected]
    assert [d.code for d in shown] == ["E001"]
    assert shown[0].range == types.Range(types.Position(1, 14), types.Position(1, 16))

    client.change(document, 2, text=BROKEN.replace("pricing 15", "pricing +15"))
    shown = client.diagnostics(document, 2)
    path.write_text(BROKEN.replace("pricing 15", "pricing +15"), encoding="utf-8")
    assert [_as_json(d) for d in shown] == [
        (d["code"], d["line"], d["column"], d["end_line"], d["end_column"])
        for d in _check_json(path)]
    assert [d.code for d in shown] == ["E102", "E104"]
    unknown = shown[0]
    assert unknown.range == types.Range(types.Position(2, 14), types.Position(2, 23))
    assert unknown.severity == types.DiagnosticSeverity.Error and unknown.source == "scorelang"
    assert "did you mean `engagement`?" in unknown.message
    assert unknown.code_description.href.endswith("docs/diagnostics.md#e102-unknown-score")

    client.change(document, 3, text=FIXED)
    assert client.diagnostics(document, 3) == []


def test_incremental_changes_are_applied(client, tmp_path):
    document = client.open(tmp_path / "typing.score", FIXED)
    assert client.diagnostics(document, 1) == []
    # type a typo into `engagement` on line 3: "engagement" -> "engagxment"
    start = position(FIXED, "engagement", 4, occurrence=1)
    edit = types.Range(start, types.Position(start.line, start.character + 1))
    client.change(document, 2, edit=(edit, "x"))
    shown = client.diagnostics(document, 2)
    assert [(d.code, d.range.start.line) for d in shown] == [("E102", 2)]


def test_utf16_columns_after_wide_characters(client, tmp_path):
    # `😀` is one code point but two UTF-16 units: `engagment` starts at code point 13, at
    # UTF-16 unit 14.
    text = 'score engagement\nvisit "😀" +5 engagment\n'
    shown = client.diagnostics(client.open(tmp_path / "emoji.score", text), 1)
    assert [(d.code, d.range.start.character, d.range.end.character) for d in shown] == [
        ("E102", 14, 23)]


def test_included_files_problems_show_on_the_include_line(client, tmp_path):
    (tmp_path / "catalog.score").write_text("event visit\nscore engagment 0..\n",
                                            encoding="utf-8")
    text = 'include "catalog.score"\nvisit +5\ndecay engagment 200% every 30 days\n'
    shown = client.diagnostics(client.open(tmp_path / "main.score", text), 1)
    codes = {d.code: d for d in shown}
    assert "E204" in codes and codes["E204"].range.start.line == 2
    path = tmp_path / "main.score"
    path.write_text(text, encoding="utf-8")
    assert sorted(d.code for d in shown) == sorted(d["code"] for d in _check_json(path))


def test_formatting_equals_score_fmt(client, tmp_path):
    for example in EXAMPLES:
        messy = _messy(example.read_text(encoding="utf-8"))
        path = tmp_path / example.name
        path.write_text(messy, encoding="utf-8")
        edits = client.request("text_document_formatting", types.DocumentFormattingParams(
            _doc(client.open(path, messy)), types.FormattingOptions(4, True)))
        result = CliRunner().invoke(main, ["fmt", str(path)])
        assert result.exit_code == 0, result.output
        assert _apply(messy, edits) == path.read_text(encoding="utf-8"), example.name


def test_formatting_a_formatted_file_changes_nothing(client):
    text = B2B.read_text(encoding="utf-8")
    edits = client.request("text_document_formatting", types.DocumentFormattingParams(
        _doc(client.open(B2B, text)), types.FormattingOptions(4, True)))
    assert list(edits) == []


def _messy(text: str) -> str:
    """The same model with the alignment and spacing a hurried writer leaves."""
    lines = []
    for line in text.split("\n"):
        if line.startswith(" ") or line.lstrip().startswith("#") or '"' in line:
            lines.append(line)
        else:
            lines.append(re.sub(r"(?<=\S) {2,}", " ", line) + "   ")
    return "\n".join(lines) + "\n\n\n"


def _apply(text: str, edits) -> str:
    lines = text.split("\n")
    for edit in sorted(edits or (), key=lambda e: (e.range.start.line, e.range.start.character),
                       reverse=True):
        start = sum(len(line) + 1 for line in lines[:edit.range.start.line]) + \
            edit.range.start.character
        end_line = min(edit.range.end.line, len(lines))
        end = sum(len(line) + 1 for line in lines[:end_line]) + edit.range.end.character
        joined = "\n".join(lines)
        joined = joined[:start] + edit.new_text + joined[min(end, len(joined)):]
        lines = joined.split("\n")
    return "\n".join(lines)


def test_completion_on_an_example(client):
    text = B2B.read_text(encoding="utf-8") + "\nvisit pricing +5 \n"
    document = client.open(B2B, text)
    at_end = types.Position(text.count("\n") - 1, len("visit pricing +5 "))
    found = client.request("text_document_completion", types.CompletionParams(
        _doc(document), at_end))
    labels = [item.label for item in found.items]
    assert labels[:2] == ["engagement", "fit"] and {"once", "at"} <= set(labels)
    start = types.Position(text.count("\n") - 1, 0)
    labels = [i.label for i in client.request("text_document_completion",
                                              types.CompletionParams(_doc(document),
                                                                     start)).items]
    assert {"visit", "email_open", "unsubscribe", "grade", "stage", "when"} <= set(labels)


def test_hover_on_a_rule_says_what_it_does(client):
    text = B2B.read_text(encoding="utf-8")
    document = client.open(B2B, text)
    found = client.request("text_document_hover", types.HoverParams(
        _doc(document), position(text, "visit home", 2)))
    value = found.contents.value
    assert "awards **+5 engagement** for each `visit` of `home`" in value
    assert "at most 1 per day in Europe/Berlin" in value
    found = client.request("text_document_hover", types.HoverParams(
        _doc(document), position(text, "tier in (A, B)", 1)))
    assert "grade `tier` by `fit`: labels `A`, `B`, `C`, `D`" in found.contents.value
    assert found.range.start == position(text, "tier in (A, B)")


def test_definition_of_scores_grades_stages_and_labels(client):
    text = B2B.read_text(encoding="utf-8")
    document = client.open(B2B, text)

    def where(needle, offset=0, occurrence=0):
        found = client.request("text_document_definition", types.DefinitionParams(
            _doc(document), position(text, needle, offset, occurrence)))
        return found.uri, found.range.start

    assert where("engagement >= 50") == (document, position(text, "engagement 0..100"))
    assert where("tier in (A", 1) == (document, position(text, "tier by fit"))
    assert where("tier in (A, B)", len("tier in (")) == (document, position(text, "A >= 30"))
    assert where("stage is SQL", len("stage is ")) == (document, position(text, "SQL when"))
    assert where("expect stage is MQL", len("expect stage is ")) == (
        document, position(text, "MQL when"))


def test_definition_of_an_include_opens_the_file(client, tmp_path):
    (tmp_path / "catalog.score").write_text("event visit\n", encoding="utf-8")
    text = 'include "catalog.score"\nvisit +5\n'
    document = client.open(tmp_path / "main.score", text)
    found = client.request("text_document_definition", types.DefinitionParams(
        _doc(document), position(text, "catalog", 2)))
    assert found.uri == uri(tmp_path / "catalog.score")
    found = client.request("text_document_definition", types.DefinitionParams(
        _doc(document), position(text, "visit +5")))
    assert found.uri == uri(tmp_path / "catalog.score") and found.range.start.line == 0


def test_code_actions_from_hints(client, tmp_path):
    text = "score engagement\nvisit home +5 engagment\n"
    document = client.open(tmp_path / "typo.score", text)
    shown = client.diagnostics(document, 1)
    found = client.request("text_document_code_action", types.CodeActionParams(
        _doc(document), shown[0].range, types.CodeActionContext(shown)))
    fix = found[0]
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
    assert fix.edit.changes[document][0].new_text == "engagement"
    assert fix.edit.changes[document][0].range == shown[0].range

    text = "visit pricing 15\n"
    document = client.open(tmp_path / "sign.score", text)
    shown = client.diagnostics(document, 1)
    found = client.request("text_document_code_action", types.CodeActionParams(
        _doc(document), shown[0].range, types.CodeActionContext(shown)))
    assert [a.edit.changes[document][0].new_text for a in found] == ["+15", "-15"]

    text = 'timezone "europe/berlin"\nvisit +1\n'
    document = client.open(tmp_path / "zone.score", text)
    shown = client.diagnostics(document, 1)
    found = client.request("text_document_code_action", types.CodeActionParams(
        _doc(document), shown[0].range, types.CodeActionContext(shown)))
    assert found[0].edit.changes[document][0].new_text == '"Europe/Berlin"'


def test_document_symbols_outline_the_model(client):
    text = B2B.read_text(encoding="utf-8")
    found = client.request("text_document_document_symbol", types.DocumentSymbolParams(
        _doc(client.open(B2B, text))))
    by_detail = {}
    for symbol in found:
        by_detail.setdefault(symbol.detail, []).append(symbol.name)
    assert by_detail["score"] == ["engagement", "fit"]
    assert by_detail["grade"] == ["tier"] and by_detail["stage"] == ["MQL", "SQL"]
    assert "visit pricing +15" in by_detail["rule"]
    assert by_detail["trigger"][0] == "when stage is SQL notify sales, reset engagement"
    assert len(by_detail["test"]) == 7
    tier = next(s for s in found if s.name == "tier")
    assert [child.name for child in tier.children] == ["A", "B", "C"]


def test_run_test_lens_and_command(client, tmp_path):
    text = B2B.read_text(encoding="utf-8")
    document = client.open(B2B, text)
    lenses = client.request("text_document_code_lens", types.CodeLensParams(_doc(document)))
    tests = [lens for lens in lenses if lens.command.command == "scorelang.runTest"]
    assert len(tests) == 7 and tests[0].range.start.line == position(text, 'test "a CEO').line
    result = client.request("workspace_execute_command", types.ExecuteCommandParams(
        tests[0].command.command, tests[0].command.arguments))
    assert result["passed"] and "1 passed, 0 failed" in result["text"]

    failing = text.replace("expect engagement = 70", "expect engagement = 71")
    path = tmp_path / "failing.score"
    document = client.open(path, failing)
    lenses = client.request("text_document_code_lens", types.CodeLensParams(_doc(document)))
    first = next(lens for lens in lenses if lens.command.command == "scorelang.runTest")
    result = client.request("workspace_execute_command", types.ExecuteCommandParams(
        first.command.command, first.command.arguments))
    assert not result["passed"]
    assert result["failures"][0]["line"] == failing[:failing.index("= 71")].count("\n") + 1
    assert "expected engagement = 71, actual engagement = 70" in result["failures"][0]["message"]
    assert client.wait(lambda: any("failed" in m.message for m in client.messages))


def test_the_server_survives_broken_text(client, tmp_path):
    junk = ['"', "(((((", "test \"x\":\n\texpect", "\x00\x01", "visit +1\n" * 3 + "    x",
            "when " + "(" * 500 + "x", "grade g by : A >=", "score ..", "😀" * 50]
    document = client.open(tmp_path / "junk.score", "")
    for version, text in enumerate(junk, start=2):
        client.change(document, version, text=text)
        client.diagnostics(document, version)
        for line in range(text.count("\n") + 1):
            spot = types.Position(line, 1)
            client.request("text_document_hover", types.HoverParams(_doc(document), spot))
            client.request("text_document_completion", types.CompletionParams(_doc(document),
                                                                              spot))
        client.request("text_document_document_symbol", types.DocumentSymbolParams(
            _doc(document)))
        client.request("text_document_formatting", types.DocumentFormattingParams(
            _doc(document), types.FormattingOptions(4, True)))
    client.change(document, 99, text=FIXED)
    assert client.diagnostics(document, 99) == []


# --------------------------------------------------------------------------- sample data


MODEL = """score engagement 0..100
visit pricing +5 at most 1 per day
register webinar +20
stage warm when engagement >= 5
stage hot when engagement >= 25
"""
# a: pricing twice on one day (one capped), once the next day, a webinar: 30 -> hot
# b: pricing once: 5 -> warm;  c: only a profile, no events: no stage
EVENTS = [
    {"contact": "a", "event": "visit", "target": "pricing", "at": "2026-03-02T09:00:00Z"},
    {"contact": "a", "event": "visit", "target": "pricing", "at": "2026-03-02T10:00:00Z"},
    {"contact": "a", "event": "visit", "target": "pricing", "at": "2026-03-03T09:00:00Z"},
    {"contact": "a", "event": "register", "target": "webinar", "at": "2026-03-04T09:00:00Z"},
    {"contact": "b", "event": "visit", "target": "pricing", "at": "2026-03-02T09:00:00Z"},
]


@pytest.fixture()
def workspace(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "events.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    (tmp_path / "data" / "contacts.jsonl").write_text(
        '{"contact": "a"}\n{"contact": "b"}\n{"contact": "c", "title": "CEO"}\n', encoding="utf-8")
    (tmp_path / "scorelang.toml").write_text(
        'events = "data/events.jsonl"\ncontacts = "data/contacts.jsonl"\n', encoding="utf-8")
    (tmp_path / "model.score").write_text(MODEL, encoding="utf-8")
    session = Client(tmp_path)
    yield tmp_path, session
    session.close()


def test_hover_and_lenses_show_the_impact_on_sample_data(workspace):
    root, client = workspace
    document = client.open(root / "model.score", MODEL)
    assert client.diagnostics(document, 1) == []
    found = client.request("text_document_hover", types.HoverParams(
        _doc(document), position(MODEL, "visit pricing")))
    assert "**3 awards** to 2 contacts" in found.contents.value
    assert "1 event capped by the limit" in found.contents.value
    assert "(5 events, 3 contacts, 3 scored)" in found.contents.value

    def stage_lenses():
        lenses = client.request("text_document_code_lens", types.CodeLensParams(
            _doc(document)))
        return [lens.command.title for lens in lenses if lens.command.command == ""]

    assert client.wait(lambda: client.refreshes > 0 or "reach" in " ".join(stage_lenses()))
    assert stage_lenses() == [
        "2 of 3 contacts reach warm on the sample data (1 are there now)",
        "1 of 3 contacts reach hot on the sample data (1 are there now)"]


def test_sample_data_warnings_equal_score_check_with_samples(workspace):
    root, client = workspace
    text = MODEL + "if industry = \"SaaS\" +5\n"
    path = root / "model.score"
    path.write_text(text, encoding="utf-8")
    shown = client.diagnostics(client.open(path, text), 1)
    result = CliRunner().invoke(main, ["check", str(path), "--format", "json", "--events",
                                       str(root / "data" / "events.jsonl"), "--contacts",
                                       str(root / "data" / "contacts.jsonl")])
    expected = json.loads(result.output)["diagnostics"]
    assert [d.code for d in shown] == [d["code"] for d in expected] == ["W106"]


def test_unreadable_sample_data_is_said_once(workspace):
    root, client = workspace
    shutil.rmtree(root / "data")
    document = client.open(root / "model.score", MODEL)
    client.diagnostics(document, 1)
    assert client.wait(lambda: any("sample data" in m.message for m in client.messages))
    found = client.request("text_document_hover", types.HoverParams(
        _doc(document), position(MODEL, "visit pricing")))
    assert "sample data: cannot read" in found.contents.value
