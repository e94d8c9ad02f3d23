"""Name resolution: what every name in a model stands for.

`resolve(model)` builds the symbol table — scores (with the implicit `score` when none is
declared), grades and their labels, stages in lifecycle order, the event catalog and its
properties, the time zone — and reports what is wrong with the declarations themselves:
duplicates (E107), reserved words (E108), unknown time zones (E111), empty ranges (E203).
Uses of names are checked in `compiler.check`, which starts from this table.

The AST keeps one span per statement and per condition node, but no span per declared name;
`Locator` finds the exact word in the source text so a diagnostic underlines `engagment`,
not the whole line. Without the source it falls back to the statement's span.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping

from dsl import ast
from dsl.diagnostics import Diagnostic, did_you_mean, error
from dsl.source import SourceFile, Span

# docs/language.md section 1. `score`, `stage` and `contact` are keywords only in some places.
RESERVED = frozenset("""
    after and any at by decay each else event every expect expire false grade if in include is
    most no not notify now once or per require reset tag target test time timezone true
    unscored when where with within without""".split())

DEFAULT_SCORE = "score"
DEFAULT_TIMEZONE = "UTC"
# In conditions `stage` always means the contact's lifecycle stage.
STAGE_REF = "stage"


# --------------------------------------------------------------------------- locating words


class Locator:
    """Finds a word or pattern inside a span, in the source text of the span's file."""

    def __init__(self, sources: Mapping[str, SourceFile] | None = None) -> None:
        self.sources = dict(sources or {})

    def find(self, span: Span | None, pattern: str, *, group: int = 0, start: int = 0,
             last: bool = False) -> Span | None:
        """The span of the first (or last) match of `pattern` inside `span`, searching from
        `start` characters after the span's start; `span` itself when nothing matches."""
        if span is None:
            return None
        source = self.sources.get(span.file)
        if source is None:
            return span
        regex = _compile(pattern)
        found = None
        for line in range(span.line, span.end_line + 1):
            text = source.line_text(line)
            begin = span.column - 1 + start if line == span.line else 0
            end = span.end_column - 1 if line == span.end_line else len(text)
            for match in regex.finditer(text, begin, max(begin, end)):
                found = Span(span.file, line, match.start(group) + 1, line, match.end(group) + 1)
                if not last:
                    return found
        return found or span

    def word(self, span: Span | None, word: str, *, start: int = 0,
             last: bool = False) -> Span | None:
        return self.find(span, rf"(?<!\w){re.escape(word)}(?!\w)", start=start, last=last)

    def after(self, span: Span | None, keyword: str, word: str) -> Span | None:
        """`word` written right after `keyword` (`by fit`, `without email_open`)."""
        return self.find(span, rf"(?<!\w){keyword}\s+({re.escape(word)})(?!\w)", group=1)

    def points(self, span: Span | None) -> Span | None:
        # Points come after any condition, and conditions never write a `+`: the last signed
        # integer of the statement is its points.
        return self.find(span, r"(?<![\w.])[+-]\d+(?![\d.])", last=True)

    def rule_score(self, span: Span | None, score: str) -> Span | None:
        # After the points (`+5 fit`), after `by PROP` (`by points fit`) or after an
        # inactivity rule's points (`inactive 30 days -5 fit`).
        return self.find(span, rf"(?:[+-]\d+|(?<!\w)by\s+[^\W\d]\w*)\s+({re.escape(score)})(?!\w)",
                         group=1, last=True)

    def event(self, span: Span | None, name: str, *, lead: str = "",
              start: int = 0) -> tuple[Span | None, bool]:
        """Where the event type `name` is written in `span` (the first one, or the first
        right after the regex `lead`, such as `without\\s+`), and whether it is written in
        quotes (10.1): a quoted name may be a reserved word. The span of a quoted name
        includes its quotes."""
        if span is None:
            return None, not _plain(name)
        source = self.sources.get(span.file)
        if source is None:
            return span, not _plain(name)
        text = source.line_text(span.line)
        end = span.end_column - 1 if span.end_line == span.line else len(text)
        match = _event_pattern(lead, name).search(text, span.column - 1 + start, max(0, end))
        if match is None:
            return span, not _plain(name)
        group = 1 if match.group(1) is not None else 2
        found = Span(span.file, span.line, match.start(group) + 1, span.line,
                     match.end(group) + 1)
        return found, group == 1


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern:
    return re.compile(pattern)


@lru_cache(maxsize=8192)
def _event_pattern(lead: str, name: str) -> re.Pattern:
    # one per event name of a model: a 2,000-line model names ~2,000 (the editor checks it on
    # every keystroke, docs/editors.md)
    quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return re.compile(rf"{lead}(?:({re.escape(quoted)})|(?<!\w)({re.escape(name)})(?!\w))")


_PLAIN = re.compile(r"[^\W\d]\w*")


def _plain(name: str) -> bool:
    return bool(_PLAIN.fullmatch(name))


# --------------------------------------------------------------------------- symbols


@dataclass(frozen=True)
class ScoreInfo:
    name: str
    low: int | None
    high: int | None
    declaration: ast.ScoreDecl | None  # None for the implicit score

    def describe_bounds(self) -> str:
        low = "" if self.low is None else str(self.low)
        high = "" if self.high is None else str(self.high)
        return f"{low}..{high}"


@dataclass(frozen=True)
class GroupInfo:
    """A group of a score (docs/language.md 10.2): its value is always within [low, high]."""
    name: str
    score: str  # resolved: the default score when `of` is omitted
    low: int | None
    high: int | None
    declaration: ast.GroupDecl

    @property
    def span(self) -> Span | None:
        return self.declaration.span

    @property
    def bounds(self) -> ScoreInfo:
        """The group's range as a ScoreInfo, for the checks that reason about ranges."""
        return ScoreInfo(self.name, self.low, self.high, None)


@dataclass
class Symbols:
    scores: dict[str, ScoreInfo] = field(default_factory=dict)
    default_score: str = DEFAULT_SCORE
    groups: dict[str, GroupInfo] = field(default_factory=dict)
    grades: dict[str, ast.Grade | ast.MatrixGrade] = field(default_factory=dict)
    stages: dict[str, ast.Stage] = field(default_factory=dict)  # in lifecycle order
    events: dict[str, ast.EventDecl] = field(default_factory=dict)
    activity: ast.ActivityDecl | None = None
    timezone: str = DEFAULT_TIMEZONE

    @property
    def has_catalog(self) -> bool:
        """Once any `event` is declared, every event and property used must be declared."""
        return bool(self.events)

    def grade_labels(self, grade: str, _visiting=frozenset()) -> tuple[str, ...]:
        """Every label the grade is declared with (a matrix grade without buckets: every
        cell of its two grades' labels)."""
        declaration = self.grades[grade]
        if isinstance(declaration, ast.MatrixGrade):
            if declaration.buckets:
                labels = [bucket.label for bucket in declaration.buckets]
            else:
                labels = [a + b for a, b in self.matrix_pairs(declaration,
                                                              _visiting | {grade})]
        else:
            labels = [band.label for band in declaration.bands]
        if declaration.otherwise is not None:
            labels.append(declaration.otherwise)
        return tuple(dict.fromkeys(labels))

    def matrix_pairs(self, grade: ast.MatrixGrade, _visiting=frozenset()) -> list:
        """The (GRADE1 label, GRADE2 label) pairs of a matrix grade's declared labels."""
        sides = []
        for name in (grade.first, grade.second):
            if name not in self.grades or name == grade.name or name in _visiting:
                return []
            sides.append(self.grade_labels(name, _visiting | {grade.name}))
        return [(a, b) for a in sides[0] for b in sides[1]]

    def score_of(self, name: str) -> ScoreInfo | None:
        """The range of a score, or of a group read as a number (10.2)."""
        if name in self.scores:
            return self.scores[name]
        if name in self.groups:
            return self.groups[name].bounds
        return None

    def kind_of(self, name: str) -> str | None:
        """What a bare name in a stage or trigger condition means (docs/language.md 4 and
        10.2: a score, a group, a grade, `stage`)."""
        if name in self.scores:
            return "score"
        if name in self.groups:
            return "group"
        if name in self.grades:
            return "grade"
        if name == STAGE_REF:
            return "stage"
        return None

    def property_type(self, event: str, name: str) -> str | None:
        declaration = self.events.get(event)
        if declaration is None:
            return None
        for prop in declaration.properties:
            if prop.name == name:
                return prop.type
        return None


def resolve(model: ast.Model, locate: Locator | None = None) -> tuple[Symbols, list[Diagnostic]]:
    """The symbol table of `model` and the diagnostics about its declarations."""
    locate = locate or Locator()
    symbols = Symbols()
    found: list[Diagnostic] = []
    first_seen: dict[tuple[str, str], Span | None] = {}

    def declare(kind: str, name: str, span: Span | None, reserved: bool = True) -> bool:
        """Records a declaration; False (and E107) when the name is already taken.
        `reserved=False` skips the reserved-word check (a quoted event type, 10.8.1)."""
        clash = _clash(kind, name, first_seen)
        if clash is not None:
            other_kind, other_span = clash
            found.append(_duplicate(kind, name, other_kind, span, other_span))
            return False
        first_seen[(kind, name)] = span
        if kind in ("score", "group", "grade", "stage", "event") and reserved:
            found.extend(reserved_word(name, kind, span))
        return True

    groups: list[tuple[ast.GroupDecl, Span | None]] = []

    for statement in model.statements:
        match statement:
            case ast.ScoreDecl(name=name, span=span):
                name_span = locate.word(span, name, start=len("score"))
                found.extend(_check_range(statement, locate))
                if declare("score", name, name_span):
                    symbols.scores[name] = ScoreInfo(name, statement.low, statement.high,
                                                     statement)
            case ast.GroupDecl(name=name, span=span):
                name_span = locate.word(span, name, start=len("group"))
                found.extend(_check_group_bounds(statement, name_span, locate))
                if declare("group", name, name_span):
                    groups.append((statement, name_span))
            case ast.ActivityDecl(span=span):
                if declare("activity", "activity", span):
                    symbols.activity = statement
            case ast.Grade(name=name, span=span):
                if declare("grade", name, locate.word(span, name, start=len("grade"))):
                    symbols.grades[name] = statement
                found.extend(_check_labels(statement, locate))
            case ast.MatrixGrade(name=name, span=span):
                if declare("grade", name, locate.word(span, name, start=len("grade"))):
                    symbols.grades[name] = statement
                found.extend(_check_buckets(statement, locate))
            case ast.Stage(name=name, span=span):
                if declare("stage", name, locate.word(span, name, start=len("stage"))):
                    symbols.stages[name] = statement
            case ast.EventDecl(name=name, span=span):
                name_span, quoted = locate.event(span, name, start=len("event"))
                if declare("event", name, name_span, reserved=not quoted):
                    symbols.events[name] = statement
                found.extend(_check_properties(statement, locate))
            case ast.TimezoneDecl(zone=zone, span=span):
                if declare("timezone", "timezone", span):
                    symbols.timezone = zone
                found.extend(check_timezone(zone, locate.find(span, r'"(?:[^"\\]|\\.)*"')))
            case ast.Decay(score=score, span=span):
                declare("decay", score, locate.word(span, score, start=len("decay")))
            case ast.Expire(score=score, span=span):
                declare("expire", score, locate.word(span, score, start=len("expire")))

    if not symbols.scores:
        symbols.scores[DEFAULT_SCORE] = ScoreInfo(DEFAULT_SCORE, None, None, None)
        # A grade or stage called `score` would hide the implicit default score.
        for kind in ("grade", "stage"):
            if (kind, DEFAULT_SCORE) in first_seen:
                found.append(error(
                    "E107", f"the {kind} `score` has the name of the default score",
                    first_seen[(kind, DEFAULT_SCORE)],
                    hint=f"rename the {kind}; with no `score` declaration, `score` names "
                         "the model's only score"))
    symbols.default_score = next(iter(symbols.scores))
    for group, _ in groups:
        # The default score is the first declared one, wherever it stands in the file.
        symbols.groups[group.name] = GroupInfo(group.name, group.score or symbols.default_score,
                                               group.low, group.high, group)
    return symbols, found


# Kinds of declaration that share one namespace: a grade named like a score would make
# `fit >= 10` ambiguous, a stage named like a grade would make `stage is tier` confusing.
_NAMESPACES = {"score": "names", "group": "names", "grade": "names", "stage": "names",
               "event": "events", "timezone": "timezone", "activity": "activity",
               "decay": "decay", "expire": "expire"}


def _clash(kind: str, name: str, seen: dict) -> tuple[str, Span | None] | None:
    for (other_kind, other_name), span in seen.items():
        if other_name == name and _NAMESPACES[other_kind] == _NAMESPACES[kind]:
            return other_kind, span
    return None


def _duplicate(kind: str, name: str, other_kind: str, span, other_span) -> Diagnostic:
    where = f"first declared at {other_span}" if other_span else "first declared earlier"
    match kind:
        case "timezone":
            message = "the time zone is declared twice"
            hint = "keep one `timezone` line"
        case "activity":
            message = "`activity` is declared twice"
            hint = "list every activity event in one `activity` line"
        case "decay" | "expire":
            message = f"`{kind} {name}` is declared twice"
            hint = f"keep one `{kind}` line for `{name}`"
        case _ if kind == other_kind:
            message = f"{kind} `{name}` is declared twice"
            hint = "remove one declaration or rename it"
        case _:
            message = f"{kind} `{name}` has the same name as the {other_kind} `{name}`"
            names = ("scores, groups, grades and stages" if "group" in (kind, other_kind)
                     else "scores, grades and stages")
            hint = f"rename the {kind}: {names} need distinct names"
    return error("E107", message, span, hint=hint, notes=(where,))


def reserved_word(name: str, kind: str, span: Span | None) -> list[Diagnostic]:
    """E108 when a keyword (or `stage`, which conditions use for the lifecycle) is a name."""
    if name in RESERVED:
        hint = f"choose another name, such as `{name}_{kind}`"
        if kind == "event":  # docs/language.md 10.1: an event type in quotes may be any text
            hint = f"write it in quotes, `\"{name}\"`, or choose another name"
        return [error("E108", f"`{name}` is a reserved word and cannot name {_a(kind)}", span,
                      hint=hint)]
    if name == STAGE_REF and kind in ("score", "group", "grade", "attribute"):
        return [error("E108", f"`stage` cannot name {_a(kind)}: in conditions it means the "
                      "contact's lifecycle stage", span,
                      hint=f"choose another name, such as `stage_{kind}`")]
    return []


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _check_range(declaration: ast.ScoreDecl, locate: Locator) -> list[Diagnostic]:
    low, high = declaration.low, declaration.high
    if low is not None and high is not None and low > high:
        span = locate.find(declaration.span, r"-?\d+\.\.-?\d+")
        return [error("E203", f"score `{declaration.name}` has an empty range {low}..{high}",
                      span, hint=f"write the lower bound first: {high}..{low}")]
    return []


def _check_labels(grade: ast.Grade, locate: Locator) -> list[Diagnostic]:
    found = []
    seen: dict[str, Span | None] = {}
    for band in grade.bands:
        span = label_span(band)
        found.extend(reserved_word(band.label, "label", span))
        if band.label in seen:
            found.append(error(
                "E107", f"label `{band.label}` appears twice in grade `{grade.name}`", span,
                hint="give each band its own label",
                notes=(f"first used at {seen[band.label]}",)))
        seen.setdefault(band.label, span)
    if grade.otherwise is not None:
        found.extend(reserved_word(grade.otherwise, "label",
                                   locate.after(grade.span, "else", grade.otherwise)))
    return found


def _check_group_bounds(group: ast.GroupDecl, name_span: Span | None,
                        locate: Locator) -> list[Diagnostic]:
    """E203: a group has at least one bound, and `min` <= `max` (docs/language.md 10.2)."""
    low, high = group.low, group.high
    if low is None and high is None:
        return [error("E203", f"group `{group.name}` has no bound", name_span,
                      hint=f"give it a cap, such as `group {group.name} max 40`; a part of a "
                      "score without a bound needs no group")]
    if low is not None and high is not None and low > high:
        span = locate.find(group.span, r"(?<!\w)min\s+-?\d+")
        return [error("E203", f"group `{group.name}` has an empty range: min {low} is above "
                      f"max {high}", span, hint=f"write `min {high} max {low}`")]
    return []


def _check_buckets(grade: ast.MatrixGrade, locate: Locator) -> list[Diagnostic]:
    """E107: a cell in two buckets, a bucket label used twice; E108 for reserved labels."""
    found = []
    cells: dict[str, ast.Bucket] = {}
    labels: dict[str, ast.Bucket] = {}
    for bucket in grade.buckets:
        label = locate.word(bucket.span, bucket.label)
        found.extend(reserved_word(bucket.label, "label", label))
        if bucket.label in labels:
            found.append(error(
                "E107", f"bucket `{bucket.label}` appears twice in grade `{grade.name}`", label,
                hint="list all its cells in one bucket",
                notes=(f"first used at {labels[bucket.label].span}",)))
        labels.setdefault(bucket.label, bucket)
        for index, cell in enumerate(bucket.cells):
            span = locate.word(bucket.span, cell, start=len(bucket.label))
            if cell in cells:
                first = cells[cell]
                where = "this bucket" if first is bucket else f"bucket `{first.label}`"
                found.append(error(
                    "E107", f"cell `{cell}` is listed twice in grade `{grade.name}`", span,
                    hint=f"it is already in {where}: keep it in one bucket (the first one "
                    "listing a cell would win)", notes=(f"first listed at {first.span}",)))
                continue
            cells[cell] = bucket
    if grade.otherwise is not None:
        found.extend(reserved_word(grade.otherwise, "label",
                                   locate.after(grade.span, "else", grade.otherwise)))
    return found


def label_span(band: ast.Band) -> Span | None:
    # A band is written `LABEL >= N`: the label starts the band's span.
    span = band.span
    if span is None:
        return None
    return Span(span.file, span.line, span.column, span.line, span.column + len(band.label))


def _check_properties(event: ast.EventDecl, locate: Locator) -> list[Diagnostic]:
    found = []
    seen: dict[str, Span | None] = {}
    for prop in event.properties:
        span = locate.word(prop.span, prop.name)
        found.extend(reserved_word(prop.name, "property", span)
                     if prop.name in RESERVED else [])
        if prop.name in seen:
            found.append(error(
                "E107", f"property `{prop.name}` is declared twice for event `{event.name}`",
                span, hint="remove one of them", notes=(f"first declared at {seen[prop.name]}",)))
        seen.setdefault(prop.name, span)
        if prop.type not in ast.PROPERTY_TYPES:
            type_span = locate.word(prop.span, prop.type, last=True)
            found.append(error(
                "E106", f"unknown property type `{prop.type}`", type_span,
                hint=did_you_mean(prop.type, ast.PROPERTY_TYPES)
                or "a property is a `number`, `text` or `bool`"))
    return found


# --------------------------------------------------------------------------- time zones


def check_timezone(zone: str, span: Span | None) -> list[Diagnostic]:
    if _zone_exists(zone):
        return []
    zones = _all_zones()
    by_case = {name.lower(): name for name in zones}
    if zone.lower() in by_case:
        hint = f"did you mean `{by_case[zone.lower()]}`? (time zone names are case-sensitive)"
    else:
        hint = did_you_mean(zone, zones) or "use an IANA name such as \"Europe/Berlin\""
    return [error("E111", f"unknown time zone \"{zone}\"", span, hint=hint)]


def _zone_exists(zone: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@lru_cache(maxsize=1)
def _all_zones() -> tuple[str, ...]:
    from zoneinfo import available_timezones

    return tuple(sorted(available_timezones()))
