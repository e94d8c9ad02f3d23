"""Semantic diff of two models: what changed in the agreement, not in the text.

Statements are matched by meaning, never by line number:

| kind          | matched by                                   | compared fields                |
|---------------|----------------------------------------------|--------------------------------|
| event rule    | event, targets, where                        | points (or `by PROP`), score, bounds of `by`, limit |
| absence rule  | event, targets, missing event and targets    | within, points, score, limit   |
| profile rule  | condition                                    | points, score                  |
| inactivity rule | the score or group it names, then its duration | after, points, every, at most |
| trigger       | condition                                    | actions, each time             |
| score         | name                                         | range                          |
| group         | name                                         | score, min, max                |
| activity      | (one per model)                              | events (a set)                 |
| grade         | name                                         | score, each band, else         |
| matrix grade  | name                                         | grades, each bucket, else      |
| stage         | name                                         | condition (and lifecycle order)|
| decay/expire  | score                                        | rate, period / duration        |
| event (catalog)| name                                        | target, properties             |
| require, include | the condition / path                      | -                              |
| test          | name                                         | steps                          |

Meaning, not spelling: `is` equals `=`, `24h` equals `1 day`, `(a, b)` equals `(b, a)`, `any`
equals no targets, an omitted score is the default score, operands of `and`/`or` are a set.
Several statements with the same key (two `visit pricing` rules for different scores) are
paired first when identical, then when they award the same score, then in file order.

`diff(a, b).reversed() == diff(b, a)` holds: pairing is symmetric and the order of changes
depends only on what both sides share.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from dsl import ast
from dsl import formatter as fmt

SECTIONS = ("model", "declarations", "rules", "profile rules", "scores over time", "grades",
            "stages", "triggers", "accounts", "tests")


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: str | None  # None: the item did not exist on that side
    new: str | None

    def reversed(self) -> "FieldChange":
        return FieldChange(self.field, self.new, self.old)

    def to_json(self) -> dict:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True, slots=True)
class Change:
    section: str  # one of SECTIONS
    kind: str  # "event rule", "stage", ...
    status: str  # added | removed | changed
    subject: str  # what the change is about, the same on both sides
    old: str | None = None  # canonical text of the old statement
    new: str | None = None
    old_at: str | None = None  # file:line
    new_at: str | None = None
    fields: tuple[FieldChange, ...] = ()

    def reversed(self) -> "Change":
        status = {"added": "removed", "removed": "added"}.get(self.status, self.status)
        return Change(self.section, self.kind, status, self.subject, self.new, self.old,
                      self.new_at, self.old_at, tuple(f.reversed() for f in self.fields))

    def sort_key(self) -> tuple:
        texts = tuple(sorted(t or "" for t in (self.old, self.new)))
        places = tuple(sorted(t or "" for t in (self.old_at, self.new_at)))
        return (SECTIONS.index(self.section), self.subject, self.kind, texts, places)

    def to_json(self) -> dict:
        return {"section": self.section, "kind": self.kind, "status": self.status,
                "subject": self.subject, "old": self.old, "new": self.new,
                "old_at": self.old_at, "new_at": self.new_at,
                "fields": [f.to_json() for f in self.fields]}


@dataclass(frozen=True, slots=True)
class ModelDiff:
    old_name: str
    new_name: str
    changes: tuple[Change, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.changes

    def reversed(self) -> "ModelDiff":
        changes = sorted((c.reversed() for c in self.changes), key=Change.sort_key)
        return ModelDiff(self.new_name, self.old_name, tuple(changes))

    def counts(self) -> dict[str, int]:
        counts = {"added": 0, "removed": 0, "changed": 0}
        for change in self.changes:
            counts[change.status] += 1
        return counts

    def to_json(self) -> dict:
        return {"old": self.old_name, "new": self.new_name, "counts": self.counts(),
                "changes": [c.to_json() for c in self.changes]}


# --------------------------------------------------------------------------- normal forms


def default_score(model: ast.Model) -> str:
    for statement in model.statements:
        if isinstance(statement, ast.ScoreDecl):
            return statement.name
    return "score"


def normal_condition(node: ast.Condition):
    """A hashable form of a condition in which equal meanings are equal."""
    match node:
        case ast.Compare(ref=ref, op=op, value=value):
            op = {"is": "=", "is not": "!="}.get(op, op)
            return ("cmp", _normal_ref(ref), op, _normal_value(value))
        case ast.In(ref=ref, values=values, negated=negated):
            items = tuple(sorted(set(_normal_value(v) for v in values)))
            return ("in", _normal_ref(ref), items, negated)
        case ast.Truth(ref=ref):
            return ("cmp", _normal_ref(ref), "=", ("bool", "True"))
        case ast.Const(value=value):
            return ("const", value)
        case ast.Not(operand=operand):
            return ("not", normal_condition(operand))
        case ast.And(operands=operands) | ast.Or(operands=operands):
            tag = "and" if isinstance(node, ast.And) else "or"
            parts: set = set()
            for operand in operands:
                normal = normal_condition(operand)
                parts.update(normal[1] if normal[0] == tag else (normal,))
            return (tag, tuple(sorted(parts, key=repr)))
    raise TypeError(f"not a condition: {node!r}")


def _normal_ref(ref: ast.Ref) -> tuple:
    return (ref.name, ref.contact)


def _normal_value(value: ast.Value) -> tuple:
    match value:
        case ast.Number(value=number):
            return ("number", repr(float(number)))
        case ast.Bool(value=flag):
            return ("bool", repr(flag))
        case ast.Text(value=text):
            return ("text", text)
        case ast.Label(name=name):
            return ("label", name)
    raise TypeError(f"not a value: {value!r}")


def normal_targets(targets: ast.Targets) -> tuple:
    if targets.any or not targets.items:
        return ("any",)
    return tuple(sorted(set(targets.items)))


def _normal_where(where: ast.Condition | None):
    return None if where is None else normal_condition(where)


def _seconds(duration: ast.Duration | None) -> int | None:
    return None if duration is None else duration.seconds


def _limit_key(limit: ast.Limit | None):
    return None if limit is None else (limit.count, limit.per)


# --------------------------------------------------------------------------- kinds

@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    key: Callable  # (statement, context) -> comparable value
    text: Callable  # (statement, context) -> display text


@dataclass(frozen=True, slots=True)
class _Kind:
    name: str
    section: str
    types: tuple
    key: Callable  # (statement, context) -> hashable matching key
    subject: Callable  # (statement, context) -> display text of the key
    fields: tuple[_Field, ...]
    secondary: Callable = lambda s, c: None  # preferred pairing inside a key group


@dataclass(frozen=True, slots=True)
class _Context:
    default_score: str

    def score(self, name: str | None) -> str:
        return self.default_score if name is None else name


def _score_field() -> _Field:
    return _Field("score", lambda s, c: c.score(s.score), lambda s, c: c.score(s.score))


def _points_field() -> _Field:
    # `by PROP` stands where the points stand (docs/language.md 10.5)
    return _Field("points", lambda s, c: _points_key(s), lambda s, c: _points_text(s))


def _points_key(s):
    by = getattr(s, "by", None)
    return s.points if by is None else ("by", by.prop)


def _points_text(s) -> str:
    by = getattr(s, "by", None)
    return fmt.points(s.points) if by is None else f"by {by.prop}"


def _by_bounds_field() -> _Field:
    return _Field("bounds", lambda s, c: None if s.by is None or s.by.low is None
                  else (s.by.low, s.by.high),
                  lambda s, c: _by_bounds_text(s.by))


def _by_bounds_text(by: ast.ByProperty | None) -> str:
    if by is None or by.low is None:
        return "none"
    return f"{by.low}..{'' if by.high is None else by.high}"


def _bound_text(value: int | None) -> str:
    return "none" if value is None else str(value)


def _limit_field() -> _Field:
    return _Field("limit", lambda s, c: _limit_key(s.limit),
                  lambda s, c: "none" if s.limit is None else fmt.limit(s.limit))


def _targets_text(targets: ast.Targets) -> str:
    if targets.any or not targets.items:
        return "any"
    items = sorted(set(targets.items))
    return fmt.targets(ast.Targets(tuple(items)))


def _event_rule_subject(s: ast.EventRule, c: _Context) -> str:
    event = fmt.event_name(s.event)
    text = event if normal_targets(s.targets) == ("any",) else \
        f"{event} {_targets_text(s.targets)}"
    return text + (f" where {fmt.condition(s.where)}" if s.where is not None else "")


def _absence_subject(s: ast.AbsenceRule, c: _Context) -> str:
    event = fmt.event_name(s.event)
    head = event if normal_targets(s.targets) == ("any",) else \
        f"{event} {_targets_text(s.targets)}"
    missing = fmt.event_name(s.missing) + (f" {fmt.targets(s.missing_targets)}"
                           if s.missing_targets.written else "")
    return f"{head} without {missing}"


def _range_text(s: ast.ScoreDecl, c: _Context) -> str:
    text = fmt.statement_text(s)
    return text.split(" ", 2)[2] if s.has_range else "unbounded"


def _actions_text(s: ast.Trigger, c: _Context) -> str:
    return ", ".join(fmt.statement_text(ast.Trigger(ast.Const(True), (a,))).split(" ", 2)[2]
                     for a in s.actions)


def _properties_text(s: ast.EventDecl, c: _Context) -> str:
    return ", ".join(f"{p.name}: {p.type}" for p in s.properties) or "none"


def _activity_text(s: ast.ActivityDecl, c: _Context) -> str:
    return ", ".join(fmt.event_name(e) for e in sorted(set(s.events)))


def _every_text(s: ast.InactivityRule, c: _Context) -> str:
    return "none" if s.every is None else fmt.duration(s.every)


def _at_most_text(s: ast.InactivityRule, c: _Context) -> str:
    return "none" if s.limit is None else str(s.limit.count)


def _group_score(s: ast.GroupDecl, c: _Context) -> str:
    return c.score(s.score)


def _account_aggregate_key(s: ast.AccountScore, c: _Context) -> tuple:
    return (s.aggregate, s.score, _normal_where(s.condition), _normal_where(s.where))


def _account_aggregate_text(s: ast.AccountScore, c: _Context) -> str:
    """`sum of engagement where tier is A`: the statement after `account score NAME = `."""
    return fmt.statement_text(s).partition(" = ")[2]


KINDS: tuple[_Kind, ...] = (
    _Kind("timezone", "model", (ast.TimezoneDecl,), lambda s, c: "timezone",
          lambda s, c: "timezone",
          (_Field("zone", lambda s, c: s.zone, lambda s, c: fmt.quote(s.zone)),)),
    _Kind("score", "declarations", (ast.ScoreDecl,), lambda s, c: s.name,
          lambda s, c: f"score {s.name}",
          (_Field("range", lambda s, c: (s.has_range, s.low, s.high), _range_text),)),
    _Kind("require", "declarations", (ast.Require,), lambda s, c: normal_condition(s.condition),
          lambda s, c: fmt.statement_text(s), ()),
    _Kind("group", "declarations", (ast.GroupDecl,), lambda s, c: s.name,
          lambda s, c: f"group {s.name}",
          (_Field("score", _group_score, _group_score),
           _Field("min", lambda s, c: s.low, lambda s, c: _bound_text(s.low)),
           _Field("max", lambda s, c: s.high, lambda s, c: _bound_text(s.high)))),
    _Kind("activity", "declarations", (ast.ActivityDecl,), lambda s, c: "activity",
          lambda s, c: "activity",
          (_Field("events", lambda s, c: tuple(sorted(set(s.events))), _activity_text),)),
    _Kind("event declaration", "declarations", (ast.EventDecl,), lambda s, c: s.name,
          lambda s, c: f"event {fmt.event_name(s.name)}",
          (_Field("target", lambda s, c: s.target, lambda s, c: s.target or "none"),
           _Field("properties", lambda s, c: tuple(sorted((p.name, p.type) for p in s.properties)),
                  _properties_text))),
    _Kind("include", "declarations", (ast.Include,), lambda s, c: s.path,
          lambda s, c: fmt.statement_text(s), ()),
    _Kind("event rule", "rules", (ast.EventRule,),
          lambda s, c: (s.event, normal_targets(s.targets), _normal_where(s.where)),
          _event_rule_subject,
          (_points_field(), _score_field(), _by_bounds_field(), _limit_field()),
          secondary=lambda s, c: c.score(s.score)),
    _Kind("absence rule", "rules", (ast.AbsenceRule,),
          lambda s, c: (s.event, normal_targets(s.targets), s.missing,
                        ("same",) if not s.missing_targets.written
                        else normal_targets(s.missing_targets)),
          _absence_subject,
          (_Field("within", lambda s, c: s.within.seconds, lambda s, c: fmt.duration(s.within)),
           _points_field(), _score_field(), _limit_field()),
          secondary=lambda s, c: c.score(s.score)),
    _Kind("profile rule", "profile rules", (ast.ProfileRule,),
          lambda s, c: normal_condition(s.condition),
          lambda s, c: f"if {fmt.condition(s.condition)}", (_points_field(), _score_field()),
          secondary=lambda s, c: c.score(s.score)),
    _Kind("inactivity rule", "rules", (ast.InactivityRule,), lambda s, c: c.score(s.score),
          lambda s, c: f"inactive {c.score(s.score)}",
          (_Field("after", lambda s, c: s.after.seconds, lambda s, c: fmt.duration(s.after)),
           _points_field(),
           _Field("every", lambda s, c: _seconds(s.every), _every_text),
           _Field("at most", lambda s, c: _limit_key(s.limit), _at_most_text)),
          secondary=lambda s, c: s.after.seconds),
    _Kind("decay", "scores over time", (ast.Decay,), lambda s, c: s.score,
          lambda s, c: f"decay {s.score}",
          (_Field("rate", lambda s, c: float(s.percent), lambda s, c: f"{fmt.number(s.percent)}%"),
           _Field("every", lambda s, c: s.every.seconds, lambda s, c: fmt.duration(s.every)))),
    _Kind("expire", "scores over time", (ast.Expire,), lambda s, c: s.score,
          lambda s, c: f"expire {s.score}",
          (_Field("after", lambda s, c: s.after.seconds, lambda s, c: fmt.duration(s.after)),)),
    _Kind("grade", "grades", (ast.Grade,), lambda s, c: s.name, lambda s, c: f"grade {s.name}",
          (_Field("score", lambda s, c: s.score, lambda s, c: s.score),)),
    _Kind("matrix grade", "grades", (ast.MatrixGrade,), lambda s, c: s.name,
          lambda s, c: f"grade {s.name}",
          (_Field("grades", lambda s, c: (s.first, s.second),
                  lambda s, c: f"{s.first} and {s.second}"),)),
    _Kind("stage", "stages", (ast.Stage,), lambda s, c: s.name, lambda s, c: f"stage {s.name}",
          (_Field("condition", lambda s, c: normal_condition(s.condition),
                  lambda s, c: fmt.condition(s.condition)),)),
    _Kind("trigger", "triggers", (ast.Trigger,), lambda s, c: normal_condition(s.condition),
          lambda s, c: f"when {fmt.condition(s.condition)}",
          (_Field("actions", lambda s, c: tuple(_action_key(a, c) for a in s.actions),
                  _actions_text),
           _Field("each time", lambda s, c: s.each_time,
                  lambda s, c: "each time" if s.each_time else "once"))),
    _Kind("account by", "accounts", (ast.AccountBy,), lambda s, c: "account by",
          lambda s, c: "account by",
          (_Field("attribute", lambda s, c: s.attribute, lambda s, c: s.attribute),)),
    _Kind("account score", "accounts", (ast.AccountScore,), lambda s, c: s.name,
          lambda s, c: f"account score {s.name}",
          (_Field("aggregate", _account_aggregate_key, _account_aggregate_text),)),
    _Kind("account grade", "accounts", (ast.AccountGrade,), lambda s, c: s.name,
          lambda s, c: f"account grade {s.name}",
          (_Field("score", lambda s, c: s.score, lambda s, c: s.score),)),
    _Kind("test", "tests", (ast.Test,), lambda s, c: s.name,
          lambda s, c: f"test {fmt.quote(s.name)}",
          (_Field("steps", lambda s, c: s.steps,
                  lambda s, c: "; ".join(fmt.step_text(step) for step in s.steps)),)),
)


def _action_key(action: ast.Action, context: _Context) -> tuple:
    return (action.kind, action.arg)


def kind_of(statement) -> _Kind:
    for kind in KINDS:
        if isinstance(statement, kind.types):
            return kind
    raise TypeError(f"not a statement: {statement!r}")


# --------------------------------------------------------------------------- diff


def diff_models(old: ast.Model, new: ast.Model, old_name: str | None = None,
                new_name: str | None = None,
                location: Callable[[ast.Statement], str | None] | None = None) -> ModelDiff:
    """Every change from `old` to `new`, sorted by section and subject.

    `location` turns a statement into the `file:line` shown next to it (by default its span)."""
    where = location or _location
    contexts = (_Context(default_score(old)), _Context(default_score(new)))
    changes: list[Change] = list(_model_changes(old, new))
    for kind in KINDS:
        olds = [s for s in old.statements if isinstance(s, kind.types)]
        news = [s for s in new.statements if isinstance(s, kind.types)]
        pairs = _pair(kind, olds, news, contexts)
        if kind.name in _CONDITION_KEYED:
            pairs = _pair_threshold_edits(kind, pairs, contexts)
        for left, right in pairs:
            change = _compare(kind, left, right, contexts, where)
            if change is not None:
                changes.append(change)
    changes.extend(_order_changes(ast.Stage, "stages", "stage", old, new, contexts))
    changes.extend(_order_changes(ast.Trigger, "triggers", "trigger", old, new, contexts))
    changes.sort(key=Change.sort_key)
    return ModelDiff(old_name or old.file, new_name or new.file, tuple(changes))


def _location(statement) -> str | None:
    span = getattr(statement, "span", None)
    return None if span is None else f"{span.file}:{span.line}"


def _model_changes(old: ast.Model, new: ast.Model):
    before, after = default_score(old), default_score(new)
    if before != after and old.statements and new.statements:
        yield Change("model", "default score", "changed", "default score",
                     before, after, fields=(FieldChange("default score", before, after),))


def _pair(kind: _Kind, olds: list, news: list, contexts) -> list[tuple]:
    """Pairs (old, new), with None for an unmatched side. Symmetric in old and new."""
    groups: dict = {}
    for side, statements in enumerate((olds, news)):
        for statement in statements:
            key = kind.key(statement, contexts[side])
            groups.setdefault(key, ([], []))[side].append(statement)
    pairs: list[tuple] = []
    for left, right in groups.values():
        pairs.extend(_pair_group(kind, left, right, contexts))
    return pairs


# Kinds matched by their condition: a changed threshold changes the key, so what is left
# unmatched on both sides is paired again by the condition's shape (its numbers left out).
_CONDITION_KEYED = ("trigger", "profile rule", "require")


def _pair_threshold_edits(kind: _Kind, pairs: list[tuple], contexts) -> list[tuple]:
    matched = [pair for pair in pairs if None not in pair]
    groups: dict = {}
    for side in (0, 1):
        for pair in pairs:
            if pair[1 - side] is None:
                shape = condition_shape(normal_condition(pair[side].condition))[0]
                groups.setdefault(shape, ([], []))[side].append(pair[side])
    for left, right in groups.values():
        matched.extend(_pair_group(kind, left, right, contexts))
    return matched


def condition_shape(normal) -> tuple:
    """A normal condition with its numbers left out, and the numbers by `(name, op)`:
    `engagement >= 40` and `engagement >= 25` have one shape, `{(engagement, >=): 40}`."""
    numbers: dict = {}

    def shape(node):
        match node:
            case ("cmp", ref, op, ("number", value)):
                numbers.setdefault((ref, op), []).append(value)
                return ("cmp", ref, op, ("number", None))
            case ("not", operand):
                return ("not", shape(operand))
            case ("and" | "or", parts):
                return (node[0], tuple(sorted((shape(p) for p in parts), key=repr)))
        return node
    return shape(normal), numbers


def _threshold_changes(old: ast.Condition, new: ast.Condition) -> list[FieldChange] | None:
    """`threshold engagement >=: 40 -> 25` for each number that changed, when only numbers
    did (and each comparison is written once); None otherwise."""
    old_shape, old_numbers = condition_shape(normal_condition(old))
    new_shape, new_numbers = condition_shape(normal_condition(new))
    if old_shape != new_shape or any(len(v) != 1 for v in old_numbers.values()):
        return None
    changes = []
    for (ref, op), [before] in sorted(old_numbers.items(), key=repr):
        [after] = new_numbers[(ref, op)]
        if before != after:
            name = f"contact.{ref[0]}" if ref[1] else ref[0]
            changes.append(FieldChange(f"threshold {name} {op}", _number_text(before),
                                       _number_text(after)))
    return changes


def _number_text(normal_number: str) -> str:
    value = float(normal_number)  # normal forms hold numbers as repr(float)
    return fmt.number(int(value) if value.is_integer() else value)


def _pair_group(kind: _Kind, left: list, right: list, contexts) -> list[tuple]:
    left, right = list(left), list(right)
    pairs = []
    matchers = (
        lambda a, b: _values(kind, a, contexts[0]) == _values(kind, b, contexts[1]),
        lambda a, b: kind.secondary(a, contexts[0]) == kind.secondary(b, contexts[1]),
        lambda a, b: True,
    )
    for same in matchers:
        for a in list(left):
            for b in right:
                if same(a, b):
                    pairs.append((a, b))
                    left.remove(a)
                    right.remove(b)
                    break
    pairs.extend((a, None) for a in left)
    pairs.extend((None, b) for b in right)
    return pairs


def _values(kind: _Kind, statement, context: _Context) -> tuple:
    extra = _grade_bands(statement) if isinstance(statement, (ast.Grade, ast.AccountGrade)) else \
        _buckets(statement) if isinstance(statement, ast.MatrixGrade) else ()
    return tuple(f.key(statement, context) for f in kind.fields) + (extra,)


def _buckets(grade: ast.MatrixGrade) -> tuple:
    # A valid model lists each cell once, so the order of buckets and cells does not matter.
    return tuple(sorted((b.label, tuple(sorted(set(b.cells)))) for b in grade.buckets)) + (
        grade.otherwise,)


def _grade_bands(grade: ast.Grade | ast.AccountGrade) -> tuple:
    return tuple((b.label, float(b.threshold)) for b in grade.bands) + (grade.otherwise,)


def _compare(kind: _Kind, old, new, contexts, where) -> Change | None:
    if new is None:
        return Change(kind.section, kind.name, "removed", kind.subject(old, contexts[0]),
                      old=fmt.statement_text(old), old_at=where(old))
    if old is None:
        return Change(kind.section, kind.name, "added", kind.subject(new, contexts[1]),
                      new=fmt.statement_text(new), new_at=where(new))
    fields = [FieldChange(f.name, f.text(old, contexts[0]), f.text(new, contexts[1]))
              for f in kind.fields if f.key(old, contexts[0]) != f.key(new, contexts[1])]
    if isinstance(old, ast.Stage):
        fields = _thresholds_for_condition(fields, old.condition, new.condition)
    elif kind.name in _CONDITION_KEYED and kind.key(old, contexts[0]) != kind.key(new, contexts[1]):
        fields = (_threshold_changes(old.condition, new.condition) or []) + fields
    if isinstance(old, (ast.Grade, ast.AccountGrade)):
        fields.extend(_band_changes(old, new))
    if isinstance(old, ast.MatrixGrade):
        fields.extend(_bucket_changes(old, new))
    if not fields:
        return None
    # the same meaning may be spelled two ways: the subject takes the smaller, so that the
    # diff reversed is the reverse diff
    subject = min(kind.subject(old, contexts[0]), kind.subject(new, contexts[1]))
    return Change(kind.section, kind.name, "changed", subject, fmt.statement_text(old),
                  fmt.statement_text(new), where(old), where(new), tuple(fields))


def _thresholds_for_condition(fields: list[FieldChange], old, new) -> list[FieldChange]:
    thresholds = _threshold_changes(old, new)
    if not thresholds:
        return fields
    return [change for f in fields for change in (thresholds if f.field == "condition" else [f])]


def _band_changes(old: ast.Grade | ast.AccountGrade, new: ast.Grade | ast.AccountGrade) -> list[FieldChange]:
    before = {b.label: b for b in old.bands}
    after = {b.label: b for b in new.bands}
    changes = []
    for label in _union_in_order([b.label for b in old.bands], [b.label for b in new.bands]):
        a, b = before.get(label), after.get(label)
        a_text = None if a is None else f">= {fmt.number(a.threshold)}"
        b_text = None if b is None else f">= {fmt.number(b.threshold)}"
        if a is None or b is None or float(a.threshold) != float(b.threshold):
            changes.append(FieldChange(f"band {label}", a_text, b_text))
    order_old = [b.label for b in old.bands if b.label in after]
    order_new = [b.label for b in new.bands if b.label in before]
    if order_old != order_new:
        changes.append(FieldChange("band order", ", ".join(order_old), ", ".join(order_new)))
    if old.otherwise != new.otherwise:
        changes.append(FieldChange("else", old.otherwise, new.otherwise))
    return changes


def _bucket_changes(old: ast.MatrixGrade, new: ast.MatrixGrade) -> list[FieldChange]:
    """`bucket hot: (A1, A2) -> (A1, A2, B1)`: each bucket by its label, cells as a set."""
    def cells(grade):
        return {b.label: tuple(sorted(set(b.cells))) for b in grade.buckets}

    def text(items):
        return None if items is None else "(" + ", ".join(items) + ")"

    before, after = cells(old), cells(new)
    changes = []
    for label in _union_in_order(list(before), list(after)):
        if before.get(label) != after.get(label):
            changes.append(FieldChange(f"bucket {label}", text(before.get(label)),
                                       text(after.get(label))))
    if old.otherwise != new.otherwise:
        changes.append(FieldChange("else", old.otherwise, new.otherwise))
    return changes


def _union_in_order(first: list[str], second: list[str]) -> list[str]:
    """Labels of both lists, each once, in a symmetric order (sorted)."""
    return sorted(set(first) | set(second))


def _order_changes(types, section: str, kind: str, old: ast.Model, new: ast.Model, contexts):
    """Stages are a lifecycle order and triggers run in file order: report a reordering of
    the statements present on both sides."""
    def keys(model, context):
        return [kind_of(s).key(s, context) for s in model.statements if isinstance(s, types)]

    before, after = keys(old, contexts[0]), keys(new, contexts[1])
    common = set(before) & set(after)
    before = _dedupe([k for k in before if k in common])
    after = _dedupe([k for k in after if k in common])
    if before == after:
        return
    names: dict = {}
    for side, model in enumerate((old, new)):
        for statement in model.statements:
            if isinstance(statement, types):
                key = kind_of(statement).key(statement, contexts[side])
                label = _order_label(statement)
                names[key] = min(names.get(key, label), label)
    yield Change(section, f"{kind} order", "changed", f"{kind} order",
                 fields=(FieldChange("order", ", ".join(names[k] for k in before),
                                     ", ".join(names[k] for k in after)),))


def _order_label(statement) -> str:
    if isinstance(statement, ast.Stage):
        return statement.name
    return fmt.condition(statement.condition)


def _dedupe(keys: list) -> list:
    seen: set = set()
    return [k for k in keys if not (k in seen or seen.add(k))]


def diff_texts(old_text: str, new_text: str, old_name: str = "old",
               new_name: str = "new"):
    """Parse two texts (no includes) and diff them: (ModelDiff | None, diagnostics)."""
    from dsl.diagnostics import has_errors
    from dsl.parser import parse_text

    old = parse_text(old_text, old_name)
    new = parse_text(new_text, new_name)
    diagnostics = list(old.diagnostics) + list(new.diagnostics)
    if has_errors(diagnostics) or old.model is None or new.model is None:
        return None, diagnostics
    return diff_models(old.model, new.model, old_name, new_name), diagnostics


__all__ = ["Change", "FieldChange", "ModelDiff", "diff_models", "diff_texts", "normal_condition"]
