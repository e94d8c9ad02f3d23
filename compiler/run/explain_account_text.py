"""`score explain --account` as text: how an account's scores and grades come from its members.

It lays out `Engine.explain_account` (JSON, times in UTC) with what only the compiler side
has: each account statement quoted as written (`file:line` and its text), times in the model's
zone. Per account score, every member it takes with its part and, for a `sum`, the running
total (members in id order, as the JSON lists them), so the last total is the account's value;
for `max`/`min`, the member whose value it is; then the members left out and why.
"""
from __future__ import annotations

from typing import Mapping

from .explain_text import SourceText
from .localtime import LocalTime

_REASONS = {"unscored": "unscored", "null": "no value"}


def account_text(data: dict, table: dict, sources: Mapping | None = None) -> str:
    """The text of `score explain --account` for `data` (an `Engine.explain_account`)."""
    local = LocalTime(table.get("timezone"))
    text = SourceText(sources)
    zone = "" if local.is_utc else f" ({local.name})"
    members = data["members"]
    unscored = [m["contact"] for m in members if not m["scored"]]
    lines = [f"account {data['account']} as of {local.text(data.get('as_of'))}{zone}",
             f"  members: {data['contacts']} (profiles whose {data['by']} is "
             f"{_quoted(data['account'])}; {len(members) - len(unscored)} scored)"]
    lines.append("  scores: " + ", ".join(f"{k} = {_value(v)}" for k, v in
                                          data["scores"].items()))
    for name, label in data["grades"].items():
        lines.append(f"  grade {name}: {label}")
    lines.append("members:")
    width = max(len(m["contact"]) for m in members)
    for member in members:
        if member["scored"]:
            lines.append(f"  {member['contact']:<{width}}  {_member_values(member)}")
        else:
            lines.append(f"  {member['contact']:<{width}}  unscored: the profile does not "
                         f"satisfy `require {data.get('require')}`")
    for score in data["account_scores"]:
        lines.append(_statement(text, score, _written_score(score)))
        lines.extend(_parts(score, width))
    for grade in data["account_grades"]:
        lines.append(_statement(text, grade, f"account grade {grade['name']} by {grade['by']}"))
        lines.append(f"      {grade['by']} = {_value(grade['value'])} -> {_grade(grade)}")
    return "\n".join(lines) + "\n"


def _statement(text: SourceText, item: dict, fallback: str) -> str:
    return f"{item['source']}  {text.statement(item['source'], fallback)}" \
        if item.get("source") else fallback


def _written_score(score: dict) -> str:
    """The statement as the table has it, for a compiled `.json` table (no source)."""
    what = "count" if score["aggregate"] == "count" else f"{score['aggregate']} of {score['of']}"
    where = f" where {score['where']}" if score.get("where") else ""
    return f"account score {score['name']} = {what}{where}"


def _parts(score: dict, width: int) -> list[str]:
    aggregate, name = score["aggregate"], score["name"]
    lines = []
    total = 0
    for part in score["members"]:
        head = f"      {part['contact']:<{width}}  "
        if aggregate == "sum":
            total += part["value"]
            lines.append(f"{head}{part['value']:+d} {score['of']}; {name} = {total}")
        elif aggregate == "count":
            total += 1
            lines.append(f"{head}counted; {name} = {total}")
        else:
            chosen = f"  <- the {'highest' if aggregate == 'max' else 'lowest'}" \
                if part.get("chosen") else ""
            lines.append(f"{head}{score['of']} = {part['value']}{chosen}")
    if not score["members"]:
        empty = "no member is taken"
        if aggregate in ("max", "min"):
            empty += f": {name} has no value (null)"
        else:
            empty += f": {name} = 0"
        lines.append(f"      {empty}")
    elif aggregate in ("max", "min"):
        lines.append(f"      {name} = {_value(score['value'])}")
    if score["left_out"]:
        reasons: dict[str, list[str]] = {}  # members by reason, in the order first seen
        for item in score["left_out"]:
            reasons.setdefault(item["reason"], []).append(item["contact"])
        lines.append("      left out: " + "; ".join(
            f"{', '.join(ids)} ({_reason(reason, score)})" for reason, ids in reasons.items()))
    return lines


def _reason(reason: str, score: dict) -> str:
    if reason == "where":
        return f"`{score['where']}` does not hold"
    return _REASONS.get(reason, reason)


def _grade(grade: dict) -> str:
    if grade["value"] is None:
        return "no label (the score has no value)"
    if grade["band"] is not None:
        return f"{grade['label']} (>= {grade['band'][1]})"
    return f"{grade['label']} (else)" if grade["label"] is not None else "no label"


def _member_values(member: dict) -> str:
    parts = [f"{k} = {_value(v)}" for k, v in member["scores"].items()]
    parts += [f"{k} = {_value(v)}" for k, v in (member.get("groups") or {}).items()]
    parts += [f"{k} = {v}" for k, v in member["grades"].items()]
    parts.append(f"stage = {_value(member['stage'])}")
    return ", ".join(parts)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(value) -> str:
    return "null" if value is None else str(value)
