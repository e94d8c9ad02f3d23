"""Name resolution and checks (compiler.resolve, compiler.check), on ASTs built directly.

These tests build models node by node so that each check is tested apart from the parser;
tests/test_check_source.py runs the same checks from `.score` text, where spans matter.
"""
from __future__ import annotations

import json
import pathlib
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.check import REPORTED_CODES, check_model
from compiler.lints import band_reach
from compiler.loader import load, read_sample_contacts, read_sample_events
from compiler.pipeline import compile
from compiler.resolve import ScoreInfo, resolve
from dsl import ast
from dsl.ast import (AbsenceRule, Action, Band, Bool, Compare, Decay, Duration, EventDecl,
                     EventRule, ExpectAction, ExpectLabel, ExpectScore, Expire, Grade, In, Label,
                     Limit, Model, Not, Number, ProfileRule, Property, Ref, Require, ScoreDecl,
                     Stage, Targets, Text, TimezoneDecl, Trigger,
                     Truth, Assignment)
from dsl.diagnostics import CODES, Severity
from dsl.render import render_json, render_text
from dsl.source import Span

from strategies import models

ENGAGEMENT = ScoreDecl("engagement", 0, 100, has_range=True)
FIT = ScoreDecl("fit")
TIER = Grade("tier", "fit", (Band("A", 30), Band("B", 15)), otherwise="C")
MQL = Stage("MQL", Compare(Ref("engagement"), ">=", Number(50)))
DAYS_30 = Duration(30, "day")


def rule(event="visit", points=10, score=None, targets=(), where=None, limit=None):
    return EventRule(event, Targets(tuple(targets)), where, points, score, limit)


def check(*statements, **samples):
    return check_model(Model(tuple(statements), file="m.score"), **samples)


def codes(*statements, **samples):
    return [d.code for d in check(*statements, **samples)]


def only(code, *statements, **samples):
    found = [d for d in check(*statements, **samples) if d.code == code]
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------- resolution


def test_implicit_score_when_none_declared():
    symbols, found = resolve(Model((rule(),)))
    assert list(symbols.scores) == ["score"] and symbols.default_score == "score"
    assert found == []


def test_first_declared_score_is_default():
    symbols, _ = resolve(Model((FIT, ENGAGEMENT)))
    assert symbols.default_score == "fit"
    assert (symbols.scores["engagement"].low, symbols.scores["engagement"].high) == (0, 100)


def test_symbols_know_grades_stages_events_and_timezone():
    model = Model((FIT, ENGAGEMENT, TIER, MQL, TimezoneDecl("Europe/Berlin"),
                   EventDecl("visit", None, (Property("seconds", "number"),))))
    symbols, found = resolve(model)
    assert found == []
    assert symbols.grade_labels("tier") == ("A", "B", "C")
    assert list(symbols.stages) == ["MQL"]
    assert symbols.timezone == "Europe/Berlin"
    assert symbols.property_type("visit", "seconds") == "number"
    assert symbols.kind_of("fit") == "score" and symbols.kind_of("tier") == "grade"
    assert symbols.kind_of("stage") == "stage" and symbols.kind_of("title") is None


# --------------------------------------------------------------------------- unknown names


def test_clean_model_has_no_diagnostics():
    assert check(FIT, ENGAGEMENT, rule(score="engagement"),
                 ProfileRule(Compare(Ref("employees"), ">=", Number(200)), 30, "fit"),
                 TIER, MQL, Trigger(In(Ref("tier"), (Label("A"), Label("B"))),
                                    (Action("notify", "sales"),))) == []


@pytest.mark.parametrize("statement", [
    rule(score="engagment"),
    Decay("engagment", 10, DAYS_30),
    Expire("engagment", DAYS_30),
    Grade("tier", "engagment", (Band("A", 10),)),
    Trigger(Compare(Ref("fit"), ">", Number(1)), (Action("reset", "engagment"),)),
    ast.Test("t", (ExpectScore("engagment", "=", 3),)),
    ast.Test("t", (ExpectAction("reset", "engagment"),)),
    AbsenceRule("email_sent", Targets(), "email_open", Targets(), Duration(1, "day"), -5,
                "engagment"),
], ids=["rule", "decay", "expire", "grade-by", "reset", "expect", "expect-reset", "absence"])
def test_misspelled_score_everywhere(statement):
    diagnostic = only("E102", ENGAGEMENT, rule(score="engagement"), statement)
    assert diagnostic.message == "unknown score `engagment`"
    assert diagnostic.hint == "did you mean `engagement`?"
    assert diagnostic.severity is Severity.ERROR


def test_unknown_score_far_from_any_name_lists_the_scores():
    diagnostic = only("E102", ENGAGEMENT, FIT, rule(score="zzz"))
    assert diagnostic.hint == "declared scores: `engagement`, `fit`"


def test_unknown_stage_label_and_grade_label():
    found = check(FIT, ENGAGEMENT, rule(score="engagement"), TIER,
                  Stage("MQL", Compare(Ref("engagement"), ">=", Number(50))),
                  Trigger(Compare(Ref("stage"), "is", Label("MQLL")), (Action("tag", "x"),)),
                  Trigger(In(Ref("tier"), (Label("A"), Label("X"))), (Action("tag", "y"),)))
    messages = {(d.code, d.message, d.hint) for d in found}
    assert ("E104", "the stage has no label `MQLL`", "did you mean `MQL`?") in messages
    assert ("E104", "grade `tier` has no label `X`", "its labels are `A`, `B`, `C`") in messages


def test_expect_unknown_grade_and_label():
    found = check(FIT, TIER, ProfileRule(Truth(Ref("vip")), 5),
                  ast.Test("t", (ExpectLabel("teir", "A"), ExpectLabel("tier", "D"),
                             ExpectLabel("stage", "SQL"))))
    assert [(d.code, d.hint) for d in found] == [
        ("E103", "did you mean `tier`?"),
        ("E104", "its labels are `A`, `B`, `C`"),
        ("E104", "no stage is declared"),
    ]


def test_misspelled_grade_compared_with_bare_labels():
    diagnostic = only("E103", FIT, TIER, rule(score="fit"),
                      Trigger(In(Ref("teir"), (Label("A"),)), (Action("tag", "x"),)))
    assert diagnostic.hint == "did you mean `tier`?"


def test_bare_word_on_an_attribute_needs_quotes():
    diagnostic = only("E104", rule(), ProfileRule(Compare(Ref("country"), "=", Label("DE")), 5))
    assert diagnostic.message == "`DE` is not a grade or stage label"
    assert diagnostic.hint == 'text is written in quotes: `"DE"`'


def test_unknown_event_and_property_with_catalog():
    catalog = EventDecl("visit", None, (Property("seconds", "number"),))
    found = check(catalog, rule("vist"),
                  rule("visit", where=Compare(Ref("secnds"), ">=", Number(30))))
    assert [(d.code, d.hint) for d in found] == [
        ("E101", "did you mean `visit`?"), ("E105", "did you mean `seconds`?")]


def test_no_catalog_means_any_event_and_property():
    assert codes(rule("anything", where=Compare(Ref("whatever"), "=", Text("x")))) == []


def test_test_events_checked_against_catalog():
    catalog = EventDecl("visit", None, (Property("seconds", "number"),))
    found = check(catalog, rule("visit"), ast.Test("t", (
        ast.TestEvent("visit", properties=(Assignment("seconds", Text("long")),
                                       Assignment("secs", Number(3)))),
        ast.TestEvent("click"))))
    assert sorted(d.code for d in found) == ["E101", "E105", "E201"]


# --------------------------------------------------------------------------- declarations


@pytest.mark.parametrize("statements, message", [
    ((FIT, FIT), "score `fit` is declared twice"),
    ((FIT, TIER, TIER), "grade `tier` is declared twice"),
    ((FIT, Grade("fit", "fit", (Band("A", 1),))),
     "grade `fit` has the same name as the score `fit`"),
    ((FIT, TIER, Stage("tier", ast.Const(True))),
     "stage `tier` has the same name as the grade `tier`"),
    ((MQL, MQL), "stage `MQL` is declared twice"),
    ((EventDecl("visit"), EventDecl("visit")), "event `visit` is declared twice"),
    ((TimezoneDecl("UTC"), TimezoneDecl("Europe/Berlin")), "the time zone is declared twice"),
    ((Decay("score", 10, DAYS_30), Decay("score", 20, DAYS_30)),
     "`decay score` is declared twice"),
    ((Grade("score", "x", (Band("A", 1),)),), "the grade `score` has the name of the default "
     "score"),
    ((FIT, Grade("g", "fit", (Band("A", 2), Band("A", 1)))),
     "label `A` appears twice in grade `g`"),
])
def test_duplicate_declarations(statements, message):
    assert message in [d.message for d in check(*statements) if d.code == "E107"]


@pytest.mark.parametrize("statement, name", [
    (ScoreDecl("when"), "when"),
    (Grade("time", "score", (Band("A", 1),)), "time"),
    (Stage("each", ast.Const(True)), "each"),
    (EventDecl("with"), "with"),
    (rule("now"), "now"),
    (ProfileRule(Truth(Ref("target")), 5), "target"),
    (Grade("g", "score", (Band("in", 1),)), "in"),
    (ScoreDecl("stage"), "stage"),
])
def test_reserved_words_as_names(statement, name):
    diagnostic = only("E108", rule(), statement)
    assert f"`{name}`" in diagnostic.message


def test_soft_keywords_are_names_where_the_language_allows():
    # `score` is the default score; `stage` in a condition is the lifecycle stage.
    assert codes(ScoreDecl("score", 0, 100, True), rule(score="score"), MQL,
                 Trigger(Compare(Ref("stage"), "is", Label("MQL")), (Action("tag", "x"),))) == []


def test_unknown_time_zone_with_hint():
    found = check(rule(), TimezoneDecl("Europe/Berln"), TimezoneDecl("europe/paris"))
    e111 = [d for d in found if d.code == "E111"]
    assert [d.hint for d in e111] == [
        "did you mean `Europe/Berlin`?",
        "did you mean `Europe/Paris`? (time zone names are case-sensitive)"]


def test_known_time_zone_is_fine():
    assert codes(rule(), TimezoneDecl("America/New_York")) == []


# --------------------------------------------------------------------------- values


def test_empty_range():
    diagnostic = only("E203", ScoreDecl("x", 10, 5, True), rule(score="x"))
    assert diagnostic.hint == "write the lower bound first: 5..10"


@pytest.mark.parametrize("percent", [0, 100, 150, -5])
def test_decay_percentage_outside_0_100(percent):
    assert codes(rule(), Decay("score", percent, DAYS_30)) == ["E204"]


@pytest.mark.parametrize("percent", [0.5, 10, 99.9])
def test_decay_percentage_inside_0_100(percent):
    assert codes(rule(), Decay("score", percent, DAYS_30)) == []


def test_zero_points_zero_limit_zero_duration():
    assert sorted(codes(rule(points=0), rule("x", limit=Limit(0)),
                        Decay("score", 10, Duration(0, "day")))) == ["E205", "E206", "W101"]


# --------------------------------------------------------------------------- grades


def test_bands_out_of_order():
    diagnostic = only("E202", FIT, rule(score="fit"),
                      Grade("tier", "fit", (Band("A", 15), Band("B", 30), Band("C", 0))))
    assert "`B >= 30`" in diagnostic.message


def test_equal_thresholds_are_out_of_order():
    assert codes(FIT, rule(score="fit"),
                 Grade("tier", "fit", (Band("A", 15), Band("B", 15)))) == ["E202"]


def test_band_above_the_score_range_is_unreachable():
    diagnostic = only("W105", ENGAGEMENT, rule(),
                      Grade("tier", "engagement", (Band("A", 150), Band("B", 50))))
    assert diagnostic.message == "band `A` can never be reached: `engagement` is at most 100"


def test_bands_after_an_always_true_band_are_unreachable():
    found = check(ENGAGEMENT, rule(), Grade("tier", "engagement",
                                            (Band("A", 50), Band("B", 0), Band("C", -5)),
                                            otherwise="D"))
    assert [(d.code, d.message) for d in found] == [
        ("W105", "band `C` of grade `tier` can never be reached"),
        ("W105", "band `D` of grade `tier` can never be reached"),
    ]


def test_else_less_grade_with_gap_is_fine():
    assert codes(ENGAGEMENT, rule(), Grade("tier", "engagement", (Band("A", 50),))) == []


def test_band_reach_labels():
    grade = Grade("tier", "e", (Band("A", 150), Band("B", 50), Band("C", 0), Band("D", -1)),
                  otherwise="E")
    assert band_reach(grade, ScoreInfo("e", 0, 100, None)).labels == {"B", "C"}
    assert band_reach(grade, ScoreInfo("e", None, None, None)).labels == {"A", "B", "C", "D",
                                                                          "E"}


def test_comparing_an_unreachable_grade_label_never_holds():
    grade = Grade("tier", "engagement", (Band("A", 150), Band("B", 50)), otherwise="C")
    found = check(ENGAGEMENT, rule(), grade,
                  Stage("hot", Compare(Ref("tier"), "is", Label("A"))))
    assert sorted(d.code for d in found) == ["W104", "W105"]


# --------------------------------------------------------------------------- conditions


@pytest.mark.parametrize("op, number, holds", [
    ("<", 0, False), ("<=", 0, True), (">", 100, False), (">=", 100, True), (">=", 101, False),
    ("=", 101, False), ("=", 50.5, False), ("!=", 50, True), (">", 99.5, True),
])
def test_conditions_against_score_bounds(op, number, holds):
    found = codes(ENGAGEMENT, rule(),
                  Stage("MQL", Compare(Ref("engagement"), op, Number(number))))
    assert found == ([] if holds else ["W104"])


def test_negated_impossible_condition_is_not_reported():
    assert codes(ENGAGEMENT, rule(),
                 Stage("MQL", Not(Compare(Ref("engagement"), ">", Number(100))))) == []


def test_unbounded_score_conditions_always_possible():
    assert codes(rule(), Trigger(Compare(Ref("score"), "<", Number(-1000)),
                                 (Action("tag", "cold"),))) == []


def test_in_list_of_scores_needs_one_possible_value():
    assert codes(ENGAGEMENT, rule(), Stage("x", In(Ref("engagement"),
                                                   (Number(200), Number(300))))) == ["W104"]


def test_score_compared_with_text_and_used_as_truth():
    found = check(ENGAGEMENT, rule(),
                  Stage("a", Compare(Ref("engagement"), "=", Text("high"))),
                  Stage("b", Truth(Ref("engagement"))))
    assert [d.code for d in found] == ["E201", "E201"]


def test_grade_ordering_and_number_comparison():
    found = check(FIT, rule(score="fit"), TIER,
                  Stage("a", Compare(Ref("tier"), ">", Label("B"))),
                  Stage("b", Compare(Ref("tier"), "=", Number(3))))
    assert [d.code for d in found] == ["E201", "E201"]


def test_catalog_type_mismatches():
    catalog = EventDecl("visit", None, (Property("seconds", "number"), Property("page", "text"),
                                        Property("new", "bool")))
    found = check(catalog,
                  rule(where=Compare(Ref("seconds"), "=", Text("long"))),
                  rule(where=Compare(Ref("page"), ">", Text("a")), points=2),
                  rule(where=Truth(Ref("seconds")), points=3),
                  rule(where=Truth(Ref("new")), points=4),
                  rule(where=In(Ref("page"), (Text("a"), Number(1))), points=5))
    assert [d.code for d in found] == ["E201"] * 4


def test_ordering_on_text_without_catalog():
    diagnostic = only("E201", rule(), ProfileRule(Compare(Ref("title"), ">", Text("A")), 5))
    assert diagnostic.message == "`>` on text is always false"


def test_score_name_in_where_and_if_is_a_warning():
    found = check(ENGAGEMENT, rule(),
                  rule("visit", where=Compare(Ref("engagement"), ">", Number(5)), points=2),
                  ProfileRule(Compare(Ref("engagement"), ">", Number(5)), 3),
                  Require(Compare(Ref("stage"), "is", Text("MQL"))))
    assert [d.code for d in found] == ["W109"] * 3
    assert found[0].message == ("`engagement` here is a property of the `visit` event, not the "
                                "score `engagement`")


def test_contact_prefix_in_where_is_an_attribute():
    assert codes(ENGAGEMENT, rule(where=Compare(Ref("engagement", contact=True), "=",
                                                Number(1)))) == []


def test_misspelled_score_in_stage_condition_is_a_warning():
    diagnostic = only("W110", ENGAGEMENT, rule(),
                      Stage("MQL", Compare(Ref("engagment"), ">=", Number(50))))
    assert diagnostic.hint == "did you mean `engagement`?"


# --------------------------------------------------------------------------- rules


def test_duplicated_rule():
    diagnostic = only("W102", rule(targets=["pricing"]), rule(targets=["pricing"], points=5))
    assert diagnostic.hint.startswith("both apply, so the points add up to +15")


def test_duplicate_ignores_target_order_and_default_score_spelling():
    assert codes(ENGAGEMENT, rule(targets=["a", "b"]),
                 rule(targets=["b", "a"], score="engagement")) == ["W102"]


def test_different_limits_are_not_duplicates():
    assert codes(rule(), rule(limit=Limit(1))) == []


def test_contradicting_rules():
    diagnostic = only("W103", rule(points=15), rule(points=-15, limit=Limit(1, "day")))
    assert "(-15) contradicts another rule (+10)" not in diagnostic.message
    assert diagnostic.message == ("this rule (-15) contradicts another rule (+15) for exactly "
                                  "the same events")


def test_rules_on_different_scores_or_wheres_do_not_overlap():
    assert codes(ENGAGEMENT, FIT, rule(), rule(score="fit"),
                 rule(where=Compare(Ref("s"), ">", Number(1)), points=-3),
                 ProfileRule(Truth(Ref("vip")), 5, "fit")) == []


def test_profile_rules_duplicated():
    assert codes(ProfileRule(Truth(Ref("vip")), 5),
                 ProfileRule(Truth(Ref("vip")), 3), rule()) == ["W102"]


# --------------------------------------------------------------------------- usage


def test_score_never_awarded_and_event_never_used():
    found = check(ENGAGEMENT, FIT, rule(), EventDecl("visit"), EventDecl("webinar"))
    assert [(d.code, d.message) for d in found] == [
        ("W107", "no rule awards points to score `fit`"),
        ("W108", "event `webinar` is declared but no rule uses it"),
    ]


# --------------------------------------------------------------------------- sample data


def test_attributes_never_present_in_sample_contacts():
    found = check(rule(), ProfileRule(Compare(Ref("titel"), "=", Text("CEO")), 5),
                  ProfileRule(Truth(Ref("consent")), 1),
                  sample_contacts=[{"contact": "c1", "title": "CEO", "consent": None},
                                   {"contact": "c2", "consent": True}])
    assert [(d.code, d.hint) for d in found] == [("W106", "did you mean `title`?")]


def test_properties_never_present_in_sample_events():
    found = check(rule(where=Compare(Ref("seconds"), ">", Number(3))),
                  rule("click", where=Compare(Ref("button"), "=", Text("x"))),
                  sample_events=[{"event": "visit", "props": {"seconds": 3}},
                                 {"event": "click", "props": {"buton": "x"}}])
    assert [(d.code, d.hint) for d in found] == [("W106", "did you mean `buton`?")]


def test_no_sample_data_no_w106():
    assert codes(rule(where=Compare(Ref("seconds"), ">", Number(3)))) == []


# --------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models())
def test_any_model_gets_sorted_registered_diagnostics(model):
    found = check_model(model)
    assert all(d.code in CODES for d in found)
    assert found == sorted(found, key=lambda d: d.sort_key())
    # Every diagnostic is either an error or a warning, and the severity matches the code.
    assert all(d.severity is (Severity.ERROR if d.code[0] == "E" else Severity.WARNING)
               for d in found)


# --------------------------------------------------------------------------- goldens

GOLDEN = pathlib.Path(__file__).parent / "golden" / "diagnostics"
GOLDEN_CASES = sorted(path.stem for path in GOLDEN.glob("*.score"))


@pytest.mark.parametrize("name", GOLDEN_CASES)
def test_golden_diagnostics(name, update_goldens, monkeypatch):
    """tests/golden/diagnostics/NAME.score against NAME.expected.txt and .json; optional
    NAME.contacts.jsonl / NAME.events.jsonl are passed as sample data."""
    pytest.importorskip("dsl.parser", reason="the parser (dsl/parser.py) has not landed yet")
    monkeypatch.chdir(GOLDEN)  # file names in the output are relative to the golden folder
    contacts = pathlib.Path(f"{name}.contacts.jsonl")
    events = pathlib.Path(f"{name}.events.jsonl")
    result = compile(f"{name}.score",
                     sample_contacts=read_sample_contacts(str(contacts)) if contacts.exists()
                     else None,
                     sample_events=read_sample_events(str(events)) if events.exists() else None)
    actual = {".expected.txt": render_text(result.diagnostics, result.sources),
              ".expected.json": render_json(result.diagnostics)}
    for suffix, text in actual.items():
        expected = pathlib.Path(name + suffix)
        if update_goldens:
            expected.write_text(text, encoding="utf-8")
        else:
            assert expected.exists(), f"missing {expected}: run pytest --update-goldens"
            assert text == expected.read_text(encoding="utf-8")


def test_every_check_has_a_golden():
    """Every code that the checker can report appears in some golden."""
    reported = set()
    for path in GOLDEN.glob("*.expected.json"):
        reported |= {d["code"] for d in json.loads(path.read_text())["diagnostics"]}
    if not reported:
        pytest.skip("no goldens yet: the parser has not landed (run pytest --update-goldens)")
    assert set(REPORTED_CODES) - reported == set()


def test_reported_codes_are_registered():
    assert set(REPORTED_CODES) <= set(CODES)


def test_every_code_is_documented():
    docs = (pathlib.Path(__file__).parent.parent / "docs" / "diagnostics.md").read_text()
    documented = set(re.findall(r"^### ([EW]\d{3}) ", docs, flags=re.M))
    assert set(CODES) - documented == set()


# --------------------------------------------------------------------------- loader
# The loader is tested with a tiny stand-in parser that knows two statements, so that the
# include logic is tested apart from the grammar.


class _Parsed:
    def __init__(self, model, diagnostics=()):
        self.model, self.diagnostics = model, list(diagnostics)


def _mini_parse(source):
    statements = []
    for number, line in enumerate(source.text.splitlines(), start=1):
        keyword, _, rest = line.partition(" ")
        span = Span(source.name, number, 1, number, len(line) + 1)
        if keyword == "include":
            statements.append(ast.Include(rest.strip('"'), span=span))
        elif keyword == "score":
            statements.append(ScoreDecl(rest, span=span))
    return _Parsed(Model(tuple(statements), file=source.name))


def _files(tmp_path, **texts):
    for name, text in texts.items():
        path = tmp_path / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_includes_are_spliced_in_place_relative_to_the_including_file(tmp_path):
    _files(tmp_path, main="score a\ninclude \"lib/one\"\nscore d\n",
           lib__one="score b\ninclude \"two\"\n", lib__two="score c\n")
    result = load(tmp_path / "main", parse=_mini_parse)
    assert result.diagnostics == []
    assert [s.name for s in result.model.statements] == ["a", "b", "c", "d"]
    assert result.model.statements[2].span.file == str(tmp_path / "lib" / "two")
    assert len(result.sources) == 3


def test_a_file_included_twice_is_spliced_once(tmp_path):
    _files(tmp_path, main="include \"x\"\ninclude \"y\"\n", x="include \"z\"\n",
           y="include \"z\"\n", z="score z\n")
    result = load(tmp_path / "main", parse=_mini_parse)
    assert [s.name for s in result.model.statements] == ["z"]
    assert result.diagnostics == []


def test_include_cycle_lists_the_chain(tmp_path):
    _files(tmp_path, a="include \"b\"\nscore a\n", b="include \"a\"\n")
    result = load(str(tmp_path / "a"), parse=_mini_parse)
    [diagnostic] = result.diagnostics
    assert diagnostic.code == "E110"
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert diagnostic.notes == (f"`{a}` includes `{b}`", f"`{b}` includes `{a}`")
    assert diagnostic.span.file == b and diagnostic.span.column == 9  # the quoted path
    assert [s.name for s in result.model.statements] == ["a"]


def test_missing_include_suggests_a_close_file(tmp_path):
    _files(tmp_path, main="include \"catalg.score\"\n", **{"catalog.score": "score x\n"})
    [diagnostic] = load(tmp_path / "main", parse=_mini_parse).diagnostics
    assert (diagnostic.code, diagnostic.hint) == ("E109", "did you mean `catalog.score`?")


def test_unreadable_main_file(tmp_path):
    result = load(tmp_path / "nope.score", parse=_mini_parse)
    assert result.model is None
    assert [d.code for d in result.diagnostics] == ["E007"]


# --------------------------------------------------------------------------- from source text

# Codes whose message names, in its first backquotes, exactly the word the span underlines.
_NAMING_CODES = ("E101", "E102", "E103", "E105", "E108")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models(max_statements=6))
def test_diagnostics_underline_the_word_they_name(model):
    pytest.importorskip("dsl.parser", reason="the parser (dsl/parser.py) has not landed yet")
    from compiler.pipeline import compile_text
    from dsl.formatter import format_model

    text = format_model(model)
    result = compile_text(text, "m.score")
    lines = text.splitlines()
    for diagnostic in result.diagnostics:
        span = diagnostic.span
        assert span is not None and 1 <= span.line <= len(lines) and span.column >= 1
        if diagnostic.code in _NAMING_CODES:
            named = re.search(r"`([^`]+)`", diagnostic.message).group(1)
            assert lines[span.line - 1][span.column - 1:span.end_column - 1] == named


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("score visit+-=<>()\",:#0123456789ab \n.%")),
               max_size=80))
def test_junk_text_gives_diagnostics_not_exceptions(text):
    pytest.importorskip("dsl.parser", reason="the parser (dsl/parser.py) has not landed yet")
    from compiler.pipeline import compile_text

    result = compile_text(text, "junk.score")
    assert result.diagnostics == sorted(result.diagnostics, key=lambda d: d.sort_key())
    assert all(d.code in CODES for d in result.diagnostics)
    assert (result.model is None) <= any(d.is_error for d in result.diagnostics)


# --------------------------------------------------------------------------- pipeline


@pytest.fixture
def real_parser():
    pytest.importorskip("dsl.parser", reason="the parser (dsl/parser.py) has not landed yet")


def test_compile_text_returns_model_and_sources(real_parser):
    from compiler.pipeline import compile_text

    result = compile_text("score e 0..100\nvisit pricing +5 e\n", "m.score")
    assert result.ok and result.diagnostics == []
    assert [type(s).__name__ for s in result.model.statements] == ["ScoreDecl", "EventRule"]
    assert list(result.sources) == ["m.score"]


def test_syntax_error_stops_before_the_checks(real_parser):
    from compiler.pipeline import compile_text

    # Line 2 alone would be an unknown score; with a syntax error only the syntax is reported.
    result = compile_text("score e 0..100 extra words ((\nvisit pricing +5 f\n", "m.score")
    assert result.diagnostics and all(d.code.startswith("E0") for d in result.diagnostics)
    assert not result.ok and result.table is None


def test_errors_of_every_file_are_collected_sorted(real_parser, tmp_path):
    (tmp_path / "shared.score").write_text("score fit\ngrade tier by fitt: A >= 1\n")
    (tmp_path / "main.score").write_text('include "shared.score"\nvisit x +1 fitt\n')
    result = compile(tmp_path / "main.score")
    assert [(pathlib.Path(d.span.file).name, d.span.line, d.code) for d in result.diagnostics] \
        == [("main.score", 2, "E102"), ("shared.score", 2, "E102")]
    assert set(result.sources) == {str(tmp_path / "main.score"), str(tmp_path / "shared.score")}


@pytest.mark.parametrize("operands, holds", [
    (((">=", 50), ("<", 40)), False),
    (((">", 10), ("<", 11)), False),
    ((("=", 5), ("=", 6)), False),
    (((">", 10), ("<=", 11)), True),
    (((">=", 50), ("<=", 50)), True),
    (((">=", 50), ("<", 40.5), (">=", 0)), False),
], ids=["apart", "no-integer-between", "two-values", "one-integer", "touching", "three"])
def test_comparisons_that_cannot_hold_together(operands, holds):
    conditions = tuple(Compare(Ref("engagement"), op, Number(n)) for op, n in operands)
    found = check(ENGAGEMENT, rule(), Stage("x", ast.And(conditions)))
    assert [d.message for d in found] == (
        [] if holds else ["these conditions on `engagement` can never hold together"])


def test_conjunction_under_not_or_with_other_names_is_not_reported():
    apart = (Compare(Ref("engagement"), ">=", Number(50)),
             Compare(Ref("engagement"), "<", Number(40)))
    assert codes(ENGAGEMENT, rule(), Stage("x", Not(ast.And(apart)))) == []
    assert codes(ENGAGEMENT, rule(), Stage("x", ast.And((apart[0], Compare(
        Ref("other"), "<", Number(40)))))) == []


def test_attribute_that_merely_resembles_a_grade_is_left_alone():
    # `title` and `tier` share letters, but `title` is a perfectly good attribute.
    assert codes(FIT, rule(score="fit"), TIER,
                 Trigger(Compare(Ref("title"), "=", Text("CEO")), (Action("tag", "x"),))) == []
    assert codes(FIT, rule(score="fit"), TIER, ProfileRule(
        Compare(Ref("title"), "=", Label("CEO")), 5)) == ["E104"]
