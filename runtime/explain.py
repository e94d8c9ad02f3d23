"""Explanations: why a contact has its scores, stage and actions (`Engine.explain`).

The engine calls a `Tracer` at each step of one contact's evaluation; `Explanation` then
reports every award (rule id, `file:line`, event, points, what it contributes as of the
as-of time, and whether it was capped, expired or discarded by a reset), every profile
award, every stage change and every action with the condition and the point that fired it.
Language v2 adds: the group an award went to and each group's value as of T (with the bound
that binds, "email 52 -> 40, max 40"), the awarding event's properties for `by PROP` (who made
a manual change and why), and inactivity awards with the start of their quiet spell.
"""
from __future__ import annotations

import json

from .conditions import render
from .events import format_time
from .observe import Observer


class Tracer(Observer):
    """Records one contact's evaluation for `Explanation` (the observer of `explain`)."""

    def __init__(self, table):
        self.table = table
        self.awards: list[dict] = []
        self.stages: list[dict] = []
        self.actions: list[dict] = []
        self.profile: list[dict] = []
        self.groups: list[dict] = []
        self.unscored = False
        self._point: dict | None = None
        self._event = None
        self._active: dict[int, list[dict]] = {}

    def start(self, state, engine) -> None:
        self.unscored = not state.scored
        env = (None, state.profile, {})
        for test, points, _, raw in self.table.profile:
            if test(env):
                record = {"rule": raw["id"], "source": raw["at"], "points": points,
                          "score": raw["score"], "condition": render(raw["condition"])}
                if raw.get("group") is not None:
                    record["group"] = raw["group"]
                self.profile.append(record)

    def point(self, state, kind: str, at: int, event) -> None:
        self._event = event
        self._point = {"kind": kind, "at": format_time(at)}
        if event is not None:
            self._point["event"] = _describe(event)

    def award(self, rule, at: int, capped: bool, points: int) -> None:
        cause = {"event": _describe(self._event)}
        if rule.prop is not None:  # `by PROP`: the event's properties say who and why
            cause["by"] = {"prop": rule.prop, "low": rule.low, "high": rule.high}
            cause["props"] = dict(self._event.props or {})
        self._record(rule, "event", at, capped, points, cause)

    def absence(self, rule, item: tuple, capped: bool) -> None:
        due, a_at, _, _, target = item
        cause = {"absence_of": rule.missing, "after": {"event": rule.event, "target": target,
                                                       "at": format_time(a_at)}}
        self._record(rule, "absence", due, capped, rule.points, cause)

    def inactivity(self, rule, due: int, start: int) -> None:
        """An inactivity award at `due`, in the quiet spell since the activity at `start`."""
        cause = {"spell_start": format_time(start), "after": rule.after, "every": rule.every,
                 "count": rule.count}
        if rule.every is not None:
            cause["award_in_spell"] = (due - start - rule.after) // rule.every + 1
        self._record(rule, "inactivity", due, False, rule.points, cause)

    def _record(self, rule, kind: str, at: int, capped: bool, points: int,
                cause: dict) -> None:
        record = {"rule": rule.id, "source": rule.at, "kind": kind, **cause,
                  "at": format_time(at), "time": at, "points": points,
                  "score": self.table.score_names[rule.score],
                  "status": "capped" if capped else "counted", "contribution": 0}
        if rule.group is not None:
            record["group"] = rule.group
        if getattr(rule, "cap", None) is not None:
            record["limit"] = {"count": rule.cap, "per": rule.per}
        self.awards.append(record)
        if not capped:
            self._active.setdefault(rule.score, []).append(record)

    def reset(self, score: int, at: int) -> None:
        for record in self._active.pop(score, []):
            record["status"] = "reset"
            record["reset_at"] = format_time(at)

    def stage(self, old: int, new: int, at: int, live: dict) -> None:
        stages = self.table.raw["stages"]
        self.stages.append({
            "from": stages[old]["name"] if old >= 0 else None, "to": stages[new]["name"],
            "at": format_time(at), "source": stages[new]["at"],
            "condition": render(stages[new]["condition"]), "point": self._point,
            "values": _values(live)})

    def finish(self, groups: list[tuple]) -> None:
        """Each group's value as of the last point (engine.group_values)."""
        for name, score, raw, value, low, high in groups:
            record = {"group": name, "score": self.table.score_names[score], "raw": raw,
                      "value": value, "low": low, "high": high, "binds": None}
            if value != raw:
                record["binds"] = "max" if high is not None and raw > high else "min"
            self.groups.append(record)

    def fire(self, index: int, at: int, live: dict) -> None:
        trigger = self.table.triggers[index][3]
        for action in trigger["actions"]:
            self.actions.append({
                "at": format_time(at), "action": action["action"], "arg": action["arg"],
                "trigger": trigger["id"], "source": trigger["at"],
                "condition": render(trigger["condition"]),
                "each_time": bool(trigger.get("each_time")), "point": self._point,
                "values": _values(live)})


def _describe(event) -> dict | None:
    if event is None:
        return None
    found = {"event": event.event, "target": event.target, "at": format_time(event.at)}
    if event.id is not None:
        found["id"] = event.id
    if event.line:
        found["line"] = event.line
    return found


def _values(live: dict) -> dict:
    """Scores, grades and stage as the condition saw them (the stage under `stage`)."""
    return {("stage" if key.startswith(" ") else key): value for key, value in live.items()}


class Explanation:
    def __init__(self, contact_id: str, result: dict, tracer: Tracer, as_of: int | None):
        self.contact = contact_id
        self.result = result
        self.as_of = as_of
        self.tracer = tracer
        self._contributions(tracer.table)

    def _contributions(self, table) -> None:
        """What each counted award still contributes as of the as-of time."""
        for record in self.tracer.awards:
            if record["status"] != "counted" or self.as_of is None:
                continue
            score = table.score_index[record["score"]]
            age = self.as_of - record["time"]
            expire, decay = table.expires[score], table.decays[score]
            if expire is not None and age >= expire:
                record["status"] = "expired"
            elif decay is not None:
                record["contribution"] = decay.contribution(record["points"], age)
            else:
                record["contribution"] = record["points"]

    def to_json(self) -> dict:
        tracer = self.tracer
        awards = [{key: value for key, value in record.items() if key != "time"}
                  for record in tracer.awards]
        found = {"contact": self.contact,
                 "as_of": None if self.as_of is None else format_time(self.as_of),
                 "result": self.result, "unscored": tracer.unscored, "awards": awards,
                 "profile": tracer.profile, "groups": tracer.groups, "stages": tracer.stages,
                 "actions": tracer.actions}
        if tracer.unscored:
            found["require"] = render(tracer.table.raw["require"])
        return found

    def to_text(self) -> str:
        data = self.to_json()
        lines = [f"contact {self.contact} as of {data['as_of']}"]
        if data["unscored"]:
            lines.append(f"  unscored: the profile does not satisfy `require {data['require']}`")
            return "\n".join(lines) + "\n"
        scores = ", ".join(f"{k} = {v}" for k, v in self.result["scores"].items())
        lines.append(f"  scores: {scores}")
        for group in data["groups"]:
            lines.append("  " + _group_text(group))
        for name, label in self.result["grades"].items():
            lines.append(f"  grade {name}: {label}")
        lines.append(f"  stage: {self.result['stage'] or '(none)'}")
        lines.append("awards:")
        for award in data["awards"]:
            lines.append("  " + _award_text(award))
        for award in data["profile"]:
            lines.append(f"  {award['source']} [{award['rule']}] profile `if "
                         f"{award['condition']}`: {award['points']:+d} "
                         f"{award.get('group') or award['score']}")
        for change in data["stages"]:
            lines.append(f"stage {change['from'] or '(none)'} -> {change['to']} at "
                         f"{change['at']} ({change['source']}: `{change['condition']}`)")
        for action in data["actions"]:
            lines.append(f"action {action['action']} {action['arg']} at {action['at']} "
                         f"({action['source']} [{action['trigger']}]: `{action['condition']}`"
                         f" became true at the {action['point']['kind']} point)")
        return "\n".join(lines) + "\n"


def _group_text(group: dict) -> str:
    """`group email of engagement: 52 -> 40, max 40` where a bound binds, else the value."""
    head = f"group {group['group']} of {group['score']}: "
    if group["binds"] is None:
        return head + str(group["value"])
    bound = group["high"] if group["binds"] == "max" else group["low"]
    return head + f"{group['raw']} -> {group['value']}, {group['binds']} {bound}"


def _award_text(award: dict) -> str:
    if award["kind"] == "absence":
        after = award["after"]
        what = (f"no {award['absence_of']} after {after['event']} {after['target'] or ''}"
                f" at {after['at']}").replace("  ", " ")
    elif award["kind"] == "inactivity":
        what = f"no activity since {award['spell_start']}, due {award['at']}"
        if award.get("award_in_spell") is not None:
            most = f" of at most {award['count']}" if award["count"] is not None else ""
            what += f" (award {award['award_in_spell']}{most} in this quiet spell)"
    else:
        event = award["event"]
        what = f"{event['event']} {event['target'] or ''} at {event['at']}".replace("  ", " ")
        if award.get("by") is not None:
            props = json.dumps(award["props"], ensure_ascii=False, sort_keys=True)
            what += f" by {award['by']['prop']} {props}"
    into = award["score"] if award.get("group") is None else \
        f"{award['group']} (of {award['score']})"
    text = f"{award['source']} [{award['rule']}] {what}: {award['points']:+d} {into}"
    status = award["status"]
    if status == "counted":
        return f"{text} -> contributes {award['contribution']}"
    if status == "reset":
        return f"{text} -> discarded by reset at {award['reset_at']}"
    if status == "capped":
        limit = award["limit"]
        per = f" per {limit['per']}" if limit["per"] else ""
        return f"{text} -> capped (at most {limit['count']}{per})"
    return f"{text} -> expired"
