"""Diagnostics: what a marketer sees when a `.score` file is wrong.

Diagnostics are collected, never raised: every pass returns them, the pipeline sorts them by
position. Each has a code from `CODES`; a code is never reused for another meaning.
E0xx syntax, E1xx names, E2xx types and conflicts, W1xx lints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from .source import Span


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


CODES: dict[str, str] = {
    # syntax
    "E001": "unexpected text",
    "E002": "unexpected character",
    "E003": "unterminated text",
    "E004": "inconsistent indentation",
    "E005": "nesting too deep",
    "E006": "invalid value",
    "E007": "file cannot be read",
    "E008": "number out of range",
    "E090": "formatter would change the meaning",  # internal safety net of `score fmt`
    # names
    "E101": "unknown event",
    "E102": "unknown score",
    "E103": "unknown grade",
    "E104": "unknown label",
    "E105": "unknown property",
    "E106": "unknown name",
    "E107": "duplicate declaration",
    "E108": "reserved word used as a name",
    "E109": "include file not found",
    "E110": "include cycle",
    "E111": "unknown time zone",
    "E112": "group where a score is required",
    # accounts (docs/language.md 10.6): numbered apart, so that other E11x codes stay free
    "E120": "account statement without `account by`",
    "E121": "unknown account score",
    # types and conflicts
    "E201": "type mismatch",
    "E202": "grade bands out of order",
    "E203": "empty or missing range",
    "E204": "invalid percentage",
    "E205": "invalid limit",
    "E206": "invalid duration",
    "E207": "test time outside the years 1 to 9999",
    # engines (E3xx): a construct an engine cannot compute exactly is refused, never approximated
    "E301": "not supported by this engine",
    "E302": "text not representable in this SQL dialect",
    # lints
    "W101": "rule awards 0 points",
    "W102": "duplicate rule",
    "W103": "contradicting rules",
    "W104": "condition can never hold",
    "W105": "unreachable grade band",
    "W106": "attribute never present in sample data",
    "W107": "score never awarded",
    "W108": "declared event never used",
    "W109": "score, grade or stage name read as an attribute or property",
    "W110": "name looks like a misspelled score or grade",
    "W111": "test event that no rule names",
    "W112": "rule event never present in sample data",
    "W113": "group bound outside its score's range",
    "W114": "group bounds move every contact",
    "W115": "group never awarded",
    "W116": "activity list without inactivity rules",
    "W120": "account score read as a member's attribute",
    # reachability (compiler/reach.py)
    "W130": "stage that can never be reached",
    "W131": "trigger that can never fire",
    "W132": "identical triggers",
    "W133": "threshold above what the rules can give",
    "W134": "expected action that no trigger produces",
    "W135": "score read that no rule awards",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span | None
    hint: str | None = None
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered diagnostic code {self.code}")

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        span = self.span
        if span is None:
            return ("", 0, 0, self.code)
        return (span.file, span.line, span.column, self.code)


def error(code: str, message: str, span: Span | None, hint: str | None = None,
          notes: tuple[str, ...] = ()) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span, hint, notes)


def warning(code: str, message: str, span: Span | None, hint: str | None = None,
            notes: tuple[str, ...] = ()) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, span, hint, notes)


def sort_diagnostics(diagnostics) -> list[Diagnostic]:
    return sorted(diagnostics, key=Diagnostic.sort_key)


# At most this many diagnostics per line are reported (issue 10 item 11): a generated one-line
# model with 48,000 mistakes gets five, the last noting how many more the line holds.
PER_LINE = 5


def cap_per_line(diagnostics, limit: int = PER_LINE) -> list[Diagnostic]:
    """The sorted `diagnostics` with at most `limit` per line of a file; the last one kept
    on a line that had more carries a note saying how many were left out. Diagnostics
    without a line (no span, a whole file) are all kept."""
    kept: list[Diagnostic] = []
    counts: dict[tuple, int] = {}
    for diagnostic in diagnostics:
        span = diagnostic.span
        if span is None or span.is_whole_file:
            kept.append(diagnostic)
            continue
        key = (span.file, span.line)
        seen = counts[key] = counts.get(key, 0) + 1
        if seen <= limit:
            kept.append(diagnostic)
    if all(count <= limit for count in counts.values()):
        return kept
    result, shown = [], {}
    for diagnostic in kept:
        span = diagnostic.span
        key = None if span is None or span.is_whole_file else (span.file, span.line)
        if key is not None and counts[key] > limit:
            shown[key] = shown.get(key, 0) + 1
            if shown[key] == limit:
                more = counts[key] - limit
                note = f"{more} more {'diagnostic' if more == 1 else 'diagnostics'} on this " \
                       f"line not shown (at most {limit} per line)"
                diagnostic = Diagnostic(diagnostic.code, diagnostic.severity, diagnostic.message,
                                        span, diagnostic.hint, diagnostic.notes + (note,))
        result.append(diagnostic)
    return result


def has_errors(diagnostics) -> bool:
    return any(d.is_error for d in diagnostics)


def did_you_mean(name: str, candidates) -> str | None:
    """A hint naming the closest candidate, when one is close enough to be a typo."""
    import difflib

    match = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{match[0]}`?" if match else None
