"""The AST of a `.score` model.

Nodes are immutable; `span` is excluded from equality so that round-trip tests compare
meaning, not positions. Sequences are tuples. Nothing here knows about lark.

Canonical forms (chosen so that `parse(format(ast)) == ast`):
- a target is its text; the formatter writes it bare when it is a plain name;
- `once` is `Limit(1, None)`;
- a duration keeps its amount and unit (`24h` == `24 hours` == Duration(24, "hour"));
- comparison operators keep the word written (`is` vs `=`): they mean the same, but a
  formatter that turned `stage is MQL` into `stage = MQL` would not read like the agreement;
- an event type is its exact text, quoted or not (`"visit"` == `visit`, docs/language.md
  10.1);
- a name after a rule's points (or after `grade ... by`) is a score *or a group*: which one
  only the declarations tell (`compiler.resolve`), so the field keeps the name `score`;
- an unquoted value written with digits is a `Number` (`1`, `2.5`), except a digit run the
  number reading would change: one with a leading zero (`01`) or with letters (`2b`), which
  is a `Label`. Compared with a grade or `stage`, a `Number` is read as the label of its
  text (`heat is 1`); elsewhere a digit `Label` is the number (`01`) or the text (`2b`) it
  spells (docs/language.md 10.4, 10.8.6, 10.8.7; see `digit_label_value`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from .source import Span

_NO_SPAN = field(default=None, compare=False, repr=False)

# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Text:
    """A quoted string. In conditions and targets, `*` and `?` make it a pattern."""
    value: str
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Number:
    value: int | float
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Label:
    """A bare word on the right of a comparison: a grade or stage label (`stage is MQL`),
    or a digit run that is not a plain number (`01`, `2b`; see the module's docstring)."""
    name: str
    span: Span | None = _NO_SPAN

    @property
    def digits(self) -> bool:
        """Whether the label starts with a digit (`1`, `2b`: docs/language.md 10.4)."""
        return self.name[:1].isdigit()


Value = Union[Text, Number, Bool, Label]

# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True)
class Ref:
    """A name in a condition: a score, a grade, `stage`, an attribute or an event property.
    `contact=True` for the `contact.` prefix (profile attribute inside `where`)."""
    name: str
    contact: bool = False
    span: Span | None = _NO_SPAN


COMPARE_OPS = ("=", "!=", "<", "<=", ">", ">=", "is", "is not")


@dataclass(frozen=True, slots=True)
class Compare:
    ref: Ref
    op: str  # one of COMPARE_OPS
    value: Value
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class In:
    ref: Ref
    values: tuple[Value, ...]
    negated: bool = False
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Truth:
    """A bare name used as a condition: `consent` means `consent = true`."""
    ref: Ref
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Const:
    value: bool
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Not:
    operand: "Condition"
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple["Condition", ...]  # two or more
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple["Condition", ...]  # two or more
    span: Span | None = _NO_SPAN


Condition = Union[Compare, In, Truth, Const, Not, And, Or]

# --------------------------------------------------------------------------- pieces of rules

DURATION_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}
PERIODS = ("day", "week", "month")


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int
    unit: str  # a key of DURATION_UNITS
    span: Span | None = _NO_SPAN

    @property
    def seconds(self) -> int:
        return self.amount * DURATION_UNITS[self.unit]


@dataclass(frozen=True, slots=True)
class Targets:
    """What an event's `target` must match: nothing written (`items == ()` and not `any`)
    matches every target, as does `any`. Each item is a name or a glob pattern."""
    items: tuple[str, ...] = ()
    any: bool = False
    span: Span | None = _NO_SPAN

    @property
    def written(self) -> bool:
        return bool(self.items) or self.any


NO_TARGETS = Targets()


@dataclass(frozen=True, slots=True)
class Limit:
    """`once` == Limit(1); `at most N` == Limit(N); `at most N per day` == Limit(N, "day")."""
    count: int
    per: str | None = None  # one of PERIODS
    span: Span | None = _NO_SPAN


# --------------------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class ScoreDecl:
    name: str
    low: int | None = None
    high: int | None = None
    has_range: bool = False  # `0..` has a range with no high bound
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class TimezoneDecl:
    zone: str
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Require:
    condition: Condition
    span: Span | None = _NO_SPAN


PROPERTY_TYPES = ("number", "text", "bool")


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    type: str  # one of PROPERTY_TYPES
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class EventDecl:
    name: str
    target: str | None = None  # `event visit target page`: what the target names
    properties: tuple[Property, ...] = ()
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class GroupDecl:
    """`group NAME [of SCORE] [min N] [max N]` (10.2); `score` None: the default score."""
    name: str
    score: str | None = None
    low: int | None = None  # `min`
    high: int | None = None  # `max`
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class ActivityDecl:
    """`activity EVENT, ...`: the event types that count as activity (10.3)."""
    events: tuple[str, ...]
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Include:
    path: str
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class ByProperty:
    """`by PROP [LO..HI]`: the award is the integer value of the event's property PROP,
    bounded to [low, high] (None: unbounded on that side; docs/language.md 10.5)."""
    prop: str
    low: int | None = None
    high: int | None = None
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class EventRule:
    """`EVENT [TARGETS] [where C] POINTS [SCORE|GROUP] [LIMIT]`, or with `by` set
    `EVENT [TARGETS] [where C] by PROP [SCORE|GROUP] [LO..HI] [LIMIT]` (then `points` is
    None). `score` names a score or a group (None: the default score)."""
    event: str
    targets: Targets
    where: Condition | None
    points: int | None
    score: str | None = None
    limit: Limit | None = None
    by: ByProperty | None = None
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class AbsenceRule:
    event: str
    targets: Targets
    missing: str  # EVENT_B
    missing_targets: Targets
    within: Duration
    points: int
    score: str | None = None
    limit: Limit | None = None
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class ProfileRule:
    condition: Condition
    points: int
    score: str | None = None
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class InactivityRule:
    """`inactive DURATION POINTS [SCORE|GROUP] [every DURATION2] [at most N]` (10.3).
    `limit` is as written; only `at most N` without `per` is valid there (the parser
    refuses `once`, the checker `per ...`), so `limit.count` is the awards per quiet spell."""
    after: Duration
    points: int
    score: str | None = None
    every: Duration | None = None
    limit: Limit | None = None
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Decay:
    score: str
    percent: int | float  # 10 for `10%`
    every: Duration
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Expire:
    score: str
    after: Duration
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Band:
    label: str
    threshold: int | float
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Grade:
    """`grade NAME by SCORE: L >= N, ..., else L`; `score` names a score or a group."""
    name: str
    score: str
    bands: tuple[Band, ...]
    otherwise: str | None = None  # the `else` label
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Bucket:
    """`LABEL = (CELL, ...)` in a matrix grade; a cell is GRADE1's label then GRADE2's."""
    label: str
    cells: tuple[str, ...]
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class MatrixGrade:
    """`grade NAME by GRADE1 and GRADE2 [: BUCKET, ..., else LABEL]` (10.4). Without
    buckets the label is the cell itself (`A` and `1` give `A1`)."""
    name: str
    first: str
    second: str
    buckets: tuple[Bucket, ...] = ()
    otherwise: str | None = None
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    condition: Condition
    span: Span | None = _NO_SPAN


ACTION_KINDS = ("notify", "tag", "reset")


@dataclass(frozen=True, slots=True)
class Action:
    kind: str  # one of ACTION_KINDS
    arg: str  # a word or text; for `reset`, a score name
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class Trigger:
    condition: Condition
    actions: tuple[Action, ...]
    each_time: bool = False
    span: Span | None = _NO_SPAN


# --------------------------------------------------------------------------- accounts (10.6)

ACCOUNT_AGGREGATES = ("sum", "max", "min", "count")


@dataclass(frozen=True, slots=True)
class AccountBy:
    """`account by ATTR`: the profile attribute whose text names a contact's account."""
    attribute: str
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class AccountScore:
    """`account score NAME = sum of S | max of S | min of S [where C]`, or
    `account score NAME = count [where C [where F]]`. `score` names a score or a group (None
    for `count`); `condition` is what `count where C` counts (None otherwise); `where` is the
    filter any aggregate may add. Canonical form: a `count` has a `where` only with a
    `condition` (`count where C` is read as the count's condition, not as a filter)."""
    name: str
    aggregate: str  # one of ACCOUNT_AGGREGATES
    score: str | None = None
    condition: Condition | None = None
    where: Condition | None = None
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class AccountGrade:
    """`account grade NAME by ACCOUNT_SCORE: L >= N, ..., else L`."""
    name: str
    score: str
    bands: tuple[Band, ...]
    otherwise: str | None = None
    span: Span | None = _NO_SPAN


AccountStatement = Union[AccountBy, AccountScore, AccountGrade]


# --------------------------------------------------------------------------- tests


@dataclass(frozen=True, slots=True)
class Assignment:
    name: str
    value: Value
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class TestContact:
    attributes: tuple[Assignment, ...]
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class TestEvent:
    event: str
    target: str | None = None
    at: str | None = None  # the date or date-time text as written (`2026-03-02`)
    after: Duration | None = None  # relative to the previous line's time
    properties: tuple[Assignment, ...] = ()
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class TestNow:
    at: str | None = None
    after: Duration | None = None
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class ExpectScore:
    """`expect NAME op N`: NAME is a score or a group (10.7)."""
    score: str
    op: str  # = != < <= > >=
    value: int | float
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class ExpectLabel:
    """`expect tier is A`, `expect stage is MQL` (`negated` for `is not`)."""
    name: str
    label: str
    negated: bool = False
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class ExpectUnscored:
    span: Span | None = _NO_SPAN


@dataclass(frozen=True, slots=True)
class ExpectAction:
    """`expect [no] notify sales`; `times` for `expect notify sales 2 times` (10.7; written
    without `no`, and `0 times` means the same as `no`)."""
    kind: str  # notify | tag | reset
    arg: str
    negated: bool = False  # `expect no notify sales`
    times: int | None = None
    span: Span | None = _NO_SPAN


TestStep = Union[TestContact, TestEvent, TestNow, ExpectScore, ExpectLabel, ExpectUnscored,
                 ExpectAction]


@dataclass(frozen=True, slots=True)
class Test:
    name: str
    steps: tuple[TestStep, ...]
    span: Span | None = _NO_SPAN


Statement = Union[ScoreDecl, TimezoneDecl, Require, EventDecl, Include, GroupDecl, ActivityDecl,
                  EventRule, AbsenceRule, ProfileRule, InactivityRule, Decay, Expire, Grade,
                  MatrixGrade, Stage, Trigger, AccountBy, AccountScore, AccountGrade, Test]


@dataclass(frozen=True, slots=True)
class Model:
    statements: tuple[Statement, ...]
    file: str = field(default="<string>", compare=False)
    span: Span | None = _NO_SPAN


# --------------------------------------------------------------------------- helpers


def walk_condition(condition: Condition):
    """Every node of a condition, parents first, without recursion (conditions may be deep)."""
    stack = [condition]
    while stack:
        node = stack.pop()
        yield node
        match node:
            case Not(operand=operand):
                stack.append(operand)
            case And(operands=operands) | Or(operands=operands):
                stack.extend(reversed(operands))


def conditions_of(statement: Statement) -> tuple[Condition, ...]:
    match statement:
        case Require(condition=c) | ProfileRule(condition=c) | Stage(condition=c) \
                | Trigger(condition=c):
            return (c,)
        case EventRule(where=where) if where is not None:
            return (where,)
        case AccountScore(condition=c, where=where):
            return tuple(x for x in (c, where) if x is not None)
    return ()


def digit_label_value(label: Label) -> "Number | Text":
    """What a digit `Label` (`01`, `2b`) means where no grade or stage is compared: the
    number it spells, or else text (docs/language.md 10.8.7)."""
    if label.name.isdigit():
        return Number(int(label.name), label.span)
    return Text(label.name, label.span)


def label_text(value: "Value") -> str | None:
    """The label a value stands for on the right of a grade or `stage` comparison: a bare
    word, a quoted text, or an unquoted number as written (`heat is 1`); None for a bool."""
    match value:
        case Label(name=name) | Text(value=name):
            return name
        case Number(value=number):
            if isinstance(number, float) and not number.is_integer():
                return repr(number)
            return str(number)
    return None


# Keywords of language v2 where their statement starts (10.8.1): an event of that name is
# quoted there (`"group" +5`). `of`, `min`, `max` are keywords only inside `group`.
STATEMENT_KEYWORDS = frozenset(("group", "activity", "inactive", "account"))

# Reserved everywhere (docs/language.md section 1). `score`, `stage` and `contact` are
# keywords only where a declaration or the `contact.` prefix stands, so they are not listed here.
KEYWORDS = frozenset("""
after and any at by decay each else event every expect expire false grade if in include is most
no not notify now once or per require reset tag target test time timezone true unscored when where
with within without""".split())
