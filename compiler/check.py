"""Checks: every use of a name, every value and every rule, against the symbol table.

`check_model` runs name resolution (`compiler.resolve`) and then these checks, collecting
every diagnostic rather than stopping at the first, and returns them sorted by position.
Conditions are read as docs/language.md sections 4 and 9.6 say: in `if` and `require` names
are profile attributes, in `where` bare names are event properties (`contact.X` for the profile),
in stages and triggers a name is a score, a grade, `stage` or else a profile attribute.
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from dsl import ast
from dsl.formatter import duration as fmt_duration, event_name
from dsl.diagnostics import (Diagnostic, did_you_mean, error, has_errors, sort_diagnostics,
                             warning)
from dsl.source import SourceFile, Span

from .check_accounts import ACCOUNT_CODES, check_accounts
from .event_names import check_event_samples, check_test_events, event_lead
from .lints import (band_reach, check_groups, check_matrix, check_overlaps, check_usage,
                    possible_labels)
from .lower import lower_lifecycle
from .reach import check_reachability
from .resolve import (RESERVED, STAGE_REF, Locator, ScoreInfo, Symbols, label_span,
                      reserved_word, resolve)
from .samples import ContactFacts, EventFacts
from .test_times import check_test_times

# Every code that resolution, these checks and the loader report (docs/diagnostics.md).
# E106 (an unknown property type) is also checked, but the parser reports it first (E006).
REPORTED_CODES = (
    "E101", "E102", "E103", "E104", "E105", "E107", "E108", "E109", "E110", "E111", "E112",
    "E201", "E202", "E203", "E204", "E205", "E206", "E207",
    "W101", "W102", "W103", "W104", "W105", "W106", "W107", "W108", "W109", "W110",
    "W111", "W112", "W113", "W114", "W115", "W116", "W130", "W131", "W132", "W133", "W134",
    "W135",
) + ACCOUNT_CODES
ORDERING = ("<", "<=", ">", ">=")
_VALUE_TYPES = {ast.Number: "number", ast.Text: "text", ast.Bool: "bool"}
_KIND_PHRASES = {"number": "a number", "text": "text", "bool": "true/false",
                 "bare word": "a bare word"}


def check_model(model: ast.Model,
                sample_contacts: Iterable[Mapping] | ContactFacts | None = None,
                sample_events: Iterable[Mapping] | EventFacts | None = None,
                sources: Mapping[str, SourceFile] | None = None) -> list[Diagnostic]:
    """All diagnostics of `model`, sorted. With sample data, also W106 for attributes and
    properties that the samples never carry (rows, or their facts summarised once by
    `compiler.samples`). `sources` (file name -> SourceFile) lets the
    diagnostics underline the exact word instead of the whole statement."""
    locate = Locator(sources)
    symbols, found = resolve(model, locate)
    checker = _Checker(symbols, locate, found)
    for statement in model.statements:
        checker.statement(statement)
    found.extend(check_overlaps(model.statements, symbols))
    found.extend(check_groups(model, symbols, locate))
    found.extend(check_matrix(model, symbols, locate))
    found.extend(check_usage(model, symbols, locate))
    found.extend(check_test_events(model, symbols, locate))
    found.extend(check_test_times(model))
    if not has_errors(found):  # reachability reads the rule table: only of a sound model
        found.extend(check_reachability(model, symbols, locate,
                                         lower_lifecycle(model)))
    found.extend(check_accounts(model, symbols, locate,
                                lambda condition: checker.condition(condition,
                                                                    _Scope("lifecycle")),
                                checker.attribute_uses))
    if sample_contacts is not None:
        found.extend(_check_attribute_samples(checker.attribute_uses,
                                              ContactFacts.of(sample_contacts)))
    if sample_events is not None:
        events = EventFacts.of(sample_events)
        found.extend(_check_property_samples(checker.property_uses, events))
        found.extend(check_event_samples(model, locate, events))
    return sort_diagnostics(_unique(found))


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    # The same word can be reached twice (an included file's name, a nested condition).
    return list(dict.fromkeys(diagnostics))


# --------------------------------------------------------------------------- the checker


@dataclass
class _Scope:
    """How bare names of a condition read: `profile` (if/require), `where` (with the rule's
    event) or `lifecycle` (stages and triggers)."""
    kind: str
    event: str | None = None


@dataclass
class _Checker:
    symbols: Symbols
    locate: Locator
    found: list[Diagnostic]
    attribute_uses: dict[str, Span | None] = field(default_factory=dict)
    property_uses: dict[tuple[str, str], Span | None] = field(default_factory=dict)
    grades_seen: set[str] = field(default_factory=set)  # grades declared so far (10.8.8)

    # ------------------------------------------------------------------ statements

    def statement(self, statement: ast.Statement) -> None:
        match statement:
            case ast.EventRule():
                self.event_rule(statement)
            case ast.AbsenceRule():
                self.absence_rule(statement)
            case ast.ProfileRule(condition=condition, span=span):
                self.condition(condition, _Scope("profile"))
                self.points(statement.points, span)
                self.rule_score(statement.score, span)
            case ast.InactivityRule():
                self.inactivity_rule(statement)
            case ast.GroupDecl(score=score, span=span) if score is not None:
                self.score_ref(score, self.locate.after(span, "of", score), "a group's `of`")
            case ast.ActivityDecl(events=events, span=span):
                for event in events:
                    self.event_ref(event, *self.locate.event(span, event, start=len("activity")))
            case ast.MatrixGrade():
                self.matrix_grade(statement)
            case ast.Require(condition=condition):
                self.condition(condition, _Scope("profile"))
            case ast.Decay():
                self.decay(statement)
            case ast.Expire(score=score, after=after, span=span):
                self.score_ref(score, self.locate.word(span, score, start=len("expire")),
                               "`expire`")
                self.duration(after, "`expire ... after`")
            case ast.Grade():
                self.grade(statement)
            case ast.Stage(condition=condition):
                self.condition(condition, _Scope("lifecycle"))
            case ast.Trigger(condition=condition, actions=actions):
                self.condition(condition, _Scope("lifecycle"))
                for action in actions:
                    if action.kind == "reset":
                        self.score_ref(action.arg, self.locate.word(
                            action.span, action.arg, start=len("reset")), "`reset`")
            case ast.Test(steps=steps):
                for step in steps:
                    self.test_step(step)
            case ast.ScoreDecl() | ast.TimezoneDecl() | ast.EventDecl() | ast.Include() \
                    | ast.GroupDecl():
                pass  # declarations are resolve's; includes are the loader's

    def event_rule(self, rule: ast.EventRule) -> None:
        if not self.event_is_fine(rule.event):  # locating costs a regex; most names are fine
            self.event_ref(rule.event, *self.locate.event(rule.span, rule.event))
        if rule.where is not None:
            self.condition(rule.where, _Scope("where", rule.event))
        if rule.by is None:
            self.points(rule.points, rule.span)
        else:
            self.by_property(rule)
        self.rule_score(rule.score, rule.span)
        self.limit(rule.limit)

    def by_property(self, rule: ast.EventRule) -> None:
        """`by PROP [LO..HI]` (docs/language.md 10.5, 10.8.10)."""
        by = rule.by
        prop_span = self.locate.after(rule.span, "by", by.prop)
        if by.low is not None and by.high is not None and by.low > by.high:
            self.found.append(error(
                "E203", f"`by {by.prop} {by.low}..{by.high}` is an empty range", by.span
                or rule.span, hint=f"write the lower bound first: {by.high}..{by.low}"))
        self.property_uses.setdefault((rule.event, by.prop), prop_span)
        if not self.symbols.has_catalog or rule.event not in self.symbols.events:
            return
        declared = self.symbols.property_type(rule.event, by.prop)
        names = [prop.name for prop in self.symbols.events[rule.event].properties]
        if declared is None:
            self.found.append(error(
                "E105", f"event `{rule.event}` has no property `{by.prop}`", prop_span,
                hint=did_you_mean(by.prop, names)
                or f"declare it: `event {event_name(rule.event)} ({by.prop}: number)`"))
        elif declared != "number":
            self.found.append(error(
                "E201", f"property `{by.prop}` is {_KIND_PHRASES[declared]}, so `by {by.prop}` "
                "would never award points", prop_span,
                hint=f"`by` takes the points from a number: declare `{by.prop}: number`, or "
                "give the rule fixed points such as `+10`"))

    def inactivity_rule(self, rule: ast.InactivityRule) -> None:
        """docs/language.md 10.3 and 10.8.5: `at most N` counts awards per quiet spell and
        needs `every`; calendar limits are refused (the parser refuses `once`)."""
        self.duration(rule.after, "`inactive`", "E205")
        if rule.every is not None:
            self.duration(rule.every, "`every`", "E205")
        self.points(rule.points, rule.span)
        self.rule_score(rule.score, rule.span)
        limit = rule.limit
        if limit is None:
            return
        self.limit(limit)
        if limit.per is not None:
            self.found.append(error(
                "E205", f"`per {limit.per}` is not a limit of an inactivity rule", limit.span,
                hint="an inactivity rule counts its awards per quiet spell: write "
                f"`at most {limit.count}` with `every`"))
        elif rule.every is None:
            self.found.append(error(
                "E205", f"`at most {limit.count}` needs `every` on an inactivity rule",
                limit.span, hint="without `every` a quiet spell awards once; to repeat, write "
                f"e.g. `every {fmt_duration(rule.after)} at most {limit.count}`"))

    def absence_rule(self, rule: ast.AbsenceRule) -> None:
        self.event_ref(rule.event, *self.locate.event(rule.span, rule.event))
        self.event_ref(rule.missing, *self.locate.event(rule.span, rule.missing,
                                                        lead=r"(?<!\w)without\s+"))
        self.duration(rule.within, "`within`")
        self.points(rule.points, rule.span)
        self.rule_score(rule.score, rule.span)
        self.limit(rule.limit)

    def decay(self, decay: ast.Decay) -> None:
        self.score_ref(decay.score, self.locate.word(decay.span, decay.score, start=len("decay")),
                       "`decay`")
        if not 0 < decay.percent < 100:
            span = self.locate.find(decay.span, r"\d+(?:\.\d+)?%")
            self.found.append(error(
                "E204", f"decay of {decay.percent:g}% is not a percentage between 0 and 100",
                span, hint="write a percentage above 0% and below 100%, such as `10%`"))
        self.duration(decay.every, "`decay ... every`")

    # ------------------------------------------------------------------ pieces

    def points(self, points: int, span: Span | None) -> None:
        if points == 0:
            self.found.append(warning("W101", "this rule awards 0 points", self.locate.points(span),
                                      hint="give it points such as `+5`, or remove the rule"))

    def rule_score(self, score: str | None, span: Span | None) -> None:
        """A rule sends its points to a score or a group (docs/language.md 10.2)."""
        if score is not None and score not in self.symbols.groups:
            self.score_ref(score, self.locate.rule_score(span, score))

    def limit(self, limit: ast.Limit | None) -> None:
        if limit is not None and limit.count <= 0:
            self.found.append(error(
                "E205", f"`at most {limit.count}` never lets the rule award anything", limit.span,
                hint="use `at most 1` (or `once`) or more, or remove the rule"))

    def duration(self, duration: ast.Duration, what: str, code: str = "E206") -> None:
        if duration.amount <= 0:
            self.found.append(error(
                code, f"{what} needs a duration longer than 0", duration.span,
                hint="write a positive duration such as `30 days`"))

    def score_ref(self, name: str, span: Span | None,
                  scores_only: str | None = None) -> ScoreInfo | None:
        """A name that must be a score; with `scores_only` (what names it, e.g. "`decay`")
        a group is refused (E112, docs/language.md 10.8.2); otherwise a group is read as a
        number within its bounds."""
        if name in self.symbols.scores:
            return self.symbols.scores[name]
        group = self.symbols.groups.get(name)
        if group is not None:
            if scores_only is None:
                return group.bounds
            self.found.append(error(
                "E112", f"`{name}` is a group of `{group.score}`; {scores_only} names a score",
                span, hint=f"write `{group.score}` (the whole score), or remove the line: "
                "a group is decayed, expired and reset with its score"))
            return None
        scores = list(self.symbols.scores)
        if self.symbols.groups and scores_only is None:
            groups = list(self.symbols.groups)
            hint = did_you_mean(name, scores + groups) or (
                f"declared scores: {_names(scores)}; groups: {_names(groups)}")
            self.found.append(error("E102", f"unknown score or group `{name}`", span,
                                    hint=hint))
            return None
        hint = did_you_mean(name, scores) or f"declared scores: {_names(scores)}"
        self.found.append(error("E102", f"unknown score `{name}`", span, hint=hint))
        return None

    def event_is_fine(self, name: str) -> bool:
        """Whether `event_ref` would find nothing to report about `name`, wherever written."""
        if self.symbols.has_catalog:
            return name in self.symbols.events
        return name not in RESERVED

    def event_ref(self, name: str, span: Span | None, quoted: bool = False) -> None:
        if not self.symbols.has_catalog:
            if not quoted:  # a quoted event type may be any text (10.8.1)
                self.found.extend(reserved_word(name, "event", span))
            return
        if name not in self.symbols.events:
            events = list(self.symbols.events)
            written = event_name(name)
            hint = did_you_mean(name, events) or f"add `event {written}` to the catalog"
            self.found.append(error(
                "E101", f"unknown event `{written}`: it is not in the event catalog", span,
                hint=hint))

    # ------------------------------------------------------------------ grades

    def matrix_grade(self, grade: ast.MatrixGrade) -> None:
        """GRADE1 and GRADE2 are grades declared before the matrix grade (10.8.8)."""
        for name in (grade.first, grade.second):
            span = self.locate.word(grade.span, name, start=len(f"grade {grade.name} by"))
            if name in self.grades_seen:
                continue
            grades = list(self.grades_seen)
            if name in self.symbols.grades:
                hint = (f"move `grade {name}` above this line" if name != grade.name
                        else "a matrix grade combines two other grades")
                message = (f"grade `{name}` is declared after the matrix grade `{grade.name}`"
                           if name != grade.name else f"grade `{name}` cannot combine itself")
            elif name in self.symbols.scores or name in self.symbols.groups:
                message = f"`{name}` is not a grade: a matrix grade combines two grades"
                hint = (f"grade `{name}` first (`grade {name}_tier by {name}: ...`) and "
                        "combine that grade")
            else:
                message = f"unknown grade `{name}`"
                hint = did_you_mean(name, grades) or (
                    f"declared grades: {_names(grades)}" if grades else "no grade is declared "
                    "above this line")
            self.found.append(error("E103", message, span, hint=hint))
        self.grades_seen.add(grade.name)

    def grade(self, grade: ast.Grade) -> None:
        self.grades_seen.add(grade.name)
        info = self.score_ref(grade.score, self.locate.after(grade.span, "by", grade.score))
        reach = band_reach(grade, info)
        for band, (status, cause) in zip(grade.bands, reach.bands):
            threshold_span = self.locate.find(band.span, r"-?\d+(?:\.\d+)?", last=True)
            match status:
                case "out of order":
                    self.found.append(error(
                        "E202", f"grade bands must go down: `{band.label} >= {band.threshold:g}` "
                        f"comes after a band starting at {cause:g}", threshold_span,
                        hint="order the bands from the highest threshold to the lowest"))
                case "shadowed":
                    self.found.append(_unreachable_band(band.label, grade, cause,
                                                        label_span(band)))
                case "above range":
                    self.found.append(warning(
                        "W105", f"band `{band.label}` can never be reached: `{grade.score}` is "
                        f"at most {info.high}", threshold_span,
                        hint=f"lower the threshold to {info.high} or less, or remove the band"))
        if grade.otherwise is not None and reach.always is not None:
            self.found.append(_unreachable_band(
                grade.otherwise, grade, reach.always,
                self.locate.after(grade.span, "else", grade.otherwise)))

    # ------------------------------------------------------------------ conditions

    def condition(self, condition: ast.Condition, scope: _Scope) -> None:
        # Iterative, conditions may be deep; `negated` tells whether an odd number of `not`s
        # wraps a node (a comparison that never holds is then one that always holds).
        stack = [(condition, False)]
        while stack:
            node, negated = stack.pop()
            match node:
                case ast.Not(operand=operand):
                    stack.append((operand, not negated))
                case ast.And(operands=operands) | ast.Or(operands=operands):
                    if isinstance(node, ast.And) and scope.kind == "lifecycle" and not negated:
                        self.conjunction(node)
                    stack.extend((operand, negated) for operand in reversed(operands))
                case ast.Compare(ref=ref, op=op, value=value):
                    self.comparison(node, ref, op, (value,), scope, negated)
                case ast.In(ref=ref, values=values):
                    self.comparison(node, ref, "in", values, scope, negated)
                case ast.Truth(ref=ref):
                    self.comparison(node, ref, "truth", (ast.Bool(True),), scope, negated)
                case ast.Const():
                    pass

    def conjunction(self, node: ast.And) -> None:
        """W104 for `engagement >= 50 and engagement < 40`: comparisons that each can hold,
        but not together. Only direct comparisons of a score with a number are combined."""
        bounds: dict[str, tuple[float, float]] = {}
        for operand in node.operands:
            match operand:
                case ast.Compare(ref=ast.Ref(name=name, contact=False), op=op,
                                 value=ast.Number(value=number)) \
                        if self.symbols.kind_of(name) in ("score", "group"):
                    info = self.symbols.score_of(name)
                    low, high = bounds.get(name, (_or_inf(info.low, -1), _or_inf(info.high, 1)))
                    low, high = _narrow(low, high, op, number)
                    if low > high:
                        if _can_hold(op, number, info):  # else its own W104 says it all
                            self.found.append(warning(
                                "W104", f"these conditions on `{name}` can never hold "
                                "together", node.span,
                                hint=f"no value of `{name}` satisfies all of them"))
                        return
                    bounds[name] = (low, high)

    def comparison(self, node, ref: ast.Ref, op: str, values: tuple, scope: _Scope,
                   negated: bool) -> None:
        kind = self.ref_kind(ref, scope)
        if kind not in ("grade", "stage"):
            values = _read_values(values)
        match kind:
            case "score" | "group":
                self.score_comparison(node, ref, op, values, negated, kind)
            case "grade" | "stage":
                self.label_comparison(node, ref, kind, op, values, negated)
            case "property":
                self.property_comparison(node, ref, op, values, scope.event)
            case "lifecycle attribute":
                self.lifecycle_attribute(node, ref, op, values)
            case _:
                self.attribute_comparison(node, ref, op, values)

    def ref_kind(self, ref: ast.Ref, scope: _Scope) -> str:
        """What `ref` names here, reporting names read differently than the writer meant."""
        name, span = ref.name, ref.span
        self.found.extend(reserved_word(name, "attribute", span) if name != STAGE_REF else ())
        declared = self.symbols.kind_of(name)
        if ref.contact or scope.kind == "profile":
            if declared and not ref.contact:
                self.found.append(_not_here(ref, declared, "a profile attribute",
                                            "`if` and `require` see only the profile"))
            self.attribute_uses.setdefault(name, span)
            return "attribute"
        if scope.kind == "where":
            catalog_type = self.symbols.property_type(scope.event, name)
            if declared and catalog_type is None:
                self.found.append(_not_here(ref, declared, f"a property of the `{scope.event}` "
                                            "event", "in `where`, bare names are event "
                                            "properties"))
            self.property_uses.setdefault((scope.event, name), span)
            return "property"
        if declared:
            return declared
        self.attribute_uses.setdefault(name, span)
        return "lifecycle attribute"

    def score_comparison(self, node, ref, op, values, negated, kind="score") -> None:
        info = self.symbols.score_of(ref.name)
        if op == "truth":
            self.found.append(error(
                "E201", f"`{ref.name}` is a {kind}, not a yes/no value", node.span,
                hint=f"compare it with a number, such as `{ref.name} >= 50`"))
            return
        for value in values:
            if not isinstance(value, ast.Number):
                self.found.append(error(
                    "E201", f"`{ref.name}` is a {kind} and can only be compared with a number",
                    value.span or node.span, hint=f"write a number, such as `{ref.name} >= 50`"))
                return
        if negated:
            return
        ops = ("=",) * len(values) if op == "in" else (op,)
        if not any(_can_hold(o, v.value, info) for o, v in zip(ops, values)):
            self.found.append(warning(
                "W104", f"this condition can never hold: `{ref.name}` is always within "
                f"{info.describe_bounds()}", node.span,
                hint=f"check the number against the range of `{ref.name}`"))

    def label_comparison(self, node, ref, kind, op, values, negated) -> None:
        what = f"grade `{ref.name}`" if kind == "grade" else "the stage"
        if op == "truth" or op in ORDERING:
            example = self._example_label(ref.name, kind)
            self.found.append(error(
                "E201", f"{what} is a label, so it can only be compared with `is`, `=` or `in`",
                node.span, hint=f"write for example `{ref.name} is {example}`"))
            return
        labels = (self.symbols.grade_labels(ref.name) if kind == "grade"
                  else tuple(self.symbols.stages))
        possible = (possible_labels(self.symbols, ref.name) if kind == "grade"
                    else set(labels))
        digits = any(label[:1].isdigit() for label in labels)
        for value in values:
            # An unquoted number is a label (`heat is 1`, 10.4); against labels that are all
            # names it is surely a number written by mistake, and said so.
            if isinstance(value, ast.Number) and (digits or ast.label_text(value) in labels):
                value = ast.Label(ast.label_text(value), value.span)
            if not isinstance(value, (ast.Label, ast.Text)):
                self.found.append(error(
                    "E201", f"{what} is a label, not {_KIND_PHRASES[_VALUE_TYPES[type(value)]]}",
                    value.span or node.span,
                    hint=f"compare it with one of its labels: {_names(labels)}"))
                continue
            label = value.value if isinstance(value, ast.Text) else value.name
            if label not in labels:
                hint = did_you_mean(label, labels) or _labels_hint(labels)
                self.found.append(error("E104", f"{what} has no label `{label}`",
                                        value.span or node.span, hint=hint))
            elif label not in possible and not negated and op in ("=", "is", "in"):
                self.found.append(warning(
                    "W104", f"this condition can never hold: {what} is never `{label}`",
                    value.span or node.span,
                    hint=f"its band `{label}` is unreachable; see the grade's warnings"))

    def property_comparison(self, node, ref, op, values, event) -> None:
        declared_type = self.symbols.property_type(event, ref.name)
        if self.symbols.has_catalog and event in self.symbols.events and declared_type is None:
            names = [prop.name for prop in self.symbols.events[event].properties]
            hint = did_you_mean(ref.name, names) or (
                f"`{event}` has the properties {_names(names)}" if names
                else f"declare it: `event {event} ({ref.name}: text)`")
            self.found.append(error(
                "E105", f"event `{event}` has no property `{ref.name}`", ref.span, hint=hint))
            return
        self.value_types(node, ref, op, values, declared_type, f"property `{ref.name}`")

    def lifecycle_attribute(self, node, ref, op, values) -> None:
        # Compared with bare labels, a misspelled grade is already an error (E103).
        if not any(isinstance(value, ast.Label) for value in values):
            names = list(self.symbols.scores) + list(self.symbols.grades)
            close = _very_close(ref.name, names)
            if close:
                self.found.append(warning(
                    "W110", f"`{ref.name}` is not a score or grade, so it is read as a profile "
                    "attribute", ref.span, hint=close))
        self.attribute_comparison(node, ref, op, values)

    def attribute_comparison(self, node, ref, op, values) -> None:
        self.value_types(node, ref, op, values, None, f"attribute `{ref.name}`")

    def value_types(self, node, ref, op, values, declared_type, what) -> None:
        """Bare words, ordering on text, and values of the wrong catalog type."""
        for value in values:
            if isinstance(value, ast.Label):
                # A grade or the stage read as an attribute already has its warning (W109).
                if self.symbols.kind_of(ref.name) not in ("grade", "stage") or ref.contact:
                    self.found.append(self._bare_word(ref, value))
                return
        if op in ORDERING and isinstance(values[0], (ast.Text, ast.Bool)):
            self.found.append(error(
                "E201", f"`{op}` on {_VALUE_TYPES[type(values[0])]} is always false",
                node.span, hint="ordering comparisons work on numbers only; use `=` or `in`"))
            return
        if declared_type is None:
            return
        if op in ORDERING and declared_type != "number":
            self.found.append(error(
                "E201", f"{what} is {_KIND_PHRASES[declared_type]}: `{op}` on it is always false",
                node.span,
                hint="ordering comparisons work on numbers only; use `=` or `in`"))
            return
        for value in values:
            actual = _VALUE_TYPES[type(value)]
            if actual != declared_type:
                declared_phrase = _KIND_PHRASES[declared_type]
                message = (f"{what} is {declared_phrase}, not a yes/no value" if op == "truth"
                           else f"{what} is {declared_phrase}, so comparing it with "
                           f"{_KIND_PHRASES[actual]} never holds")
                self.found.append(error("E201", message, value.span or node.span,
                                        hint=_type_hint(declared_type)))
                return

    def _bare_word(self, ref: ast.Ref, value: ast.Label) -> Diagnostic:
        # Only grade and stage labels may be written bare; a bare word on anything else is
        # either a misspelled grade on the left or text that lost its quotes.
        names = list(self.symbols.grades) + [STAGE_REF]
        close = _very_close(ref.name, names)
        if close and not ref.contact:
            return error("E103", f"unknown grade `{ref.name}`", ref.span, hint=close)
        return error("E104", f"`{value.name}` is not a grade or stage label", value.span,
                     hint=f"text is written in quotes: `\"{value.name}\"`")

    def _example_label(self, name: str, kind: str) -> str:
        labels = self.symbols.grade_labels(name) if kind == "grade" else tuple(self.symbols.stages)
        return labels[0] if labels else "A"

    # ------------------------------------------------------------------ tests

    def test_step(self, step: ast.TestStep) -> None:
        match step:
            case ast.TestContact(attributes=attributes):
                for assignment in attributes:
                    self.found.extend(reserved_word(
                        assignment.name, "attribute",
                        self.locate.word(assignment.span, assignment.name)))
            case ast.TestEvent():
                self.test_event(step)
            case ast.ExpectScore(score=score, op=op, value=value, span=span):
                info = self.score_ref(score, self.locate.after(span, "expect", score))
                if info is not None and not _can_hold(op, value, info):
                    self.found.append(warning(
                        "W104", f"this expectation can never hold: `{score}` is always within "
                        f"{info.describe_bounds()}", span,
                        hint=f"check the number against the range of `{score}`"))
            case ast.ExpectLabel():
                self.expect_label(step)
            case ast.ExpectAction(kind="reset", arg=arg, span=span):
                self.score_ref(arg, self.locate.word(span, arg, last=True))
            case ast.TestNow() | ast.ExpectUnscored() | ast.ExpectAction():
                pass

    def test_event(self, step: ast.TestEvent) -> None:
        self.event_ref(step.event, *self.locate.event(step.span, step.event,
                                                      lead=event_lead(step)))
        if not self.symbols.has_catalog or step.event not in self.symbols.events:
            return
        names = [prop.name for prop in self.symbols.events[step.event].properties]
        for assignment in step.properties:
            declared = self.symbols.property_type(step.event, assignment.name)
            if declared is None:
                self.found.append(error(
                    "E105", f"event `{step.event}` has no property `{assignment.name}`",
                    self.locate.word(assignment.span, assignment.name),
                    hint=did_you_mean(assignment.name, names)
                    or f"`{step.event}` has the properties {_names(names)}"))
                continue
            actual = _VALUE_TYPES.get(type(assignment.value), "bare word")
            if actual != declared:
                self.found.append(error(
                    "E201", f"property `{assignment.name}` is {_KIND_PHRASES[declared]}, not "
                    f"{_KIND_PHRASES[actual]}",
                    assignment.value.span or assignment.span, hint=_type_hint(declared)))

    def expect_label(self, step: ast.ExpectLabel) -> None:
        name_span = self.locate.after(step.span, "expect", step.name)
        label_span_ = self.locate.word(step.span, step.label, last=True)
        if step.name == STAGE_REF:
            labels, what = tuple(self.symbols.stages), "the stage"
        elif step.name in self.symbols.grades:
            labels, what = self.symbols.grade_labels(step.name), f"grade `{step.name}`"
        else:
            grades = list(self.symbols.grades)
            self.found.append(error(
                "E103", f"unknown grade `{step.name}`", name_span,
                hint=did_you_mean(step.name, grades + [STAGE_REF])
                or (f"declared grades: {_names(grades)}" if grades else "no grade is declared")))
            return
        if step.label not in labels:
            self.found.append(error(
                "E104", f"{what} has no label `{step.label}`", label_span_,
                hint=did_you_mean(step.label, labels) or _labels_hint(labels)))


# --------------------------------------------------------------------------- helpers


def _read_values(values: tuple) -> tuple:
    """Values as a left side that is not a grade or `stage` reads them (docs/language.md
    10.8.7): a digit label is the number or text it spells (`01` is 1, `2b` is "2b")."""
    return tuple(ast.digit_label_value(v) if isinstance(v, ast.Label) and v.digits else v
                 for v in values)


def _can_hold(op: str, number: int | float, info: ScoreInfo) -> bool:
    """Whether some integer value within the score's bounds satisfies `value op number`."""
    low, high = info.low, info.high
    match op:
        case "=" | "is":
            return float(number).is_integer() and (low is None or low <= number) \
                and (high is None or number <= high)
        case "!=" | "is not":
            return not (low is not None and low == high == number)
        case "<":
            return low is None or low < number
        case "<=":
            return low is None or low <= number
        case ">":
            return high is None or high > number
        case ">=":
            return high is None or high >= number
    return True


def _unreachable_band(label: str, grade: ast.Grade, always: ast.Band,
                      span: Span | None) -> Diagnostic:
    return warning(
        "W105", f"band `{label}` of grade `{grade.name}` can never be reached", span,
        hint=f"`{always.label} >= {always.threshold:g}` already holds for every value of "
             f"`{grade.score}`; raise that threshold or remove this band")


def _not_here(ref: ast.Ref, declared: str, reading: str, why: str) -> Diagnostic:
    what = "the stage" if declared == "stage" else f"the {declared} `{ref.name}`"
    return warning(
        "W109", f"`{ref.name}` here is {reading}, not {what}", ref.span,
        hint=f"{why}; to act on {what}, use a `stage` or a `when` trigger",
    )


def _very_close(name: str, candidates) -> str | None:
    """A "did you mean" hint only for near-certain typos (`engagment`, `teir`): used where
    the name is legal as written (an attribute), so that `title` next to a grade `tier`
    is left alone."""
    match = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.75)
    return f"did you mean `{match[0]}`?" if match else None


def _or_inf(bound: int | None, sign: int) -> float:
    return float(bound) if bound is not None else sign * float("inf")


def _narrow(low: float, high: float, op: str, number: int | float) -> tuple[float, float]:
    """The integer interval [low, high] intersected with `value op number`."""
    floor, ceil = math.floor(number), math.ceil(number)
    match op:
        case "=" | "is":
            return (max(low, number), min(high, number)) if number == floor else (1.0, 0.0)
        case ">":
            return max(low, floor + 1), high
        case ">=":
            return max(low, ceil), high
        case "<":
            return low, min(high, ceil - 1)
        case "<=":
            return low, min(high, floor)
    return low, high  # `!=` removes a single value: too little to matter here


def _labels_hint(labels) -> str:
    # Only the stage can have no labels at all: a grade has at least one band.
    return f"its labels are {_names(labels)}" if labels else "no stage is declared"


def _type_hint(declared: str) -> str:
    match declared:
        case "number":
            return "write a number without quotes, such as `30`"
        case "text":
            return "write text in quotes, such as `\"long\"`"
        case _:
            return "write `true` or `false`"


def _names(names) -> str:
    names = list(names)
    return ", ".join(f"`{name}`" for name in names) if names else "none"


# --------------------------------------------------------------------------- sample data


def _check_attribute_samples(uses: dict[str, Span | None],
                             contacts: ContactFacts) -> list[Diagnostic]:
    return [warning(
        "W106", f"attribute `{name}` is never present in the sample contacts "
        f"({contacts.count} read)", span,
        hint=did_you_mean(name, contacts.present) or "conditions on it will always be false")
        for name, span in uses.items() if name not in contacts.present]


def _check_property_samples(uses: dict[tuple[str, str], Span | None],
                            events: EventFacts) -> list[Diagnostic]:
    found = []
    for (kind, name), span in uses.items():
        seen = events.props.get(kind, frozenset())
        count = events.counts.get(kind, 0)
        if name in seen or not count:  # no such event at all: W112 says so
            continue
        found.append(warning(
            "W106", f"no `{kind}` event in the sample events has a property `{name}` "
            f"({count} `{kind}` events read)", span,
            hint=did_you_mean(name, seen) or "conditions on it will always be false"))
    return found
