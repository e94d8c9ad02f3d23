"""The examples a newcomer runs first: clean under --strict, canonical, their tests pass, and
their sample data scores with only the two lines broken on purpose rejected."""
from pathlib import Path

import pytest

from compiler.run.engines import python as python_engine
from compiler.pipeline import compile as compile_model
from compiler.review.testing import run_files
from dsl.formatter import format_source
from dsl.source import SourceFile

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MODELS = sorted(EXAMPLES.glob("*.score"))


def test_there_are_four_example_models():
    assert {p.stem for p in MODELS} == {"b2b_saas", "online_shop", "vod", "loyalty"}


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_example_has_no_diagnostic_at_all(path):
    result = compile_model(str(path))
    assert result.diagnostics == () or list(result.diagnostics) == []
    assert result.table is not None


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_example_is_formatted(path):
    source = SourceFile.read(path)
    assert format_source(source).text == source.text


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_example_tests_pass_and_there_are_some(path):
    run = run_files([str(path)])
    assert run.passed >= 3 and run.failed == 0, [o.to_json() for o in run.outcomes if not o.passed]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_example_sample_data_scores_every_contact(path):
    data = EXAMPLES / "data" / path.stem
    rejects = []
    results = python_engine.run(compile_model(str(path)).table, str(data / "events.jsonl"),
                                str(data / "contacts.jsonl"), None, rejects.append)
    contacts = sum(1 for line in (data / "contacts.jsonl").open() if line.strip())
    assert len(results) == contacts >= 300
    assert [r.line for r in rejects] == ([1001, 2501] if path.stem == "b2b_saas" else [])
    assert any(r["stage"] for r in results), "the sample data should move some contacts"
