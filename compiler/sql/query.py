"""The rule table as one SQL query: decisions here, layout in `templates/query.sql.j2`.

Shape of the query (CTEs in order; docs/sql.md explains each). The builder is split by job:
this module (input, people, events, result), `awards.py` (`aw`), `scores.py` (slots,
contributions, `fin`, grades), `lifecycle.py` (everything per evaluation point).

  raw     the events table, columns renamed; `seq` is the input order
  tnow    the as-of time T (a literal, or the latest `at` of the events)
  ppl     every contact (events or contacts table): profile, `scored` (require), profile
          points per slot (a score's ungrouped part, or a group)
  ev      events kept (not a duplicate id, at <= T)
  spell   with inactivity rules: each activity time and the next one
  aw      one row per award: event rules (caps by ROW_NUMBER), absence rules, inactivity
          rules; `c` = 0 for an award a cap withholds (its time is still a point)
  fin     final sums per slot as of T (decay / expiry as of T; awards before a reset excluded)
  -- with stages or triggers, per evaluation point:
  pts/flow/run      the points, and running sums per slot over awards and decay changes
  val/gr/lab/stg/trg/fire   values, grades, stage holds, the stage, trigger firings
  (twice when a `once` trigger resets: the first pass finds the reset point, `cut`)
  acts/actagg       the actions fired, in evaluation order
  res     the result row per contact

Awards keep their own truncation under decay: an award row's contribution is
`c * trunc(p * M_k / 10^9)`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .awards import AwardParts
from .conditions import Scope, condition_sql
from .dialects import Dialect
from .lifecycle import LifecycleParts
from .quoting import quote_comment, quote_identifier, quote_table
from .scores import ScoreParts, slots_of
from .statements import Cte, Query, select, union_all


@dataclass(frozen=True)
class ResultParts:
    """The final SELECT's source and its values as SQL expressions: one per score and per
    grade (in the table's order), and the stage; each NULL for an unscored contact."""
    source: str
    scores: list[str]
    grades: list[str]
    stage: str


class QueryBuilder(AwardParts, ScoreParts, LifecycleParts):
    def __init__(self, table: dict, dialect: Dialect, events_table: str, contacts_table: str,
                 as_of: int | None = None, seq_column: str | None = "seq") -> None:
        self.t = table
        self.d = dialect
        self.events_table = quote_table(events_table, dialect)
        self.contacts_table = quote_table(contacts_table, dialect)
        self.as_of = as_of
        self.seq_column = seq_column
        self.scores = [s["name"] for s in table["scores"]]
        self.score_info = {s["name"]: s for s in table["scores"]}
        self.rules = list(table["rules"])
        # every rule that makes award rows: event and absence rules (their index in `rules`),
        # then inactivity rules
        self.award_rules = self.rules + [dict(r, kind="inactivity")
                                         for r in table.get("inactivity") or ()]
        self.slots = slots_of(table)
        self.group_slot = {s.group: s.index for s in self.slots if s.group is not None}
        # sums and decayed products in the wide type when points come from event properties
        # without bounds that keep them as small as written points may be, or when a written
        # award times a decay multiplier (up to 10^9) may leave BIGINT (issue 10 item 12:
        # `+9000000000000000000` on a decayed score). HUGEINT sums cost DuckDB a fifth of
        # the hubspot_port query (benchmarks/README.md), so bounded `by` rules stay BIGINT.
        # (Spark's SUM of a BIGINT is a BIGINT: with awards of at most 9,223,372,036 it leaves
        # BIGINT only past 10^9 awards of one contact, and then fails in ANSI mode, which the
        # Spark engine sets, instead of wrapping)
        self.wide = any(map(_wide_by, self.rules)) or _large_points(table)
        self.lifecycle = bool(table["stages"] or table["triggers"])
        self.reset_trigger = self._reset_trigger()
        self.reset_scores = sorted({a["arg"] for a in self.reset_trigger["actions"]
                                    if a["action"] == "reset"}) if self.reset_trigger else []
        self.query = Query(header=[])
        # CTEs cheaper to compute again than to store (DuckDB would store a CTE read three
        # times): `raw` only renames the input columns, unless it numbers the rows itself
        self.inlined = {"raw"} if seq_column else set()

    # ------------------------------------------------------------------ small helpers
    def q(self, name: str) -> str:
        return quote_identifier(name, self.d)

    def lit(self, value: int) -> str:
        return self.d.integer(value)

    def add(self, name: str, body: str) -> None:
        self.query.ctes.append(Cte(name, body))

    def _reset_trigger(self) -> dict | None:
        triggers = [t for t in self.table_triggers() if
                    any(a["action"] == "reset" for a in t["actions"])]
        return triggers[0] if triggers else None

    def table_triggers(self) -> list[dict]:
        return list(self.t["triggers"])

    # ------------------------------------------------------------------ build
    def build(self) -> Query:
        self.query.header = [quote_comment(line) for line in (
            f"scorelang rule table format {self.t['format']}, dialect {self.d.name}",
            f"source sha256 {self.t['source']['sha256']}")]
        self._raw()
        self._asof()
        self._people()
        self._events()
        self._awards()
        self._multipliers()
        self._final_scores()
        if self.lifecycle:
            self._lifecycle()
        self._result()
        self._materialize()
        return self.query

    def _materialize(self) -> None:
        """Mark the CTEs read by two or more later parts of the query."""
        if not self.d.materialized_keyword:
            return
        texts = [c.body for c in self.query.ctes] + [self.query.final]
        for index, cte in enumerate(self.query.ctes):
            word = re.compile(rf"\b{re.escape(cte.name)}\b")
            readers = sum(len(word.findall(text)) for text in texts[index + 1:])
            cte.materialized = readers > 1 and cte.name not in self.inlined
            cte.inlined = readers > 1 and cte.name in self.inlined

    def _raw(self) -> None:
        q = self.q
        seq = (f"e.{q(self.seq_column)}" if self.seq_column
               else f"ROW_NUMBER() OVER (ORDER BY e.{q('at')})")
        self.add("raw", select([
            f"e.{q('contact')} AS contact", f"e.{q('event')} AS event",
            f"e.{q('target')} AS target", f"CAST(e.{q('at')} AS {self.d.bigint}) AS ts",
            f"e.{q('id')} AS id", f"e.{q('props')} AS props",
            f"CAST({seq} AS {self.d.bigint}) AS seq"], f"{self.events_table} AS e"))

    def _asof(self) -> None:
        if self.as_of is not None:
            self.add("tnow", f"SELECT {self.lit(self.as_of)} AS as_of")
        else:
            self.add("tnow", select(["MAX(ts) AS as_of"], "raw"))

    def _scope(self, **kwargs) -> Scope:
        return Scope(self.d, **kwargs)

    def _people(self) -> None:
        q = self.q
        scope = self._scope(json_columns={"contact": "c.profile"})
        require = self.t.get("require")
        scored = condition_sql(require, scope) if require is not None else "TRUE"
        columns = ["k.contact AS contact", "c.profile AS profile", f"{scored} AS scored"]
        for slot in self.slots:
            terms = [f"CASE WHEN {condition_sql(p['condition'], scope)} THEN "
                     f"{self.lit(p['points'])} ELSE 0 END"
                     for p in self.t["profile"] if self.slot_of(p) == slot.index]
            columns.append(f"{' + '.join(terms) if terms else self.lit(0)} AS prof_{slot.index}")
        contacts = (f"(SELECT x.{q('contact')} AS contact, x.{q('profile')} AS profile "
                    f"FROM {self.contacts_table} AS x)")
        keys = (f"(SELECT contact FROM raw {self.d.union_distinct} SELECT contact FROM {contacts}"
                " AS y)")
        self.add("ppl", select(columns, f"{keys} AS k\nLEFT JOIN {contacts} AS c "
                               f"ON c.contact = k.contact"))

    def _events(self) -> None:
        """The events that exist: not a duplicate id, not after T; only those of scored
        contacts (nothing of an unscored contact is in the result)."""
        columns = ["u.contact AS contact", "u.event AS event", "u.target AS target",
                   "u.ts AS ts", "u.seq AS seq", "u.props AS props"]
        if not self.d.tuned_plans:
            self._all_events(columns)
            return
        carried = ["r.*"]
        source, where = "raw AS r", []
        if self._uses_contact_in_where():
            columns.append("u.profile AS profile")
            carried.append("c.profile AS profile")
        if self._uses_contact_in_where() or self.t.get("require") is not None:
            source += "\nJOIN ppl AS c ON c.contact = r.contact"
        if self.t.get("require") is not None:
            where.append("c.scored")
        # the duplicate-id window sorts only the rows that carry an id (often none): a
        # CASE around the window would still sort every row
        with_id = select(carried + ["ROW_NUMBER() OVER (PARTITION BY r.contact, r.id "
                                    "ORDER BY r.ts, r.seq) AS dup"], source,
                         where + ["r.id IS NOT NULL"])
        without_id = select(carried + ["1 AS dup"], source, where + ["r.id IS NULL"])
        source = f"({union_all([without_id, with_id])}) AS u\nCROSS JOIN tnow"
        self.add("ev", select(columns, source, ["u.dup = 1", "u.ts <= tnow.as_of"]))

    def _all_events(self, columns: list[str]) -> None:
        """`ev` as the other dialects have it: every contact's events, one window."""
        dup = ("CASE WHEN id IS NULL THEN 1 ELSE ROW_NUMBER() OVER "
               "(PARTITION BY contact, id ORDER BY ts, seq) END AS dup")
        source = f"(SELECT raw.*, {dup} FROM raw) AS u\nCROSS JOIN tnow"
        if self._uses_contact_in_where():
            columns.append("c.profile AS profile")
            source += "\nLEFT JOIN ppl AS c ON c.contact = u.contact"
        self.add("ev", select(columns, source, ["u.dup = 1", "u.ts <= tnow.as_of"]))

    # ------------------------------------------------------------------ result
    def _result(self) -> None:
        """`res`: per contact, the values as of T (`fs_K`: score K's, or group slot K's) and
        the stage; the final SELECT lays out the section-7 result."""
        columns = ["p.contact AS contact", "p.scored AS scored"]

        def part(slot: int) -> str:
            return f"COALESCE(f.v_{slot}, 0) + p.prof_{slot}"

        for i, _ in enumerate(self.scores):
            columns.append(f"{self._score_value(i, part)} AS fs_{i}")
        for slot in self.slots[len(self.scores):]:
            columns.append(f"{self._group_value(slot.index, part)} AS fs_{slot.index}")
        source = "ppl AS p\nLEFT JOIN fin AS f ON f.contact = p.contact"
        has_actions = any(t["actions"] for t in self.t["triggers"])
        if self.lifecycle:
            columns.append("st.stage AS stage")
            source += "\nLEFT JOIN fire AS st ON st.contact = p.contact AND st.kind = 2"
        if has_actions:
            columns.append("ag.actions AS actions")
            source += "\nLEFT JOIN actagg AS ag ON ag.contact = p.contact"
        self.add("res", select(columns, source))
        grades = list(enumerate(self.t["grades"]))
        scores = [(name, f"CASE WHEN scored THEN fs_{i} END") for i, name in enumerate(self.scores)]
        stage = "NULL"
        if self.t["stages"]:
            whens = " ".join(f"WHEN {n + 1} THEN {self.d.string(s['name'])}"
                             for n, s in enumerate(self.t["stages"]))
            stage = f"CASE WHEN scored THEN CASE stage {whens} END END"
        actions = "'[]'"
        if has_actions:
            actions = "CASE WHEN scored THEN COALESCE(actions, '[]') ELSE '[]' END"
        source = "res"
        grades_sql = "'{}'"
        if grades:
            if any("matrix" in g for _, g in grades):
                # a matrix grade reads other grades' columns: they are computed around `res`
                source = f"({self.with_grades('res', grades, 'fs_', 'rg_')}) AS r"
                labels = [(g["name"], f"rg_{j}") for j, g in grades]
            else:
                labels = [(g["name"], self._grade_sql(g, self.grade_value_column(g, "fs_")))
                          for _, g in grades]
            grades_sql = (f"CASE WHEN scored THEN {self.d.json_object_present(labels)} "
                          "ELSE '{}' END")
        # the same values as columns (NULL when unscored), for a caller that lays the result
        # out itself (compiler/sql/timeline.py, the DuckDB timeline written by COPY)
        self.result_parts = ResultParts(
            source, [expr for _, expr in scores],
            [f"CASE WHEN scored THEN {expr} END" for _, expr in labels] if grades else [],
            stage)
        self.query.final = select([
            "contact", f"{self.d.json_object(scores)} AS scores", f"{grades_sql} AS grades",
            f"{stage} AS stage", f"{actions} AS actions"], source,
            order_by=[self.d.sort_key("contact")])


_PRODUCT_LIMIT = (2 ** 63 - 1) // 10 ** 9  # |points| above it: points * M_k may leave BIGINT


def _wide_by(rule: dict) -> bool:
    """Whether a `by PROP` rule's awards may exceed what a written award may be: no bounds,
    or a bound beyond `_PRODUCT_LIMIT`."""
    by = rule.get("by")
    if by is None:
        return False
    low, high = by.get("low"), by.get("high")
    return low is None or high is None or max(abs(low), abs(high)) > _PRODUCT_LIMIT


def _large_points(table: dict) -> bool:
    items = list(table["rules"]) + list(table["profile"]) + list(table.get("inactivity") or ())
    return any(type(item.get("points")) is int and abs(item["points"]) > _PRODUCT_LIMIT
               for item in items)
