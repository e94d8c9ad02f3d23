"""`score run --accounts FILE` (docs/language.md 10.6, 10.8.14): formats, the empty file of a
model without `account by`, and what cannot be used."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main

CASE = Path(__file__).resolve().parent / "conformance" / "16_accounts"


def run(*args):
    return CliRunner().invoke(main, ["run", str(CASE / "model.score"), "--events",
                                     str(CASE / "events.jsonl"), "--contacts",
                                     str(CASE / "contacts.jsonl"), *args],
                              catch_exceptions=False)


def test_jsonl_by_default_and_results_unchanged(tmp_path):
    result = run("--accounts", str(tmp_path / "accounts.jsonl"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (CASE / "expected.jsonl").read_text()
    lines = (tmp_path / "accounts.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        json.loads(line) for line in (CASE / "expected_accounts.jsonl").read_text().splitlines()]
    assert result.stdout == run().stdout  # without --accounts: the same contact results


def test_csv_by_extension_or_format(tmp_path):
    expected = ("account,contacts,heat,champions,best_fit,a_heat,abm,fitness\r\n"
                "acme.com,3,60,1,40,40,Hot,Strong\r\n"
                "beta.io,1,0,0,10,0,Cold,Weak\r\n"
                "delta.org,1,0,0,,0,Cold,\r\n")
    assert run("--accounts", str(tmp_path / "a.csv")).exit_code == 0
    assert (tmp_path / "a.csv").read_bytes().decode() == expected
    assert run("--accounts", str(tmp_path / "a.txt"), "--format", "csv",
               "-o", str(tmp_path / "r.csv")).exit_code == 0
    assert (tmp_path / "a.txt").read_bytes().decode() == expected


def test_table_on_standard_output_when_the_results_go_to_a_file(tmp_path):
    result = run("--accounts", "-", "--format", "table", "-o", str(tmp_path / "r.txt"))
    assert result.exit_code == 0, result.stderr
    assert "acme.com" in result.stdout and "Strong" in result.stdout
    assert result.stdout.rstrip().endswith("3 accounts")
    row = next(line for line in result.stdout.splitlines() if "delta.org" in line)
    assert row.split("│")[5].strip() == "-"  # best_fit: null


def test_both_on_standard_output_is_refused():
    result = run("--accounts", "-")
    assert result.exit_code == 2
    assert "--accounts -" in result.stderr and result.stdout == ""


def test_a_model_without_account_by_writes_an_empty_file(tmp_path):
    model = tmp_path / "m.score"
    model.write_text("visit pricing +20\n")
    result = CliRunner().invoke(main, ["run", str(model), "--events", str(CASE / "events.jsonl"),
                                       "--accounts", str(tmp_path / "a.jsonl")])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "a.jsonl").read_text() == ""


def test_an_unwritable_accounts_file_fails_before_scoring(tmp_path):
    result = run("--accounts", str(tmp_path / "missing" / "a.jsonl"))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("engine", ["python", "duckdb", "spark"])
def test_engines_write_the_same_file(engine, tmp_path):
    from test_conformance_cli import engine_skip_reason

    reason = engine_skip_reason(engine)
    if reason:
        pytest.skip(reason)
    assert run("--engine", engine, "--accounts", str(tmp_path / "a.jsonl")).exit_code == 0
    assert (tmp_path / "a.jsonl").read_text() == (CASE / "expected_accounts.jsonl").read_text()
