"""Event names that nothing answers: a test event no rule names (W111), and, given sample
events, a rule's event that the data never carries (W112).

Without an `event` catalog any name is legal, so `add_too_cart` in a test or `vist pricing` in
a rule silently scores nothing; these warnings catch that typo the way the catalog's E101 would.
"""
from __future__ import annotations

from dsl import ast
from dsl.diagnostics import Diagnostic, did_you_mean, warning
from dsl.source import Span

from .resolve import Locator, Symbols
from .samples import EventFacts


def rule_events(model: ast.Model, locate: Locator) -> list[tuple[str, Span | None]]:
    """Every event type a rule reads, with where it is written: the event of an event or
    absence rule, the event whose absence an absence rule waits for, and the events of the
    `activity` list (they answer inactivity rules, docs/language.md 10.3)."""
    found = []
    for statement in model.statements:
        match statement:
            case ast.EventRule(event=event, span=span):
                found.append((event, locate.event(span, event)[0]))
            case ast.AbsenceRule(event=event, missing=missing, span=span):
                found.append((event, locate.event(span, event)[0]))
                found.append((missing, locate.event(span, missing,
                                                    lead=r"(?<!\w)without\s+")[0]))
            case ast.ActivityDecl(events=events, span=span):
                found.extend((event, locate.event(span, event, start=len("activity"))[0])
                             for event in events)
    return found


def rule_event_names(model: ast.Model) -> set[str]:
    """The names of `rule_events`, without locating them (the editor checks every keystroke)."""
    named: set[str] = set()
    for statement in model.statements:
        match statement:
            case ast.EventRule(event=event):
                named.add(event)
            case ast.AbsenceRule(event=event, missing=missing):
                named.update((event, missing))
            case ast.ActivityDecl(events=events):
                named.update(events)
    return named


def check_test_events(model: ast.Model, symbols: Symbols, locate: Locator) -> list[Diagnostic]:
    """W111 for a test's event line whose event no rule names: it awards nothing, which is
    almost always a misspelled event (`add_too_cart`). An event outside a catalog is E101's."""
    named = rule_event_names(model)
    if symbols.activity is None and any(isinstance(s, ast.InactivityRule)
                                        for s in model.statements):
        return []  # every event is activity: each test line moves the quiet spells
    found = []
    for statement in model.statements:
        if not isinstance(statement, ast.Test):
            continue
        for step in statement.steps:
            if not isinstance(step, ast.TestEvent) or step.event in named:
                continue
            if symbols.has_catalog and step.event not in symbols.events:
                continue
            hint = did_you_mean(step.event, named) or (
                "no rule reads this event, so this line only moves the test's clock; "
                "check the name against the rules")
            found.append(warning(
                "W111", f"no rule names the event `{step.event}`: this test line scores nothing",
                locate.event(step.span, step.event, lead=event_lead(step))[0], hint=hint))
    return found


def event_lead(step: ast.TestEvent) -> str:
    """What stands before a test event line's event type: `at DATE ` or `after D `."""
    if step.at is not None:
        return r"(?<!\w)at\s+\S+\s+"
    if step.after is not None:
        return r"(?<!\w)after\s+\d+[ \t]*[a-z]+\s+"
    return ""


def check_event_samples(model: ast.Model, locate: Locator,
                        events: EventFacts) -> list[Diagnostic]:
    """W112 for a rule's event that never occurs in the sample events."""
    if rule_event_names(model) <= events.counts.keys():
        return []  # locating each rule's event costs a regex: only when one is missing
    found = []
    for name, span in dict.fromkeys(rule_events(model, locate)):
        if name in events.counts:
            continue
        found.append(warning(
            "W112", f"no `{name}` event in the sample events ({events.total} read)", span,
            hint=did_you_mean(name, events.counts) or "the rule never matches on this data; "
            "check the event name against the data"))
    return found
