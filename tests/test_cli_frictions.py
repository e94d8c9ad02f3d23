"""What a newcomer meets first on the command line (issue 9, item 4): each behaviour here once
surprised a user trying the tool."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main

EVENT = '{"contact": "%s", "event": "visit", "target": "pricing", "at": "2026-03-02T10:00:00Z"}'


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------- score run


def test_run_with_require_but_no_contacts_warns(workdir):
    Path("m.score").write_text("require consent\nvisit pricing +15\n", encoding="utf-8")
    Path("e.jsonl").write_text(EVENT % "c-1" + "\n", encoding="utf-8")
    result = invoke("run", "m.score", "--events", "e.jsonl")
    assert result.exit_code == 0
    assert "warning: m.score requires `consent = true`, but no --contacts file was given: " \
           "every contact is unscored" in result.stderr
    assert json.loads(result.stdout)["scores"] == {"score": None}


def test_run_with_contacts_or_without_require_does_not_warn(workdir):
    Path("m.score").write_text("require consent\nvisit pricing +15\n", encoding="utf-8")
    Path("free.score").write_text("visit pricing +15\n", encoding="utf-8")
    Path("e.jsonl").write_text(EVENT % "c-1" + "\n", encoding="utf-8")
    Path("c.jsonl").write_text('{"contact": "c-1", "consent": true}\n', encoding="utf-8")
    with_contacts = invoke("run", "m.score", "--events", "e.jsonl", "--contacts", "c.jsonl")
    without_require = invoke("run", "free.score", "--events", "e.jsonl")
    assert "warning" not in with_contacts.stderr + without_require.stderr
    assert json.loads(with_contacts.stdout)["scores"] == {"score": 15}


# --------------------------------------------------------------------------- score fmt


def test_fmt_without_paths_formats_the_current_folder_like_check_and_test(workdir):
    Path("models").mkdir()
    Path("models/m.score").write_text("visit   pricing +15\n", encoding="utf-8")
    checked = invoke("fmt", "--check")
    assert checked.exit_code == 1 and "models/m.score" in checked.output
    assert invoke("fmt").exit_code == 0
    assert Path("models/m.score").read_text(encoding="utf-8") == "visit pricing +15\n"
    assert invoke("fmt", "--check").exit_code == 0
