"""Takes the screenshots of docs/editors.md: what an editor shows, drawn from the real tools.

The code is coloured by the TextMate grammar as VS Code runs it (`editors/vscode/tokenize.js`,
vscode-textmate + vscode-oniguruma); the squiggles, hover, completion list and lenses are
what `score lsp` answers a real LSP client (pygls') for that text; the last picture is the
Pygments lexer's HTML. Each page is laid out in HTML and photographed by headless Chromium.

    python3 editors/screenshots.py            # writes docs/images/editor-*.png
Needs node with `npm ci` done in editors/vscode, and chromium (`apt-get install chromium`).
"""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from lsprotocol import types  # noqa: E402

from lsp_client import Client, position  # noqa: E402

OUT = ROOT / "docs" / "images"
EXAMPLE = ROOT / "examples" / "b2b_saas.score"
DATA = ROOT / "examples" / "data" / "b2b_saas"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--hide-scrollbars"]
# VS Code's "Dark Modern" colours for the scopes the grammar gives
COLOURS = [("comment", "#6a9955"), ("string", "#ce9178"), ("constant.numeric.points.positive",
           "#73c991"), ("constant.numeric.points.negative", "#f14c4c"),
           ("constant.numeric", "#b5cea8"), ("constant.other.label", "#4fc1ff"),
           ("constant.language", "#569cd6"), ("keyword.control", "#c586c0"),
           ("keyword.operator.comparison", "#d4d4d4"), ("keyword", "#569cd6"),
           ("entity.name.function", "#dcdcaa"), ("entity.name.type", "#4ec9b0"),
           ("variable.language", "#569cd6"), ("variable", "#9cdcfe")]
STYLE = """
body { margin: 0; background: #1f1f1f; font: 14px/20px 'DejaVu Sans Mono', monospace;
       color: #cccccc; }
.editor { position: relative; padding: 10px 0; width: 1000px; }
.line { white-space: pre; height: 20px; }
.no { display: inline-block; width: 42px; padding-right: 16px; text-align: right;
      color: #6e7681; }
.lens { white-space: pre; height: 18px; font: 12px 'DejaVu Sans', sans-serif;
        color: #999999; padding-left: 58px; }
.squiggle { text-decoration: underline wavy #f14c4c; text-underline-offset: 4px; }
.warn { text-decoration: underline wavy #cca700; text-underline-offset: 4px; }
.box { position: absolute; background: #252526; border: 1px solid #454545;
       font: 13px/19px 'DejaVu Sans', sans-serif; color: #cccccc; padding: 8px 12px;
       box-shadow: 0 4px 12px #000a; white-space: normal; }
.box code, .box pre { font: 13px 'DejaVu Sans Mono', monospace; color: #d7ba7d; }
.box pre { margin: 4px 0 8px; color: #dcdcaa; }
.box b { color: #ffffff; }
.code { color: #3794ff; }
.item { padding: 1px 6px; font: 13px 'DejaVu Sans Mono', monospace; }
.item.sel { background: #04395e; }
.kind { display: inline-block; width: 18px; color: #b180d7; }
.detail { float: right; color: #999; margin-left: 24px; font-family: 'DejaVu Sans'; }
"""


def tokens(path: Path) -> list[list[dict]]:
    done = subprocess.run(["node", str(ROOT / "editors" / "vscode" / "tokenize.js"), str(path)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)[str(path)]


def colour(scopes: list[str]) -> str | None:
    for scope in reversed(scopes):
        for prefix, value in COLOURS:
            if scope.startswith(prefix):
                return value
    return None


def code_lines(path: Path, marks: dict[int, list[tuple[int, int, str]]]) -> list[str]:
    """Each line as HTML; `marks` underlines (start, end, class) character ranges."""
    rows = []
    for number, line in enumerate(tokens(path), start=1):
        parts, offset = [], 0
        for token in line:
            text, start = token["text"], offset
            offset += len(text)
            style = colour(token["scopes"])
            classes = [cls for a, b, cls in marks.get(number, ()) if a < offset and b > start]
            span = f'<span style="color:{style}"' if style else "<span"
            span += f' class="{" ".join(classes)}">' if classes else ">"
            parts.append(span + html.escape(text) + "</span>")
        rows.append(f'<div class="line"><span class="no">{number}</span>{"".join(parts)}</div>')
    return rows


def markdown(text: str) -> str:
    """The little Markdown the server's hovers use: code fences, **bold**, `code`."""
    out = []
    for block in text.split("\n\n"):
        fence = re.fullmatch(r"```\w*\n(.*)\n```", block, re.S)
        if fence:
            out.append(f"<pre>{html.escape(fence.group(1))}</pre>")
            continue
        block = html.escape(block)
        block = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", block)
        block = re.sub(r"`(.+?)`", r"<code>\1</code>", block)
        block = re.sub(r"\*(.+?)\*", r"<i>\1</i>", block)
        out.append(f"<p style='margin:4px 0'>{block}</p>")
    return "".join(out)


def page(body: str) -> str:
    return f"<html><head><style>{STYLE}</style></head><body>{body}</body></html>"


def shoot(name: str, document: str, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "page.html"
        source.write_text(document, encoding="utf-8")
        target = OUT / f"{name}.png"
        subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--window-size={width},{height}",
                        f"--screenshot={target}", source.as_uri()], check=True,
                       capture_output=True, timeout=120)
        print(f"wrote {target.relative_to(ROOT)}")


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    raise SystemExit("chromium is needed: apt-get install -y chromium")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "scorelang.toml").write_text(
            f'events = "{DATA / "events.jsonl"}"\ncontacts = "{DATA / "contacts.jsonl"}"\n',
            encoding="utf-8")
        text = EXAMPLE.read_text(encoding="utf-8").split("\ntest ")[0].rstrip("\n") + "\n"
        client = Client(root)
        try:
            hover_page(client, root, text)
            diagnostics_page(client, root, text)
            completion_page(client, root, text)
        finally:
            client.close()
    pygments_page(text)


def hover_page(client: Client, root: Path, text: str) -> None:
    path = root / "b2b_saas.score"
    path.write_text(text, encoding="utf-8")
    document = client.open(path, text)
    client.diagnostics(document, 1)
    spot = position(text, "visit home", 2)
    found = client.request("text_document_hover", types.HoverParams(
        types.TextDocumentIdentifier(document), spot))
    lenses = []
    for _ in range(50):  # the impact is computed in the background
        lenses = client.request("text_document_code_lens", types.CodeLensParams(
            types.TextDocumentIdentifier(document)))
        if any("reach" in lens.command.title for lens in lenses):
            break
        client.wait(lambda: client.refreshes > 0, timeout=0.5)
    found = client.request("text_document_hover", types.HoverParams(
        types.TextDocumentIdentifier(document), spot))
    rows = code_lines(path, {})
    for lens in sorted(lenses, key=lambda lens: -lens.range.start.line):
        rows.insert(lens.range.start.line, f'<div class="lens">{html.escape(lens.command.title)}'
                                           "</div>")
    top = 10 + 20 * (spot.line + 1) + 18 * sum(1 for l in lenses if l.range.start.line <= spot.line)
    box = (f'<div class="box" style="left:70px; top:{top + 4}px; width:620px">'
           f"{markdown(found.contents.value)}</div>")
    shoot("editor-hover", page(f'<div class="editor">{"".join(rows)}{box}</div>'), 1000, 720)


def diagnostics_page(client: Client, root: Path, text: str) -> None:
    broken = text.replace("visit pricing                +15",
                          "visit pricing                +15 engagment")
    broken = broken.replace("unsubscribe                  -20", "unsubscribe                  20")
    path = root / "typing.score"
    path.write_text(broken, encoding="utf-8")
    document = client.open(path, broken)
    shown = client.diagnostics(document, 1)
    if not any(d.code == "E102" for d in shown):  # a syntax error is shown alone: fix it
        broken = broken.replace("unsubscribe                  20",
                                "unsubscribe                  -20")
        path.write_text(broken, encoding="utf-8")
        client.change(document, 2, text=broken)
        shown = client.diagnostics(document, 2)
    marks: dict[int, list] = {}
    for item in shown:
        cls = "squiggle" if item.severity == types.DiagnosticSeverity.Error else "warn"
        marks.setdefault(item.range.start.line + 1, []).append(
            (item.range.start.character, item.range.end.character, cls))
    rows = code_lines(path, marks)[:22]
    first = shown[0]
    actions = client.request("text_document_code_action", types.CodeActionParams(
        types.TextDocumentIdentifier(document), first.range, types.CodeActionContext(shown)))
    top = 10 + 20 * (first.range.start.line + 1) + 4
    message = html.escape(first.message).replace("\n", "<br>")
    fixes = "".join(f"<div style='color:#3794ff'>Quick Fix: {html.escape(a.title)}</div>"
                    for a in actions)
    box = (f'<div class="box" style="left:{70 + 8 * first.range.start.character}px; '
           f'top:{top}px; width:430px">{message} '
           f'<span class="code">scorelang({first.code})</span><hr style="border-color:#454545">'
           f"{fixes}</div>")
    shoot("editor-diagnostics", page(f'<div class="editor">{"".join(rows)}{box}</div>'),
          1000, 500)


def completion_page(client: Client, root: Path, text: str) -> None:
    typed = text + "when tier is "
    path = root / "completion.score"
    path.write_text(typed, encoding="utf-8")
    document = client.open(path, typed)
    client.diagnostics(document, 1)
    end = types.Position(typed.count("\n"), len("when tier is "))
    found = client.request("text_document_completion", types.CompletionParams(
        types.TextDocumentIdentifier(document), end))
    rows = code_lines(path, {})[-14:]
    items = "".join(
        f'<div class="item{" sel" if index == 0 else ""}"><span class="kind">▣</span>'
        f'{html.escape(item.label)}<span class="detail">{html.escape(item.detail or "")}'
        "</span></div>" for index, item in enumerate(found.items[:8]))
    box = (f'<div class="box" style="left:{70 + 8 * end.character}px; top:{10 + 20 * 14}px; '
           f'padding:4px 0; width:260px">{items}</div>')
    shoot("editor-completion", page(f'<div class="editor">{"".join(rows)}{box}</div>'),
          1000, 500)


def pygments_page(text: str) -> None:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    from dsl.highlight import ScoreLexer

    formatter = HtmlFormatter(style="default", linenos="inline", noclasses=True)
    body = highlight(text, ScoreLexer(), formatter)
    document = (f"<html><body style='margin:12px;background:#f8f8f8;font-size:14px'>{body}"
                "</body></html>")
    shoot("pygments", document, 900, 600)


if __name__ == "__main__":
    main()
