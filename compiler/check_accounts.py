"""Checks of the account statements (docs/language.md 10.6, 10.8.11-14).

Account scores and account grades form a namespace of their own (10.8.13): an account score
may be called like a contact grade, and `account grade ... by` names an account score, never
a contact's score. Aggregates read the members' scores and groups; their conditions read as a
trigger's do (scores, groups, grades, `stage`, then profile attributes), so they are checked
by `compiler.check`'s lifecycle reading, given here as `check_condition`.
"""
from __future__ import annotations

from typing import Callable

from dsl import ast
from dsl.diagnostics import Diagnostic, did_you_mean, error, warning
from dsl.source import Span

from .resolve import Locator, Symbols, label_span, reserved_word

ConditionCheck = Callable[[ast.Condition], None]
# The codes reported here besides those `compiler.check` reports anyway (docs/diagnostics.md).
ACCOUNT_CODES = ("E120", "E121", "W120")


def check_accounts(model: ast.Model, symbols: Symbols, locate: Locator,
                   check_condition: ConditionCheck,
                   attribute_uses: dict[str, Span | None]) -> list[Diagnostic]:
    """Diagnostics of every account statement; the `account by` attribute is recorded in
    `attribute_uses` so that sample contacts that never carry it get W106."""
    statements = [s for s in model.statements
                  if isinstance(s, (ast.AccountBy, ast.AccountScore, ast.AccountGrade))]
    if not statements:
        return []
    found: list[Diagnostic] = []
    groups = _groups(model, symbols)
    declared = _declare(statements, locate, found)
    by = next((s for s in statements if isinstance(s, ast.AccountBy)), None)
    for statement in statements:
        match statement:
            case ast.AccountBy(attribute=attribute, span=span):
                word = locate.word(span, attribute, start=len("account by"))
                found.extend(reserved_word(attribute, "attribute", word))
                attribute_uses.setdefault(attribute, word)
            case ast.AccountScore():
                _aggregate(statement, symbols, groups, declared, locate, found)
                for condition in (statement.condition, statement.where):
                    if condition is not None:
                        check_condition(condition)
                        found.extend(_account_names_read(condition, symbols, groups, declared))
            case ast.AccountGrade():
                _grade(statement, symbols, groups, declared, locate, found)
        if by is None and not isinstance(statement, ast.AccountBy):
            found.append(error(
                "E120", "account statements need `account by ATTR` to say which profile "
                "attribute names a contact's account", _keyword_span(statement),
                hint="add e.g. `account by company_domain` above the account scores"))
    return found


def _groups(model: ast.Model, symbols: Symbols) -> set[str]:
    known = getattr(symbols, "groups", None)
    if known is not None:
        return set(known)
    return {s.name for s in model.statements if isinstance(s, ast.GroupDecl)}


def _keyword_span(statement) -> Span | None:
    span = statement.span
    if span is None:
        return None
    return Span(span.file, span.line, span.column, span.line, span.column + len("account"))


def _declare(statements, locate: Locator, found: list[Diagnostic]) -> dict[str, str]:
    """Account score and grade names (E107 for one declared twice, `account by` twice)."""
    declared: dict[str, str] = {}
    spans: dict[str, Span | None] = {}
    by_span = None
    for statement in statements:
        if isinstance(statement, ast.AccountBy):
            if by_span is not None:
                found.append(error(
                    "E107", "`account by` is declared twice", statement.span,
                    hint="a contact belongs to one account: keep one `account by` line",
                    notes=(f"first declared at {by_span}",)))
            else:
                by_span = statement.span
            continue
        kind = "account score" if isinstance(statement, ast.AccountScore) else "account grade"
        span = locate.word(statement.span, statement.name, start=len(kind))
        found.extend(reserved_word(statement.name, kind, span))  # `stage` is allowed here
        if statement.name in declared:
            other = declared[statement.name]
            message = (f"{kind} `{statement.name}` is declared twice" if other == kind else
                       f"{kind} `{statement.name}` has the same name as the {other} "
                       f"`{statement.name}`")
            found.append(error("E107", message, span,
                               hint="account scores and account grades need distinct names",
                               notes=(f"first declared at {spans[statement.name]}",)))
            continue
        declared[statement.name] = kind
        spans[statement.name] = span
    return declared


def _aggregate(statement: ast.AccountScore, symbols: Symbols, groups: set[str],
               declared: dict[str, str], locate: Locator, found: list[Diagnostic]) -> None:
    if statement.aggregate == "count":
        return
    name = statement.score
    if name in symbols.scores or name in groups:
        return
    span = locate.after(statement.span, "of", name)
    what = f"`{statement.aggregate} of`"
    if name in symbols.grades or name == "stage":
        kind = "the stage" if name == "stage" else f"a grade"
        found.append(error(
            "E201", f"`{name}` is {kind}, and {what} adds up numbers: it reads a score or a "
            "group", span, hint=f"count the members instead: `count where {name} is ...`"))
        return
    candidates = list(symbols.scores) + sorted(groups)
    hint = did_you_mean(name, candidates) or f"declared scores: {_names(symbols.scores)}"
    if declared.get(name) == "account score":
        hint = (f"`{name}` is an account score; {what} reads the members' own scores "
                f"({_names(symbols.scores)})")
    found.append(error("E102", f"unknown score `{name}`", span, hint=hint))


def _grade(grade: ast.AccountGrade, symbols: Symbols, groups: set[str],
           declared: dict[str, str], locate: Locator, found: list[Diagnostic]) -> None:
    span = locate.after(grade.span, "by", grade.score)
    if declared.get(grade.score) != "account score":
        scores = [name for name, kind in declared.items() if kind == "account score"]
        if grade.score in symbols.scores or grade.score in groups:
            message = (f"`{grade.score}` is a contact's score: an account grade reads an "
                       "account score")
            hint = (f"declare `account score {grade.score}_total = sum of {grade.score}` "
                    "and grade that")
        else:
            message = f"unknown account score `{grade.score}`"
            hint = did_you_mean(grade.score, scores) or (
                f"declared account scores: {_names(scores)}" if scores
                else "declare one first, e.g. `account score heat = sum of engagement`")
        found.append(error("E121", message, span, hint=hint))
    previous = None
    for band in grade.bands:
        found.extend(reserved_word(band.label, "label", label_span(band)))
        if previous is not None and band.threshold > previous:
            found.append(error(
                "E202", f"grade bands must go down: `{band.label} >= {band.threshold:g}` comes "
                f"after a band starting at {previous:g}",
                locate.find(band.span, r"-?\d+(?:\.\d+)?", last=True),
                hint="order the bands from the highest threshold to the lowest"))
        elif previous is not None and band.threshold == previous:
            found.append(warning(
                "W105", f"band `{band.label}` of account grade `{grade.name}` can never be "
                "reached", label_span(band),
                hint=f"the band before it already holds from {previous:g}; lower this "
                "threshold or remove the band"))
        previous = band.threshold if previous is None else min(previous, band.threshold)
    labels = [band.label for band in grade.bands]
    for index, label in enumerate(labels):
        if label in labels[:index]:
            found.append(error(
                "E107", f"label `{label}` appears twice in account grade `{grade.name}`",
                label_span(grade.bands[index]), hint="give each band its own label"))


def _account_names_read(condition: ast.Condition, symbols: Symbols, groups: set[str],
                        declared: dict[str, str]) -> list[Diagnostic]:
    """W120: an account score's or grade's name in a member's condition reads a profile
    attribute of that name (10.8.11), which is surely not what was meant."""
    found = []
    for node in ast.walk_condition(condition):
        ref = getattr(node, "ref", None)
        if ref is None or ref.contact or ref.name not in declared:
            continue
        if symbols.kind_of(ref.name) is not None or ref.name in groups:
            continue  # a contact's score or grade of that name is what is read
        kind = declared[ref.name]
        found.append(warning(
            "W120", f"`{ref.name}` is an {kind}, but this condition is about each member: it "
            f"reads a profile attribute `{ref.name}`", ref.span,
            hint="a member's condition reads its scores, groups, grades, `stage` and profile; "
                 f"to act on the account's `{ref.name}`, read the accounts output"))
    return found


def _names(names) -> str:
    names = list(names)
    return ", ".join(f"`{n}`" for n in names) if names else "none"
