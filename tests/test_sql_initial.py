"""compiler/sql/initial.py: what the profile alone can make a condition do must include what
the runtime computes for every value in the ranges (the sparse flow leaves out the first
evaluation point only when no condition can hold there)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.pipeline import compile_text as compile_model
from compiler.sql.dialects import get_dialect
from compiler.sql.initial import may_act_initially, outcomes, profile_ranges
from compiler.sql.query import QueryBuilder
from runtime.conditions import compile_condition

REFS = (["score", "a"], ["group", "g"], ["grade", "t"], ["contact", "x"])
literals = st.one_of(st.integers(-5, 5), st.sampled_from([1.5, -0.5, True, "a"]))


def leaves():
    ops = st.sampled_from(["=", "<", "<=", ">", ">="])
    return st.one_of(
        st.tuples(ops, st.sampled_from(REFS), literals).map(lambda t: [t[0], t[1], t[2]]),
        st.tuples(st.sampled_from(REFS), st.lists(literals, max_size=3)).map(
            lambda t: ["in", t[0], t[1]]),
        st.sampled_from(REFS).map(lambda r: ["glob", r, "*"]),
        st.booleans())


conditions = st.recursive(leaves(), lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=3).map(lambda xs: ["and", *xs]),
    st.lists(inner, min_size=1, max_size=3).map(lambda xs: ["or", *xs]),
    inner.map(lambda x: ["not", x])), max_leaves=8)

ranges = st.tuples(st.integers(-4, 4), st.integers(0, 4)).map(lambda t: (t[0], t[0] + t[1]))


@settings(max_examples=400, deadline=None)
@given(conditions, ranges, ranges, st.sampled_from(["A", "B"]), st.integers(-6, 6))
def test_outcomes_hold_every_value_the_runtime_computes(cond, a, g, label, x):
    found = outcomes(cond, {("score", "a"): a, ("group", "g"): g})
    test = compile_condition(cond)
    for va in range(a[0], a[1] + 1):
        for vg in range(g[0], g[1] + 1):
            assert test(({}, {"x": x}, {"a": va, "g": vg, "t": label})) in found


def _builder(source: str) -> QueryBuilder:
    result = compile_model(source)
    assert result.table is not None, result.diagnostics
    return QueryBuilder(result.table, get_dialect("duckdb"), "events", "contacts")


def test_profile_ranges_add_each_rule_or_nothing_and_clamp():
    builder = _builder("score s 0..30\nscore t\nvisit x +1 s\nvisit y +1 t\n"
                       "if employees >= 10 +20 s\nif title = \"CEO\" +15 s\nif plan = \"x\" -5 s\n"
                       "if employees < 5 -3 t\n")
    assert profile_ranges(builder) == {("score", "s"): (0, 30), ("score", "t"): (-3, 0)}


def test_a_threshold_above_the_profile_points_needs_no_first_point():
    model = "score lead 0..100\nvisit x +50\nif employees >= 10 +20\nwhen lead >= {} notify sales\n"
    assert not may_act_initially(_builder(model.format(80)))
    assert may_act_initially(_builder(model.format(20)))
