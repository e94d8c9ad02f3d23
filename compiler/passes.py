"""Optimisations over the rule table, run in order by `optimize` after lowering.

Each pass is a pure function `table -> table` (it copies what it changes).

| pass | what it does | constraints |
|---|---|---|
| `fold_conditions` | constant folding: `and`/`or` with `true`/`false`, double `not`, flattening, an ordering comparison with a non-number (always false, docs/language.md 9.6), `where true` -> `null`, `require true` -> `null` | first: the passes below read folded conditions |
| `drop_inert_decay` | `decay S 0%` changes nothing: `decay` -> `null` | before `decay_multipliers` |
| `decay_multipliers` | exact `M_k` listed in the table (`runtime.decay`) for engines that cannot do big-integer arithmetic (SQL) | after `drop_inert_decay` |
| `dispatch_index` | `dispatch`: event type -> exact targets -> globs -> any; `answers`: event type -> absence rules it can answer | after `fold_conditions`: a rule whose `where` folded to `false` is left out of the index |
"""
from __future__ import annotations

from runtime.decay import keep_fraction, multipliers

_ORDERING = ("<", "<=", ">", ">=")


def optimize(table: dict) -> dict:
    for _, run in PASSES:
        table = run(table)
    return table


# --------------------------------------------------------------------------- folding


def fold(form):
    """A compact condition with its constant parts folded away."""
    if form is True or form is False:
        return form
    head = form[0]
    if head == "not":
        inner = fold(form[1])
        if inner is True or inner is False:
            return not inner
        if isinstance(inner, list) and inner[0] == "not":
            return inner[1]
        return ["not", inner]
    if head in ("and", "or"):
        return _fold_junction(head, form[1:])
    if head in _ORDERING and (type(form[2]) is bool or not isinstance(form[2], (int, float))):
        return False
    if head == "in" and not form[2]:
        return False
    return form


def _fold_junction(head: str, parts) -> object:
    absorbing = head == "or"  # `true` absorbs an `or`, `false` an `and`
    kept = []
    for part in parts:
        part = fold(part)
        if part is absorbing:
            return absorbing
        if part is (not absorbing):
            continue
        if isinstance(part, list) and part[0] == head:
            kept.extend(part[1:])  # (a and (b and c)) -> (a and b and c)
        else:
            kept.append(part)
    if not kept:
        return not absorbing
    return kept[0] if len(kept) == 1 else [head, *kept]


def fold_conditions(table: dict) -> dict:
    table = dict(table)
    require = fold(table["require"]) if table["require"] is not None else None
    table["require"] = None if require is True else require
    table["rules"] = [_fold_where(rule) for rule in table["rules"]]
    for key in ("profile", "stages", "triggers"):
        table[key] = [{**item, "condition": fold(item["condition"])} for item in table[key]]
    return table


def _fold_where(rule: dict) -> dict:
    if rule.get("where") is None:
        return rule
    where = fold(rule["where"])
    return {**rule, "where": None if where is True else where}


# --------------------------------------------------------------------------- decay


def drop_inert_decay(table: dict) -> dict:
    scores = []
    for score in table["scores"]:
        decay = score.get("decay")
        if decay is not None and keep_fraction(decay["percent"]) == 1:
            score = {**score, "decay": None}
        scores.append(score)
    return {**table, "scores": scores}


def decay_multipliers(table: dict) -> dict:
    scores = []
    for score in table["scores"]:
        decay = score.get("decay")
        if decay is not None:
            keep = keep_fraction(decay["percent"])
            decay = {**decay, "keep": [keep.numerator, keep.denominator],
                     "multipliers": multipliers(keep)}
            score = {**score, "decay": decay}
        scores.append(score)
    return {**table, "scores": scores}


# --------------------------------------------------------------------------- dispatch


def dispatch_index(table: dict) -> dict:
    dispatch: dict[str, dict] = {}
    answers: dict[str, list[int]] = {}
    for index, rule in enumerate(table["rules"]):
        if rule.get("where") is False:
            continue  # can never match
        entry = dispatch.setdefault(rule["event"], {"exact": {}, "glob": [], "any": []})
        targets = rule["targets"]
        if targets["any"]:
            entry["any"].append(index)
        else:
            for name in targets["exact"]:
                entry["exact"].setdefault(name, []).append(index)
            if targets["globs"]:
                entry["glob"].append(index)
        if rule["kind"] == "absence":
            answers.setdefault(rule["missing"], []).append(index)
    ordered = {event: {"exact": {name: entry["exact"][name] for name in sorted(entry["exact"])},
                       "glob": entry["glob"], "any": entry["any"]}
               for event, entry in sorted(dispatch.items())}
    return {**table, "dispatch": ordered, "answers": dict(sorted(answers.items()))}


PASSES = (
    ("fold_conditions", fold_conditions),
    ("drop_inert_decay", drop_inert_decay),
    ("decay_multipliers", decay_multipliers),
    ("dispatch_index", dispatch_index),
)
