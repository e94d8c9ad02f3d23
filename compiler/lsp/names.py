"""Where each name of a document stands and what it stands for: hover, go to definition and
completion read this index instead of reading the text again.

The index is built from the parsed statements of one file (its includes not spliced in, so
`include` lines are there too) and the symbol table `compiler.resolve` made of the whole
model; the words are found with the resolver's own `Locator`, so a name is underlined here
exactly where a diagnostic about it would be.
"""
from __future__ import annotations

from dataclasses import dataclass

from dsl import ast
from dsl.source import Span

from ..resolve import STAGE_REF, Locator, Symbols, label_span

# What a name can stand for. Labels and properties belong to an `owner` (a grade or `stage`,
# an event); attributes are profile attributes. Account scores and grades are a namespace of
# their own (docs/language.md 10.6), and so are an account grade's labels.
KINDS = ("score", "group", "grade", "stage", "label", "event", "property", "attribute",
         "target", "include", "test", "account score", "account grade", "account label")


@dataclass(frozen=True, slots=True)
class Occurrence:
    span: Span
    name: str
    kind: str  # one of KINDS
    declares: bool = False  # the declaration itself, not a use
    owner: str | None = None  # the grade or `stage` of a label, the event of a property


@dataclass(frozen=True, slots=True)
class Index:
    occurrences: tuple[Occurrence, ...]

    def at(self, line: int, column: int) -> Occurrence | None:
        """The name under a 1-based position (the column just after a word counts too, where
        the cursor stands after typing it)."""
        for occurrence in self.occurrences:
            span = occurrence.span
            if span.line == line and span.column <= column <= span.end_column:
                return occurrence
        return None

    def uses(self, kind: str, owner: str | None = None) -> list[str]:
        """Names of `kind` written in this document, first use first."""
        names = [o.name for o in self.occurrences
                 if o.kind == kind and (owner is None or o.owner == owner)]
        return list(dict.fromkeys(names))


def reading(ref: ast.Ref, scope: str, event: str | None, symbols: Symbols) -> str:
    """What a name in a condition stands for (docs/language.md section 4): in `if` and `require`
    a profile attribute; in `where` an event property (`contact.X` an attribute); in stages
    and triggers whatever the symbol table says, else an attribute."""
    if ref.contact or scope == "profile":
        return "attribute"
    if scope == "where":
        return "property"
    return symbols.kind_of(ref.name) or "attribute"


def build_index(statements, symbols: Symbols, locate: Locator) -> Index:
    builder = _Builder(symbols, locate)
    for statement in statements:
        builder.statement(statement)
    found = [o for o in builder.found if o.span is not None]
    return Index(tuple(sorted(found, key=lambda o: (o.span.line, o.span.column))))


class _Builder:
    def __init__(self, symbols: Symbols, locate: Locator) -> None:
        self.symbols = symbols
        self.locate = locate
        self.found: list[Occurrence] = []

    def add(self, span: Span | None, name: str, kind: str, declares: bool = False,
            owner: str | None = None) -> None:
        if span is not None:
            self.found.append(Occurrence(span, name, kind, declares, owner))

    def statement(self, statement) -> None:
        locate = self.locate
        match statement:
            case ast.ScoreDecl(name=name, span=span):
                self.add(locate.word(span, name, start=len("score")), name, "score", True)
            case ast.EventDecl(name=name, span=span):
                self.add(self.event(span, name, start=len("event")), name, "event", True)
                for prop in statement.properties:
                    self.add(locate.word(prop.span, prop.name), prop.name, "property", True,
                             name)
            case ast.Include(path=path, span=span):
                self.add(locate.find(span, r'"(?:[^"\\]|\\.)*"'), path, "include")
            case ast.EventRule(event=event, span=span):
                self.add(self.event(span, event), event, "event")
                self.targets(statement.targets, event, span)
                if statement.where is not None:
                    self.condition(statement.where, "where", event)
                if statement.by is not None:
                    self.add(locate.after(span, "by", statement.by.prop), statement.by.prop,
                             "property", owner=event)
                self.rule_score(statement.score, span)
            case ast.AbsenceRule(event=event, missing=missing, span=span):
                self.add(self.event(span, event), event, "event")
                self.add(self.event(span, missing, lead=r"without\s+"), missing, "event")
                self.rule_score(statement.score, span)
            case ast.InactivityRule(span=span):
                self.rule_score(statement.score, span)
            case ast.GroupDecl(name=name, score=score, span=span):
                self.add(locate.word(span, name, start=len("group")), name, "group", True)
                if score is not None:
                    self.add(locate.after(span, "of", score), score, "score")
            case ast.ActivityDecl(events=events, span=span):
                for event in events:
                    self.add(self.event(span, event, start=len("activity")), event, "event")
            case ast.MatrixGrade():
                self.matrix(statement)
            case ast.ProfileRule(condition=condition, span=span):
                self.condition(condition, "profile")
                self.rule_score(statement.score, span)
            case ast.Require(condition=condition):
                self.condition(condition, "profile")
            case ast.Decay(score=score, span=span):
                self.add(locate.word(span, score, start=len("decay")), score, "score")
            case ast.Expire(score=score, span=span):
                self.add(locate.word(span, score, start=len("expire")), score, "score")
            case ast.Grade():
                self.grade(statement)
            case ast.Stage(name=name, condition=condition, span=span):
                self.add(locate.word(span, name, start=len("stage")), name, "stage", True)
                self.condition(condition, "lifecycle")
            case ast.Trigger(condition=condition, actions=actions):
                self.condition(condition, "lifecycle")
                for action in actions:
                    if action.kind == "reset":
                        self.add(locate.word(action.span, action.arg, start=len("reset")),
                                 action.arg, "score")
            case ast.AccountBy(attribute=attribute, span=span):
                self.add(locate.word(span, attribute, start=len("account by")), attribute,
                         "attribute")
            case ast.AccountScore(name=name, span=span):
                self.add(locate.word(span, name, start=len("account score")), name,
                         "account score", True)
                if statement.score is not None:
                    self.add(locate.after(span, "of", statement.score), statement.score,
                             self.score_kind(statement.score))
                # a member's condition: names read as in a trigger (10.6)
                for condition in (statement.condition, statement.where):
                    if condition is not None:
                        self.condition(condition, "lifecycle")
            case ast.AccountGrade(name=name, span=span):
                self.add(locate.word(span, name, start=len("account grade")), name,
                         "account grade", True)
                self.add(locate.after(span, "by", statement.score), statement.score,
                         "account score")
                for band in statement.bands:
                    self.add(label_span(band), band.label, "account label", True, name)
                if statement.otherwise is not None:
                    self.add(locate.after(span, "else", statement.otherwise),
                             statement.otherwise, "account label", True, name)
            case ast.Test(name=name, span=span):
                self.add(locate.find(span, r'"(?:[^"\\]|\\.)*"'), name, "test", True)
                for step in statement.steps:
                    self.step(step)

    def event(self, span: Span | None, name: str, *, lead: str = "",
              start: int = 0) -> Span | None:
        """An event type as written, bare or quoted (the quotes included)."""
        return self.locate.event(span, name, lead=lead, start=start)[0]

    def matrix(self, grade) -> None:
        locate = self.locate
        self.add(locate.word(grade.span, grade.name, start=len("grade")), grade.name, "grade",
                 True)
        self.add(locate.after(grade.span, "by", grade.first), grade.first, "grade")
        self.add(locate.after(grade.span, "and", grade.second), grade.second, "grade")
        for bucket in grade.buckets:
            self.add(locate.word(bucket.span, bucket.label), bucket.label, "label", True,
                     grade.name)
        if grade.otherwise is not None:
            self.add(locate.after(grade.span, "else", grade.otherwise), grade.otherwise,
                     "label", True, grade.name)

    def rule_score(self, score: str | None, span: Span | None) -> None:
        if score is not None:
            self.add(self.locate.rule_score(span, score), score, self.score_kind(score))

    def score_kind(self, name: str) -> str:
        # Where a rule names its score, a name that is not a score is still meant as one.
        kind = self.symbols.kind_of(name)
        return kind if kind not in (None, "grade", "stage") else "score"

    def targets(self, targets: ast.Targets, event: str, span: Span | None) -> None:
        for item in targets.items:
            self.add(self.locate.word(span, item) if item.isidentifier()
                     else self.locate.find(span, '"' + _escaped(item) + '"'), item, "target",
                     owner=event)

    def grade(self, grade: ast.Grade) -> None:
        locate = self.locate
        self.add(locate.word(grade.span, grade.name, start=len("grade")), grade.name, "grade",
                 True)
        self.add(locate.after(grade.span, "by", grade.score), grade.score,
                 self.score_kind(grade.score))
        for band in grade.bands:
            self.add(label_span(band), band.label, "label", True, grade.name)
        if grade.otherwise is not None:
            self.add(locate.after(grade.span, "else", grade.otherwise), grade.otherwise,
                     "label", True, grade.name)

    def condition(self, condition: ast.Condition, scope: str, event: str | None = None) -> None:
        for node in ast.walk_condition(condition):
            match node:
                case ast.Compare(ref=ref, value=value):
                    self.ref(ref, scope, event, (value,))
                case ast.In(ref=ref, values=values):
                    self.ref(ref, scope, event, values)
                case ast.Truth(ref=ref):
                    self.ref(ref, scope, event, ())

    def ref(self, ref: ast.Ref, scope: str, event: str | None, values) -> None:
        kind = reading(ref, scope, event, self.symbols)
        owner = event if kind == "property" else None
        self.add(ref.span, ref.name, kind, owner=owner)
        if kind in ("grade", "stage"):
            for value in values:
                if isinstance(value, ast.Label):
                    self.add(value.span, value.name, "label", owner=ref.name)

    def step(self, step) -> None:
        locate = self.locate
        match step:
            case ast.TestContact(attributes=attributes):
                for assignment in attributes:
                    self.add(locate.word(assignment.span, assignment.name), assignment.name,
                             "attribute")
            case ast.TestEvent(event=event, span=span):
                self.add(self.event(span, event, start=_event_column(step)), event, "event")
                for assignment in step.properties:
                    self.add(locate.word(assignment.span, assignment.name), assignment.name,
                             "property", owner=event)
            case ast.ExpectScore(score=score, span=span):
                self.add(locate.after(span, "expect", score), score, self.score_kind(score))
            case ast.ExpectLabel(name=name, label=label, span=span):
                kind = "stage" if name == STAGE_REF else "grade"
                self.add(locate.after(span, "expect", name), name, kind)
                self.add(locate.word(span, label, last=True), label, "label", owner=name)
            case ast.ExpectAction(kind="reset", arg=arg, span=span):
                self.add(locate.word(span, arg, last=True), arg, "score")


def _event_column(step: ast.TestEvent) -> int:
    # `at 2026-03-02 visit`: skip the time, whose digits could spell no name but whose
    # keyword (`at`, `after`) could be an event's name.
    if step.at is not None:
        return len("at ") + len(step.at)
    return 0


def _escaped(text: str) -> str:
    import re

    return re.escape(text.replace("\\", "\\\\").replace('"', '\\"'))
