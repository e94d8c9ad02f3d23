"""What a valid rule table is (docs/rule-table.md): shapes, names and bounds, checked once at load.

The compiler only writes valid tables; this check is for tables that travel (a file, another
team's build) so that a malformed one fails at load with a `TableError` citing `file:line`,
never halfway through a run. It checks what the engine relies on, not the model's meaning
(`compiler.check` reports user errors).
"""
from __future__ import annotations

from .conditions import references
from .errors import TableError
from .periods import PERIODS
from .schema import INT64_MAX, INT64_MIN, check_fields

FORMAT = 2
TOP_KEYS = ("format", "source", "timezone", "scores", "groups", "require", "rules", "profile",
            "inactivity", "activity", "grades", "stages", "triggers", "dispatch", "answers")
__all__ = ["FORMAT", "INT64_MAX", "INT64_MIN", "validate"]  # the 64-bit range: schema.py


def validate(table: dict) -> None:
    if not isinstance(table, dict):
        raise TableError("a rule table is a JSON object")
    if table.get("format") != FORMAT:
        raise TableError(f"unsupported rule table format {table.get('format')!r} "
                         f"(this runtime reads format {FORMAT}: recompile the model)")
    missing = [key for key in TOP_KEYS if key not in table]
    if missing:
        raise TableError(f"rule table lacks {', '.join(missing)}")
    for key in ("scores", "groups", "rules", "profile", "inactivity", "grades", "stages",
                "triggers"):
        if not isinstance(table[key], list) or not all(isinstance(x, dict) for x in table[key]):
            raise TableError(f"`{key}` must be a list of objects")
    check_fields(table)
    names = [score.get("name") for score in table["scores"]]
    if not names or not all(isinstance(name, str) for name in names):
        raise TableError("a rule table declares at least one named score")
    groups = _groups(table["groups"], names)
    count = len(table["rules"])
    for rule in table["rules"]:
        _rule(rule, names, groups)
    for item in table["profile"]:
        if type(item.get("points")) is not int:
            raise TableError("points must be an integer", item.get("at"))
        _target(item, names, groups)
    for item in table["inactivity"]:
        _inactivity(item, names, groups)
    _activity(table["activity"])
    grades = _grades(table["grades"], names, groups)
    for index_map in table["dispatch"].values():
        indices = [i for ids in index_map["exact"].values() for i in ids]
        indices += index_map["glob"] + index_map["any"]
        if any(not isinstance(i, int) or not 0 <= i < count for i in indices):
            raise TableError("dispatch refers to a rule that does not exist")
    for trigger in table["triggers"]:
        for action in trigger["actions"]:
            if action["action"] == "reset" and action["arg"] not in names:
                raise TableError(f"reset of unknown score {action['arg']!r}", trigger.get("at"))
    known = {"score": set(names), "group": set(groups), "grade": grades}
    for item in table["stages"] + table["triggers"]:
        _references(item["condition"], known, item.get("at"))
    _accounts(table.get("accounts"), known)


def _is_int(value) -> bool:
    return type(value) is int


def _bounds(item: dict, what: str, at) -> None:
    low, high = item.get("low"), item.get("high")
    for value in (low, high):
        if value is not None and not _is_int(value):
            raise TableError(f"{what}: bounds must be integers or null, not {value!r}", at)
    if low is not None and high is not None and low > high:
        raise TableError(f"{what}: low bound {low} is above high bound {high}", at)


def _groups(groups: list[dict], names: list[str]) -> dict[str, str]:
    """Group name -> its score's name."""
    found: dict[str, str] = {}
    for group in groups:
        at, name = group.get("at"), group.get("name")
        if not isinstance(name, str):
            raise TableError(f"a group needs a name, not {name!r}", at)
        if name in found or name in names:
            raise TableError(f"group {name!r} is declared twice or shares a score's name", at)
        if group.get("score") not in names:
            raise TableError(f"group {name!r} of unknown score {group.get('score')!r}", at)
        _bounds(group, f"group {name!r}", at)
        if group.get("low") is None and group.get("high") is None:
            raise TableError(f"group {name!r} has neither `low` nor `high`", at)
        found[name] = group["score"]
    return found


def _target(item: dict, names: list[str], groups: dict[str, str]) -> None:
    """`score` (and `group`, when set) of a rule: the group must belong to that score."""
    at, score, group = item.get("at"), item.get("score"), item.get("group")
    if score not in names:
        raise TableError(f"unknown score {score!r}", at)
    if group is not None:
        if group not in groups:
            raise TableError(f"unknown group {group!r}", at)
        if groups[group] != score:
            raise TableError(f"group {group!r} belongs to score {groups[group]!r}, "
                             f"not {score!r}", at)


def _rule(rule: dict, names: list[str], groups: dict[str, str]) -> None:
    at = rule.get("at")
    if rule.get("kind") not in ("event", "absence"):
        raise TableError(f"unknown rule kind {rule.get('kind')!r}", at)
    _target(rule, names, groups)
    by = rule.get("by")
    if by is not None:
        if rule["kind"] != "event":
            raise TableError("only event rules take their points from a property (`by`)", at)
        if not isinstance(by, dict) or not isinstance(by.get("prop"), str):
            raise TableError(f"malformed `by` {by!r}: it needs a property name", at)
        _bounds(by, f"by {by['prop']}", at)
        if rule.get("points") is not None:
            raise TableError("a rule with `by` has `points: null`", at)
    elif not _is_int(rule.get("points")):
        raise TableError("points must be an integer", at)
    limit = rule.get("limit")
    if limit is not None and (not _is_int(limit.get("count"))
                              or limit.get("per") not in (None,) + PERIODS):
        raise TableError(f"malformed limit {limit!r}", at)
    if rule["kind"] == "absence" and (not _is_int(rule.get("within"))
                                      or not isinstance(rule.get("missing"), str)):
        raise TableError("an absence rule needs `missing` and `within`", at)


def _inactivity(item: dict, names: list[str], groups: dict[str, str]) -> None:
    at = item.get("at")
    if not isinstance(item.get("id"), str):
        raise TableError("an inactivity rule needs an `id`", at)
    _target(item, names, groups)
    if not _is_int(item.get("points")):
        raise TableError("points must be an integer", at)
    after, every, count = item.get("after"), item.get("every"), item.get("count")
    if not _is_int(after) or after <= 0:
        raise TableError(f"inactivity `after` must be a positive number of microseconds, "
                         f"not {after!r}", at)
    if every is not None and (not _is_int(every) or every <= 0):
        raise TableError(f"inactivity `every` must be null or a positive number of "
                         f"microseconds, not {every!r}", at)
    if count is not None:
        if not _is_int(count) or count < 1:
            raise TableError(f"inactivity `count` must be null or at least 1, not {count!r}", at)
        if every is None:
            raise TableError("inactivity `count` (at most N) needs `every` "
                             "(docs/language.md 10.8.5)", at)


def _activity(activity) -> None:
    if activity is None:
        return
    if not isinstance(activity, list) or not all(isinstance(e, str) for e in activity):
        raise TableError(f"`activity` must be null or a list of event types, not {activity!r}")


def _labels(values, what: str, at) -> None:
    if not all(isinstance(label, str) for label in values):
        raise TableError(f"{what}: labels are strings (docs/language.md 10.8.6)", at)


def _grades(grades: list[dict], names: list[str], groups: dict[str, str]) -> set[str]:
    """The grade names; a matrix grade reads two grades declared before it."""
    declared: set[str] = set()
    for grade in grades:
        at, name = grade.get("at"), grade.get("name")
        if not isinstance(name, str):
            raise TableError(f"a grade needs a name, not {name!r}", at)
        otherwise = grade.get("else")
        if otherwise is not None:
            _labels([otherwise], f"grade {name!r}", at)
        if "matrix" in grade:
            pair = grade["matrix"]
            if not isinstance(pair, list) or len(pair) != 2 or \
                    not all(part in declared for part in pair):
                raise TableError(f"matrix grade {name!r} must read two grades declared before "
                                 f"it, not {pair!r}", at)
            buckets = grade.get("buckets")
            if buckets is not None:
                if not isinstance(buckets, list) or not all(
                        isinstance(b, list) and len(b) == 2 and isinstance(b[1], list)
                        for b in buckets):
                    raise TableError(f"matrix grade {name!r}: malformed buckets", at)
                _labels([b[0] for b in buckets], f"grade {name!r}", at)
                _labels([c for b in buckets for c in b[1]], f"grade {name!r} cells", at)
        else:
            _target(grade, names, groups)
            bands = grade.get("bands")
            if not isinstance(bands, list) or not all(
                    isinstance(b, list) and len(b) == 2 and type(b[1]) in (int, float)
                    for b in bands):
                raise TableError(f"grade {name!r}: malformed bands", at)
            _labels([b[0] for b in bands], f"grade {name!r}", at)
        declared.add(name)
    return declared


def _references(form, known: dict[str, set], at) -> None:
    try:
        found = references(form)
    except (TypeError, IndexError):
        return  # malformed: compile_condition reports it with its position
    for ref in found:
        names = known.get(ref[0]) if ref else None
        if names is not None and (len(ref) != 2 or ref[1] not in names):
            raise TableError(f"condition reads unknown {ref[0]} {ref[1:]!r}", at)


_AGGREGATES = ("sum", "max", "min", "count")


def _accounts(section, known: dict[str, set]) -> None:
    """`accounts` (language 10.6): null (or absent, in a table older than accounts) or
    `{"by", "at", "scores", "grades"}`; aggregates read the contacts' scores and groups,
    account grades the account scores (10.8.13)."""
    if section is None:
        return
    if not isinstance(section, dict) or not isinstance(section.get("by"), str) \
            or not section["by"]:
        raise TableError("`accounts` must be null or an object with the attribute `by`")
    at = section.get("at")
    for key in ("scores", "grades"):
        if not isinstance(section.get(key), list) or \
                not all(isinstance(x, dict) for x in section[key]):
            raise TableError(f"`accounts.{key}` must be a list of objects", at)
    declared: set[str] = set()
    for item in section["scores"]:
        at, name, aggregate, of = item.get("at"), item.get("name"), item.get("aggregate"), \
            item.get("of")
        if not isinstance(name, str) or name in declared:
            raise TableError(f"an account score needs a name of its own, not {name!r}", at)
        if aggregate not in _AGGREGATES:
            raise TableError(f"account score {name!r}: unknown aggregate {aggregate!r}", at)
        if aggregate == "count":
            if of is not None:
                raise TableError(f"account score {name!r}: `count` reads no score", at)
        elif not (isinstance(of, list) and len(of) == 2 and of[0] in ("score", "group")
                  and of[1] in known[of[0]]):
            raise TableError(f"account score {name!r} reads unknown {of!r}", at)
        if item.get("where") is not None:
            _references(item["where"], known, at)
        declared.add(name)
    grades: set[str] = set()
    for grade in section["grades"]:
        at, name = grade.get("at"), grade.get("name")
        if not isinstance(name, str) or name in grades:
            raise TableError(f"an account grade needs a name of its own, not {name!r}", at)
        if grade.get("score") not in declared:
            raise TableError(f"account grade {name!r} reads unknown account score "
                             f"{grade.get('score')!r}", at)
        bands = grade.get("bands")
        if not isinstance(bands, list) or not all(
                isinstance(b, list) and len(b) == 2 and type(b[1]) in (int, float)
                for b in bands):
            raise TableError(f"account grade {name!r}: malformed bands", at)
        _labels([b[0] for b in bands], f"account grade {name!r}", at)
        if grade.get("else") is not None:
            _labels([grade["else"]], f"account grade {name!r}", at)
        grades.add(name)
