"""Reading a model: its file, and every file it includes.

`include "path.score"` is textual reuse of declarations (docs/language.md section 2): the loader
replaces each `include` statement by the statements of the included file, whose spans keep
pointing at that file. Paths are relative to the including file (to the working directory
for text that has no file). A file already included elsewhere in the model is not included
twice — two grades files that both include one catalog must not declare its events twice —
and an include that leads back to a file being included is a cycle (E110).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dsl import ast
from dsl.diagnostics import Diagnostic, did_you_mean, error
from dsl.source import SourceFile, Span


@dataclass
class LoadResult:
    model: ast.Model | None  # None when the main file could not be read or parsed at all
    sources: dict[str, SourceFile] = field(default_factory=dict)  # by file name, for rendering
    diagnostics: list[Diagnostic] = field(default_factory=list)


def load(path: str | os.PathLike, *, parse=None) -> LoadResult:
    """Read the file at `path` and everything it includes."""
    name = str(path)
    try:
        source = SourceFile.read(name)
    except OSError as exc:
        return LoadResult(None, {}, [_unreadable(name, exc, Span.whole_file(name))])
    return load_source(source, parse=parse)


def load_source(source: SourceFile, *, parse=None) -> LoadResult:
    """Parse `source` and the files it includes; `parse` defaults to `dsl.parser.parse`."""
    if parse is None:
        from dsl.parser import parse
    loader = _Loader(parse)
    statements, model = loader.expand(source, ())
    if model is None:
        return LoadResult(None, loader.sources, loader.diagnostics)
    merged = ast.Model(tuple(statements), file=source.name, span=model.span)
    return LoadResult(merged, loader.sources, loader.diagnostics)


class _Loader:
    def __init__(self, parse) -> None:
        self.parse = parse
        self.sources: dict[str, SourceFile] = {}
        self.diagnostics: list[Diagnostic] = []
        self.included: set[str] = set()  # real paths of files already expanded

    def expand(self, source: SourceFile, chain: tuple[tuple[str, str], ...]):
        """The statements of `source` with its includes spliced in, and its own model.
        `chain` lists (real path, name) of the files whose includes led here."""
        self.sources[source.name] = source
        self.included.add(_identity(source.name))
        result = self.parse(source)
        self.diagnostics.extend(result.diagnostics)
        if result.model is None:
            return [], None
        chain = chain + ((_identity(source.name), source.name),)
        statements: list[ast.Statement] = []
        for statement in result.model.statements:
            match statement:
                case ast.Include():
                    statements.extend(self.include(statement, source, chain))
                case _:
                    statements.append(statement)
        return statements, result.model

    def include(self, statement: ast.Include, source: SourceFile, chain) -> list:
        path_span = _string_span(statement, source)
        if "\x00" in statement.path:  # no file system has such a name (and os refuses it)
            self.diagnostics.append(error(
                "E109", f"included file {_shown(statement.path)} not found: a file name "
                "cannot hold the character U+0000", path_span,
                hint="write the path of a .score file, relative to this file"))
            return []
        path = _relative_to(source.name, statement.path)
        identity = _identity(path)
        for index, (link, name) in enumerate(chain):
            if link == identity:
                return self._cycle(statement.path, chain[index:], path_span)
        if identity in self.included:
            return []
        if not os.path.isfile(path):
            self.diagnostics.append(_missing(statement.path, path, path_span))
            return []
        try:
            included = SourceFile.read(path)
        except OSError as exc:
            self.diagnostics.append(_unreadable(path, exc, path_span))
            return []
        statements, _ = self.expand(included, chain)
        return statements

    def _cycle(self, written: str, loop, span) -> list:
        names = [name for _, name in loop] + [loop[0][1]]
        notes = tuple(f"`{a}` includes `{b}`" for a, b in zip(names, names[1:]))
        self.diagnostics.append(error(
            "E110", f"including \"{written}\" makes a cycle: " + " -> ".join(names), span,
            hint="move the shared declarations into a file that includes nothing",
            notes=notes))
        return []


def _shown(path: str) -> str:
    return '"' + path.replace("\x00", "\\x00") + '"'


def _relative_to(including: str, path: str) -> str:
    if os.path.isabs(path) or including.startswith("<"):
        return os.path.normpath(path)
    return os.path.normpath(os.path.join(os.path.dirname(including), path))


def _identity(name: str) -> str:
    # Two spellings of one file (`a/../b.score`, a symlink) are the same file.
    return os.path.realpath(name) if not name.startswith("<") else name


def _string_span(statement: ast.Include, source: SourceFile) -> Span | None:
    """The quoted path of an `include` line, so the diagnostic underlines just the path."""
    span = statement.span
    if span is None:
        return None
    text = source.line_text(span.line)
    start = text.find('"', span.column - 1)
    end = text.find('"', start + 1) if start >= 0 else -1
    if start < 0 or end < 0:
        return span
    return Span(span.file, span.line, start + 1, span.line, end + 2)


def _missing(written: str, path: str, span: Span | None) -> Diagnostic:
    folder = os.path.dirname(path) or "."
    candidates = sorted(p.name for p in Path(folder).glob("*.score")) if os.path.isdir(folder) \
        else []
    hint = did_you_mean(os.path.basename(path), candidates) or \
        "include paths are relative to the file that includes them"
    looked = "" if os.path.normpath(written) == path else f" (looked for {path})"
    return error("E109", f"included file \"{written}\" not found{looked}", span, hint=hint)


def _unreadable(name: str, exc: OSError, span: Span | None) -> Diagnostic:
    reason = exc.strerror or str(exc)
    return error("E007", f"cannot read {name}: {reason.lower()}", span)


# --------------------------------------------------------------------------- sample data


class SampleError(Exception):
    """A sample data file that cannot be read at all."""


def read_sample_contacts(path: str) -> list[dict]:
    """Profiles from a contacts file (JSON lines, CSV or Parquet), for W106."""
    from .run.readers import ReaderError, read_contacts

    try:
        profiles, _rejects = read_contacts(path)
    except ReaderError as exc:
        raise SampleError(str(exc)) from None
    return list(profiles.values())


def read_sample_events(path: str) -> list[dict]:
    """Events as {"event", "props"} mappings, for W106; rejected lines are left out."""
    from runtime.events import Event

    from .run.readers import ReaderError, read_events

    try:
        return [{"event": item.event, "props": item.props} for item in read_events(path)
                if isinstance(item, Event)]
    except ReaderError as exc:
        raise SampleError(str(exc)) from None
