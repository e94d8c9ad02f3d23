"""The rule table as one SQL query: decisions here, layout in `templates/query.sql.j2`.

Shape of the query (CTEs in order; docs/sql.md explains each):

  raw     the events table, columns renamed; `seq` is the input order
  tnow    the as-of time T (a literal, or the latest `at` of the events)
  ppl     every contact (events or contacts table): profile, `scored` (require), profile
          points per score
  ev      events kept (not a duplicate id, at <= T) with one match flag per rule
  cap     per-rule award counts (0/1) after `once` / `at most N [per period]`
  abs_J   absence rule J: A events with no answering B in [t, t + within], due <= T, capped
  pts     evaluation points: events (kind 0), absence due times (kind 1), T (kind 2, only
          with stages or triggers) with the award count of every rule
  fin     final scores as of T (decay / expiry as of T; awards before a reset excluded)
  -- with stages or triggers, per evaluation point (window functions over `pn`):
  val/lab/stg/trg   score values, grades and stage-rule holds, the stage, trigger firings
  (twice when a `once` trigger resets: the first pass finds the reset point, `cut`)
  acts    the actions fired, in evaluation order

Awards keep their own truncation under decay: a point stores per-rule award *counts*, so a
decayed contribution is `count * trunc(points * M_k / 10^9)` for every rule.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .conditions import Scope, condition_sql, references
from .dialects import Dialect
from .quoting import glob_to_like, quote_identifier, quote_table

SECOND = 1_000_000
KINDS = {"event": 0, "absence": 1, "as_of": 2}


@dataclass
class Cte:
    name: str
    body: str  # one SELECT (or a UNION ALL of SELECTs), laid out by the template
    materialized: bool = False  # read more than once: computed once (where the dialect can)


@dataclass
class Query:
    header: list[str]
    ctes: list[Cte] = field(default_factory=list)
    final: str = ""


def select(columns: list[str], source: str | None, where: list[str] | None = None,
           group_by: list[str] | None = None, order_by: list[str] | None = None) -> str:
    """A SELECT statement's text, one column per line."""
    lines = ["SELECT " + (",\n       ".join(columns) if columns else "1")]
    if source is not None:
        lines.append("FROM " + source)
    if where:
        lines.append("WHERE " + "\n  AND ".join(where))
    if group_by:
        lines.append("GROUP BY " + ", ".join(group_by))
    if order_by:
        lines.append("ORDER BY " + ", ".join(order_by))
    return "\n".join(lines)


def union_all(selects: list[str]) -> str:
    return "\nUNION ALL\n".join(selects)


class QueryBuilder:
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
        self.lifecycle = bool(table["stages"] or table["triggers"])
        self.reset_trigger = self._reset_trigger()
        self.reset_scores = sorted({a["arg"] for a in self.reset_trigger["actions"]
                                    if a["action"] == "reset"}) if self.reset_trigger else []
        self.query = Query(header=[])

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
        self.query.header = [
            f"scorelang rule table format {self.t['format']}, dialect {self.d.name}",
            f"source sha256 {self.t['source']['sha256']}",
        ]
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
            cte.materialized = readers > 1

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
        for i, name in enumerate(self.scores):
            terms = [f"CASE WHEN {condition_sql(p['condition'], scope)} THEN "
                     f"{self.lit(p['points'])} ELSE 0 END"
                     for p in self.t["profile"] if p["score"] == name]
            columns.append(f"{' + '.join(terms) if terms else self.lit(0)} AS prof_{i}")
        contacts = (f"(SELECT x.{q('contact')} AS contact, x.{q('profile')} AS profile "
                    f"FROM {self.contacts_table} AS x)")
        keys = (f"(SELECT contact FROM raw {self.d.union_distinct} SELECT contact FROM {contacts}"
                " AS y)")
        self.add("ppl", select(columns, f"{keys} AS k\nLEFT JOIN {contacts} AS c "
                               f"ON c.contact = k.contact"))

    # ------------------------------------------------------------------ matching
    def _targets(self, targets: dict) -> str:
        if targets.get("any"):
            return "TRUE"
        tests = [f"target = {self.d.string(x)}" for x in targets.get("exact", [])]
        tests += [self.d.like("target", glob_to_like(g, self.d.like_escape))
                  for g in targets.get("globs", [])]
        if not tests:
            return "FALSE"
        return "COALESCE(" + " OR ".join(tests) + ", FALSE)"

    def _match(self, rule: dict) -> str:
        scope = self._scope(json_columns={"event": "u.props", "contact": "u.profile"})
        parts = [f"u.event = {self.d.string(rule['event'])}", self._targets(rule["targets"])]
        if rule.get("where") is not None:
            parts.append(condition_sql(rule["where"], scope))
        return "(" + " AND ".join(p for p in parts if p != "TRUE") + ")"

    def _answer(self, rule: dict) -> str:
        parts = [f"u.event = {self.d.string(rule['missing'])}"]
        missing = rule["missing_targets"]
        if not missing.get("same"):
            parts.append(self._targets(missing))
        return "(" + " AND ".join(p for p in parts if p != "TRUE") + ")"

    def _uses_contact_in_where(self) -> bool:
        return any(r.get("where") is not None and
                   any(ref[0] == "contact" for ref in references(r["where"]))
                   for r in self.rules)

    def _events(self) -> None:
        """The events that exist: not a duplicate id, not after T."""
        columns = ["u.contact AS contact", "u.event AS event", "u.target AS target",
                   "u.ts AS ts", "u.seq AS seq", "u.props AS props"]
        dup = ("CASE WHEN id IS NULL THEN 1 ELSE ROW_NUMBER() OVER "
               "(PARTITION BY contact, id ORDER BY ts, seq) END AS dup")
        source = f"(SELECT raw.*, {dup} FROM raw) AS u\nCROSS JOIN tnow"
        if self._uses_contact_in_where():
            columns.append("c.profile AS profile")
            source += "\nLEFT JOIN ppl AS c ON c.contact = u.contact"
        self.add("ev", select(columns, source, ["u.dup = 1", "u.ts <= tnow.as_of"]))

    def _period(self, micros: str, per: str) -> str:
        return self.d.period(micros, self.t["timezone"], per)

    def _award_columns(self, index: int, ts: str, kind: int, seq: str, counted: str) -> list[str]:
        rule = self.rules[index]
        return ["contact", f"{ts} AS ts", f"{kind} AS kind", f"{seq} AS seq",
                f"{index} AS rule", f"{self.scores.index(rule['score'])} AS si",
                f"{self.lit(rule['points'])} AS p", f"{counted} AS c"]

    def _awards(self) -> None:
        """`aw`: one row per award (contact, ts, kind, seq = its evaluation point; rule, si =
        the score's index, p = points, c = 1, or 0 when a cap withholds it)."""
        parts = []
        for i, rule in enumerate(self.rules):
            if rule["kind"] == "event":
                parts.append(self._event_awards(i, rule))
            else:
                parts.append(self._absence_awards(i, rule))
        if not parts:
            parts = [select(["contact", "ts", "0 AS kind", "seq", "0 AS rule", "0 AS si",
                             f"{self.lit(0)} AS p", "0 AS c"], "ev", ["FALSE"])]
        self.add("aw", union_all(parts))

    def _event_awards(self, i: int, rule: dict) -> str:
        limit = rule.get("limit")
        source = "ev AS u"
        if limit is None:
            return select(self._award_columns(i, "ts", 0, "seq", "1"), source, [self._match(rule)])
        partition = "contact"
        if limit.get("per"):
            partition += ", " + self._period("ts", limit["per"])
        rank = f"ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY ts, seq)"
        counted = f"CASE WHEN {rank} <= {int(limit['count'])} THEN 1 ELSE 0 END"
        return select(self._award_columns(i, "ts", 0, "seq", counted), source, [self._match(rule)])

    def _absence_awards(self, i: int, rule: dict) -> str:
        """A events with no answering B in [t, t + within] (an event never answers itself),
        due at t + within <= T. A capped award awards nothing, but its due time is still an
        evaluation point (as a capped event is)."""
        within = int(rule["within"])
        partition = "contact, target" if rule["missing_targets"].get("same") else "contact"
        answers = (f"COUNT(CASE WHEN b THEN 1 END) OVER (PARTITION BY {partition} "
                   f"ORDER BY ts RANGE BETWEEN CURRENT ROW AND {within} FOLLOWING)"
                   f" - CASE WHEN b THEN 1 ELSE 0 END")
        flags = select(["contact", "target", "ts", "seq", f"{self._match(rule)} AS a",
                        f"{self._answer(rule)} AS b"], "ev AS u",
                       [f"({self._match(rule)} OR {self._answer(rule)})"])
        inner = select(["contact", "ts", "seq", "a", f"{answers} AS answers"], f"({flags}) AS f")
        due = f"x.ts + {self.lit(within)}"
        open_ = select(["x.contact AS contact", f"{due} AS due", "x.ts AS a_ts",
                        "x.seq AS a_seq"], f"({inner}) AS x\nCROSS JOIN tnow",
                       ["x.a", "x.answers = 0", f"{due} <= tnow.as_of"])
        limit = rule.get("limit")
        counted = "1"
        if limit is not None:
            partition = "contact"
            if limit.get("per"):
                partition += ", " + self._period("due", limit["per"])
            rank = f"ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY a_ts, a_seq)"
            counted = f"CASE WHEN {rank} <= {int(limit['count'])} THEN 1 ELSE 0 END"
        return select(self._award_columns(i, "due", 1, "0", counted), f"({open_}) AS y")

    # ------------------------------------------------------------------ contributions
    def _multipliers(self) -> None:
        for i, name in enumerate(self.scores):
            decay = self.score_info[name].get("decay")
            if decay and self._rules_of(name):
                rows = [(k, int(m)) for k, m in enumerate(decay["multipliers"])]
                self.add(f"mult_{i}", self.d.values_table(rows, ("k", "m")))

    def _rules_of(self, name: str) -> list[int]:
        return [i for i, r in enumerate(self.rules) if r["score"] == name]

    def _contribution(self, index: int, alias: str, age: str, mult: str) -> str:
        """SQL of award row `alias`'s contribution to score `index` at age `age` (0 when the
        award is of another score)."""
        info = self.score_info[self.scores[index]]
        if info.get("decay"):
            value = f"{alias}.c * " + self.d.int_div(f"{alias}.p * COALESCE({mult}.m, 0)",
                                                     self.lit(10 ** 9))
        else:
            value = f"{alias}.c * {alias}.p"
        if info.get("expire") is not None:
            value = f"CASE WHEN {age} >= {self.lit(info['expire'])} THEN 0 ELSE {value} END"
        return f"CASE WHEN {alias}.si = {index} THEN {value} ELSE 0 END"

    def _mult_join(self, index: int, alias: str, age: str) -> str:
        decay = self.score_info[self.scores[index]]["decay"]
        k = self.d.int_div(age, self.lit(decay["every"]))
        return f"\nLEFT JOIN mult_{index} AS {alias} ON {alias}.k = {k}"

    def _clamp(self, index: int, expr: str) -> str:
        info = self.score_info[self.scores[index]]
        if info.get("low") is not None:
            expr = f"GREATEST({expr}, {self.lit(info['low'])})"
        if info.get("high") is not None:
            expr = f"LEAST({expr}, {self.lit(info['high'])})"
        return expr

    @staticmethod
    def _after_key(ts: str, kind: str, seq: str, r: str) -> str:
        """The evaluation point (ts, kind, seq) comes after cut `r`'s."""
        return (f"({ts} > {r}.f_ts OR ({ts} = {r}.f_ts AND ({kind} > {r}.f_kind OR "
                f"({kind} = {r}.f_kind AND {seq} > {r}.f_seq))))")

    def _after(self, a: str, r: str) -> str:
        return self._after_key(f"{a}.ts", f"{a}.kind", f"{a}.seq", r)

    def _final_scores(self) -> None:
        age = "(tnow.as_of - a.ts)"
        columns = ["a.contact AS contact"]
        source = "aw AS a\nCROSS JOIN tnow"
        if self.reset_scores:
            source += "\nLEFT JOIN cut AS r ON r.contact = a.contact"
        for i, name in enumerate(self.scores):
            mult = f"m{i}"
            if self.score_info[name].get("decay") and self._rules_of(name):
                source += self._mult_join(i, mult, age)
            if not self._rules_of(name):
                columns.append(f"{self.lit(0)} AS v_{i}")
                continue
            contribution = self._contribution(i, "a", age, mult)
            if name in self.reset_scores:
                contribution = (f"CASE WHEN r.f_ts IS NULL OR {self._after('a', 'r')} "
                                f"THEN {contribution} ELSE 0 END")
            columns.append(f"SUM({contribution}) AS v_{i}")
        self.final_source = source
        self.final_columns = columns  # emitted after `cut` exists (see _lifecycle)
        if not self.reset_scores:
            self.add("fin", select(columns, source, group_by=["a.contact"]))

    # ------------------------------------------------------------------ lifecycle
    def lifecycle_scores(self) -> list[int]:
        """Scores read by stage or trigger conditions, directly or through a grade."""
        names: set[str] = set()
        grades = {g["name"]: g for g in self.t["grades"]}
        for item in [*self.t["stages"], *self.t["triggers"]]:
            for ref in references(item["condition"]):
                if ref[0] == "score":
                    names.add(ref[1])
                elif ref[0] == "grade" and ref[1] in grades:
                    names.add(grades[ref[1]]["score"])
        return [i for i, name in enumerate(self.scores) if name in names]

    def _grades_for(self, indices: list[int]) -> list[tuple[int, dict]]:
        names = {self.scores[i] for i in indices}
        return [(j, g) for j, g in enumerate(self.t["grades"]) if g["score"] in names]

    def _grade_sql(self, grade: dict, value: str) -> str:
        bands = " ".join(f"WHEN {value} >= {_number_sql(threshold)} THEN {self.d.string(label)}"
                         for label, threshold in grade["bands"])
        otherwise = self.d.string(grade["else"]) if grade.get("else") is not None else "NULL"
        if not bands:
            return otherwise
        return f"CASE {bands} ELSE {otherwise} END"

    def _lifecycle(self) -> None:
        self._flow()
        self._running_sums("run", cut=False)
        if self.reset_trigger is None:
            self._pass("p1_", cut=False)
            self.add("fire", select(["*"], "p1_fire"))
        else:
            self._pass("p1_", cut=False)
            index = self.table_triggers().index(self.reset_trigger)
            first = select(["contact", "ts", "kind", "seq", "pn", "stage", "ROW_NUMBER() OVER "
                            "(PARTITION BY contact ORDER BY pn) AS r"], "p1_fire", [f"fire_{index}"])
            self.add("cut", select(["contact", "ts AS f_ts", "kind AS f_kind", "seq AS f_seq",
                                    "pn AS f_pn", "stage AS f_stage"], f"({first}) AS z",
                                   ["r = 1"]))
            self.add("fin", select(self.final_columns, self.final_source, group_by=["a.contact"]))
            self._redo()
            self._running_sums("run2", cut=True)
            self._pass("p2_", cut=True)
            kept = select(["p.*"], "p1_fire AS p\nLEFT JOIN redo AS r ON r.contact = p.contact",
                          ["r.contact IS NULL"])
            self.add("fire", union_all([kept, select(["*"], "p2_fire")]))
        self._actions()

    def _redo(self) -> None:
        """`redo`: the reset contacts that need the second pass. After the reset only the
        reset scores differ from the first pass; the resetting trigger is `once`, so it cannot
        fire again. When no other trigger reads a reset score (directly or through a grade),
        a contact whose stage at the reset is already the last one (stages never move back)
        has the same stage and firings in both passes: its first pass stands."""
        grades = {g["name"]: g["score"] for g in self.t["grades"]}
        reset = set(self.reset_scores)

        def reads_reset(trigger: dict) -> bool:
            return any((ref[0] == "score" and ref[1] in reset) or
                       (ref[0] == "grade" and grades.get(ref[1]) in reset)
                       for ref in references(trigger["condition"]))

        others = [t for t in self.table_triggers() if t is not self.reset_trigger]
        where = None if any(map(reads_reset, others)) else [
            f"f_stage < {len(self.t['stages'])}"]
        self.add("redo", select(["*"], "cut", where))

    # Per-point score values without pair joins: an award's worth is a step function of its
    # age (decay steps, expiry), so each award also emits one *change row* per step reached
    # by T (`steps_I` lists, per rule, the ages and the change of `trunc(points * M_k /
    # 10^9)`, computed exactly in Python). A running sum over awards and change rows in
    # evaluation order is then the score at every point; the change rows of a time come
    # before the points of that time (age >= step counts), an award before its own point.
    def _steps(self, i: int) -> list[tuple[int, int, int]]:
        info = self.score_info[self.scores[i]]
        decay, expire = info.get("decay"), info.get("expire")
        ages: set[int] = set()
        if decay:
            every = int(decay["every"])
            ages.update(j * every for j in range(1, len(decay["multipliers"]) + 1))
        if expire is not None:
            ages = {a for a in ages if a < int(expire)} | {int(expire)}
        rows = []
        for r in self._rules_of(self.scores[i]):
            points, before = self.rules[r]["points"], 0
            for age in sorted(ages):
                delta = _worth(info, points, age) - _worth(info, points, before)
                before = age
                if delta:
                    rows.append((r, age, delta))
        return rows

    def _flow(self) -> None:
        """`pts`: the evaluation points; `flow`: points, awards and change rows."""
        # unscored contacts are not processed at all: their events are no points
        points = [select(["e.contact AS contact", "e.ts AS ts", "0 AS kind", "e.seq AS seq"],
                         "ev AS e\nJOIN ppl AS p ON p.contact = e.contact", ["p.scored"])]
        if any(r["kind"] == "absence" for r in self.rules):
            points.append(select(["DISTINCT contact", "ts", "1 AS kind", "0 AS seq"], "aw",
                                 ["kind = 1"]))
        points.append(select(["p.contact AS contact", "tnow.as_of AS ts", "2 AS kind",
                              "0 AS seq"], "ppl AS p\nCROSS JOIN tnow",
                             ["p.scored", "tnow.as_of IS NOT NULL"]))
        self.add("pts", union_all(points))
        scores = self._summed_scores()
        key = ["contact", "ts", "kind", "seq"]
        parts = [select(key + ["1 AS isp", "ts AS ats", "kind AS akind", "seq AS aseq"] +
                        [f"{self.lit(0)} AS d_{i}" for i in scores], "pts")]
        if scores:
            wanted = ", ".join(str(i) for i in scores)
            parts.append(select([f"a.{k} AS {k}" for k in key] +
                                ["0 AS isp", "a.ts AS ats", "a.kind AS akind", "a.seq AS aseq"] +
                                [f"CASE WHEN a.si = {i} THEN a.c * a.p ELSE 0 END AS d_{i}"
                                 for i in scores],
                                "aw AS a\nJOIN ppl AS pp ON pp.contact = a.contact",
                                [f"a.si IN ({wanted})", "a.c <> 0", "pp.scored"]))
        for i in scores:
            info = self.score_info[self.scores[i]]
            if not (info.get("decay") or info.get("expire") is not None):
                continue
            steps = self._steps(i)
            if not steps:
                continue
            self.add(f"steps_{i}", self.d.values_table(steps, ("rule", "age", "d")))
            parts.append(select(
                ["a.contact AS contact", "a.ts + s.age AS ts", "-1 AS kind", "0 AS seq",
                 "0 AS isp", "a.ts AS ats", "a.kind AS akind", "a.seq AS aseq"] +
                [f"a.c * s.d AS d_{k}" if k == i else f"{self.lit(0)} AS d_{k}" for k in scores],
                f"aw AS a\nCROSS JOIN tnow\nJOIN steps_{i} AS s ON s.rule = a.rule "
                f"AND a.ts + s.age <= tnow.as_of", [f"a.si = {i}", "a.c <> 0"]))
        self.add("flow", union_all(parts))

    def _running_sums(self, name: str, cut: bool) -> None:
        """Per point and lifecycle score: `run_I` = the sum of awards and change rows up to
        the point; with a reset point (`cut`), `pre_I` = the same over the awards up to the
        reset only (what the reset discarded, as it would stand now).

        A point with no award or change row since the previous point has the same state as
        that point, so it can neither move the stage nor make a trigger rise: it is dropped
        (kept: a contact's first point, T, and the point after a reset). Not when a stage
        condition reads `stage`: a stage may then move again with the same scores."""
        order = "OVER (PARTITION BY x.contact ORDER BY x.ts, x.kind, x.seq, x.isp"
        window = f"{order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        # pn orders a contact's points; a row number over all the flow rows does (it need
        # not count points only) and costs no running sum
        columns = ["x.contact AS contact", "x.ts AS ts", "x.kind AS kind", "x.seq AS seq",
                   "x.isp AS isp", f"ROW_NUMBER() {order}) AS pn",
                   f"LAG(x.isp) {order}) AS prev_isp"]
        source = "flow AS x"
        if cut:
            columns += ["r.f_ts AS f_ts", "r.f_kind AS f_kind", "r.f_seq AS f_seq"]
            columns += [f"LAG(x.{k}) {order}) AS prev_{k}" for k in ("ts", "kind", "seq")]
            source += "\nJOIN redo AS r ON r.contact = x.contact"
            before = (f"r.f_ts IS NOT NULL AND NOT "
                      f"{self._after_key('x.ats', 'x.akind', 'x.aseq', 'r')}")
        for i in self._summed_scores():
            columns.append(f"SUM(x.d_{i}) {window} AS run_{i}")
            if cut and self.scores[i] in self.reset_scores:
                columns.append(f"SUM(CASE WHEN {before} THEN x.d_{i} ELSE 0 END) {window}"
                               f" AS pre_{i}")
        keep = ["w.isp = 1"]
        if not self.stage_reads_stage:
            # the previous row in evaluation order is a point: nothing changed since
            alive = ["w.prev_isp IS NULL", "w.prev_isp = 0", "w.kind = 2"]
            if cut:
                alive.append("(w.prev_ts = w.f_ts AND w.prev_kind = w.f_kind AND "
                             "w.prev_seq = w.f_seq)")
            keep.append("(" + " OR ".join(alive) + ")")
        self.add(name, select(["w.*"], f"({select(columns, source)}) AS w", keep))

    def _summed_scores(self) -> list[int]:
        """Lifecycle scores that rules award (the others are their profile points)."""
        return [i for i in self.lifecycle_scores() if self._rules_of(self.scores[i])]

    def _value(self, i: int, cut: bool) -> str:
        """The unclamped sum of score `i`'s awards that count at point `p`."""
        if not self._rules_of(self.scores[i]):
            return self.lit(0)
        if cut and self.scores[i] in self.reset_scores:
            after = self._after_key("p.ts", "p.kind", "p.seq", "p")
            return (f"(p.run_{i} - CASE WHEN p.f_ts IS NOT NULL AND {after} "
                    f"THEN p.pre_{i} ELSE 0 END)")
        return f"p.run_{i}"

    def _pass(self, prefix: str, cut: bool) -> None:
        scores = self.lifecycle_scores()
        columns = ["p.contact AS contact", "p.pn AS pn", "p.ts AS ts", "p.kind AS kind",
                   "p.seq AS seq"]
        if self._lifecycle_reads_profile():
            # (only then: the profile text would otherwise ride through every later window)
            columns.append("pp.profile AS profile")
        source = f"{'run2' if cut else 'run'} AS p\nJOIN ppl AS pp ON pp.contact = p.contact"
        for i in scores:
            raw = self._value(i, cut)
            columns.append(f"{self._clamp(i, f'{raw} + pp.prof_{i}')} AS s_{i}")
        self.add(f"{prefix}val", select(columns, source, ["pp.scored"]))

        grades = self._grades_for(scores)
        score_col = {self.scores[i]: f"s_{i}" for i in scores}
        grade_col = {g["name"]: f"g_{j}" for j, g in grades}
        stages = tuple(s["name"] for s in self.t["stages"])
        scope = self._scope(json_columns={"contact": "profile"}, score=score_col.__getitem__,
                            grade=grade_col.__getitem__, stages=stages)
        columns = ["v.*"] + [self._grade_sql(g, "s_%d" % self.scores.index(g["score"]))
                             + f" AS g_{j}" for j, g in grades]
        self.add(f"{prefix}gr", select(columns, f"{prefix}val AS v"))
        if self.stage_reads_stage:
            self.add(f"{prefix}lab", self._stage_rounds(prefix, scope))
        else:
            self.add(f"{prefix}lab", select(["g.*", f"{self._holds(scope)} AS h"],
                                            f"{prefix}gr AS g"))
        self._stage(prefix)
        scope.stage = "stage"
        columns = ["s.*"] + [f"{condition_sql(t['condition'], scope)} AS k_{n}"
                             for n, t in enumerate(self.t["triggers"])]
        self.add(f"{prefix}trg", select(columns, f"{prefix}stg AS s"))
        self._firings(prefix)

    # The stage and `once` firings are "from the first point where ... holds": with CTEs
    # computed once (MATERIALIZED), a per-contact MIN joined back is cheaper than a sort of
    # the points (DuckDB at 2M events: 10% of the query); where every CTE reference is
    # inlined (Spark, BigQuery, Snowflake) it would compute the points twice, so windows.
    def _stage(self, prefix: str) -> None:
        """`stg`: the stage at every point, the highest stage held at or before it."""
        count = len(self.t["stages"])
        if not count:  # triggers without stages: nothing to aggregate or sort
            self.add(f"{prefix}stg", select(["l.*", "0 AS stage"], f"{prefix}lab AS l"))
            return
        if not self.d.materialized_keyword:
            self.add(f"{prefix}stg", select(
                ["l.*", "MAX(l.h) OVER (PARTITION BY l.contact ORDER BY l.pn ROWS BETWEEN "
                 "UNBOUNDED PRECEDING AND CURRENT ROW) AS stage"], f"{prefix}lab AS l"))
            return
        # f_J: the first point holding stage J or later; the stage is the count of those reached
        self.add(f"{prefix}sf", select(
            ["contact"] + [f"MIN(CASE WHEN h >= {j} THEN pn END) AS f_{j}"
                           for j in range(1, count + 1)], f"{prefix}lab", group_by=["contact"]))
        reached = " + ".join(f"CASE WHEN l.pn >= f.f_{j} THEN 1 ELSE 0 END"
                             for j in range(1, count + 1))
        self.add(f"{prefix}stg", select(["l.*", f"{reached} AS stage"],
                                        f"{prefix}lab AS l\nJOIN {prefix}sf AS f "
                                        "ON f.contact = l.contact"))

    def _firings(self, prefix: str) -> None:
        """`fire`: per point, whether each trigger fires there: `each time`, where its
        condition becomes true; `once`, at the first point where it holds."""
        columns = ["t.contact AS contact", "t.pn AS pn", "t.ts AS ts", "t.kind AS kind",
                   "t.seq AS seq", "t.stage AS stage"]
        source = f"{prefix}trg AS t"
        firsts = []
        for n, trigger in enumerate(self.t["triggers"]):
            if trigger.get("each_time"):
                before = (f"COALESCE(LAG(t.k_{n}) OVER (PARTITION BY t.contact ORDER BY t.pn), "
                          "FALSE)")
                columns.append(f"(t.k_{n} AND NOT {before}) AS fire_{n}")
            elif self.d.materialized_keyword:
                firsts.append(f"MIN(CASE WHEN k_{n} THEN pn END) AS m_{n}")
                columns.append(f"COALESCE(t.pn = m.m_{n}, FALSE) AS fire_{n}")
            else:
                before = (f"COALESCE(MAX(CASE WHEN t.k_{n} THEN 1 ELSE 0 END) OVER (PARTITION BY "
                          f"t.contact ORDER BY t.pn ROWS BETWEEN UNBOUNDED PRECEDING AND 1 "
                          f"PRECEDING), 0)")
                columns.append(f"(t.k_{n} AND {before} = 0) AS fire_{n}")
        if firsts:
            self.add(f"{prefix}tf", select(["contact"] + firsts, f"{prefix}trg",
                                           group_by=["contact"]))
            source += f"\nJOIN {prefix}tf AS m ON m.contact = t.contact"
        self.add(f"{prefix}fire", select(columns, source))

    def _lifecycle_reads_profile(self) -> bool:
        return any(ref[0] == "contact" for item in [*self.t["stages"], *self.t["triggers"]]
                   for ref in references(item["condition"]))

    def _holds(self, scope: Scope) -> str:
        """The index (1-based) of the last declared stage whose condition holds, else 0."""
        holds = " ".join(f"WHEN {condition_sql(s['condition'], scope)} THEN {n + 1}"
                         for n, s in reversed(list(enumerate(self.t["stages"]))))
        return f"CASE {holds} ELSE 0 END" if holds else "0"

    @property
    def stage_reads_stage(self) -> bool:
        return any(ref[0] == "stage" for s in self.t["stages"]
                   for ref in references(s["condition"]))

    def _stage_rounds(self, prefix: str, scope: Scope) -> str:
        """Stage conditions that read `stage` see the stage before this point's move, so the
        stage is a state machine. It only moves forward, so it moves at most once per
        declared stage. `hs`: per point, `h_S` = the stage the conditions pick when the
        current stage is S. Round K (`mv_K`) finds each contact's K-th move, the first point
        after the (K-1)-th move whose `h_` of the current stage is a later stage, with one
        window over the contact's points: `m_K` = MIN(pn * B + new stage), B = stages + 1.
        Returns the body of `lab`: `h` = the stage a point moves to, 0 when it does not move.

        No joins, and each round reads the previous one once: a planner that inlines every
        CTE reference (Spark) gets a plan linear in the number of stages (rounds that joined
        the points with the previous round's state were exponential in it)."""
        count = len(self.t["stages"])
        base = self.lit(count + 1)
        columns = ["g.*"]
        for s in range(count):  # at the last stage no move is possible
            at = Scope(scope.dialect, scope.json_columns, scope.score, scope.grade, str(s),
                       scope.stages)
            columns.append(f"{self._holds(at)} AS h_{s}")
        self.add(f"{prefix}hs", select(columns, f"{prefix}gr AS g"))

        def moved_at(alias: str, k: int) -> str:  # the point of move K (NULL: none)
            return self.d.int_div(f"{alias}.m_{k}", base)

        def moved_to(alias: str, k: int) -> str:  # the stage of move K (NULL: none)
            return f"({alias}.m_{k} - {moved_at(alias, k)} * {base})"

        source = f"{prefix}hs"
        for k in range(1, count + 1):
            if k == 1:
                after, current, picked = "0", "0", "x.h_0"
            else:
                after, current = moved_at("x", k - 1), moved_to("x", k - 1)
                picked = (f"CASE {current} "
                          + " ".join(f"WHEN {s} THEN x.h_{s}" for s in range(count)) + " END")
            move = (f"CASE WHEN x.pn > {after} AND {picked} > {current} "
                    f"THEN x.pn * {base} + {picked} END")
            self.add(f"{prefix}mv_{k}", select(
                ["x.*", f"MIN({move}) OVER (PARTITION BY x.contact) AS m_{k}"], f"{source} AS x"))
            source = f"{prefix}mv_{k}"
        moves = " ".join(f"WHEN m.pn = {moved_at('m', k)} THEN {moved_to('m', k)}"
                         for k in range(1, count + 1))
        return select(["m.*", f"CASE {moves} ELSE 0 END AS h"], f"{source} AS m")

    def _actions(self) -> None:
        """`acts`: one row per action fired, from one scan of the firing points joined with
        the (small) table of the triggers' actions."""
        rows, fired = [], []
        for n, trigger in enumerate(self.t["triggers"]):
            fired.append(f"WHEN {n} THEN f.fire_{n}")
            for a, action in enumerate(trigger["actions"]):
                rows.append(select([f"{n} AS ti", f"{a} AS ai",
                                    f"{self.d.string(action['action'])} AS action",
                                    f"{self.d.string(action['arg'])} AS arg"], None))
        if not rows:
            return
        self.add("actdef", union_all(rows))
        any_fired = " OR ".join(f"fire_{n}" for n in range(len(self.t["triggers"])))
        # (Spark misreads `WHERE (column)` followed by `) AS alias`: no parentheses here)
        firing = select(["*"], "fire", [any_fired])
        self.add("acts", select(["f.contact AS contact", "f.pn AS pn", "a.ti AS ti",
                                 "a.ai AS ai", "f.ts AS ts", "a.action AS action",
                                 "a.arg AS arg"],
                                f"({firing}) AS f\nCROSS JOIN actdef AS a",
                                [f"CASE a.ti {' '.join(fired)} END"]))
        fields = [("at", self.d.format_utc("ts")), ("action", "action"), ("arg", "arg")]
        self.add("actagg", select(["contact", self.d.json_array_agg(fields, ["pn", "ti", "ai"], "TRUE")
                                   + " AS actions"], "acts", group_by=["contact"]))

    # ------------------------------------------------------------------ result
    def _result(self) -> None:
        columns = ["p.contact AS contact", "p.scored AS scored"]
        for i, _ in enumerate(self.scores):
            columns.append(f"{self._clamp(i, f'COALESCE(f.v_{i}, 0) + p.prof_{i}')} AS fs_{i}")
        source = "ppl AS p\nLEFT JOIN fin AS f ON f.contact = p.contact"
        has_actions = any(t["actions"] for t in self.t["triggers"])
        if self.lifecycle:
            columns.append("st.stage AS stage")
            source += "\nLEFT JOIN fire AS st ON st.contact = p.contact AND st.kind = 2"
        if has_actions:
            columns.append("ag.actions AS actions")
            source += "\nLEFT JOIN actagg AS ag ON ag.contact = p.contact"
        self.add("res", select(columns, source))
        scores = [(name, f"CASE WHEN scored THEN fs_{i} END") for i, name in enumerate(self.scores)]
        grades = [(g["name"], self._grade_sql(g, "fs_%d" % self.scores.index(g["score"])))
                  for g in self.t["grades"]]
        stage = "NULL"
        if self.t["stages"]:
            whens = " ".join(f"WHEN {n + 1} THEN {self.d.string(s['name'])}"
                             for n, s in enumerate(self.t["stages"]))
            stage = f"CASE WHEN scored THEN CASE stage {whens} END END"
        actions = "'[]'"
        if has_actions:
            actions = "CASE WHEN scored THEN COALESCE(actions, '[]') ELSE '[]' END"
        grades_sql = (f"CASE WHEN scored THEN {self.d.json_object_present(grades)} ELSE '{{}}' END"
                      if grades else "'{}'")
        self.query.final = select([
            "contact", f"{self.d.json_object(scores)} AS scores", f"{grades_sql} AS grades",
            f"{stage} AS stage", f"{actions} AS actions"], "res",
            order_by=[self.d.sort_key("contact")])


def _trunc_div(numerator: int, denominator: int) -> int:
    quotient = abs(numerator) // denominator
    return quotient if numerator >= 0 else -quotient


def _worth(info: dict, points: int, age: int) -> int:
    """What an award of `points` contributes at `age` (rule-table.md, "Scores")."""
    expire, decay = info.get("expire"), info.get("decay")
    if expire is not None and age >= int(expire):
        return 0
    if not decay:
        return points
    k = age // int(decay["every"])
    multipliers = decay["multipliers"]
    return _trunc_div(points * int(multipliers[k]), 10 ** 9) if k < len(multipliers) else 0


def _number_sql(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a number: {value!r}")
    return str(value) if isinstance(value, int) else repr(float(value))
