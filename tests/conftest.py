import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

# The JVM of every local Spark session the tests start (in this process, whichever test
# starts it first, or in a `score run --engine spark` they run): a heap of 3 GB instead of
# Spark's default 1 GB, which the generated v2 models of test_sql_generate's Spark property
# ran out of in one example (java.lang.OutOfMemoryError: Java heap space, 2026-12-04).
os.environ.setdefault("PYSPARK_SUBMIT_ARGS", "--driver-memory 3g pyspark-shell")


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite golden files instead of comparing with them")


@pytest.fixture
def update_goldens(request):
    return request.config.getoption("--update-goldens")
