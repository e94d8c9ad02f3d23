"""Journeys from a CRM export: a history, its profiles and an outcomes file.

`score test MODEL --events E [--contacts C] --outcomes O [--lead-time 14d]` builds one
journey per line of O, a CSV file with a header naming the columns

    contact,outcome,closed_at
    acme-cto,won,2026-04-02T10:00:00Z

(JSON Lines with the same keys also work, for a `.jsonl` name). `outcome` is `won` or
`lost` (any case); `closed_at` an ISO-8601 time with `Z` or an offset, a date (midnight UTC)
or epoch seconds. The journey of a contact is its events in E up to `closed_at` minus the
lead time, scored as of that instant (the cutoff), with its profile from C: what the model
said about the deal a lead time before it closed. The journeys report is then built exactly
as for journey files (`compiler.review.journeys`): stage precision/recall, per-score peaks,
AUC and the best threshold.

A line of O that cannot be used (no contact, another outcome, a bad time, a contact named
twice) is reported as `FILE:LINE: REASON` and left out, like a rejected event.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from runtime.events import MICROS, Event, TimeFormatError
from runtime.records import parse_as_of

from .journeys import LABELS, Journey

_UNITS = {"d": 86_400, "day": 86_400, "days": 86_400, "h": 3_600, "hour": 3_600,
          "hours": 3_600, "w": 604_800, "week": 604_800, "weeks": 604_800}
_DURATION = re.compile(r"\s*(\d{1,6})\s*([a-z]*)\s*")
COLUMNS = ("contact", "outcome", "closed_at")


def parse_lead_time(text: str) -> int:
    """`14d`, `2w`, `36h`, `14 days` (or `0`) in microseconds; ValueError otherwise."""
    match = _DURATION.fullmatch(text.lower())
    if match is None or (match.group(2) not in _UNITS and
                         not (match.group(2) == "" and int(match.group(1)) == 0)):
        raise ValueError(f"{text!r} is not a lead time: write it like 14d, 2w, 36h or 14 days")
    return int(match.group(1)) * _UNITS.get(match.group(2), 0) * MICROS


@dataclass(frozen=True, slots=True)
class Label:
    contact: str
    outcome: str  # won | lost
    closed_at: int  # microseconds
    line: int


def read_outcomes(path: str) -> tuple[list[Label], list[str]]:
    """The usable lines of the outcomes file and the messages about the others.
    OSError when the file cannot be read; ValueError when its header lacks a column."""
    text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
    rows = _json_rows(text) if path.endswith((".jsonl", ".ndjson")) else _csv_rows(text, path)
    labels: list[Label] = []
    messages: list[str] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        reason = None
        if not isinstance(row, dict):
            reason = "not an object with contact, outcome and closed_at"
            row = {}
        contact = row.get("contact")
        outcome = str(row.get("outcome") or "").strip().lower()
        closed = row.get("closed_at")
        if reason is None and (not isinstance(contact, str) or not contact.strip()):
            reason = "no contact"
        elif reason is None and outcome not in LABELS:
            reason = f"outcome {row.get('outcome')!r} is neither won nor lost"
        elif reason is None and contact in seen:
            reason = f"contact {contact!r} already has an outcome (line {seen[contact]})"
        at = None
        if reason is None:
            try:
                at = parse_as_of(str(closed)) if closed not in (None, "") else None
            except TimeFormatError as exc:
                reason = f"closed_at: {exc}"
            if at is None and reason is None:
                reason = "no closed_at"
        if reason is not None:
            messages.append(f"{path}:{line}: {reason}")
            continue
        seen[contact] = line
        labels.append(Label(contact, outcome, at, line))
    return labels, messages


def _csv_rows(text: str, path: str):
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or ()]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{path}: the header must name the columns {', '.join(COLUMNS)} "
                         f"(missing: {', '.join(missing)})")
    reader.fieldnames = header
    for row in reader:
        yield reader.line_num, {k: (v.strip() if isinstance(v, str) else v)
                                for k, v in row.items() if k in COLUMNS}


def _json_rows(text: str):
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw)
        except ValueError:
            yield number, None


def journeys_of(labels: list[Label], events: list[Event], contacts: dict[str, dict],
                lead: int) -> list[Journey]:
    """One journey per label: the contact's events up to its cutoff, as of the cutoff. The
    journey is named `won/CONTACT` or `lost/CONTACT`, as a journey file would be."""
    by_contact: dict[str, list[Event]] = {}
    for event in events:
        by_contact.setdefault(event.contact, []).append(event)
    journeys = []
    for label in sorted(labels, key=lambda l: (LABELS.index(l.outcome), l.contact)):
        cutoff = label.closed_at - lead
        journey_id = f"{label.outcome}/{label.contact}"
        own = [_renamed(e, journey_id) for e in by_contact.get(label.contact, ())
               if e.at <= cutoff]
        journeys.append(Journey(journey_id, label.outcome,
                                dict(contacts.get(label.contact) or {}), tuple(own), cutoff))
    return journeys


def _renamed(event: Event, contact: str) -> Event:
    from dataclasses import replace

    return replace(event, contact=contact)


def evaluate_outcomes(model_name: str, model, table: dict, events_path: str,
                      contacts_path: str | None, outcomes_path: str, lead_time: str = "0d"):
    """(JourneyReport, messages) of the labelled contacts of a history; `lead_time` as
    `--lead-time` takes it (ValueError when it is not a duration)."""
    from runtime import Engine

    from ..run.readers import read_contacts, read_events
    from .journeys import build_report, score_journey

    lead = parse_lead_time(lead_time)
    messages: list[str] = []
    labels, found = read_outcomes(outcomes_path)
    messages += found
    events = []
    for item in read_events(events_path):
        if isinstance(item, Event):
            events.append(item)
        else:
            messages.append(f"{events_path}:{item.line}: {item.reason}")
    contacts: dict = {}
    if contacts_path:
        contacts, rejects = read_contacts(contacts_path)
        messages += [f"{contacts_path}:{r.line}: {r.reason}" for r in rejects]
    engine = Engine(table)
    journeys = journeys_of(labels, events, contacts, lead)
    quiet = sum(1 for j in journeys if not j.events)
    if quiet:
        messages.append(f"{outcomes_path}: {quiet} of {len(journeys)} labelled contacts have no "
                        "event before their cutoff (scored on their profile alone)")
    source = f"{outcomes_path}, each scored {lead_time.strip()} before closed_at"
    report = build_report(model_name, model, [score_journey(engine, j) for j in journeys],
                          source)
    return report, messages


def evaluate_outcome_paths(models, events_path: str, contacts_path: str | None,
                           outcomes_path: str, lead_time: str):
    """`evaluate_outcomes` for each model file: (report or None, messages). A model that
    does not compile gives None and its diagnostics. ValueError, OSError and the readers'
    errors of unreadable inputs propagate (a usage error for the command)."""
    from compiler.pipeline import compile as compile_model
    from dsl.render import format_diagnostic

    found = []
    for path in models:
        compiled = compile_model(str(path))
        if compiled.table is None:
            sources = compiled.sources or {}
            found.append((None, [format_diagnostic(d, sources.get(d.span.file) if d.span
                                                   else None)
                                 for d in compiled.diagnostics if d.is_error]))
            continue
        found.append(evaluate_outcomes(str(path), compiled.model, compiled.table, events_path,
                                       contacts_path, outcomes_path, lead_time))
    return found
