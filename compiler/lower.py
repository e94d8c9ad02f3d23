"""Lowering: a checked `dsl.ast.Model` to the rule table (docs/rule-table.md).

The model must be free of errors (`compiler.check`); lowering binds every name (a score, a
grade, `stage`, a profile attribute or an event property), normalises operators (`is` is
`=`, negations become `not`), separates patterns from plain texts, turns durations into
microseconds, then runs the optimisation passes of `compiler.passes` in order.
"""
from __future__ import annotations

import hashlib
import json

from dsl import ast

from runtime import FORMAT

from .passes import optimize

MICROS = 1_000_000
DEFAULT_SCORE = "score"
DEFAULT_TIMEZONE = "UTC"


def lower(model: ast.Model, source_hash: str | None = None) -> dict:
    statements = model.statements
    scores = [s for s in statements if isinstance(s, ast.ScoreDecl)]
    names = _Names(scores, [s for s in statements if isinstance(s, ast.Grade)])
    ids = _Ids()
    table = {
        "format": FORMAT,
        "source": {"sha256": source_hash, "file": model.file},
        "timezone": next((s.zone for s in statements if isinstance(s, ast.TimezoneDecl)),
                         DEFAULT_TIMEZONE),
        "scores": _scores(scores, statements),
        "groups": [],
        "require": _require(statements, names),
        "rules": [_rule(s, names, ids) for s in statements
                  if isinstance(s, (ast.EventRule, ast.AbsenceRule))],
        "profile": [_profile(s, names, ids) for s in statements
                    if isinstance(s, ast.ProfileRule)],
        "inactivity": [],
        "activity": None,
        "grades": [_grade(s) for s in statements if isinstance(s, ast.Grade)],
        "stages": [{"name": s.name, "at": _at(s),
                    "condition": condition(s.condition, names, "lifecycle")}
                   for s in statements if isinstance(s, ast.Stage)],
        "triggers": [_trigger(s, names, ids) for s in statements
                     if isinstance(s, ast.Trigger)],
        "dispatch": {},
        "answers": {},
    }
    return optimize(table)


class _Names:
    """What a bare name in a lifecycle condition stands for (docs/language.md 4)."""

    def __init__(self, scores: list[ast.ScoreDecl], grades: list[ast.Grade]):
        self.scores = [s.name for s in scores] or [DEFAULT_SCORE]
        self.default = self.scores[0]
        self.grades = {g.name for g in grades}

    def score(self, name: str | None) -> str:
        return self.default if name is None else name


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


def _grade(grade: ast.Grade) -> dict:
    return {"name": grade.name, "at": _at(grade), "score": grade.score, "group": None,
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
    score = names.score(rule.score)
    lowered = {"id": "", "kind": "event", "at": _at(rule), "event": rule.event,
               "targets": targets(rule.targets)}
    if isinstance(rule, ast.EventRule):
        lowered["where"] = (None if rule.where is None
                            else condition(rule.where, names, "where"))
        identity = ["event", rule.event, lowered["targets"], lowered["where"], score]
    else:
        lowered["kind"] = "absence"
        lowered["where"] = None
        lowered["missing"] = rule.missing
        lowered["missing_targets"] = ({"same": True} if not rule.missing_targets.written
                                      else targets(rule.missing_targets))
        lowered["within"] = _micros(rule.within)
        identity = ["absence", rule.event, lowered["targets"], rule.missing,
                    lowered["missing_targets"], lowered["within"], score]
    lowered.update(points=rule.points, by=None, score=score, group=None, limit=_limit(rule.limit))
    lowered["id"] = ids.make("e" if lowered["kind"] == "event" else "a", identity)
    return lowered


def _profile(rule: ast.ProfileRule, names: _Names, ids: _Ids) -> dict:
    score = names.score(rule.score)
    form = condition(rule.condition, names, "profile")
    return {"id": ids.make("p", ["profile", form, score]), "at": _at(rule),
            "condition": form, "points": rule.points, "score": score, "group": None}


def _trigger(trigger: ast.Trigger, names: _Names, ids: _Ids) -> dict:
    form = condition(trigger.condition, names, "lifecycle")
    actions = [{"action": a.kind, "arg": a.arg} for a in trigger.actions]
    return {"id": ids.make("t", ["trigger", form, actions]), "at": _at(trigger),
            "condition": form, "each_time": trigger.each_time, "actions": actions}


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
            return _compare(_ref(ref, names, context), op, value)
        case ast.In(ref=ref, values=values, negated=negated):
            form = _member(_ref(ref, names, context), values)
            return ["not", form] if negated else form
    raise TypeError(f"not a condition: {node!r}")


def _ref(ref: ast.Ref, names: _Names, context: str) -> list:
    if ref.contact:
        return ["contact", ref.name]
    if context == "where":
        return ["event", ref.name]
    if context == "lifecycle":
        if ref.name in names.scores:
            return ["score", ref.name]
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
