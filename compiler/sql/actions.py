"""Actions (`score run --actions`, docs/running.md) as one SQL statement: a row per action fired.

The statement is the contact query (`compiler.sql.query`) built with every score, group and
grade computed at every evaluation point, as though the stages and triggers read them all,
ending in `acts` (one row per action fired) instead of the per-contact result:

    contact     text
    ts          BIGINT, epoch microseconds of the point
    action, arg text
    kind        0 an event point, 1 an absence or inactivity award's time, 2 the as-of time T
    line        the causing event's `seq` (with `seq_column="line"`: its input line), else NULL
    event_id    the causing event's `id` (NULL without one, and at points of kind 1 and 2)
    scores      JSON object text: every score at the point (as the trigger saw it: after
                the point's awards and stage move, before its resets)
    grades      JSON object text: the grades that hold there
    stage       text or NULL

sorted by contact, then evaluation order: the records `runtime.ActionLog` makes, in the order
it gives them. `since` keeps the actions of points after that time only. Two choices differ
from the contact query, both because the values are read: a contact reset by a `once`
trigger always takes the second pass (the first pass only stands when the stage and
firings cannot differ, its values after the reset can), and values are columns of `fire`.
"""
from __future__ import annotations

from dsl.diagnostics import error

from .dialects import Dialect, get_dialect
from .query import QueryBuilder
from .quoting import QuotingError
from .statements import select

__all__ = ["actions_sql"]


class ActionsBuilder(QueryBuilder):
    """The contact query's builder, ending in the actions rows (see the module docstring)."""

    def __init__(self, *args, since: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.since = since

    def lifecycle_reads(self):
        """Everything: the values of every point are written with its actions."""
        return (list(range(len(self.scores))), [s.index for s in self.slots[len(self.scores):]],
                list(enumerate(self.t["grades"])))

    def _actions(self) -> None:
        super()._actions()
        # the per-contact array of the results is not read here
        self.query.ctes = [cte for cte in self.query.ctes if cte.name != "actagg"]

    def _redo(self) -> None:
        self.add("redo", select(["*"], "cut"))

    def _values(self) -> list[str]:
        groups = [s.index for s in self.slots[len(self.scores):]]
        return ([f"s_{i}" for i in range(len(self.scores))] + [f"s_{k}" for k in groups]
                + [f"g_{j}" for j in range(len(self.t["grades"]))])

    def carried(self, alias: str, into: str) -> list[str]:
        names = self._values() + (["kind", "seq", "stage"] if into == "acts" else [])
        return [f"{alias}.{name} AS {name}" for name in names]

    def _result(self) -> None:
        d = self.d
        scores = [(name, f"a.s_{i}") for i, name in enumerate(self.scores)]
        grades = [(g["name"], f"a.g_{j}") for j, g in enumerate(self.t["grades"])]
        stage = "NULL"
        if self.t["stages"]:
            whens = " ".join(f"WHEN {n + 1} THEN {d.string(s['name'])}"
                             for n, s in enumerate(self.t["stages"]))
            stage = f"CASE a.stage {whens} END"
        columns = ["a.contact AS contact", "a.ts AS ts", "a.action AS action", "a.arg AS arg",
                   "a.kind AS kind", "CASE WHEN a.kind = 0 THEN a.seq END AS line",
                   "e.id AS event_id", f"{d.json_object(scores)} AS scores",
                   f"{d.json_object_present(grades) if grades else chr(39) + '{}' + chr(39)}"
                   " AS grades", f"{stage} AS stage"]
        source = "acts AS a\nLEFT JOIN raw AS e ON a.kind = 0 AND e.contact = a.contact " \
                 "AND e.seq = a.seq"
        where = [f"a.ts > {self.lit(self.since)}"] if self.since is not None else None
        self.query.final = select(columns, source, where,
                                  order_by=[d.sort_key("a.contact"), "a.pn", "a.ti", "a.ai"])


def actions_sql(table: dict, dialect: str | Dialect = "duckdb", events_table: str = "events",
                contacts_table: str = "contacts", *, as_of: int | None = None,
                seq_column: str | None = "seq", since: int | None = None) -> str | None:
    """The actions statement of `table` in `dialect` (arguments as `compiler.sql.generate`);
    None for a table without triggers (no action can fire). Raises `UnsupportedError` for
    what `compiler.sql.check` refuses."""
    from . import UnsupportedError, check, render

    d = get_dialect(dialect) if isinstance(dialect, str) else dialect
    diagnostics = check(table, d)
    if diagnostics:
        raise UnsupportedError(diagnostics)
    if not any(t["actions"] for t in table["triggers"]):
        return None
    try:
        query = ActionsBuilder(table, d, events_table, contacts_table, as_of, seq_column,
                               since=since).build()
    except QuotingError as exc:
        raise UnsupportedError([error("E302", f"{exc}; the {d.name} query cannot name it",
                                      None, hint="choose another name")]) from None
    return render(query, d)
