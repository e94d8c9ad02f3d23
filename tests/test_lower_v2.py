"""Lowering language v2 (docs/language.md 10) into rule table format 2 (docs/rule-table.md,
"Format 2"): every key as specified, names resolved, v1 ids unchanged."""
import json
from pathlib import Path

import pytest

from compiler.pipeline import compile_text

ROOT = Path(__file__).resolve().parent.parent


def table_of(text: str) -> dict:
    result = compile_text(text, "m.score")
    assert result.ok, result.diagnostics
    assert json.loads(json.dumps(result.table)) == result.table
    return result.table


def test_quoted_event_names_are_stored_without_quotes():
    table = table_of('"Product Added" +30\n"visit" pricing +2\n'
                     '"Order Completed" without "Review Written" within 14 days -5')
    assert [r["event"] for r in table["rules"]] == ["Product Added", "visit", "Order Completed"]
    assert table["rules"][2]["missing"] == "Review Written"
    assert set(table["dispatch"]) == {"Product Added", "visit", "Order Completed"}
    assert table["answers"] == {"Review Written": [2]}


def test_a_quoted_name_is_the_same_rule_as_the_bare_one():
    assert table_of('"visit" pricing +2')["rules"][0]["id"] == \
        table_of("visit pricing +2")["rules"][0]["id"]


def test_groups_and_rules_naming_them():
    table = table_of("score engagement 0..100\nscore fit\ngroup email of engagement max 40\n"
                     "group web max 50\ngroup band of fit min -5 max 20\n"
                     "email_open +1 email\nvisit +2\nif title = \"CEO\" +5 band\n"
                     "email_sent without email_open within 1 day -1 email\n"
                     "when email >= 40 tag maxed\ngrade heat by email: hot >= 30, else cold")
    assert table["groups"] == [
        {"name": "email", "at": "m.score:3", "score": "engagement", "low": None, "high": 40},
        {"name": "web", "at": "m.score:4", "score": "engagement", "low": None, "high": 50},
        {"name": "band", "at": "m.score:5", "score": "fit", "low": -5, "high": 20}]
    email_open, visit, absence = table["rules"]
    assert (email_open["score"], email_open["group"]) == ("engagement", "email")
    assert (visit["score"], visit["group"]) == ("engagement", None)
    assert (absence["score"], absence["group"]) == ("engagement", "email")
    assert (table["profile"][0]["score"], table["profile"][0]["group"]) == ("fit", "band")
    assert table["triggers"][0]["condition"] == [">=", ["group", "email"], 40]
    grade = table["grades"][0]
    assert (grade["score"], grade["group"]) == ("engagement", "email")


def test_a_group_rule_has_its_own_id():
    plain = table_of("score e\ngroup g max 5\nvisit +1")["rules"][0]["id"]
    grouped = table_of("score e\ngroup g max 5\nvisit +1 g")["rules"][0]["id"]
    assert plain != grouped


def test_inactivity_and_activity():
    table = table_of("score engagement\nscore fit\ngroup g of fit max 0\n"
                     "activity visit, \"Email Opened\"\n"
                     "inactive 30 days -15\ninactive 2 weeks -10 g every 30 days at most 3")
    assert table["activity"] == ["visit", "Email Opened"]
    first, second = table["inactivity"]
    day = 86_400_000_000
    assert first == {"id": first["id"], "at": "m.score:5", "after": 30 * day, "every": None,
                     "count": None, "points": -15, "score": "engagement", "group": None}
    assert second == {"id": second["id"], "at": "m.score:6", "after": 14 * day,
                      "every": 30 * day, "count": 3, "points": -10, "score": "fit",
                      "group": "g"}
    assert first["id"].startswith("i-") and first["id"] != second["id"]


def test_an_inactivity_id_keeps_across_points_and_repeats():
    one = table_of("inactive 30 days -15")["inactivity"][0]["id"]
    two = table_of("visit +1\ninactive 30 days -5 every 7 days at most 2")["inactivity"][0]["id"]
    assert one == two


def test_no_activity_list_is_null():
    assert table_of("visit +1")["activity"] is None


def test_matrix_grades_and_digit_labels():
    table = table_of(
        "score fit\nscore engagement\nif title = \"CEO\" +30 fit\nvisit +30 engagement\n"
        "grade fit_tier by fit: A >= 30, B >= 15, else C\n"
        "grade heat by engagement: 1 >= 60, 2 >= 30, else 3\n"
        "grade priority by fit_tier and heat\n"
        "grade lane by fit_tier and heat: hot = (A1, A2, B1), warm = (A3, B2, C1), else cold\n"
        "stage MQL when priority in (A1, A2, B1)\n"
        "when heat is 1 notify sales\nwhen heat in (2, 3) tag warm\n")
    fit_tier, heat, priority, lane = table["grades"]
    assert heat["bands"] == [["1", 60], ["2", 30]] and heat["else"] == "3"
    assert priority == {"name": "priority", "at": "m.score:7", "matrix": ["fit_tier", "heat"],
                        "buckets": None, "else": None}
    assert lane["buckets"] == [["hot", ["A1", "A2", "B1"]], ["warm", ["A3", "B2", "C1"]]]
    assert lane["else"] == "cold" and "score" not in lane
    assert table["stages"][0]["condition"] == ["in", ["grade", "priority"], ["A1", "A2", "B1"]]
    # 10.4: against a grade an unquoted number is the label as written, a JSON string.
    assert table["triggers"][0]["condition"] == ["=", ["grade", "heat"], "1"]
    assert table["triggers"][1]["condition"] == ["in", ["grade", "heat"], ["2", "3"]]


def test_digit_runs_elsewhere_are_numbers_or_text():
    table = table_of('when size = 01 tag a\nwhen code = 2b tag b\nstage 2b when true\n'
                     'when stage is 2b tag c')
    first, second, third = (t["condition"] for t in table["triggers"])
    assert first == ["=", ["contact", "size"], 1]       # 10.8.7: a number ...
    assert second == ["=", ["contact", "code"], "2b"]   # ... or text
    assert third == ["=", ["stage"], "2b"]
    assert table["stages"][0]["name"] == "2b"


def test_points_from_a_property():
    table = table_of("score engagement\ngroup manual max 100\n"
                     "sales_adjust by points manual\npurchase by value -50..50 at most 3\n"
                     "refund by amount 0..")
    adjust, purchase, refund = table["rules"]
    assert adjust["points"] is None and adjust["by"] == {"prop": "points", "low": None,
                                                         "high": None}
    assert (adjust["score"], adjust["group"]) == ("engagement", "manual")
    assert purchase["by"] == {"prop": "value", "low": -50, "high": 50}
    assert purchase["limit"] == {"count": 3, "per": None}
    assert refund["by"] == {"prop": "amount", "low": 0, "high": None}
    assert table["dispatch"]["purchase"]["any"] == [1]


def test_by_rules_on_two_properties_have_two_ids():
    table = table_of("adjust by points\nadjust by bonus")
    assert table["rules"][0]["id"] != table["rules"][1]["id"]


# Rule ids of the v1 models, as the compiler gave them before language v2 (commit 33377c7):
# explanations, diffs and stored snapshots cite them, so v2 must not change them.
V1_IDS = json.loads((ROOT / "tests" / "data" / "v1_rule_ids.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted(V1_IDS))
def test_v1_tables_have_empty_v2_keys_and_unchanged_ids(path):
    from compiler.pipeline import compile

    table = compile(ROOT / path).table
    assert table["groups"] == [] and table["inactivity"] == [] and table["activity"] is None
    assert all(r["group"] is None and r["by"] is None for r in table["rules"])
    assert all(g.get("group") is None for g in table["grades"])
    assert {key: [r["id"] for r in table[key]] for key in V1_IDS[path]} == V1_IDS[path]
