"""Rule coverage: what of a model no test (or no contact of a history) ever exercised.

`score test --coverage` and `score run --coverage` list, per file and with `file:line`:

| item | covered when |
|---|---|
| an event, absence, inactivity or profile rule | it awarded points at least once |
| a limit (`once`, `at most N [per P]`, an inactivity rule's `at most N`) | it was reached: a matching event (or award) was capped, or a quiet spell had its N awards |
| a grade's label (each band, the `else`, a matrix grade's bucket or cell) | a contact ended with it |
| a stage | a contact moved to it |
| a trigger | it fired |
| each `require` line | it held for a contact, and it failed for one (two items) |

The counts come from the runtime itself: an observer (`runtime.observe.Observer`) is told every
award, capped match, stage move and firing while the engine scores, and each contact's result;
there is no second evaluator. The percentage is covered items over all items.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from dsl import ast
from dsl import formatter as fmt
from runtime.conditions import compile_condition, render
from runtime.observe import Observer

KINDS = ("rule", "limit", "label", "stage", "trigger", "require")


@dataclass
class Item:
    """One thing to cover. `key` identifies it across the models that share its file."""
    file: str
    line: int
    kind: str  # one of KINDS
    subject: str  # what the line says (the statement's canonical text)
    missing: str  # what no contact did: "never awarded", "`once` never reached", ...
    count: int = 0  # how often it happened (awards, capped matches, contacts, firings)

    @property
    def key(self) -> tuple:
        return (self.file, self.line, self.kind, self.subject, self.missing)

    @property
    def covered(self) -> bool:
        return self.count > 0

    @property
    def at(self) -> str:
        return f"{self.file}:{self.line}"

    def to_json(self) -> dict:
        return {"at": self.at, "kind": self.kind, "subject": self.subject,
                "missing": self.missing, "count": self.count, "covered": self.covered}


def percent(covered: int, total: int) -> float:
    return 100.0 if total == 0 else 100.0 * covered / total


@dataclass
class FileCoverage:
    file: str
    items: list[Item]

    @property
    def covered(self) -> int:
        return sum(1 for item in self.items if item.covered)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def percent(self) -> float:
        return percent(self.covered, self.total)

    @property
    def missed(self) -> list[Item]:
        return [item for item in self.items if not item.covered]

    def to_json(self) -> dict:
        return {"file": self.file, "covered": self.covered, "total": self.total,
                "percent": round(self.percent, 2), "items": [i.to_json() for i in self.items]}


@dataclass
class CoverageReport:
    source: str  # "tests" or the events file a run scored
    files: list[FileCoverage]
    contacts: int = 0  # contacts (tests) scored

    @property
    def covered(self) -> int:
        return sum(f.covered for f in self.files)

    @property
    def total(self) -> int:
        return sum(f.total for f in self.files)

    @property
    def percent(self) -> float:
        return percent(self.covered, self.total)

    def to_json(self) -> dict:
        return {"format": 1, "source": self.source, "contacts": self.contacts,
                "covered": self.covered, "total": self.total,
                "percent": round(self.percent, 2), "files": [f.to_json() for f in self.files]}


# --------------------------------------------------------------------------- the items


def _position(at: str) -> tuple[str, int]:
    file, _, line = (at or "<string>:0").rpartition(":")
    return (file, int(line)) if line.isdigit() else (at, 0)


def _texts(model: ast.Model | None) -> dict[str, str]:
    """`file:line` -> the canonical text of the statement there."""
    if model is None:
        return {}
    found = {}
    for statement in model.statements:
        span = getattr(statement, "span", None)
        if span is not None and not isinstance(statement, ast.Test):
            found.setdefault(f"{span.file}:{span.line}", fmt.statement_text(statement))
    return found


class ModelCoverage(Observer):
    """The items of one compiled model, counted while its engine scores (an observer)."""

    def __init__(self, table, model: ast.Model | None = None):
        from compiler.lower import require_forms

        self.table = table  # runtime.CompiledTable
        self.items: list[Item] = []
        self.contacts = 0
        texts = _texts(model)
        raw = table.raw

        def add(at: str, kind: str, subject: str | None, missing: str) -> Item:
            file, line = _position(at)
            item = Item(file, line, kind, subject or texts.get(at) or at, missing)
            self.items.append(item)
            return item

        self._awards: dict[str, Item] = {}
        self._caps: dict[str, Item] = {}
        for rule in [*raw["rules"], *raw["profile"], *(raw.get("inactivity") or ())]:
            self._awards[rule["id"]] = add(rule["at"], "rule", None, "never awarded")
            if rule.get("limit") or rule.get("count") is not None:
                self._caps[rule["id"]] = add(rule["at"], "limit", None,
                                             f"{_limit_text(rule)} never reached")
        self._labels: dict[tuple[str, str], Item] = {}
        for grade in raw["grades"]:
            for label in _labels_of(grade, raw["grades"]):
                self._labels[(grade["name"], label)] = add(
                    grade["at"], "label", None, f"never ended in `{fmt.label(label)}`")
        self._stages = [add(stage["at"], "stage", None, "never reached")
                        for stage in raw["stages"]]
        self._triggers = [add(trigger["at"], "trigger", None, "never fired")
                          for trigger in raw["triggers"]]
        forms = require_forms(model) if model is not None else (
            [("<table>:0", raw["require"])] if raw.get("require") is not None else [])
        self._requires = []
        for at, form in forms:
            subject = texts.get(at) or f"require {render(form)}"
            self._requires.append((compile_condition(form, at),
                                   add(at, "require", subject, "never held"),
                                   add(at, "require", subject, "never failed")))
        self._profile = [(test, raw_rule["id"]) for test, _, _, raw_rule in table.profile]

    # ------------------------------------------------------------------ the observer

    def start(self, state, engine) -> None:
        self.contacts += 1
        env = (None, state.profile, {})
        for test, held, failed in self._requires:
            (held if test(env) else failed).count += 1
        if state.scored:
            for test, rule_id in self._profile:
                if test(env):
                    self._awards[rule_id].count += 1

    def award(self, rule, at: int, capped: bool, points: int) -> None:
        (self._caps if capped else self._awards)[rule.id].count += 1

    def absence(self, rule, item: tuple, capped: bool) -> None:
        (self._caps if capped else self._awards)[rule.id].count += 1

    def inactivity(self, rule, due: int, start: int) -> None:
        self._awards[rule.id].count += 1
        if rule.count is not None and rule.next_due(start, due) is None:
            self._caps[rule.id].count += 1  # this spell has had its N awards

    def stage(self, old: int, new: int, at: int, live: dict) -> None:
        self._stages[new].count += 1

    def fire(self, index: int, at: int, live: dict) -> None:
        self._triggers[index].count += 1

    def result(self, contact_id: str, result: dict) -> None:
        for grade, label in result.get("grades", {}).items():
            item = self._labels.get((grade, label))
            if item is not None:
                item.count += 1


def _limit_text(rule: dict) -> str:
    if rule.get("limit") is None:  # an inactivity rule's awards per quiet spell
        return f"`at most {rule['count']}` in a quiet spell"
    limit = rule["limit"]
    if limit["count"] == 1 and limit["per"] is None:
        return "`once`"
    per = f" per {limit['per']}" if limit["per"] else ""
    return f"`at most {limit['count']}{per}`"


def _labels_of(grade: dict, grades: list[dict]) -> list[str]:
    """The labels a grade can give: its bands and `else`; a matrix grade's buckets and
    `else`, or without buckets every cell of its two grades."""
    if "matrix" not in grade:
        labels = [label for label, _ in grade["bands"]]
    elif grade.get("buckets"):
        labels = [label for label, _ in grade["buckets"]]
    else:
        by_name = {g["name"]: g for g in grades}
        first, second = (_labels_of(by_name[name], grades) for name in grade["matrix"])
        labels = [a + b for a in first for b in second]
    if grade.get("else") is not None:
        labels.append(grade["else"])
    return list(dict.fromkeys(labels))


# --------------------------------------------------------------------------- merging


@dataclass
class Collector:
    """Coverage over several models: items that two models share (an included file) are
    one item, covered when either covers it."""
    source: str = "tests"
    models: list[ModelCoverage] = field(default_factory=list)

    def model(self, table, model: ast.Model | None = None) -> ModelCoverage:
        coverage = ModelCoverage(table, model)
        self.models.append(coverage)
        return coverage

    def report(self) -> CoverageReport:
        merged: dict[tuple, Item] = {}
        for coverage in self.models:
            for item in coverage.items:
                known = merged.get(item.key)
                if known is None:
                    merged[item.key] = Item(item.file, item.line, item.kind, item.subject,
                                            item.missing, item.count)
                else:
                    known.count += item.count
        files: dict[str, list[Item]] = {}
        for item in sorted(merged.values(), key=lambda i: (i.file, i.line, KINDS.index(i.kind))):
            files.setdefault(item.file, []).append(item)
        return CoverageReport(self.source, [FileCoverage(f, items) for f, items in files.items()],
                              sum(c.contacts for c in self.models))


def run_coverage(table: dict, model: ast.Model | None, events, contacts: dict,
                 as_of: int | None, source: str) -> tuple[list[dict], CoverageReport]:
    """`score run --coverage`: the results of a run and what of the model it exercised."""
    from runtime import Engine

    engine = Engine(table)
    collector = Collector(source)
    observer = collector.model(engine.table, model)
    results = engine.run(events, contacts, as_of=as_of, observer=observer)
    return results, collector.report()
