"""The documented ways to start the Spark engine (docs/spark.md) work as written:
`python -m compiler.run.engines.spark ...` and `spark-submit --py-files scorelang.zip
compiler/run/engines/spark.py ...`, and the package runs from that zip (package data read with
importlib.resources, not as files). Each Spark test starts a JVM: they are slow."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

from compiler.run.engines import python as python_engine
from compiler.pipeline import compile as compile_model

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = """score engagement 0..100
visit pricing +15
visit "blog/*" +5 at most 2 per day
email_sent without email_open within 1 day -5
stage MQL when engagement >= 20
when stage is MQL notify sales
"""
EVENTS = [
    {"contact": "c-1", "event": "visit", "target": "pricing", "at": "2026-03-02T10:00:00Z"},
    {"contact": "c-1", "event": "visit", "target": "blog/a", "at": "2026-03-02T11:00:00Z"},
    {"contact": "c-2", "event": "email_sent", "target": "spring", "at": "2026-03-01T09:00:00Z"},
    {"contact": "c-2", "event": "visit", "target": "blog/b", "at": "2026-03-03T09:00:00Z"},
]


def needs_spark():
    pytest.importorskip("pyspark", reason="the `spark` extra (pyspark) is not installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs a Java runtime (java on PATH or JAVA_HOME)")


@pytest.fixture
def job(tmp_path):
    """A model, its events, and the zip of docs/spark.md, in a folder of their own."""
    (tmp_path / "model.score").write_text(MODEL, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS) + "oops\n", encoding="utf-8")
    archive = tmp_path / "scorelang.zip"
    # what `zip -r scorelang.zip runtime compiler dsl -i '*.py' '*.lark' '*.json' '*.j2'` makes
    with zipfile.ZipFile(archive, "w") as zipped:
        for package in ("runtime", "compiler", "dsl"):
            for path in sorted((ROOT / package).rglob("*")):
                if path.suffix in (".py", ".lark", ".json", ".j2") and "__pycache__" not in \
                        path.parts:
                    zipped.write(path, path.relative_to(ROOT).as_posix())
    expected = python_engine.run(compile_model(str(tmp_path / "model.score")).table,
                                 str(events), None, None, lambda reject: None)
    return tmp_path, archive, expected


def environment(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYSPARK_PYTHON",
                                                           "PYSPARK_DRIVER_PYTHON")}
    env.update(extra)
    return env


def results(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_the_package_runs_from_the_zip(job):
    folder, archive, _ = job
    script = ("import dsl, compiler.sql, compiler.review.reports as reports\n"
              "from compiler.pipeline import compile\n"
              "assert dsl.__file__.startswith(%r), dsl.__file__\n"
              "result = compile('model.score')\n"
              "assert result.table is not None, result.diagnostics\n"
              "from dsl.parser import parse_text\n"
              "assert parse_text('visit pricing 15\\n').diagnostics[0].message == "
              "'points need a sign'\n"
              "assert 'SELECT' in compiler.sql.generate(result.table, 'duckdb').upper()\n"
              "reports.environment().get_template('test.txt.j2')\n"
              "print('ok')\n") % str(archive)
    done = subprocess.run([sys.executable, "-c", script], cwd=folder, capture_output=True,
                          text=True, env=environment(PYTHONPATH=str(archive)), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("ok")


def test_python_dash_m_entry_point(job):
    needs_spark()
    folder, _, expected = job
    done = subprocess.run(
        [sys.executable, "-m", "compiler.run.engines.spark", "--model", "model.score",
         "--events", "events.jsonl", "--master", "local[1]"],
        cwd=folder, capture_output=True, text=True, timeout=600,
        env=environment(PYTHONPATH=str(ROOT), PYSPARK_PYTHON=sys.executable))
    assert done.returncode == 0, done.stderr[-3000:]
    assert results(done.stdout) == expected
    assert "events.jsonl:5: not valid JSON" in done.stderr
    assert "Can't get attribute" not in done.stderr


def test_spark_submit_with_the_zip(job):
    needs_spark()
    import pyspark

    folder, archive, expected = job
    submit = pathlib.Path(pyspark.__file__).parent / "bin" / "spark-submit"
    shutil.copytree(ROOT / "compiler", folder / "compiler",
                    ignore=shutil.ignore_patterns("__pycache__"))  # the app, as docs/spark.md
    done = subprocess.run(
        [str(submit), "--master", "local[1]", "--py-files", str(archive),
         "compiler/run/engines/spark.py", "--model", "model.score", "--events", "events.jsonl"],
        cwd=folder, capture_output=True, text=True, timeout=600,
        env=environment(PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable))
    assert done.returncode == 0, done.stderr[-3000:]
    assert results(done.stdout) == expected
    assert "NotADirectoryError" not in done.stderr and "Can't get attribute" not in done.stderr


def test_the_spark_extra_pins_a_pandas_pyspark_supports():
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from "
                                                    "Python 3.11")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"]["optional-dependencies"]
    pandas = [spec for spec in extras["spark"] if spec.startswith("pandas")]
    assert pandas and "<3" in pandas[0].replace(" ", ""), pandas


def test_the_installed_pandas_gives_no_pyspark_warning():
    pytest.importorskip("pyspark", reason="the `spark` extra (pyspark) is not installed")
    pytest.importorskip("pandas", reason="the `spark` extra (pandas) is not installed")
    import warnings

    from pyspark.sql.pandas.utils import require_minimum_pandas_version

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        require_minimum_pandas_version()
