"""`score diff` as a library: resolve both sides, compile each model, diff, measure impact.

`review(...)` returns a `Review`: one `FileReview` per model file of either side (added,
removed, changed, unchanged, or error with its diagnostics) and, when events are given, the
`Impact` of each changed model that compiles on both sides.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from dsl import ast

from . import gitrev
from .diff import ModelDiff, diff_models
from .impact import Impact, impact


@dataclass
class FileReview:
    name: str
    status: str  # added | removed | changed | unchanged | error
    diff: ModelDiff | None = None
    errors: list[str] = field(default_factory=list)  # rendered diagnostics
    impact: Impact | None = None


@dataclass
class Review:
    old_label: str
    new_label: str
    files: list[FileReview]
    events: str | None = None
    rejects: int = 0

    @property
    def changed(self) -> bool:
        return any(f.status != "unchanged" for f in self.files)

    @property
    def has_errors(self) -> bool:
        return any(f.status == "error" for f in self.files)

    def to_json(self) -> dict:
        return {
            "format": 1,
            "old": self.old_label,
            "new": self.new_label,
            "events": self.events,
            "rejects": self.rejects,
            "files": [{"file": f.name, "status": f.status,
                       "diff": f.diff.to_json() if f.diff else None, "errors": f.errors,
                       "impact": f.impact.to_json() if f.impact else None}
                      for f in self.files],
        }


@dataclass
class _Compiled:
    model: ast.Model | None
    table: dict | None
    errors: list[str]


_EMPTY = _Compiled(ast.Model(()), None, [])


def compile_file(path: Path | None, side: gitrev.Side) -> _Compiled:
    if path is None:
        return _EMPTY
    from dsl.render import format_diagnostic

    from ..pipeline import compile as compile_model

    result = compile_model(str(path))
    errors = [format_diagnostic(d, (result.sources or {}).get(d.span.file) if d.span else None)
              for d in result.diagnostics if d.is_error]
    errors = [_relabel(text, side) for text in errors]
    return _Compiled(result.model if not errors else None, result.table, errors)


def _relabel(text: str, side: gitrev.Side) -> str:
    """Diagnostics of a revision cite `REV:path`, not the temporary folder."""
    if not side.temporary:
        return text
    return text.replace(str(side.root) + "/", side.prefix)


def review_sides(old: gitrev.Side, new: gitrev.Side, data: "ImpactData | None" = None) -> Review:
    files = []
    for name, old_path, new_path in gitrev.pairs(old, new):
        files.append(_review_file(name, old_path, new_path, old, new, data))
    return Review(old.label, new.label, files, data.events_name if data else None,
                  data.rejects if data else 0)


def _review_file(name, old_path, new_path, old_side, new_side, data) -> FileReview:
    before, after = compile_file(old_path, old_side), compile_file(new_path, new_side)
    if before.errors or after.errors:
        if _same_bytes(old_path, new_path):  # broken before the change: not this change's doing
            return FileReview(name, "unchanged")
        return FileReview(name, "error", errors=before.errors + after.errors)
    diff = diff_models(before.model, after.model, f"{old_side.prefix}{name}",
                       f"{new_side.prefix}{name}",
                       location=_locator(old_side, new_side, before.model))
    status = "added" if old_path is None else "removed" if new_path is None else \
        "changed" if not diff.empty else "unchanged"
    review = FileReview(name, status, diff)
    if data is not None and before.table is not None and after.table is not None \
            and status == "changed":
        review.impact = replace(
            impact(before.table, after.table, data.events, data.contacts, data.as_of,
                   score_bounds(after.model), stage_order(before.model, after.model),
                   data.by),
            rejects=data.rejects)  # the lines of the data neither side could score
    return review


def _same_bytes(old: Path | None, new: Path | None) -> bool:
    return old is not None and new is not None and old.read_bytes() == new.read_bytes()


def _locator(old_side: gitrev.Side, new_side: gitrev.Side, old_model: ast.Model):
    old_ids = {id(s) for s in old_model.statements}

    def location(statement) -> str | None:
        span = getattr(statement, "span", None)
        if span is None:
            return None
        side = old_side if id(statement) in old_ids else new_side
        return side.location(span.file, span.line)

    return location


def score_bounds(model: ast.Model) -> dict:
    return {s.name: (s.low, s.high) for s in model.statements
            if isinstance(s, ast.ScoreDecl) and s.has_range}


def stage_order(old: ast.Model, new: ast.Model) -> tuple[str, ...]:
    names = [s.name for model in (new, old) for s in model.statements if isinstance(s, ast.Stage)]
    return tuple(dict.fromkeys(names))


@dataclass
class ImpactData:
    events: list
    contacts: dict
    as_of: int | None
    events_name: str
    rejects: int = 0
    by: str | None = None  # week | month: stage entries and actions per period


def load_data(events_path: str, contacts_path: str | None, as_of: int | None,
              by: str | None = None) -> ImpactData:
    """Events and contacts for the impact; rejects are counted (the run never stops)."""
    from runtime.events import Event

    from ..run.readers import read_contacts, read_events

    events, rejects = [], 0
    for item in read_events(events_path):
        if isinstance(item, Event):
            events.append(item)
        else:
            rejects += 1
    contacts: dict = {}
    if contacts_path:
        contacts, contact_rejects = read_contacts(contacts_path)
        rejects += len(contact_rejects)
    return ImpactData(events, contacts, as_of, events_path, rejects, by)


def review(old: str, new: str | None, paths: tuple[str, ...] = (), cwd: str | Path = ".",
           data: ImpactData | None = None) -> Review:
    """Resolve OLD/NEW (files, folders or revisions) and review every model file."""
    old_side, new_side = gitrev.resolve(old, new, paths, cwd)
    try:
        return review_sides(old_side, new_side, data)
    finally:
        old_side.cleanup()
        new_side.cleanup()


def review_texts(old_text: str, new_text: str, name: str) -> Review:
    """The git diff driver's case: two versions of one file, parsed without includes."""
    from dsl.diagnostics import has_errors
    from dsl.parser import parse_text
    from dsl.render import format_diagnostic

    before = parse_text(old_text, f"a/{name}")
    after = parse_text(new_text, f"b/{name}")
    diagnostics = [d for d in list(before.diagnostics) + list(after.diagnostics) if d.is_error]
    if has_errors(diagnostics) or before.model is None or after.model is None:
        return Review(f"a/{name}", f"b/{name}", [FileReview(name, "error",
                                            errors=[format_diagnostic(d) for d in diagnostics])])
    diff = diff_models(before.model, after.model, f"a/{name}", f"b/{name}")
    status = "unchanged" if diff.empty else "changed"
    return Review(f"a/{name}", f"b/{name}", [FileReview(name, status, diff)])


DRIVER_ARGS = 7  # PATH OLD-FILE OLD-HEX OLD-MODE NEW-FILE NEW-HEX NEW-MODE


def review_driver(args) -> Review:
    """git's external diff driver: `args` as git passes them (see docs/ci.md)."""
    if len(args) != DRIVER_ARGS:
        raise ValueError(f"expected {DRIVER_ARGS} arguments from git, got {len(args)}")
    name, old_file, new_file = args[0], args[1], args[4]
    return review_texts(_read_or_empty(old_file), _read_or_empty(new_file), name)


def _read_or_empty(path: str) -> str:
    """A blob git handed over; `/dev/null` (an added or deleted file) is an empty model."""
    file = Path(path)
    if path == "/dev/null" or not file.is_file():
        return ""
    return file.read_text(encoding="utf-8", errors="replace")
