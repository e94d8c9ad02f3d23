"""`score run --timeline` on the DuckDB engine: the generated query, once per period end.

A timeline row is, by definition (runtime/timeline.py), the contact's result as of the end of
its period. This module asks the generated query (`compiler.sql.generate`, left as it is) for
exactly that: the events and contacts are loaded into DuckDB once (`sl_events`,
`sl_contacts`, as `score run --engine duckdb` loads them), then the query runs as of every
period end, each its own statement, and a contact gets the rows of the ends from its first
event's period on, then the row as of the as-of time T. The periods are those of the model's
time zone (`runtime.periods.Calendar`, as the Python engine names them).

Where the state changes only at awards (no decay or expiry, no reset, no stage condition
reading `stage`), the rows before T's period come from one statement instead
(compiler/sql/timeline.py: the points evaluated once, each end joined to the last point
before it); other models cost one query per period (90 for a quarter by day).
"""
from __future__ import annotations

from typing import Callable

from runtime.events import Reject
from runtime.periods import Calendar
from runtime.timeline import check_period, time_text

from ...sql import generate, get_dialect
from ...sql.timeline import timeline_sql
from . import duckdb_contacts, duckdb_input


def period_ends(calendar: Calendar, period: str, first: int | None, until: int) -> list[int]:
    """The ends (last microseconds) of the periods from the first event's to T's, T's own
    excluded: the timeline's rows before T's period."""
    ends: list[int] = []
    if first is not None:
        end = calendar.next_start(period, first) - 1
        while end < until:
            ends.append(end)
            end = calendar.next_start(period, end + 1) - 1
    return ends


def timeline(con, table: dict, contacts: str | None, events: str, as_of: int | None,
             on_reject: Callable[[Reject], None], period: str, results: Callable,
             progress=None) -> list[dict]:
    """The rows of `Engine.timeline`, sorted by contact, then period, from connection `con`;
    `results(table, rows)` turns the query's rows into results (the duckdb engine's)."""
    check_period(period)
    duckdb_contacts.load_contacts(con, contacts)
    duckdb_input.load_events(con, events, on_reject, progress)
    events_table = duckdb_input.TABLE
    latest, = con.execute(f'SELECT MAX("at") FROM {events_table}').fetchone()
    until = as_of if as_of is not None else latest
    if until is None:
        return []
    # a duplicate keeps the earliest of its copies, so MIN over all rows is the first kept
    firsts = dict(con.execute(f'SELECT contact, MIN("at") FROM {events_table} '
                              f'WHERE "at" <= {int(until)} GROUP BY contact').fetchall())
    calendar = Calendar(table["timezone"])
    ends = period_ends(calendar, period, min(firsts.values()) if firsts else None, until)
    rows: list[tuple[str, int, dict]] = []

    names: dict[int, tuple[str, str]] = {}  # per end: its period's label and its time text

    def add(contact: str, end: int, result: dict) -> None:
        label, stamp = names.get(end) or names.setdefault(
            end, (calendar.start_of(period, end).isoformat(), time_text(end)))
        rows.append((contact, end, {
            "contact": contact, "period": label, "as_of": stamp,
            "scores": result["scores"], "grades": result["grades"], "stage": result["stage"]}))

    one = None
    if ends:
        d = get_dialect("duckdb")
        one = timeline_sql(table, events_table, duckdb_contacts.TABLE, until,
                           d.values_table([(e,) for e in ends], ("end_at",)), seq_column="line")
    if one is not None:
        # one statement for the ends before T's (compiler/sql/timeline.py), the query for T's
        # a contact's rows repeat its values from one end to the next until an award: each
        # distinct (scores, grades, stage) is parsed once and its dicts shared by the rows
        # that read it (as the Python engine shares a state's values between such rows)
        parsed: dict[tuple, dict] = {}
        for contact, end, scores, grades, stage, actions in con.execute(one).fetchall():
            key = (scores, grades, stage)
            value = parsed.get(key)
            if value is None:
                value = parsed[key] = results(table, [(contact, scores, grades, stage,
                                                       actions)])[0]
            add(contact, end, value)
        ends = []
    for end in [*ends, until]:
        sql = generate(table, "duckdb", events_table, duckdb_contacts.TABLE, as_of=end,
                       seq_column="line")
        for result in results(table, con.execute(sql).fetchall()):
            first = firsts.get(result["contact"])
            if end != until and (first is None or first > end):
                continue  # before the contact's first period
            add(result["contact"], end, result)
    rows.sort(key=lambda item: item[:2])
    return [row for _, _, row in rows]
