"""Score timelines: each contact's scores, grades and stage at the end of every period.

`Engine.timeline(events, contacts, as_of, period)` gives, per contact, one row per day, week
(Monday to Sunday) or month of the model's time zone, from the period of the contact's first
event to the period of the as-of time T:

    {"contact": "c-17", "period": "2026-03-02", "as_of": "2026-03-02T22:59:59.999999Z",
     "scores": {...}, "grades": {...}, "stage": "MQL"}

A row is the contact's result as `run(as_of=END)` gives it, END being the period's last
microsecond (`as_of`; `period` is the local date the period starts on); the row of T's own
period is as of T, so a contact's last row is its result. Period ends are evaluation points of
that row only: what happens at an end (a stage move, a trigger's reset) does not carry over to
later rows or to the contact's result, exactly as with separate `--as-of` runs. A contact with
no event up to T has one row, for T's period; with no events and no as-of time there is none.

The contact is evaluated once, in time order; at each period end the engine's state is forked
and finished there (absence and inactivity awards due by then, then the as-of point). When
nothing can change at the end (no award due, no decay step, no stage left to move) the state
is read as it is, without a fork.
"""
from __future__ import annotations

from .events import MICROS, format_time
from .periods import PERIODS

_EMPTY: dict = {}


def check_period(period: str) -> None:
    if period not in PERIODS:
        raise ValueError(f"timeline period must be one of {', '.join(PERIODS)}, not {period!r}")


def contact_rows(engine, contact_id: str, items: list, profile, until: int,
                 period: str) -> list[dict]:
    """The rows of one contact; `items` are its events in processing order."""
    calendar = engine.table.calendar
    state = engine._new_contact(contact_id, profile)
    rows: list[dict] = []
    end = None  # the last microsecond of the current period
    last = None  # the values of the previous row, while no event came since
    for event in items:
        if event.at > until:
            break
        if end is None:
            end = calendar.next_start(period, event.at) - 1
        while event.at > end:
            values, last = _values_at(engine, state, end, last)
            rows.append(_row(contact_id, calendar, period, end, values))
            end = calendar.next_start(period, end + 1) - 1
        engine._on_event(state, event, None, None)
        last = None
    if end is None:
        end = calendar.next_start(period, until) - 1
    while end < until:
        values, last = _values_at(engine, state, end, last)
        rows.append(_row(contact_id, calendar, period, end, values))
        end = calendar.next_start(period, end + 1) - 1
    engine._finish(state, until, None, None)
    rows.append(_row(contact_id, calendar, period, until, _values(engine, state, until)))
    return rows


def _values_at(engine, state, end: int, last):
    """((scores, grades, stage) as of `end`, what to pass as `last` next), leaving `state`
    as it is; `last` is what the state read at the previous end with no event since."""
    if not state.scored or _settled(engine, state, end):
        # Read as it is. Only an event unsettles a state, so with no event since the
        # previous end that end was settled too, and `last` is what the state still reads.
        values = last or _values(engine, state, end)
        return values, values
    twin = state.fork()
    engine._finish(twin, end, None, None)
    return _values(engine, twin, end), None


def _settled(engine, state, end: int) -> bool:
    """Whether the as-of point at `end` changes nothing and reads the state as it is: no
    absence or inactivity award due by `end`, no decay step or expiry reached (reading one
    would advance the state's timed awards), and a point there would be skipped."""
    due = engine._next_due(state)
    if due is not None and due <= end:
        return False
    awards = state.awards
    for i in engine.table.timed:
        heap = awards[i][1]
        if heap and heap[0][0] <= end:
            return False
    return not (engine.table.lifecycle and state.dirty)


def _values(engine, state, at: int):
    if not state.scored:
        names = engine.table.score_names
        return dict.fromkeys(names), _EMPTY, None
    live = engine.live(state, at)
    grades = {name: live[name] for name, *_ in engine.table.grades if name in live}
    scores = {name: live[name] for name in engine.table.score_names}
    stage = engine.table.stages[state.stage][0] if state.stage >= 0 else None
    return scores, grades, stage


def _row(contact_id: str, calendar, period: str, at: int, values) -> dict:
    scores, grades, stage = values
    return {"contact": contact_id, "period": calendar.start_of(period, at).isoformat(),
            "as_of": time_text(at), "scores": dict(scores), "grades": dict(grades),
            "stage": stage}


def time_text(micros: int) -> str:
    """UTC with the microseconds when there are any: a period ends at .999999."""
    text = format_time(micros)
    fraction = micros % MICROS
    return text if not fraction else f"{text[:-1]}.{fraction:06d}Z"
