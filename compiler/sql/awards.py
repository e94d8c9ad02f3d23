"""The award rows of the query (`aw`): event rules' matches with their caps (points written in
the rule or taken from an event property), absence awards, inactivity awards."""
from __future__ import annotations

from .conditions import condition_sql, references
from .quoting import glob_to_like
from .statements import select, union_all


class AwardParts:
    """Part of `QueryBuilder` (compiler/sql/query.py): matching and award rows."""

    # ------------------------------------------------------------------ matching
    def _targets(self, targets: dict) -> str:
        if targets.get("any"):
            return "TRUE"
        exact = list(dict.fromkeys(targets.get("exact", [])))
        tests = [self.d.text_in("target", exact)] if exact else []
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

    def _period(self, micros: str, per: str) -> str:
        return self.d.period(micros, self.t["timezone"], per)

    def _award_columns(self, index: int, ts: str, kind: int, seq: str, counted: str,
                       points: str | None = None) -> list[str]:
        rule = self.award_rules[index]
        if points is None:
            points = self.lit(rule["points"])
        return ["contact", f"{ts} AS ts", f"{kind} AS kind", f"{seq} AS seq",
                f"{index} AS rule", f"{self.slot_of(rule)} AS si", f"{points} AS p",
                f"{counted} AS c"]

    def _awards(self) -> None:
        """`aw`: one row per award (contact, ts, kind, seq = its evaluation point; rule = its
        index in `award_rules`, si = the slot, p = points, c = 1, or 0 when a cap withholds
        it)."""
        keyed = [i for i, rule in enumerate(self.rules) if self._keyed(rule)]
        parts = self._keyed_awards(keyed)
        skip = set(keyed)
        for i, rule in enumerate(self.rules):
            if i in skip:
                continue
            if rule["kind"] == "event":
                parts.append(self._event_awards(i, rule))
            else:
                parts.append(self._absence_awards(i, rule))
        if self.t.get("inactivity"):
            self._spells()
            for j, rule in enumerate(self.t["inactivity"]):
                parts.append(self._inactivity_awards(len(self.rules) + j, rule))
        if not parts:
            parts = [select(["contact", "ts", "0 AS kind", "seq", "0 AS rule", "0 AS si",
                             f"{self.lit(0)} AS p", "0 AS c"], "ev", ["FALSE"])]
        self.add("aw", union_all(parts))

    # Keyed rules (issue 10 item 13): an event rule matched by its event name and target alone
    # (no `where`, no `by PROP`, exact targets or any target) is a row of a constant table
    # joined with the events on (event, target), not a SELECT of its own: a model of thousands
    # of such rules, or one rule with thousands of targets, is then a few joins whose cost
    # grows with the table, where a UNION ALL of a SELECT per rule and OR chains of targets
    # made DuckDB's planning superlinear. Rules that share a cap kind share a table; the cap
    # ranks each rule's matches apart (PARTITION BY rule). Dialects with `tuned_plans` only:
    # Spark, Snowflake and BigQuery keep a SELECT per rule.
    def _keyed(self, rule: dict) -> bool:
        targets = rule["targets"]
        return (self.d.tuned_plans and rule["kind"] == "event" and rule.get("where") is None
                and rule.get("by") is None and type(rule.get("points")) is int
                and (bool(targets.get("any")) or (bool(targets.get("exact"))
                                                 and not targets.get("globs"))))

    def _keyed_awards(self, indices: list[int]) -> list[str]:
        groups: dict[tuple[bool, str | None], list[tuple]] = {}
        for i in indices:
            rule = self.rules[i]
            limit = rule.get("limit")
            any_target = bool(rule["targets"].get("any"))
            per = None if limit is None else (limit.get("per") or "")
            tail = (i, self.slot_of(rule), rule["points"])
            if limit is not None:
                tail += (int(limit["count"]),)
            rows = groups.setdefault((any_target, per), [])
            if any_target:
                rows.append((rule["event"],) + tail)
            else:
                rows += [(rule["event"], x) + tail
                         for x in dict.fromkeys(rule["targets"]["exact"])]
        parts = []
        for (any_target, per), rows in sorted(groups.items(), key=lambda g: (g[0][0],
                                                                             str(g[0][1]))):
            columns = (("event",) + (() if any_target else ("target",)) + ("rule", "si", "p")
                       + (() if per is None else ("lim",)))
            on = "k.event = u.event" + ("" if any_target else " AND k.target = u.target")
            keys = self.d.constant_table(columns, rows)
            inner = select(["u.contact AS contact", "u.ts AS ts", "u.seq AS seq", "k.rule AS rule",
                            "k.si AS si", "k.p AS p"] + ([] if per is None else ["k.lim AS lim"]),
                           f"ev AS u\nJOIN ({keys}) AS k ON {on}")
            counted = "1"
            if per is not None:
                partition = "contact, rule" + (f", {self._period('ts', per)}" if per else "")
                rank = f"ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY ts, seq)"
                counted = f"CASE WHEN {rank} <= lim THEN 1 ELSE 0 END"
            parts.append(select(["contact", "ts AS ts", "0 AS kind", "seq AS seq", "rule", "si",
                                 "p", f"{counted} AS c"], f"({inner}) AS m"))
        return parts

    def _event_awards(self, i: int, rule: dict) -> str:
        limit = rule.get("limit")
        source, where, points = "ev AS u", [self._match(rule)], None
        by = rule.get("by")
        if by is not None:
            # the property's integer value, else no match: nothing awarded nor counted (10.5)
            value = self.d.json_integer("u.props", by["prop"])
            inner = select(["u.contact AS contact", "u.ts AS ts", "u.seq AS seq",
                            f"{value} AS bv"], source, where)
            source, where = f"({inner}) AS b", ["b.bv IS NOT NULL"]
            points = self._bounded("b.bv", by.get("low"), by.get("high"))
        counted = "1"
        if limit is not None:
            partition = "contact"
            if limit.get("per"):
                partition += ", " + self._period("ts", limit["per"])
            rank = f"ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY ts, seq)"
            counted = f"CASE WHEN {rank} <= {int(limit['count'])} THEN 1 ELSE 0 END"
        return select(self._award_columns(i, "ts", 0, "seq", counted, points), source, where)

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

    # Inactivity (language 10.3): the quiet spell from an activity time u lasts until the next
    # activity time v (an activity at exactly a due time answers it), so a rule's awards are
    # due at u + after + k * every for k = 0, 1, ... while due < v and due <= T (at most
    # `count` of them; one without `every`).
    def _spells(self) -> None:
        """`spell`: per contact, each distinct activity time `u` and the next one `v` (NULL:
        none by T)."""
        kinds = self.t.get("activity")
        where = None
        if kinds is not None:
            where = [f"event IN ({', '.join(self.d.string(k) for k in kinds)})"]
        act = select(["DISTINCT contact", "ts AS u"], "ev", where)
        self.add("spell", select(["contact", "u", "LEAD(u) OVER (PARTITION BY contact "
                                  "ORDER BY u) AS v"], f"({act}) AS t"))

    def _inactivity_awards(self, index: int, rule: dict) -> str:
        after = self.lit(rule["after"])
        last = "COALESCE(s.v - 1, tnow.as_of)"  # the latest time an award may be due
        first_due = f"s.u + {after}"
        source = "spell AS s\nCROSS JOIN tnow"
        if rule.get("every") is None:
            due = select(["s.contact AS contact", f"{first_due} AS due"], source,
                         [f"{first_due} <= {last}"])
        else:
            every = self.lit(rule["every"])
            kmax = self.d.int_div(f"{last} - ({first_due})", every)
            if rule.get("count") is not None:
                kmax = f"LEAST({kmax}, {self.lit(int(rule['count']) - 1)})"
            spells = select(["s.contact AS contact", "s.u AS u", f"{kmax} AS kmax"], source,
                            [f"{first_due} <= {last}"])
            due = select(["z.contact AS contact", f"z.u + {after} + z.k * {every} AS due"],
                         f"{self.d.series(spells, 'kmax', 'k')} AS z")
        return select(self._award_columns(index, "due", 1, "0", "1"), f"({due}) AS y")
