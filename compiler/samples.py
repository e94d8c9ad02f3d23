"""What sample data carries, summarised once: the facts `score check --contacts --events` (and
the editor, on every keystroke) compares a model against (W106, W112)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping


@dataclass(frozen=True)
class ContactFacts:
    count: int
    present: frozenset[str]  # attributes some sample contact carries (not null)

    @classmethod
    def of(cls, contacts: "Iterable[Mapping] | ContactFacts") -> "ContactFacts":
        if isinstance(contacts, ContactFacts):
            return contacts
        contacts = list(contacts)
        return cls(len(contacts), frozenset(
            key for contact in contacts for key, value in contact.items()
            if value is not None and key != "contact"))


@dataclass(frozen=True)
class EventFacts:
    total: int
    counts: Mapping[str, int]  # events read per event type
    props: Mapping[str, frozenset[str]]  # properties some event of the type carries (not null)

    @classmethod
    def of(cls, events: "Iterable[Mapping] | EventFacts") -> "EventFacts":
        if isinstance(events, EventFacts):
            return events
        total, counts, props = 0, {}, {}
        for event in events:
            total += 1
            kind = event.get("event")
            if not isinstance(kind, str):
                continue
            counts[kind] = counts.get(kind, 0) + 1
            given = event.get("props") or {}
            if isinstance(given, Mapping):
                props.setdefault(kind, set()).update(k for k, v in given.items() if v is not None)
        return cls(total, counts, {kind: frozenset(names) for kind, names in props.items()})
