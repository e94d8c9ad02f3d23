"""The outline (document symbols) and the code lenses: "run test" on each test block and, with
sample data, how many contacts reach each stage."""
from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from dsl import ast
from dsl import formatter as fmt

from ..resolve import label_span
from .analysis import Analysis
from .convert import Positions

RUN_TEST = "scorelang.runTest"
_KINDS = {
    ast.ScoreDecl: types.SymbolKind.Variable,
    ast.EventDecl: types.SymbolKind.Event,
    ast.TimezoneDecl: types.SymbolKind.Property,
    ast.Require: types.SymbolKind.Property,
    ast.Include: types.SymbolKind.Module,
    ast.EventRule: types.SymbolKind.Function,
    ast.AbsenceRule: types.SymbolKind.Function,
    ast.ProfileRule: types.SymbolKind.Function,
    ast.Decay: types.SymbolKind.Operator,
    ast.Expire: types.SymbolKind.Operator,
    ast.Grade: types.SymbolKind.Enum,
    ast.MatrixGrade: types.SymbolKind.Enum,
    ast.GroupDecl: types.SymbolKind.Variable,
    ast.ActivityDecl: types.SymbolKind.Property,
    ast.InactivityRule: types.SymbolKind.Function,
    ast.Stage: types.SymbolKind.Class,
    ast.Trigger: types.SymbolKind.Event,
    ast.AccountBy: types.SymbolKind.Property,
    ast.AccountScore: types.SymbolKind.Variable,
    ast.AccountGrade: types.SymbolKind.Enum,
    ast.Test: types.SymbolKind.Method,
}
_DETAILS = {ast.ScoreDecl: "score", ast.EventDecl: "event", ast.TimezoneDecl: "time zone",
            ast.Require: "require", ast.Include: "include", ast.EventRule: "rule",
            ast.AbsenceRule: "absence rule", ast.ProfileRule: "profile rule",
            ast.Decay: "decay", ast.Expire: "expiry", ast.Grade: "grade", ast.Stage: "stage",
            ast.Trigger: "trigger", ast.Test: "test", ast.MatrixGrade: "grade",
            ast.GroupDecl: "group", ast.ActivityDecl: "activity",
            ast.InactivityRule: "inactivity rule", ast.AccountBy: "accounts",
            ast.AccountScore: "account score", ast.AccountGrade: "account grade"}


def symbols(analysis: Analysis, positions: Positions) -> list[types.DocumentSymbol]:
    found = []
    for statement in analysis.statements:
        if statement.span is None or type(statement) not in _KINDS:
            continue
        name, selection = _name(statement, analysis)
        whole = positions.range(statement.span)
        found.append(types.DocumentSymbol(
            name=name, kind=_KINDS[type(statement)], range=whole,
            selection_range=positions.range(selection) if selection else whole,
            detail=_DETAILS[type(statement)], children=_children(statement, positions)))
    return found


def _name(statement, analysis: Analysis):
    locate = analysis.locate
    match statement:
        case ast.ScoreDecl(name=name) | ast.Grade(name=name) | ast.Stage(name=name) \
                | ast.EventDecl(name=name) | ast.GroupDecl(name=name) | ast.MatrixGrade(name=name):
            keyword = _KEYWORDS[type(statement)]
            return name, locate.word(statement.span, name, start=len(keyword))
        case ast.Test(name=name):
            return name, locate.find(statement.span, r'"(?:[^"\\]|\\.)*"')
        case ast.AccountScore(name=name) | ast.AccountGrade(name=name):
            keyword = _KEYWORDS[type(statement)]
            return name, locate.word(statement.span, name, start=len(keyword))
    return fmt.statement_text(statement), None


_KEYWORDS = {ast.ScoreDecl: "score", ast.Grade: "grade", ast.MatrixGrade: "grade",
             ast.Stage: "stage", ast.EventDecl: "event", ast.GroupDecl: "group",
             ast.AccountScore: "account score", ast.AccountGrade: "account grade"}


def _children(statement, positions: Positions) -> list[types.DocumentSymbol] | None:
    if not isinstance(statement, (ast.Grade, ast.AccountGrade)):
        return None
    children = []
    for band in statement.bands:
        span = label_span(band)
        if span is not None:
            children.append(types.DocumentSymbol(
                name=band.label, kind=types.SymbolKind.EnumMember,
                range=positions.range(band.span), selection_range=positions.range(span),
                detail=f">= {fmt.number(band.threshold)}"))
    return children


# --------------------------------------------------------------------------- code lenses


@dataclass(frozen=True, slots=True)
class StageCount:
    stage: str
    reached: int
    now: int


def lenses(analysis: Analysis, positions: Positions, uri: str,
           stage_note=None) -> list[types.CodeLens]:
    """A "run test" lens on each test; `stage_note(name)` gives each stage's lens title
    (None: no lens)."""
    found = []
    for statement in analysis.statements:
        if statement.span is None:
            continue
        line = statement.span.line
        start = types.Range(positions.position(line, 1), positions.position(line, 1))
        if isinstance(statement, ast.Test):
            found.append(types.CodeLens(range=start, command=types.Command(
                title="▶ run test", command=RUN_TEST, arguments=[uri, statement.name])))
        elif isinstance(statement, ast.Stage) and stage_note is not None:
            title = stage_note(statement.name)
            if title:
                found.append(types.CodeLens(range=start, command=types.Command(
                    title=title, command="")))
    return found


def stage_title(name: str, impact) -> str | None:
    if impact is None:
        return None
    if isinstance(impact, str):
        return impact
    if isinstance(impact, Exception):
        return "sample data: the rules could not be run"
    reached, now = impact.stages.get(name, (0, 0))
    return (f"{reached:,} of {impact.contacts:,} contacts reach {name} on the sample data "
            f"({now:,} are there now)")


# --------------------------------------------------------------------------- running a test


@dataclass(frozen=True, slots=True)
class TestReport:
    name: str
    passed: bool
    text: str  # as `score test` prints it
    failures: tuple[tuple[int, str], ...] = ()  # (line, "expected ..., actual ...")

    def to_json(self) -> dict:
        return {"name": self.name, "passed": self.passed, "text": self.text,
                "failures": [{"line": line, "message": message}
                             for line, message in self.failures]}


def run_test(analysis: Analysis, name: str) -> TestReport:
    """Run one test block of the document as `score test` does, on the editor's text."""
    from runtime import Engine

    from ..review.reports import render, views
    from ..review.testing import TestRun, run_test as run_one

    tests = [s for s in analysis.statements if isinstance(s, ast.Test) and s.name == name]
    if not tests:
        return TestReport(name, False, f"no test named \"{name}\" in this file")
    table = analysis.table
    if table is None:
        errors = sum(1 for d in analysis.result.diagnostics if d.is_error)
        return TestReport(name, False, f"the model has {errors} error(s): fix them to run "
                                       f"\"{name}\"")
    grades = {s.name: s.score for s in analysis.result.model.statements
              if isinstance(s, ast.Grade)}
    outcome = run_one(tests[0], Engine(table), True, grades)
    text = render("test", views.test_view(TestRun((outcome,))))
    failures = tuple((_line(e.at), f"{e.text}: expected {e.expected}, actual {e.actual}")
                     for e in outcome.failures)
    return TestReport(name, outcome.passed, text, failures)


def _line(at: str) -> int:
    # `file:line:col`; a file name may hold colons itself.
    parts = at.rsplit(":", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else 0
