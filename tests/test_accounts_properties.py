"""Properties of accounts (docs/language.md 10.6): the runtime equals the reference
interpreter's naive roll-up; account values equal a plain Python aggregation of the contact
results; streaming equals batch; rollups of any split merge into the whole."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import account_strategies as acs
import reference
import reference_accounts
from compiler.lower import lower
from dsl import ast
from runtime import Engine
from runtime.accounts import Rollup, account_of

PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def table_of(model: ast.Model) -> dict:
    return lower(model, "0" * 64)


@PROPERTY
@given(acs.account_scenarios())
def test_engine_accounts_equal_the_reference(scenario):
    model, events, contacts, as_of = scenario
    results, accounts = Engine(table_of(model)).run_with_accounts(events, contacts, as_of)
    assert results == reference.interpret(model, events, contacts, as_of)
    assert accounts == reference_accounts.accounts(model, events, contacts, as_of)


@PROPERTY
@given(acs.account_scenarios())
def test_account_values_are_a_plain_aggregation_of_the_results(scenario):
    """Aggregates without conditions, and `count where stage is ...`, read only what the
    section-7 results show: recompute them from the results with Python alone."""
    model, events, contacts, as_of = scenario
    results, accounts = Engine(table_of(model)).run_with_accounts(events, contacts, as_of)
    by_contact = {r["contact"]: r for r in results}
    plain = [s for s in model.statements if isinstance(s, ast.AccountScore)
             and s.condition is None and s.where is None and s.score != acs.GROUP]
    members: dict[str, list[str]] = {}
    for contact, profile in contacts.items():
        account = account_of(profile, acs.ACCOUNT_ATTRIBUTE)
        if account is not None:
            members.setdefault(account, []).append(contact)
    assert [line["account"] for line in accounts] == sorted(members)
    for line in accounts:
        found = [by_contact[c] for c in members[line["account"]]]
        scored = [r for r in found if next(iter(r["scores"].values())) is not None]
        assert line["contacts"] == len(found)
        for score in plain:
            # `count` reads no score (its `score` is None)
            values = [r["scores"][score.score] for r in scored] if score.score else []
            expected = {"sum": sum(values), "count": len(scored),
                        "max": max(values, default=None),
                        "min": min(values, default=None)}[score.aggregate]
            assert line["scores"][score.name] == expected


@PROPERTY
@given(acs.account_scenarios())
def test_streaming_accounts_equal_batch(scenario):
    model, events, contacts, as_of = scenario
    table = table_of(model)
    until = as_of if as_of is not None else max(e.at for e in events)
    kept = sorted((e for e in events if e.at <= until), key=lambda e: (e.at, e.seq))
    engine = Engine(table, contacts)
    for event in kept:
        engine.process(event)
    engine.advance(until)
    _, batch = Engine(table).run_with_accounts(kept, contacts, until)
    assert list(engine.accounts()) == batch
    for line in batch:
        assert engine.account(line["account"]) == line


@PROPERTY
@given(acs.account_scenarios(), st.randoms(use_true_random=False))
def test_rollups_of_any_split_merge_into_the_whole(scenario, rng):
    model, events, contacts, as_of = scenario
    engine = Engine(table_of(model))
    spec = engine.table.accounts
    whole = Rollup(spec)
    parts = [Rollup(spec) for _ in range(3)]
    for contact in sorted(contacts):
        values = engine.evaluate(contact, events, contacts, as_of)
        scored = next(iter(values["scores"].values())) is not None
        live = {**values["scores"], **values["groups"], **values["grades"],
                " stage": values["stage"]} if scored else None
        whole.add(contacts[contact], live)
        rng.choice(parts).add(contacts[contact], live)
    merged = Rollup(spec)
    for part in parts:
        merged.merge(part.partial() if rng.random() < 0.5 else part)
    assert merged.results() == whole.results()
