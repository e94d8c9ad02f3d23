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


def possible_labels(symbols: Symbols, grade: str, _visiting: frozenset = frozenset()) -> set:
    """The labels a grade can actually give (a matrix grade: from what its two grades can
    give). Unknown or circular references give the declared labels, so that nothing is
    reported as impossible on a guess."""
    declaration = symbols.grades[grade]
    if isinstance(declaration, ast.Grade):
        return band_reach(declaration, symbols.score_of(declaration.score)).labels
    cells = _possible_cells(symbols, declaration, _visiting | {grade})
    if cells is None:
        return set(symbols.grade_labels(grade))
    if not declaration.buckets:
        return set(cells)
    listed = {cell for bucket in declaration.buckets for cell in bucket.cells}
    labels = {bucket.label for bucket in declaration.buckets if set(bucket.cells) & set(cells)}
    if declaration.otherwise is not None and set(cells) - listed:
        labels.add(declaration.otherwise)
    return labels


def _possible_cells(symbols: Symbols, grade: ast.MatrixGrade, visiting: frozenset):
    """cell text -> [(label1, label2), ...] for every pair the two grades can give; None when
    a side is not a usable grade."""
    sides = []
    for name in (grade.first, grade.second):
        if name not in symbols.grades or name in visiting:
            return None
        sides.append(sorted(possible_labels(symbols, name, visiting)))
    cells: dict[str, list[tuple[str, str]]] = {}
    for a in sides[0]:
        for b in sides[1]:
            cells.setdefault(a + b, []).append((a, b))
    return cells


def check_matrix(model: ast.Model, symbols: Symbols, locate: Locator) -> list[Diagnostic]:
    """W104 for a bucket cell that cannot occur, and for two label pairs that join to the
    same cell text (docs/language.md 10.4, 10.8.8)."""
    found = []
    for grade in model.statements:
        if not isinstance(grade, ast.MatrixGrade):
            continue
        cells = _possible_cells(symbols, grade, frozenset({grade.name}))
        if cells is None:
            continue
        found.extend(_joined_twice(grade, symbols, locate))
        for bucket in grade.buckets:
            for cell in bucket.cells:
                if cell in cells:
                    continue
                span = locate.word(bucket.span, cell, start=len(bucket.label))
                example = ", ".join(f"`{c}`" for c in sorted(cells)[:4])
                found.append(warning(
                    "W104", f"cell `{cell}` of grade `{grade.name}` can never occur: no label "
                    f"of `{grade.first}` followed by a label of `{grade.second}` gives it", span,
                    hint=f"the cells are labels joined, such as {example}"
                    + (", …" if len(cells) > 4 else "")))
    return found


def _joined_twice(grade: ast.MatrixGrade, symbols: Symbols, locate: Locator) -> list:
    joined: dict[str, tuple[str, str]] = {}
    for a, b in symbols.matrix_pairs(grade):
        cell = a + b
        if cell in joined and joined[cell] != (a, b):
            other = joined[cell]
            return [warning(
                "W104", f"grade `{grade.name}` cannot tell `{other[0]}` and `{other[1]}` from "
                f"`{a}` and `{b}`: both give the cell `{cell}`",
                locate.word(grade.span, grade.name, start=len("grade")),
                hint=f"rename a label of `{grade.first}` or `{grade.second}` so that every "
                "pair of labels joins to its own text")]
        joined.setdefault(cell, (a, b))
    return []


# --------------------------------------------------------------------------- groups


def check_groups(model: ast.Model, symbols: Symbols, locate: Locator) -> list[Diagnostic]:
    """W113 a cap above its score's range, W114 bounds that move every contact (10.8.3),
    W115 a group no rule sends points to."""
    named = {_target_of(statement) for statement in model.statements}
    found = []
    for info in symbols.groups.values():
        declaration = info.declaration
        if not _own(declaration, model):
            continue
        name_span = locate.word(declaration.span, info.name, start=len("group"))
        score = symbols.scores.get(info.score)
        if score is not None:
            found.extend(_outside(info, score, declaration, locate))
        if (info.low is not None and info.low > 0) or (info.high is not None and info.high < 0):
            bound, value = ("min", info.low) if info.low is not None and info.low > 0 \
                else ("max", info.high)
            found.append(warning(
                "W114", f"group `{info.name}` is never 0: `{bound} {value}` gives every scored "
                f"contact {value:+d} on `{info.score}`, with or without points", name_span,
                hint="a group's bounds apply before any award; to start contacts at a value, "
                "use a profile rule such as `if true +10`"))
        if info.name not in named:
            found.append(warning(
                "W115", f"no rule sends points to group `{info.name}`", name_span,
                hint=f"name it after a rule's points, e.g. `email_open +1 {info.name}`, or "
                "remove the group"))
    return found


def _outside(info, score: ScoreInfo, declaration: ast.GroupDecl, locate: Locator) -> list:
    # Only a cap above the score's own: a floor below it is a part that may subtract (sales
    # reps' adjustments `min -50` on a 0..100 score), which is what such a floor is for.
    if info.high is None or score.high is None or info.high <= score.high:
        return []
    span = locate.find(declaration.span, r"(?<!\w)max\s+-?\d+")
    return [warning(
        "W113", f"`max {info.high}` of group `{info.name}` is above the range of "
        f"`{info.score}` ({score.describe_bounds()})", span,
        hint=f"a group is a part of its score, which never shows more than {score.high}: "
        f"cap the group at `max {score.high}` or less")]


def _target_of(statement) -> str | None:
    match statement:
        case ast.EventRule(score=score) | ast.AbsenceRule(score=score) \
                | ast.ProfileRule(score=score) | ast.InactivityRule(score=score):
            return score
    return None


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
        case ast.EventRule(event=event, targets=targets, where=where, score=score, by=by):
            return ("event", event, _targets_key(targets), where,
                    score or symbols.default_score, by)
        case ast.AbsenceRule():
            return ("absence", statement.event, _targets_key(statement.targets),
                    statement.missing, (statement.missing_targets.items,
                                        statement.missing_targets.any),
                    statement.within.seconds, statement.score or symbols.default_score)
        case ast.ProfileRule(condition=condition, score=score):
            return ("profile", condition, score or symbols.default_score)
        case ast.InactivityRule(after=after, every=every, score=score):
            return ("inactive", after.seconds, every and every.seconds,
                    score or symbols.default_score)
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
    if statement.points is None or other.points is None:  # `by PROP`: the event's points
        if _limit_key(statement) != _limit_key(other):
            return None
        return warning(
            "W102", "this rule repeats another rule for exactly the same events", span,
            hint=f"both apply, so each event's `{statement.by.prop}` is counted twice; "
                 "keep one of them", notes=(note,))
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
        target = _target_of(statement)
        if target in symbols.groups:
            target = symbols.groups[target].score
        match statement:
            case ast.EventRule(event=event):
                awarded.add(target or symbols.default_score)
                used.add(event)
            case ast.ProfileRule() | ast.InactivityRule():
                awarded.add(target or symbols.default_score)
            case ast.AbsenceRule(event=event, missing=missing):
                awarded.add(target or symbols.default_score)
                used.update((event, missing))
            case ast.ActivityDecl(events=events):
                used.update(events)
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
            locate.event(declaration.span, name, start=len("event"))[0],
            hint="remove it from the catalog, or add a rule for it"))
    activity = symbols.activity
    if activity is not None and _own(activity, model) and not any(
            isinstance(s, ast.InactivityRule) for s in model.statements):
        found.append(warning(
            "W116", "`activity` has no effect: the model has no inactivity rule",
            activity.span, hint="add a rule such as `inactive 30 days -10`, or remove the "
            "`activity` line"))
    return found


def _own(declaration, model: ast.Model) -> bool:
    return declaration.span is None or declaration.span.file == model.file
