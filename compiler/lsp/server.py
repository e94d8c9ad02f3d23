"""`score lsp`: the language server, on pygls. This module only wires protocol messages to the
functions of the other modules of `compiler.lsp`, which do the work on one `Analysis` per
document version (compiled once, by the pipeline `score check` uses)."""
from __future__ import annotations

import asyncio
import logging
import os

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from dsl.formatter import format_source
from dsl.incremental import IncrementalParser
from dsl.source import SourceFile

from . import actions, completion, hover as hovering, outline
from .analysis import Analysis, analyse
from .config import ConfigError, Settings, sample_files
from .convert import Positions, diagnostic, docs_url, hint_of, path_of, uri_of
from .impact import ImpactCache, SampleCache, SampleError

NAME = "scorelang"
HOVER_WAIT = 3.0  # seconds a hover waits for the sample data's impact before saying so
_ITEM_KINDS = {
    "keyword": types.CompletionItemKind.Keyword, "event": types.CompletionItemKind.Event,
    "score": types.CompletionItemKind.Variable, "grade": types.CompletionItemKind.Enum,
    "label": types.CompletionItemKind.EnumMember, "stage": types.CompletionItemKind.Class,
    "attribute": types.CompletionItemKind.Property,
    "property": types.CompletionItemKind.Field, "target": types.CompletionItemKind.Value,
    "value": types.CompletionItemKind.Value, "file": types.CompletionItemKind.File,
    "zone": types.CompletionItemKind.Constant,
}
log = logging.getLogger(__name__)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("scorelang")
    except Exception:  # noqa: BLE001 - a checkout that is not installed
        return "0"


class ScoreServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(NAME, _version(), text_document_sync_kind=
                         types.TextDocumentSyncKind.Incremental)
        self.analyses: dict[str, Analysis] = {}
        self.parsers: dict[str, IncrementalParser] = {}  # one per open document
        self.settings = Settings()
        self.samples = SampleCache()
        self.impacts = ImpactCache(on_ready=self._impact_ready)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.told: set[str] = set()  # sample-data problems already shown to the user

    # ------------------------------------------------------------------ documents

    def analysis(self, uri: str) -> Analysis:
        """The analysis of the document's current text, made once per version."""
        document = self.workspace.get_text_document(uri)
        known = self.analyses.get(uri)
        if known is not None and known.version == document.version \
                and known.source.text == document.source:
            return known
        path = path_of(uri)
        sample, problem = self.sample_for(path)
        parser = self.parsers.setdefault(uri, IncrementalParser())
        found = analyse(document.source, path, document.version, sample, problem, parser)
        self.analyses[uri] = found
        return found

    def sample_for(self, path: str):
        if path.startswith("<"):
            return None, None
        try:
            files = sample_files(path, self.settings)
            if not files.any:
                return None, None
            return self.samples.get(files.events, files.contacts), None
        except (ConfigError, SampleError) as exc:
            problem = f"sample data: {exc}"
            if problem not in self.told:
                self.told.add(problem)
                self.window_show_message(types.ShowMessageParams(
                    types.MessageType.Warning, f"scorelang: {problem}"))
            return None, problem

    def positions(self, uri: str) -> Positions:
        document = self.workspace.get_text_document(uri)
        return Positions(document.source, self.workspace.position_codec)

    def publish(self, uri: str) -> None:
        found = self.analysis(uri)
        positions = self.positions(uri)
        docs = docs_url(self.settings.docs_url)
        items = []
        for problem in found.result.diagnostics:
            span = problem.span
            if span is not None and span.file == found.path:
                items.append(diagnostic(problem, positions, docs))
            else:
                items.append(diagnostic(problem, positions, docs,
                                        at=_include_line(found, span, positions)))
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, diagnostics=items, version=found.version))

    def impact(self, found: Analysis, wait: float = 0.0):
        """The impact of the document's rules on its sample data: an `Impact`, an exception,
        a sentence saying why there is none (yet), or None without sample data."""
        if found.sample_problem:
            return found.sample_problem
        if found.sample is None:
            return None
        if found.table is None:
            return "sample data: fix the errors to see what the rules do on it"
        ready = self.impacts.get(found.table, found.sample, wait)
        return ready if ready is not None else "computing what the rules do on the sample data…"

    def _impact_ready(self) -> None:
        refresh = getattr(getattr(getattr(self.client_capabilities, "workspace", None),
                                  "code_lens", None), "refresh_support", False)
        if refresh and self.loop is not None:
            self.loop.call_soon_threadsafe(self.workspace_code_lens_refresh, None)


server = ScoreServer()


def _include_line(found: Analysis, span, positions: Positions) -> types.Range:
    """Where a problem in an included file is shown: on the `include` line that brings the
    file in (directly, else the first include line), else on the first line."""
    from dsl import ast

    includes = [s for s in found.statements if isinstance(s, ast.Include) and s.span]
    for statement in includes:
        target = os.path.normpath(os.path.join(os.path.dirname(found.path), statement.path))
        if span is not None and os.path.realpath(target) == os.path.realpath(span.file):
            return positions.range(statement.span)
    if includes:
        return positions.range(includes[0].span)
    return types.Range(types.Position(0, 0), types.Position(0, 0))


# --------------------------------------------------------------------------- lifecycle


@server.feature(types.INITIALIZE)
def initialize(ls: ScoreServer, params: types.InitializeParams) -> None:
    ls.loop = asyncio.get_running_loop()
    root = path_of(params.root_uri) if params.root_uri else params.root_path
    ls.settings = Settings.from_client(params.initialization_options,
                                       root if root and not root.startswith("<") else None)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: ScoreServer, params: types.DidChangeConfigurationParams):
    ls.settings = Settings.from_client(params.settings, ls.settings.root)
    ls.analyses.clear()
    for uri in list(ls.workspace.text_documents):
        ls.publish(uri)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: ScoreServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: ScoreServer, params: types.DidChangeTextDocumentParams) -> None:
    # Changes that arrived meanwhile are already applied: check only the latest text, once.
    await asyncio.sleep(0)
    uri = params.text_document.uri
    if ls.workspace.get_text_document(uri).version == params.text_document.version:
        ls.publish(uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: ScoreServer, params: types.DidSaveTextDocumentParams) -> None:
    # An included file may have changed on disk.
    ls.analyses.pop(params.text_document.uri, None)
    for uri in list(ls.workspace.text_documents):
        ls.analyses.pop(uri, None)
        ls.publish(uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: ScoreServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.analyses.pop(params.text_document.uri, None)
    ls.parsers.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
        uri=params.text_document.uri, diagnostics=[]))


# --------------------------------------------------------------------------- features


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: ScoreServer, params: types.DocumentFormattingParams):
    document = ls.workspace.get_text_document(params.text_document.uri)
    result = format_source(SourceFile.from_text(document.source,
                                                path_of(params.text_document.uri)))
    if result.text is None or result.text == document.source:
        return [] if result.text is not None else None
    lines = document.source.split("\n")
    end = types.Position(len(lines), 0)
    return [types.TextEdit(types.Range(types.Position(0, 0), end), result.text)]


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: ScoreServer, params: types.HoverParams):
    uri = params.text_document.uri
    found = ls.analysis(uri)
    positions = ls.positions(uri)
    line, column = positions.line_column(params.position)
    impact = None
    if found.sample is not None or found.sample_problem:
        impact = await asyncio.get_running_loop().run_in_executor(
            None, ls.impact, found, HOVER_WAIT)
    answer = hovering.hover(found, line, column, impact)
    if answer is None:
        return None
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, answer.markdown),
                       positions.range(answer.span) if answer.span else None)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: ScoreServer, params: types.DefinitionParams):
    uri = params.text_document.uri
    found = ls.analysis(uri)
    line, column = ls.positions(uri).line_column(params.position)
    span = hovering.definition(found, line, column)
    if span is None:
        return None
    if span.file == found.path:
        positions = ls.positions(uri)
    else:
        source = found.result.sources.get(span.file)
        positions = Positions(source.text if source else "", ls.workspace.position_codec)
    return types.Location(uri if span.file == found.path else uri_of(span.file),
                          positions.range(span))


@server.feature(types.TEXT_DOCUMENT_COMPLETION,
                types.CompletionOptions(trigger_characters=[" ", "(", ",", "."]))
def complete(ls: ScoreServer, params: types.CompletionParams):
    uri = params.text_document.uri
    found = ls.analysis(uri)
    positions = ls.positions(uri)
    line, column = positions.line_column(params.position)
    items = completion.complete(found, positions.lines, line, column, found.sample)
    return types.CompletionList(is_incomplete=False, items=[
        types.CompletionItem(label=item.label, kind=_ITEM_KINDS.get(item.kind),
                             detail=item.detail or None, insert_text=item.insert,
                             sort_text=f"{index:05d}")
        for index, item in enumerate(items)])


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix]))
def code_action(ls: ScoreServer, params: types.CodeActionParams):
    uri = params.text_document.uri
    document = ls.workspace.get_text_document(uri)
    found = []
    for item in params.context.diagnostics:
        if item.source != "scorelang" or not isinstance(item.code, str):
            continue
        underlined = document.text_in_client_range(item.range) \
            if item.range.start.line == item.range.end.line else ""
        for fix in actions.fixes(item.code, item.message.split("\n")[0], hint_of(item),
                                 underlined):
            found.append(types.CodeAction(
                title=fix.title, kind=types.CodeActionKind.QuickFix, diagnostics=[item],
                is_preferred=fix.preferred, edit=types.WorkspaceEdit(
                    changes={uri: [types.TextEdit(item.range, fix.new_text)]})))
    return found


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbol(ls: ScoreServer, params: types.DocumentSymbolParams):
    uri = params.text_document.uri
    return outline.symbols(ls.analysis(uri), ls.positions(uri))


@server.feature(types.TEXT_DOCUMENT_CODE_LENS)
def code_lens(ls: ScoreServer, params: types.CodeLensParams):
    uri = params.text_document.uri
    found = ls.analysis(uri)
    impact = ls.impact(found)
    note = (lambda name: outline.stage_title(name, impact)) if impact is not None else None
    return outline.lenses(found, ls.positions(uri), uri, note)


@server.command(outline.RUN_TEST)
def run_test(ls: ScoreServer, uri: str, name: str):
    report = outline.run_test(ls.analysis(uri), name)
    first = report.failures[0][1] if report.failures else report.text.strip().split("\n")[-1]
    ls.window_show_message(types.ShowMessageParams(
        types.MessageType.Info if report.passed else types.MessageType.Error,
        f"test \"{name}\" passed" if report.passed else f"test \"{name}\" failed: {first}"))
    ls.window_log_message(types.LogMessageParams(types.MessageType.Log, report.text))
    return report.to_json()


def serve() -> None:
    """Talk LSP over standard input and output until the client says exit."""
    logging.basicConfig(level=logging.WARNING)
    server.start_io()
