"""The one entry point from `.score` text to checked model (and, later, rule table).

Stages, in order, each a function of the previous stage's output:

| stage | function | must run after |
|---|---|---|
| load  | `loader.load` / `loader.load_source`: read, parse, splice includes | — |
| check | `check.check_model`: names, types, lints | load, without syntax error or E109 |
| lower | `_table`: the rule table | check, with no error |

Checking a model that did not parse cleanly would report the fallout of the syntax error
(a score whose declaration failed to parse is "unknown" everywhere), so a syntax error
stops the pipeline after loading: the user fixes it first, then sees the rest.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from dsl import ast
from dsl.diagnostics import Diagnostic, cap_per_line, has_errors, sort_diagnostics
from dsl.source import SourceFile

from .check import check_model
from .loader import LoadResult, load, load_source
from .lower import lower, source_hash
from .samples import ContactFacts, EventFacts


class CompileError(ValueError):
    """The rule table of a model with errors was asked for; the message lists the errors."""

    def __init__(self, diagnostics: list[Diagnostic], sources: Mapping[str, SourceFile]):
        from dsl.render import render_text

        self.diagnostics = [d for d in diagnostics if d.is_error]
        super().__init__("the model has errors, so it has no rule table:\n"
                         + render_text(self.diagnostics, sources))


@dataclass
class CompileResult:
    table: dict | None  # None while the model has errors (`require_table()` says which)
    diagnostics: list[Diagnostic]
    model: ast.Model | None
    sources: dict[str, SourceFile] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def require_table(self) -> dict:
        """The rule table; raises CompileError, with the errors rendered, when there is none."""
        if self.table is None:
            raise CompileError(self.diagnostics, self.sources)
        return self.table


def compile(path_or_source: str | os.PathLike | SourceFile, *,
            sample_contacts: Iterable[Mapping] | None = None,
            sample_events: Iterable[Mapping] | None = None,
            parse=None, lower_table: bool = True) -> CompileResult:  # noqa: A001
    """Load, parse and check a model given as a path or a `SourceFile`. With sample
    contacts/events (mappings as read from JSON lines), also warn about attributes and
    properties that the data never carries (W106). `lower_table=False` checks only (the
    language server lowers with `table_of` when a feature needs the table)."""
    if isinstance(path_or_source, SourceFile):
        loaded = load_source(path_or_source, parse=parse)
    else:
        loaded = load(path_or_source, parse=parse)
    diagnostics = list(loaded.diagnostics)
    model = loaded.model
    if model is not None and not _has_syntax_errors(loaded):
        checked = check_model(model, sample_contacts, sample_events, loaded.sources)
        diagnostics += _not_reported(checked, loaded.diagnostics)
    diagnostics = cap_per_line(sort_diagnostics(dict.fromkeys(diagnostics)))
    table = _table(model, diagnostics, loaded.sources) if lower_table else None
    return CompileResult(table, diagnostics, model, loaded.sources)


def table_of(result: CompileResult) -> dict | None:
    """The rule table of a checked model (lowered now if `compile` was told not to)."""
    if result.table is not None:
        return result.table
    return _table(result.model, result.diagnostics, result.sources)


def compile_text(text: str, name: str = "<string>", **options) -> CompileResult:
    return compile(SourceFile.from_text(text, name), **options)


def _not_reported(checked: list[Diagnostic], parsed: list[Diagnostic]) -> list[Diagnostic]:
    """The checker's diagnostics minus those the parser already gave on the same line (it
    checks some values, such as `at most 0`, as it reads them; the checker checks them too
    for models built without the parser)."""
    seen = {(d.code, d.span.file, d.span.line) for d in parsed if d.span is not None}
    return [d for d in checked
            if d.span is None or (d.code, d.span.file, d.span.line) not in seen]


def _has_syntax_errors(loaded: LoadResult) -> bool:
    # A missing include (E109) is as bad as a syntax error: everything it declares would
    # be reported as unknown.
    return any(d.is_error and (d.code.startswith("E0") or d.code == "E109")
               for d in loaded.diagnostics)


def _table(model: ast.Model | None, diagnostics: list[Diagnostic],
           sources: Mapping[str, SourceFile] | None = None) -> dict | None:
    """The rule table, once the model is free of errors."""
    if model is None or has_errors(diagnostics):
        return None
    return lower(model, source_hash(model, sources or {}))


# --------------------------------------------------------------------------- many files


@dataclass
class CheckReport:
    diagnostics: list[Diagnostic]
    sources: dict[str, SourceFile]
    files: list[str]  # the files checked, main files and included ones


def find_models(paths: Iterable[str]) -> tuple[list[str], list[Diagnostic]]:
    """`*.score` files under the given files and folders (recursively), in a stable order;
    a path that does not exist is reported (E007)."""
    from dsl.diagnostics import error
    from dsl.source import Span

    found: list[str] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if os.path.isdir(path):
            found += sorted(str(p) for p in _rglob(path))
        elif os.path.isfile(path):
            found.append(path)
        else:
            problems.append(error("E007", f"`{path}` does not exist", Span.whole_file(path),
                                  hint=_missing_hint(path)))
    return list(dict.fromkeys(found)), problems


def _missing_hint(path: str) -> str:
    import difflib

    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        return f"the folder `{folder}` does not exist either; paths are relative to " \
               f"the current folder, {os.getcwd()}"
    candidates = sorted(name for name in os.listdir(folder)
                        if name.endswith(".score") or os.path.isdir(os.path.join(folder, name)))
    close = difflib.get_close_matches(os.path.basename(path.rstrip("/")), candidates, n=1,
                                      cutoff=0.75)
    return f"did you mean `{os.path.join(os.path.dirname(path), close[0])}`?" if close else \
        f"paths are relative to the current folder, {os.getcwd()}"


def _rglob(folder: str):
    from pathlib import Path

    return (p for p in Path(folder).rglob("*.score") if p.is_file())


def check_paths(paths: Iterable[str], *, sample_contacts=None, sample_events=None,
                parse=None) -> CheckReport:
    """Compile every model under `paths` and gather all diagnostics, sorted. A file that
    another checked file includes is checked through its includer only: alone, a shared
    catalog would be reported as "declared but never used"."""
    files, diagnostics = find_models(paths)
    contacts = None if sample_contacts is None else ContactFacts.of(sample_contacts)
    events = None if sample_events is None else EventFacts.of(sample_events)
    results = {path: compile(path, sample_contacts=contacts, sample_events=events, parse=parse)
               for path in files}
    includers = {path: [other for other, result in results.items() if other != path
                        and any(_same_file(name, path) for name in result.sources)]
                 for path in results}
    main_files = {path for path, others in includers.items() if not others}
    sources: dict[str, SourceFile] = {}
    for path, result in results.items():
        # Files that include each other, with no main file above them, are kept.
        if any(other in main_files for other in includers[path]):
            continue
        diagnostics += result.diagnostics
        sources.update(result.sources)
    checked = sorted(set(files) | set(sources))
    return CheckReport(cap_per_line(sort_diagnostics(_one_per_cycle(dict.fromkeys(diagnostics)))),
                       sources, checked)


def _one_per_cycle(diagnostics) -> list[Diagnostic]:
    """Each file of an include cycle, checked on its own, finds the same cycle from another
    starting point; its notes (one per link) tell that it is the same cycle."""
    kept, cycles = [], set()
    for diagnostic in diagnostics:
        if diagnostic.code == "E110":
            links = frozenset(diagnostic.notes)
            if links in cycles:
                continue
            cycles.add(links)
        kept.append(diagnostic)
    return kept


def _same_file(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)
