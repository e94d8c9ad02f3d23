"""Engines for `score run --engine NAME`: one module per engine, imported only when chosen.

Each module exposes
    run(table, events, contacts, as_of, on_reject) -> list[dict]
where `events` / `contacts` are file paths (JSON Lines, CSV or Parquet by extension; `-` is
standard input where the engine can read it), `as_of` is epoch microseconds or None, and
`on_reject` receives every rejected events line. The result is the list of section-7 dicts
sorted by contact id. An engine may also accept `progress=callable(bytes_read)`, and offer
    run_with_accounts(...same arguments...) -> (results, accounts)
for `score run --accounts` (docs/language.md 10.6), and
    timeline(...same arguments..., period) -> rows
for `score run --timeline` (rows as `runtime.timeline` makes them, equal on every engine),
    timeline_text(...same arguments..., period, fmt, columns, target) -> bool
where the engine writes the timeline's bytes itself (`writers.TimelineFile`), and
    run_with_actions(...same arguments..., since=None, accounts=False) -> (results, accounts,
                                                                           actions)
for `score run --actions` (`runtime.ActionLog` records, equal on every engine).
The Python engine's `run` also takes `observer=` (runtime.observe: `score run --coverage`).
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
from types import ModuleType

# name -> (module under compiler.run.engines, extra that provides its dependencies, those modules)
ENGINES: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "python": ("python", None, ()),
    "duckdb": ("duckdb", "sql", ("duckdb",)),
    "spark": ("spark", "spark", ("pyspark",)),
}
AUTO = "auto"
AUTO_THRESHOLD = 200 * 1024 * 1024  # bytes of events above which `auto` picks duckdb


class EngineError(Exception):
    """An engine that does not exist or cannot be used here (its extra is not installed)."""


def names() -> list[str]:
    return [*ENGINES, AUTO]


def missing_dependency(name: str) -> str | None:
    """The first Python module the engine needs that is not installed, else None."""
    for module in ENGINES[name][2]:
        if importlib.util.find_spec(module) is None:
            return module
    return None


def get(name: str) -> ModuleType:
    """The engine module for `name`; a clear `EngineError` when it cannot be used."""
    if name not in ENGINES:
        raise EngineError(f"unknown engine `{name}` (choose from {', '.join(names())})")
    module_name, extra, _ = ENGINES[name]
    missing = missing_dependency(name)
    if missing is not None:
        raise EngineError(f"the {name} engine needs `{missing}`: install the `{extra}` extra "
                          f"(pip install 'scorelang[{extra}]') or use --engine python")
    qualified = f"{__name__}.{module_name}"
    try:
        return importlib.import_module(qualified)
    except ModuleNotFoundError as exc:
        if exc.name == qualified:
            raise EngineError(f"the {name} engine is not part of this installation") from None
        raise EngineError(f"the {name} engine cannot load `{exc.name}`: install the `{extra}` "
                          f"extra (pip install 'scorelang[{extra}]')") from None


def choose(name: str, events: str, threshold: int = AUTO_THRESHOLD) -> str:
    """Resolve `auto`: duckdb for an events file larger than `threshold` bytes when the sql
    extra and the duckdb engine are installed, else python. Other names are returned as is."""
    if name != AUTO:
        return name
    if events == "-" or not os.path.isfile(events) or os.path.getsize(events) <= threshold:
        return "python"
    if missing_dependency("duckdb") is not None:
        return "python"
    if importlib.util.find_spec(f"{__name__}.duckdb") is None:
        return "python"
    return "duckdb"


def run_with_accounts(name: str, table: dict, events: str, contacts: str | None,
                      as_of: int | None, on_reject, progress=None, on_contact_reject=None
                      ) -> tuple[list[dict], list[dict]]:
    """`run`, and the accounts lines (docs/language.md 10.6) of the same run, sorted by
    account; a table without `accounts` gives none (10.8.14)."""
    engine = get(name)
    if not hasattr(engine, "run_with_accounts"):
        raise EngineError(f"the {name} engine cannot compute accounts; use --engine python")
    options = _contact_option(engine.run_with_accounts, on_contact_reject)
    if progress is not None and \
            "progress" in inspect.signature(engine.run_with_accounts).parameters:
        options["progress"] = progress
    return engine.run_with_accounts(table, events, contacts, as_of, on_reject, **options)


def reports_contact_rejects(name: str) -> bool:
    """Whether the named engine's `run`, `run_with_accounts` and `run_with_actions` report the
    rejected contacts lines themselves (`on_contact_reject`), those of
    `readers.read_contacts`: then `score run` does not read the contacts file for them.
    False for an engine that cannot be used (its error comes when it is run)."""
    try:
        engine = get(name)
    except EngineError:
        return False
    return all("on_contact_reject" in inspect.signature(getattr(engine, function)).parameters
               for function in ("run", "run_with_accounts", "run_with_actions")
               if hasattr(engine, function))


def _contact_option(function, on_contact_reject) -> dict:
    if on_contact_reject is None:
        return {}
    if "on_contact_reject" not in inspect.signature(function).parameters:
        raise EngineError("this engine does not report the rejected contacts lines")
    return {"on_contact_reject": on_contact_reject}


def run_with_actions(name: str, table: dict, events: str, contacts: str | None,
                     as_of: int | None, on_reject, since: int | None = None,
                     accounts: bool = False, progress=None, on_contact_reject=None
                     ) -> tuple[list[dict], list[dict], list[dict]]:
    """`run`, the accounts when `accounts` (else an empty list), and every action fired after
    `since` (all of them for None) as `runtime.ActionLog` records, sorted by contact, each
    contact's in evaluation order; equal on every engine."""
    engine = get(name)
    if not hasattr(engine, "run_with_actions"):
        raise EngineError(f"the {name} engine cannot write actions; use --engine python")
    if accounts and not hasattr(engine, "run_with_accounts"):
        raise EngineError(f"the {name} engine cannot compute accounts; use --engine python")
    options = {"since": since, "accounts": accounts,
               **_contact_option(engine.run_with_actions, on_contact_reject)}
    if progress is not None and \
            "progress" in inspect.signature(engine.run_with_actions).parameters:
        options["progress"] = progress
    return engine.run_with_actions(table, events, contacts, as_of, on_reject, **options)


def run(name: str, table: dict, events: str, contacts: str | None, as_of: int | None,
        on_reject, progress=None, observer=None, on_contact_reject=None) -> list[dict]:
    """Run the named engine, passing `progress` only to engines that accept it; an
    `observer` (rule coverage) only the Python runtime can take; `on_contact_reject` only to
    an engine that `reports_contact_rejects`."""
    engine = get(name)
    options = _contact_option(engine.run, on_contact_reject)
    if observer is not None:
        if "observer" not in inspect.signature(engine.run).parameters:
            raise EngineError(f"--coverage needs --engine python: the rule coverage comes from "
                              f"the Python runtime, not the {name} engine")
        options["observer"] = observer
    if progress is not None and "progress" in inspect.signature(engine.run).parameters:
        options["progress"] = progress
    return engine.run(table, events, contacts, as_of, on_reject, **options)


def timeline_text(name: str, table: dict, events: str, contacts: str | None,
                  as_of: int | None, on_reject, period: str, fmt: str, columns: list,
                  target, progress=None) -> bool:
    """Whether the named engine wrote the timeline itself to `target.open()`
    (`writers.TimelineFile`), in `fmt`, byte for byte as `writers.write_timeline` lays out its
    rows; False, having read and written nothing, when it does not (then ask `timeline` for
    the rows)."""
    engine = get(name)
    if not hasattr(engine, "timeline_text"):
        return False
    return engine.timeline_text(table, events, contacts, as_of, on_reject, period, fmt,
                                columns, target, progress=progress)


def timeline(name: str, table: dict, events: str, contacts: str | None, as_of: int | None,
             on_reject, period: str, progress=None) -> list[dict]:
    """The named engine's timeline (`score run --timeline`): per contact and period end, the
    scores, grades and stage; equal on every engine."""
    engine = get(name)
    if not hasattr(engine, "timeline"):
        raise EngineError(f"the {name} engine cannot write timelines; use --engine python")
    if progress is not None and "progress" in inspect.signature(engine.timeline).parameters:
        return engine.timeline(table, events, contacts, as_of, on_reject, period,
                               progress=progress)
    return engine.timeline(table, events, contacts, as_of, on_reject, period)
