"""Diagnostics as people and machines read them: text, JSON, GitHub annotations, SARIF 2.1.0.

Rendering is separate from checking so that every command (check, fmt, test, compile) shows
the same diagnostics the same way; the CLI only picks a format. Every renderer takes the
diagnostics already sorted and the source files by name (to quote the offending line); a
file that is missing from `sources` is rendered without its line, never with an error.
"""
from __future__ import annotations

import json
import os
import re
import unicodedata
from collections import Counter
from pathlib import Path, PurePath
from urllib.parse import quote

from .diagnostics import CODES, Diagnostic, Severity
from .source import SourceFile, Span

FORMATS = ("text", "json", "github", "sarif")
JSON_VERSION = 1
SARIF_SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                "sarif-schema-2.1.0.json")
TOOL_NAME = "scorelang"
SRCROOT = "SRCROOT"  # the SARIF base id of relative uris: the folder `score check` ran in

# ANSI codes, used only when the caller asks for colour (the CLI asks on a terminal).
_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_BLUE = "\x1b[1;34m"
_COLOURS = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[1;33m"}


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if self.enabled and text else text


def render(diagnostics, sources=None, fmt: str = "text", *, color: bool = False,
           files_checked: int | None = None, docs_url: str | None = None) -> str:
    """Render in one of `FORMATS`; the text format ends with a summary line. `docs_url` is
    the address of docs/diagnostics.md that SARIF rules link to (`default_docs_url()`)."""
    diagnostics = list(diagnostics)
    sources = sources or {}
    match fmt:
        case "text":
            return render_text(diagnostics, sources, color=color, files_checked=files_checked)
        case "json":
            return render_json(diagnostics)
        case "github":
            return render_github(diagnostics)
        case "sarif":
            return render_sarif(diagnostics, docs_url=docs_url)
    raise ValueError(f"unknown diagnostics format {fmt!r}; expected one of {FORMATS}")


# --------------------------------------------------------------------------- text


def render_text(diagnostics, sources=None, *, color: bool = False,
                files_checked: int | None = None) -> str:
    paint = _Paint(color)
    sources = sources or {}
    blocks = [format_diagnostic(d, sources.get(d.span.file) if d.span else None, paint)
              for d in diagnostics]
    blocks.append(summary(diagnostics, files_checked))
    return "\n\n".join(blocks) + "\n"


def format_diagnostic(diagnostic: Diagnostic, source: SourceFile | None = None,
                      paint: _Paint | None = None) -> str:
    """One diagnostic as in STYLE.md: header, quoted line, carets, `= hint:` and notes."""
    paint = paint or _Paint(False)
    severity = diagnostic.severity.value
    head = paint(f"{severity}[{diagnostic.code}]", _COLOURS[diagnostic.severity])
    head += paint(f": {diagnostic.message}", _BOLD)
    span = diagnostic.span
    if span is None:
        lines = [head]
        gutter = "   "
    elif span.is_whole_file:
        lines = [f"{span}: {head}"]
        gutter = "   "
    else:
        lines = [f"{span}: {head}"]
        gutter = " " * (len(str(span.line)) + 3)
        line_text = source.line_text(span.line) if source else ""
        if line_text:
            lines += _quote(span, line_text, gutter, paint, _COLOURS[diagnostic.severity])
    if diagnostic.hint:
        lines.append(f"{gutter}{paint('=', _BLUE)} hint: {diagnostic.hint}")
    for note in diagnostic.notes:
        lines.append(f"{gutter}{paint('=', _BLUE)} note: {note}")
    return "\n".join(lines)


# A quoted line shows at most this many columns each side of the caret, so that a diagnostic
# on a 1 MB line costs what one on a short line costs (issue 10 item 11).
WINDOW = 80


def _quote(span: Span, line_text: str, gutter: str, paint: _Paint, colour: str) -> list[str]:
    line_text = line_text.rstrip()
    start = min(max(span.column - 1, 0), len(line_text))
    # A span running onto later lines is underlined to the end of its first line.
    end = span.end_column - 1 if span.end_line == span.line else len(line_text)
    end = max(end, start)
    # the window: WINDOW columns before the caret, the underline (at most WINDOW), WINDOW after
    low = max(0, start - WINDOW)
    high = min(len(line_text), min(end, start + WINDOW) + WINDOW)
    before = "…" if low > 0 else ""
    after = "…" if high < len(line_text) else ""
    underlined = line_text[start:min(end, start + WINDOW, high)]
    width = max(1, sum(_cells(c) for c in underlined))
    # Keep tabs in the padding so the carets stay under the word whatever the tab width.
    padding = " " * len(before) + "".join(c if c == "\t" else " " * _cells(c)
                                          for c in line_text[low:start])
    number = paint(f"  {span.line} |", _BLUE)
    bar = paint(f"{gutter}|", _BLUE)
    shown = before + line_text[low:high] + after
    return [f"{number} {shown}", f"{bar} {padding}{paint('^' * width, colour)}"]


def _cells(char: str) -> int:
    """Terminal columns a character takes: CJK ideographs and the like take two."""
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def summary(diagnostics, files_checked: int | None = None) -> str:
    counts = Counter(d.severity for d in diagnostics)
    errors, warnings = counts[Severity.ERROR], counts[Severity.WARNING]
    if errors or warnings:
        text = f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
    else:
        text = "no problems found"
    if files_checked is not None:
        text += f" in {_plural(files_checked, 'file')}"
    return text


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --------------------------------------------------------------------------- JSON


def diagnostic_to_json(diagnostic: Diagnostic) -> dict:
    span = diagnostic.span
    file = span.file if span else None
    span = None if span is None or span.is_whole_file else span  # no line: `null` positions
    return {
        "code": diagnostic.code,
        "severity": diagnostic.severity.value,
        "message": diagnostic.message,
        "file": file,
        "line": span.line if span else None,
        "column": span.column if span else None,
        "end_line": span.end_line if span else None,
        "end_column": span.end_column if span else None,
        "hint": diagnostic.hint,
        "notes": list(diagnostic.notes),
    }


def render_json(diagnostics) -> str:
    """Stable JSON: a version, every diagnostic with the same keys, and the counts."""
    diagnostics = list(diagnostics)
    counts = Counter(d.severity for d in diagnostics)
    document = {
        "version": JSON_VERSION,
        "diagnostics": [diagnostic_to_json(d) for d in diagnostics],
        "summary": {"errors": counts[Severity.ERROR], "warnings": counts[Severity.WARNING]},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- GitHub


def render_github(diagnostics) -> str:
    """GitHub Actions workflow commands: one `::error ...::message` line each."""
    lines = [github_annotation(d) for d in diagnostics]
    lines.append(summary(diagnostics))
    return "\n".join(lines) + "\n"


def github_annotation(diagnostic: Diagnostic) -> str:
    span = diagnostic.span
    properties = []
    if span is not None and span.is_whole_file:
        properties.append(f"file={_github_property(span.file)}")
    elif span is not None:
        properties += [f"file={_github_property(span.file)}", f"line={span.line}",
                       f"col={span.column}"]
        if span.end_line == span.line:
            properties.append(f"endColumn={span.end_column}")
        else:
            properties.append(f"endLine={span.end_line}")
    properties.append(f"title={diagnostic.code}")
    message = diagnostic.message
    if diagnostic.hint:
        message += f"\n= hint: {diagnostic.hint}"
    for note in diagnostic.notes:
        message += f"\n= note: {note}"
    return f"::{diagnostic.severity.value} {','.join(properties)}::{_github_data(message)}"


def _github_data(text: str) -> str:
    # The escapes the Actions runner undoes (toolkit `escapeData`).
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


# --------------------------------------------------------------------------- SARIF


def render_sarif(diagnostics, *, docs_url: str | None = None, root: str | None = None) -> str:
    return json.dumps(sarif_log(diagnostics, docs_url=docs_url, root=root), indent=2,
                      ensure_ascii=False) + "\n"


def sarif_log(diagnostics, *, docs_url: str | None = None, root: str | None = None) -> dict:
    """A SARIF 2.1.0 log with one run; columns are 1-based code points, as in our spans.
    Files under `root` (default: the working folder) get `uri`s relative to it, resolved by
    the run's `SRCROOT` base (code scanning maps them to the repository's files); each rule
    names its section of docs/diagnostics.md (`help`, and `helpUri` under `docs_url`)."""
    diagnostics = list(diagnostics)
    root = os.path.abspath(root or os.getcwd())
    codes = sorted({d.code for d in diagnostics})
    rule_index = {code: index for index, code in enumerate(codes)}
    rules = [_sarif_rule(code, docs_url) for code in codes]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL_NAME, "version": _version(), "rules": rules}},
            "originalUriBaseIds": {SRCROOT: {"uri": PurePath(root).as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": [_sarif_result(d, rule_index[d.code], root) for d in diagnostics],
        }],
    }


def docs_anchor(code: str) -> str:
    """The section of docs/diagnostics.md about `code`: its heading is `### CODE name`, and
    the anchor is the heading as GitHub (and most Markdown renderers) make it."""
    heading = f"{code} {CODES[code]}".lower()
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


def default_docs_url() -> str | None:
    """Where docs/diagnostics.md is: `SCORELANG_DOCS_URL`, else the installed package's
    `Diagnostics` project URL, else the file in the checkout the package runs from."""
    configured = os.environ.get("SCORELANG_DOCS_URL")
    if configured:
        return configured
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        for entry in metadata(TOOL_NAME).get_all("Project-URL") or ():
            label, _, url = entry.partition(",")
            if label.strip().lower() == "diagnostics" and url.strip():
                return url.strip()
    except PackageNotFoundError:
        pass
    checkout = Path(__file__).resolve().parent.parent / "docs" / "diagnostics.md"
    return checkout.as_uri() if checkout.is_file() else None


def _sarif_rule(code: str, docs_url: str | None) -> dict:
    anchor = docs_anchor(code)
    where = f"docs/diagnostics.md#{anchor}"
    rule = {"id": code, "name": _rule_name(code), "shortDescription": {"text": CODES[code]},
            "help": {"text": f"{code} {CODES[code]}: what it means, an example and the fix "
                             f"are in {where}",
                     "markdown": f"**{code} {CODES[code]}**: what it means, an example and the "
                                 f"fix are in [{where}]({docs_url or where}"
                                 f"{'#' + anchor if docs_url else ''})"}}
    if docs_url:
        rule["helpUri"] = f"{docs_url}#{anchor}"
    return rule


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(TOOL_NAME)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0"


def _rule_name(code: str) -> str:
    # SARIF rule names are identifiers: "unknown score" -> "UnknownScore".
    return "".join(word.capitalize() for word in CODES[code].replace("-", " ").split())


def _sarif_result(diagnostic: Diagnostic, index: int, root: str) -> dict:
    text = diagnostic.message
    if diagnostic.hint:
        text += f"\nhint: {diagnostic.hint}"
    result = {
        "ruleId": diagnostic.code,
        "ruleIndex": index,
        "level": "error" if diagnostic.is_error else "warning",
        "message": {"text": text},
    }
    span = diagnostic.span
    if span is not None:
        location = {"artifactLocation": _artifact(span.file, root)}
        if not span.is_whole_file:
            location["region"] = {"startLine": span.line, "startColumn": span.column,
                                  "endLine": span.end_line, "endColumn": span.end_column}
        result["locations"] = [{"physicalLocation": location}]
    return result


def _artifact(path: str, root: str) -> dict:
    """A path under `root` as a relative `uri` on the `SRCROOT` base; any other as a file URI
    (a relative reference that climbs out with `..` would point nowhere for code scanning)."""
    absolute = os.path.normpath(os.path.join(root, path))
    relative = os.path.relpath(absolute, root)
    if relative == os.curdir or relative.split(os.sep)[0] == os.pardir:
        return {"uri": PurePath(absolute).as_uri()}
    return {"uri": quote(PurePath(relative).as_posix(), safe="/"), "uriBaseId": SRCROOT}
