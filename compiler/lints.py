"""Lints over whole rules and grades: unreachable bands, rules that repeat or undo each
other, declarations nothing uses. Pure functions of the model and its symbol table."""
from __future__ import annotations

from dataclasses import dataclass

from dsl import ast
from dsl.diagnostics import Diagnostic, warning

from .resolve import RESERVED, Locator, ScoreInfo, Symbols


# --------------------------------------------------------------------------- grade bands


@dataclass
class BandReach:
    """For each band: ("ok" | "out of order" | "shadowed" | "above range", cause), where the
    cause is the lowest earlier threshold (out of order) or the band that always holds."""
    bands: list[tuple[str, object]]
    always: ast.Band | None  # the first band that holds for every value of the score
    labels: set[str]  # the labels the grade can actually produce


def band_reach(grade: ast.Grade, info: ScoreInfo | None) -> BandReach:
    lowest: float | None = None
    always: ast.Band | None = None
    bands: list[tuple[str, object]] = []
    labels: set[str] = set()
    for band in grade.bands:
        if lowest is not None and band.threshold >= lowest:
            bands.append(("out of order", lowest))
            continue
        lowest = band.threshold
        if always is not None:
            bands.append(("shadowed", always))
        elif info is not None and info.high is not None and band.threshold > info.high:
            bands.append(("above range", None))
        else:
            bands.append(("ok", None))
            labels.add(band.label)
            if info is not None and info.low is not None and band.threshold <= info.low:
                always = band
    if grade.otherwise is not None and always is None:
        labels.add(grade.otherwise)
    return BandReach(bands, always, labels)


# --------------------------------------------------------------------------- rules


def check_overlaps(statements, symbols: Symbols) -> list[Diagnostic]:
    """W102 for a rule that repeats an earlier one, W103 for one that takes back its points."""
    found = []
    earlier: dict[tuple, list[ast.Statement]] = {}
    for statement in statements:
        key = _match_key(statement, symbols)
        if key is None:
            continue
        for other in earlier.get(key, ()):
            diagnostic = _overlap(statement, other)
            if diagnostic is not None:
                found.append(diagnostic)
                break
        earlier.setdefault(key, []).append(statement)
    return found


def _match_key(statement, symbols: Symbols) -> tuple | None:
    """What a rule matches and which score it feeds; equal keys award on the same events."""
    match statement:
        case ast.EventRule(event=event, targets=targets, where=where, score=score):
            return ("event", event, _targets_key(targets), where,
                    score or symbols.default_score)
        case ast.AbsenceRule():
            return ("absence", statement.event, _targets_key(statement.targets),
                    statement.missing, (statement.missing_targets.items,
                                        statement.missing_targets.any),
                    statement.within.seconds, statement.score or symbols.default_score)
        case ast.ProfileRule(condition=condition, score=score):
            return ("profile", condition, score or symbols.default_score)
    return None


def _targets_key(targets: ast.Targets) -> tuple:
    # Nothing written and `any` match the same events (docs/language.md 9.7); order is irrelevant.
    return () if targets.any else tuple(sorted(set(targets.items)))


def _limit_key(statement) -> tuple | None:
    limit = getattr(statement, "limit", None)
    return None if limit is None else (limit.count, limit.per)


def _overlap(statement, other) -> Diagnostic | None:
    span = statement.span
    note = f"the other rule is at {other.span}" if other.span else "the other rule is earlier"
    if (statement.points > 0) != (other.points > 0) and statement.points and other.points:
        return warning(
            "W103", f"this rule ({statement.points:+d}) contradicts another rule "
            f"({other.points:+d}) for exactly the same events", span,
            hint="both apply and cancel each other out; keep the one you mean",
            notes=(note,))
    if _limit_key(statement) == _limit_key(other):
        return warning(
            "W102", "this rule repeats another rule for exactly the same events", span,
            hint=f"both apply, so the points add up to {statement.points + other.points:+d}; "
                 "merge them into one rule", notes=(note,))
    return None


# --------------------------------------------------------------------------- usage


def check_usage(model: ast.Model, symbols: Symbols, locate: Locator) -> list[Diagnostic]:
    """W107 for a score no rule awards, W108 for a catalog event no rule uses. Declarations
    from included files are shared by many models, so only the model's own file is checked."""
    awarded, used = set(), set()
    for statement in model.statements:
        match statement:
            case ast.EventRule(event=event, score=score):
                awarded.add(score or symbols.default_score)
                used.add(event)
            case ast.ProfileRule(score=score):
                awarded.add(score or symbols.default_score)
            case ast.AbsenceRule(event=event, missing=missing, score=score):
                awarded.add(score or symbols.default_score)
                used.update((event, missing))
    found = []
    # A rule naming an unknown score (E102) was surely meant for a declared one.
    misspelled = bool(awarded - set(symbols.scores))
    for name, info in symbols.scores.items():
        declaration = info.declaration
        if declaration is None or name in awarded or misspelled or name in RESERVED \
                or not _own(declaration, model):
            continue
        found.append(warning(
            "W107", f"no rule awards points to score `{name}`",
            locate.word(declaration.span, name, start=len("score")),
            hint=f"add a rule such as `visit pricing +10 {name}`, or remove the score"))
    for name, declaration in symbols.events.items():
        if name in used or name in RESERVED or not _own(declaration, model):
            continue
        found.append(warning(
            "W108", f"event `{name}` is declared but no rule uses it",
            locate.word(declaration.span, name, start=len("event")),
            hint="remove it from the catalog, or add a rule for it"))
    return found


def _own(declaration, model: ast.Model) -> bool:
    return declaration.span is None or declaration.span.file == model.file
