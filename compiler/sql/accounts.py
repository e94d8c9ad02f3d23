"""Accounts (docs/language.md 10.6) as a second SQL statement over the contact results.

The contact query (`compiler.sql.generate`) is left as it is; this statement reads what it
returns, kept in a table or view (`results`: contact, scores, grades, stage; the JSON texts
of docs/sql.md), and the contacts table (`contacts`: contact, profile), and returns one row
per account, sorted by account name:

    account   text
    contacts  members, scored or not
    scores    JSON object text: each account score (null for `max`/`min` over no member)
    grades    JSON object text: the account grades that hold

Shape (CTEs in order):

  val   the members: a contact whose profile attribute `by` is non-empty text, its account,
        profile and stage, and each score and grade read once from the results' JSON
  mem   per member: whether it is scored, and per account score the value it adds (NULL:
        not counted: its `where` does not hold)
  agg   per account: members, then sum / max / min / count of those values

A member's conditions read its scores and grades from the results' JSON and its stage from
the results' `stage`, profile attributes from `contacts` (10.8.11). The results carry no
groups (docs/sql.md), so an account score that reads a group is refused with E301.
"""
from __future__ import annotations

from dsl.diagnostics import Diagnostic, error
from runtime.validate import validate

from .conditions import Scope, UnsupportedCondition, condition_sql, references
from .dialects import Dialect, get_dialect
from .quoting import QuotingError, quote_comment, quote_table
from .support import span_of

__all__ = ["accounts_sql", "check_accounts"]

ELSEWHERE = "run it with `score run --engine python` (or `--engine spark`)"


def check_accounts(table: dict, dialect: str | Dialect = "duckdb") -> list[Diagnostic]:
    """E301 for the account scores the statement cannot compute from the results."""
    d = get_dialect(dialect) if isinstance(dialect, str) else dialect
    section = table.get("accounts")
    if not section:
        return []
    found = []
    for item in section["scores"]:
        reads = list(references(item["where"])) if item.get("where") is not None else []
        if item.get("of") is not None:
            reads.append(item["of"])
        group = next((ref for ref in reads if ref and ref[0] == "group"), None)
        if group is not None:
            found.append(error(
                "E301", f"account score `{item['name']}` reads the group `{group[1]}`, which "
                f"the {d.name} results do not carry", span_of(item.get("at")),
                hint=f"read the group's score instead, or {ELSEWHERE}"))
    return found


def accounts_sql(table: dict, dialect: str | Dialect = "duckdb", results_table: str = "results",
                 contacts_table: str = "contacts") -> str | None:
    """The accounts statement of `table` in `dialect`; None when the model has no
    `account by` (10.8.14: the accounts output is empty). Raises `UnsupportedError` for what
    `check_accounts` refuses."""
    from . import UnsupportedError

    d = get_dialect(dialect) if isinstance(dialect, str) else dialect
    section = table.get("accounts")
    if not section:
        return None
    refused = check_accounts(table, d)
    if refused:
        raise UnsupportedError(refused)
    validate(table)  # a table that travels is untrusted: TableError before any SQL is written
    try:
        return _Statement(table, section, d).text(results_table, contacts_table)
    except (QuotingError, UnsupportedCondition) as exc:
        raise UnsupportedError([error("E302", f"{exc}; the {d.name} accounts statement "
                                      "cannot spell it", None, hint=ELSEWHERE)]) from None


class _Statement:
    def __init__(self, table: dict, section: dict, d: Dialect) -> None:
        self.t, self.s, self.d = table, section, d
        self.score_names = [score["name"] for score in table["scores"]]
        self.grade_names = [grade["name"] for grade in table["grades"]]
        self.stages = tuple(stage["name"] for stage in table["stages"])

    def integer(self, column: str, key: str) -> str:
        d = self.d
        if hasattr(d, "json_integer"):
            return d.json_integer(column, key)
        return f"CAST({d.json_number(column, key)} AS {d.bigint})"

    def wide(self) -> str:
        return getattr(self.d, "wide", self.d.bigint)

    def scope(self) -> Scope:
        whens = " ".join(f"WHEN {self.d.string(name)} THEN {n + 1}"
                         for n, name in enumerate(self.stages))
        stage = f"(CASE stage {whens} ELSE 0 END)" if self.stages else "0"
        scores = {name: f"s_{i}" for i, name in enumerate(self.score_names)}
        grades = {name: f"g_{i}" for i, name in enumerate(self.grade_names)}
        return Scope(self.d, json_columns={"contact": "profile"}, score=scores.__getitem__,
                     grade=grades.__getitem__, stage=stage, stages=self.stages)

    def text(self, results_table: str, contacts_table: str) -> str:
        d = self.d
        results, contacts = quote_table(results_table, d), quote_table(contacts_table, d)
        account = d.json_text("c.profile", self.s["by"])
        # each score and grade read once from the results' JSON
        values = ["r.contact AS contact", f"{account} AS account", "c.profile AS profile",
                  "r.stage AS stage"]
        values += [f"{self.integer('r.scores', name)} AS s_{i}"
                   for i, name in enumerate(self.score_names)]
        values += [f"{d.json_text('r.grades', name)} AS g_{i}"
                   for i, name in enumerate(self.grade_names)]
        val = _select(values, f"{results} AS r\nJOIN {contacts} AS c ON c.contact = r.contact",
                      [f"{account} <> ''"])
        scope = self.scope()
        columns = ["account", "s_0 IS NOT NULL AS scored"]
        for i, item in enumerate(self.s["scores"]):
            value = "1" if item["aggregate"] == "count" else \
                f"s_{self.score_names.index(item['of'][1])}"
            where = item.get("where")
            if where is not None:
                value = f"CASE WHEN {condition_sql(where, scope)} THEN {value} END"
            columns.append(f"{value} AS v_{i}")
        mem = _select(columns, "val")
        aggregates = ["account", "COUNT(*) AS members"]
        for i, item in enumerate(self.s["scores"]):
            counted = f"CASE WHEN scored THEN v_{i} END"
            match item["aggregate"]:
                case "sum":
                    aggregates.append(f"COALESCE(SUM(CAST({counted} AS {self.wide()})), 0) "
                                      f"AS a_{i}")
                case "count":
                    aggregates.append(f"COUNT({counted}) AS a_{i}")
                case "max":
                    aggregates.append(f"MAX({counted}) AS a_{i}")
                case "min":
                    aggregates.append(f"MIN({counted}) AS a_{i}")
        agg = _select(aggregates, "mem", group_by=["account"])
        names = [item["name"] for item in self.s["scores"]]
        scores = [(name, f"a_{i}") for i, name in enumerate(names)]
        grades = [(g["name"], self._grade(g, f"a_{names.index(g['score'])}"))
                  for g in self.s["grades"]]
        final = _select([
            "account", "members AS contacts",
            (d.json_object(scores) if scores else "'{}'") + " AS scores",
            (d.json_object_present(grades) if grades else "'{}'") + " AS grades"],
            "agg", order_by=[d.sort_key("account")])
        header = [quote_comment(line) for line in (
            f"scorelang accounts (docs/language.md 10.6), rule table format "
            f"{self.t['format']}, dialect {d.name}",
            f"source sha256 {self.t['source']['sha256']}",
            f"reads {results_table}(contact, scores, grades, stage) and "
            f"{contacts_table}(contact, profile)")]
        ctes = ",\n".join(f"{name} AS (\n{body}\n)" for name, body in
                          (("val", val), ("mem", mem), ("agg", agg)))
        return "\n".join(header) + f"\nWITH\n{ctes}\n{final}\n"

    def _grade(self, grade: dict, value: str) -> str:
        d = self.d
        whens = " ".join(f"WHEN {value} >= {_number(threshold)} THEN {d.string(label)}"
                         for label, threshold in grade["bands"])
        otherwise = grade.get("else")
        tail = f" ELSE {d.string(otherwise)}" if otherwise is not None else ""
        return f"CASE WHEN {value} IS NULL THEN NULL {whens}{tail} END"


def _number(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UnsupportedCondition(f"not a number: {value!r}")
    return str(value) if isinstance(value, int) else repr(float(value))


def _select(columns: list[str], source: str, where: list[str] | None = None,
            group_by: list[str] | None = None, order_by: list[str] | None = None) -> str:
    lines = ["SELECT " + ",\n       ".join(columns), "FROM " + source]
    if where:
        lines.append("WHERE " + "\n  AND ".join(where))
    if group_by:
        lines.append("GROUP BY " + ", ".join(group_by))
    if order_by:
        lines.append("ORDER BY " + ", ".join(order_by))
    return "\n".join(lines)
