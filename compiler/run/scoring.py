"""The library behind `score run`, `score explain` and `score compile`.

Each function takes paths and streams, writes what the user sees, and returns the exit code:
0 done (rejected lines included), 1 the model has errors / more rejects than allowed / the
contact to explain is unknown, 2 an input or option that cannot be used at all.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import IO, Callable, Iterator

from dsl import render
from dsl.diagnostics import did_you_mean, has_errors
from runtime import Engine, TableError, load_table
from runtime import io as rio
from runtime.events import Event, Reject

from . import engines, readers
from . import writers as output
from .explain_account_text import account_text
from .explain_text import explanation_text

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """An option or file the command cannot use; the message says which and why."""


@dataclass
class LoadedModel:
    table: dict | None
    text: str = ""  # what to print when the table is None (rendered diagnostics)
    score_names: tuple[str, ...] = ()
    grade_names: tuple[str, ...] = ()
    warnings: str = ""  # rendered warnings of a model that compiled
    sources: dict = field(default_factory=dict)  # file name -> SourceFile (none for a table)
    model: object = None  # the dsl.ast.Model of a `.score` file (None for a table)
    # the exit code when the table is None: 1 a model with errors, 2 a table file refused
    exit_code: int = EXIT_FAILED


def load_model(path: str, *, color: bool = False) -> LoadedModel:
    """Compile a `.score` model, or load a rule table already compiled (`.json`)."""
    if path.lower().endswith(".json"):
        return _load_table(path)
    from ..pipeline import compile as compile_model

    result = compile_model(path)
    if result.table is None or has_errors(result.diagnostics):
        errors = [d for d in result.diagnostics if d.is_error] or list(result.diagnostics)
        text = render.render_text(errors, result.sources, color=color)
        return LoadedModel(None, text)
    loaded = _named(result.table)
    loaded.sources = dict(result.sources or {})
    loaded.model = result.model
    if result.diagnostics:
        loaded.warnings = render.render_text(result.diagnostics, result.sources, color=color)
    return loaded


def _refuse(model: LoadedModel, model_path: str, what: str, stderr: IO[str]) -> int:
    """Print why a model or table was not used and return its exit code. A refused table's
    one line already says what to do; a model's diagnostics get a summary line after them."""
    stderr.write(model.text)
    if model.exit_code != EXIT_USAGE:
        stderr.write(f"error: {model_path} has errors; nothing was {what}\n")
    return model.exit_code


def _load_table(path: str) -> LoadedModel:
    try:
        table = load_table(path)
    except TableError as exc:
        return LoadedModel(None, f"error: {path}: not a usable rule table: {exc}; compile one "
                                 f"with `score compile MODEL -o TABLE.json`\n",
                           exit_code=EXIT_USAGE)
    return _named(table)


def _named(table: dict) -> LoadedModel:
    """The score and grade names in declaration order, for CSV and table columns."""
    return LoadedModel(table, "", _names(table.get("scores")), _names(table.get("grades")))


def _names(section) -> tuple[str, ...]:
    if isinstance(section, dict):
        return tuple(section)
    if isinstance(section, list):
        return tuple(item["name"] for item in section if isinstance(item, dict) and "name" in item)
    return ()


@dataclass
class RejectLog:
    """Counts rejects, prints each to stderr as `file:LINE: REASON` and appends it to the
    `--rejects` file when one is given."""

    stderr: IO[str]
    rejects_file: IO[str] | None = None
    count: int = 0
    by_file: dict[str, int] = field(default_factory=dict)

    def reporter(self, file: str) -> Callable[[Reject], None]:
        def report(reject: Reject) -> None:
            self.count += 1
            self.by_file[file] = self.by_file.get(file, 0) + 1
            self.stderr.write(output.reject_line(file, reject) + "\n")
            if self.rejects_file is not None:
                output.write_rejects([(file, reject)], self.rejects_file)
        return report


@dataclass
class RunOptions:
    events: str
    contacts: str | None = None
    as_of: int | None = None
    out: str | None = None
    fmt: str | None = None
    rejects: str | None = None
    max_rejects: int | None = None
    engine: str = "python"
    auto_threshold: int = engines.AUTO_THRESHOLD
    color: bool = False
    accounts: str | None = None  # `--accounts FILE` (docs/language.md 10.6)
    timeline: str | None = None  # `--timeline day|week|month`: rows per period, not results
    coverage: bool = False  # `--coverage`: what of the model the history exercised
    coverage_out: str | None = None  # `--coverage-out FILE` (.json: JSON), else stderr
    actions: str | None = None  # `--actions FILE`: one line per action fired
    since: int | None = None  # `--since T`: only the actions fired after T (microseconds)


def run_model(model_path: str, options: RunOptions, stdout: IO[str], stderr: IO[str]) -> int:
    """`score run`: results to `--out` or stdout, rejects to stderr and `--rejects`."""
    try:
        _check_inputs(options.events, options.contacts)
        _check_writable(options.out, options.rejects, options.accounts, options.coverage_out,
                        options.actions)
        _check_accounts_output(options)
        _check_actions_output(options)
        engine_name = engines.choose(options.engine, options.events, options.auto_threshold)
        engines.get(engine_name)
        _check_combination(options, engine_name)
    except (UsageError, engines.EngineError) as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    model = load_model(model_path, color=options.color)
    if model.table is None:
        return _refuse(model, model_path, "scored", stderr)
    if options.contacts is None:
        _warn_without_profiles(model_path, model.table, stderr)
    fmt = output.format_for(options.out, options.fmt)
    with contextlib.ExitStack() as cleanup:
        return _run_and_write(engine_name, model, options, fmt, stdout, stderr, cleanup)


def _run_and_write(engine_name: str, model: LoadedModel, options: RunOptions, fmt: str,
                   stdout: IO[str], stderr: IO[str], cleanup: contextlib.ExitStack) -> int:
    target = None
    if options.timeline is not None and fmt in ("jsonl", "csv"):
        # where an engine may write the timeline itself (engines.timeline_text): to a file
        # beside `--out`, renamed over it once the run has succeeded
        target = output.TimelineFile(
            None if options.out in (None, rio.STDIN) else options.out, stdout, fmt,
            output.timeline_columns(model.score_names, model.grade_names))
        cleanup.callback(target.discard)
    try:
        with _open_for_writing(options.rejects) as rejects_file:
            log = RejectLog(stderr, rejects_file)
            collector = _coverage_collector(model, options)
            results, accounts, actions = _score(engine_name, model.table, options, log,
                                                stderr, collector, target)
    except (UsageError, readers.ReaderError, rio.InputError, engines.EngineError) as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except BrokenPipeError:  # the engine wrote to a reader that left (`| head`)
        _quiet_stdout()
        return EXIT_OK
    try:
        with _open_for_writing(None if results is None else options.out,
                               default=stdout) as out:
            color = options.color if options.out is None else False
            if results is None:  # the engine wrote the timeline (engines.timeline_text)
                target.commit()
            elif options.timeline is not None:
                output.write_timeline(results, out, fmt, score_names=model.score_names,
                                      grade_names=model.grade_names, color=color)
            else:
                output.write_results(results, out, fmt, score_names=model.score_names,
                                     grade_names=model.grade_names, color=color,
                                     timezone=model.table.get("timezone"))
        if options.accounts is not None:
            _write_accounts(accounts, model.table, options)
        if options.actions is not None:
            _write_actions(actions, model, options)
        if collector is not None:
            _write_coverage(collector, options, stderr)
    except UsageError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except BrokenPipeError:  # `score run ... | head`: the reader left; not an error of ours
        _quiet_stdout()
        return EXIT_OK
    return _rejects_verdict(log, options.max_rejects, stderr)


def _check_combination(options: RunOptions, engine_name: str) -> None:
    """A timeline replaces the results: it cannot also feed accounts or coverage. Coverage
    observes the Python runtime."""
    if options.coverage and engine_name != "python":
        raise UsageError(f"--coverage needs --engine python: the rule coverage comes from the "
                         f"Python runtime, not the {engine_name} engine")
    if options.since is not None and options.actions is None:
        raise UsageError("--since selects the actions of --actions FILE: give --actions too")
    if options.coverage and options.actions is not None:
        raise UsageError("--coverage and --actions cannot be combined: run them separately")
    if options.timeline is None:
        return
    for flag, given in (("--accounts", options.accounts is not None),
                        ("--actions", options.actions is not None),
                        ("--coverage", options.coverage)):
        if given:
            raise UsageError(f"--timeline writes a timeline instead of the results and cannot "
                             f"be combined with {flag}: run them separately")


def _coverage_collector(model: LoadedModel, options: RunOptions):
    if not options.coverage:
        return None
    from runtime import CompiledTable

    from ..review.coverage import Collector

    collector = Collector(rio.display_name(options.events))
    collector.model(CompiledTable(model.table), model.model)
    return collector


def _write_coverage(collector, options: RunOptions, stderr: IO[str]) -> None:
    """The coverage report: to `--coverage-out` (JSON for a `.json` name), else stderr."""
    from ..review.reports import dump_json, render, views

    report = collector.report()
    target = options.coverage_out
    text = dump_json(report.to_json()) if target and target.lower().endswith(".json") else \
        render("coverage", views.coverage_view(report))
    if target is None or target == rio.STDIN:
        stderr.write(text)
        return
    with _open_for_writing(target) as handle:
        handle.write(text)


def _check_accounts_output(options: RunOptions) -> None:
    if options.accounts == rio.STDIN and options.out in (None, rio.STDIN):
        raise UsageError("--accounts - and the results cannot both go to standard output: "
                         "give the results a file with --out, or the accounts a file")


def _check_actions_output(options: RunOptions) -> None:
    if options.actions != rio.STDIN:
        return
    if options.out in (None, rio.STDIN) or options.accounts == rio.STDIN:
        raise UsageError("--actions - and the results (or --accounts -) cannot both go to "
                         "standard output: give the others a file")


def _write_actions(records: list[dict], model: LoadedModel, options: RunOptions) -> None:
    """The actions file: in `--format` when given, else csv for a `.csv` name, else jsonl;
    one line per action fired (after `--since`), sorted by contact, in evaluation order."""
    import sys

    fmt = output.format_for(options.actions, options.fmt)
    to_stdout = options.actions == rio.STDIN
    rows = output.action_rows(records, rio.display_name(options.events))
    with _open_for_writing(options.actions, default=sys.stdout) as out:
        output.write_actions(rows, out, fmt, score_names=model.score_names,
                             grade_names=model.grade_names,
                             color=options.color if to_stdout else False)


def _write_accounts(accounts: list[dict], table: dict, options: RunOptions) -> None:
    """The accounts file: in `--format` when given, else csv for a `.csv` name, else jsonl;
    empty for a model without `account by` (docs/language.md 10.8.14)."""
    import sys

    section = table.get("accounts") or {}
    fmt = output.format_for(options.accounts, options.fmt)
    to_stdout = options.accounts == rio.STDIN
    with _open_for_writing(options.accounts, default=sys.stdout) as out:
        output.write_accounts(accounts, out, fmt,
                              score_names=_names(section.get("scores")),
                              grade_names=_names(section.get("grades")),
                              color=options.color if to_stdout else False)


def _warn_without_profiles(model_path: str, table: dict, stderr: IO[str]) -> None:
    """A `require` reads profiles: without --contacts every profile is empty, so every
    contact would come out unscored with no other sign of why."""
    require = table.get("require")
    if require is None or require is True:
        return
    from runtime.conditions import render as render_condition

    stderr.write(f"warning: {model_path} requires `{render_condition(require)}`, but no "
                 "--contacts file was given: every contact is unscored; pass the profiles "
                 "with --contacts FILE\n")


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush does not fail again."""
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _score(engine_name: str, table: dict, options: RunOptions, log: RejectLog,
           stderr: IO[str], collector=None, target: output.TimelineFile | None = None
           ) -> tuple[list[dict] | None, list[dict], list[dict]]:
    """The results (with `--timeline`, the timeline's rows, or None when the engine wrote
    them to `target`), with `--accounts` the accounts and with `--actions` the actions fired
    (`runtime.ActionLog` records), else empty lists; `collector` observes the run
    (`--coverage`)."""
    with _readable_twice(options.contacts) as contacts, _kept_contacts():
        extra = {}  # the engine reports the contacts' rejects: on_contact_reject
        if contacts:
            report = log.reporter(rio.display_name(options.contacts))
            if options.timeline is None and collector is None and \
                    engines.reports_contact_rejects(engine_name):
                extra["on_contact_reject"] = report  # the duckdb engine: read once, in SQL
            else:
                # the python engine reads them again: it gets these (readers.read_contacts)
                _, contact_rejects = readers.read_contacts(contacts,
                                                           keep=engine_name == "python")
                for reject in contact_rejects:
                    report(reject)
        with output.progress_bar(options.events, stderr) as progress:
            # Engines get absolute paths: a JVM (Spark) does not follow Python's working folder.
            arguments = (engine_name, table, _absolute(options.events), _absolute(contacts),
                         options.as_of, log.reporter(rio.display_name(options.events)))
            if options.timeline is not None:
                if target is not None and engines.timeline_text(
                        *arguments, options.timeline, target.fmt, target.columns, target,
                        progress=progress):
                    return None, [], []
                return engines.timeline(*arguments, options.timeline, progress=progress), [], []
            if options.actions is not None:
                return engines.run_with_actions(*arguments, since=options.since,
                                                accounts=options.accounts is not None,
                                                progress=progress, **extra)
            if options.accounts is not None:
                return (*engines.run_with_accounts(*arguments, progress=progress, **extra), [])
            observer = collector.models[0] if collector is not None else None
            return engines.run(*arguments, progress=progress, observer=observer, **extra), [], []


@contextlib.contextmanager
def _kept_contacts() -> Iterator[None]:
    try:
        yield
    finally:
        readers.drop_kept()


def _absolute(path: str | None) -> str | None:
    return path if path is None or path == rio.STDIN else os.path.abspath(path)


@contextlib.contextmanager
def _readable_twice(path: str | None) -> Iterator[str | None]:
    """The contacts path, read once here to report rejects and again by the engine; standard
    input is first copied to a temporary file so that both reads see it."""
    if path != rio.STDIN:
        yield path
        return
    import shutil
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="scorelang-") as folder:
        copy = os.path.join(folder, "contacts.jsonl")
        with open(copy, "wb") as handle:
            shutil.copyfileobj(getattr(sys.stdin, "buffer", sys.stdin), handle)
        yield copy


def _rejects_verdict(log: RejectLog, max_rejects: int | None, stderr: IO[str]) -> int:
    if log.count:
        parts = ", ".join(f"{count} in {file}" for file, count in log.by_file.items())
        stderr.write(f"{log.count} line{'s' if log.count != 1 else ''} rejected ({parts})\n")
    if max_rejects is not None and log.count > max_rejects:
        stderr.write(f"error: {log.count} rejected lines exceed --max-rejects {max_rejects}\n")
        return EXIT_FAILED
    return EXIT_OK


def _check_inputs(events: str, contacts: str | None) -> None:
    if events == rio.STDIN and contacts == rio.STDIN:
        raise UsageError("--events and --contacts cannot both read standard input (`-`)")
    for path in (events, contacts):
        if path and path != rio.STDIN:
            if not os.path.exists(path):
                raise UsageError(f"{path}: no such file")
            if os.path.isdir(path):
                raise UsageError(f"{path}: is a directory, not a file")


def _check_writable(*paths: str | None) -> None:
    """Fail before scoring, not after, when an output file cannot be created."""
    for path in paths:
        if path is None or path == rio.STDIN:
            continue
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            raise UsageError(f"{path}: is a directory, not a file")
        if not os.path.isdir(folder):
            raise UsageError(f"{path}: cannot write: folder {folder} does not exist")
        if not os.access(folder, os.W_OK) or (os.path.exists(path)
                                               and not os.access(path, os.W_OK)):
            raise UsageError(f"{path}: cannot write: permission denied")


@contextlib.contextmanager
def _open_for_writing(path: str | None, default: IO[str] | None = None) -> Iterator[IO[str] | None]:
    """A file opened for writing, or `default` when there is no path (or `-`)."""
    if path is None or path == rio.STDIN:
        yield default
        return
    try:
        handle = open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None
    with handle:
        yield handle


def explain_contact(model_path: str, contact: str, events: str, stdout: IO[str],
                    stderr: IO[str], *, contacts: str | None = None, as_of: int | None = None,
                    fmt: str = "text", color: bool = False) -> int:
    """`score explain`: why one contact has its scores, grades, stage and actions."""
    loaded = _explain_inputs(model_path, events, contacts, stderr, color)
    if isinstance(loaded, int):
        return loaded
    model, profiles, accepted = loaded
    known = {event.contact for event in accepted} | set(profiles)
    if contact not in known:
        hint = closest_contact(contact, known)
        stderr.write(f"error: contact `{contact}` is in neither the events nor the contacts"
                     f"{'; ' + hint if hint else ''}\n")
        return EXIT_FAILED
    explanation = Engine(model.table).explain(contact, accepted, profiles, as_of=as_of)
    if fmt == "json":
        output.write_json(explanation.to_json(), stdout)
    else:
        stdout.write(explanation_text(explanation.to_json(), model.table, model.sources))
    return EXIT_OK


def explain_account(model_path: str, account: str, events: str, stdout: IO[str],
                    stderr: IO[str], *, contacts: str | None = None, as_of: int | None = None,
                    fmt: str = "text", color: bool = False) -> int:
    """`score explain --account`: each member's part in each account score, the members
    left out and why (docs/language.md 10.6)."""
    loaded = _explain_inputs(model_path, events, contacts, stderr, color)
    if isinstance(loaded, int):
        return loaded
    model, profiles, accepted = loaded
    section = model.table.get("accounts")
    if section is None:
        stderr.write(f"error: {model_path} has no `account by` statement: it has no accounts "
                     "to explain\n")
        return EXIT_USAGE
    data = Engine(model.table).explain_account(account, accepted, profiles, as_of=as_of)
    if data is None:
        known = {value for value in (profile.get(section["by"]) for profile in profiles.values())
                 if type(value) is str and value}
        hint = did_you_mean(account, known)
        where = f"`{section['by']}`" + (f" in {contacts}" if contacts else "")
        stderr.write(f"error: no profile names the account `{account}` in {where}"
                     f"{'; ' + hint if hint else ''}"
                     f"{'' if contacts else ' (give the profiles with --contacts)'}\n")
        return EXIT_FAILED
    if fmt == "json":
        output.write_json(data, stdout)
    else:
        stdout.write(account_text(data, model.table, model.sources))
    return EXIT_OK


def _explain_inputs(model_path: str, events: str, contacts: str | None, stderr: IO[str],
                    color: bool):
    """The model, the profiles and the accepted events of `score explain`, or an exit code
    (the reason written to `stderr`)."""
    try:
        _check_inputs(events, contacts)
    except UsageError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    model = load_model(model_path, color=color)
    if model.table is None:
        return _refuse(model, model_path, "explained", stderr)
    log = RejectLog(stderr)
    try:
        profiles, contact_rejects = readers.read_contacts(contacts) if contacts else ({}, [])
        for reject in contact_rejects:
            log.reporter(rio.display_name(contacts))(reject)
        accepted = _accepted_events(events, log.reporter(rio.display_name(events)))
    except (readers.ReaderError, rio.InputError) as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    return model, profiles, accepted


def closest_contact(name: str, known) -> str | None:
    """A "did you mean" for a contact id: ids that differ only in leading zeros or case
    (`shop-8` for `shop-008`) first, which a plain string distance ranks below `shop-058`."""
    def plain(text: str) -> str:
        return re.sub(r"\d+", lambda digits: str(int(digits.group())), text).casefold()

    same = sorted(other for other in known if plain(other) == plain(name))
    if same:
        return f"did you mean `{same[0]}`?"
    return did_you_mean(name, known)


def _accepted_events(path: str, on_reject: Callable[[Reject], None]) -> list[Event]:
    with rio.paused_collector():
        return _accepted_list(path, on_reject)


def _accepted_list(path: str, on_reject: Callable[[Reject], None]) -> list[Event]:
    accepted = []
    for item in readers.read_events(path):
        if isinstance(item, Reject):
            on_reject(item)
        else:
            accepted.append(item)
    return accepted


def compile_to_file(model_path: str, out: str | None, stdout: IO[str], stderr: IO[str], *,
                    color: bool = False) -> int:
    """`score compile`: the rule table as JSON to `out` (stdout when None or `-`)."""
    model = load_model(model_path, color=color)
    if model.table is None:
        stderr.write(model.text)
        return model.exit_code
    stderr.write(model.warnings)
    try:
        with _open_for_writing(out, default=stdout) as stream:
            json.dump(model.table, stream, indent=2, ensure_ascii=False)
            stream.write("\n")
    except UsageError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    if out and out != rio.STDIN:
        stderr.write(f"wrote {out}\n")
    return EXIT_OK
