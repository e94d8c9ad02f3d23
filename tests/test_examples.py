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


def test_there_are_five_example_models():
    assert {p.stem for p in MODELS} == {"b2b_saas", "online_shop", "vod", "loyalty",
                                        "hubspot_port"}


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


# The HubSpot port shows language v2 (docs/language.md 10): its sample data must exercise
# each construct, i.e. taking the construct out of the model changes some contact's result.
def _without(model, keep):
    from dataclasses import replace

    from compiler.lower import lower
    from dsl import ast

    statements = []
    for statement in model.statements:
        changed = keep(statement)
        if changed is not None:
            statements.append(changed)
    return lower(replace(model, statements=tuple(statements)))


def _hubspot_results(table):
    data = EXAMPLES / "data" / "hubspot_port"
    return python_engine.run(table, str(data / "events.jsonl"), str(data / "contacts.jsonl"),
                             None, lambda reject: None)


@pytest.fixture(scope="module")
def hubspot():
    compiled = compile_model(str(EXAMPLES / "hubspot_port.score"))
    return compiled.model, _hubspot_results(compiled.table)


def _ungrouped_bounds(statement):
    from dataclasses import replace

    from dsl import ast

    if isinstance(statement, ast.GroupDecl):
        return replace(statement, low=-10**9, high=10**9)
    return statement


@pytest.mark.parametrize("construct", ["group bounds", "inactivity", "by PROP", "absence"])
def test_hubspot_sample_data_exercises_each_construct(hubspot, construct):
    from dsl import ast

    model, results = hubspot
    keep = {
        "group bounds": _ungrouped_bounds,
        "inactivity": lambda s: None if isinstance(s, ast.InactivityRule) else s,
        "by PROP": lambda s: None if isinstance(s, ast.EventRule) and s.by else s,
        "absence": lambda s: None if isinstance(s, ast.AbsenceRule) else s,
    }[construct]
    assert _hubspot_results(_without(model, keep)) != results


def test_hubspot_sample_data_reaches_every_lane_and_stage(hubspot):
    _, results = hubspot
    assert {r["stage"] for r in results} >= {None, "MQL", "SQL"}
    assert {r["grades"].get("lane") for r in results} >= {"hot", "warm", "nurture"}
    assert any(r["grades"].get("priority") == "A1" for r in results)
    assert any(a["arg"] == "email-maxed" for r in results for a in r["actions"])
