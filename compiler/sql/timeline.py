"""A score timeline in one DuckDB statement (`score run --timeline --engine duckdb`).

A timeline row is the contact's result as of a period end E (runtime/timeline.py). Where the
state can change only at awards — no decay or expiry, no reset, no stage condition reading
`stage` — the as-of-E result is the state at the contact's last evaluation point at or before
E: the awards by E are the same in both runs (caps count in time order, absence and
inactivity awards due by E are those of the full run), and the as-of point at E itself
changes nothing, since a stage that could move there moved at that last point already. So
the sparse flow of the query (compiler/sql/lifecycle.py), with a point at every award of
every slot and at each contact's first event, is evaluated once, and each (contact, E) takes
the last point with `ts <= E` (an ASOF join; the row of T's own period is the result itself,
the query as of T). For DuckDB's COPY (`timeline_spans_sql`), each point gives instead the
span of ends its state holds for, T's included: the last point is the as-of point at T, so
the state there is the result. Other models return None: the caller runs the query once per
end.
"""
from __future__ import annotations

from .dialects import get_dialect
from .query import QueryBuilder
from .statements import select, union_all


class TimelineBuilder(QueryBuilder):
    """The query's CTEs with every score, group and grade evaluated at every point, and a
    final SELECT of the rows as of each end in `ends_sql` (a SELECT of one column `end_at`),
    or, given `ends` instead (T the last of them), the spans of the rows (`_span_rows`)."""

    def __init__(self, table: dict, events_table: str, contacts_table: str, as_of: int,
                 ends_sql: str | None, seq_column: str | None = "seq",
                 ends: list[int] | None = None) -> None:
        super().__init__(table, get_dialect("duckdb"), events_table, contacts_table, as_of,
                         seq_column)
        self.ends_sql = ends_sql
        self.ends = ends  # the spans, with the values as columns (`typed_columns`)
        self.lifecycle = True  # the points are what the rows read, stages or not
        self.next_point_time = True  # `nts` from the flow's window (compiler/sql/lifecycle.py)

    def exact(self) -> bool:
        decays = any(s.get("decay") or s.get("expire") is not None for s in self.t["scores"])
        return not decays and self.reset_trigger is None and not self.stage_reads_stage

    def _summed_slots(self) -> list[int]:
        return [s.index for s in self.slots if self._rules_of_slot(s.index)]

    def lifecycle_reads(self):
        return (list(range(len(self.scores))), [s.index for s in self.slots[len(self.scores):]],
                list(enumerate(self.t["grades"])))

    def first_point_needed(self) -> bool:
        return True  # a row before any award reads the first point's state

    def build(self):
        query = super().build()
        self.query.ctes = [c for c in query.ctes if c.name not in ("res",)]
        self._rows()
        self._materialize()
        return self.query

    def _rows(self) -> None:
        d = self.d
        self.add("tl_first", select(["contact", "MIN(ts) AS first_ts"], "raw CROSS JOIN tnow",
                                    ["ts <= tnow.as_of"], group_by=["contact"]))
        # the last point of each time: the state there holds until the next time (`nts`)
        # only the columns the rows read: the ASOF join below carries them for every row
        kept = (["contact", "ts"] + [f"s_{i}" for i in range(len(self.scores))] +
                [f"g_{j}" for j in range(len(self.t["grades"]))] +
                (["stage"] if self.t["stages"] else []))
        # the next point's time: from the sparse flow's own window, else a window of its own
        nts = ("s.nts" if self.sparse else
               "LEAD(s.ts) OVER (PARTITION BY s.contact ORDER BY s.pn)")
        last = select([f"s.{c}" for c in kept] + [f"{nts} AS nts"], "p1_stg AS s")
        self.add("tl_pts", select([f"z.{c}" for c in kept + ["nts"]], f"({last}) AS z",
                                  ["z.nts IS NULL OR z.nts > z.ts"]))
        if self.ends is not None:
            self._span_rows()
            return
        self.add("tl_end", self.ends_sql)
        self.add("tl_want", select(["f.contact AS contact", "t.end_at AS end_at"],
                                   "tl_first AS f\nJOIN tl_end AS t ON t.end_at >= f.first_ts"))
        scores = [(name, f"CASE WHEN pp.scored THEN p.s_{i} END")
                  for i, name in enumerate(self.scores)]
        labels = [(g["name"], f"CASE WHEN pp.scored THEN p.g_{j} END")
                  for j, g in enumerate(self.t["grades"])]
        grades = d.json_object_present(labels) if labels else "'{}'"
        stage = "NULL"
        if self.t["stages"]:
            whens = " ".join(f"WHEN {n + 1} THEN {d.string(s['name'])}"
                             for n, s in enumerate(self.t["stages"]))
            stage = f"CASE WHEN pp.scored THEN CASE p.stage {whens} END END"
        self.query.final = select(
            ["w.contact AS contact", "w.end_at AS end_at", f"{d.json_object(scores)} AS scores",
             f"{grades} AS grades", f"{stage} AS stage", "'[]' AS actions"],
            "tl_want AS w\nJOIN ppl AS pp ON pp.contact = w.contact\n"
            "ASOF LEFT JOIN tl_pts AS p ON p.contact = w.contact AND w.end_at >= p.ts",
            order_by=["w.contact", "w.end_at"])

    def _span_rows(self) -> None:
        """The rows with their values as columns, as spans: (contact, k_lo, k_hi, values),
        the rows of the ends numbered k_lo+1..k_hi (the ends numbered 1..N in time order,
        the last of them T, so that the statement gives T's rows, the results, too) holding
        the same values. Each point's state holds for the ends in [its time, the next point's
        time): k_lo is the number of ends before the point, k_hi that before the next point
        (`ends_before`, arithmetic on two constant lists), or N. The last point of a scored
        contact is its as-of point at T (compiler/sql/lifecycle.py), so each scored contact
        has T's row, with or without events; an unscored one (its values NULL) has one span,
        from its first event's end on, or T's row alone. The caller expands a span into its
        rows (`unnest`) after sorting the spans, 10 times fewer than the rows (5.7 million
        rows at 2 million events): no join per row, no ASOF join or window per point."""
        stage = "NULL"
        if self.t["stages"]:
            whens = " ".join(f"WHEN {n + 1} THEN {self.d.string(s['name'])}"
                             for n, s in enumerate(self.t["stages"]))
            stage = f"CASE r.stage {whens} END"
        values = ([f"r.s_{i}" for i in range(len(self.scores))] +
                  [f"r.g_{j}" for j in range(len(self.t["grades"]))] + [stage])
        names = typed_columns(self.t)
        count = self.lit(len(self.ends))
        before = ends_before(self.d, self.ends[:-1])  # no time at or before T is after T
        self.add("tl_span", select(["r.*", f"{before('r.ts')} AS k_lo",
                                    f"CASE WHEN r.nts IS NULL THEN {count} ELSE "
                                    f"{before('r.nts')} END AS k_hi"],
                                   "tl_pts AS r"))
        scored = select(["r.contact AS contact", "r.k_lo AS k_lo", "r.k_hi AS k_hi"] +
                        [f"{v} AS {name}" for v, name in zip(values, names)],
                        "tl_span AS r", ["r.k_hi > r.k_lo"])
        # an unscored contact: NULL from its first event's end on, or at T's alone
        unscored = select(["p.contact AS contact", f"CASE WHEN f.first_ts IS NULL THEN "
                           f"{count} - 1 ELSE {before('f.first_ts')} END AS k_lo",
                           f"{count} AS k_hi"] +
                          [f"NULL AS {name}" for name in names],
                          "ppl AS p\nLEFT JOIN tl_first AS f ON f.contact = p.contact",
                          ["NOT p.scored"])
        self.query.final = union_all([scored, unscored])


def ends_before(d, ends: list[int]):
    """A function of an SQL time expression X (never NULL: `least` and `greatest` skip a
    NULL) to the SQL of how many of `ends` (increasing integers) are before X. The time line
    from the first end is cut into buckets of the shortest gap G between two ends, so that
    each holds one end at most; two constant lists give, per bucket, the count of ends
    before it and the end in it (else its own end, after any time in it): X's bucket, the
    first or the last for a time outside, and one comparison. There are about as many buckets as ends (two per end at most: a
    month of 31 days at G = 28 days, a day of 25 hours at G = 23)."""
    if not ends:
        return lambda x: d.integer(0)
    gap = min((b - a for a, b in zip(ends, ends[1:])), default=1)
    buckets = (ends[-1] - ends[0]) // gap + 1
    counts, inside = [], []
    n = 0
    for b in range(buckets):
        start = ends[0] + b * gap
        while n < len(ends) and ends[n] < start:
            n += 1
        counts.append(n)
        inside.append(ends[n] if n < len(ends) and ends[n] < start + gap else start + gap)
    counts_sql, inside_sql = d.integer_list(counts), d.integer_list(inside)
    first, width, top = d.integer(ends[0]), d.integer(gap), d.integer(buckets - 1)

    def sql(x: str) -> str:
        bucket = f"least({top}, greatest(0, {d.int_div(f'{x} - {first}', width)})) + 1"
        return (f"{counts_sql}[{bucket}] + CASE WHEN {inside_sql}[{bucket}] < {x} "
                f"THEN 1 ELSE 0 END")
    return sql


def typed_columns(table: dict) -> list[str]:
    """The value columns of a typed statement, after `contact` and `end_at`: `tl_sI` per
    score, `tl_gJ` per grade (label text), `tl_stage`; NULL for an unscored contact."""
    return ([f"tl_s{i}" for i in range(len(table["scores"]))] +
            [f"tl_g{j}" for j in range(len(table["grades"]))] + ["tl_stage"])


def typed_result_sql(table: dict, events_table: str, contacts_table: str, as_of: int,
                     seq_column: str | None = "seq") -> str:
    """The generated query (`compiler.sql.generate`, as of `as_of`) with the result as typed
    columns: contact, end_at (= `as_of`), then `typed_columns`; rows unsorted."""
    from . import render

    builder = QueryBuilder(table, get_dialect("duckdb"), events_table, contacts_table, as_of,
                           seq_column)
    query = builder.build()
    parts = builder.result_parts
    values = parts.scores + parts.grades + [parts.stage]
    query.final = select(["contact", f"{builder.lit(as_of)} AS end_at"] +
                         [f"{v} AS {name}" for v, name in zip(values, typed_columns(table))],
                         parts.source)
    builder._materialize()
    return render(query, builder.d)


def timeline_sql(table: dict, events_table: str, contacts_table: str, as_of: int,
                 ends_sql: str, seq_column: str | None = "seq") -> str | None:
    """The statement of the timeline rows before T's period end (contact, end_at, scores,
    grades, stage, actions), or None when the model is not one where it is exact (see
    above)."""
    return _statement(table, events_table, contacts_table, as_of, ends_sql, seq_column, None)


def timeline_spans_sql(table: dict, events_table: str, contacts_table: str, ends: list[int],
                       seq_column: str | None = "seq") -> str | None:
    """The statement of the spans of all timeline rows (contact, k_lo, k_hi, `typed_columns`;
    see `TimelineBuilder._span_rows`; unsorted), the last of `ends` (increasing) being the
    as-of time T, or None when the model is not one where it is exact (see above)."""
    return _statement(table, events_table, contacts_table, ends[-1], None, seq_column, ends)


def _statement(table, events_table, contacts_table, as_of, ends_sql, seq_column, ends):
    from . import check, render

    if check(table, "duckdb"):
        return None
    builder = TimelineBuilder(table, events_table, contacts_table, as_of, ends_sql, seq_column,
                              ends)
    if not builder.exact():
        return None
    return render(builder.build(), builder.d)
