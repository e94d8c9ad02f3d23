"""What a team might write instead of scorelang, for `bench_scale.py` to measure (the plain
hand-written Python loop is `b2b_loop.py`, shared with `bench_engine.py`; the hand-written
DuckDB queries are `duckdb_hand.py`).

- `zen`, `rule_engine_peer`, `business_rules_peer`, `durable_peer`: the per-event points
  decision (which rules an event matches, how many points to which score) in four rule
  engines, each used the idiomatic way, with the event rules taken from the compiled table.

The rule engines have no notion of time or state, so they compute the uncapped, undecayed
sum of points per contact and score, which the runtime computes on the "flat" table
(`flat_table`) for the check.
"""
from __future__ import annotations

import json
import re
from datetime import datetime

MICROS = 1_000_000


# --- shared: the input a peer sees ----------------------------------------------------------

def accepted_events(path: str, limit: int | None = None) -> list[dict]:
    """The events a peer is given: every valid line, duplicates (same contact and id) dropped,
    in processing order (time, then input order). Plain `json`, as a hand-written job would."""
    events: list[dict] = []
    for number, line in enumerate(open(path, encoding="utf-8")):
        if limit is not None and number >= limit:
            break
        try:
            record = json.loads(line)
            record["at"] = _micros(record["at"])
        except (ValueError, KeyError, TypeError):
            continue
        record["seq"] = number
        events.append(record)
    events.sort(key=lambda record: (record["at"], record["seq"]))
    seen: set = set()
    unique = []
    for record in events:
        key = (record["contact"], record.get("id"))
        if key[1] is not None:
            if key in seen:
                continue
            seen.add(key)
        unique.append(record)
    return unique


def _micros(value) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value * MICROS
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.utcoffset() is None:
        raise ValueError("no zone")
    return int(moment.timestamp()) * MICROS + moment.microsecond


def flat_table(table: dict) -> dict:
    """The table's event rules alone: no caps, bounds, decay, absence, profile, lifecycle;
    what a stateless per-event rule engine can compute."""
    keep = [index for index, rule in enumerate(table["rules"]) if rule["kind"] == "event"]
    renumber = {old: new for new, old in enumerate(keep)}
    flat = json.loads(json.dumps(table))
    flat["rules"] = [dict(table["rules"][old], limit=None) for old in keep]
    flat["scores"] = [dict(score, low=None, high=None, decay=None, expire=None)
                      for score in table["scores"]]
    flat.update(require=None, profile=[], grades=[], stages=[], triggers=[], answers={})
    flat["dispatch"] = {
        event: {"exact": {target: [renumber[i] for i in rules if i in renumber]
                          for target, rules in entry["exact"].items()},
                "glob": [renumber[i] for i in entry["glob"] if i in renumber],
                "any": [renumber[i] for i in entry["any"] if i in renumber]}
        for event, entry in table["dispatch"].items()}
    return flat


def event_rules(table: dict) -> list[dict]:
    """The event rules the peers implement; a `where` is outside what they are given here."""
    rules = [rule for rule in table["rules"] if rule["kind"] == "event"]
    unsupported = [rule["at"] for rule in rules if rule["where"] not in (None, True)]
    if unsupported:
        raise ValueError(f"the peers do not translate `where` (rules at {unsupported})")
    return rules


def glob_regex(pattern: str) -> str:
    """A target pattern (`*` any run, `?` one character) as a whole-string regex."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def add(totals: dict, contact: str, score: str, points: int) -> None:
    scores = totals.setdefault(contact, {})
    scores[score] = scores.get(score, 0) + points


# --- GoRules zen-engine: a decision table, hit policy `collect` --------------------------------

def zen_decision(rules: list[dict]):
    import zen

    def target_cell(targets: dict) -> str:
        """A ZEN unary test on the target: a list of names, or an `or` of tests."""
        if targets["any"]:
            return ""
        names = [json.dumps(name) for name in targets["exact"]]
        if not targets["globs"]:
            return ", ".join(names)
        tests = [f"$ == {name}" for name in names]
        for pattern in targets["globs"]:
            if pattern.endswith("*") and not any(c in pattern[:-1] for c in "*?"):
                tests.append(f"startsWith($, {json.dumps(pattern[:-1])})")
            else:
                tests.append(f"matches($, {json.dumps('^' + glob_regex(pattern) + '$')})")
        return " or ".join(tests)

    rows = [{"_id": rule["id"], "event": json.dumps(rule["event"]),
             "target": target_cell(rule["targets"]), "points": str(rule["points"]),
             "score": json.dumps(rule["score"])} for rule in rules]
    content = {
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
            {"id": "table", "type": "decisionTableNode", "name": "Points",
             "position": {"x": 200, "y": 0},
             "content": {"hitPolicy": "collect",
                         "inputs": [{"id": "event", "name": "Event", "field": "event"},
                                    {"id": "target", "name": "Target", "field": "target"}],
                         "outputs": [{"id": "points", "name": "Points", "field": "points"},
                                     {"id": "score", "name": "Score", "field": "score"}],
                         "rules": rows}},
            {"id": "response", "type": "outputNode", "name": "Response",
             "position": {"x": 400, "y": 0}}],
        "edges": [{"id": "e1", "sourceId": "request", "targetId": "table", "type": "edge"},
                  {"id": "e2", "sourceId": "table", "targetId": "response", "type": "edge"}]}
    return zen.ZenEngine().create_decision(json.dumps(content))


def zen(table: dict, events: list[dict]) -> dict:
    decision = zen_decision(event_rules(table))
    totals: dict = {}
    for event in events:
        answer = decision.evaluate({"event": event["event"], "target": event.get("target")})
        for hit in answer["result"]:
            add(totals, event["contact"], hit["score"], hit["points"])
    return totals


# --- rule-engine: one Rule object per rule ---------------------------------------------------

def rule_engine_peer(table: dict, events: list[dict]) -> dict:
    import rule_engine

    context = rule_engine.Context(default_value=None)
    compiled = []
    for rule in event_rules(table):
        parts = [f"event == {json.dumps(rule['event'])}"]
        targets = rule["targets"]
        if not targets["any"]:
            options = [f"target == {json.dumps(name)}" for name in targets["exact"]]
            options += [f"(target != null and target =~ {json.dumps(glob_regex(p) + '$')})"
                        for p in targets["globs"]]
            parts.append("(" + " or ".join(options) + ")")
        compiled.append((rule_engine.Rule(" and ".join(parts), context=context),
                         rule["score"], rule["points"]))
    totals: dict = {}
    for event in events:
        thing = {"event": event["event"], "target": event.get("target")}
        for rule, score, points in compiled:
            if rule.matches(thing):
                add(totals, event["contact"], score, points)
    return totals


# --- business-rules (Venmo): variables, actions, JSON rules, run_all -------------------------

def business_rules_peer(table: dict, events: list[dict]) -> dict:
    from business_rules import run_all
    from business_rules.actions import BaseActions, rule_action
    from business_rules.fields import FIELD_NUMERIC, FIELD_TEXT
    from business_rules.variables import BaseVariables, boolean_rule_variable, string_rule_variable

    class EventVariables(BaseVariables):
        def __init__(self, event):
            self.event_ = event

        @string_rule_variable
        def event(self):
            return self.event_["event"]

        @string_rule_variable
        def target(self):
            return self.event_.get("target") or ""

        @boolean_rule_variable
        def has_target(self):
            return self.event_.get("target") is not None

    class Award(BaseActions):
        def __init__(self, totals, contact):
            self.totals, self.contact = totals, contact

        @rule_action(params={"points": FIELD_NUMERIC, "score": FIELD_TEXT})
        def award(self, points, score):
            add(self.totals, self.contact, score, int(points))

    rules = []
    for rule in event_rules(table):
        conditions = [{"name": "event", "operator": "equal_to", "value": rule["event"]}]
        targets = rule["targets"]
        if not targets["any"]:
            options = [{"name": "target", "operator": "equal_to", "value": name}
                       for name in targets["exact"]]
            options += [{"name": "target", "operator": "matches_regex",
                         "value": "^" + glob_regex(p) + "$"} for p in targets["globs"]]
            conditions += [{"name": "has_target", "operator": "is_true", "value": True},
                           {"any": options}]
        rules.append({"conditions": {"all": conditions},
                      "actions": [{"name": "award",
                                   "params": {"points": rule["points"], "score": rule["score"]}}]})
    totals: dict = {}
    for event in events:
        run_all(rule_list=rules, defined_variables=EventVariables(event),
                defined_actions=Award(totals, event["contact"]), stop_on_first_trigger=False)
    return totals


# --- durable_rules: a ruleset of when_all rules, events posted -------------------------------

def durable_peer(table: dict, events: list[dict]) -> dict:
    """An event is consumed by one rule in durable_rules, so an event matching two rules gets
    the points of one only; no event of the B2B model matches two event rules."""
    from durable.engine import MessageNotHandledException
    from durable.lang import m, post, ruleset, when_all

    totals: dict = {}
    name = "scorelang_bench"
    with ruleset(name):
        for rule in event_rules(table):
            test = m.event == rule["event"]
            targets = rule["targets"]
            if not targets["any"]:
                options = [m.target == target for target in targets["exact"]]
                options += [m.target.matches(glob_regex(p)) for p in targets["globs"]]
                either = options[0]
                for option in options[1:]:
                    either = either | option
                test = test & either

            when_all(test)(_durable_action(totals, rule["score"], rule["points"]))
    for event in events:
        message = {"contact": event["contact"], "event": event["event"]}
        if event.get("target") is not None:
            message["target"] = event["target"]
        try:
            post(name, message)
        except MessageNotHandledException:
            pass
    return totals


def _durable_action(totals: dict, score: str, points: int):
    def award(c):  # durable_rules wants exactly one parameter
        add(totals, c.m.contact, score, points)

    return award
