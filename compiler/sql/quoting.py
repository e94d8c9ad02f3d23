"""The only way a user's string reaches generated SQL.

Every name, target, label, property key and action argument written in a model is user input,
and so is every value of a rule table (comments included: `quote_comment`).
It is turned into SQL text here and nowhere else; `tests/test_sql_quoting.py` checks each
function against hostile input (quotes, backslashes, NUL, unicode, `'; DROP TABLE`) by
parsing the result back (DuckDB for `duckdb`, sqlglot for the other dialects).

Each dialect says how its string literals behave (`backslash_escapes`: Spark, Snowflake and
BigQuery treat `\\` inside '...' as an escape), how to spell a NUL character, and which
character quotes identifiers.
"""
from __future__ import annotations


class QuotingRules:
    """How one SQL dialect spells literals and identifiers; `dialects.Dialect` extends it, so
    that this module needs nothing from the dialects."""

    name = "ansi"
    identifier_quote = '"'
    identifier_backslash_escapes = False
    identifier_max_bytes: int | None = None  # longer names are refused (never truncated)
    backslash_escapes = False  # does `\\` escape inside '...'?
    nul_char: str | None = "CHR(0)"


class QuotingError(ValueError):
    """A string the dialect cannot represent (PostgreSQL text cannot hold NUL)."""


def _plain_literal(text: str, dialect: QuotingRules) -> str:
    if dialect.backslash_escapes:
        text = text.replace("\\", "\\\\").replace("'", "\\'")
    else:
        text = text.replace("'", "''")
    return f"'{text}'"


def quote_string(value: str, dialect: QuotingRules) -> str:
    """A SQL string literal whose value is exactly `value`."""
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    if "\x00" not in value:
        return _plain_literal(value, dialect)
    if dialect.nul_char is None:
        raise QuotingError(f"{dialect.name} text cannot contain a NUL character")
    pieces = value.split("\x00")
    parts: list[str] = []
    for index, piece in enumerate(pieces):
        if index:
            parts.append(dialect.nul_char)
        if piece:
            parts.append(_plain_literal(piece, dialect))
    return "(" + " || ".join(parts) + ")" if len(parts) > 1 else parts[0]


def quote_identifier(name: str, dialect: QuotingRules) -> str:
    """One identifier (a column or table name), quoted so that any text is only a name."""
    if not isinstance(name, str) or not name:
        raise QuotingError("an identifier must be non-empty text")
    if "\x00" in name:
        raise QuotingError("an identifier cannot contain a NUL character")
    limit = dialect.identifier_max_bytes
    if limit is not None and len(name.encode("utf-8")) > limit:
        raise QuotingError(f"{dialect.name} cuts identifiers to {limit} bytes, so "
                           f"`{name}` would name another table or column")
    quote = dialect.identifier_quote
    if dialect.identifier_backslash_escapes:
        name = name.replace("\\", "\\\\").replace(quote, "\\" + quote)
    else:
        name = name.replace(quote, quote + quote)
    return f"{quote}{name}{quote}"


def quote_table(name: str, dialect: QuotingRules) -> str:
    """A table name as given on the command line: `events` or `db.schema.events`; each
    dot-separated part is quoted on its own."""
    return ".".join(quote_identifier(part, dialect) for part in name.split("."))


# Characters a comment keeps as they are. Not in it: quotes, `*` (so neither `/*` nor `*/`),
# `;` (clients that split scripts on it), `?`, `$`, `%` and `:` (placeholders to some
# drivers, even inside comments), every line break and control character.
_COMMENT_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                          " ._,/+=@()[]-")


def quote_comment(text: str) -> str:
    """A one-line SQL comment (`-- …`) that shows `text`, whatever it holds: every character
    outside a small safe set is written as a Python-style escape (`\\n`, `\\x00`,
    `\\u2028`, `\\ud800`, `\\\\` for a backslash), so the comment is printable ASCII on
    one line and ends where the line ends, in every dialect (`text.encode().decode(
    "unicode_escape")` of what follows `-- ` gives `text` back)."""
    if not isinstance(text, str):
        raise TypeError(f"expected text, got {type(text).__name__}")
    out = []
    for char in text:
        if char in _COMMENT_SAFE:
            out.append(char)
        elif char == "\\":
            out.append("\\\\")
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "-- " + "".join(out)


def glob_to_like(pattern: str, escape: str) -> str:
    """A target/text glob (`*` any run, `?` one character, nothing else special) as a LIKE
    pattern using `escape` to protect `%`, `_` and the escape character itself."""
    out: list[str] = []
    for char in pattern:
        if char == "*":
            out.append("%")
        elif char == "?":
            out.append("_")
        elif char in ("%", "_", escape):
            out.append(escape + char)
        else:
            out.append(char)
    return "".join(out)


def is_glob(text: str) -> bool:
    return "*" in text or "?" in text
