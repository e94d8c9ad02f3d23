"""Every field of a rule table against its type (docs/rule-table.md), checked at load.

A table that travels is untrusted input: its texts reach generated SQL and Python (through the
quoting functions) and its numbers are written into both. So before anything reads it, each
field must be what the compiler writes: names are names of the language (`[^\\W\\d]\\w*`),
labels runs of word characters, texts real text (no lone surrogate: UTF-8 cannot hold one),
integers 64-bit (E008 refuses larger literals in a model), durations positive and below 2^63
microseconds, decimals finite, `source.sha256` 64 lowercase hex digits or null, rule ids the
non-empty text. A field that is not raises a `TableError` naming the field by
its path (`rules[3].points`). Keys the format does not define are ignored: nothing reads them.

`validate.py` then checks how the fields relate (names declared, indices in range).
"""
from __future__ import annotations

import math
import re

from .decay import SCALE, TABLE_LIMIT, keep_fraction, multiplier
from .errors import TableError

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
_NAME = re.compile(r"[^\W\d]\w*")
_LABEL = re.compile(r"\w+")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PERCENT = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,30})?")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SHOWN = 60  # characters of a bad value quoted in the message


def _show(value) -> str:
    if type(value) is int and value.bit_length() > 200:  # repr may refuse 4300+ digits
        return f"an integer of {value.bit_length()} bits"
    if type(value) in (list, dict) and len(value) > 20:
        return f"a {type(value).__name__} of {len(value)} items"
    try:
        text = repr(value)
    except ValueError:  # an integer of 4300+ digits inside a list
        return f"a {type(value).__name__}"
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def _fail(path: str, wanted: str, value, at=None):
    raise TableError(f"`{path}` must be {wanted}, not {_show(value)}", at)


# ------------------------------------------------------------------------ field kinds
def text(value, path, at=None) -> None:
    if type(value) is not str:
        _fail(path, "text", value, at)
    if _SURROGATE.search(value):
        _fail(path, "text without a lone surrogate (UTF-8 cannot hold one)", value, at)


def name(value, path, at=None) -> None:
    if type(value) is not str or not _NAME.fullmatch(value):
        _fail(path, "a name (a letter or `_`, then letters, digits or `_`)", value, at)


def label(value, path, at=None) -> None:
    if type(value) is not str or not _LABEL.fullmatch(value):
        _fail(path, "a label (letters, digits or `_`)", value, at)


def int64(value, path, at=None) -> None:
    if type(value) is not int or not INT64_MIN <= value <= INT64_MAX:
        _fail(path, "an integer of 64 bits", value, at)


def count(value, path, at=None) -> None:
    if type(value) is not int or not 1 <= value <= INT64_MAX:
        _fail(path, "a count of at least 1 (64 bits)", value, at)


def natural(value, path, at=None) -> None:
    if type(value) is not int or not 0 <= value <= INT64_MAX:
        _fail(path, "an integer from 0 (64 bits)", value, at)


def micros(value, path, at=None) -> None:
    if type(value) is not int or not 0 < value <= INT64_MAX:
        _fail(path, "a positive number of microseconds below 2^63", value, at)


def number(value, path, at=None) -> None:
    if type(value) is int:
        int64(value, path, at)
    elif type(value) is not float or not math.isfinite(value):
        _fail(path, "a number (a 64-bit integer or a finite decimal)", value, at)


def boolean(value, path, at=None) -> None:
    if type(value) is not bool:
        _fail(path, "true or false", value, at)


def sha256(value, path, at=None) -> None:
    if value is not None and (type(value) is not str or not _SHA256.fullmatch(value)):
        _fail(path, "64 lowercase hex digits or null", value, at)


def rule_id(value, path, at=None) -> None:
    """The compiler writes `e-1c9a04f2`; an id reaches the results and explanations only, so
    any non-empty text will do (hand-made tables name rules as they like)."""
    text(value, path, at)
    if not value:
        _fail(path, "a non-empty rule id", value, at)


def optional(kind):
    def check(value, path, at=None) -> None:
        if value is not None:
            kind(value, path, at)
    return check


def list_of(kind):
    def check(value, path, at=None) -> None:
        if type(value) is not list:
            _fail(path, "a list", value, at)
        for i, item in enumerate(value):
            kind(item, f"{path}[{i}]", at)
    return check


def _object(value, path, at=None) -> dict:  # noqa: D103
    if type(value) is not dict:
        _fail(path, "an object", value, at)
    return value


def fields(item, path: str, spec: dict, required=(), at=None) -> None:
    """`item` is an object whose keys in `spec` hold their kind (absent keys read as null,
    except the `required` ones); messages cite its `at`, or its parent's."""
    _object(item, path, at)
    own = item.get("at")
    if own is not None and (type(own) is not str or _SURROGATE.search(own)):
        _fail(f"{path}.at", "text (`file:line`) or null", own, at)
    at = own if own is not None else at
    for key in required:
        if key not in item:
            raise TableError(f"`{path}` lacks `{key}`", at)
    for key, kind in spec.items():
        kind(item.get(key), f"{path}.{key}", at)


# ------------------------------------------------------------------------ conditions
_CONNECTIVES = ("and", "or", "not")
_COMPARISONS = ("=", "<", "<=", ">", ">=")
_REFERENCES = ("score", "group", "grade", "contact", "event")
CONDITION_DEPTH = 200


def condition(form, path, at=None) -> None:
    """A compact condition (docs/rule-table.md), walked with a stack of its own; at most
    CONDITION_DEPTH levels deep (a model nests at most 100, E005; lowering adds a few), so
    that no consumer's recursive walk can run out of stack."""
    stack = [(form, path, 1)]
    while stack:
        node, where, depth = stack.pop()
        if type(node) is bool:
            continue
        if type(node) is not list or not node or type(node[0]) is not str:
            _fail(where, "a condition", node, at)
        if depth > CONDITION_DEPTH:
            raise TableError(f"`{path}` is nested more than {CONDITION_DEPTH} levels deep", at)
        head = node[0]
        if head in _CONNECTIVES:
            if len(node) < 2 or (head == "not" and len(node) != 2):
                _fail(where, f"`{head}` with its operands", node, at)
            stack.extend((part, f"{where}[{i}]", depth + 1)
                         for i, part in enumerate(node[1:], 1))
            continue
        if head not in _COMPARISONS + ("in", "glob") or len(node) != 3:
            _fail(where, "a condition (and, or, not, =, <, <=, >, >=, in, glob)", node, at)
        _reference(node[1], f"{where}[1]", at)
        operand = node[2]
        if head == "in":
            list_of(_value)(operand, f"{where}[2]", at)
        elif head == "glob":
            text(operand, f"{where}[2]", at)
        else:
            _value(operand, f"{where}[2]", at)


def _reference(ref, path, at) -> None:
    if ref == ["stage"]:
        return
    if type(ref) is not list or len(ref) != 2 or ref[0] not in _REFERENCES:
        _fail(path, "a reference ([\"score\", NAME], [\"stage\"], [\"contact\", NAME], …)",
              ref, at)
    name(ref[1], f"{path}[1]", at)


def _value(value, path, at) -> None:
    if type(value) is str:
        text(value, path, at)
    elif type(value) is not bool:
        number(value, path, at)


def optional_condition(value, path, at=None) -> None:
    if value is not None:
        condition(value, path, at)


# ------------------------------------------------------------------------ the sections
def targets(value, path, at=None) -> None:
    fields(value, path, {"exact": optional(list_of(text)), "globs": optional(list_of(text)),
                         "any": optional(boolean)}, at=at)


def _decay(value, path, at=None) -> None:
    if value is None:
        return
    fields(value, path, {"every": micros, "keep": optional(list_of(natural)),
                         "multipliers": optional(list_of(int64))}, required=("percent",), at=at)
    percent = value["percent"]
    if type(percent) is not str or not _PERCENT.fullmatch(percent) or float(percent) > 100:
        _fail(f"{path}.percent", "a percentage from 0 to 100 as decimal text", percent,
              value.get("at"))
    listed = value.get("multipliers")
    if listed:
        _multipliers(listed, keep_fraction(percent), f"{path}.multipliers", value.get("at"))


def _multipliers(listed: list, keep, path, at) -> None:
    """The list the engines read M_k from: it must be the exact values (language 5). Checked
    where a wrong list would show: its shape, its last value and the end of the list."""
    if len(listed) > TABLE_LIMIT or listed[0] != SCALE or any(
            not 0 < later <= earlier for earlier, later in zip(listed, listed[1:])):
        _fail(path, f"the decreasing multipliers from {SCALE} (at most {TABLE_LIMIT})",
              listed, at)
    last = len(listed) - 1
    complete = keep.numerator == keep.denominator or len(listed) == TABLE_LIMIT \
        or multiplier(keep, last + 1) == 0
    if listed[last] != multiplier(keep, last) or not complete:
        _fail(path, "floor(10^9 * keep^k) for k = 0, 1, … (docs/rule-table.md)", listed, at)


def _limit(value, path, at=None) -> None:
    if value is not None:
        fields(value, path, {"count": count, "per": optional(text)}, required=("count",), at=at)


def _by(value, path, at=None) -> None:
    if value is not None:
        fields(value, path, {"prop": name, "low": optional(int64), "high": optional(int64)},
               at=at)


def _bands(value, path, at=None) -> None:
    if type(value) is not list:
        _fail(path, "a list of [label, threshold] bands", value, at)
    for i, band in enumerate(value):
        if type(band) is not list or len(band) != 2:
            _fail(f"{path}[{i}]", "a [label, threshold] band", band, at)
        label(band[0], f"{path}[{i}][0]", at)
        number(band[1], f"{path}[{i}][1]", at)


def _buckets(value, path, at=None) -> None:
    if value is None:
        return
    if type(value) is not list:
        _fail(path, "a list of [label, [cell, …]] buckets or null", value, at)
    for i, bucket in enumerate(value):
        if type(bucket) is not list or len(bucket) != 2:
            _fail(f"{path}[{i}]", "a [label, [cell, …]] bucket", bucket, at)
        label(bucket[0], f"{path}[{i}][0]", at)
        list_of(text)(bucket[1], f"{path}[{i}][1]", at)


def _pair_of_names(value, path, at=None) -> None:
    if type(value) is not list or len(value) != 2:
        _fail(path, "two grade names", value, at)
    list_of(name)(value, path, at)


def _of(value, path, at=None) -> None:
    if value is not None and (type(value) is not list or len(value) != 2
                              or value[0] not in ("score", "group")):
        _fail(path, "[\"score\", NAME], [\"group\", NAME] or null", value, at)
    if value is not None:
        name(value[1], f"{path}[1]", at)


def _action(value, path, at=None) -> None:
    fields(value, path, {"action": text, "arg": text}, required=("action", "arg"), at=at)
    if value["action"] not in ("notify", "tag", "reset"):
        _fail(f"{path}.action", "notify, tag or reset", value["action"], at)
    if value["action"] == "reset":
        name(value["arg"], f"{path}.arg", at)


_SCORE = {"name": name, "low": optional(int64), "high": optional(int64), "decay": _decay,
          "expire": optional(micros)}
_GROUP = {"name": name, "score": name, "low": optional(int64), "high": optional(int64)}
_RULE = {"id": rule_id, "kind": text, "event": text, "targets": targets,
         "where": optional_condition, "points": optional(int64), "score": name,
         "group": optional(name), "limit": _limit, "by": _by}
_ABSENCE = {"missing": text, "within": micros}
_PROFILE = {"id": rule_id, "condition": condition, "points": int64, "score": name,
            "group": optional(name)}
_INACTIVITY = {"id": rule_id, "after": micros, "every": optional(micros),
               "count": optional(count), "points": int64, "score": name,
               "group": optional(name)}
_GRADE = {"name": name, "score": name, "group": optional(name), "bands": _bands,
          "else": optional(label)}
_MATRIX = {"name": name, "matrix": _pair_of_names, "buckets": _buckets, "else": optional(label)}
_STAGE = {"name": label, "condition": condition}
_TRIGGER = {"id": rule_id, "condition": condition, "each_time": optional(boolean),
            "actions": list_of(_action)}
_ACCOUNT_SCORE = {"name": name, "aggregate": text, "of": _of, "where": optional_condition}
_ACCOUNT_GRADE = {"name": name, "score": name, "bands": _bands, "else": optional(label)}


def _each(table: dict, key: str, spec: dict, required=()) -> None:
    items = table[key]
    if type(items) is not list:
        _fail(key, "a list of objects", items)
    for i, item in enumerate(items):
        fields(item, f"{key}[{i}]", spec, required)


def _indices(value, path) -> None:
    list_of(int64)(value, path)


def check_fields(table: dict) -> None:
    """Raise TableError for the first field of `table` that is not of its kind."""
    fields(table["source"], "source", {"sha256": sha256, "file": optional(text)})
    text(table["timezone"], "timezone")
    _each(table, "scores", _SCORE, required=("name",))
    _each(table, "groups", _GROUP, required=("name", "score"))
    require = table["require"]
    if require is not None and require is not True:
        condition(require, "require")
    _each(table, "rules", _RULE, required=("id", "kind", "event", "targets", "score"))
    for i, rule in enumerate(table["rules"]):
        if rule["kind"] == "absence":
            fields(rule, f"rules[{i}]", _ABSENCE, required=("missing", "within"))
            if rule.get("missing_targets") != {"same": True}:
                targets(rule.get("missing_targets"), f"rules[{i}].missing_targets",
                        rule.get("at"))
    _each(table, "profile", _PROFILE, required=("condition", "points", "score"))
    _each(table, "inactivity", _INACTIVITY, required=("id", "after", "points", "score"))
    optional(list_of(text))(table["activity"], "activity")
    grades = table["grades"]
    if type(grades) is not list:
        _fail("grades", "a list of objects", grades)
    for i, grade in enumerate(grades):
        matrix = type(grade) is dict and "matrix" in grade
        fields(grade, f"grades[{i}]", _MATRIX if matrix else _GRADE,
               required=("name",) if matrix else ("name", "score", "bands"))
    _each(table, "stages", _STAGE, required=("name", "condition"))
    _each(table, "triggers", _TRIGGER, required=("condition", "actions"))
    _dispatch(table["dispatch"], table["answers"])
    accounts = table.get("accounts")
    if accounts is not None:
        fields(accounts, "accounts", {"by": name}, required=("by",))
        for key, spec in (("scores", _ACCOUNT_SCORE), ("grades", _ACCOUNT_GRADE)):
            if key in accounts:
                items = accounts[key]
                if type(items) is not list:
                    _fail(f"accounts.{key}", "a list of objects", items)
                for i, item in enumerate(items):
                    fields(item, f"accounts.{key}[{i}]", spec, required=("name",))


def _dispatch(dispatch, answers) -> None:
    _object(dispatch, "dispatch")
    for event, index in dispatch.items():
        text(event, "dispatch key")
        path = f"dispatch[{_show(event)}]"
        fields(index, path, {"glob": list_of(int64), "any": list_of(int64)},
               required=("exact", "glob", "any"))
        _object(index["exact"], f"{path}.exact")
        for target, rules in index["exact"].items():
            text(target, f"{path}.exact key")
            _indices(rules, f"{path}.exact[{_show(target)}]")
    _object(answers, "answers")
    for event, rules in answers.items():
        text(event, "answers key")
        _indices(rules, f"answers[{_show(event)}]")
