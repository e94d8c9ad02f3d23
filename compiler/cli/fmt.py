"""`score fmt`: rewrite `.score` files in the canonical layout (docs/formatting.md)."""
from __future__ import annotations

import difflib
import os
import re
import sys
import tempfile
from pathlib import Path

import click

from dsl.diagnostics import error
from dsl.formatter import format_source
from dsl.source import SourceFile

STDIN = "-"


@click.command("fmt")
@click.option("--check", is_flag=True,
              help="Write nothing; list the files that would change and exit 1 if any.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Write nothing; print a unified diff of the changes.")
@click.argument("paths", nargs=-1,
                type=click.Path(exists=True, allow_dash=True, path_type=str))
def command(check: bool, show_diff: bool, paths: tuple[str, ...]) -> None:
    """Format PATHS (files, or folders searched for `*.score`; default: the current folder;
    `-` is stdin to stdout)."""
    outcome = _Outcome()
    for path in _expand(paths or (".",)):
        _format_one(path, check, show_diff, outcome)
    if outcome.failed or (check and outcome.changed):
        sys.exit(1)


class _Outcome:
    def __init__(self) -> None:
        self.changed = 0
        self.failed = 0


def _expand(paths: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for path in paths:
        if path != STDIN and Path(path).is_dir():
            found.extend(str(p) for p in sorted(Path(path).rglob("*.score")) if p.is_file())
        else:
            found.append(path)
    return list(dict.fromkeys(found))  # a file named twice is formatted once


def _format_one(path: str, check: bool, show_diff: bool, outcome: _Outcome) -> None:
    source = _read(path, outcome)
    if source is None:
        return
    result = format_source(source)
    if result.text is None:
        _report(result.diagnostics, source)
        outcome.failed += 1
        return
    if result.text == source.text:
        if path == STDIN and not (check or show_diff):
            click.echo(result.text, nl=False)
        return
    outcome.changed += 1
    if show_diff:
        click.echo(unified_diff(source.text, result.text, path), nl=False)
    elif check:
        click.echo(_display_name(path))
    elif path == STDIN:
        click.echo(result.text, nl=False)
    else:
        try:
            _write(Path(path).resolve(), result.text)  # through a symlink, not over it
        except OSError as exc:
            click.echo(f"error: cannot write {path}: {exc.strerror}", err=True)
            outcome.failed += 1
            return
        click.echo(f"reformatted {path}", err=True)


def _read(path: str, outcome: _Outcome) -> SourceFile | None:
    name = _display_name(path)
    try:
        if path == STDIN:
            data = sys.stdin.buffer.read()
        else:
            data = Path(path).read_bytes()
        # Strict decoding: a file with invalid UTF-8 must not be rewritten with U+FFFD.
        return SourceFile.from_text(data.decode("utf-8"), name)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not valid UTF-8"
        _report((error("E007", f"cannot read {name}: {reason}", None),), None)
        outcome.failed += 1
        return None


def _display_name(path: str) -> str:
    return "<stdin>" if path == STDIN else path


def _write(path: Path, text: str) -> None:
    """Replace the file in one step so an interrupted run never leaves half a model."""
    mode = path.stat().st_mode
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", text=False)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8"))
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def unified_diff(old: str, new: str, name: str) -> str:
    lines = difflib.unified_diff(_diff_lines(old), _diff_lines(new),
                                 f"a/{_display_name(name)}", f"b/{_display_name(name)}")
    return "".join(lines)


def _diff_lines(text: str) -> list[str]:
    # lines as `patch` reads them (and the parser): only `\n` ends one
    lines = re.findall(r"[^\n]*\n|[^\n]+\Z", text)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def _report(diagnostics, source: SourceFile | None) -> None:
    try:
        from dsl.render import render_text
    except ImportError:  # the shared renderer is optional; fall back to one line each
        render_text = None
    if render_text is not None:
        sources = {source.name: source} if source is not None else {}
        text = render_text(list(diagnostics), sources, color=sys.stderr.isatty())
        click.echo(text.rstrip("\n"), err=True)
        return
    for diagnostic in diagnostics:
        where = f"{diagnostic.span}: " if diagnostic.span is not None else ""
        click.echo(f"{where}{diagnostic.severity.value}[{diagnostic.code}]: "
                   f"{diagnostic.message}", err=True)
