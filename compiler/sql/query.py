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


@dataclass
class Query:
    header: list[str]
    ctes: list[Cte] = field(default_factory=list)
    final: str = ""


def select(columns: list[str], source: str, where: list[str] | None = None,
           group_by: list[str] | None = None, order_by: list[str] | None = None) -> str:
    """A SELECT statement's text, one column per line."""
    lines = ["SELECT " + (",\n       ".join(columns) if columns else "1")]
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
        self._caps()
        absence = self._absences()
        self._points(absence)
        self._multipliers()
        self._final_scores()
        if self.lifecycle:
            self._lifecycle()
        self._result()
        return self.query

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
        scope = self._scope(json_columns={"event": "u.props", "contact": "c.profile"})
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
        columns = ["u.contact AS contact", "u.ts AS ts", "u.seq AS seq", "u.target AS target"]
        for i, rule in enumerate(self.rules):
            if rule["kind"] == "event":
                columns.append(f"{self._match(rule)} AS m_{i}")
            else:
                columns.append(f"{self._match(rule)} AS a_{i}")
                columns.append(f"{self._answer(rule)} AS b_{i}")
        dup = ("CASE WHEN id IS NULL THEN 1 ELSE ROW_NUMBER() OVER "
               "(PARTITION BY contact, id ORDER BY ts, seq) END AS dup")
        source = f"(SELECT raw.*, {dup} FROM raw) AS u\nCROSS JOIN tnow"
        if self._uses_contact_in_where():
            source += "\nLEFT JOIN ppl AS c ON c.contact = u.contact"
        self.add("ev", select(columns, source, ["u.dup = 1", "u.ts <= tnow.as_of"]))

    def _period(self, micros: str, per: str) -> str:
        return self.d.period(micros, self.t["timezone"], per)

    def _caps(self) -> None:
        columns = ["contact", "ts", "seq"]
        for i, rule in enumerate(self.rules):
            if rule["kind"] != "event":
                continue
            limit = rule.get("limit")
            if limit is None:
                columns.append(f"CASE WHEN m_{i} THEN 1 ELSE 0 END AS c_{i}")
                continue
            partition = f"contact, m_{i}"
            if limit.get("per"):
                partition += ", " + self._period("ts", limit["per"])
            rank = f"ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY ts, seq)"
            columns.append(f"CASE WHEN m_{i} AND {rank} <= {int(limit['count'])} "
                           f"THEN 1 ELSE 0 END AS c_{i}")
        self.add("cap", select(columns, "ev"))

    def _absences(self) -> list[int]:
        done = []
        for i, rule in enumerate(self.rules):
            if rule["kind"] != "absence":
                continue
            within = int(rule["within"])
            partition = "contact, target" if rule["missing_targets"].get("same") else "contact"
            answers = (f"COUNT(CASE WHEN b_{i} THEN 1 END) OVER (PARTITION BY {partition} "
                       f"ORDER BY ts RANGE BETWEEN CURRENT ROW AND {within} FOLLOWING)"
                       f" - CASE WHEN b_{i} THEN 1 ELSE 0 END")
            inner = select(["contact", "ts", "seq", f"a_{i} AS a", f"{answers} AS answers"],
                           "ev", [f"(a_{i} OR b_{i})"])
            due = f"x.ts + {self.lit(within)}"
            columns = ["x.contact AS contact", f"{due} AS due", "x.ts AS a_ts",
                       "x.seq AS a_seq"]
            body = select(columns, f"({inner}) AS x\nCROSS JOIN tnow",
                          ["x.a", "x.answers = 0", f"{due} <= tnow.as_of"])
            limit = rule.get("limit")
            if limit is None:
                body = select(["contact", "due", "1 AS c"], f"({body}) AS y")
            else:
                # a capped absence award awards nothing, but its due time is still an
                # evaluation point (as a capped event is)
                partition = "contact"
                if limit.get("per"):
                    partition += ", " + self._period("due", limit["per"])
                rank = f"ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY a_ts, a_seq)"
                body = select(["contact", "due", f"CASE WHEN {rank} <= {int(limit['count'])} "
                               "THEN 1 ELSE 0 END AS c"], f"({body}) AS y")
            self.add(f"abs_{i}", body)
            done.append(i)
        return done

    def _points(self, absence: list[int]) -> None:
        counts = [i for i, _ in enumerate(self.rules)]
        parts = [select(["contact", "ts", f"{KINDS['event']} AS kind", "seq"] +
                        [f"c_{i}" if self.rules[i]["kind"] == "event" else f"0 AS c_{i}"
                         for i in counts], "cap")]
        if absence:
            groups = [select(["contact", "due AS ts"] +
                             [f"c AS c_{i}" if i == j else f"0 AS c_{i}" for i in counts],
                             f"abs_{j}")
                      for j in absence]
            parts.append(select(["contact", "ts", f"{KINDS['absence']} AS kind", "0 AS seq"] +
                                [f"SUM(c_{i}) AS c_{i}" for i in counts],
                                f"({union_all(groups)}) AS g", group_by=["contact", "ts"]))
        if self.lifecycle:
            parts.append(select(["p.contact AS contact", "tnow.as_of AS ts",
                                 f"{KINDS['as_of']} AS kind", "0 AS seq"] +
                                [f"0 AS c_{i}" for i in counts],
                                "ppl AS p\nCROSS JOIN tnow", ["p.scored"]))
        body = union_all(parts)
        if self.lifecycle:
            body = select(["a.*", "ROW_NUMBER() OVER (PARTITION BY contact ORDER BY ts, kind, seq)"
                           " AS pn"], f"({body}) AS a")
        self.add("pts", body)

    # ------------------------------------------------------------------ contributions
    def _multipliers(self) -> None:
        for i, name in enumerate(self.scores):
            decay = self.score_info[name].get("decay")
            if decay:
                rows = [(k, int(m)) for k, m in enumerate(decay["multipliers"])]
                self.add(f"mult_{i}", self.d.values_table(rows, ("k", "m")))

    def _rules_of(self, name: str) -> list[int]:
        return [i for i, r in enumerate(self.rules) if r["score"] == name]

    def _contribution(self, index: int, alias: str, age: str, mult: str,
                      initial: bool = False) -> str:
        """SQL of score `index`'s contribution from point row `alias` at age `age`
        (`initial`: at age 0, where every award is worth its points)."""
        name = self.scores[index]
        info = self.score_info[name]
        rules = self._rules_of(name)
        if not rules:
            return self.lit(0)
        if initial:
            return "(" + " + ".join(f"{alias}.c_{i} * {self.lit(self.rules[i]['points'])}"
                                    for i in rules) + ")"
        if info.get("decay"):
            terms = [f"{alias}.c_{i} * " +
                     self.d.int_div(f"{self.lit(self.rules[i]['points'])} * COALESCE({mult}.m, 0)",
                                    self.lit(10 ** 9)) for i in rules]
        else:
            terms = [f"{alias}.c_{i} * {self.lit(self.rules[i]['points'])}" for i in rules]
        total = " + ".join(terms)
        if info.get("expire") is not None:
            total = f"CASE WHEN {age} >= {self.lit(info['expire'])} THEN 0 ELSE {total} END"
        return f"({total})"

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

    def _final_scores(self) -> None:
        age = "(tnow.as_of - p.ts)"
        columns = ["p.contact AS contact"]
        source = "pts AS p\nCROSS JOIN tnow"
        if self.reset_scores:
            source += "\nLEFT JOIN cut AS r ON r.contact = p.contact"
        for i, name in enumerate(self.scores):
            mult = f"m{i}"
            if self.score_info[name].get("decay") and self._rules_of(name):
                source += self._mult_join(i, mult, age)
            contribution = self._contribution(i, "p", age, mult)
            if name in self.reset_scores:
                contribution = f"CASE WHEN p.pn > COALESCE(r.f, 0) THEN {contribution} ELSE 0 END"
            columns.append(f"SUM({contribution}) AS v_{i}")
        self.final_source = source
        self.final_columns = columns  # emitted after `cut` exists (see _lifecycle)
        if not self.reset_scores:
            self.add("fin", select(columns, source, group_by=["p.contact"]))

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
        self._changes()
        self._running_sums("run", cut=False)
        if self.reset_trigger is None:
            self._pass("", cut=False)
        else:
            self._pass("p1_", cut=False)
            index = self.table_triggers().index(self.reset_trigger)
            self.add("cut", select(["contact", "MIN(pn) AS f"], "p1_fire",
                                   [f"fire_{index}"], group_by=["contact"]))
            self.add("fin", select(self.final_columns, self.final_source, group_by=["p.contact"]))
            self._running_sums("run2", cut=True)
            self._pass("", cut=True)
        self._actions()

    # Per-point score values without per-pair joins: an award's contribution is a step
    # function of its age (decay steps, expiry), so each award also emits one *change row*
    # per step that has happened by T (`steps_I` lists the ages and, per rule, the change of
    # `trunc(points * M_k / 10^9)`, computed exactly in Python). A running sum over awards
    # and change rows in evaluation order is then the score at every point; change rows of
    # a time come before the points of that time (age >= step counts).
    def _steps(self, i: int) -> list[tuple[int, list[int]]]:
        info = self.score_info[self.scores[i]]
        decay, expire = info.get("decay"), info.get("expire")
        ages: set[int] = set()
        if decay:
            every = int(decay["every"])
            ages.update(j * every for j in range(1, len(decay["multipliers"]) + 1))
        if expire is not None:
            ages = {a for a in ages if a < int(expire)} | {int(expire)}
        rules = self._rules_of(self.scores[i])
        rows, before = [], 0
        for age in sorted(ages):
            deltas = [_worth(info, self.rules[r]["points"], age) -
                      _worth(info, self.rules[r]["points"], before) for r in rules]
            before = age
            if any(deltas):
                rows.append((age, deltas))
        return rows

    def _stepped_scores(self) -> list[int]:
        return [i for i in self.lifecycle_scores() if self._rules_of(self.scores[i]) and
                (self.score_info[self.scores[i]].get("decay") or
                 self.score_info[self.scores[i]].get("expire") is not None)]

    def _changes(self) -> None:
        scores = self.lifecycle_scores()
        parts = []
        for i in self._stepped_scores():
            steps = self._steps(i)
            if not steps:
                continue
            rules = self._rules_of(self.scores[i])
            self.add(f"steps_{i}", self.d.values_table(
                [(age, *deltas) for age, deltas in steps], ("age", *[f"d_{r}" for r in rules])))
            delta = " + ".join(f"a.c_{r} * s.d_{r}" for r in rules)
            columns = ["a.contact AS contact", f"a.ts + s.age AS ts", "-1 AS kind", "0 AS seq",
                       "CAST(NULL AS " + self.d.bigint + ") AS pn", "a.pn AS apn"]
            columns += [f"{delta} AS d_{k}" if k == i else f"0 AS d_{k}" for k in scores]
            awarded = " OR ".join(f"a.c_{r} <> 0" for r in rules)
            parts.append(select(columns, f"pts AS a\nCROSS JOIN tnow\nJOIN steps_{i} AS s "
                                         f"ON a.ts + s.age <= tnow.as_of", [f"({awarded})"]))
        columns = ["contact", "ts", "kind", "seq", "pn", "pn AS apn"]
        columns += [f"{self._contribution(k, 'pts', '0', '', initial=True)} AS d_{k}"
                    for k in scores]
        self.add("flow", union_all([select(columns, "pts")] + parts))

    def _running_sums(self, name: str, cut: bool) -> None:
        """Per point and lifecycle score: `run_I` = the sum of award values and change rows
        up to the point; with a reset point `f`, `pre_I` = the same over the awards up to
        `f` only (what the reset discarded, as it would stand now)."""
        window = ("OVER (PARTITION BY x.contact ORDER BY x.ts, x.kind, x.seq ROWS BETWEEN "
                  "UNBOUNDED PRECEDING AND CURRENT ROW)")
        columns = ["x.contact AS contact", "x.ts AS ts", "x.kind AS kind", "x.pn AS pn"]
        source = "flow AS x"
        if cut:
            columns.append("r.f AS f")
            source += "\nLEFT JOIN cut AS r ON r.contact = x.contact"
        for i in self.lifecycle_scores():
            columns.append(f"SUM(x.d_{i}) {window} AS run_{i}")
            if cut and self.scores[i] in self.reset_scores:
                columns.append(f"SUM(CASE WHEN x.apn <= r.f THEN x.d_{i} ELSE 0 END) {window}"
                               f" AS pre_{i}")
        self.add(name, select(["*"], f"({select(columns, source)}) AS w", ["w.pn IS NOT NULL"]))

    def _value(self, i: int, cut: bool) -> str:
        """The unclamped sum of score `i`'s awards that count at point `p`."""
        if cut and self.scores[i] in self.reset_scores:
            return f"(p.run_{i} - CASE WHEN p.pn > p.f THEN p.pre_{i} ELSE 0 END)"
        return f"p.run_{i}"

    def _pass(self, prefix: str, cut: bool) -> None:
        scores = self.lifecycle_scores()
        columns = ["p.contact AS contact", "p.pn AS pn", "p.ts AS ts", "p.kind AS kind",
                   "pp.profile AS profile"]
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
        holds = " ".join(f"WHEN {condition_sql(s['condition'], scope)} THEN {n + 1}"
                         for n, s in reversed(list(enumerate(self.t["stages"]))))
        holds = f"CASE {holds} ELSE 0 END" if holds else "0"
        self.add(f"{prefix}lab", select(["g.*", f"{holds} AS h"], f"{prefix}gr AS g"))
        self.add(f"{prefix}stg", select(["l.*", "MAX(l.h) OVER (PARTITION BY l.contact ORDER BY "
                                         "l.pn ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
                                         " AS stage"], f"{prefix}lab AS l"))
        scope.stage = "stage"
        columns = ["s.*"] + [f"{condition_sql(t['condition'], scope)} AS k_{n}"
                             for n, t in enumerate(self.t["triggers"])]
        self.add(f"{prefix}trg", select(columns, f"{prefix}stg AS s"))
        columns = ["contact", "pn", "ts", "kind", "stage"]
        for n, trigger in enumerate(self.t["triggers"]):
            if trigger.get("each_time"):
                before = f"COALESCE(LAG(k_{n}) OVER (PARTITION BY contact ORDER BY pn), FALSE)"
                columns.append(f"(k_{n} AND NOT {before}) AS fire_{n}")
            else:
                before = (f"COALESCE(MAX(CASE WHEN k_{n} THEN 1 ELSE 0 END) OVER (PARTITION BY "
                          f"contact ORDER BY pn ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
                          f", 0)")
                columns.append(f"(k_{n} AND {before} = 0) AS fire_{n}")
        self.add(f"{prefix}fire", select(columns, f"{prefix}trg"))

    def _actions(self) -> None:
        parts = []
        for n, trigger in enumerate(self.t["triggers"]):
            for a, action in enumerate(trigger["actions"]):
                parts.append(select(["contact", "pn", f"{n} AS ti", f"{a} AS ai", "ts",
                                     f"{self.d.string(action['action'])} AS action",
                                     f"{self.d.string(action['arg'])} AS arg"], "fire",
                                    [f"fire_{n}"]))
        if not parts:
            return
        self.add("acts", union_all(parts))
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
            f"{stage} AS stage", f"{actions} AS actions"], "res", order_by=["contact"])


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
