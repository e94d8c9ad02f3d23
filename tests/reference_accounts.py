"""The reference interpreter's accounts (docs/language.md 10.6, 10.8.11-14), computed naively:
trace every contact with `reference.trace`, list each account's members, then aggregate the
lists with Python's `sum`, `max`, `min` and `len`. It shares nothing with `runtime.accounts`.

Entry point: `accounts(model, events, contacts, as_of=None) -> list[account line]`, sorted by
account, as `Engine.run_with_accounts` returns them.
"""
from __future__ import annotations

from dsl import ast

import reference


def _account(profile: dict, attribute: str) -> str | None:
    value = profile.get(attribute)
    return value if isinstance(value, str) and value != "" else None


def accounts(model: ast.Model, events, contacts=None, as_of: int | None = None) -> list[dict]:
    statements = model.statements
    by = [s for s in statements if isinstance(s, ast.AccountBy)]
    if not by:
        return []
    attribute = by[0].attribute
    scores = [s for s in statements if isinstance(s, ast.AccountScore)]
    grades = [s for s in statements if isinstance(s, ast.AccountGrade)]
    view = reference.view_of(model)
    labels = reference.label_names(view)
    profiles = reference._profiles(contacts)
    traces = reference.trace(model, events, contacts, as_of)
    members: dict[str, list[str]] = {}
    for contact, profile in profiles.items():
        account = _account(profile, attribute)
        if account is not None:
            members.setdefault(account, []).append(contact)
    lines = []
    for account in sorted(members):
        scored = []  # (lookup, values) of each scored member
        for contact in members[account]:
            found = traces[contact]
            if found.groups is None:  # unscored
                continue
            result = found.result
            profile = {k: v for k, v in profiles[contact].items() if v is not None}
            values = {**result["scores"], **found.groups}
            lookup = reference.state_lookup(view, profile, result["scores"], result["grades"],
                                            result["stage"], found.groups)
            scored.append((lookup, values))
        values = {s.name: _aggregate(s, scored, labels) for s in scores}
        line_grades = {}
        for grade in grades:
            label = _grade(values[grade.score], grade)
            if label is not None:
                line_grades[grade.name] = label
        lines.append({"account": account, "contacts": len(members[account]),
                      "scores": values, "grades": line_grades})
    return lines


def _aggregate(score: ast.AccountScore, scored: list, labels) -> int | None:
    def holds(condition, lookup) -> bool:
        return condition is None or reference.evaluate(condition, lookup, labels)

    chosen = [values for lookup, values in scored
              if holds(score.condition, lookup) and holds(score.where, lookup)]
    if score.aggregate == "count":
        return len(chosen)
    numbers = [values[score.score] for values in chosen]
    if score.aggregate == "sum":
        return sum(numbers)
    if not numbers:
        return None
    return max(numbers) if score.aggregate == "max" else min(numbers)


def _grade(value, grade: ast.AccountGrade) -> str | None:
    if value is None:
        return None
    for band in grade.bands:
        if value >= band.threshold:
            return band.label
    return grade.otherwise
