"""Lowering (compiler.lower) and the table passes (compiler.passes)."""
import json
from fractions import Fraction

from compiler.lower import lower
from compiler.passes import dispatch_index, fold
from dsl import ast as A
from dsl.source import Span
from runtime import Engine, Event, load_table
from runtime.decay import multiplier


def lowered(*statements) -> dict:
    return lower(A.Model(tuple(statements), file="m.score"), "ab" * 32)


def visit(points=15, targets=(), **more):
    return A.EventRule("visit", A.Targets(tuple(targets)), more.pop("where", None), points,
                       **more)


def where_of(condition):
    return lowered(visit(where=condition))["rules"][0]["where"]


def test_the_table_is_plain_json_and_valid():
    table = lowered(A.ScoreDecl("engagement", 0, 100, True), visit(limit=A.Limit(2, "day")))
    assert json.loads(json.dumps(table)) == table
    assert load_table(table) is table
    assert table["format"] == 2 and table["source"] == {"sha256": "ab" * 32, "file": "m.score"}
    assert table["scores"][0]["low"] == 0 and table["scores"][0]["high"] == 100
    assert table["rules"][0]["limit"] == {"count": 2, "per": "day"}


def test_a_model_without_scores_has_the_default_score():
    table = lowered(visit())
    assert [s["name"] for s in table["scores"]] == ["score"]
    assert table["rules"][0]["score"] == "score"


def test_rules_cite_file_and_line():
    rule = visit(span=Span("models/b2b.score", 7, 1, 7, 20))
    assert lowered(rule)["rules"][0]["at"] == "models/b2b.score:7"


def test_ids_are_stable_across_points_and_order_and_unique():
    one = lowered(visit(15, ["pricing"]), visit(5, ["home"]))
    two = lowered(visit(5, ["home"]), visit(40, ["pricing"], limit=A.Limit(1)))
    ids_one = {r["targets"]["exact"][0]: r["id"] for r in one["rules"]}
    ids_two = {r["targets"]["exact"][0]: r["id"] for r in two["rules"]}
    assert ids_one == ids_two and ids_one["home"] != ids_one["pricing"]
    twice = lowered(visit(1), visit(2))
    assert twice["rules"][1]["id"] == twice["rules"][0]["id"] + "#2"


def test_targets_split_into_exact_names_and_globs():
    rule = lowered(visit(targets=["pricing", "blog/*", "a?c"]))["rules"][0]
    assert rule["targets"] == {"exact": ["pricing"], "globs": ["blog/*", "a?c"], "any": False}
    assert lowered(visit())["rules"][0]["targets"]["any"] is True


def test_where_names_are_event_properties_unless_contact():
    condition = A.And((A.Compare(A.Ref("seconds"), ">=", A.Number(30)),
                       A.Compare(A.Ref("country", contact=True), "=", A.Text("DE"))))
    assert where_of(condition) == ["and", [">=", ["event", "seconds"], 30],
                                   ["=", ["contact", "country"], "DE"]]


def test_lifecycle_names_resolve_score_grade_stage_then_attribute():
    statements = [A.ScoreDecl("engagement"), A.Grade("tier", "engagement", (A.Band("A", 1),)),
                  A.Stage("MQL", A.And((A.Compare(A.Ref("engagement"), ">=", A.Number(5)),
                                        A.In(A.Ref("tier"), (A.Label("A"), A.Label("B"))),
                                        A.Compare(A.Ref("stage"), "is not", A.Label("SQL")),
                                        A.Truth(A.Ref("vip")))))]
    assert lowered(*statements)["stages"][0]["condition"] == [
        "and", [">=", ["score", "engagement"], 5], ["in", ["grade", "tier"], ["A", "B"]],
        ["not", ["=", ["stage"], "SQL"]], ["=", ["contact", "vip"], True]]


def test_patterns_become_globs_and_negations_wrap_them():
    title = A.Ref("title")
    assert where_of(A.Compare(title, "!=", A.Text("VP*"))) == [
        "not", ["glob", ["event", "title"], "VP*"]]
    assert where_of(A.In(title, (A.Text("CEO"), A.Text("VP*")), negated=True)) == [
        "not", ["or", ["in", ["event", "title"], ["CEO"]], ["glob", ["event", "title"], "VP*"]]]
    # an ordering comparison with a text is always false: folded
    assert where_of(A.Compare(title, "<", A.Text("V*"))) is False


def test_constant_folding():
    x = ["=", ["contact", "x"], 1]
    assert fold(["and", True, x]) == x
    assert fold(["or", x, True]) is True
    assert fold(["and", x, ["not", True]]) is False
    assert fold(["not", ["not", x]]) == x
    assert fold(["and", x, ["and", x, ["or", False, x]]]) == ["and", x, x, x]
    assert fold(["in", ["contact", "x"], []]) is False
    assert fold(["or", False, False]) is False and fold(["and"]) is True


def test_folded_where_true_is_null_and_false_leaves_the_dispatch():
    table = lowered(visit(1, where=A.Const(True)), visit(2, where=A.Not(A.Const(True))),
                    A.Require(A.Or((A.Const(True), A.Truth(A.Ref("consent"))))))
    assert table["rules"][0]["where"] is None and table["rules"][1]["where"] is False
    assert table["dispatch"]["visit"]["any"] == [0]
    assert table["require"] is None


def test_dispatch_index_by_type_then_exact_target_then_globs_and_any():
    absent = A.AbsenceRule("sent", A.Targets(), "open", A.Targets(), A.Duration(1, "day"), -5)
    table = lowered(visit(1, ["pricing", "blog/*"]), visit(2, ["home"]), visit(3), absent)
    assert table["dispatch"] == {
        "sent": {"exact": {}, "glob": [], "any": [3]},
        "visit": {"exact": {"home": [1], "pricing": [0]}, "glob": [0], "any": [2]}}
    assert table["answers"] == {"open": [3]}
    assert table["rules"][3]["missing_targets"] == {"same": True}
    assert table["rules"][3]["within"] == 86_400_000_000
    assert dispatch_index(table) == table  # idempotent


def test_decay_is_exact_and_zero_percent_folds_away():
    table = lowered(A.ScoreDecl("e"), A.ScoreDecl("f"), A.Decay("e", 2.5, A.Duration(30, "day")),
                    A.Decay("f", 0, A.Duration(1, "day")), A.Expire("f", A.Duration(7, "day")))
    decay = table["scores"][0]["decay"]
    assert decay["percent"] == "2.5" and decay["keep"] == [39, 40]
    assert decay["every"] == 30 * 86_400_000_000
    values = decay["multipliers"]
    assert values[:3] == [10 ** 9, 975_000_000, 950_625_000]
    assert values[-1] > 0 and multiplier(Fraction(*decay["keep"]), len(values)) == 0
    assert table["scores"][1]["decay"] is None
    assert table["scores"][1]["expire"] == 7 * 86_400_000_000


def test_grades_triggers_and_profile_rules():
    table = lowered(A.ScoreDecl("fit"),
                    A.ProfileRule(A.Compare(A.Ref("employees"), ">=", A.Number(200)), 15),
                    A.Grade("tier", "fit", (A.Band("A", 30), A.Band("B", 15)), "D"),
                    A.Trigger(A.Compare(A.Ref("tier"), "is", A.Label("D")),
                              (A.Action("tag", "not-a-fit"), A.Action("reset", "fit")), True))
    assert table["profile"][0]["condition"] == [">=", ["contact", "employees"], 200]
    assert table["profile"][0]["score"] == "fit"
    assert table["grades"][0]["bands"] == [["A", 30], ["B", 15]]
    assert table["grades"][0]["else"] == "D"
    trigger = table["triggers"][0]
    assert trigger["each_time"] is True and trigger["condition"] == ["=", ["grade", "tier"], "D"]
    assert trigger["actions"] == [{"action": "tag", "arg": "not-a-fit"},
                                  {"action": "reset", "arg": "fit"}]


def test_the_lowered_table_runs():
    table = lowered(visit(15, ["pricing"]))
    engine = Engine(table)
    assert engine.run([Event("a", "visit", 0, "pricing")], {})[0]["scores"] == {"score": 15}


def test_lowering_is_deterministic_and_every_example_loads():
    """Same model, same bytes (tables are diffed and hashed); every shipped model lowers to a
    table the runtime accepts."""
    from pathlib import Path

    from compiler.pipeline import compile as compile_model
    root = Path(__file__).resolve().parent.parent
    paths = sorted(root.glob("examples/**/*.score")) + [root / "benchmarks" / "b2b.score"]
    assert paths
    for path in paths:
        first, second = compile_model(str(path)), compile_model(str(path))
        assert first.table is not None, [str(d) for d in first.diagnostics]
        assert json.dumps(first.table) == json.dumps(second.table)
        assert first.table["source"]["sha256"] and len(first.table["source"]["sha256"]) == 64
        Engine(first.table)


# ------------------------------------------------------------------ lower_lifecycle

from pathlib import Path  # noqa: E402

from hypothesis import given, settings  # noqa: E402

from compiler.lower import lower_lifecycle  # noqa: E402
from compiler.pipeline import compile as compile_model  # noqa: E402
from model_strategies import models  # noqa: E402

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.score"))


def _lifecycle(table: dict) -> tuple:
    return table["stages"], table["triggers"], table["scores"], table["grades"]


def test_lower_lifecycle_equals_lower_on_every_example():
    for path in EXAMPLES:
        model = compile_model(str(path), lower_table=False).model
        assert _lifecycle(lower_lifecycle(model)) == _lifecycle(lower(model)), path.name


@settings(max_examples=60, deadline=None)
@given(models(v2=True))
def test_lower_lifecycle_equals_lower_on_generated_models(model):
    assert _lifecycle(lower_lifecycle(model)) == _lifecycle(lower(model))
