"""The DuckDB engine: the rule table as one SQL query (`compiler.sql`), run in DuckDB.

Input is read and validated by the same readers as the Python engine (`compiler.run.readers`:
JSON Lines, CSV, Parquet), so rejects, their line numbers and reasons, duplicates and the
default as-of time are exactly those of `score run --engine python`; the accepted events and
the profiles are then handed to DuckDB as Arrow tables:

    events(contact, event, target, at BIGINT microseconds, id, props JSON text, seq)
    contacts(contact, profile JSON text)

A table the SQL targets cannot compute exactly raises `compiler.sql.UnsupportedError`
carrying E3xx diagnostics (see compiler/sql/support.py).
"""
from __future__ import annotations

import json
from typing import Callable, Iterable

from runtime.events import Event, Reject

from .. import readers
from ...sql import check, generate

EVENT_COLUMNS = ("contact", "event", "target", "at", "id", "props", "seq")


def run(table: dict, events: str, contacts: str | None, as_of: int | None,
        on_reject: Callable[[Reject], None], progress: Callable[[int], None] | None = None
        ) -> list[dict]:
    refused = check(table, "duckdb")
    if refused:
        from dsl import render

        from . import EngineError

        raise EngineError("the duckdb engine refuses this model:\n" +
                          render.render_text(refused).rstrip("\n"))
    profiles = readers.read_contacts(contacts)[0] if contacts else {}
    items = readers.read_events(events, progress=progress)
    return run_events(table, _accepted(items, on_reject), profiles, as_of)


def run_events(table: dict, events: Iterable[Event], profiles: dict[str, dict],
               as_of: int | None = None, connection=None) -> list[dict]:
    """Score accepted events and profiles (as `runtime.Engine.run` does) with DuckDB."""
    import duckdb

    sql = generate(table, "duckdb", "events", "contacts", as_of=as_of)
    con = connection if connection is not None else duckdb.connect()
    try:
        con.register("events", _events_arrow(events))
        con.register("contacts", _contacts_arrow(profiles))
        rows = con.execute(sql).fetchall()
    finally:
        con.unregister("events")
        con.unregister("contacts")
        if connection is None:
            con.close()
    return [_result(table, row) for row in rows]


def _accepted(items, on_reject) -> Iterable[Event]:
    for item in items:
        if isinstance(item, Reject):
            on_reject(item)
        else:
            yield item


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
    return pa.table({"contact": pa.array(names, type=pa.string()),
                     "profile": pa.array(texts, type=pa.string())})


def _result(table: dict, row) -> dict:
    contact, scores, grades, stage, actions = row
    scores = json.loads(scores)
    grades = json.loads(grades)
    return {
        "contact": contact,
        "scores": {s["name"]: scores.get(s["name"]) for s in table["scores"]},
        "grades": {g["name"]: grades[g["name"]] for g in table["grades"] if g["name"] in grades},
        "stage": stage,
        "actions": [{"at": a["at"], "action": a["action"], "arg": a["arg"]}
                    for a in json.loads(actions)],
    }
