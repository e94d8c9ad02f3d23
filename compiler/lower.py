"""Lowering: a checked `dsl.ast.Model` to the rule table (docs/rule-table.md).

The model must be free of errors (`compiler.check`); lowering binds every name (a score, a
grade, `stage`, a profile attribute or an event property), normalises operators (`is` is
`=`, negations become `not`), separates patterns from plain texts, turns durations into
microseconds, then runs the optimisation passes of `compiler.passes` in order.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json

from dsl import ast

from runtime import FORMAT

from .passes import fold, optimize

MICROS = 1_000_000
DEFAULT_SCORE = "score"
DEFAULT_TIMEZONE = "UTC"


def lower(model: ast.Model, source_hash: str | None = None) -> dict:
    statements = model.statements
    scores = [s for s in statements if isinstance(s, ast.ScoreDecl)]
    groups = [s for s in statements if isinstance(s, ast.GroupDecl)]
    names = _Names(scores, [s for s in statements if isinstance(s, (ast.Grade, ast.MatrixGrade))],
                   groups)
    ids = _Ids()
    activity = next((s for s in statements if isinstance(s, ast.ActivityDecl)), None)
    table = {
        "format": FORMAT,
        "source": {"sha256": source_hash, "file": model.file},
        "timezone": next((s.zone for s in statements if isinstance(s, ast.TimezoneDecl)),
                         DEFAULT_TIMEZONE),
        "scores": _scores(scores, statements),
        "groups": [{"name": g.name, "at": _at(g), "score": names.score(g.score),
                    "low": g.low, "high": g.high} for g in groups],
        "require": _require(statements, names),
        "rules": [_rule(s, names, ids) for s in statements
                  if isinstance(s, (ast.EventRule, ast.AbsenceRule))],
        "profile": [_profile(s, names, ids) for s in statements
                    if isinstance(s, ast.ProfileRule)],
        "inactivity": [_inactivity(s, names, ids) for s in statements
                       if isinstance(s, ast.InactivityRule)],
        "activity": None if activity is None else list(activity.events),
        "grades": [_grade(s, names) for s in statements
                   if isinstance(s, (ast.Grade, ast.MatrixGrade))],
        "stages": [{"name": s.name, "at": _at(s),
                    "condition": condition(s.condition, names, "lifecycle")}
                   for s in statements if isinstance(s, ast.Stage)],
        "triggers": [_trigger(s, names, ids) for s in statements
                     if isinstance(s, ast.Trigger)],
        "accounts": _accounts(statements, names),
        "dispatch": {},
        "answers": {},
    }
    return optimize(table)


_AWARDS = (ast.EventRule, ast.AbsenceRule, ast.ProfileRule, ast.InactivityRule, ast.Test)


def lower_lifecycle(model: ast.Model) -> dict:
    """`lower(model)` without its rules and tests: the same `stages` and `triggers` (they read
    only declarations), at a fraction of the cost; what `score check` reasons over on every
    check (the editor checks each keystroke)."""
    return lower(dataclasses.replace(model, statements=tuple(
        s for s in model.statements if not isinstance(s, _AWARDS))))


class _Names:
    """What a bare name in a lifecycle condition stands for (docs/language.md 4, 10.2)."""

    def __init__(self, scores: list[ast.ScoreDecl], grades: list, groups: list[ast.GroupDecl]):
        self.scores = [s.name for s in scores] or [DEFAULT_SCORE]
        self.default = self.scores[0]
        self.grades = {g.name for g in grades}
        self.groups = {g.name: g.score or self.default for g in groups}

    def score(self, name: str | None) -> str:
        return self.default if name is None else name

    def target(self, name: str | None) -> tuple[str, str | None]:
        """(score, group) that a rule naming `name` after its points sends points to."""
        if name in self.groups:
            return self.groups[name], name
        return self.score(name), None


class _Ids:
    """Stable rule ids: a hash of what the rule is about, not of its points or position."""

    def __init__(self):
        self._used: dict[str, int] = {}

    def make(self, prefix: str, identity) -> str:
        text = json.dumps(identity, sort_keys=True, ensure_ascii=False)
        digest = f"{prefix}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
        count = self._used.get(digest, 0) + 1
        self._used[digest] = count
        return digest if count == 1 else f"{digest}#{count}"


def _at(node) -> str:
    span = getattr(node, "span", None)
    return f"{span.file}:{span.line}" if span is not None else "<string>:0"


def _micros(duration: ast.Duration) -> int:
    return duration.seconds * MICROS


# --------------------------------------------------------------------------- declarations


def _scores(decls: list[ast.ScoreDecl], statements) -> list[dict]:
    decays = {s.score: s for s in statements if isinstance(s, ast.Decay)}
    expires = {s.score: s for s in statements if isinstance(s, ast.Expire)}
    found = [(d.name, d.low, d.high) for d in decls] or [(DEFAULT_SCORE, None, None)]
    scores = []
    for name, low, high in found:
        decay = decays.get(name)
        expire = expires.get(name)
        scores.append({
            "name": name, "low": low, "high": high,
            "decay": None if decay is None else {"percent": _percent(decay.percent),
                                                 "every": _micros(decay.every),
                                                 "at": _at(decay)},
            "expire": None if expire is None else _micros(expire.after),
        })
    return scores


def _percent(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _require(statements, names: _Names):
    found = [condition(s.condition, names, "profile") for s in statements
             if isinstance(s, ast.Require)]
    if not found:
        return None
    return found[0] if len(found) == 1 else ["and", *found]


def require_forms(model: ast.Model) -> list[tuple[str, object]]:
    """`(file:line, condition)` of each `require` line: the table holds them joined by `and`;
    rule coverage tells which line held and which failed."""
    names = _Names([], [], [])  # profile conditions name attributes only
    return [(_at(s), condition(s.condition, names, "profile")) for s in model.statements
            if isinstance(s, ast.Require)]


def _grade(grade, names: _Names) -> dict:
    if isinstance(grade, ast.MatrixGrade):
        buckets = [[b.label, list(b.cells)] for b in grade.buckets] or None
        return {"name": grade.name, "at": _at(grade), "matrix": [grade.first, grade.second],
                "buckets": buckets, "else": grade.otherwise}
    score, group = names.target(grade.score)
    return {"name": grade.name, "at": _at(grade), "score": score, "group": group,
            "bands": [[band.label, band.threshold] for band in grade.bands],
            "else": grade.otherwise}


# --------------------------------------------------------------------------- rules


def targets(spec: ast.Targets) -> dict:
    if spec.any or not spec.items:
        return {"exact": [], "globs": [], "any": True}
    globs = [item for item in spec.items if _is_pattern(item)]
    exact = [item for item in spec.items if not _is_pattern(item)]
    return {"exact": exact, "globs": globs, "any": False}


def _is_pattern(text: str) -> bool:
    return "*" in text or "?" in text


def _limit(limit: ast.Limit | None):
    return None if limit is None else {"count": limit.count, "per": limit.per}


def _rule(rule, names: _Names, ids: _Ids) -> dict:
    score, group = names.target(rule.score)
    # The identity names what the rule sends points to as written: a v1 rule's is its score
    # (ids unchanged), a group rule's its group.
    written = group or score
    lowered = {"id": "", "kind": "event", "at": _at(rule), "event": rule.event,
               "targets": targets(rule.targets)}
    if isinstance(rule, ast.EventRule):
        lowered["where"] = (None if rule.where is None
                            else condition(rule.where, names, "where"))
        identity = ["event", rule.event, lowered["targets"], lowered["where"], written]
        if rule.by is not None:
            identity.append(["by", rule.by.prop])
    else:
        lowered["kind"] = "absence"
        lowered["where"] = None
        lowered["missing"] = rule.missing
        lowered["missing_targets"] = ({"same": True} if not rule.missing_targets.written
                                      else targets(rule.missing_targets))
        lowered["within"] = _micros(rule.within)
        identity = ["absence", rule.event, lowered["targets"], rule.missing,
                    lowered["missing_targets"], lowered["within"], written]
    by = getattr(rule, "by", None)
    lowered.update(points=rule.points if by is None else None,
                   by=None if by is None else {"prop": by.prop, "low": by.low, "high": by.high},
                   score=score, group=group, limit=_limit(rule.limit))
    lowered["id"] = ids.make("e" if lowered["kind"] == "event" else "a", identity)
    return lowered


def _profile(rule: ast.ProfileRule, names: _Names, ids: _Ids) -> dict:
    score, group = names.target(rule.score)
    form = condition(rule.condition, names, "profile")
    return {"id": ids.make("p", ["profile", form, group or score]), "at": _at(rule),
            "condition": form, "points": rule.points, "score": score, "group": group}


def _inactivity(rule: ast.InactivityRule, names: _Names, ids: _Ids) -> dict:
    score, group = names.target(rule.score)
    after = _micros(rule.after)
    # Like an absence rule's `within`, the quiet time is part of what the rule is about;
    # points, `every` and `at most` are its terms.
    return {"id": ids.make("i", ["inactive", after, group or score]), "at": _at(rule),
            "after": after, "every": None if rule.every is None else _micros(rule.every),
            "count": None if rule.limit is None else rule.limit.count,
            "points": rule.points, "score": score, "group": group}


def _trigger(trigger: ast.Trigger, names: _Names, ids: _Ids) -> dict:
    form = condition(trigger.condition, names, "lifecycle")
    actions = [{"action": a.kind, "arg": a.arg} for a in trigger.actions]
    return {"id": ids.make("t", ["trigger", form, actions]), "at": _at(trigger),
            "condition": form, "each_time": trigger.each_time, "actions": actions}


# --------------------------------------------------------------------------- accounts


def _accounts(statements, names: _Names) -> dict | None:
    """docs/rule-table.md "Accounts": None without `account by` (docs/language.md 10.8.14).
    A `count where C where F` counts the members for whom both hold: one `where`."""
    by = next((s for s in statements if isinstance(s, ast.AccountBy)), None)
    if by is None:
        return None
    groups = {s.name for s in statements if isinstance(s, ast.GroupDecl)}
    scores = []
    for item in statements:
        if not isinstance(item, ast.AccountScore):
            continue
        of = None
        if item.aggregate != "count":
            kind = "group" if item.score in groups and item.score not in names.scores \
                else "score"
            of = [kind, item.score]
        parts = [condition(c, names, "lifecycle") for c in (item.condition, item.where)
                 if c is not None]
        where = None if not parts else fold(parts[0] if len(parts) == 1 else ["and", *parts])
        scores.append({"name": item.name, "at": _at(item), "aggregate": item.aggregate,
                       "of": of, "where": None if where is True else where})
    grades = [{"name": g.name, "at": _at(g), "score": g.score,
               "bands": [[band.label, band.threshold] for band in g.bands], "else": g.otherwise}
              for g in statements if isinstance(g, ast.AccountGrade)]
    return {"by": by.attribute, "at": _at(by), "scores": scores, "grades": grades}


# --------------------------------------------------------------------------- conditions


def condition(node: ast.Condition, names: _Names, context: str):
    """The compact form of a condition. `context` is `where` (bare names are event
    properties), `profile` (`if`, `require`: profile attributes) or `lifecycle` (stages,
    triggers: scores, grades, `stage`, then profile attributes)."""
    match node:
        case ast.Const(value=value):
            return value
        case ast.Not(operand=operand):
            return ["not", condition(operand, names, context)]
        case ast.And(operands=operands):
            return ["and", *(condition(o, names, context) for o in operands)]
        case ast.Or(operands=operands):
            return ["or", *(condition(o, names, context) for o in operands)]
        case ast.Truth(ref=ref):
            return ["=", _ref(ref, names, context), True]
        case ast.Compare(ref=ref, op=op, value=value):
            lowered = _ref(ref, names, context)
            return _compare(lowered, op, _read(value, lowered))
        case ast.In(ref=ref, values=values, negated=negated):
            lowered = _ref(ref, names, context)
            form = _member(lowered, tuple(_read(v, lowered) for v in values))
            return ["not", form] if negated else form
    raise TypeError(f"not a condition: {node!r}")


def _read(value: ast.Value, ref: list) -> ast.Value:
    """A value as its left side reads it (docs/language.md 10.4, 10.8.7): against a grade or
    `stage` an unquoted number is the label of its text (`heat is 1`); elsewhere a digit
    label is the number or the text it spells (`01`, `2b`)."""
    if ref[0] in ("grade", "stage"):
        if isinstance(value, ast.Number):
            return ast.Label(ast.label_text(value), value.span)
        return value
    if isinstance(value, ast.Label) and value.digits:
        return ast.digit_label_value(value)
    return value


def _ref(ref: ast.Ref, names: _Names, context: str) -> list:
    if ref.contact:
        return ["contact", ref.name]
    if context == "where":
        return ["event", ref.name]
    if context == "lifecycle":
        if ref.name in names.scores:
            return ["score", ref.name]
        if ref.name in names.groups:
            return ["group", ref.name]
        if ref.name in names.grades:
            return ["grade", ref.name]
        if ref.name == "stage":
            return ["stage"]
    return ["contact", ref.name]


def _literal(value: ast.Value):
    match value:
        case ast.Label(name=name):
            return name
        case ast.Text(value=text) | ast.Number(value=text) | ast.Bool(value=text):
            return text
    raise TypeError(f"not a value: {value!r}")


def _pattern(value: ast.Value) -> str | None:
    return value.value if isinstance(value, ast.Text) and _is_pattern(value.value) else None


def _compare(ref: list, op: str, value: ast.Value):
    negated = op in ("!=", "is not")
    op = {"is": "=", "is not": "=", "!=": "="}.get(op, op)
    pattern = _pattern(value)
    if op == "=" and pattern is not None:
        form = ["glob", ref, pattern]
    else:
        form = [op, ref, _literal(value)]
    return ["not", form] if negated else form


def _member(ref: list, values) -> object:
    plain = [_literal(v) for v in values if _pattern(v) is None]
    parts = [["in", ref, plain]] if plain else []
    parts += [["glob", ref, _pattern(v)] for v in values if _pattern(v) is not None]
    if not parts:
        return False
    return parts[0] if len(parts) == 1 else ["or", *parts]


def source_hash(model: ast.Model, sources) -> str | None:
    """The main file's sha256; with includes, a sha256 over every file's name and hash, so
    that editing an included catalog changes the table's identity too."""
    main = sources.get(model.file)
    if len(sources) <= 1:
        return main.sha256 if main is not None else next(
            (source.sha256 for source in sources.values()), None)
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(f"{name}\0{sources[name].sha256}\n".encode("utf-8"))
    return digest.hexdigest()
