"""`score run --actions --engine spark`: each partition's runtime logs its contacts' actions;
the records (and results, accounts) equal the Python engine's on the examples and the
conformance cases, with and without `since`. One SparkSession for the module; skipped, saying
why, without pyspark or Java (as tests/test_spark_engine.py)."""
from __future__ import annotations

import os
import shutil

import pytest

pytest.importorskip("pyspark", reason="the spark engine needs the `spark` extra")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs a Java runtime (java on PATH or JAVA_HOME)", allow_module_level=True)

from compiler.run.engines import python as python_engine  # noqa: E402
from compiler.run.engines import spark as spark_engine  # noqa: E402
from test_actions import CASES, EXAMPLES, _inputs  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    return spark_engine.session("local[2]", conf={"spark.sql.shuffle.partitions": "4"})


@pytest.mark.parametrize("name", EXAMPLES + tuple(c.name for c in CASES))
def test_spark_equals_the_python_engine(spark, name):
    table, events, contacts, as_of = _inputs(name)
    accounts = bool(table.get("accounts"))
    expected = python_engine.run_with_actions(table, events, contacts, as_of, lambda r: None,
                                              accounts=accounts)
    got = spark_engine.run_with_actions(table, events, contacts, as_of, lambda r: None,
                                        accounts=accounts, spark=spark)
    assert got == expected
    if expected[2]:
        since = expected[2][len(expected[2]) // 2]["at"]
        assert spark_engine.run_with_actions(table, events, contacts, as_of, lambda r: None,
                                             since=since, spark=spark)[2] == \
            [r for r in expected[2] if r["at"] > since]
