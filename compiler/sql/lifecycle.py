"""The lifecycle in the query: evaluation points, running sums, stages, triggers, actions, and
the second pass after a `once` reset."""
from __future__ import annotations

from dataclasses import replace

from .conditions import Scope, condition_sql, references
from .initial import may_act_initially
from .scores import _worth, multiplier_at, step_ages
from .statements import select, union_all


class LifecycleParts:
    """Part of `QueryBuilder` (compiler/sql/query.py): everything that happens per point."""

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
            if self._reruns_from_run():
                self._rerun()
            else:
                self._running_sums("run2", cut=True)
            self._pass("p2_", cut=True)
            kept = select(["p.*"], "p1_fire AS p\nLEFT JOIN redo AS r ON r.contact = p.contact",
                          ["r.contact IS NULL"])
            self.add("fire", union_all([kept, select(["*"], "p2_fire")]))
        self._actions()

    def _redo(self) -> None:
        """`redo`: the reset contacts that need the second pass. After the reset only the
        reset scores differ from the first pass; the resetting trigger is `once`, so it cannot
        fire again. When no other trigger reads a reset score (directly, through one of its
        groups or through a grade), a contact whose stage at the reset is already the last
        one (stages never move back) has the same stage and firings in both passes: its
        first pass stands."""
        reset = set(self.reset_scores)

        def reads_reset(trigger: dict) -> bool:
            return any(self.scores_behind(ref) & reset for ref in references(trigger["condition"]))

        others = [t for t in self.table_triggers() if t is not self.reset_trigger]
        where = None if any(map(reads_reset, others)) else [
            f"f_stage < {len(self.t['stages'])}"]
        self.add("redo", select(["*"], "cut", where))

    def _reruns_from_run(self) -> bool:
        """Whether the second pass may read the first pass's running sums (`_rerun`): `run`
        keeps every point (a stage condition reads `stage`, so no point is dropped), the
        reset scores' awards have no change rows (no decay steps, no expiry), and `run` is
        computed once (MATERIALIZED: where every reference is inlined, Spark, the three
        reads would be three windows)."""
        reset = [k for k in self._summed_slots() if self.slots[k].score in self.reset_scores]
        return (bool(self.d.materialized_keyword) and self.stage_reads_stage
                and not self._changes(reset))

    def _rerun(self) -> None:
        """`run2` without a second window: with no change rows, what the reset discarded
        (`pre_K`, read at the points after the reset only) is the running sum at the reset
        point itself, so it is that point's row of `run` (DuckDB at 1M events: the second
        window was a seventh of the query)."""
        columns = ["x.*", "r.f_ts AS f_ts", "r.f_kind AS f_kind", "r.f_seq AS f_seq"]
        columns += [f"b.run_{k} AS pre_{k}" for k in self._summed_slots()
                    if self.slots[k].score in self.reset_scores]
        self.add("run2", select(columns, "run AS x\nJOIN redo AS r ON r.contact = x.contact\n"
                                "JOIN run AS b ON b.contact = r.contact AND b.pn = r.f_pn"))

    def lifecycle_values(self):
        """(score indices, group slots, grades) that stage and trigger conditions read."""
        if not hasattr(self, "_lifecycle_values"):
            self._lifecycle_values = self.lifecycle_reads()
        return self._lifecycle_values

    def _summed_slots(self) -> list[int]:
        """The slots whose running sums the lifecycle reads (slots no rule awards hold only
        their profile points)."""
        scores, groups, _ = self.lifecycle_values()
        wanted = {k for i in scores for k in self.slots_of_score(i)} | set(groups)
        return [k for k in sorted(wanted) if self._rules_of_slot(k)]

    # Per-point score values without pair joins: an award's worth is a step function of its
    # age (decay steps, expiry), so each award also emits one *change row* per step reached
    # by T (`steps_I` lists, per rule, the ages and the change of `trunc(points * M_k /
    # 10^9)`, computed exactly in Python; for points taken from an event property,
    # `bsteps_I` lists the multipliers before and after, and SQL computes the change). A
    # running sum over awards and change rows in evaluation order is then the value at every
    # point; the change rows of a time come before the points of that time (age >= step
    # counts), an award before its own point.
    def _steps(self, i: int, rules: list[int]) -> tuple[list[tuple], list[tuple]]:
        """(rule, age, change) rows for the rules with points; (rule, age, new multiplier,
        old multiplier) rows for the rules with points from an event property."""
        info = self.score_info[self.scores[i]]
        fixed, by = [], []
        for r in rules:
            points, before = self.award_rules[r].get("points"), 0
            for age in step_ages(info):
                if points is None:
                    new, old = multiplier_at(info, age), multiplier_at(info, before)
                    if new != old:
                        by.append((r, age, new, old))
                else:
                    delta = _worth(info, points, age) - _worth(info, points, before)
                    if delta:
                        fixed.append((r, age, delta))
                before = age
        return fixed, by

    def _flow(self) -> None:
        """`pts`: the evaluation points; `flow`: points, awards and change rows."""
        slots = self._summed_slots()
        self.sparse = (self.d.tuned_plans and not self._changes(slots)
                       and not self.stage_reads_stage and self.reset_trigger is None)
        if self.sparse:
            self._sparse_flow(slots)
            return
        # (`ev` and `aw` hold only scored contacts: unscored ones are not processed at all)
        points = [select(["e.contact AS contact", "e.ts AS ts", "0 AS kind", "e.seq AS seq"],
                         *self._scored_only("ev AS e", "p"))]
        if any(r["kind"] == "absence" for r in self.rules) or self.t.get("inactivity"):
            points.append(select(["DISTINCT contact", "ts", "1 AS kind", "0 AS seq"], "aw",
                                 ["kind = 1"]))
        points.append(self._as_of_points())
        self.add("pts", union_all(points))
        key = ["contact", "ts", "kind", "seq"]
        parts = [select(key + ["1 AS isp", "ts AS ats", "kind AS akind", "seq AS aseq"] +
                        [f"{self.lit(0)} AS d_{k}" for k in slots], "pts")]
        if slots:
            parts.append(self._award_rows(slots, "0"))
        self.add("flow", union_all(parts + self._decay_changes(slots)))

    def _scored_only(self, source: str, people: str, where: list[str] | None = None):
        """(source, where) of the rows of `source` of scored contacts: with tuned plans `ev`
        (and so `aw`) holds only those (compiler/sql/query.py), elsewhere a join with `ppl`
        (as `people`) says."""
        where = list(where or [])
        if self.d.tuned_plans:
            return source, where
        alias = source.split(" AS ")[-1]
        return (f"{source}\nJOIN ppl AS {people} ON {people}.contact = {alias}.contact",
                where + [f"{people}.scored"])

    def _as_of_points(self) -> str:
        return select(["p.contact AS contact", "tnow.as_of AS ts", "2 AS kind", "0 AS seq"],
                      "ppl AS p\nCROSS JOIN tnow", ["p.scored", "tnow.as_of IS NOT NULL"])

    def _award_rows(self, slots: list[int], isp: str) -> str:
        """The flow rows of the awards to `slots` (that award something)."""
        key = ["contact", "ts", "kind", "seq"]
        wanted = ", ".join(str(k) for k in slots)
        return select([f"a.{k} AS {k}" for k in key] +
                      [f"{isp} AS isp", "a.ts AS ats", "a.kind AS akind", "a.seq AS aseq"] +
                      [f"CASE WHEN a.si = {k} THEN a.c * a.p ELSE 0 END AS d_{k}"
                       for k in slots],
                      *self._scored_only("aw AS a", "pp", [f"a.si IN ({wanted})", "a.c <> 0"]))

    # Without decay or expiry (no change rows), a reset, or a stage condition reading `stage`,
    # the state changes only where an award to a slot the lifecycle reads is made, so the
    # points where a stage can move or a trigger rise are those awards' points, the contact's
    # first point (the profile alone may meet a condition there: compiler/sql/initial.py
    # tells whether it can) and T: each award row is its
    # own point (`isp` = 1), summed with the awards of the same point (a RANGE frame: rows of
    # one point are peers and see the same sums; a point with two awards appears twice with
    # the same state, which moves no stage and fires no trigger twice). Events without such
    # an award, and capped or other slots' awards, are no rows at all.
    def _sparse_flow(self, slots: list[int]) -> None:
        points = [self._as_of_points()]
        if self.first_point_needed():
            self.add("pt0", self.d.first_rows("ev"))
            points.insert(0, select(["contact", "ts", "0 AS kind", "seq"], "pt0"))
        self.add("pts", union_all(points))
        key = ["contact", "ts", "kind", "seq"]
        parts = [select(key + ["1 AS isp", "ts AS ats", "kind AS akind", "seq AS aseq"] +
                        [f"{self.lit(0)} AS d_{k}" for k in slots], "pts")]
        if slots:
            parts.append(self._award_rows(slots, "1"))
        self.add("flow", union_all(parts))

    def first_point_needed(self) -> bool:
        return may_act_initially(self)

    def _changes(self, slots: list[int]) -> bool:
        """Whether awards to `slots` have change rows (decay steps or expiry reached)."""
        for i, name in enumerate(self.scores):
            info = self.score_info[name]
            mine = [k for k in slots if self.slots[k].score == name]
            if mine and (info.get("decay") or info.get("expire") is not None):
                rules = [r for r in self._rules_of(name)
                         if self.slot_of(self.award_rules[r]) in mine]
                if any(self._steps(i, rules)):
                    return True
        return False

    def _decay_changes(self, slots: list[int]) -> list[str]:
        """The flow parts of the change rows (decay steps and expiry of awards to `slots`)."""
        parts = []
        for i, name in enumerate(self.scores):
            info = self.score_info[name]
            mine = [k for k in slots if self.slots[k].score == name]
            if not mine or not (info.get("decay") or info.get("expire") is not None):
                continue
            rules = [r for r in self._rules_of(name) if self.slot_of(self.award_rules[r]) in mine]
            fixed, by = self._steps(i, rules)
            if fixed:
                self.add(f"steps_{i}", self.d.values_table(fixed, ("rule", "age", "d")))
                parts.append(self._change_rows(f"steps_{i}", "s.d", mine, slots))
            if by:
                self.add(f"bsteps_{i}", self.d.values_table(by, ("rule", "age", "mn", "mo")))
                change = (f"({self._scaled('a.p', 's.mn')} - {self._scaled('a.p', 's.mo')})")
                parts.append(self._change_rows(f"bsteps_{i}", change, mine, slots))
        return parts

    def _change_rows(self, steps: str, change: str, mine: list[int], slots: list[int]) -> str:
        """The change rows of the awards of slots `mine` (one score's), from table `steps`."""
        if len(mine) == 1:
            deltas = [f"a.c * {change} AS d_{k}" if k in mine else f"{self.lit(0)} AS d_{k}"
                      for k in slots]
            where = [f"a.si = {mine[0]}", "a.c <> 0"]
        else:
            deltas = [f"CASE WHEN a.si = {k} THEN a.c * {change} ELSE 0 END AS d_{k}"
                      if k in mine else f"{self.lit(0)} AS d_{k}" for k in slots]
            where = [f"a.si IN ({', '.join(str(k) for k in mine)})", "a.c <> 0"]
        if self.d.as_of_subquery:
            source = (f"aw AS a\nJOIN {steps} AS s ON s.rule = a.rule "
                      "AND a.ts + s.age <= (SELECT as_of FROM tnow)")
        else:
            source = (f"aw AS a\nCROSS JOIN tnow\nJOIN {steps} AS s ON s.rule = a.rule "
                      "AND a.ts + s.age <= tnow.as_of")
        return select(
            ["a.contact AS contact", "a.ts + s.age AS ts", "-1 AS kind", "0 AS seq",
             "0 AS isp", "a.ts AS ats", "a.kind AS akind", "a.seq AS aseq"] + deltas,
            source, where)

    def _running_sums(self, name: str, cut: bool) -> None:
        """Per point and summed slot: `run_K` = the sum of awards and change rows up to the
        point; with a reset point (`cut`), `pre_K` = the same over the awards up to the
        reset only (what the reset discarded, as it would stand now).

        A point with no award or change row since the previous point has the same state as
        that point, so it can neither move the stage nor make a trigger rise: it is dropped
        (kept: a contact's first point, T, and the point after a reset). Not when a stage
        condition reads `stage`: a stage may then move again with the same scores."""
        if self.sparse:
            self._sparse_sums(name)
            return
        order = "OVER (PARTITION BY x.contact ORDER BY x.ts, x.kind, x.seq, x.isp"
        window = f"{order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        # pn orders a contact's points; a row number over all the flow rows does (it need
        # not count points only) and costs no running sum
        columns = ["x.contact AS contact", "x.ts AS ts", "x.kind AS kind", "x.seq AS seq",
                   "x.isp AS isp", f"ROW_NUMBER() {order}) AS pn"]
        # the previous row, to drop unchanged points (none is dropped when a stage condition
        # reads `stage`: each LAG costs a window function over every flow row)
        drops = not self.stage_reads_stage
        if drops:
            columns.append(f"LAG(x.isp) {order}) AS prev_isp")
        source = "flow AS x"
        if cut:
            columns += ["r.f_ts AS f_ts", "r.f_kind AS f_kind", "r.f_seq AS f_seq"]
            if drops:
                columns += [f"LAG(x.{k}) {order}) AS prev_{k}" for k in ("ts", "kind", "seq")]
            source += "\nJOIN redo AS r ON r.contact = x.contact"
            before = (f"r.f_ts IS NOT NULL AND NOT "
                      f"{self._after_key('x.ats', 'x.akind', 'x.aseq', 'r')}")
        for k in self._summed_slots():
            columns.append(f"SUM({self.sum_arg(f'x.d_{k}')}) {window} AS run_{k}")
            if cut and self.slots[k].score in self.reset_scores:
                pre = self.sum_arg(f"CASE WHEN {before} THEN x.d_{k} ELSE 0 END")
                columns.append(f"SUM({pre}) {window} AS pre_{k}")
        keep = ["w.isp = 1"]
        if drops:
            # the previous row in evaluation order is a point: nothing changed since
            alive = ["w.prev_isp IS NULL", "w.prev_isp = 0", "w.kind = 2"]
            if cut:
                alive.append("(w.prev_ts = w.f_ts AND w.prev_kind = w.f_kind AND "
                             "w.prev_seq = w.f_seq)")
            keep.append("(" + " OR ".join(alive) + ")")
        self.add(name, select(["w.*"], f"({select(columns, source)}) AS w", keep))

    # the timeline (compiler/sql/timeline.py) reads each point's next point's time: `nts`
    next_point_time = False

    def _sparse_sums(self, name: str) -> None:
        """`run` over a sparse flow (`_sparse_flow`): every row is a point. With
        `next_point_time`, `nts` is the time of the next row (NULL for the last) from the
        same window, in the order `pn` numbers (no sort of the points of its own)."""
        order = "OVER (PARTITION BY x.contact ORDER BY x.ts, x.kind, x.seq"
        window = f"{order} RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        columns = ["x.contact AS contact", "x.ts AS ts", "x.kind AS kind", "x.seq AS seq",
                   "x.isp AS isp", f"ROW_NUMBER() {order}) AS pn"]
        if self.next_point_time:
            columns.append(f"LEAD(x.ts) {order}) AS nts")
        columns += [f"SUM({self.sum_arg(f'x.d_{k}')}) {window} AS run_{k}"
                    for k in self._summed_slots()]
        self.add(name, select(columns, "flow AS x"))

    def _value(self, slot: int, cut: bool) -> str:
        """The unclamped sum of `slot`'s awards that count at point `p`."""
        if slot not in self._summed_slots():
            return self.lit(0)
        if cut and self.slots[slot].score in self.reset_scores:
            after = self._after_key("p.ts", "p.kind", "p.seq", "p")
            return (f"(p.run_{slot} - CASE WHEN p.f_ts IS NOT NULL AND {after} "
                    f"THEN p.pre_{slot} ELSE 0 END)")
        return f"p.run_{slot}"

    def _pass(self, prefix: str, cut: bool) -> None:
        scores, groups, grades = self.lifecycle_values()
        columns = ["p.contact AS contact", "p.pn AS pn", "p.ts AS ts", "p.kind AS kind",
                   "p.seq AS seq"]
        if self.next_point_time and self.sparse:
            columns.append("p.nts AS nts")
        if self._lifecycle_reads_profile():
            # (only then: the profile text would otherwise ride through every later window)
            columns.append("pp.profile AS profile")
        source = f"{'run2' if cut else 'run'} AS p\nJOIN ppl AS pp ON pp.contact = p.contact"

        def part(slot: int) -> str:
            return f"{self._value(slot, cut)} + pp.prof_{slot}"

        for i in scores:
            columns.append(f"{self._score_value(i, part)} AS s_{i}")
        for k in groups:
            columns.append(f"{self._group_value(k, part)} AS s_{k}")
        self.add(f"{prefix}val", select(columns, source, ["pp.scored"]))

        score_col = {self.scores[i]: f"s_{i}" for i in scores}
        group_col = {self.slots[k].group: f"s_{k}" for k in groups}
        grade_col = {g["name"]: f"g_{j}" for j, g in grades}
        stages = tuple(s["name"] for s in self.t["stages"])
        scope = self._scope(json_columns={"contact": "profile"}, score=score_col.__getitem__,
                            grade=grade_col.__getitem__, stages=stages,
                            group=group_col.__getitem__)
        self.add(f"{prefix}gr", self.with_grades(f"{prefix}val", grades, "s_"))
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
        if self.stage_reads_stage:
            # the rounds' columns already say where each move is and to which stage: the
            # stage is that of the last move reached (no per-contact MIN joined back)
            base = self.lit(count + 1)
            reached = " ".join(
                f"WHEN l.pn >= {self.d.int_div(f'l.m_{k}', base)} THEN "
                f"(l.m_{k} - {self.d.int_div(f'l.m_{k}', base)} * {base})"
                for k in range(count, 0, -1))
            self.add(f"{prefix}stg", select(["l.*", f"CASE {reached} ELSE 0 END AS stage"],
                                            f"{prefix}lab AS l"))
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
                   "t.seq AS seq", "t.stage AS stage"] + self.carried("t", "fire")
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
        body = select(columns, source)
        if self.d.tuned_plans and self.t["triggers"]:
            # what reads `fire` reads the points where a trigger fires (`cut`, `acts`) and
            # T's (the stage, `res`): only those are stored (DuckDB at 1M events: a quarter
            # of the points instead of all)
            fired = " OR ".join(f"z.fire_{n}" for n in range(len(self.t["triggers"])))
            body = select(["z.*"], f"({body}) AS z", [f"{fired} OR z.kind = 2"])
        self.add(f"{prefix}fire", body)

    def carried(self, alias: str, into: str) -> list[str]:
        """Columns of `alias` that `fire` / `acts` (`into`) carry on: none in the contact
        query; the actions statement (compiler/sql/actions.py) carries each point's values."""
        return []

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
            at = replace(scope, stage=str(s))
            columns.append(f"{self._holds(at)} AS h_{s}")
        self.add(f"{prefix}hs", select(columns, f"{prefix}gr AS g"))

        def moved_at(alias: str, k: int) -> str:  # the point of move K (NULL: none)
            return self.d.int_div(f"{alias}.m_{k}", base)

        def moved_to(alias: str, k: int) -> str:  # the stage of move K (NULL: none)
            return f"({alias}.m_{k} - {moved_at(alias, k)} * {base})"

        if self.d.materialized_keyword:
            return self._stage_aggregates(prefix, count, base, moved_at, moved_to)
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

    def _stage_aggregates(self, prefix: str, count: int, base: str, moved_at, moved_to) -> str:
        """The rounds of `_stage_rounds` where CTEs are computed once (DuckDB, PostgreSQL):
        round K is a per-contact MIN (`mk_K`, a hash aggregate) over the narrow rows `hn`
        (contact, point, `h_S`) of the contacts that made move K-1, joined back once at the
        end, instead of a window over the wide rows per round (DuckDB at 1M events: each
        window sorted every point with all its values). `hs` is computed again for the join
        back rather than stored (NOT MATERIALIZED)."""
        self.inlined.add(f"{prefix}hs")
        self.add(f"{prefix}hn", select(["contact", "pn"] + [f"h_{s}" for s in range(count)],
                                       f"{prefix}hs"))
        for k in range(1, count + 1):
            if k == 1:
                after, current, picked = "0", "0", "x.h_0"
                source = f"{prefix}hn AS x"
            else:
                after, current = moved_at("x", k - 1), moved_to("x", k - 1)
                picked = (f"CASE {current} "
                          + " ".join(f"WHEN {s} THEN x.h_{s}" for s in range(count)) + " END")
                rows = select(["h.*", f"p.m_{k - 1} AS m_{k - 1}"],
                              f"{prefix}hn AS h\nJOIN {prefix}mk_{k - 1} AS p "
                              "ON p.contact = h.contact", [f"p.m_{k - 1} IS NOT NULL"])
                source = f"({rows}) AS x"
            move = (f"CASE WHEN x.pn > {after} AND {picked} > {current} "
                    f"THEN x.pn * {base} + {picked} END")
            self.add(f"{prefix}mk_{k}", select(["x.contact AS contact", f"MIN({move}) AS m_{k}"],
                                               source, group_by=["x.contact"]))
        joined = select(["x.*"] + [f"a{k}.m_{k} AS m_{k}" for k in range(1, count + 1)],
                        f"{prefix}hs AS x" + "".join(
                            f"\nLEFT JOIN {prefix}mk_{k} AS a{k} ON a{k}.contact = x.contact"
                            for k in range(1, count + 1)))
        moves = " ".join(f"WHEN m.pn = {moved_at('m', k)} THEN {moved_to('m', k)}"
                         for k in range(1, count + 1))
        return select(["m.*", f"CASE {moves} ELSE 0 END AS h"], f"({joined}) AS m")

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
                                 "a.arg AS arg"] + self.carried("f", "acts"),
                                f"({firing}) AS f\nCROSS JOIN actdef AS a",
                                [f"CASE a.ti {' '.join(fired)} END"]))
        fields = [("at", self.d.format_utc("ts")), ("action", "action"), ("arg", "arg")]
        self.add("actagg", select(["contact", self.d.json_array_agg(fields, ["pn", "ti", "ai"], "TRUE")
                                   + " AS actions"], "acts", group_by=["contact"]))
