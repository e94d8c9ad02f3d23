"""Between the compiler's positions and diagnostics and the protocol's.

A `Span` has 1-based lines and columns counted in code points, its end column exclusive; an
LSP position is 0-based and counted in the client's units (UTF-16 unless the client chose
another encoding), which pygls' position codec converts. Lines are split on `\\n` only, as
the parser counts them.
"""
from __future__ import annotations

import os
from typing import Sequence

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition

from dsl.diagnostics import Diagnostic, Severity
from dsl.render import default_docs_url, docs_anchor

SOURCE = "scorelang"
_HINT = "hint"


class Positions:
    """Converts positions of one text."""

    def __init__(self, text: str, codec: PositionCodec | None = None) -> None:
        self.lines: Sequence[str] = [line.rstrip("\r") for line in text.split("\n")]
        self.codec = codec or PositionCodec()

    def position(self, line: int, column: int) -> types.Position:
        """The LSP position of a 1-based line and column."""
        if line > len(self.lines):
            return types.Position(len(self.lines), 0)
        text = self.lines[max(line - 1, 0)]
        character = min(max(column - 1, 0), len(text))
        return self.codec.position_to_client_units(
            self.lines, ServerTextPosition(max(line - 1, 0), character))

    def range(self, span) -> types.Range:
        if span is None:
            return types.Range(types.Position(0, 0), types.Position(0, 0))
        return types.Range(self.position(span.line, span.column),
                           self.position(span.end_line, span.end_column))

    def line_column(self, position: types.Position) -> tuple[int, int]:
        """The 1-based line and column (in code points) of an LSP position."""
        if not self.lines:
            return 1, 1
        line = min(position.line, len(self.lines) - 1)
        server = self.codec.position_from_client_units(
            self.lines, types.Position(line, position.character))
        return server.line + 1, server.character + 1

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 1 <= line <= len(self.lines) else ""


# --------------------------------------------------------------------------- diagnostics


def docs_url(settings_url: str | None = None) -> str | None:
    """Where diagnostic codes link to: the editor's setting, else where SARIF output links
    (`SCORELANG_DOCS_URL`, the package's `Diagnostics` URL, the checkout's file)."""
    return settings_url or default_docs_url()


def diagnostic(found: Diagnostic, positions: Positions, docs: str | None,
               at=None) -> types.Diagnostic:
    """The LSP diagnostic; `at` overrides where it is shown (a problem inside an included
    file is shown on the `include` line, and points at its place)."""
    message = found.message
    if found.hint:
        message += f"\n{_HINT}: {found.hint}"
    for note in found.notes:
        message += f"\nnote: {note}"
    related = None
    if at is not None and found.span is not None:
        message = f"{found.span}: {message}"
        related = [types.DiagnosticRelatedInformation(
            types.Location(uri_of(found.span.file), _range_in_file(found.span)),
            found.message)]
    return types.Diagnostic(
        range=at if at is not None else positions.range(found.span),
        message=message,
        severity=(types.DiagnosticSeverity.Error if found.severity is Severity.ERROR
                  else types.DiagnosticSeverity.Warning),
        code=found.code,
        code_description=(types.CodeDescription(href=f"{docs}#{docs_anchor(found.code)}")
                          if docs else None),
        source=SOURCE,
        related_information=related,
        data={"hint": found.hint} if found.hint else None,
    )


def _range_in_file(span) -> types.Range:
    # Another file's text is not at hand: code points stand for UTF-16 units, which differ
    # only after characters outside the Basic Multilingual Plane.
    return types.Range(types.Position(span.line - 1, span.column - 1),
                       types.Position(span.end_line - 1, span.end_column - 1))


def hint_of(item: types.Diagnostic) -> str | None:
    """The hint a diagnostic of ours carries (from `data`, or its message's hint line)."""
    data = item.data
    if isinstance(data, dict) and isinstance(data.get("hint"), str):
        return data["hint"]
    for line in (item.message or "").split("\n")[1:]:
        if line.startswith(f"{_HINT}: "):
            return line[len(_HINT) + 2:]
    return None


# --------------------------------------------------------------------------- files


def uri_of(path: str) -> str:
    if path.startswith("<"):
        return path
    return from_fs_path(os.path.abspath(path)) or path


def path_of(uri: str) -> str:
    """The file name a document's spans use: its path, or the URI of an unsaved document."""
    path = to_fs_path(uri)
    return path if path and uri.startswith("file:") else f"<{uri}>"
