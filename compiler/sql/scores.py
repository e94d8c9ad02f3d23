"""Score values in the query: decay multipliers, contributions, clamping, the final scores
(`fin`), grades."""
from __future__ import annotations

from .conditions import references
from .statements import select


class ScoreParts:
    """Part of `QueryBuilder` (compiler/sql/query.py): what awards are worth."""

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
