"""A real LSP client (pygls') driving `score lsp --stdio` in a subprocess, for the tests.

The client's event loop runs on a thread of its own, so the tests call it synchronously;
notifications the server sends (diagnostics, messages) are collected and can be waited for.
"""
from __future__ import annotations

import asyncio
import os
import sys
import threading
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30.0
SERVER = ("import sys; from compiler.cli import main; sys.argv[0] = 'score'; main()", "lsp",
          "--stdio")


def uri(path) -> str:
    return from_fs_path(str(Path(path).resolve()))


class Client:
    def __init__(self, root: Path | None = None, options: dict | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = LanguageClient("scorelang-tests", "1")
        self.changed = threading.Condition()
        self.published: dict[str, list[types.PublishDiagnosticsParams]] = {}
        self.messages: list[types.ShowMessageParams] = []
        self.logs: list[str] = []
        self.refreshes = 0
        self.stderr = b""
        self._register()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.run(self.client.start_io(sys.executable, "-c", *SERVER, env=env, cwd=str(ROOT)))
        self.run(self._drain_stderr())
        capabilities = types.ClientCapabilities(
            workspace=types.WorkspaceClientCapabilities(
                code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=True),
                configuration=False),
            text_document=types.TextDocumentClientCapabilities(
                hover=types.HoverClientCapabilities(
                    content_format=[types.MarkupKind.Markdown]),
                publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                    version_support=True, code_description_support=True)))
        self.initialized = self.run(self.client.initialize_async(types.InitializeParams(
            capabilities=capabilities, process_id=os.getpid(),
            root_uri=uri(root) if root else None, initialization_options=options)))
        self.client.initialized(types.InitializedParams())

    def _register(self) -> None:
        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(params: types.PublishDiagnosticsParams):
            with self.changed:
                self.published.setdefault(params.uri, []).append(params)
                self.changed.notify_all()

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def message(params: types.ShowMessageParams):
            with self.changed:
                self.messages.append(params)
                self.changed.notify_all()

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def log(params: types.LogMessageParams):
            self.logs.append(params.message)

        @self.client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
        def refresh(params):
            with self.changed:
                self.refreshes += 1
                self.changed.notify_all()

    async def _drain_stderr(self) -> None:
        # An unread pipe would block the server once it fills up.
        async def drain(stream):
            while chunk := await stream.read(65536):
                self.stderr += chunk

        asyncio.ensure_future(drain(self.client._server.stderr))

    def run(self, coroutine, timeout: float = TIMEOUT):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def request(self, method: str, params):
        """`method` names the client's call, e.g. `text_document_hover`."""
        return self.run(getattr(self.client, f"{method}_async")(params))

    # ------------------------------------------------------------------ documents

    def open(self, path, text: str, version: int = 1) -> str:
        document = uri(path)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=document, language_id="score", version=version, text=text)))
        return document

    def change(self, document: str, version: int, text: str | None = None,
               edit: tuple[types.Range, str] | None = None) -> None:
        change = types.TextDocumentContentChangeWholeDocument(text) if text is not None else \
            types.TextDocumentContentChangePartial(range=edit[0], text=edit[1])
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=document), [change]))

    def diagnostics(self, document: str, version: int | None = None,
                    timeout: float = TIMEOUT) -> list[types.Diagnostic]:
        """The diagnostics published for `version` of the document (the latest: None)."""
        def ready():
            found = self.published.get(document, [])
            return [p for p in found if version is None or p.version == version]

        with self.changed:
            if not self.changed.wait_for(ready, timeout):
                raise TimeoutError(f"no diagnostics for {document} version {version}; "
                                   f"server stderr: {self.stderr.decode(errors='replace')}")
            return list(ready()[-1].diagnostics)

    def wait(self, predicate, timeout: float = TIMEOUT) -> bool:
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

    def close(self) -> None:
        try:
            self.run(self.client.shutdown_async(None), timeout=10)
            self.client.exit(None)
            self.run(self.client.stop(), timeout=10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


def position(text: str, needle: str, offset: int = 0, occurrence: int = 0) -> types.Position:
    """The LSP position of `needle` (its `occurrence`-th appearance) in `text`, plus
    `offset` characters (ASCII text, so UTF-16 units and code points agree)."""
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    index += offset
    line = text.count("\n", 0, index)
    column = index - (text.rfind("\n", 0, index) + 1)
    return types.Position(line, column)
