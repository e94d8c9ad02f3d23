"""Loading, validating and compiling a rule table (docs/rule-table.md).

`load_table` accepts the table as a dict or a path to its JSON and checks it; `CompiledTable`
turns it into what the engine runs: conditions as closures, scores as indices, decay
multipliers cached, and a dispatch cache keyed by (event type, target) so that an event
looks at exactly the rules that can match it.
"""
from __future__ import annotations

import hashlib
import json
from os import PathLike
from pathlib import Path

from .accounts import compile_accounts
from .conditions import compile_condition, compile_glob
from .decay import Decay, keep_fraction
from .errors import TableError
from .periods import Calendar
from .validate import FORMAT, INT64_MAX, INT64_MIN, validate


_DISPATCH_CACHE_LIMIT = 65536
# Rule kinds as the engine compares them (the same string objects: an identity check)
EVENT, ABSENCE, BY = "event", "absence", "by"
_KINDS = {EVENT: EVENT, ABSENCE: ABSENCE}


def load_table(table: dict | str | PathLike) -> dict:
    """The table as a dict, validated; raises TableError citing `file:line` when it can."""
    if not isinstance(table, dict):
        try:
            table = json.loads(Path(table).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:  # RecursionError: deep JSON
            raise TableError(f"cannot read rule table {table}: {exc}") from None
    validate(table)
    return table


def targets_matcher(targets: dict):
    """A function target -> bool for a targets object (None target: only `any`)."""
    if targets.get("any"):
        return lambda target: True
    exact = frozenset(targets.get("exact", ()))
    globs = [compile_glob(pattern).fullmatch for pattern in targets.get("globs", ())]

    def match(target):
        if target is None:
            return False
        if target in exact:
            return True
        return any(glob(target) is not None for glob in globs)
    return match


class Rule:
    """An event or absence rule ready to run. `kind` is "event", "absence" or "by" (an event
    rule whose points come from a property, language 10.5). `score` is the score's index,
    `slot` the accumulator that receives the points: the score's own, or its group's."""

    __slots__ = ("index", "id", "at", "kind", "event", "matches", "where", "points", "score",
                 "slot", "group", "cap", "per", "within", "missing", "answered_by", "prop",
                 "low", "high")

    def __init__(self, index: int, rule: dict, slots: dict[str, int], scores: dict[str, int]):
        self.index = index
        self.id = rule["id"]
        self.at = rule["at"]
        self.kind = _KINDS[rule["kind"]]
        self.event = rule["event"]
        self.matches = targets_matcher(rule["targets"])
        where = rule.get("where")
        self.where = None if where is None or where is True else compile_condition(where, self.at)
        self.points = rule["points"]
        self.score = scores[rule["score"]]
        self.group = rule.get("group")
        self.slot = slots[self.group] if self.group is not None else self.score
        limit = rule.get("limit")
        self.cap = None if limit is None else limit["count"]
        self.per = None if limit is None else limit["per"]
        self.within = rule.get("within")
        self.missing = rule.get("missing")
        self.answered_by = None
        if self.kind == ABSENCE:
            spec = rule["missing_targets"]
            # `same`: B must carry A's target (both None counts as the same)
            self.answered_by = None if spec.get("same") else targets_matcher(spec)
        by = rule.get("by")
        self.prop = self.low = self.high = None
        if by is not None:
            self.kind = BY
            self.prop, self.low, self.high = by["prop"], by.get("low"), by.get("high")

    def points_of(self, props) -> int | None:
        """A `by PROP` rule's award for these event properties, or None when the rule does
        not match: the value must be an integer-valued number (`20`, `20.0`, `2e1`), not a
        bool, within the signed 64-bit range (10.8.9); then it is bounded to `low..high`."""
        value = props.get(self.prop) if props else None
        kind = type(value)
        if kind is float:
            if not value.is_integer():  # 2.5, and also inf and nan
                return None
            value = int(value)
        elif kind is not int:  # text, bool (`type(True) is bool`), null, missing
            return None
        if value < INT64_MIN or value > INT64_MAX:
            return None
        if self.low is not None and value < self.low:
            return self.low
        if self.high is not None and value > self.high:
            return self.high
        return value


class Inactivity:
    """An inactivity rule (language 10.3): awards `points` at `u + after`, then every `every`
    while the quiet spell from `u` lasts, at most `count` times per spell."""

    __slots__ = ("index", "id", "at", "after", "every", "count", "points", "score", "slot",
                 "group")

    def __init__(self, index: int, rule: dict, slots: dict[str, int], scores: dict[str, int]):
        self.index = index
        self.id = rule["id"]
        self.at = rule["at"]
        self.after = rule["after"]
        self.every = rule.get("every")
        self.count = rule.get("count")
        self.points = rule["points"]
        self.score = scores[rule["score"]]
        self.group = rule.get("group")
        self.slot = slots[self.group] if self.group is not None else self.score

    def next_due(self, start: int, due: int) -> int | None:
        """After an award at `due` in the spell that started at `start`: the next due time,
        or None when the spell awards no more (no `every`, or `at most` reached)."""
        if self.every is None:
            return None
        if self.count is not None and (due - start - self.after) // self.every + 1 >= self.count:
            return None
        return due + self.every


def identity_of(table: dict) -> str:
    """What a snapshot is stamped with: the source's sha256 when the table carries one, else
    `content:` and a sha256 of the table itself (a table built with `lower()` or with
    `sha256: null`), so that no two different tables share an identity."""
    sha = table["source"].get("sha256")
    if sha is not None:
        return sha
    try:
        text = json.dumps(table, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    except (TypeError, ValueError, RecursionError) as exc:
        raise TableError(f"malformed rule table: {type(exc).__name__} {exc}") from None
    return "content:" + hashlib.sha256(text.encode("ascii")).hexdigest()


class CompiledTable:
    """What the engine runs. Points accumulate in *slots*: one per score (its ungrouped
    awards), then one per group (language 10.2), so slot `i < len(score_names)` is score `i`.
    Decay and expiry are per slot (a group's are its score's)."""

    def __init__(self, table: dict | str | PathLike):
        table = load_table(table)
        try:
            self._compile(table)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise TableError(f"malformed rule table: {type(exc).__name__} {exc}") from None

    def _compile(self, table: dict) -> None:
        self.raw = table
        self.sha256 = table["source"].get("sha256")
        self.identity = identity_of(table)
        try:
            self.calendar = Calendar(table["timezone"])
        except (ValueError, LookupError, OSError):  # zoneinfo's errors for unknown zones
            raise TableError(f"unknown time zone {table['timezone']!r}") from None
        self._compile_scores(table["scores"], table["groups"])
        require = table["require"]
        self.require = None if require is None or require is True \
            else compile_condition(require)
        slots, scores = self.slot_index, self.score_index
        self.rules = [Rule(i, rule, slots, scores) for i, rule in enumerate(table["rules"])]
        self.profile = [(compile_condition(p["condition"], p["at"]), p["points"],
                         slots[p["group"]] if p.get("group") is not None else scores[p["score"]],
                         p) for p in table["profile"]]
        self.inactivity = tuple(Inactivity(i, rule, slots, scores)
                                for i, rule in enumerate(table["inactivity"]))
        activity = table["activity"]
        self.activity = None if activity is None else frozenset(activity)
        self.grades = [self._compile_grade(g) for g in table["grades"]]
        self.stages = [(s["name"], compile_condition(s["condition"], s["at"]))
                       for s in table["stages"]]
        self.triggers = [self._compile_trigger(t) for t in table["triggers"]]
        # language 10.6; a table written before accounts existed has no such key
        self.accounts = compile_accounts(table.get("accounts"))
        self.lifecycle = bool(self.grades or self.stages or self.triggers)
        self.has_absence = any(rule.kind == ABSENCE for rule in self.rules)
        # the live values need the general path (runtime.engine) only for these
        self.has_matrix = any(grade[1] is None for grade in self.grades)
        self._dispatch = table["dispatch"]
        # event type -> target -> rules; read directly by the engine's hot path
        self.cache: dict[str, dict] = {}
        self._cached = 0
        self.answers = {event: tuple(self.rules[i] for i in indices)
                        for event, indices in table["answers"].items()}

    def _compile_scores(self, scores: list[dict], groups: list[dict]) -> None:
        self.score_names = tuple(score["name"] for score in scores)
        self.score_index = {name: i for i, name in enumerate(self.score_names)}
        self.lows = [score.get("low") for score in scores]
        self.highs = [score.get("high") for score in scores]
        decays: list[Decay | None] = []
        for score in scores:
            decay = score.get("decay")
            if decay is None:
                decays.append(None)
                continue
            if type(decay.get("every")) is not int or decay["every"] <= 0:
                raise TableError(f"decay of {score['name']}: `every` must be a positive "
                                 "number of microseconds", decay.get("at"))
            keep = keep_fraction(decay["percent"])
            if list(decay.get("keep", (keep.numerator, keep.denominator))) != \
                    [keep.numerator, keep.denominator]:
                raise TableError(f"decay of {score['name']}: `keep` disagrees with `percent`",
                                 decay.get("at"))
            decays.append(Decay(keep, decay["every"], decay.get("multipliers")))
        expires = [score.get("expire") for score in scores]
        # groups: (name, score index, low, high, slot)
        count = len(scores)
        self.groups = tuple((g["name"], self.score_index[g["score"]], g.get("low"),
                             g.get("high"), count + j) for j, g in enumerate(groups))
        self.group_names = tuple(group[0] for group in self.groups)
        self.slot_names = self.score_names + self.group_names
        self.slot_index = {name: i for i, name in enumerate(self.slot_names)}
        self.slot_score = tuple(range(count)) + tuple(group[1] for group in self.groups)
        self.decays = decays + [decays[group[1]] for group in self.groups]
        self.expires = expires + [expires[group[1]] for group in self.groups]
        # Slots whose value depends on the time of evaluation keep their awards.
        self.timed = tuple(i for i in range(len(self.slot_names))
                           if self.decays[i] is not None or self.expires[i] is not None)
        # `reset S` empties S's own slot and the slots of its groups (10.2)
        self.reset_slots = tuple((i,) + tuple(g[4] for g in self.groups if g[1] == i)
                                 for i in range(count))

    def _compile_grade(self, grade: dict) -> tuple:
        """`(name, source, bands, else)`: `source` is the name of the score or group read.
        A matrix grade is `(name, None, (grade1, grade2, cells or None), else)`, `cells`
        mapping a joined cell text to its bucket's label (the first bucket listing it)."""
        if "matrix" in grade:
            first, second = grade["matrix"]
            cells = None
            if grade.get("buckets") is not None:
                cells = {}
                for label, listed in grade["buckets"]:
                    for cell in listed:
                        cells.setdefault(cell, label)
            return (grade["name"], None, (first, second, cells), grade.get("else"))
        source = grade["group"] if grade.get("group") is not None else grade["score"]
        return (grade["name"], source,
                tuple((label, threshold) for label, threshold in grade["bands"]),
                grade.get("else"))

    def _compile_trigger(self, trigger: dict):
        actions = tuple((a["action"], a["arg"],
                         self.score_index.get(a["arg"]) if a["action"] == "reset" else None)
                        for a in trigger["actions"])
        return (compile_condition(trigger["condition"], trigger["at"]), actions,
                bool(trigger.get("each_time")), trigger)

    def is_activity(self, event_type: str) -> bool:
        return self.activity is None or event_type in self.activity

    def rules_for(self, event: str, target) -> tuple:
        """The rules an event of this type and target can match, in rule order."""
        by_target = self.cache.get(event)
        if by_target is None:
            by_target = self.cache[event] = {}
        found = by_target.get(target)
        if found is None:
            found = self._lookup(event, target)
            if self._cached >= _DISPATCH_CACHE_LIMIT:
                self.cache.clear()  # bound memory under unbounded target vocabularies
                self._cached = 0
                by_target = self.cache[event] = {}
            by_target[target] = found
            self._cached += 1
        return found

    def targets_matter(self, event: str) -> bool:
        """Whether the rules an event of this type can match depend on its target (a rule
        for the type names a target or a glob); where not, `rules_for` gives one answer
        for every target, None included."""
        index = self._dispatch.get(event)
        return index is not None and bool(index["exact"] or index["glob"])

    def _lookup(self, event: str, target) -> tuple:
        index = self._dispatch.get(event)
        if index is None:
            return ()
        chosen = list(index["any"])
        if target is not None:
            chosen += index["exact"].get(target, ())
            chosen += [i for i in index["glob"] if self.rules[i].matches(target)]
        return tuple(self.rules[i] for i in sorted(set(chosen)))
