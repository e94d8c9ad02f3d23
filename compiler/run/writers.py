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


def copy_timeline(path: str, stream: IO[str], fmt: str, *, score_names: Iterable[str] = (),
                  grade_names: Iterable[str] = ()) -> None:
    """A timeline an engine wrote into `path` (`engines.timeline_text`: the lines, without
    the CSV header) to `stream`, after the header for CSV."""
    import shutil

    if fmt == "csv":
        _header(stream, timeline_columns(score_names, grade_names))
    binary = getattr(stream, "buffer", None)
    if binary is not None:
        stream.flush()
        binary.flush()
        with open(path, "rb") as source:
            if not _copy_in_kernel(source, binary):
                shutil.copyfileobj(source, binary, 1 << 20)
        binary.flush()
        return
    with open(path, encoding="utf-8", newline="") as source:
        shutil.copyfileobj(source, stream, 1 << 20)


def _copy_in_kernel(source: IO[bytes], target: IO[bytes]) -> bool:
    """Copy the rest of `source` to `target` at its position by the kernel, without the bytes
    passing through Python (a timeline by day is hundreds of MB: through Python's buffers
    the copy cost a second of CPU at 800 MB, `copy_file_range` a third of one); False,
    having copied nothing, where neither `copy_file_range` (file to file) nor `sendfile` (to
    a pipe or socket) takes these files, and the caller copies them itself."""
    try:
        fd_in, fd_out = source.fileno(), target.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return False
    left = os.fstat(fd_in).st_size - source.tell()
    copied = 0
    for name in ("copy_file_range", "sendfile"):
        call = getattr(os, name, None)
        if call is None:
            continue
        try:
            while left > 0:
                n = call(fd_in, fd_out, left) if name == "copy_file_range" else \
                    call(fd_out, fd_in, None, left)
                if n == 0:
                    break
                copied, left = copied + n, left - n
        except OSError:
            if copied:
                raise  # part of it went: not a copy to start again
            continue
        if left > 0 and not copied:
            continue
        source.seek(0, os.SEEK_END)
        return True
    return False


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
