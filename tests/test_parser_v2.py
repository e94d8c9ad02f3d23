"""The parser on language v2 (docs/language.md section 10): what each new statement reads as,
and where the new keywords are keywords."""
import pytest

from dsl import ast
from dsl.parser import parse_text


def _statements(text: str):
    result = parse_text(text)
    assert result.diagnostics == (), result.diagnostics
    return result.model.statements


def _one(text: str):
    (statement,) = _statements(text)
    return statement


def _codes(text: str):
    return [d.code for d in parse_text(text).diagnostics]


# --------------------------------------------------------------------------- 10.1


@pytest.mark.parametrize("text, event", [
    ('"Product Added" +30', "Product Added"),
    ('"add-to-cart" +5 at most 2', "add-to-cart"),
    ('"Page*" +7', "Page*"),
    ('"visit" pricing +2', "visit"),
    ('"group" +5', "group"),          # 10.8.1: a statement keyword, quoted
    ('"when" +5', "when"),            # a reserved word may be quoted
    ('"say \\"hi\\"" +1', 'say "hi"'),
])
def test_quoted_event_names_are_the_exact_type(text, event):
    rule = _one(text)
    assert isinstance(rule, ast.EventRule) and rule.event == event


def test_quoted_and_bare_names_are_the_same_event():
    assert _one('"visit" pricing +2') == _one("visit pricing +2")


def test_quoted_names_in_every_event_position():
    absence, decl, activity, test = _statements(
        '"Order Completed" without "Review Written" within 14 days -5\n'
        'event "Product Added" (sku: text)\n'
        'activity visit, "Product Added"\n'
        'test "t":\n    at 2026-03-02 "Product Added" "sku-1" with sku = "x"\n')
    assert (absence.event, absence.missing) == ("Order Completed", "Review Written")
    assert decl.name == "Product Added"
    assert activity.events == ("visit", "Product Added")
    step = test.steps[0]
    assert (step.event, step.target, step.at) == ("Product Added", "sku-1", "2026-03-02")


@pytest.mark.parametrize("keyword", ["group", "activity", "inactive"])
def test_statement_keywords_need_quotes_at_a_rule_start(keyword):
    assert _codes(f"{keyword} +5") == ["E001"]
    assert _one(f'"{keyword}" +5').event == keyword


@pytest.mark.parametrize("word", ["group", "of", "min", "max", "activity", "inactive", "times"])
def test_v2_keywords_are_names_elsewhere(word):
    statements = _statements(f"score {word}\nvisit +1 {word}\nwhen {word} >= 3 tag x\n"
                             f"of +1\nmax +1\nreset_me +1\nwhen x notify {word}")
    assert statements[1].score == word
    assert statements[2].condition.ref.name == word


# --------------------------------------------------------------------------- 10.2


def test_group_declarations():
    a, b, c, d = _statements("group email of engagement max 40\ngroup web max 50\n"
                             "group floor min -10\ngroup band of fit min 0 max 20")
    assert a == ast.GroupDecl("email", "engagement", None, 40)
    assert b == ast.GroupDecl("web", None, None, 50)
    assert c == ast.GroupDecl("floor", None, -10, None)
    assert d == ast.GroupDecl("band", "fit", 0, 20)


def test_group_bounds_in_either_order_and_twice():
    assert _one("group g max 5 min 1") == ast.GroupDecl("g", None, 1, 5)
    assert _codes("group g max 5 max 6") == ["E006"]
    assert _codes("group g max 2.5") == ["E203"]


def test_a_group_without_bounds_parses_for_the_checker_to_explain():
    assert _one("group g of s") == ast.GroupDecl("g", "s", None, None)


# --------------------------------------------------------------------------- 10.3


def test_inactivity_rules():
    a, b, c = _statements("inactive 30 days -15\ninactive 30 days -10 fit every 30 days at most 3"
                          "\ninactive 2w -1 email every 1 week")
    assert a == ast.InactivityRule(ast.Duration(30, "day"), -15)
    assert b == ast.InactivityRule(ast.Duration(30, "day"), -10, "fit", ast.Duration(30, "day"),
                                   ast.Limit(3))
    assert c == ast.InactivityRule(ast.Duration(2, "week"), -1, "email", ast.Duration(1, "week"))


def test_once_is_refused_on_inactivity_rules():
    result = parse_text("inactive 30 days -5 every 30 days once")
    assert [d.code for d in result.diagnostics] == ["E205"]
    assert result.diagnostics[0].span.column == 35


def test_activity_declaration():
    assert _one("activity visit, email_open, email_click, submit").events == (
        "visit", "email_open", "email_click", "submit")


# --------------------------------------------------------------------------- 10.4


def test_digit_labels_in_bands_and_else():
    grade = _one("grade heat by engagement: 1 >= 60, 2b >= 30, else 3")
    assert [b.label for b in grade.bands] == ["1", "2b"] and grade.otherwise == "3"


def test_a_band_label_must_be_a_digit_run():
    assert _codes("grade heat by engagement: 1.5 >= 60") == ["E006"]


def test_matrix_grades():
    plain, buckets, no_else = _statements(
        "grade priority by fit_tier and heat\n"
        "grade lane by fit_tier and heat: hot = (A1, A2, B1), warm = (A3, B2, C1), else cold\n"
        "grade x by a and b: 1 = (A1), 2b = (11, 1A)")
    assert plain == ast.MatrixGrade("priority", "fit_tier", "heat")
    assert buckets == ast.MatrixGrade(
        "lane", "fit_tier", "heat",
        (ast.Bucket("hot", ("A1", "A2", "B1")), ast.Bucket("warm", ("A3", "B2", "C1"))), "cold")
    assert no_else.buckets[1] == ast.Bucket("2b", ("11", "1A")) and no_else.otherwise is None


def test_a_bucket_is_written_with_equals():
    assert _codes("grade x by a and b: hot >= (A1)") == ["E006"]


@pytest.mark.parametrize("text, value", [
    ("when heat is 1 notify sales", ast.Number(1)),     # read as the label "1" by the checker
    ("when heat is 01 notify sales", ast.Label("01")),  # 10.8.6: `01` is not `1`
    ("when heat is 2b notify sales", ast.Label("2b")),
    ("when heat is 2e1 notify sales", ast.Label("2e1")),
])
def test_digit_runs_in_conditions(text, value):
    assert _one(text).condition.value == value


def test_digit_labels_on_stages_and_expectations():
    stage, test = _statements('stage 2b when x is 1\ntest "t":\n    expect heat is 1\n'
                              '    expect stage is not 2b\n')
    assert stage.name == "2b"
    assert test.steps == (ast.ExpectLabel("heat", "1"), ast.ExpectLabel("stage", "2b", True))


def test_durations_still_lex_where_labels_cannot_stand():
    assert _one("inactive 7d -1").after == ast.Duration(7, "day")
    assert _one("grade g by s: 7d >= 3").bands[0].label == "7d"


# --------------------------------------------------------------------------- 10.5


def test_points_from_a_property():
    a, b, c = _statements("sales_adjust by points engagement\n"
                          "purchase by value fit -50..50\n"
                          "purchase pro where plan = \"x\" by value 0.. at most 3")
    assert a == ast.EventRule("sales_adjust", ast.NO_TARGETS, None, None, "engagement",
                              by=ast.ByProperty("points"))
    assert b.by == ast.ByProperty("value", -50, 50) and b.score == "fit" and b.points is None
    assert c.by == ast.ByProperty("value", 0, None) and c.limit == ast.Limit(3)
    assert c.targets.items == ("pro",) and c.where is not None


# --------------------------------------------------------------------------- 10.7


def test_expect_group_and_counts():
    (test,) = _statements('test "t":\n    expect email >= 40\n    expect notify sales 2 times\n'
                          '    expect tag "hot" 1 time\n    expect notify sales 0 times\n')
    assert test.steps == (ast.ExpectScore("email", ">=", 40),
                          ast.ExpectAction("notify", "sales", times=2),
                          ast.ExpectAction("tag", "hot", times=1),
                          ast.ExpectAction("notify", "sales", times=0))


def test_one_time_and_one_times_are_the_same():
    assert _statements('test "t":\n    expect notify sales 1 times\n') == _statements(
        'test "t":\n    expect notify sales 1 time\n')


@pytest.mark.parametrize("line, code", [
    ("expect no notify sales 2 times", "E006"),  # 10.8.15: counts are written without `no`
    ("expect notify sales 2.5 times", "E006"),
])
def test_bad_counts(line, code):
    assert _codes(f'test "t":\n    {line}\n') == [code]


@pytest.mark.parametrize("text, message", [
    ("group +5", "`group` starts a group declaration here"),
    ("score e\nvisit +1\ninactive +5", "`inactive` starts an inactivity rule here"),
    ("activity +5", "`activity` starts the list of activity events here"),
    ("group email of engagement 40", "a group's bound is written `min N` or `max N`"),
    ("sales_adjust by", "`by` names the event property the points come from"),
    ("grade x by a and b: hot = A1", "a bucket lists its cells in parentheses"),
])
def test_friendly_messages_for_v2_mistakes(text, message):
    (diagnostic,) = parse_text(text + "\n").diagnostics
    assert diagnostic.message == message and diagnostic.hint
