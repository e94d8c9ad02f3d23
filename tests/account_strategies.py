"""Hypothesis strategies for models with accounts (docs/language.md 10.6) and the data that
exercises them: more contacts than `model_strategies` uses, spread over a few accounts, with
members whose account attribute is missing, null, empty or not text, unscored members
(`require`), accounts with no scored member, and `max`/`min` over no member.

Entry points: `account_models()`, `account_scenarios()` (model, events, contacts, as_of).
"""
from __future__ import annotations

from hypothesis import strategies as st

import model_strategies as ms
from dsl import ast

ACCOUNT_ATTRIBUTE = "domain"
DOMAINS = ("a.com", "b.com", "c.io")
CONTACT_IDS = ("c-1", "c-2", "c-3", "c-4", "c-5", "c-6")
ACCOUNT_NAMES = ("heat", "best", "worst", "members", "sql", "hot")
GROUP = "capped"  # a group of the first score, so aggregates and conditions read a group


def _declared(model: ast.Model):
    scores = [s.name for s in model.statements if isinstance(s, ast.ScoreDecl)] or ["score"]
    grades = [s for s in model.statements if isinstance(s, ast.Grade)]
    stages = [s.name for s in model.statements if isinstance(s, ast.Stage)]
    return scores, grades, stages


@st.composite
def account_statements(draw, scores, grades, stages, groups=()):
    readable = list(scores) + list(groups)
    conditions = ms.state_conditions(readable, grades, stages)
    made = [ast.AccountBy(ACCOUNT_ATTRIBUTE)]
    names = draw(st.lists(st.sampled_from(ACCOUNT_NAMES), min_size=1, max_size=4, unique=True))
    for name in names:
        aggregate = draw(st.sampled_from(("sum", "max", "min", "count")))
        where = draw(st.one_of(st.none(), conditions))
        if aggregate == "count":
            counted = draw(st.one_of(st.none(), conditions))
            made.append(ast.AccountScore(name, "count", None, counted,
                                         where if counted is not None else None))
        else:
            made.append(ast.AccountScore(name, aggregate, draw(st.sampled_from(readable)),
                                         None, where))
    for index in range(draw(st.integers(0, 2))):
        thresholds = sorted(draw(st.lists(st.integers(-20, 120), min_size=1, max_size=3,
                                          unique=True)), reverse=True)
        bands = tuple(ast.Band(label, t) for label, t in zip(("Hot", "Warm", "Mild"), thresholds))
        otherwise = "Cold" if draw(st.booleans()) else None
        made.append(ast.AccountGrade(f"g{index}", draw(st.sampled_from(names)), bands,
                                     otherwise))
    return made


@st.composite
def account_models(draw, groups: bool = True):
    model = draw(ms.models())
    scores, grades, stages = _declared(model)
    statements = list(model.statements)
    group_names = []
    if groups and draw(st.booleans()) and any(isinstance(s, ast.ScoreDecl)
                                              for s in statements):
        score = scores[0]
        statements.append(ast.GroupDecl(GROUP, score, None, draw(st.integers(5, 40))))
        statements.append(ast.EventRule("visit", ast.NO_TARGETS, None, draw(ms.points), GROUP))
        group_names.append(GROUP)
    statements += draw(account_statements(scores, grades, stages, group_names))
    return ast.Model(tuple(statements))


_DOMAIN_VALUES = st.one_of(st.sampled_from(DOMAINS), st.sampled_from(DOMAINS),
                           st.sampled_from(("", None, 42, True, "A.com")))


@st.composite
def account_contacts(draw):
    """Profiles for some contacts: the usual attributes plus, mostly, an account domain."""
    made = draw(ms.contacts(CONTACT_IDS))
    for profile in made.values():
        if draw(st.integers(0, 4)):
            profile[ACCOUNT_ATTRIBUTE] = draw(_DOMAIN_VALUES)
    return made


@st.composite
def account_scenarios(draw, model_strategy=None, max_events: int = 20):
    model = draw(model_strategy if model_strategy is not None else account_models())
    stream = draw(ms.events(max_events, contacts=CONTACT_IDS))
    profiles = draw(account_contacts())
    as_of = draw(ms.as_of_times)
    if as_of is None and not stream:
        as_of = ms.START
    return model, stream, profiles, as_of
