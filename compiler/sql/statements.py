"""SQL text helpers shared by the parts of the query (compiler/sql/query.py and the modules
it combines): CTEs, the query they form, a SELECT laid out one column per line."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Cte:
    name: str
    body: str  # one SELECT (or a UNION ALL of SELECTs), laid out by the template
    materialized: bool = False  # read more than once: computed once (where the dialect can)
    inlined: bool = False  # read more than once but cheaper to compute again (NOT MATERIALIZED)


@dataclass
class Query:
    header: list[str]
    ctes: list[Cte] = field(default_factory=list)
    final: str = ""


def select(columns: list[str], source: str | None, where: list[str] | None = None,
           group_by: list[str] | None = None, order_by: list[str] | None = None) -> str:
    """A SELECT statement's text, one column per line."""
    lines = ["SELECT " + (",\n       ".join(columns) if columns else "1")]
    if source is not None:
        lines.append("FROM " + source)
    if where:
        lines.append("WHERE " + "\n  AND ".join(where))
    if group_by:
        lines.append("GROUP BY " + ", ".join(group_by))
    if order_by:
        lines.append("ORDER BY " + ", ".join(order_by))
    return "\n".join(lines)


def union_all(selects: list[str]) -> str:
    return "\nUNION ALL\n".join(selects)
