"""Hover and go to definition, read from the document's name index and symbol table."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

from dsl import ast
from dsl import formatter as fmt
from dsl.source import Span

from ..resolve import label_span
from . import describe
from .analysis import Analysis
from .impact import Impact
from .names import Occurrence

_RULES = (ast.EventRule, ast.AbsenceRule, ast.ProfileRule, ast.InactivityRule)
_ACCOUNT_KINDS = {ast.AccountScore: "account score", ast.AccountGrade: "account grade"}


@dataclass(frozen=True, slots=True)
class Found:
    markdown: str
    span: Span | None


def hover(analysis: Analysis, line: int, column: int, impact=None) -> Found | None:
    """What the name or statement at a 1-based position means; with `impact` (an `Impact`,
    an exception, or a sentence saying why there is none yet), what it does on sample data."""
    symbols = analysis.symbols
    if symbols is None:
        return None
    occurrence = analysis.index.at(line, column)
    statement = analysis.statement_at(line, column)
    parts: list[str] = []
    if occurrence is not None and occurrence.kind.startswith("account "):
        parts.append(describe.account_declaration(occurrence.kind, occurrence.name,
                                                  analysis.accounts, occurrence.owner))
    elif occurrence is not None:
        parts.append(describe.declaration(occurrence.kind, occurrence.name, symbols,
                                          occurrence.owner))
    if occurrence is not None:
        where = declaration_span(analysis, occurrence)
        if where is not None and not occurrence.declares:
            parts[-1] += f" — declared at {_short(where, analysis.path)}"
    if statement is not None and not isinstance(statement, ast.Test):
        meaning = describe.statement(statement, symbols)
        if meaning:
            parts.append(meaning)
        parts.extend(_impact_lines(statement, analysis, impact))
    elif isinstance(statement, ast.Test) and occurrence is None:
        parts.append(describe.statement(statement, symbols))
    if not parts:
        return None
    span = occurrence.span if occurrence is not None else (statement.span if statement else None)
    if statement is not None and not isinstance(statement, ast.Test):
        parts.insert(0, f"```score\n{fmt.statement_text(statement)}\n```")
    return Found("\n\n".join(parts), span)


def _impact_lines(statement, analysis: Analysis, impact) -> list[str]:
    if impact is None or not isinstance(statement, (_RULES + (ast.Stage, ast.AccountScore,
                                                              ast.AccountGrade))):
        return []
    if isinstance(impact, str):
        return [f"*{impact}*"]
    if isinstance(impact, Exception):
        return [f"*sample data: the rules could not be run: {impact}*"]
    about = (f"on the sample data ({impact.events:,} events, {impact.contacts:,} contacts, "
             f"{impact.scored:,} scored)")
    if isinstance(statement, (ast.AccountScore, ast.AccountGrade)):
        return [_account_impact(statement, impact.accounts)]
    if isinstance(statement, ast.Stage):
        reached, now = impact.stages.get(statement.name, (0, 0))
        return [f"**{_plural(reached, 'contact')}** reached {statement.name} or a later stage "
                f"{about}; {now:,} are at {statement.name} now"]
    rule_id = rule_id_of(statement, analysis, impact)
    if rule_id is None:
        return []
    found = impact.rules.get(rule_id)
    awards, contacts, capped = (found.awards, found.contacts, found.capped) if found else (0, 0, 0)
    text = f"**{_plural(awards, 'award')}** to {_plural(contacts, 'contact')} {about}"
    if getattr(statement, "limit", None) is not None:
        text += f"; {_plural(capped, 'event')} capped by the limit"
    return [text]


def _account_impact(statement, accounts: list[dict]) -> str:
    """An account grade's labels or an account score's range over the sample's accounts."""
    about = f"**{_plural(len(accounts), 'account')}** on the sample data"
    if isinstance(statement, ast.AccountGrade):
        labels = Counter(a["grades"].get(statement.name) for a in accounts)
        order = [b.label for b in statement.bands] + [statement.otherwise]
        shown = [f"{labels[label]:,} {label}" for label in dict.fromkeys(order)
                 if label is not None and labels[label]]
        if labels[None]:
            shown.append(f"{labels[None]:,} without a label")
        return about + (": " + ", ".join(shown) if shown else "")
    values = sorted(v for v in (a["scores"].get(statement.name) for a in accounts)
                    if v is not None)
    if not values:
        return about + (f": `{statement.name}` has no value for any" if accounts else "")
    text = (f"{about}: {statement.name} from {values[0]:,} to {values[-1]:,}, median "
            f"{values[(len(values) - 1) // 2]:,}")
    missing = len(accounts) - len(values)
    return text + (f"; no value for {missing:,}" if missing else "")


def rule_id_of(statement, analysis: Analysis, impact: Impact) -> str | None:
    """The rule table id of a rule statement: the table cites rules by `file:line`, and the
    rules of one line (`a +1; b +2`) in their order."""
    span = statement.span
    if span is None:
        return None
    ids = impact.rule_ids.get(f"{span.file}:{span.line}", [])
    same_line = [s for s in analysis.statements
                 if isinstance(s, _RULES) and s.span is not None and s.span.line == span.line]
    index = next((i for i, s in enumerate(same_line) if s is statement), None)
    if index is None or index >= len(ids):
        return None
    return ids[index]


# --------------------------------------------------------------------------- definitions


def definition(analysis: Analysis, line: int, column: int) -> Span | None:
    occurrence = analysis.index.at(line, column)
    if occurrence is None:
        return None
    return declaration_span(analysis, occurrence)


def declaration_span(analysis: Analysis, occurrence: Occurrence) -> Span | None:
    """Where the name is declared: the word in its declaration (in an included file too),
    the first line of an included file. None for names the model does not declare."""
    symbols, locate = analysis.symbols, analysis.locate
    name, kind = occurrence.name, occurrence.kind
    match kind:
        case "score":
            info = symbols.scores.get(name)
            node = info.declaration if info else None
            return locate.word(node.span, name, start=len("score")) if node else None
        case "grade":
            node = symbols.grades.get(name)
            return locate.word(node.span, name, start=len("grade")) if node else None
        case "group":
            node = getattr(symbols, "groups", {}).get(name)
            return locate.word(node.span, name, start=len("group")) if node else None
        case "stage":
            node = symbols.stages.get(name)
            return locate.word(node.span, name, start=len("stage")) if node else None
        case "label":
            return _label(analysis, name, occurrence.owner)
        case "event":
            node = symbols.events.get(name)
            return locate.word(node.span, name, start=len("event")) if node else None
        case "property":
            node = symbols.events.get(occurrence.owner or "")
            for prop in node.properties if node else ():
                if prop.name == name:
                    return locate.word(prop.span, name)
            return None
        case "account score" | "account grade":
            node = analysis.accounts.get(name)
            keyword = "account score" if isinstance(node, ast.AccountScore) else "account grade"
            return locate.word(node.span, name, start=len(keyword)) \
                if node is not None and kind == _ACCOUNT_KINDS[type(node)] else None
        case "account label":
            node = analysis.accounts.get(occurrence.owner or "")
            if not isinstance(node, ast.AccountGrade):
                return None
            for band in node.bands:
                if band.label == name:
                    return label_span(band)
            return locate.after(node.span, "else", name) if node.otherwise == name else None
        case "include":
            path = name if os.path.isabs(name) else os.path.join(
                os.path.dirname(analysis.path), name)
            path = os.path.normpath(path)
            return Span(path, 1, 1, 1, 1) if os.path.isfile(path) else None
    return None


def _label(analysis: Analysis, label: str, owner: str | None) -> Span | None:
    symbols = analysis.symbols
    if owner == "stage":
        node = symbols.stages.get(label)
        return analysis.locate.word(node.span, label, start=len("stage")) if node else None
    grade = symbols.grades.get(owner or "")
    if grade is None:
        return None
    for bucket in getattr(grade, "buckets", ()):
        if bucket.label == label:
            return analysis.locate.word(bucket.span, label)
    for band in getattr(grade, "bands", ()):
        if band.label == label:
            return label_span(band)
    if grade.otherwise == label:
        return analysis.locate.after(grade.span, "else", label)
    return None


def _short(span: Span, here: str) -> str:
    if span.file == here:
        return f"line {span.line}"
    return f"{os.path.basename(span.file)}:{span.line}"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"
