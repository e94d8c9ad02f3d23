"""The input corpus (tests/input_corpus/, every class of broken input of issue 10) through
`score run` on every engine: the exit code of `cases.json`, never a traceback, the rejects of
`cases.json` (line and reason, on stderr and in --rejects, counted), and the good lines scored
exactly as the same file without the rejected lines scores them."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from compiler.run import engines

CORPUS = Path(__file__).resolve().parent / "input_corpus"
CASES = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))
MODEL = "visit pricing +1\nwhen score >= 1 notify sales\n"


def _skip_reason(engine: str) -> str | None:
    missing = engines.missing_dependency(engine)
    if missing:
        return f"the {engine} engine needs `{missing}`"
    if engine == "spark" and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Spark needs a Java runtime"
    return None


def _run(tmp_path: Path, engine: str, events: Path):
    model = tmp_path / "model.score"
    model.write_text(MODEL, encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(main, ["run", str(model), "--events", str(events), "--engine",
                                       engine, "--rejects", str(rejects)],
                                catch_exceptions=False)
    found = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()] \
        if rejects.exists() else []
    return result, found


def _without_lines(events: Path, lines: set[int], target: Path) -> Path:
    """The events file with the given lines (rows) left out: blank lines in their place, so
    that the others keep their numbers."""
    if events.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(events)
        keep = [row for row in range(table.num_rows) if row + 1 not in lines]
        pq.write_table(table.take(keep), target)
        return target
    data = events.read_bytes()
    cut = b"\r" if events.suffix == ".csv" and b"\n" not in data else b"\n"
    pieces = data.split(cut)
    target.write_bytes(cut.join(b"" if n in lines else piece
                                for n, piece in enumerate(pieces, start=1)))
    return target


ENGINES = ["python", "duckdb", "spark"]
# Spark cuts text files into lines itself (Hadoop's reader: CR ends a line too, bad bytes become
# U+FFFD) and reads Parquet with its own reader, which refuses nanosecond timestamps.
SPARK_LINES = {
    "cr_inside_a_line": "Spark's text reader ends a line at a lone CR (docs/spark.md)",
    "crlf_bom_bad_bytes": "Spark's text reader replaces bytes that are not UTF-8 (docs/spark.md)",
}
SPARK_REFUSES = {"parquet_nanoseconds"}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_case_on_each_engine(tmp_path, engine, name):
    reason = _skip_reason(engine)
    if reason:
        pytest.skip(reason)
    if engine == "spark" and CASES[name]["events"].endswith(".csv"):
        pytest.skip("the Spark engine reads CSV line by line (docs/spark.md): quoted cells "
                    "across lines and CR line ends are not its input")
    if engine == "spark" and name in SPARK_LINES:
        pytest.skip(SPARK_LINES[name])
    case = dict(CASES[name])
    if engine == "spark" and name in SPARK_REFUSES:
        case["exit"] = 2  # a clear error, not the Python readers' rejects (docs/spark.md)
    events = CORPUS / case["events"]
    result, found = _run(tmp_path, engine, events)
    assert "Traceback" not in result.output
    assert result.exit_code == case["exit"], result.output
    if case["exit"] == 2:
        assert result.stderr.startswith("error: ")
        assert result.stdout == ""
        return
    expected = [list(reject) for reject in case["rejects"]]
    assert [[r["line"], r["reason"]] for r in found] == expected
    stderr_lines = [line for line in result.stderr.splitlines() if line.startswith(str(events))]
    assert len(stderr_lines) == len(expected)
    if expected:
        assert f"{len(expected)} line{'s' if len(expected) != 1 else ''} rejected" \
            in result.stderr
    clean = _without_lines(events, {line for line, _ in expected},
                           tmp_path / ("clean" + events.suffix))
    (tmp_path / "rejects.jsonl").unlink(missing_ok=True)
    reference, none = _run(tmp_path, "python", clean)
    assert none == [] and reference.exit_code == 0
    assert result.stdout == reference.stdout


def test_the_corpus_covers_every_input_class_of_issue_10():
    names = set(CASES)
    for required in ("nesting", "time_range", "offsets", "long_numbers", "surrogates",
                     "csv_unbalanced_quote", "csv_duplicate_header", "csv_cr_only",
                     "csv_long_numbers", "csv_nested_props", "parquet_nanoseconds",
                     "parquet_time_range", "parquet_corrupt_page", "parquet_binary_props",
                     "parquet_datetime_props", "parquet_decimal_props"):
        assert required in names
