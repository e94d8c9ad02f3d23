"""The award rows of the query (`aw`): event rules' matches with their caps, absence awards."""
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
