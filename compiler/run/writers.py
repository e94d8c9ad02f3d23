"""What `score run`, `score explain` and `score compile` print: results as JSON Lines, CSV or a
readable table, rejects as `file:LINE: REASON`, and a progress bar on a terminal.

Decisions live in `compiler.run.scoring`; this module only lays values out.
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
from typing import IO, Iterable, Iterator, Mapping

from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                           TimeRemainingColumn, TransferSpeedColumn)
from rich.table import Table

from runtime import io as rio
from runtime.events import Reject, format_time

from .localtime import LocalTime

FORMATS = ("jsonl", "csv", "table")
PROGRESS_MIN_BYTES = 32 * 1024 * 1024  # smaller inputs are scored before a bar is worth it


def format_for(out: str | None, fmt: str | None) -> str:
    """The format asked for, else `csv` for an `--out` ending in .csv, else jsonl."""
    if fmt:
        return fmt
    if out and out.lower().endswith(".csv"):
        return "csv"
    return "jsonl"


def write_results(results: list[Mapping], stream: IO[str], fmt: str, *,
                  score_names: Iterable[str] = (), grade_names: Iterable[str] = (),
                  color: bool | None = None, timezone: str | None = None) -> None:
    if fmt == "jsonl":
        rio.write_results_jsonl(results, stream)
    elif fmt == "csv":
        rio.write_results_csv(results, stream, score_names=score_names, grade_names=grade_names)
    elif fmt == "table":
        render_table(results, stream, score_names=score_names, grade_names=grade_names,
                     color=color, timezone=timezone)
    else:
        raise ValueError(f"unknown output format {fmt!r}")


def render_table(results: list[Mapping], stream: IO[str], *, score_names: Iterable[str] = (),
                 grade_names: Iterable[str] = (), color: bool | None = None,
                 timezone: str | None = None) -> None:
    """A readable table: a row per contact, a column per score and grade, stage, actions;
    action times in the model's `timezone`, with the offset."""
    local = LocalTime(timezone)
    rows = [rio.result_json(result) for result in results]
    columns = rio.result_columns(rows, score_names, grade_names)
    table = Table(show_lines=False, header_style="bold")
    for header, section, _ in columns:
        justify = "right" if section == "scores" else "left"
        table.add_column(header, justify=justify, overflow="fold")
    for row in rows:
        table.add_row(*(_table_cell(row, section, key, local) for _, section, key in columns))
    console = Console(file=stream, force_terminal=color, no_color=color is False,
                      width=None if _is_tty(stream) else 200, highlight=False)
    console.print(table)
    console.print(f"{len(rows)} contact{'s' if len(rows) != 1 else ''}"
                  f"{'' if local.is_utc else f'; times in {local.name}'}")


def _table_cell(row: dict, section: str, key: str, local: LocalTime) -> str:
    if section == "contact":
        return row["contact"]
    if section == "actions":
        return "\n".join(f"{a['action']} {a['arg']} @ {local.text(a['at'])}"
                         for a in row["actions"]) or "-"
    value = row[section].get(key) if key else row[section]
    return "-" if value is None else str(value)


def write_accounts(accounts: list[Mapping], stream: IO[str], fmt: str, *,
                   score_names: Iterable[str] = (), grade_names: Iterable[str] = (),
                   color: bool | None = None) -> None:
    """The accounts of `score run --accounts` (docs/language.md 10.6) as jsonl, csv or a table."""
    if fmt == "jsonl":
        rio.write_accounts_jsonl(accounts, stream)
    elif fmt == "csv":
        rio.write_accounts_csv(accounts, stream, score_names=score_names,
                               grade_names=grade_names)
    elif fmt == "table":
        rows = [rio.account_json(account) for account in accounts]
        columns = rio.account_columns(rows, score_names, grade_names)
        table = Table(show_lines=False, header_style="bold")
        for header, section, _ in columns:
            justify = "right" if section in ("scores", "contacts") else "left"
            table.add_column(header, justify=justify, overflow="fold")
        for row in rows:
            table.add_row(*(str(row[section]) if not key else
                            "-" if row[section].get(key) is None else str(row[section][key])
                            for _, section, key in columns))
        console = Console(file=stream, force_terminal=color, no_color=color is False,
                          width=None if _is_tty(stream) else 200, highlight=False)
        console.print(table)
        console.print(f"{len(rows)} account{'s' if len(rows) != 1 else ''}")
    else:
        raise ValueError(f"unknown output format {fmt!r}")


def timeline_columns(score_names: Iterable[str], grade_names: Iterable[str]) -> list[tuple]:
    """(header, section, key) of a timeline row: contact, period, as_of, each score, each
    grade, stage; a score or grade named like a fixed column is prefixed as in results."""
    fixed = {"contact", "period", "as_of", "stage"}
    scores = list(dict.fromkeys(score_names))
    columns = [("contact", "contact", ""), ("period", "period", ""), ("as_of", "as_of", "")]
    columns += [(f"score:{n}" if n in fixed else n, "scores", n) for n in scores]
    columns += [(f"grade:{n}" if n in fixed or n in scores else n, "grades", n)
                for n in dict.fromkeys(grade_names)]
    return columns + [("stage", "stage", "")]


def write_timeline(rows: Iterable[Mapping], stream: IO[str], fmt: str, *,
                   score_names: Iterable[str] = (), grade_names: Iterable[str] = (),
                   color: bool | None = None) -> None:
    """`score run --timeline`: one JSON line or CSV row per contact and period (docs/running.md),
    or a readable table."""
    if fmt == "jsonl":
        for row in rows:
            stream.write(rio.json_line({key: row[key] for key in _TIMELINE_KEYS}))
        return
    _write_cells(rows, timeline_columns(score_names, grade_names), stream, fmt, color, "row")


_TIMELINE_KEYS = ("contact", "period", "as_of", "scores", "grades", "stage")


class TimelineFile:
    """Where an engine writes a timeline's bytes itself (`engines.timeline_text`): `open()`,
    called once the engine has read its input, gives a binary stream with the CSV header
    already written. To a file, the stream is a new file beside it (`.NAME.*.tmp`, the
    existing file's permissions, else the umask's), renamed over it by `commit()`, so a run
    that fails leaves the file as it was and never half written; `discard()` removes it.
    A path that is not a regular file (`/dev/null`, a pipe) is written directly, and without
    a path, `stdout` is written as the lines come."""

    def __init__(self, path: str | None, stdout: IO[str], fmt: str, columns: list) -> None:
        self.path, self.stdout, self.fmt, self.columns = path, stdout, fmt, columns
        self._file: IO[bytes] | None = None
        self._temp: str | None = None  # the file renamed over `path` by `commit`

    def open(self) -> IO[bytes]:
        header = ""
        if self.fmt == "csv":
            import io

            text = io.StringIO()
            _header(text, self.columns)
            header = text.getvalue()
        if self.path is None:
            self.stdout.write(header)
            self.stdout.flush()
            binary = getattr(self.stdout, "buffer", None)
            self._file = binary if binary is not None else _TextBytes(self.stdout)
            return self._file
        real = os.path.realpath(self.path)
        if os.path.exists(real) and not os.path.isfile(real):
            self._file = open(real, "wb")  # a device or a pipe: nothing to rename over
        else:
            self._file, self._temp = _file_beside(real)
        self._file.write(header.encode("utf-8"))
        return self._file

    def commit(self) -> None:
        """The written stream flushed; a file beside renamed over the path."""
        if self._file is None:
            self.open()  # an engine that wrote nothing: the file still holds the header
        if self.path is None:
            self._file.flush()
            return
        self._file.close()
        if self._temp is not None:
            os.replace(self._temp, os.path.realpath(self.path))
            self._temp = None

    def discard(self) -> None:
        """Remove the file beside, if not committed (a failed run)."""
        if self.path is not None and self._file is not None:
            self._file.close()
        if self._temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._temp)
            self._temp = None


def _file_beside(path: str) -> tuple[IO[bytes], str]:
    """A new file in `path`'s folder, with the mode `path` has (else what the umask gives a
    new file), open for writing, and its name."""
    import secrets

    folder, name = os.path.split(path)
    while True:
        temp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temp, os.stat(path).st_mode & 0o7777)
        return os.fdopen(fd, "wb"), temp
    except BaseException:
        os.close(fd)
        os.unlink(temp)
        raise


class _TextBytes:
    """A binary stream over a text stream without a `buffer` (a test's StringIO): whole
    lines of UTF-8 in, text out."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, data) -> int:
        self.stream.write(bytes(data).decode("utf-8"))
        return len(data)

    def flush(self) -> None:
        self.stream.flush()


def json_text(value) -> str:
    """`value` as `runtime.io.json_line` writes it inside a line (a timeline's key or id)."""
    return rio.json_line(value)[:-1]


def csv_cell(text: str) -> str:
    """`text` as the CSV writer of `write_timeline` writes it as one cell of a row."""
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([text, ""])
    return buffer.getvalue()[:-len(",\r\n")]


def _header(stream: IO[str], columns) -> None:
    csv.writer(stream, lineterminator="\r\n").writerow([header for header, _, _ in columns])


def _timeline_cells(row: Mapping, columns) -> list:
    return [row[section].get(key) if key else row[section] for _, section, key in columns]


_ACTION_FIXED = ("contact", "at", "action", "arg", "point", "event_id", "event_line")


def action_rows(records: Iterable[Mapping], events_file: str) -> Iterator[dict]:
    """`runtime.ActionLog` records as the lines of `score run --actions` (docs/running.md):
    the time in UTC with `Z` (to the second, as in the results), the causing event's line
    as `FILE:LINE` (None when no event caused the action)."""
    for record in records:
        line = record["event_line"]
        yield {"contact": record["contact"], "at": format_time(record["at"]),
               "action": record["action"], "arg": record["arg"], "point": record["point"],
               "event_id": record["event_id"],
               "event_line": None if line is None else f"{events_file}:{line}",
               "scores": dict(record["scores"]), "grades": dict(record["grades"]),
               "stage": record["stage"]}


def action_columns(score_names: Iterable[str], grade_names: Iterable[str]) -> list[tuple]:
    """(header, section, key) of an actions CSV row: the fixed columns, each score, each
    grade, stage; a score or grade named like a fixed column is prefixed as in results."""
    fixed = {*_ACTION_FIXED, "stage"}
    scores = list(dict.fromkeys(score_names))
    columns = [(name, name, "") for name in _ACTION_FIXED]
    columns += [(f"score:{n}" if n in fixed else n, "scores", n) for n in scores]
    columns += [(f"grade:{n}" if n in fixed or n in scores else n, "grades", n)
                for n in dict.fromkeys(grade_names)]
    return columns + [("stage", "stage", "")]


def write_actions(rows: Iterable[Mapping], stream: IO[str], fmt: str, *,
                  score_names: Iterable[str] = (), grade_names: Iterable[str] = (),
                  color: bool | None = None) -> None:
    """`score run --actions`: one JSON line or CSV row per action fired (rows as
    `action_rows` makes them), or a readable table."""
    if fmt == "jsonl":
        for row in rows:
            stream.write(rio.json_line(row))
        return
    _write_cells(rows, action_columns(score_names, grade_names), stream, fmt, color, "action")


def _write_cells(rows: Iterable[Mapping], columns, stream: IO[str], fmt: str,
                 color: bool | None, noun: str) -> None:
    """Timeline or action rows as CSV (empty cells for nulls) or a readable table."""
    if fmt == "csv":
        _header(stream, columns)
        writer = csv.writer(stream, lineterminator="\r\n")
        for row in rows:
            writer.writerow(["" if cell is None else str(cell)
                             for cell in _timeline_cells(row, columns)])
        return
    table = Table(show_lines=False, header_style="bold")
    for header, section, _ in columns:
        table.add_column(header, justify="right" if section == "scores" else "left")
    rows = list(rows)
    for row in rows:
        table.add_row(*("-" if cell is None else str(cell)
                        for cell in _timeline_cells(row, columns)))
    console = Console(file=stream, force_terminal=color, no_color=color is False,
                      width=None if _is_tty(stream) else 200, highlight=False)
    console.print(table)
    console.print(f"{len(rows)} {noun}{'s' if len(rows) != 1 else ''}")


def write_rejects(rejects: Iterable[tuple[str, Reject]], stream: IO[str]) -> None:
    """Rejects for the `--rejects` file: one JSON object per line (file, line, reason, raw)."""
    for file, reject in rejects:
        stream.write(rio.json_line(rio.reject_json(reject, file)))


def reject_line(file: str, reject: Reject) -> str:
    return rio.format_reject(reject, file)


def write_json(value, stream: IO[str]) -> None:
    """Indented JSON (explanations)."""
    stream.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _is_tty(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


@contextlib.contextmanager
def progress_bar(path: str, stream: IO[str]) -> Iterator:
    """A callback `progress(bytes_read)` showing a bar on `stream` when it is a terminal and
    the input is large; None (no bar, no output) otherwise."""
    size = os.path.getsize(path) if path != rio.STDIN and os.path.isfile(path) else 0
    if size < PROGRESS_MIN_BYTES or not _is_tty(stream):
        yield None
        return
    console = Console(file=stream)
    columns = (TextColumn("scoring {task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(os.path.basename(path), total=size)
        yield lambda done: bar.update(task, completed=done)
