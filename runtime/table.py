"""Loading, validating and compiling a rule table (docs/rule-table.md).

`load_table` accepts the table as a dict or a path to its JSON and checks it; `CompiledTable`
turns it into what the engine runs: conditions as closures, scores as indices, decay
multipliers cached, and a dispatch cache keyed by (event type, target) so that an event
looks at exactly the rules that can match it.
"""
from __future__ import annotations

import json
from os import PathLike
from pathlib import Path

from .conditions import compile_condition, compile_glob
from .decay import Decay, keep_fraction
from .errors import TableError
from .periods import PERIODS, Calendar

FORMAT = 2
_TOP_KEYS = ("format", "source", "timezone", "scores", "groups", "require", "rules", "profile",
             "inactivity", "activity", "grades", "stages", "triggers", "dispatch", "answers")
_DISPATCH_CACHE_LIMIT = 65536


def load_table(table: dict | str | PathLike) -> dict:
    """The table as a dict, validated; raises TableError citing `file:line` when it can."""
    if not isinstance(table, dict):
        try:
            table = json.loads(Path(table).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TableError(f"cannot read rule table {table}: {exc}") from None
    validate(table)
    return table


def validate(table: dict) -> None:
    if not isinstance(table, dict):
        raise TableError("a rule table is a JSON object")
    if table.get("format") != FORMAT:
        raise TableError(f"unsupported rule table format {table.get('format')!r} "
                         f"(this runtime reads format {FORMAT})")
    missing = [key for key in _TOP_KEYS if key not in table]
    if missing:
        raise TableError(f"rule table lacks {', '.join(missing)}")
    names = [score.get("name") for score in table["scores"]]
    if not names or not all(isinstance(name, str) for name in names):
        raise TableError("a rule table declares at least one named score")
    count = len(table["rules"])
    for rule in table["rules"]:
        _validate_rule(rule, names)
    for item in table["profile"] + table["grades"]:
        if item.get("score") not in names:
            raise TableError(f"unknown score {item.get('score')!r}", item.get("at"))
    for index_map in table["dispatch"].values():
        indices = [i for ids in index_map["exact"].values() for i in ids]
        indices += index_map["glob"] + index_map["any"]
        if any(not isinstance(i, int) or not 0 <= i < count for i in indices):
            raise TableError("dispatch refers to a rule that does not exist")
    for trigger in table["triggers"]:
        for action in trigger["actions"]:
            if action["action"] == "reset" and action["arg"] not in names:
                raise TableError(f"reset of unknown score {action['arg']!r}", trigger.get("at"))


def _validate_rule(rule: dict, names: list[str]) -> None:
    at = rule.get("at")
    if rule.get("kind") not in ("event", "absence"):
        raise TableError(f"unknown rule kind {rule.get('kind')!r}", at)
    if rule.get("score") not in names:
        raise TableError(f"unknown score {rule.get('score')!r}", at)
    if type(rule.get("points")) is not int:
        raise TableError("points must be an integer", at)
    limit = rule.get("limit")
    if limit is not None and (type(limit.get("count")) is not int
                              or limit.get("per") not in (None,) + PERIODS):
        raise TableError(f"malformed limit {limit!r}", at)
    if rule["kind"] == "absence" and (type(rule.get("within")) is not int
                                      or not isinstance(rule.get("missing"), str)):
        raise TableError("an absence rule needs `missing` and `within`", at)


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
    """An event or absence rule ready to run."""

    __slots__ = ("index", "id", "at", "kind", "event", "matches", "where", "points", "score",
                 "cap", "per", "within", "missing", "answered_by")

    def __init__(self, index: int, rule: dict, score_index: dict[str, int]):
        self.index = index
        self.id = rule["id"]
        self.at = rule["at"]
        self.kind = rule["kind"]
        self.event = rule["event"]
        self.matches = targets_matcher(rule["targets"])
        where = rule.get("where")
        self.where = None if where is None or where is True else compile_condition(where, self.at)
        self.points = rule["points"]
        self.score = score_index[rule["score"]]
        limit = rule.get("limit")
        self.cap = None if limit is None else limit["count"]
        self.per = None if limit is None else limit["per"]
        self.within = rule.get("within")
        self.missing = rule.get("missing")
        self.answered_by = None
        if self.kind == "absence":
            spec = rule["missing_targets"]
            # `same`: B must carry A's target (both None counts as the same)
            self.answered_by = None if spec.get("same") else targets_matcher(spec)


class CompiledTable:
    def __init__(self, table: dict | str | PathLike):
        table = load_table(table)
        try:
            self._compile(table)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise TableError(f"malformed rule table: {type(exc).__name__} {exc}") from None

    def _compile(self, table: dict) -> None:
        self.raw = table
        self.sha256 = table["source"].get("sha256")
        try:
            self.calendar = Calendar(table["timezone"])
        except (ValueError, LookupError, OSError):  # zoneinfo's errors for unknown zones
            raise TableError(f"unknown time zone {table['timezone']!r}") from None
        self._compile_scores(table["scores"])
        require = table["require"]
        self.require = None if require is None or require is True \
            else compile_condition(require)
        self.rules = [Rule(i, rule, self.score_index) for i, rule in enumerate(table["rules"])]
        self.profile = [(compile_condition(p["condition"], p["at"]), p["points"],
                         self.score_index[p["score"]], p) for p in table["profile"]]
        self.grades = [(g["name"], self.score_index[g["score"]],
                        tuple((label, threshold) for label, threshold in g["bands"]),
                        g.get("else")) for g in table["grades"]]
        self.stages = [(s["name"], compile_condition(s["condition"], s["at"]))
                       for s in table["stages"]]
        self.triggers = [self._compile_trigger(t) for t in table["triggers"]]
        self.lifecycle = bool(self.grades or self.stages or self.triggers)
        self.has_absence = any(rule.kind == "absence" for rule in self.rules)
        self._dispatch = table["dispatch"]
        # event type -> target -> rules; read directly by the engine's hot path
        self.cache: dict[str, dict] = {}
        self._cached = 0
        self.answers = {event: tuple(self.rules[i] for i in indices)
                        for event, indices in table["answers"].items()}

    def _compile_scores(self, scores: list[dict]) -> None:
        self.score_names = tuple(score["name"] for score in scores)
        self.score_index = {name: i for i, name in enumerate(self.score_names)}
        self.lows = [score.get("low") for score in scores]
        self.highs = [score.get("high") for score in scores]
        self.decays: list[Decay | None] = []
        for score in scores:
            decay = score.get("decay")
            if decay is None:
                self.decays.append(None)
                continue
            if type(decay.get("every")) is not int or decay["every"] <= 0:
                raise TableError(f"decay of {score['name']}: `every` must be a positive "
                                 "number of microseconds", decay.get("at"))
            keep = keep_fraction(decay["percent"])
            if list(decay.get("keep", (keep.numerator, keep.denominator))) != \
                    [keep.numerator, keep.denominator]:
                raise TableError(f"decay of {score['name']}: `keep` disagrees with `percent`",
                                 decay.get("at"))
            self.decays.append(Decay(keep, decay["every"], decay.get("multipliers")))
        self.expires = [score.get("expire") for score in scores]
        # Scores whose value depends on the time of evaluation keep their awards.
        self.timed = tuple(i for i in range(len(scores))
                           if self.decays[i] is not None or self.expires[i] is not None)

    def _compile_trigger(self, trigger: dict):
        actions = tuple((a["action"], a["arg"],
                         self.score_index.get(a["arg"]) if a["action"] == "reset" else None)
                        for a in trigger["actions"])
        return (compile_condition(trigger["condition"], trigger["at"]), actions,
                bool(trigger.get("each_time")), trigger)

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

    def _lookup(self, event: str, target) -> tuple:
        index = self._dispatch.get(event)
        if index is None:
            return ()
        chosen = list(index["any"])
        if target is not None:
            chosen += index["exact"].get(target, ())
            chosen += [i for i in index["glob"] if self.rules[i].matches(target)]
        return tuple(self.rules[i] for i in sorted(set(chosen)))
