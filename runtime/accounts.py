"""Accounts (docs/language.md 10.6): contacts rolled up to the companies they work for.

An account's values are computed as of T from the results of its members: a member is a
contact whose profile attribute `by` holds non-empty text (10.8.12); only scored members are
aggregated (`contacts` counts them all). Each member's values are the ones its conditions
see, groups included (10.8.11), so an aggregate reads a score's or a group's clamped value.

`Rollup` keeps nothing but the per-account aggregates: one small list per account, whatever
the number of members, so a batch run never holds the members' results for the accounts.
Two rollups over disjoint sets of contacts merge into the rollup of their union (the Spark
engine rolls up each partition, then merges).
"""
from __future__ import annotations

from .conditions import compile_condition, render
from .errors import TableError

SUM, MAX, MIN, COUNT = "sum", "max", "min", "count"
AGGREGATES = (SUM, MAX, MIN, COUNT)


def account_of(profile: dict | None, by: str) -> str | None:
    """The account a profile belongs to: the exact text of its attribute `by`; a missing,
    null, non-text or empty value belongs to no account (10.8.12)."""
    if not profile:
        return None
    value = profile.get(by)
    return value if type(value) is str and value else None


class AccountSpec:
    """The `accounts` section of a rule table, compiled: `scores` are
    `(name, aggregate, source or None, test or None)`, `grades` `(name, score, bands, else)`."""

    __slots__ = ("by", "scores", "grades", "score_names", "grade_names", "raw")

    def __init__(self, section: dict):
        self.raw = section
        self.by = section["by"]
        scores = []
        for item in section["scores"]:
            of = item.get("of")
            where = item.get("where")
            test = None if where is None or where is True else compile_condition(
                where, item.get("at"))
            scores.append((item["name"], item["aggregate"], None if of is None else of[1], test))
        self.scores = tuple(scores)
        self.grades = tuple((g["name"], g["score"], tuple((label, threshold)
                                                          for label, threshold in g["bands"]),
                             g.get("else")) for g in section["grades"])
        self.score_names = tuple(item[0] for item in self.scores)
        self.grade_names = tuple(item[0] for item in self.grades)

    def start(self) -> list:
        """A new account's aggregates: [members, one value per account score]."""
        return [0] + [0 if aggregate in (SUM, COUNT) else None
                      for _, aggregate, _, _ in self.scores]

    def fold(self, row: list, profile: dict, live: dict | None) -> None:
        """Adds one member to `row`; `live` is None for an unscored member."""
        row[0] += 1
        if live is None:
            return
        env = (None, profile, live)
        for i, (_, aggregate, source, test) in enumerate(self.scores, start=1):
            if test is not None and not test(env):
                continue
            if aggregate == COUNT:
                row[i] += 1
                continue
            value = live.get(source)
            if value is None:
                continue
            if aggregate == SUM:
                row[i] += value
            elif aggregate == MAX:
                if row[i] is None or value > row[i]:
                    row[i] = value
            elif row[i] is None or value < row[i]:
                row[i] = value

    def combine(self, row: list, other: list) -> None:
        """`row` becomes the aggregates of both rows' members (disjoint sets)."""
        row[0] += other[0]
        for i, (_, aggregate, _, _) in enumerate(self.scores, start=1):
            mine, theirs = row[i], other[i]
            if aggregate in (SUM, COUNT):
                row[i] = mine + theirs
            elif theirs is None:
                continue
            elif mine is None:
                row[i] = theirs
            elif aggregate == MAX:
                row[i] = max(mine, theirs)
            else:
                row[i] = min(mine, theirs)

    def result(self, account: str, row: list) -> dict:
        """The accounts line of `score run --accounts` (10.6)."""
        scores = {name: row[i] for i, name in enumerate(self.score_names, start=1)}
        grades = {}
        for name, source, bands, otherwise in self.grades:
            label = grade_label(scores.get(source), bands, otherwise)
            if label is not None:
                grades[name] = label
        return {"account": account, "contacts": row[0], "scores": scores, "grades": grades}


def grade_label(value, bands, otherwise):
    """The first band that holds, else the `else` label; none for a null score (10.8.13)."""
    if value is None:
        return None
    for label, threshold in bands:
        if value >= threshold:
            return label
    return otherwise


def compile_accounts(section) -> AccountSpec | None:
    if section is None:
        return None
    try:
        return AccountSpec(section)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise TableError(f"malformed accounts section: {type(exc).__name__} {exc}") from None


class Rollup:
    """Per-account aggregates, fed one member at a time (`add`) in any order."""

    __slots__ = ("spec", "rows")

    def __init__(self, spec: AccountSpec):
        self.spec = spec
        self.rows: dict[str, list] = {}

    def add(self, profile: dict | None, live: dict | None) -> None:
        """One contact: its profile and its values (None when unscored). A contact that
        belongs to no account changes nothing."""
        account = account_of(profile, self.spec.by)
        if account is None:
            return
        row = self.rows.get(account)
        if row is None:
            row = self.rows[account] = self.spec.start()
        self.spec.fold(row, profile, live)

    def merge(self, other: "Rollup | dict") -> None:
        """Adds another rollup over other contacts (or its `partial()`)."""
        rows = other.rows if isinstance(other, Rollup) else other
        for account, row in rows.items():
            mine = self.rows.get(account)
            if mine is None:
                self.rows[account] = list(row)
            else:
                self.spec.combine(mine, row)

    def partial(self) -> dict:
        """The aggregates as plain JSON (account -> row), to send and `merge` elsewhere."""
        return {account: list(row) for account, row in self.rows.items()}

    def results(self) -> list[dict]:
        """One line per account, sorted by account name (10.6)."""
        return [self.spec.result(account, self.rows[account]) for account in sorted(self.rows)]

    def result(self, account: str) -> dict | None:
        row = self.rows.get(account)
        return None if row is None else self.spec.result(account, row)


def members(profiles: dict[str, dict], by: str) -> dict[str, set[str]]:
    """Account -> its members' contact ids, from the profiles."""
    found: dict[str, set[str]] = {}
    for contact_id, profile in profiles.items():
        account = account_of(profile, by)
        if account is not None:
            found.setdefault(account, set()).add(contact_id)
    return found



LEFT_OUT_UNSCORED, LEFT_OUT_WHERE, LEFT_OUT_NULL = "unscored", "where", "null"


def explain_account(spec: AccountSpec, account: str, members: list[tuple]) -> dict:
    """Why an account has its line (`score explain --account`): `members` are
    `(contact_id, profile, live or None)`, live None for an unscored member. For each account
    score, the members it takes with their part (the value a `sum` adds, a `count`'s 1, the
    value a `max`/`min` compares, `chosen` on the member whose value it is) and the members it
    leaves out with the reason: `unscored`, `where` (its condition does not hold for them) or
    `null` (no value to take). The line itself is the one `Rollup` computes from the same
    members, so the parts always add up to it."""
    rollup = Rollup(spec)
    ordered = sorted(members, key=lambda member: member[0])
    for _, profile, live in ordered:
        rollup.add(profile, live)
    line = rollup.result(account) or spec.result(account, spec.start())
    scores = []
    for (name, aggregate, source, test), item in zip(spec.scores, spec.raw["scores"]):
        taken, left_out = [], []
        for contact_id, profile, live in ordered:
            if live is None:
                left_out.append({"contact": contact_id, "reason": LEFT_OUT_UNSCORED})
            elif test is not None and not test((None, profile, live)):
                left_out.append({"contact": contact_id, "reason": LEFT_OUT_WHERE})
            elif aggregate == COUNT:
                taken.append({"contact": contact_id, "value": 1})
            elif live.get(source) is None:
                left_out.append({"contact": contact_id, "reason": LEFT_OUT_NULL})
            else:
                taken.append({"contact": contact_id, "value": live[source]})
        value = line["scores"][name]
        if aggregate in (MAX, MIN):
            for part in taken:  # the first member, by id, that holds the value
                if part["value"] == value:
                    part["chosen"] = True
                    break
        scores.append({"name": name, "aggregate": aggregate, "of": source,
                       "where": _where_text(item.get("where")), "source": item.get("at"), "value": value,
                       "members": taken, "left_out": left_out})
    grades = []
    for (name, source, bands, otherwise), item in zip(spec.grades, spec.raw["grades"]):
        value = line["scores"].get(source)
        band = None
        if value is not None:
            band = next(([label, threshold] for label, threshold in bands
                         if value >= threshold), None)
        grades.append({"name": name, "by": source, "source": item.get("at"), "value": value,
                       "label": line["grades"].get(name), "band": band})
    return {"account": account, "by": spec.by, "contacts": line["contacts"],
            "scores": line["scores"], "grades": line["grades"],
            "members": [{"contact": contact_id, "scored": live is not None}
                        for contact_id, _, live in ordered],
            "account_scores": scores, "account_grades": grades}


def _where_text(where) -> str | None:
    return None if where is None or where is True else render(where)
