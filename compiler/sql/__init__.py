"""SQL targets: the rule table as one query per dialect (docs/sql.md).

    generate(table, dialect="duckdb", events_table="events", contacts_table="contacts")
        -> str, raising `UnsupportedError` (with `.diagnostics`) for a table the dialect
        cannot compute exactly;
    check(table, dialect) -> list[Diagnostic]: the same refusals without generating.

The query reads `events(contact, event, target, at, id, props, seq)` (`at` in epoch
microseconds, `props` a JSON object, `seq` the input order) and `contacts(contact, profile)`
(`profile` a JSON object) and returns one row per contact, sorted: `contact`, `scores`
(JSON object text), `grades` (JSON object text), `stage` (text or NULL), `actions` (JSON
array text), equal to the Python runtime's section-7 result.
"""
from __future__ import annotations


from jinja2 import Environment, PackageLoader, StrictUndefined

from dsl.diagnostics import Diagnostic, error
from runtime.validate import validate

from .dialects import DIALECTS, Dialect, get_dialect
from .query import QueryBuilder
from .quoting import QuotingError
from .support import unsupported

__all__ = ["DIALECTS", "UnsupportedError", "check", "generate", "get_dialect"]

_ENV = Environment(loader=PackageLoader("compiler.sql", "templates"),  # a zip works too
                   undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                   lstrip_blocks=True, autoescape=False)


class UnsupportedError(ValueError):
    """The table uses constructs the dialect cannot compute exactly."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


def check(table: dict, dialect: str | Dialect = "duckdb") -> list[Diagnostic]:
    """E3xx diagnostics for what `dialect` refuses in `table` (empty when all is supported)."""
    d = get_dialect(dialect) if isinstance(dialect, str) else dialect
    diagnostics = unsupported(table, d)
    if diagnostics:
        return diagnostics
    try:
        _build(table, d, "events", "contacts", None, "seq")
    except QuotingError as exc:
        return [error("E302", f"{exc}; the {d.name} query cannot name it", None,
                      hint="use --dialect duckdb, or remove the character from the model")]
    return []


def generate(table: dict, dialect: str | Dialect = "duckdb", events_table: str = "events",
             contacts_table: str = "contacts", *, as_of: int | None = None,
             seq_column: str | None = "seq") -> str:
    """The query computing the section-7 result of `table` in `dialect`.

    `as_of` (epoch microseconds) fixes T; by default T is the latest `at` of the events
    table. `seq_column=None` orders events of equal time by `at` only (ties then follow the
    warehouse's row order: give a `seq` column for an exact tie order)."""
    d = get_dialect(dialect) if isinstance(dialect, str) else dialect
    diagnostics = check(table, d)
    if diagnostics:
        raise UnsupportedError(diagnostics)
    try:
        return _build(table, d, events_table, contacts_table, as_of, seq_column)
    except QuotingError as exc:  # a table or column name the dialect cannot spell exactly
        raise UnsupportedError([error("E302", f"{exc}; the {d.name} query cannot name it",
                                      None, hint="choose another name")]) from None


def _build(table, d, events_table, contacts_table, as_of, seq_column) -> str:
    validate(table)  # a table that travels is untrusted: TableError before any SQL is written
    return render(QueryBuilder(table, d, events_table, contacts_table, as_of, seq_column).build(),
                  d)


def render(query, d: Dialect) -> str:
    """A built query (`statements.Query`) as SQL text, laid out by the template."""
    return _ENV.get_template("query.sql.j2").render(header=query.header, ctes=query.ctes,
                                                    final=query.final,
                                                    materialized=d.materialized_keyword or "")
