"""`score sql`: compile a model (or load a rule table) and print its query for a dialect."""
from __future__ import annotations

from typing import IO

from dsl import render

from . import UnsupportedError, generate

EXIT_OK, EXIT_FAILED = 0, 1


def emit_sql(model_path: str, dialect: str, stdout: IO[str], stderr: IO[str], *,
             events_table: str = "events", contacts_table: str = "contacts",
             as_of: int | None = None, seq_column: str | None = "seq",
             color: bool = False, actions: bool = False, since: int | None = None) -> int:
    """The contact query; with `actions`, the actions statement (compiler/sql/actions.py:
    a row per action fired after `since`) instead."""
    from ..run.scoring import load_model

    model = load_model(model_path, color=color)
    if model.table is None:
        stderr.write(model.text)
        stderr.write(f"error: {model_path} has errors; no SQL was generated\n")
        return model.exit_code
    try:
        if actions:
            from .actions import actions_sql

            sql = actions_sql(model.table, dialect, events_table, contacts_table, as_of=as_of,
                              seq_column=seq_column, since=since)
        else:
            sql = generate(model.table, dialect, events_table, contacts_table, as_of=as_of,
                           seq_column=seq_column)
    except UnsupportedError as exc:
        stderr.write(render.render_text(exc.diagnostics, _sources(model_path), color=color))
        stderr.write(f"error: {model_path} cannot be computed exactly in {dialect}; "
                     f"no SQL was generated\n")
        return EXIT_FAILED
    if sql is None:
        stderr.write(f"error: {model_path} has no trigger with an action: no action can fire\n")
        return EXIT_FAILED
    stdout.write(sql)
    return EXIT_OK


def emit_accounts_sql(model_path: str, dialect: str, stdout: IO[str], stderr: IO[str], *,
                      results_table: str = "results", contacts_table: str = "contacts",
                      color: bool = False) -> int:
    """`score sql --accounts`: the accounts statement over the kept contact results."""
    from ..run.scoring import load_model
    from .accounts import accounts_sql

    model = load_model(model_path, color=color)
    if model.table is None:
        stderr.write(model.text)
        stderr.write(f"error: {model_path} has errors; no SQL was generated\n")
        return model.exit_code
    try:
        sql = accounts_sql(model.table, dialect, results_table, contacts_table)
    except UnsupportedError as exc:
        stderr.write(render.render_text(exc.diagnostics, _sources(model_path), color=color))
        stderr.write(f"error: {model_path}'s accounts cannot be computed exactly in "
                     f"{dialect}; no SQL was generated\n")
        return EXIT_FAILED
    if sql is None:
        stderr.write(f"error: {model_path} has no `account by`: it has no accounts\n")
        return EXIT_FAILED
    stdout.write(sql)
    return EXIT_OK


def _sources(model_path: str) -> dict:
    """The model's text, so that diagnostics show the line they refer to."""
    if model_path.lower().endswith(".json"):
        return {}
    from dsl.source import SourceFile

    try:
        with open(model_path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):  # no excerpt then
        return {}
    return {model_path: SourceFile.from_text(text, model_path)}
