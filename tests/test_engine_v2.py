"""The runtime on language v2 (docs/language.md 10.1-10.5, 10.8), on hand-written tables.

These tests do not need the front end: `tests/v2_tables.py` writes the tables as
docs/rule-table.md specifies them. The first group mirrors the conformance cases 11-15
(same events, same expected results); the rest pin single readings, derived in comments.
"""
import json
import math
import pathlib

import pytest

import v2_tables as T
from runtime import Engine, Event, SnapshotError, TableError, parse_time
from runtime.snapshot import checksum
from runtime.events import format_time
from runtime.io import read_contacts, read_events

CASES = pathlib.Path(__file__).resolve().parent / "conformance"
DAY, HOUR = T.DAY, T.HOUR


def at(text: str) -> int:
    return parse_time(text if "T" in text else text + "T00:00:00Z")


def ev(contact, kind, when, target=None, **props) -> Event:
    return Event(contact, kind, at(when), target, None, props)


def results(table, events, contacts=None, as_of=None) -> dict:
    return {r["contact"]: r for r in Engine(table).run(events, contacts or {}, as_of)}


# --------------------------------------------------------------------------- conformance 11-15

CASE_TABLES = {
    "11_quoted_event_names": lambda: T.table(
        rules=[T.event("Product Added", 30, "score"),
               T.event("add-to-cart", 5, "score", limit=(2, None)),
               T.event("Page*", 7, "score"),
               T.event("visit", 2, "score", "pricing"), T.event("visit", 1, "score"),
               T.absence("Order Completed", "Review Written", 14 * DAY, -5, "score")],
        triggers=[T.trigger([">=", ["score", "score"], 40], ("tag", "big basket"))]),
    "12_groups_caps": lambda: T.table(
        scores=[T.score("engagement", 0, 100)],
        groups=[T.group("email", "engagement", high=10), T.group("web", "engagement", high=25)],
        rules=[T.event("email_open", 3, "engagement", group="email"),
               T.event("email_click", 5, "engagement", group="email", limit=(1, None)),
               T.event("unsubscribe", -8, "engagement", group="email"),
               T.event("visit", 10, "engagement", "blog/*", group="web"),
               T.event("visit", 20, "engagement", "pricing")],
        triggers=[T.trigger([">=", ["group", "email"], 10], ("tag", "email-maxed")),
                  T.trigger([">=", ["score", "engagement"], 50], ("notify", "sales"))]),
    "13_inactivity": lambda: T.table(
        scores=[T.score("engagement")], activity=["visit", "email_open"],
        rules=[T.event("visit", 3, "engagement"), T.event("email_sent", 1, "engagement")],
        inactivity=[T.inactive(10 * DAY, -5, "engagement"),
                    T.inactive(7 * DAY, -2, "engagement", every=7 * DAY, count=2)],
        triggers=[T.trigger(["<", ["score", "engagement"], 0], ("tag", "cold"))]),
    "14_matrix_grades": lambda: T.table(
        scores=[T.score("fit"), T.score("engagement")],
        profiles=[T.profile(["in", ["contact", "title"], ["CEO", "CTO"]], 30, "fit"),
                  T.profile([">=", ["contact", "employees"], 100], 15, "fit")],
        rules=[T.event("visit", 35, "engagement", "pricing"),
               T.event("register", 30, "engagement", "webinar")],
        grades=[T.grade("fit_tier", "fit", [("A", 30), ("B", 15)], "C"),
                T.grade("heat", "engagement", [("1", 60), ("2", 30)], "3"),
                T.matrix("priority", "fit_tier", "heat"),
                T.matrix("lane", "fit_tier", "heat",
                         [("hot", ["A1", "A2", "B1"]), ("warm", ["A3", "B2", "C1"])], "cold"),
                T.grade("size", "fit", [("big", 40)]),
                T.matrix("cell", "size", "heat")],
        stages=[T.stage("MQL", ["in", ["grade", "priority"], ["A1", "A2", "B1"]])],
        triggers=[T.trigger(["=", ["grade", "heat"], "1"], ("notify", "sales"))]),
    "15_points_from_property": lambda: T.table(
        scores=[T.score("engagement")],
        rules=[T.event("sales_adjust", None, "engagement", by=("points", None, None)),
               T.event("purchase", None, "engagement", by=("value", -50, 50),
                       limit=(3, None))],
        triggers=[T.trigger([">=", ["score", "engagement"], 30], ("notify", "sales"),
                            each_time=True)]),
}


def _case_input(case: pathlib.Path):
    events = [e for e in read_events(str(case / "events.jsonl")) if isinstance(e, Event)]
    contacts = read_contacts(str(case / "contacts.jsonl"))[0] \
        if (case / "contacts.jsonl").exists() else {}
    words = (case / "args").read_text().split()
    as_of = parse_time(words[words.index("--as-of") + 1]) if "--as-of" in words else None
    expected = [json.loads(line) for line in
                (case / "expected.jsonl").read_text().splitlines() if line.strip()]
    return events, contacts, as_of, expected


@pytest.mark.parametrize("name", sorted(CASE_TABLES))
def test_hand_written_tables_reproduce_the_conformance_cases(name):
    events, contacts, as_of, expected = _case_input(CASES / name)
    table = CASE_TABLES[name]()
    assert Engine(table).run(events, contacts, as_of=as_of) == expected
    # streaming, with a snapshot through JSON halfway, gives the same
    engine = Engine(table, contacts)
    ordered = sorted(events, key=lambda e: (e.at, e.seq))
    for index, event in enumerate(ordered):
        if index == len(ordered) // 2:
            engine = Engine.restore(table, json.loads(json.dumps(engine.snapshot())))
        engine.process(event)
    engine.advance(as_of if as_of is not None else max(e.at for e in events))
    assert [engine.state(r["contact"]) for r in expected] == expected


# --------------------------------------------------------------------------- groups


def test_group_bounds_apply_even_with_no_award():
    # 10.8.3: min 5 lifts every scored contact's score to 5; max -3 pushes it to -3
    for bounds, expected in (({"low": 5}, 5), ({"high": -3}, -3)):
        table = T.table(groups=[T.group("g", "score", **bounds)],
                        rules=[T.event("visit", 1, "score")])
        assert results(table, [], {"c": {}}, at("2026-03-01"))["c"]["scores"] == \
            {"score": expected}


def test_a_group_clamps_the_sum_of_its_decayed_awards_at_every_point():
    # decay 50% every day; two +8 awards at day 0 in group max 10: raw 16 -> 10 (score 10 + 1
    # ungrouped); day 1: 4 + 4 = 8 < 10 -> 8, plus the ungrouped 1 decayed to trunc(0.5) = 0
    table = T.table(scores=[T.score("score", decay=("50", DAY))],
                    groups=[T.group("g", "score", high=10)],
                    rules=[T.event("visit", 8, "score", group="g"), T.event("open", 1, "score")],
                    grades=[T.grade("level", "score", [("hi", 10)], "lo")])
    events = [ev("c", "visit", "2026-03-01"), ev("c", "visit", "2026-03-01"),
              ev("c", "open", "2026-03-01")]
    assert results(table, events)["c"]["scores"] == {"score": 11}
    late = results(table, events, as_of=at("2026-03-02"))["c"]
    assert late["scores"] == {"score": 8} and late["grades"] == {"level": "lo"}


def test_profile_awards_join_their_group_and_reset_keeps_them():
    # group min 0 max 20: profile +15 in the group, events +10 each; reset discards the events
    table = T.table(
        scores=[T.score("score", expire=30 * DAY)], groups=[T.group("g", "score", 0, 20)],
        profiles=[T.profile(["=", ["contact", "vip"], True], 15, "score", group="g")],
        rules=[T.event("visit", 10, "score", group="g"), T.event("reset", 0, "score")],
        triggers=[T.trigger([">=", ["score", "score"], 20], ("reset", "score"),
                            each_time=True)])
    events = [ev("c", "visit", "2026-03-01T10:00:00Z")]
    # 15 + 10 = 25 -> group 20 -> score 20: the trigger resets; after the reset 15 remains
    assert results(table, events, {"c": {"vip": True}})["c"]["scores"] == {"score": 15}
    values = Engine(table).evaluate("c", events, {"c": {"vip": True}})
    assert values["groups"] == {"g": 15} and values["scores"] == {"score": 15}


def test_reset_discards_the_awards_of_the_scores_groups_untimed_too():
    table = T.table(groups=[T.group("g", "score", high=100)],
                    rules=[T.event("visit", 10, "score", group="g"),
                           T.event("visit", 1, "score"), T.event("clear", 0, "score")],
                    triggers=[T.trigger([">=", ["score", "score"], 22], ("reset", "score"))])
    events = [ev("c", "visit", "2026-03-01T10:00:00Z"), ev("c", "visit", "2026-03-01T10:01:00Z"),
              ev("c", "visit", "2026-03-01T10:02:00Z")]
    # 11, 22 -> reset -> 0, then 11
    assert results(table, events)["c"]["scores"] == {"score": 11}


def test_a_grade_reads_a_group_and_the_score_bound_applies_to_the_sum():
    table = T.table(scores=[T.score("s", 0, 30)],
                    groups=[T.group("a", "s", high=20), T.group("b", "s", low=-5)],
                    rules=[T.event("x", 15, "s", group="a"), T.event("y", -10, "s", group="b"),
                           T.event("z", 12, "s")],
                    grades=[T.grade("ga", "s", [("full", 20)], "part", group="a")])
    events = [ev("c", "x", "2026-03-01T10:00:00Z"), ev("c", "x", "2026-03-01T10:01:00Z"),
              ev("c", "y", "2026-03-01T10:02:00Z"), ev("c", "z", "2026-03-01T10:03:00Z"),
              ev("c", "z", "2026-03-01T10:04:00Z")]
    # a: 30 -> 20; b: -10 -> -5; ungrouped 24: 20 - 5 + 24 = 39 -> 30
    result = results(table, events)["c"]
    assert result["scores"] == {"s": 30} and result["grades"] == {"ga": "full"}
    assert "groups" not in result  # the result lists scores only (10.2)


# --------------------------------------------------------------------------- inactivity


def _quiet(**options):
    rule = T.inactive(options.pop("after", 2 * DAY), -1, "score", **options)
    return T.table(rules=[T.event("visit", 10, "score"), T.event("sent", 0, "score")],
                   inactivity=[rule], activity=["visit"],
                   triggers=[T.trigger(["<", ["score", "score"], 10], ("tag", "cooling"))])


def _awards(table, events, as_of):
    explanation = Engine(table).explain("c", events, as_of=as_of).to_json()
    return [(a["at"], a["spell_start"]) for a in explanation["awards"]
            if a["kind"] == "inactivity"]


def test_inactivity_every_and_at_most_per_spell():
    table = _quiet(every=DAY, count=3)
    events = [ev("c", "visit", "2026-03-01")]
    # due 03-03, 03-04, 03-05, then at most 3 stops the spell
    assert _awards(table, events, at("2026-03-10")) == [
        ("2026-03-03T00:00:00Z", "2026-03-01T00:00:00Z"),
        ("2026-03-04T00:00:00Z", "2026-03-01T00:00:00Z"),
        ("2026-03-05T00:00:00Z", "2026-03-01T00:00:00Z")]
    assert results(table, events, as_of=at("2026-03-10"))["c"]["scores"] == {"score": 7}


def test_inactivity_without_every_awards_once_and_an_award_due_at_t_counts():
    table = _quiet()
    events = [ev("c", "visit", "2026-03-01")]
    assert results(table, events, as_of=at("2026-03-03") - 1)["c"]["scores"] == {"score": 10}
    assert results(table, events, as_of=at("2026-03-03"))["c"]["scores"] == {"score": 9}
    assert results(table, events, as_of=at("2026-04-03"))["c"]["scores"] == {"score": 9}


def test_activity_at_the_due_time_answers_and_starts_a_new_spell():
    table = _quiet(every=DAY)
    events = [ev("c", "visit", "2026-03-01"), ev("c", "sent", "2026-03-03"),
              ev("c", "visit", "2026-03-03"), ev("c", "visit", "2026-03-03")]
    # due 03-03 of spell 03-01 is answered by the visit at 03-03 (the `sent` before it at the
    # same time does not award it); the two visits at 03-03 start one spell: 03-05, 03-06
    assert _awards(table, events, at("2026-03-06")) == [
        ("2026-03-05T00:00:00Z", "2026-03-03T00:00:00Z"),
        ("2026-03-06T00:00:00Z", "2026-03-03T00:00:00Z")]


def test_non_activity_events_and_inactivity_awards_do_not_end_a_spell():
    table = _quiet(every=DAY, count=2)
    events = [ev("c", "visit", "2026-03-01"), ev("c", "sent", "2026-03-02T12:00:00Z")]
    assert [a for a, _ in _awards(table, events, at("2026-03-09"))] == [
        "2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"]


def test_no_activity_means_no_spell_and_every_event_is_activity_without_a_list():
    table = _quiet(every=DAY)
    assert _awards(table, [ev("c", "sent", "2026-03-01")], at("2026-03-09")) == []
    table["activity"] = None
    assert len(_awards(table, [ev("c", "sent", "2026-03-01")], at("2026-03-09"))) == 7


def test_inactivity_awards_decay_and_join_the_absence_point():
    # decay 50% per day; -8 at 03-03 is -4 on 03-04. The absence award due at 03-03 too (sent
    # 03-02, no visit within 1 day) is in the same point, listed before the inactivity award.
    table = T.table(scores=[T.score("score", decay=("50", DAY))],
                    rules=[T.event("visit", 0, "score"),
                           T.absence("sent", "visit", DAY, -2, "score", same=False)],
                    inactivity=[T.inactive(2 * DAY, -8, "score")], activity=["visit"],
                    grades=[T.grade("g", "score", [("ok", 0)], "low")])
    events = [ev("c", "visit", "2026-03-01"), ev("c", "sent", "2026-03-02")]
    explanation = Engine(table).explain("c", events, as_of=at("2026-03-04")).to_json()
    assert [(a["kind"], a["at"], a["contribution"]) for a in explanation["awards"]] == [
        ("event", "2026-03-01T00:00:00Z", 0), ("absence", "2026-03-03T00:00:00Z", -1),
        ("inactivity", "2026-03-03T00:00:00Z", -4)]
    assert explanation["result"]["scores"] == {"score": -5}


def test_inactivity_awards_are_points_that_fire_triggers_and_resets_discard_them():
    table = T.table(rules=[T.event("visit", 10, "score")],
                    inactivity=[T.inactive(DAY, -4, "score", every=DAY)],
                    triggers=[T.trigger(["<=", ["score", "score"], 2], ("notify", "sales"),
                                        ("reset", "score"))])
    events = [ev("c", "visit", "2026-03-01")]
    # 10, 6 (03-02), 2 (03-03: fires, reset -> 0), -4 (03-04), -8 (03-05)
    result = results(table, events, as_of=at("2026-03-05"))["c"]
    assert result["scores"] == {"score": -8}
    assert [a["at"] for a in result["actions"]] == ["2026-03-03T00:00:00Z"] * 2


def test_advance_brings_due_inactivity_awards_and_process_after_a_gap_too():
    table = _quiet(every=DAY)
    engine = Engine(table)
    engine.process(ev("c", "visit", "2026-03-01"))
    assert engine.advance(at("2026-03-02T23:00:00Z")) == []
    out = engine.advance(at("2026-03-03"))
    assert out == [{"contact": "c", "at": "2026-03-03T00:00:00Z", "action": "tag",
                    "arg": "cooling"}]
    assert engine.values("c")["scores"] == {"score": 9}
    engine.process(ev("c", "sent", "2026-03-05T12:00:00Z"))  # 03-04 and 03-05 due before it
    assert engine.values("c")["scores"] == {"score": 7}
    assert engine.values("c")["at"] == "2026-03-05T12:00:00Z"


def test_a_snapshot_keeps_the_spell_and_an_old_version_is_refused():
    table = _quiet(every=DAY, count=5)
    engine = Engine(table)
    engine.process(ev("c", "visit", "2026-03-01"))
    engine.advance(at("2026-03-04"))
    snapshot = json.loads(json.dumps(engine.snapshot()))
    assert snapshot["snapshot"] == 3 and snapshot["contacts"]["c"]["spell"][0] == \
        at("2026-03-01")
    resumed = Engine.restore(table, snapshot)
    for one in (engine, resumed):
        one.advance(at("2026-03-20"))
    assert resumed.state("c") == engine.state("c")
    assert resumed.state("c")["scores"] == {"score": 5}
    for old in (1, 2):
        with pytest.raises(SnapshotError, match=f"version {old} cannot be restored"):
            Engine.restore(table, {**snapshot, "snapshot": old})
    cut = {**snapshot, "contacts": {"c": {"sums": [0]}}}
    with pytest.raises(SnapshotError, match="checksum does not match"):
        Engine.restore(table, cut)
    with pytest.raises(SnapshotError, match="malformed snapshot"):
        Engine.restore(table, {**cut, "checksum": checksum(cut)})


# --------------------------------------------------------------------------- points from a property


@pytest.mark.parametrize("value, awarded", [
    (20, 20), (20.0, 20), (2e1, 20), (-7, -7), (0, 0), (2.5, None), ("20", None), (True, None),
    (False, None), (None, None), (math.inf, None), (math.nan, None), (2 ** 63 - 1, 50),
    (2 ** 63, None), (-2 ** 63, -50), (-2 ** 63 - 1, None), (float(2 ** 63), None),
    (1e300, None), ([20], None), ({"n": 20}, None)])
def test_by_prop_takes_integer_valued_numbers_only(value, awarded):
    table = T.table(rules=[T.event("adjust", None, "score", by=("points", -50, 50),
                                   limit=(1, None)),
                           T.event("adjust", None, "score", by=("points", None, None))])
    events = [ev("c", "adjust", "2026-03-01T10:00:00Z", points=value),
              ev("c", "adjust", "2026-03-01T10:01:00Z", points=3)]
    # the bounded rule is limited to one award: a value that does not match does not use it
    # up, so the second event's 3 counts for it then; the unbounded rule awards every match
    score = results(table, events)["c"]["scores"]["score"]
    if awarded is None:
        assert score == 3 + 3
    else:
        unbounded = value if type(value) is int else int(value)
        assert score == awarded + unbounded + 3


def test_by_prop_missing_property_and_decimal_bounds_are_integers():
    table = T.table(rules=[T.event("adjust", None, "score", by=("points", 0, 10))])
    events = [ev("c", "adjust", "2026-03-01T10:00:00Z"),
              ev("c", "adjust", "2026-03-01T10:01:00Z", other=5),
              ev("c", "adjust", "2026-03-01T10:02:00Z", points=-3)]
    assert results(table, events)["c"]["scores"] == {"score": 0}


# --------------------------------------------------------------------------- matrix grades


def test_matrix_grades_join_labels_and_are_absent_with_a_part_absent():
    table = T.table(
        scores=[T.score("f"), T.score("e")],
        rules=[T.event("x", 1, "f"), T.event("y", 1, "e")],
        grades=[T.grade("a", "f", [("A", 2), ("B", 1)]),
                T.grade("b", "e", [("01", 2), ("1", 1)], "0"),
                T.matrix("m", "a", "b", [("first", ["B1"]), ("second", ["B1", "A0"])]),
                T.matrix("n", "a", "b", [("only", ["B01"])], "rest"),
                T.matrix("joined", "a", "b")])
    # f = 1 -> a = B; e = 1 -> b = "1": m = B1 -> first (the first bucket listing it)
    one = results(table, [ev("c", "x", "2026-03-01"), ev("c", "y", "2026-03-01")])["c"]
    assert one["grades"] == {"a": "B", "b": "1", "m": "first", "n": "rest", "joined": "B1"}
    # e = 0 -> b = "0": A0 -> second; f = 0 -> a absent -> every matrix grade absent
    assert results(table, [ev("c", "x", "2026-03-01"), ev("c", "x", "2026-03-01")])["c"][
        "grades"] == {"a": "A", "b": "0", "m": "second", "n": "rest", "joined": "A0"}
    assert results(table, [ev("c", "y", "2026-03-01")])["c"]["grades"] == {"b": "1"}


# --------------------------------------------------------------------------- explain, values


def test_explain_shows_group_bounds_by_prop_properties_and_spells():
    table = T.table(
        scores=[T.score("engagement")], groups=[T.group("email", "engagement", high=40)],
        rules=[T.event("email_open", 13, "engagement", group="email"),
               T.event("sales_adjust", None, "engagement", by=("points", None, None))],
        inactivity=[T.inactive(DAY, -1, "engagement", every=DAY, count=2)])
    events = [ev("c", "email_open", f"2026-03-01T10:0{i}:00Z") for i in range(4)]
    events.append(ev("c", "sales_adjust", "2026-03-01T11:00:00Z", points=20, by="ana@sales",
                     reason="met at trade fair"))
    explanation = Engine(table).explain("c", events, as_of=at("2026-03-05"))
    data = explanation.to_json()
    assert data["groups"] == [{"group": "email", "score": "engagement", "raw": 52, "value": 40,
                               "low": None, "high": 40, "binds": "max"}]
    manual = [a for a in data["awards"] if a.get("by")]
    assert manual[0]["props"] == {"points": 20, "by": "ana@sales",
                                  "reason": "met at trade fair"}
    assert manual[0]["points"] == 20 and "group" not in manual[0]
    quiet = [a for a in data["awards"] if a["kind"] == "inactivity"]
    assert [(a["spell_start"], a["award_in_spell"]) for a in quiet] == [
        ("2026-03-01T11:00:00Z", 1), ("2026-03-01T11:00:00Z", 2)]
    text = explanation.to_text()
    assert "group email of engagement: 52 -> 40, max 40" in text
    assert '"reason": "met at trade fair"' in text
    assert "no activity since 2026-03-01T11:00:00Z, due 2026-03-03T11:00:00Z (award 2 of at " \
           "most 2 in this quiet spell): -1 engagement" in text
    assert "+13 email (of engagement)" in text
    assert data["result"]["scores"] == {"engagement": 58}


def test_values_by_name_for_streaming_batch_and_unscored_contacts():
    table = T.table(
        scores=[T.score("s", 0, 100)], groups=[T.group("g", "s", high=5)],
        require=["=", ["contact", "ok"], True],
        rules=[T.event("x", 3, "s", group="g")],
        grades=[T.grade("gg", "s", [("full", 5)], "part", group="g")],
        stages=[T.stage("MQL", [">=", ["group", "g"], 5])])
    events = [ev("c", "x", "2026-03-01T10:00:00Z"), ev("c", "x", "2026-03-01T10:01:00Z")]
    profiles = {"c": {"ok": True}, "u": {}}
    batch = Engine(table).evaluate("c", events, profiles)
    assert batch == {"contact": "c", "at": "2026-03-01T10:01:00Z", "scores": {"s": 5},
                     "groups": {"g": 5}, "grades": {"gg": "full"}, "stage": "MQL",
                     "actions": []}
    engine = Engine(table, profiles)
    engine.process(events[0])
    assert engine.values("c")["groups"] == {"g": 3}
    assert engine.values("u") == {"contact": "u", "at": None, "scores": {"s": None},
                                  "groups": {"g": None}, "grades": {}, "stage": None,
                                  "actions": []}
    assert "u" not in engine.snapshot()["contacts"]  # asking registered nothing


# --------------------------------------------------------------------------- table validation


def _broken(change):
    table = CASE_TABLES["12_groups_caps"]()
    table["inactivity"] = [T.inactive(DAY, -1, "engagement", every=DAY, count=2)]
    table["inactivity"][0].update(id="i-1", at="m.score:30")
    table["grades"] = [T.grade("g", "engagement", [("A", 1)], group="email"),
                       T.matrix("m", "g", "g")]
    change(table)
    return table


@pytest.mark.parametrize("change, message", [
    (lambda t: t["groups"][0].update(high=None), "neither `low` nor `high`"),
    (lambda t: t["groups"][0].update(low=20), "low bound 20 is above high bound 10"),
    (lambda t: t["groups"][0].update(high=True), r"`groups\[0\].high` must be an integer"),
    (lambda t: t["groups"][1].update(name="email"), "declared twice"),
    (lambda t: t["groups"][1].update(name="engagement"), "shares a score's name"),
    (lambda t: t["groups"][0].update(score="fit"), "unknown score 'fit'"),
    (lambda t: t["rules"][0].update(group="phone"), "unknown group 'phone'"),
    (lambda t: t["scores"].append(T.score("fit")) or t["rules"][0].update(score="fit"),
     "belongs to score 'engagement', not 'fit'"),
    (lambda t: t["rules"][0].update(by={"prop": "p", "low": None, "high": None}),
     "`points: null`"),
    (lambda t: t["rules"][0].update(points=None, by={"prop": 3}), r"`rules\[0\].by.prop` must be a name"),
    (lambda t: t["rules"][0].update(points=None, by={"prop": "p", "low": 5, "high": 1}),
     "above high bound"),
    (lambda t: t["rules"][0].update(points=None), "points must be an integer"),
    (lambda t: t["inactivity"][0].update(after=0), r"`inactivity\[0\].after` must be a positive"),
    (lambda t: t["inactivity"][0].update(every=-1), r"`inactivity\[0\].every` must be a positive"),
    (lambda t: t["inactivity"][0].update(every=None), "needs `every`"),
    (lambda t: t["inactivity"][0].update(count=0), "at least 1"),
    (lambda t: t["inactivity"][0].update(points="1"), r"`inactivity\[0\].points` must be an integer"),
    (lambda t: t["inactivity"][0].update(group="nope"), "unknown group"),
    (lambda t: t.update(activity="visit"), "`activity` must be a list"),
    (lambda t: t.update(activity=["visit", 3]), r"`activity\[1\]` must be text"),
    (lambda t: t["grades"][0].update(bands=[[1, 1]]), r"`grades\[0\].bands\[0\]\[0\]` must be a label"),
    (lambda t: t["grades"][0].update(group="web2"), "unknown group"),
    (lambda t: t["grades"][1].update(matrix=["g", "later"]), "two grades declared before"),
    (lambda t: t["grades"][1].update(buckets=[["x", ["A1", 1]]]), r"`grades\[1\].buckets\[0\]\[1\]\[1\]` must be text"),
    (lambda t: t["grades"][1].update(buckets=[["x"]]), "must be a \\[label, \\[cell, …\\]\\] bucket"),
    (lambda t: t["triggers"][0].update(condition=[">=", ["group", "phone"], 1]),
     "reads unknown group"),
    (lambda t: t.update(inactivity={}), "`inactivity` must be a list"),
    (lambda t: t.pop("groups"), "lacks groups"),
    (lambda t: t.update(format=1), "format 1"),
])
def test_malformed_v2_entries_are_refused_with_their_position(change, message):
    with pytest.raises(TableError, match=message):
        Engine(_broken(change))


def test_the_broken_table_base_is_valid():
    Engine(_broken(lambda table: None))
    assert format_time(at("2026-03-01")) == "2026-03-01T00:00:00Z"


def test_raising_a_group_max_can_lower_the_score_when_a_trigger_resets_it():
    """Why the monotonicity property (tests/test_engine_properties_v2.py) excludes resets:
    with max 10, `g >= 15` never holds and nothing is reset (10 + 100 = 110); with max 20 the
    second x makes g 20, the trigger resets s, and only the later +100 remains."""
    def model(high):
        return T.table(groups=[T.group("g", "score", high=high)],
                       rules=[T.event("x", 10, "score", group="g"), T.event("y", 100, "score")],
                       triggers=[T.trigger([">=", ["group", "g"], 15], ("reset", "score"))])
    events = [ev("c", "x", "2026-03-01T10:00:00Z"), ev("c", "x", "2026-03-01T10:01:00Z"),
              ev("c", "y", "2026-03-01T10:02:00Z")]
    assert results(model(10), events)["c"]["scores"] == {"score": 110}
    assert results(model(20), events)["c"]["scores"] == {"score": 100}
