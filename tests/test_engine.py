"""The runtime engine against docs/language.md 3-7 and 9, with models built as ASTs and lowered.

Each test states the rule it checks; expected values are derived by hand in the comments.
"""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import model_strategies as ms
from compiler.lower import lower
from dsl import ast as A
from dsl.source import Span
from runtime import Engine, Event, LateEventError, SnapshotError, TableError, parse_time
from runtime.decay import Decay, add_award, awards_total, keep_fraction, multiplier, new_awards

DAY = 86_400_000_000
HOUR = 3_600_000_000


def at(text: str) -> int:
    return parse_time(text if "T" in text else text + "T00:00:00Z")


def table(*statements) -> dict:
    return lower(A.Model(tuple(statements), file="m.score"), "0" * 64)


def run(statements, events, contacts=None, as_of=None) -> dict:
    """Results by contact id."""
    results = Engine(table(*statements)).run(events, contacts or {}, as_of)
    return {result["contact"]: result for result in results}


def ev(contact, event, when, target=None, id=None, **props) -> Event:
    return Event(contact, event, at(when), target, id, props)


def rule(event, points, targets=(), score=None, limit=None, where=None, any_=False):
    return A.EventRule(event, A.Targets(tuple(targets), any_), where, points, score, limit)


def cmp(name, op, value, contact=False):
    literal = {bool: A.Bool, int: A.Number, float: A.Number, str: A.Text}[type(value)](value)
    return A.Compare(A.Ref(name, contact), op, literal)


def trigger(condition, *actions, each_time=False):
    return A.Trigger(condition, tuple(A.Action(kind, arg) for kind, arg in actions), each_time)


def score_of(result, name="score"):
    return result["scores"][name]


# --------------------------------------------------------------------------- awards, targets


def test_every_matching_rule_awards_and_targets_match_whole_strings():
    statements = [rule("visit", 2, ["blog/*"]), rule("visit", 1), rule("visit", 7, ["pricing"]),
                  rule("visit", 100, ["blog"])]
    events = [ev("a", "visit", "2026-03-01T10:00:00Z", "blog/x/y"),  # 2 + 1
              ev("a", "visit", "2026-03-01T10:01:00Z", "Blog/x"),  # case-sensitive: 1
              ev("a", "visit", "2026-03-01T10:02:00Z", "pricing")]  # 7 + 1
    assert score_of(run(statements, events)["a"]) == 12


def test_an_event_without_target_matches_only_rules_without_targets():
    statements = [rule("visit", 1), rule("visit", 10, ["*"]), rule("visit", 100, any_=True)]
    assert score_of(run(statements, [ev("a", "visit", "2026-03-01")])["a"]) == 101


def test_where_reads_event_properties_and_contact_attributes_without_coercion():
    statements = [rule("visit", 5, where=cmp("seconds", ">=", 30)),
                  rule("visit", 100, where=cmp("country", "=", "DE", contact=True))]
    events = [ev("a", "visit", "2026-03-01T10:00:00Z", seconds=45),  # 5 + 100
              ev("a", "visit", "2026-03-01T10:01:00Z", seconds="45"),  # text: 100
              ev("a", "visit", "2026-03-01T10:02:00Z", seconds=None),  # null = missing: 100
              ev("a", "visit", "2026-03-01T10:03:00Z", seconds=True)]  # bool is no number: 100
    assert score_of(run(statements, events, {"a": {"country": "DE"}})["a"]) == 405


def test_negations_of_missing_values_are_true_and_bare_names_mean_true():
    statements = [A.ProfileRule(A.Not(cmp("plan", "=", "pro")), 1),
                  A.ProfileRule(cmp("plan", "!=", "pro"), 10),
                  A.ProfileRule(A.In(A.Ref("plan"), (A.Text("pro"),), negated=True), 100),
                  A.ProfileRule(A.Truth(A.Ref("vip")), 1000)]
    results = run(statements, [], {"a": {}, "b": {"plan": "pro", "vip": 1},
                                   "c": {"vip": True}}, as_of=0)
    assert [score_of(results[c]) for c in "abc"] == [111, 0, 1111]


def test_patterns_in_conditions_and_their_negation():
    statements = [A.ProfileRule(A.In(A.Ref("title"), (A.Text("CEO"), A.Text("VP*"))), 20),
                  A.ProfileRule(cmp("title", "is not", "V?"), 1)]
    contacts = {"a": {"title": "VP Sales"}, "b": {"title": "VX"}, "c": {"title": "vp"},
                "d": {"title": 5}}
    results = run(statements, [], contacts, as_of=0)
    assert [score_of(results[c]) for c in "abcd"] == [21, 0, 1, 1]


def test_ordering_comparisons_on_text_are_false():
    statements = [A.ProfileRule(cmp("name", ">", "a"), 1),
                  A.ProfileRule(A.Not(cmp("name", "<", "a")), 10)]
    assert score_of(run(statements, [], {"a": {"name": "b"}}, as_of=0)["a"]) == 10


# --------------------------------------------------------------------------- caps


def test_caps_count_the_first_matching_events_per_contact():
    statements = [rule("submit", 30, limit=A.Limit(1)), rule("visit", 10, limit=A.Limit(2))]
    events = [ev(c, kind, f"2026-03-0{d}") for c in "ab" for kind in ("submit", "visit")
              for d in (1, 2, 3)]
    results = run(statements, events)
    assert score_of(results["a"]) == score_of(results["b"]) == 50


def test_a_where_that_fails_does_not_use_up_a_cap():
    statements = [rule("visit", 10, limit=A.Limit(1), where=cmp("seconds", ">", 5))]
    events = [ev("a", "visit", "2026-03-01", seconds=1), ev("a", "visit", "2026-03-02",
                                                            seconds=9)]
    assert score_of(run(statements, events)["a"]) == 10


@pytest.mark.parametrize("zone, per, times, expected", [
    # 23:30 UTC on Feb 28 and 00:30 UTC on Mar 1: two months in UTC ...
    ("UTC", "month", ["2026-02-28T23:30:00Z", "2026-03-01T00:30:00Z"], 2),
    # ... one in New York (both still February there)
    ("America/New_York", "month", ["2026-02-28T23:30:00Z", "2026-03-01T00:30:00Z"], 1),
    # UTC+5:30: 18:29 UTC is 23:59 on Mar 1, 18:31 UTC is 00:01 on Mar 2
    ("Asia/Kolkata", "day", ["2026-03-01T18:29:00Z", "2026-03-01T18:31:00Z"], 2),
    ("UTC", "day", ["2026-03-01T18:29:00Z", "2026-03-01T18:31:00Z"], 1),
])
def test_per_period_caps_use_the_model_time_zone(zone, per, times, expected):
    statements = [A.TimezoneDecl(zone), rule("open", 1, limit=A.Limit(1, per))]
    events = [ev("a", "open", when) for when in times]
    assert score_of(run(statements, events)["a"]) == expected


def test_weeks_start_on_monday():
    statements = [rule("open", 1, limit=A.Limit(1, "week"))]
    # Sun 2026-03-01 and Mon 2026-03-02: two weeks; Mon and Sun 2026-03-08: one week
    events = [ev("a", "open", "2026-03-01"), ev("a", "open", "2026-03-02"),
              ev("b", "open", "2026-03-02"), ev("b", "open", "2026-03-08T23:59:59Z")]
    results = run(statements, events)
    assert (score_of(results["a"]), score_of(results["b"])) == (2, 1)


# --------------------------------------------------------------------------- absence


def absence(points=-5, within=24, missing_targets=(), any_b=False, event="sent",
            missing="open", limit=None):
    return A.AbsenceRule(event, A.Targets(), missing, A.Targets(tuple(missing_targets), any_b),
                         A.Duration(within, "hour"), points, None, limit)


def test_absence_award_exists_once_due_and_not_when_answered():
    events = [ev("a", "sent", "2026-03-01T10:00:00Z", "c1"),
              ev("a", "open", "2026-03-02T10:00:00Z", "c1"),  # exactly t + D: answers
              ev("a", "sent", "2026-03-03T10:00:00Z", "c2"),
              ev("a", "open", "2026-03-03T11:00:00Z", "c3"),  # another target: no answer
              ev("a", "sent", "2026-03-05T10:00:00Z", "c4")]  # due after T
    results = run([absence()], events, as_of=at("2026-03-05T12:00:00Z"))
    assert score_of(results["a"]) == -5


def test_absence_due_exactly_at_as_of_counts():
    events = [ev("a", "sent", "2026-03-01T10:00:00Z")]
    assert score_of(run([absence()], events, as_of=at("2026-03-02T10:00:00Z"))["a"]) == -5
    assert score_of(run([absence()], events, as_of=at("2026-03-02T09:59:59Z"))["a"]) == 0


def test_absence_answered_at_the_same_time_before_or_after_in_input_order():
    for order in ((0, 1), (1, 0)):
        pair = [ev("a", "sent", "2026-03-01T10:00:00Z", "c1"),
                ev("a", "open", "2026-03-01T10:00:00Z", "c1")]
        events = [pair[i] for i in order]
        assert score_of(run([absence()], events, as_of=at("2026-03-05"))["a"]) == 0


def test_an_event_never_answers_itself_but_answers_earlier_ones():
    model = [absence(event="visit", missing="visit", within=1)]
    one = [ev("a", "visit", "2026-03-01T10:00:00Z")]
    assert score_of(run(model, one, as_of=at("2026-03-05"))["a"]) == -5
    two = one + [ev("a", "visit", "2026-03-01T10:30:00Z")]  # answers the first only
    assert score_of(run(model, two, as_of=at("2026-03-05"))["a"]) == -5


def test_absence_b_targets_any_and_none():
    events = [ev("a", "sent", "2026-03-01T10:00:00Z", "c1"),
              ev("a", "open", "2026-03-01T11:00:00Z", "other")]
    as_of = at("2026-03-05")
    assert score_of(run([absence(any_b=True)], events, as_of=as_of)["a"]) == 0
    assert score_of(run([absence(missing_targets=("oth*",))], events, as_of=as_of)["a"]) == 0
    assert score_of(run([absence()], events, as_of=as_of)["a"]) == -5
    untargeted = [ev("b", "sent", "2026-03-01T10:00:00Z"), ev("b", "open", "2026-03-01T11:00Z")]
    assert score_of(run([absence()], untargeted, as_of=as_of)["b"]) == 0


def test_absence_awards_are_capped_in_order_of_a():
    events = [ev("a", "sent", f"2026-03-01T1{h}:00:00Z", f"c{h}") for h in range(4)]
    results = run([absence(limit=A.Limit(2))], events, as_of=at("2026-03-05"))
    assert score_of(results["a"]) == -10


# --------------------------------------------------------------------------- time


def test_decay_is_exact_and_truncates_toward_zero():
    statements = [A.ScoreDecl("engagement"), A.Decay("engagement", 10, A.Duration(30, "day")),
                  rule("visit", 30), rule("unsubscribe", -15)]
    events = [ev("e", "visit", "2026-01-01"), ev("e", "unsubscribe", "2026-01-31")]
    # 30 * 0.81 = 24.3 -> 24; -15 * 0.9 = -13.5 -> -13
    result = run(statements, events, as_of=at("2026-03-02"))["e"]
    assert result["scores"] == {"engagement": 11}


def test_decay_with_a_decimal_percent_uses_the_decimal_not_a_float():
    # keep = 97.5 / 100 = 39/40; M_3 = floor(1e9 * 59319 / 64000) = 926859375
    statements = [A.Decay("score", 2.5, A.Duration(1, "day")), rule("visit", 1000)]
    result = run(statements, [ev("a", "visit", "2026-03-01")], as_of=at("2026-03-04"))["a"]
    assert score_of(result) == 1000 * 926859375 // 10 ** 9


def test_expire_boundary_and_profile_awards_do_not_expire():
    statements = [A.Expire("score", A.Duration(7, "day")), rule("visit", 10),
                  A.ProfileRule(A.Const(True), 3)]
    events = [ev("f", "visit", "2026-03-01"), ev("f", "visit", "2026-03-02")]
    assert score_of(run(statements, events, as_of=at("2026-03-08"))["f"]) == 13
    assert score_of(run(statements, events, as_of=at("2026-03-09"))["f"]) == 3


def test_clamping_is_on_the_value_not_the_sum():
    statements = [A.ScoreDecl("s", 0, 50, True), rule("visit", 20), rule("unsubscribe", -30)]
    events = [ev("p", "visit", f"2026-03-0{d}") for d in (1, 2, 3, 4)]  # sum 80, shown 50
    events.append(ev("p", "unsubscribe", "2026-03-05"))  # sum 50
    assert run(statements, events)["p"]["scores"] == {"s": 50}


def test_as_of_drops_later_events_and_profile_only_contacts_appear():
    statements = [rule("visit", 10), A.ProfileRule(cmp("vip", "=", True), 5)]
    events = [ev("a", "visit", "2026-03-01"), ev("b", "visit", "2026-03-03")]
    results = run(statements, events, {"b": {"vip": True}, "c": {}}, as_of=at("2026-03-02"))
    assert [(cid, score_of(r)) for cid, r in results.items()] == [("a", 10), ("b", 5), ("c", 0)]


def test_duplicates_first_in_processing_order_wins_and_count_for_default_as_of():
    events = [ev("m", "visit", "2026-03-02", "x", id="e1"),
              ev("m", "visit", "2026-03-01", "y", id="e1"),  # earlier: this one counts
              ev("n", "visit", "2026-03-01", "x", id="e1")]  # other contact: not a duplicate
    statements = [rule("visit", 1, ["y"]), rule("visit", 10, ["x"]),
                  trigger(cmp("score", ">=", 1), ("tag", "t"))]
    results = run(statements, events)
    assert (score_of(results["m"]), score_of(results["n"])) == (1, 10)
    # the tag fires at the event point of the counted visit, not at the (later) as-of point
    assert results["m"]["actions"] == [{"at": "2026-03-01T00:00:00Z", "action": "tag",
                                        "arg": "t"}]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(-50, 50)), max_size=12),
       st.lists(st.integers(0, 40), min_size=1, max_size=6),
       st.sampled_from([(10, 7), (50, 3), (100, 5), ("2.5", 1)]),
       st.one_of(st.none(), st.integers(1, 30)))
def test_cached_timed_totals_equal_a_direct_sum(awards, probes, decay_spec, expire):
    """The cached total (runtime.decay) equals summing every award's exact contribution."""
    percent, every = decay_spec
    decay = Decay(keep_fraction(percent), every)
    state = new_awards()
    steps = sorted([(t, 0, p) for t, p in awards] + [(t, 1, None) for t in probes])
    given_so_far = []
    for t, kind, points in steps:  # awards and probes in time order, as points come
        if kind == 0:
            add_award(state, t, points, decay, expire)
            given_so_far.append((t, points))
            continue
        direct = 0
        for start, p in given_so_far:
            age = t - start
            if expire is None or age < expire:
                product = p * multiplier(keep_fraction(percent), age // every)
                direct += product // 10 ** 9 if product >= 0 else -(-product // 10 ** 9)
        assert awards_total(state, t, decay, expire) == direct


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(-50, 50)), max_size=12),
       st.lists(st.integers(0, 60), min_size=1, max_size=6),
       st.sampled_from([(10, 7), (50, 3), (100, 5), ("2.5", 1)]),
       st.one_of(st.none(), st.integers(1, 30)))
def test_the_positive_contributions_bound_every_later_total(awards, probes, decay_spec, expire):
    """decay.positive_total (the bound of the compiled loop's skipped points) is >= the
    total at every later time until the next positive award, whether or not the totals
    in between were computed (entries not popped yet hold an older, larger contribution)."""
    from runtime.decay import positive_total

    percent, every = decay_spec
    decay = Decay(keep_fraction(percent), every)
    state = new_awards()
    steps = sorted([(t, 0, p) for t, p in awards] + [(t, 1, None) for t in probes])
    bound = 0
    for t, kind, points in steps:
        if kind == 0:
            add_award(state, t, points, decay, expire)
            bound += max(points, 0)  # as the loop raises it
            continue
        assert awards_total(state, t, decay, expire) <= bound
        bound = positive_total(state)  # as the loop tightens it after a computed total
        assert bound >= awards_total(state, t, decay, expire)


# --------------------------------------------------------------------------- lifecycle


def lifecycle_model():
    return [A.ScoreDecl("engagement", 0, 100, True), A.ScoreDecl("fit"),
            rule("visit", 30, ["pricing"]),
            A.ProfileRule(cmp("title", "=", "CEO"), 20, "fit"),
            A.Grade("tier", "fit", (A.Band("A", 20), A.Band("B", 10)), "C"),
            A.Stage("MQL", cmp("engagement", ">=", 30)),
            A.Stage("SQL", cmp("engagement", ">=", 90)),
            trigger(A.Compare(A.Ref("stage"), "is", A.Label("MQL")), ("notify", "marketing")),
            trigger(A.Compare(A.Ref("stage"), "is", A.Label("SQL")), ("notify", "sales"),
                    ("reset", "engagement"))]


def test_grades_stages_and_reset_conformance_06():
    events = [ev("g", "visit", f"2026-03-0{d}T10:00:00Z", "pricing") for d in (1, 2, 3, 4)]
    result = run(lifecycle_model(), events, {"g": {"title": "CEO"}})["g"]
    assert result == {
        "contact": "g", "scores": {"engagement": 30, "fit": 20}, "grades": {"tier": "A"},
        "stage": "SQL", "actions": [
            {"at": "2026-03-01T10:00:00Z", "action": "notify", "arg": "marketing"},
            {"at": "2026-03-03T10:00:00Z", "action": "notify", "arg": "sales"},
            {"at": "2026-03-03T10:00:00Z", "action": "reset", "arg": "engagement"}]}


def test_a_reset_at_the_as_of_point_shows_in_the_result():
    statements = [rule("visit", 10), trigger(cmp("score", ">=", 10), ("reset", "score"))]
    result = run(statements, [ev("a", "visit", "2026-03-01")])["a"]
    assert score_of(result) == 0
    assert [a["action"] for a in result["actions"]] == ["reset"]


def test_each_time_re_arms_once_does_not():
    statements = [A.ScoreDecl("e", 0, 50, True), rule("visit", 20), rule("unsubscribe", -30),
                  trigger(cmp("e", ">=", 40), ("tag", "hot"), each_time=True),
                  trigger(cmp("e", ">=", 40), ("notify", "sales"))]
    days = ["visit", "visit", "unsubscribe", "visit", "visit", "visit"]
    events = [ev("p", kind, f"2026-03-0{d + 1}T10:00:00Z") for d, kind in enumerate(days)]
    actions = run(statements, events)["p"]["actions"]
    assert [(a["at"][:10], a["arg"]) for a in actions] == [
        ("2026-03-02", "hot"), ("2026-03-02", "sales"), ("2026-03-05", "hot")]


def test_stages_only_move_forward_and_decay_can_drop_a_trigger_between_points():
    statements = [A.Decay("score", 50, A.Duration(1, "day")), rule("visit", 40),
                  A.Stage("MQL", cmp("score", ">=", 30)),
                  trigger(cmp("score", ">=", 30), ("tag", "warm"), each_time=True)]
    events = [ev("a", "visit", "2026-03-01"), ev("a", "ping", "2026-03-02"),  # 20: false
              ev("a", "visit", "2026-03-02T01:00:00Z")]  # 20 + 40 = 60: fires again
    result = run(statements, events)["a"]
    assert result["stage"] == "MQL" and score_of(result) == 60
    assert [a["at"] for a in result["actions"]] == ["2026-03-01T00:00:00Z",
                                                    "2026-03-02T01:00:00Z"]


def test_require_makes_contacts_unscored():
    statements = [A.Require(A.Truth(A.Ref("consent"))), rule("visit", 15),
                  trigger(cmp("score", ">=", 15), ("notify", "sales"))]
    events = [ev(c, "visit", "2026-03-01") for c in "ijk"]
    results = run(statements, events, {"i": {"consent": True}, "j": {"consent": "true"}})
    assert results["i"]["scores"] == {"score": 15} and len(results["i"]["actions"]) == 1
    for contact in "jk":
        assert results[contact] == {"contact": contact, "scores": {"score": None},
                                    "grades": {}, "stage": None, "actions": []}


def test_a_grade_without_else_and_no_band_is_absent():
    statements = [A.Grade("tier", "score", (A.Band("A", 10),)),
                  trigger(A.Compare(A.Ref("tier"), "is not", A.Label("A")), ("tag", "low"))]
    result = run(statements, [ev("a", "visit", "2026-03-01")])["a"]
    assert result["grades"] == {} and result["actions"][0]["arg"] == "low"


# --------------------------------------------------------------------------- streaming


def stream(engine, events, as_of):
    actions = []
    for event in sorted(events, key=lambda e: (e.at, e.seq)):
        if event.at <= as_of:
            actions += engine.process(event)
    actions += engine.advance(as_of)
    return actions


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(ms.models(), ms.events(), ms.contacts(), st.integers(0, 100), st.integers(0, 14))
def test_streaming_then_advance_equals_run_and_snapshots_resume(model, events, contacts,
                                                                 hours, cut):
    compiled = table(*model.statements)
    as_of = ms.START + hours * ms.HOUR
    # a stream knows only the events it was given: those up to T
    ordered = [e for e in sorted(events, key=lambda e: (e.at, e.seq)) if e.at <= as_of]
    expected = Engine(compiled).run(ordered, contacts, as_of)

    engine = Engine(compiled, contacts)
    streamed = stream(engine, ordered, as_of)
    assert [engine.state(r["contact"]) for r in expected] == expected
    assert sorted(json.dumps(a, sort_keys=True) for a in streamed) == sorted(
        json.dumps({"contact": r["contact"], **a}, sort_keys=True)
        for r in expected for a in r["actions"])

    first = Engine(compiled, contacts)
    for event in ordered[:cut]:
        first.process(event)
    snapshot = json.loads(json.dumps(first.snapshot()))  # JSON-safe
    resumed = Engine.restore(compiled, snapshot)
    for event in ordered[cut:]:
        resumed.process(event)
    resumed.advance(as_of)
    assert [resumed.state(r["contact"]) for r in expected] == expected


def test_process_returns_actions_and_refuses_late_events():
    engine = Engine(table(rule("visit", 10), trigger(cmp("score", ">=", 20), ("notify", "x"))))
    assert engine.process(ev("a", "visit", "2026-03-02")) == []
    assert engine.process(ev("a", "visit", "2026-03-02")) == [
        {"contact": "a", "at": "2026-03-02T00:00:00Z", "action": "notify", "arg": "x"}]
    with pytest.raises(LateEventError):
        engine.process(ev("a", "visit", "2026-03-01"))
    engine.process(ev("b", "visit", "2026-03-01"))  # other contacts have their own clock
    assert engine.state("b")["scores"] == {"score": 10}


def test_advance_waits_for_absences_due_at_the_event_time():
    engine = Engine(table(absence()))
    engine.process(ev("a", "sent", "2026-03-01T10:00:00Z", "c1"))
    engine.process(ev("a", "open", "2026-03-02T10:00:00Z", "c1"))  # exactly due: answers
    engine.advance(at("2026-03-03"))
    assert engine.state("a")["scores"] == {"score": 0}


def test_restore_refuses_a_snapshot_of_another_table():
    engine = Engine(table(rule("visit", 1)))
    engine.process(ev("a", "visit", "2026-03-01"))
    other = lower(A.Model((rule("visit", 2),)), "f" * 64)
    with pytest.raises(SnapshotError):
        Engine.restore(other, engine.snapshot())


# --------------------------------------------------------------------------- explain, table


def test_explain_lists_awards_caps_resets_stages_and_actions_with_sources():
    home = A.EventRule("visit", A.Targets(("home",)), None, 1, "engagement", A.Limit(1),
                       span=Span("m.score", 12, 1, 12, 30))
    statements = lifecycle_model() + [home]
    events = [ev("g", "visit", f"2026-03-0{d}T10:00:00Z", "pricing") for d in (1, 2, 3, 4)]
    events += [ev("g", "visit", "2026-03-01T11:00:00Z", "home"),
               ev("g", "visit", "2026-03-01T12:00:00Z", "home")]
    explanation = Engine(table(*statements)).explain("g", events, {"g": {"title": "CEO"}})
    data = explanation.to_json()
    assert [a["status"] for a in data["awards"]] == [
        "reset", "reset", "capped", "reset", "reset", "counted"]
    assert data["awards"][-1]["contribution"] == 30
    assert data["awards"][2]["source"] == "m.score:12"
    assert [(s["from"], s["to"]) for s in data["stages"]] == [(None, "MQL"), ("MQL", "SQL")]
    assert [a["arg"] for a in data["actions"]] == ["marketing", "sales", "engagement"]
    assert data["actions"][1]["condition"] == 'stage = "SQL"'
    assert data["profile"][0]["points"] == 20
    text = explanation.to_text()
    assert "capped (at most 1)" in text and "discarded by reset at 2026-03-03T10:00:00Z" in text


def test_explain_of_decayed_and_expired_awards():
    statements = [A.Decay("score", 10, A.Duration(30, "day")),
                  A.Expire("score", A.Duration(50, "day")), rule("visit", 30)]
    events = [ev("e", "visit", "2026-01-01"), ev("e", "visit", "2026-02-01")]
    # as of Mar 4: the first award is 62 days old (expired), the second 31 (k = 1: 30 * 0.9)
    data = Engine(table(*statements)).explain("e", events, as_of=at("2026-03-04")).to_json()
    assert [(a["status"], a["contribution"]) for a in data["awards"]] == [
        ("expired", 0), ("counted", 27)]
    assert data["result"]["scores"] == {"score": 27}


def test_tables_are_validated():
    good = table(rule("visit", 1))
    with pytest.raises(TableError, match="format"):
        Engine({**good, "format": 1})
    broken = json.loads(json.dumps(good))
    broken["rules"][0]["score"] = "nope"
    with pytest.raises(TableError, match="unknown score"):
        Engine(broken)
    broken["rules"][0]["score"] = "score"
    targets = broken["rules"][0].pop("targets")
    with pytest.raises(TableError, match=r"`rules\[0\]` lacks `targets`"):
        Engine(broken)
    broken["rules"][0]["targets"] = targets
    broken["rules"][0]["where"] = ["~", ["event", "x"], 1]
    with pytest.raises(TableError, match=r"<string>:0|m\.score"):
        Engine(broken)


def test_a_table_loads_from_a_json_file(tmp_path):
    path = tmp_path / "table.json"
    path.write_text(json.dumps(table(rule("visit", 4))))
    assert Engine(str(path)).run([ev("a", "visit", "2026-03-01")], {})[0]["scores"] == {
        "score": 4}


def test_a_stage_condition_on_stage_can_move_again_at_the_next_point():
    # event point: none -> MQL (SQL needs stage MQL, which is not yet the case);
    # as-of point (same time, nothing new awarded): stage is MQL -> SQL
    statements = [A.Stage("MQL", cmp("score", "=", 0)),
                  A.Stage("SQL", A.Compare(A.Ref("stage"), "is", A.Label("MQL")))]
    assert run(statements, [ev("a", "ping", "2026-03-01")])["a"]["stage"] == "SQL"


def test_table_errors_cite_the_source_line():
    decay = A.Decay("score", 10, A.Duration(30, "day"), span=Span("m.score", 4, 1, 4, 30))
    broken = table(decay, rule("visit", 1))
    broken["scores"][0]["decay"]["every"] = 0
    with pytest.raises(TableError,
                       match=r"^m\.score:4: `scores\[0\].decay.every` must be a positive"):
        Engine(broken)
    with pytest.raises(TableError, match="unknown time zone"):
        Engine({**table(rule("visit", 1)), "timezone": "Mars/Olympus"})


def test_advance_fires_absence_triggers_and_set_profile_applies_from_then_on():
    statements = [absence(), A.ProfileRule(cmp("vip", "=", True), 100),
                  trigger(cmp("score", "<", 0), ("tag", "cold"))]
    engine = Engine(table(*statements))
    engine.process(ev("a", "sent", "2026-03-01T10:00:00Z", "c1"))
    assert engine.advance(at("2026-03-02T09:00:00Z")) == []
    assert engine.advance(at("2026-03-02T12:00:00Z")) == [
        {"contact": "a", "at": "2026-03-02T10:00:00Z", "action": "tag", "arg": "cold"}]
    engine.set_profile("a", {"vip": True})
    engine.advance(at("2026-03-03"))
    assert engine.state("a")["scores"] == {"score": 95}
    assert engine.state("nobody")["scores"] == {"score": 0}


def test_explain_shows_an_absence_award_and_an_unscored_contact():
    events = [ev("a", "sent", "2026-03-01T10:00:00Z", "c1")]
    data = Engine(table(absence())).explain("a", events, as_of=at("2026-03-03")).to_json()
    award = data["awards"][0]
    assert award["kind"] == "absence" and award["absence_of"] == "open"
    assert award["after"] == {"event": "sent", "target": "c1", "at": "2026-03-01T10:00:00Z"}
    assert award["at"] == "2026-03-02T10:00:00Z" and award["contribution"] == -5
    gated = Engine(table(A.Require(A.Truth(A.Ref("consent"))), rule("visit", 1)))
    explanation = gated.explain("b", [ev("b", "visit", "2026-03-01")], {"b": {}})
    assert explanation.to_json()["unscored"] is True
    assert "does not satisfy `require consent = true`" in explanation.to_text()


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                        "Asia/Kathmandu", "America/St_Johns"]),
       st.integers(at("2025-01-01"), at("2027-12-31")),
       st.sampled_from([0, 1, 3_600_000_000 - 1, 899_999_999]))
def test_cached_local_days_equal_a_direct_conversion(zone, micros, nudge):
    """Calendar.day caches per quarter hour; it must agree with zoneinfo at every instant,
    around DST changes too (Lord Howe shifts by 30 minutes, Kathmandu is at +5:45)."""
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo
    from runtime.periods import Calendar
    calendar = Calendar(zone)
    moment = micros + nudge
    calendar.day(moment - 900_000_000)  # warm the cache with a neighbour first
    local = (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=moment))
    assert calendar.day(moment) == local.astimezone(ZoneInfo(zone)).date().toordinal()
