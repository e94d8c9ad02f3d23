"""Score values in the query: slots, decay multipliers, contributions, clamping, the final
scores (`fin`), grades (band and matrix grades).

A *slot* is a part of a score whose awards are summed together: every score has one for its
ungrouped awards (slot index = the score's index), and every group (language 10.2) is a slot
of its score (indices after the scores', in declaration order). A group's value is its slot's
sum clamped to the group's bounds; a score's value is the clamped sum of its groups' values
and its own slot. A model without groups has one slot per score, as v1 had."""
from __future__ import annotations

from dataclasses import dataclass

from .conditions import references
from .statements import select

SCALE = 10 ** 9  # decay multipliers are integers over 10^9 (docs/rule-table.md, "Scores")


@dataclass(frozen=True)
class Slot:
    index: int
    score: str  # the score the slot's points belong to
    group: str | None = None  # None: the score's ungrouped part
    low: int | None = None  # the group's bounds (a score's own bounds are in its info)
    high: int | None = None


def slots_of(table: dict) -> list[Slot]:
    made = [Slot(i, s["name"]) for i, s in enumerate(table["scores"])]
    for g in table.get("groups") or ():
        made.append(Slot(len(made), g["score"], g["name"], g.get("low"), g.get("high")))
    return made


class ScoreParts:
    """Part of `QueryBuilder` (compiler/sql/query.py): what awards are worth."""

    # ------------------------------------------------------------------ slots
    def slot_of(self, item: dict) -> int:
        """The slot a rule (event, absence, inactivity or profile rule) sends points to."""
        if item.get("group") is not None:
            return self.group_slot[item["group"]]
        return self.scores.index(item["score"])

    def slots_of_score(self, index: int) -> list[int]:
        """Score `index`'s own slot, then its groups' slots."""
        name = self.scores[index]
        return [index] + [s.index for s in self.slots if s.group is not None and s.score == name]

    def info_of(self, slot: int) -> dict:
        return self.score_info[self.slots[slot].score]

    def _rules_of_slot(self, slot: int) -> list[int]:
        """Indices (into `award_rules`) of the rules awarding to `slot`."""
        return [i for i, r in enumerate(self.award_rules) if self.slot_of(r) == slot]

    def _rules_of(self, name: str) -> list[int]:
        """Indices (into `award_rules`) of the rules awarding to score `name` or its groups."""
        return [i for i, r in enumerate(self.award_rules) if r["score"] == name]

    def sum_arg(self, expr: str) -> str:
        """An addend of a sum of awards: widened when points come from event properties (up
        to 2^63 each, so that no sum overflows BIGINT; exact up to 10^38)."""
        return f"CAST({expr} AS {self.d.wide})" if self.wide else expr

    # ------------------------------------------------------------------ contributions
    def _multipliers(self) -> None:
        for i, name in enumerate(self.scores):
            decay = self.score_info[name].get("decay")
            if decay and self._rules_of(name):
                rows = [(k, int(m)) for k, m in enumerate(decay["multipliers"])]
                self.add(f"mult_{i}", self.d.values_table(rows, ("k", "m")))

    def _scaled(self, points: str, multiplier: str) -> str:
        """`trunc(points * multiplier / 10^9)`; the product in the wide type when points come
        from event properties (2^63 * 10^9 does not fit BIGINT)."""
        if self.wide:
            product = f"CAST({points} AS {self.d.wide}) * {multiplier}"
            return f"CAST({self.d.wide_div(product, self.lit(SCALE))} AS {self.d.bigint})"
        return self.d.int_div(f"{points} * {multiplier}", self.lit(SCALE))

    def _contribution(self, slot: int, alias: str, age: str, mult: str) -> str:
        """SQL of award row `alias`'s contribution to `slot` at age `age` (0 when the award
        is of another slot)."""
        info = self.info_of(slot)
        if info.get("decay"):
            value = f"{alias}.c * " + self._scaled(f"{alias}.p", f"COALESCE({mult}.m, 0)")
        else:
            value = f"{alias}.c * {alias}.p"
        if info.get("expire") is not None:
            value = f"CASE WHEN {age} >= {self.lit(info['expire'])} THEN 0 ELSE {value} END"
        return f"CASE WHEN {alias}.si = {slot} THEN {value} ELSE 0 END"

    def _mult_join(self, index: int, alias: str, age: str) -> str:
        decay = self.score_info[self.scores[index]]["decay"]
        k = self.d.int_div(age, self.lit(decay["every"]))
        return f"\nLEFT JOIN mult_{index} AS {alias} ON {alias}.k = {k}"

    def _clamp(self, index: int, expr: str) -> str:
        info = self.score_info[self.scores[index]]
        return self._bounded(expr, info.get("low"), info.get("high"))

    def _bounded(self, expr: str, low: int | None, high: int | None) -> str:
        if low is not None:
            expr = f"GREATEST({expr}, {self.lit(low)})"
        if high is not None:
            expr = f"LEAST({expr}, {self.lit(high)})"
        return expr

    def _score_value(self, index: int, part) -> str:
        """Score `index`'s value from its slots' unclamped sums (`part(slot)`, SQL): each group
        clamped to its bounds, their sum with the ungrouped part clamped to the score's."""
        terms = [part(index)]
        for slot in self.slots_of_score(index)[1:]:
            terms.append(self._group_value(slot, part))
        return self._clamp(index, " + ".join(terms))

    def _group_value(self, slot: int, part) -> str:
        s = self.slots[slot]
        return self._bounded(part(slot), s.low, s.high)

    @staticmethod
    def _after_key(ts: str, kind: str, seq: str, r: str) -> str:
        """The evaluation point (ts, kind, seq) comes after cut `r`'s."""
        return (f"({ts} > {r}.f_ts OR ({ts} = {r}.f_ts AND ({kind} > {r}.f_kind OR "
                f"({kind} = {r}.f_kind AND {seq} > {r}.f_seq))))")

    def _after(self, a: str, r: str) -> str:
        return self._after_key(f"{a}.ts", f"{a}.kind", f"{a}.seq", r)

    def _final_scores(self) -> None:
        """`fin`: per contact and slot, the sum of the contributions as of T (`v_K`)."""
        age = "(tnow.as_of - a.ts)"
        columns = ["a.contact AS contact"]
        source = "aw AS a\nCROSS JOIN tnow"
        if self.reset_scores:
            source += "\nLEFT JOIN cut AS r ON r.contact = a.contact"
        for i, name in enumerate(self.scores):
            if self.score_info[name].get("decay") and self._rules_of(name):
                source += self._mult_join(i, f"m{i}", age)
        for slot in self.slots:
            if not self._rules_of_slot(slot.index):
                columns.append(f"{self.lit(0)} AS v_{slot.index}")
                continue
            mult = f"m{self.scores.index(slot.score)}"
            contribution = self._contribution(slot.index, "a", age, mult)
            if slot.score in self.reset_scores:
                contribution = (f"CASE WHEN r.f_ts IS NULL OR {self._after('a', 'r')} "
                                f"THEN {contribution} ELSE 0 END")
            columns.append(f"SUM({self.sum_arg(contribution)}) AS v_{slot.index}")
        self.final_source = source
        self.final_columns = columns  # emitted after `cut` exists (see _lifecycle)
        if not self.reset_scores:
            self.add("fin", select(columns, source, group_by=["a.contact"]))

    # ------------------------------------------------------------------ what conditions read
    def grade_closure(self, names) -> list[tuple[int, dict]]:
        """The grades named, with the grades their matrix grades read, in file order."""
        grades = {g["name"]: g for g in self.t["grades"]}
        wanted, stack = set(), [n for n in names if n in grades]
        while stack:
            name = stack.pop()
            if name in wanted:
                continue
            wanted.add(name)
            stack.extend(grades[name].get("matrix") or ())
        return [(j, g) for j, g in enumerate(self.t["grades"]) if g["name"] in wanted]

    def lifecycle_reads(self) -> tuple[list[int], list[int], list[tuple[int, dict]]]:
        """What stage and trigger conditions read: (score indices, group slots, grades),
        directly or through a grade."""
        refs = [ref for item in [*self.t["stages"], *self.t["triggers"]]
                for ref in references(item["condition"])]
        grades = self.grade_closure(ref[1] for ref in refs if ref[0] == "grade")
        scores = {ref[1] for ref in refs if ref[0] == "score"}
        groups = {ref[1] for ref in refs if ref[0] == "group"}
        for _, g in grades:
            if "matrix" in g:
                continue
            if g.get("group") is not None:
                groups.add(g["group"])
            else:
                scores.add(g["score"])
        return ([i for i, name in enumerate(self.scores) if name in scores],
                [s.index for s in self.slots if s.group in groups], grades)

    def scores_behind(self, ref) -> set[str]:
        """The scores whose awards a condition's REF depends on."""
        if ref[0] == "score":
            return {ref[1]}
        if ref[0] == "group":
            return {self.slots[self.group_slot[ref[1]]].score}
        if ref[0] == "grade":
            found = set()
            for _, g in self.grade_closure([ref[1]]):
                if "matrix" not in g:
                    found.add(g["score"])
            return found
        return set()

    # ------------------------------------------------------------------ grades
    def grade_value_column(self, grade: dict, prefix: str) -> str:
        """The column a band grade reads: its group's or its score's value."""
        if grade.get("group") is not None:
            return f"{prefix}{self.group_slot[grade['group']]}"
        return f"{prefix}{self.scores.index(grade['score'])}"

    def _grade_sql(self, grade: dict, value: str) -> str:
        bands = " ".join(f"WHEN {value} >= {_number_sql(threshold)} THEN {self.d.string(label)}"
                         for label, threshold in grade["bands"])
        otherwise = self.d.string(grade["else"]) if grade.get("else") is not None else "NULL"
        if not bands:
            return otherwise
        return f"CASE {bands} ELSE {otherwise} END"

    def _matrix_sql(self, grade: dict, first: str, second: str) -> str:
        """A matrix grade (language 10.4): the two labels joined, or the bucket listing that
        cell, else the `else` label; absent (NULL) when either label is."""
        cell = f"({first} || {second})"
        if not grade.get("buckets"):
            return cell
        whens = [f"WHEN {cell} IN ({', '.join(self.d.string(c) for c in cells)}) "
                 f"THEN {self.d.string(label)}" for label, cells in grade["buckets"] if cells]
        if grade.get("else") is not None:
            whens.append(f"WHEN {cell} IS NOT NULL THEN {self.d.string(grade['else'])}")
        return f"CASE {' '.join(whens)} END" if whens else "NULL"

    def with_grades(self, source: str, grades: list[tuple[int, dict]], value_prefix: str,
                    grade_prefix: str = "g_") -> str:
        """A SELECT of `source`'s columns and one column per grade (`g_J`, J = its index in
        the table): band grades at once, each matrix grade in a SELECT around the grades it
        joins (a column cannot read another one of the same SELECT in every dialect)."""
        level: dict[str, int] = {}
        by_name = {g["name"]: g for _, g in grades}
        for _, g in grades:
            level[g["name"]] = (0 if "matrix" not in g else
                                1 + max(level[n] for n in g["matrix"]))
        index = {g["name"]: j for j, g in grades}
        body = None
        for depth in range(max(level.values(), default=0) + 1):
            columns = ["x.*"]
            for j, g in grades:
                if level[g["name"]] != depth:
                    continue
                if "matrix" in g:
                    first, second = (f"x.{grade_prefix}{index[n]}" for n in g["matrix"])
                    expr = self._matrix_sql(by_name[g["name"]], first, second)
                else:
                    expr = self._grade_sql(g, "x." + self.grade_value_column(g, value_prefix))
                columns.append(f"{expr} AS {grade_prefix}{j}")
            inner = source if body is None else f"({body})"
            body = select(columns, f"{inner} AS x")
        return body


def _trunc_div(numerator: int, denominator: int) -> int:
    quotient = abs(numerator) // denominator
    return quotient if numerator >= 0 else -quotient


def multiplier_at(info: dict, age: int) -> int:
    """The factor (over 10^9) of an award's points at `age`: 0 once expired or decayed away."""
    expire, decay = info.get("expire"), info.get("decay")
    if expire is not None and age >= int(expire):
        return 0
    if not decay:
        return SCALE
    k = age // int(decay["every"])
    multipliers = decay["multipliers"]
    return int(multipliers[k]) if k < len(multipliers) else 0


def _worth(info: dict, points: int, age: int) -> int:
    """What an award of `points` contributes at `age` (rule-table.md, "Scores")."""
    return _trunc_div(points * multiplier_at(info, age), SCALE)


def step_ages(info: dict) -> list[int]:
    """The ages at which an award's worth can change (decay steps, expiry), ascending."""
    decay, expire = info.get("decay"), info.get("expire")
    ages: set[int] = set()
    if decay:
        every = int(decay["every"])
        ages.update(j * every for j in range(1, len(decay["multipliers"]) + 1))
    if expire is not None:
        ages = {a for a in ages if a < int(expire)} | {int(expire)}
    return sorted(ages)


def _number_sql(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a number: {value!r}")
    return str(value) if isinstance(value, int) else repr(float(value))
