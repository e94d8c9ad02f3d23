"""The DuckDB engine: the rule table as one SQL query (`compiler.sql`), run in DuckDB.

The events are read and validated inside DuckDB (`duckdb_input`: `read_csv` cut to lines for
JSON Lines, `read_parquet`), so no Python object is made per event, and the rejects, their line
numbers, reasons and raw text, the duplicates and the default as-of time are exactly those of
`score run --engine python`; so are the profiles (`duckdb_contacts`):

    sl_events(line, contact, event, target, at BIGINT microseconds, id, props JSON text)
    sl_contacts(contact, profile JSON text)

DuckDB may use `SCORELANG_DUCKDB_MEMORY` of memory (default 3GB), spilling to a temporary
folder beyond it. A table the SQL targets cannot compute exactly raises
`compiler.sql.UnsupportedError` carrying E3xx diagnostics (see compiler/sql/support.py).
"""
from __future__ import annotations

import json
import os
import tempfile
from typing import Callable, Iterable

from runtime import io as rio
from runtime.events import MICROS, Event, Reject, parse_time

from ...sql import check, generate
from ...sql.accounts import accounts_sql, check_accounts
from . import duckdb_contacts, duckdb_input

MEMORY_ENV = "SCORELANG_DUCKDB_MEMORY"
DEFAULT_MEMORY = "3GB"

EVENT_COLUMNS = ("contact", "event", "target", "at", "id", "props", "seq")


def run(table: dict, events: str, contacts: str | None, as_of: int | None,
        on_reject: Callable[[Reject], None], progress: Callable[[int], None] | None = None,
        on_contact_reject: Callable[[Reject], None] | None = None) -> list[dict]:
    """The results; `on_contact_reject`, when given, gets the rejected contacts lines (those
    of `compiler.run.readers.read_contacts`, so that `score run` need not read the file again
    for them)."""
    _refuse(table, contacts=(contacts, on_contact_reject))
    return _run_files(table, events, contacts, as_of, on_reject, progress, False,
                      on_contact_reject=on_contact_reject)[0]


def run_with_accounts(table: dict, events: str, contacts: str | None, as_of: int | None,
                      on_reject: Callable[[Reject], None],
                      progress: Callable[[int], None] | None = None,
                      on_contact_reject: Callable[[Reject], None] | None = None
                      ) -> tuple[list[dict], list[dict]]:
    """`run`, then the accounts statement (`compiler.sql.accounts`) over its results."""
    _refuse(table, accounts=True, contacts=(contacts, on_contact_reject))
    return _run_files(table, events, contacts, as_of, on_reject, progress, True,
                      on_contact_reject=on_contact_reject)


def run_with_actions(table: dict, events: str, contacts: str | None, as_of: int | None,
                     on_reject: Callable[[Reject], None], since: int | None = None,
                     accounts: bool = False, progress: Callable[[int], None] | None = None,
                     on_contact_reject: Callable[[Reject], None] | None = None
                     ) -> tuple[list[dict], list[dict], list[dict]]:
    """`run` (and the accounts when `accounts`), then the actions statement
    (`compiler.sql.actions`) over the same loaded events: the `runtime.ActionLog` records of
    the Python engine, computed in DuckDB."""
    _refuse(table, accounts=accounts, contacts=(contacts, on_contact_reject))
    return _run_files(table, events, contacts, as_of, on_reject, progress, accounts,
                      actions=(since,), on_contact_reject=on_contact_reject)


def _run_files(table, events, contacts, as_of, on_reject, progress, accounts: bool,
               actions: tuple | None = None, on_contact_reject=None):
    statement = accounts_sql(table, "duckdb", RESULTS_TABLE, duckdb_contacts.TABLE) \
        if accounts else None
    with tempfile.TemporaryDirectory(prefix="scorelang-duckdb-") as spill:
        con = connect(spill)
        try:
            with rio.paused_collector():  # the results: a dict per contact, no cycles
                duckdb_contacts.load_contacts(con, contacts, on_contact_reject)
                before = _file_state(events)

                def query(events_table: str) -> str:
                    return generate(table, "duckdb", events_table, duckdb_contacts.TABLE,
                                    as_of=as_of, seq_column="line")

                # the results alone: read, validated and scored in one statement when it can
                rows = None if statement is not None or actions is not None else \
                    duckdb_input.scored(con, events, on_reject, query, progress)
                if rows is not None:
                    found = results(table, rows), []
                else:
                    # not copied: a Parquet events file is read again by the statements below
                    duckdb_input.load_events(con, events, on_reject, progress, copy=False)
                    sql = query(duckdb_input.TABLE)
                    if statement is None:
                        found = results(table, con.execute(sql).fetchall()), []
                    else:
                        found = _with_accounts(table, con, sql, statement)
                if actions is not None:
                    found = (*found, _actions(con, table, as_of, actions[0], found[0]))
                if _file_state(events) != before:
                    from . import EngineError

                    raise EngineError(f"{events} changed while the duckdb engine read it "
                                      "(it reads the file more than once): run again")
                return found
        finally:
            con.close()


def _file_state(path: str) -> tuple | None:
    """What tells a file replaced or rewritten (its inode, size and modification time)."""
    if path == rio.STDIN:
        return None
    state = os.stat(path)
    return state.st_ino, state.st_size, state.st_mtime_ns


def _actions(con, table: dict, as_of: int | None, since: int | None,
             results: list[dict]) -> list[dict]:
    """The actions statement's rows as `runtime.ActionLog` records, over the loaded events
    of the contacts whose results hold an action after `since` (to the second, as results
    print times): contacts are evaluated independently, so the others would add nothing
    but their cost, and a nightly `--since` export re-evaluates only the contacts with
    new actions. T is fixed first: the default (the latest event) is over all events."""
    from ...sql.actions import actions_sql

    floor = None if since is None else since // MICROS * MICROS  # the second `since` is in
    acting = [r["contact"] for r in results if r["actions"] and
              (floor is None or any(parse_time(a["at"]) >= floor for a in r["actions"]))]
    if not acting:
        return []
    if as_of is None:
        (as_of,), = con.execute(f'SELECT MAX("at") FROM {duckdb_input.TABLE}').fetchall()
    import pyarrow as pa

    con.register("sl_acting_list", pa.table({"contact": duckdb_contacts.text_array(acting)}))
    try:
        con.execute("CREATE TEMP TABLE sl_acting AS SELECT contact FROM sl_acting_list")
    finally:
        con.unregister("sl_acting_list")
    for view, source in (("sl_acting_events", duckdb_input.TABLE),
                         ("sl_acting_contacts", duckdb_contacts.TABLE)):
        con.execute(f"CREATE TEMP VIEW {view} AS SELECT * FROM {source} "
                    "WHERE contact IN (SELECT contact FROM sl_acting)")
    sql = actions_sql(table, "duckdb", "sl_acting_events", "sl_acting_contacts", as_of=as_of,
                      seq_column="line", since=since)
    return [] if sql is None else action_records(table, con.execute(sql).fetchall())


_POINTS = ("event", "due", "as-of")  # the statement's `kind` 0, 1, 2


def action_records(table: dict, rows) -> list[dict]:
    """The actions statement's rows (compiler/sql/actions.py) as `runtime.ActionLog`
    records."""
    score_names = [score["name"] for score in table["scores"]]
    grade_names = [grade["name"] for grade in table["grades"]]
    out = []
    for contact, ts, action, arg, kind, line, event_id, scores, grades, stage in rows:
        scores = json.loads(scores)
        grades = json.loads(grades) if grades != "{}" else {}
        out.append({"contact": contact, "at": int(ts), "action": action, "arg": arg,
                    "point": _POINTS[kind], "event_id": event_id,
                    "event_line": None if line is None else int(line),
                    "scores": {name: scores.get(name) for name in score_names},
                    "grades": {name: grades[name] for name in grade_names if name in grades},
                    "stage": stage})
    return out


def _refuse(table: dict, accounts: bool = False, contacts: tuple = (None, None)) -> None:
    """Raise the diagnostics of a table the SQL cannot compute exactly; `contacts` (the file
    and the callback for its rejects, `run`) are reported first, as `score run` reported them
    before the engine ran when it read them itself."""
    refused = check(table, "duckdb") + (check_accounts(table, "duckdb") if accounts else [])
    if refused:
        from dsl import render

        from . import EngineError

        path, on_contact_reject = contacts
        if path is not None and on_contact_reject is not None:
            from .. import readers

            for reject in readers.read_contacts(path)[1]:
                on_contact_reject(reject)

        raise EngineError("the duckdb engine refuses this model:\n" +
                          render.render_text(refused).rstrip("\n"))


def connect(spill: str | None = None):
    """A DuckDB connection with a memory limit (`SCORELANG_DUCKDB_MEMORY`, default 3GB) and,
    given a folder, room to spill there."""
    import duckdb

    config = {"memory_limit": os.environ.get(MEMORY_ENV, DEFAULT_MEMORY)}
    if spill is not None:
        config["temp_directory"] = spill
    return quiet(duckdb.connect(config=config))


def quiet(con):
    """`con` without DuckDB's progress bar: DuckDB draws it on standard output for a query
    that runs over two seconds, where `score run` writes the results (and an embedding
    service its own output). A connection option DuckDB takes only once connected."""
    con.execute("SET enable_progress_bar = false")
    return con


def run_events(table: dict, events: Iterable[Event], profiles: dict[str, dict],
               as_of: int | None = None, connection=None) -> list[dict]:
    """Score accepted events and profiles (as `runtime.Engine.run` does) with DuckDB."""
    import duckdb

    sql = generate(table, "duckdb", "events", "contacts", as_of=as_of)
    con = connection if connection is not None else quiet(duckdb.connect())
    try:
        con.register("events", _events_arrow(events))
        con.register("contacts", _contacts_arrow(profiles))
        rows = con.execute(sql).fetchall()
    finally:
        con.unregister("events")
        con.unregister("contacts")
        if connection is None:
            con.close()
    return results(table, rows)


RESULTS_TABLE = "scorelang_results"  # the contact results, for the accounts statement


def run_events_with_accounts(table: dict, events: Iterable[Event], profiles: dict[str, dict],
                             as_of: int | None = None, connection=None
                             ) -> tuple[list[dict], list[dict]]:
    """`run_events`, and the accounts (docs/language.md 10.6): the contact query's results
    are kept in a temporary table that the accounts statement reads."""
    import duckdb

    accounts = accounts_sql(table, "duckdb", RESULTS_TABLE, "contacts")
    if accounts is None:
        return run_events(table, events, profiles, as_of, connection), []
    sql = generate(table, "duckdb", "events", "contacts", as_of=as_of)
    con = connection if connection is not None else quiet(duckdb.connect())
    try:
        con.register("events", _events_arrow(events))
        con.register("contacts", _contacts_arrow(profiles))
        return _with_accounts(table, con, sql, accounts)
    finally:
        con.unregister("events")
        con.unregister("contacts")
        if connection is None:
            con.close()


def _with_accounts(table: dict, con, sql: str, accounts: str) -> tuple[list[dict], list[dict]]:
    """The contact query's results kept in a temporary table, then the accounts statement
    over it; the table is dropped again (a caller's connection stays as it was)."""
    try:
        con.execute(f"CREATE TEMP TABLE {RESULTS_TABLE} AS {sql}")
        rows = con.execute(f"SELECT * FROM {RESULTS_TABLE} ORDER BY contact").fetchall()
        lines = con.execute(accounts).fetchall()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {RESULTS_TABLE}")
    return results(table, rows), [account_line(table, row) for row in lines]


def account_line(table: dict, row) -> dict:
    """An accounts row of the statement as the accounts line of `score run --accounts`."""
    account, members, scores, grades = row
    scores, grades = json.loads(scores), json.loads(grades)
    section = table["accounts"]
    return {"account": account, "contacts": int(members),
            "scores": {s["name"]: scores.get(s["name"]) for s in section["scores"]},
            "grades": {g["name"]: grades[g["name"]] for g in section["grades"]
                       if g["name"] in grades}}


def _events_arrow(events: Iterable[Event]):
    import pyarrow as pa

    columns: dict[str, list] = {name: [] for name in EVENT_COLUMNS}
    contact, event, target, at, ids, props, seq = (columns[n] for n in EVENT_COLUMNS)
    dumps = json.dumps
    for index, e in enumerate(events):
        contact.append(e.contact)
        event.append(e.event)
        target.append(e.target)
        at.append(e.at)
        ids.append(e.id)
        props.append(dumps(e.props, ensure_ascii=False) if e.props else None)
        seq.append(index)  # input order (the readers yield events in input order)
    types = {"at": pa.int64(), "seq": pa.int64()}
    return pa.table({name: pa.array(values, type=types.get(name, pa.string()))
                     for name, values in columns.items()})


def _contacts_arrow(profiles: dict[str, dict]):
    import pyarrow as pa

    names = sorted(profiles)
    texts = [json.dumps(profiles[name], ensure_ascii=False) for name in names]
    return pa.table({"contact": duckdb_contacts.text_array(names),
                     "profile": duckdb_contacts.text_array(texts)})


def _result(table: dict, row) -> dict:
    return results(table, [row])[0]


def results(table: dict, rows) -> list[dict]:
    """The query's rows as section-7 results: one per contact, so per-row work is kept small
    (names looked up once, the C scanner called directly, `[]` and `{}` not parsed)."""
    import json.scanner

    scan = json.scanner.make_scanner(json.JSONDecoder())
    score_names = [score["name"] for score in table["scores"]]
    grade_names = [grade["name"] for grade in table["grades"]]
    out = []
    for contact, scores, grades, stage, actions in rows:
        scores = scan(scores, 0)[0]
        grades = scan(grades, 0)[0] if grades != "{}" else {}
        out.append({
            "contact": contact,
            "scores": {name: scores.get(name) for name in score_names},
            "grades": {name: grades[name] for name in grade_names if name in grades},
            "stage": stage,
            "actions": [{"at": a["at"], "action": a["action"], "arg": a["arg"]}
                        for a in scan(actions, 0)[0]] if actions != "[]" else [],
        })
    return out


def timeline_text(table: dict, events: str, contacts: str | None, as_of: int | None,
                  on_reject: Callable[[Reject], None], period: str, fmt: str, columns: list,
                  target, progress: Callable[[int], None] | None = None) -> bool:
    """`score run --timeline` in `fmt` laid out by DuckDB (`duckdb_timeline_text`: the bytes
    of `writers.write_timeline`) and written to `target.open()` (`writers.TimelineFile`);
    False, before reading any input, when it cannot be written so (the caller then writes
    `timeline`'s rows)."""
    from . import duckdb_timeline_text as text

    _refuse(table)
    if not text.writable(table, fmt):
        return False
    with tempfile.TemporaryDirectory(prefix="scorelang-duckdb-") as spill:
        con = connect(spill)
        try:
            text.write(con, table, contacts, events, as_of, on_reject, period, fmt, columns,
                       target, progress)
            return True
        finally:
            con.close()


def timeline(table: dict, events: str, contacts: str | None, as_of: int | None,
             on_reject: Callable[[Reject], None], period: str,
             progress: Callable[[int], None] | None = None) -> list[dict]:
    """`score run --timeline` with DuckDB: the generated query as of every period end
    (`duckdb_timeline`); the same rows as the Python engine."""
    from . import duckdb_timeline

    _refuse(table)
    with tempfile.TemporaryDirectory(prefix="scorelang-duckdb-") as spill:
        con = connect(spill)
        try:
            return duckdb_timeline.timeline(con, table, contacts, events, as_of, on_reject,
                                            period, results, progress)
        finally:
            con.close()
