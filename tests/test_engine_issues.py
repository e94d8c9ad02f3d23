"""Engine issues and corner cases, each a minimal model with a hand derivation.

Every case runs the engine (batch, and streaming where time matters) and the reference
interpreter against the value derived by hand from docs/language.md. A disagreement found by the
properties lands here as a minimal reproducer; while the engine is wrong it is a strict xfail
that names the reading, so that the fix turns it into a failure to be removed; once fixed it
stays as a regression test.
"""
from __future__ import annotations

import json

import reference
from compiler.lower import lower
from dsl import ast
from runtime import Engine
from runtime.events import Event, parse_time

T = ast.Targets
NO = T()


def at(text: str) -> int:
    return parse_time(text)


def ev(contact: str, name: str, when: str, target=None, seq=0, ident=None, props=None):
    return Event(contact, name, at(when), target, ident, props or {}, seq + 1, seq)


def score_is(name: str, op: str, n) -> ast.Compare:
    return ast.Compare(ast.Ref(name), op, ast.Number(n))


def stage_is(label: str) -> ast.Compare:
    return ast.Compare(ast.Ref("stage"), "is", ast.Label(label))


def both(model: ast.Model, events, contacts=None, as_of=None):
    """(engine batch results, engine streaming results, reference results)."""
    table = lower(model, "0" * 64)
    contacts = contacts or {}
    batch = Engine(table).run(events, contacts, as_of=as_of)
    until = as_of if as_of is not None else max(e.at for e in events)
    engine = Engine(table, contacts)
    for event in reference.processing_order([e for e in events if e.at <= until]):
        engine.process(event)
    engine.advance(until)
    engine = Engine.restore(table, json.loads(json.dumps(engine.snapshot())))
    streamed = [engine.state(r["contact"]) for r in batch]
    return batch, streamed, reference.interpret(model, events, contacts, as_of)


def check(model, events, expected, contacts=None, as_of=None):
    batch, streamed, ref = both(model, events, contacts, as_of)
    assert ref == expected, "the reference interpreter disagrees with the hand derivation"
    assert batch == expected, "Engine.run disagrees with the hand derivation"
    assert streamed == expected, "streaming disagrees with the hand derivation"


def result(contact, scores, grades=None, stage=None, actions=()):
    return {"contact": contact, "scores": scores, "grades": grades or {}, "stage": stage,
            "actions": [{"at": a, "action": k, "arg": g} for a, k, g in actions]}


# --------------------------------------------------------------------------- found issues


def test_stage_chain_moves_again_at_the_as_of_point():
    # Found by the properties (fixed in 3e73b49): the engine skipped a point at which no award
    # changed, but a stage condition that reads `stage` can move the stage again there.
    # One event at T. Point 1 (the event): score 0, MQL holds, SQL does not (stage is none
    # before the move) -> MQL. Point 2 (T itself, 9.1): SQL holds (stage is MQL) -> SQL.
    model = ast.Model((
        ast.EventRule("visit", NO, None, 1),
        ast.Stage("MQL", score_is("score", "=", 0)),
        ast.Stage("SQL", stage_is("MQL")),
    ))
    events = [ev("c", "email_sent", "2026-03-01T00:00:00Z")]
    check(model, events, [result("c", {"score": 0}, stage="SQL")])


# --------------------------------------------------------------------------- corner cases


def test_answer_at_the_same_time_before_a_counts_and_an_event_never_answers_itself():
    # `visit without visit within 1 hour -5`. v1 at 10:00 is answered by v2 at 10:30; v2 is
    # answered by v3 at 11:30 (exactly t + D: inclusive); v3 has no later visit: -5 at 12:30.
    # `email_sent without email_open within 1 hour -7`: the open at 09:00 comes first in the
    # input but at the same time as the send: it answers (t <= B.at). Total -5.
    model = ast.Model((
        ast.AbsenceRule("visit", NO, "visit", NO, ast.Duration(1, "hour"), -5),
        ast.AbsenceRule("email_sent", NO, "email_open", NO, ast.Duration(1, "hour"), -7),
    ))
    events = [ev("c", "email_open", "2026-03-01T09:00:00Z", "m", 0),
              ev("c", "email_sent", "2026-03-01T09:00:00Z", "m", 1),
              ev("c", "visit", "2026-03-01T10:00:00Z", None, 2),
              ev("c", "visit", "2026-03-01T10:30:00Z", None, 3),
              ev("c", "visit", "2026-03-01T11:30:00Z", None, 4)]
    check(model, events, [result("c", {"score": -5})], as_of=at("2026-03-01T13:00:00Z"))


def test_absence_per_day_cap_counts_in_the_day_of_the_due_time():
    # Sends at 22:00 and 23:30 UTC on 1 Mar, then 01:00 UTC on 2 Mar, 3 hours to answer, at most
    # 1 per day (UTC). Due 01:00, 02:30 and 04:00 on 2 Mar: all three in one day: -4 once.
    model = ast.Model((
        ast.AbsenceRule("email_sent", NO, "email_open", NO, ast.Duration(3, "hour"), -4, None,
                        ast.Limit(1, "day")),
    ))
    events = [ev("c", "email_sent", "2026-03-01T22:00:00Z", "a", 0),
              ev("c", "email_sent", "2026-03-01T23:30:00Z", "b", 1),
              ev("c", "email_sent", "2026-03-02T01:00:00Z", "c", 2)]
    check(model, events, [result("c", {"score": -4})], as_of=at("2026-03-02T12:00:00Z"))


def test_reset_at_the_as_of_point_shows_the_score_and_grade_after_it():
    # decay 50% every hour. unsubscribe -100 at 10:00, visit +100 at 10:30: 0 at 10:30. At
    # T = 11:00: -100 * 0.5 = -50, +100 (age 30 min) -> 50: the trigger fires at T and resets.
    # 9.1: the result is the state after T's resets: score 0, so grade C (not A).
    model = ast.Model((
        ast.EventRule("visit", NO, None, 100),
        ast.EventRule("unsubscribe", NO, None, -100),
        ast.Decay("score", 50, ast.Duration(1, "hour")),
        ast.Grade("tier", "score", (ast.Band("A", 50),), "C"),
        ast.Trigger(score_is("score", ">=", 50), (ast.Action("reset", "score"),)),
    ))
    events = [ev("c", "unsubscribe", "2026-03-01T10:00:00Z", None, 0),
              ev("c", "visit", "2026-03-01T10:30:00Z", None, 1)]
    check(model, events, [result("c", {"score": 0}, {"tier": "C"},
                                 actions=[("2026-03-01T11:00:00Z", "reset", "score")])],
          as_of=at("2026-03-01T11:00:00Z"))


def test_decay_with_a_decimal_percentage_is_exact():
    # decay 2.5% every 1 day; +100 at 1 Mar, -7 at 2 Mar; as of 4 Mar 00:00.
    # k = 3: M_3 = floor(1e9 * 0.975^3) = floor(926859375) ; 100 * 0.926859375 = 92.68 -> 92.
    # k = 2: M_2 = floor(1e9 * 0.950625) = 950625000; -7 * 0.950625 = -6.65 -> -6.  92 - 6 = 86.
    model = ast.Model((
        ast.EventRule("visit", NO, None, 100),
        ast.EventRule("unsubscribe", NO, None, -7),
        ast.Decay("score", 2.5, ast.Duration(1, "day")),
    ))
    events = [ev("c", "visit", "2026-03-01T00:00:00Z", None, 0),
              ev("c", "unsubscribe", "2026-03-02T00:00:00Z", None, 1)]
    check(model, events, [result("c", {"score": 86})], as_of=at("2026-03-04T00:00:00Z"))


def test_capped_absence_award_is_still_an_evaluation_point():
    # The reading shared by the engine and the reference (docs/semantics.md 2), like a capped
    # event (9.2). expire score after 1 hour; visit +10 at 09:00. Absence rule on `other`,
    # once: send a (09:00) is due 09:30 and counts; send b (09:45) is due 10:15, capped. At
    # 10:15 the visit has expired: score 0 < 5, so `when score < 5` fires at 10:15, not at T.
    model = ast.Model((
        ast.ScoreDecl("score"), ast.ScoreDecl("other"),
        ast.EventRule("visit", NO, None, 10),
        ast.AbsenceRule("email_sent", NO, "email_open", NO, ast.Duration(30, "minute"), -1,
                        "other", ast.Limit(1)),
        ast.Expire("score", ast.Duration(1, "hour")),
        ast.Trigger(score_is("score", "<", 5), (ast.Action("tag", "cold"),)),
    ))
    events = [ev("c", "visit", "2026-03-01T09:00:00Z", None, 0),
              ev("c", "email_sent", "2026-03-01T09:00:00Z", "a", 1),
              ev("c", "email_sent", "2026-03-01T09:45:00Z", "b", 2)]
    check(model, events, [result("c", {"score": 0, "other": -1},
                                 actions=[("2026-03-01T10:15:00Z", "tag", "cold")])],
          as_of=at("2026-03-01T11:00:00Z"))


def test_patterns_negations_missing_values_and_no_coercion():
    # where plan = "ent*" (+1), plan != "ent*" (+10), seconds >= 30 (+100), paid (+1000),
    # contact.employees >= 200 (+10000). e1: plan "enterprise", seconds "45" (text: ordering
    # false), paid 1 (not true): +1. e2: no props: plan missing -> `!=` true: +10; e3: paid true
    # and seconds 30.0: +1000 +100 +10 (plan missing). Profile employees "250" (text): never.
    where = [ast.Compare(ast.Ref("plan"), "=", ast.Text("ent*")),
             ast.Compare(ast.Ref("plan"), "!=", ast.Text("ent*")),
             score_is("seconds", ">=", 30),
             ast.Truth(ast.Ref("paid")),
             ast.Compare(ast.Ref("employees", True), ">=", ast.Number(200))]
    model = ast.Model(tuple(ast.EventRule("visit", NO, w, p)
                            for w, p in zip(where, (1, 10, 100, 1000, 10000))))
    events = [ev("c", "visit", "2026-03-01T10:00:00Z", None, 0,
                 props={"plan": "enterprise", "seconds": "45", "paid": 1}),
              ev("c", "visit", "2026-03-01T10:01:00Z", None, 1),
              ev("c", "visit", "2026-03-01T10:02:00Z", None, 2, props={"paid": True,
                                                                      "seconds": 30.0})]
    check(model, events, [result("c", {"score": 1 + 10 + 1110})],
          contacts={"c": {"employees": "250"}})


def test_batch_reads_a_list_contact_by_contact_keeping_each_contacts_order():
    # the batch loop gets each contact's events together (cache locality), in the order given
    from runtime.engine import _groups

    events = [Event(c, "visit", at, str(at)) for at, c in
              enumerate(["a", "b", "a", "c", "b", "a"], start=10**15)]
    grouped = [e for own in _groups(events).values() for e in own]
    assert [(e.contact, e.at - 10**15) for e in grouped] == \
        [("a", 0), ("a", 2), ("a", 5), ("b", 1), ("b", 4), ("c", 3)]
