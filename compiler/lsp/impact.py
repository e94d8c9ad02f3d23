"""What the rules of a model do on the workspace's sample data (hover on a rule, stage lenses).

The model's rule table is run by the runtime's own `Engine.explain`, contact by contact, on the
events and contacts that `scorelang.toml` or the editor's settings name. Every award record of
the explanations carries its rule's id and status, so the counts per rule are exactly what
`score explain` would show for each contact. Results are cached by the table (without its
source hash and positions' file name), so typing in a comment computes nothing again.
"""
from __future__ import annotations

import json
import os
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable

from runtime import Engine
from runtime.events import Event

from ..samples import ContactFacts, EventFacts


class SampleError(Exception):
    """A sample data file that cannot be read; the message names it."""


@dataclass
class Sample:
    """Sample data as the engines read it, with what completion offers from it."""
    events: list[Event]
    contacts: dict[str, dict]
    rejected: int = 0
    targets: dict[str, Counter] = field(default_factory=dict)  # event -> targets seen
    properties: dict[str, Counter] = field(default_factory=dict)  # event -> property names
    attributes: Counter = field(default_factory=Counter)  # profile attribute names
    _for_check: tuple | None = field(default=None, repr=False)

    @property
    def event_names(self) -> list[str]:
        return sorted(self.targets)

    def for_check(self) -> tuple[ContactFacts, EventFacts]:
        """What `score check --contacts --events` compares against (W106, W112), summarised
        once per sample, not per keystroke."""
        if self._for_check is None:
            self._for_check = (ContactFacts.of(self.contacts.values()),
                               EventFacts.of({"event": e.event, "props": e.props}
                                             for e in self.events))
        return self._for_check


def read_sample(events_path: str | None, contacts_path: str | None) -> Sample:
    from ..run.readers import ReaderError, read_contacts, read_events

    events: list[Event] = []
    rejected = 0
    contacts: dict[str, dict] = {}
    try:
        if events_path:
            for item in read_events(events_path):
                if isinstance(item, Event):
                    events.append(item)
                else:
                    rejected += 1
        if contacts_path:
            contacts, _ = read_contacts(contacts_path)
    except (ReaderError, OSError) as exc:
        raise SampleError(str(exc)) from None
    sample = Sample(events, contacts, rejected)
    for event in events:
        sample.targets.setdefault(event.event, Counter())[event.target] += 1
        sample.properties.setdefault(event.event, Counter()).update(event.props.keys())
    for profile in contacts.values():
        sample.attributes.update(profile.keys())
    for counter in sample.targets.values():
        counter.pop(None, None)
    return sample


class SampleCache:
    """Sample files read once, again only when a file changes (size or modification time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: dict[tuple, Sample] = {}

    def get(self, events_path: str | None, contacts_path: str | None) -> Sample:
        key = (_stamp(events_path), _stamp(contacts_path))
        with self._lock:
            if key not in self._cached:
                self._cached = {key: read_sample(events_path, contacts_path)}
            return self._cached[key]


def _stamp(path: str | None) -> tuple | None:
    if not path:
        return None
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise SampleError(f"cannot read {path}: {exc.strerror or exc}") from None
    return (path, stat.st_mtime_ns, stat.st_size)


# --------------------------------------------------------------------------- impact


@dataclass(frozen=True, slots=True)
class RuleImpact:
    awards: int = 0  # awards given (capped ones not counted)
    contacts: int = 0  # contacts with at least one award
    capped: int = 0  # matching events that the rule's limit left without points


@dataclass
class Impact:
    contacts: int  # contacts in the sample (with events or a profile)
    scored: int
    events: int
    rules: dict[str, RuleImpact]  # by rule id
    stages: dict[str, tuple[int, int]]  # stage -> (reached it or a later one, there now)
    rule_ids: dict[str, list[str]]  # "file:line" -> ids of the rules on that line, in order
    accounts: list[dict] = field(default_factory=list)  # `score run --accounts` lines (10.6)


def compute_impact(table: dict, sample: Sample) -> Impact:
    engine = Engine(table)
    by_contact: dict[str, list[Event]] = defaultdict(list)
    for event in sample.events:
        by_contact[event.contact].append(event)
    as_of = max((e.at for e in sample.events), default=None)
    awards: Counter = Counter()
    capped: Counter = Counter()
    reached: dict[str, set] = defaultdict(set)
    stage_now: Counter = Counter()
    scored = 0
    order = [stage["name"] for stage in table.get("stages", [])]
    contact_ids = sorted(set(by_contact) | set(sample.contacts))
    for contact in contact_ids:
        explanation = engine.explain(contact, by_contact.get(contact, ()), sample.contacts,
                                     as_of=as_of).to_json()
        scored += not explanation.get("unscored")
        for record in explanation["awards"]:
            if record["status"] == "capped":
                capped[record["rule"]] += 1
            else:
                awards[record["rule"]] += 1
                reached[record["rule"]].add(contact)
        # The tracer lists the profile rules that hold even for an unscored contact, which
        # gets no points from them.
        for record in () if explanation.get("unscored") else explanation["profile"]:
            awards[record["rule"]] += 1
            reached[record["rule"]].add(contact)
        stage = explanation["result"].get("stage")
        if stage in order:
            stage_now[stage] += 1
    stages = {}
    for index, name in enumerate(order):
        stages[name] = (sum(stage_now[later] for later in order[index:]), stage_now[name])
    rules = {rule_id: RuleImpact(awards[rule_id], len(reached[rule_id]), capped[rule_id])
             for rule_id in set(awards) | set(capped)}
    # the accounts from one batch run: the explanations carry no groups, which account
    # scores may read
    accounts = engine.run_with_accounts(sample.events, sample.contacts, as_of)[1] \
        if table.get("accounts") else []
    return Impact(len(contact_ids), scored, len(sample.events), rules, stages,
                  _rule_ids(table), accounts)


def _rule_ids(table: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for section in ("rules", "profile", "inactivity"):
        for rule in table.get(section) or ():
            if isinstance(rule, dict) and "id" in rule and "at" in rule:
                found[rule["at"]].append(rule["id"])
    return dict(found)


def table_key(table: dict) -> str:
    """What the impact depends on: the table without the source's hash."""
    return json.dumps({k: v for k, v in table.items() if k != "source"}, sort_keys=True,
                      default=str)


class ImpactCache:
    """One impact per table, computed on a worker thread; `get` never waits longer than asked."""

    def __init__(self, on_ready: Callable[[], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._done: dict[tuple, Impact | Exception] = {}
        self._running: dict[tuple, threading.Event] = {}
        self.on_ready = on_ready

    def get(self, table: dict, sample: Sample, wait: float = 0.0) -> Impact | Exception | None:
        key = (table_key(table), id(sample))
        with self._lock:
            if key in self._done:
                return self._done[key]
            ready = self._running.get(key)
            if ready is None:
                ready = self._running[key] = threading.Event()
                threading.Thread(target=self._compute, args=(key, table, sample, ready),
                                 daemon=True).start()
        ready.wait(wait)
        with self._lock:
            return self._done.get(key)

    def _compute(self, key, table, sample, ready: threading.Event) -> None:
        try:
            found: Impact | Exception = compute_impact(table, sample)
        except Exception as exc:  # noqa: BLE001 - a runtime failure is shown, not raised
            found = exc
        with self._lock:
            # Only the latest tables matter: keep a few, the editor moves on.
            if len(self._done) >= 8:
                self._done.pop(next(iter(self._done)))
            self._done[key] = found
            self._running.pop(key, None)
        ready.set()
        if self.on_ready is not None:
            self.on_ready()
