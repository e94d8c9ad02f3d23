"""The engine: events in, scores, grades, stages and actions out (docs/language.md 5, 6, 9).

One `_Contact` holds everything a contact needs between events: integer sums for scores that
do not change with time, a heap of decay steps only for scores that decay or expire, cap
counters, pending absences, the stage and two bit masks for triggers. Batch `run` and the
streaming API share the same per-contact steps, which is what makes "process every event,
then advance(T)" equal to "run(as_of=T)".

Evaluation points (docs/semantics.md): each surviving event; the absence awards due at one
time, after the events of that time; the as-of time, always last. At a point: awards, scores
and grades, stage (forward only), triggers in file order, then resets.
"""
from __future__ import annotations

from bisect import insort
from operator import attrgetter
from typing import Iterable, Mapping

from .conditions import STAGE
from .decay import add_award, awards_due, awards_total, new_awards
from .errors import LateEventError, SnapshotError
from .events import Event, format_time
from .explain import Explanation, Tracer
from .snapshot import dump, load
from .table import CompiledTable

_EMPTY: dict = {}
_NO_RESETS: list = []  # shared, never mutated: most points reset nothing
_ORDER = attrgetter("at", "seq")


class _Contact:
    __slots__ = ("key", "profile", "scored", "base", "sums", "awards", "caps", "pending", "stage",
                 "fired", "was_true", "actions", "clock", "point", "recent", "seen", "order",
                 "dirty")

    def __init__(self, key: str, profile: dict):
        self.key = key  # the contact id
        self.profile = profile
        self.scored = True
        self.base: tuple = ()  # profile awards per score
        # per score: profile awards + event and absence awards (untimed scores) in one
        # list, so that a point reads one list; timed scores add their decayed total
        self.sums: list[int] = []
        self.awards: list = []  # per score: None (untimed) or timed awards (runtime.decay)
        self.caps: dict | None = None  # rule index -> count, or [period key, count]
        # Containers start as the shared empty tuple and become lists on first use: a
        # streaming engine holds millions of contacts, most never need them.
        self.pending: list | tuple = ()  # (due, a_at, a_order, rule index, target), sorted
        self.stage = -1
        self.fired = 0  # bit j: once-trigger j has fired
        self.was_true = 0  # bit j: each-time trigger j held at the last point
        self.actions: list | tuple = ()
        self.clock: int | None = None  # time of the latest event or advance
        self.point: int | None = None  # time of the latest evaluation point
        self.recent: list | tuple = ()  # (event, target) already processed at `clock`
        self.seen: set | None = None  # event ids, for duplicates
        self.order = 0  # events processed: A's processing order for absences
        self.dirty = True  # something changed since the last evaluation point


class Engine:
    """Runs one rule table. `contacts` (optional) gives profiles for the streaming API."""

    def __init__(self, table, contacts: Mapping[str, dict] | None = None):
        self.table = table if isinstance(table, CompiledTable) else CompiledTable(table)
        self._profiles: dict[str, dict] = dict(contacts or {})
        self._states: dict[str, _Contact] = {}

    # ------------------------------------------------------------------ batch

    def run(self, events: Iterable[Event], contacts: Mapping[str, dict] | None = None,
            as_of: int | None = None) -> list[dict]:
        """Results (docs/language.md 7) for every contact in the events or the contacts, sorted."""
        contacts = contacts or {}
        grouped, latest = _group(events)
        until = as_of if as_of is not None else latest
        results = []
        for contact_id in sorted(set(grouped) | set(contacts)):
            state = self._evaluate(contact_id, grouped.get(contact_id, ()),
                                   contacts.get(contact_id), until, None)
            results.append(self._result(contact_id, state))
        return results

    def explain(self, contact_id: str, events: Iterable[Event],
                contacts: Mapping[str, dict] | None = None, as_of: int | None = None):
        """Why one contact has its result: every award, stage change and action."""
        grouped, latest = _group(events)
        until = as_of if as_of is not None else latest
        tracer = Tracer(self.table)
        state = self._evaluate(contact_id, grouped.get(contact_id, ()),
                               (contacts or {}).get(contact_id), until, tracer)
        return Explanation(contact_id, self._result(contact_id, state), tracer, until)

    def _evaluate(self, contact_id, items, profile, until, tracer) -> _Contact:
        state = self._new_contact(contact_id, profile)
        if tracer is not None:
            tracer.start(state, self)
        # a stable sort on (at, seq) keeps input order for ties; on sorted input it is linear
        for event in sorted(items, key=_ORDER):
            if until is not None and event.at > until:
                break
            self._on_event(state, event, tracer, None)
        if until is not None:
            self._finish(state, until, tracer, None)
        return state

    # ------------------------------------------------------------------ streaming

    def set_profile(self, contact_id: str, profile: dict) -> None:
        """Profiles apply from now on: profile awards and `require` are recomputed."""
        self._profiles[contact_id] = profile
        state = self._states.get(contact_id)
        if state is not None:
            self._apply_profile(state, profile)

    def process(self, event: Event) -> list[dict]:
        """Feed one event; returns the actions it caused (each with its `contact`).
        Per contact, events must come in time order (LateEventError otherwise)."""
        out: list[dict] = []
        state = self._states.get(event.contact)
        self._on_event(state if state is not None else self._state_of(event.contact), event,
                       None, out)
        return out

    def advance(self, now: int) -> list[dict]:
        """Absence awards due <= now, then an evaluation point at `now`, for every contact
        (those with profiles included). A contact already past `now` is left as it is."""
        out: list[dict] = []
        for contact_id in self._profiles:
            self._state_of(contact_id)
        for contact_id in sorted(self._states):
            state = self._states[contact_id]
            if state.clock is None or state.clock <= now:
                self._finish(state, now, None, out)
        return out

    def state(self, contact_id: str) -> dict:
        """The contact's result as of its last evaluation point (asking registers nothing)."""
        state = self._states.get(contact_id)
        if state is None:
            state = self._new_contact(contact_id, self._profiles.get(contact_id))
        return self._result(contact_id, state)

    def snapshot(self) -> dict:
        return dump(self)

    @classmethod
    def restore(cls, table, snapshot: dict) -> "Engine":
        engine = cls(table)
        load(engine, snapshot)
        return engine

    def _state_of(self, contact_id: str) -> _Contact:
        state = self._states.get(contact_id)
        if state is None:
            state = self._new_contact(contact_id, self._profiles.get(contact_id))
            self._states[contact_id] = state
        return state

    # ------------------------------------------------------------------ per contact

    def _new_contact(self, contact_id: str, profile: dict | None) -> _Contact:
        state = _Contact(contact_id, profile or {})
        table = self.table
        state.sums = [0] * len(table.score_names)
        state.awards = [new_awards() if i in table.timed else None
                        for i in range(len(table.score_names))]
        self._apply_profile(state, state.profile)
        return state

    def _apply_profile(self, state: _Contact, profile: dict) -> None:
        table = self.table
        state.profile = profile
        env = (None, profile, _EMPTY)
        state.scored = table.require is None or table.require(env)
        base = [0] * len(table.score_names)
        for test, points, score, _ in table.profile:
            if test(env):
                base[score] += points
        for i, old in enumerate(state.base):
            state.sums[i] -= old
        for i, new in enumerate(base):
            state.sums[i] += new
        state.base = tuple(base)
        state.dirty = True

    def _on_event(self, state: _Contact, event: Event, tracer, out) -> None:
        at = event.at
        ident = event.id
        if ident is not None:
            seen = state.seen
            if seen is None:
                state.seen = {ident}
            elif ident in seen:
                return  # a duplicate: the first in processing order counts
            else:
                seen.add(ident)
        if state.clock is not None and at < state.clock:
            raise LateEventError(f"event at {format_time(at)} for contact {event.contact!r} "
                                 f"arrives after {format_time(state.clock)}")
        if not state.scored:
            state.clock = at
            return
        if state.pending:
            self._flush(state, at, False, tracer, out)
        table = self.table
        if table.has_absence:
            if at != state.clock and state.recent:
                state.recent = ()
            self._answer(state, event)
        state.clock = at
        if tracer is not None:
            tracer.point(state, "event", at, event)
        env = None
        by_target = table.cache.get(event.event)
        rules = by_target.get(event.target) if by_target is not None else None
        if rules is None:
            rules = table.rules_for(event.event, event.target)
        for rule in rules:
            if rule.where is not None:
                if env is None:
                    env = (event.props if event.props is not None else _EMPTY, state.profile,
                           None)
                if not rule.where(env):
                    continue
            if rule.kind == "absence":
                self._expect(state, rule, event)
            elif rule.cap is None or self._count(state, rule, at):
                self._award(state, rule.score, at, rule.points)
                if tracer is not None:
                    tracer.award(rule, at, False)
            elif tracer is not None:
                tracer.award(rule, at, True)
        if table.has_absence:
            if state.recent:
                state.recent.append((event.event, event.target))
            else:
                state.recent = [(event.event, event.target)]
        state.order += 1
        self._point(state, at, tracer, out)

    def _finish(self, state: _Contact, until: int, tracer, out) -> None:
        """The as-of point: absences due <= until, then the point itself."""
        if not state.scored:
            return
        if state.pending:
            self._flush(state, until, True, tracer, out)
        if state.clock is None or until > state.clock:
            state.clock = until
            state.recent = ()
        if tracer is not None:
            tracer.point(state, "as-of", until, None)
        self._point(state, until, tracer, out)

    def _count(self, state: _Contact, rule, at: int) -> bool:
        """Counts one matching event against the rule's cap; False when capped."""
        if state.caps is None:
            state.caps = {}
        caps = state.caps
        if rule.per is None:
            used = caps.get(rule.index, 0)
            if used >= rule.cap:
                return False
            caps[rule.index] = used + 1
            return True
        key = self.table.calendar.key(rule.per, at)
        entry = caps.get(rule.index)
        if entry is None or entry[0] != key:
            entry = caps[rule.index] = [key, 0]  # periods only move forward: forget the old
        if entry[1] >= rule.cap:
            return False
        entry[1] += 1
        return True

    def _award(self, state: _Contact, score: int, at: int, points: int) -> None:
        awards = state.awards[score]
        if awards is None:
            state.sums[score] += points
        else:
            add_award(awards, at, points, self.table.decays[score], self.table.expires[score])
        state.dirty = True

    # ------------------------------------------------------------------ absences

    def _expect(self, state: _Contact, rule, event: Event) -> None:
        """Event A of an absence rule: pending unless a B at this very time came before."""
        for kind, target in state.recent:
            if kind == rule.missing and _answers(rule, event.target, target):
                return
        item = (event.at + rule.within, event.at, state.order, rule.index, event.target)
        if state.pending:
            insort(state.pending, item)
        else:
            state.pending = [item]

    def _answer(self, state: _Contact, event: Event) -> None:
        """Event B cancels the pending absences it answers (their due time is >= now)."""
        if not state.pending or event.event not in self.table.answers:
            return
        rules = self.table.rules
        kept = [item for item in state.pending
                if not (rules[item[3]].missing == event.event
                        and _answers(rules[item[3]], item[4], event.target))]
        if len(kept) != len(state.pending):
            state.pending = kept

    def _flush(self, state: _Contact, until: int, inclusive: bool, tracer, out) -> None:
        """Absence awards due before `until` (or at it, when inclusive), one point per time."""
        pending = state.pending
        rules = self.table.rules
        while pending and (pending[0][0] < until or (inclusive and pending[0][0] == until)):
            due = pending[0][0]
            if tracer is not None:
                tracer.point(state, "absence", due, None)
            while pending and pending[0][0] == due:
                item = pending.pop(0)
                rule = rules[item[3]]
                counted = rule.cap is None or self._count(state, rule, due)
                if counted:
                    self._award(state, rule.score, due, rule.points)
                if tracer is not None:
                    tracer.absence(rule, item, not counted)
            if state.clock is None or due > state.clock:
                state.clock = due
                state.recent = ()
            self._point(state, due, tracer, out)

    # ------------------------------------------------------------------ evaluation points

    def _point(self, state: _Contact, at: int, tracer, out) -> None:
        state.point = at
        table = self.table
        if not table.lifecycle and tracer is None:
            state.dirty = False
            return  # nothing observable happens at a point without grades, stages, triggers
        if not state.dirty and tracer is None:
            # A timed score changes only when an award reaches its next decay step or
            # expires; otherwise the same state as at the last point gives the same outcome.
            for i in table.timed:
                if awards_due(state.awards[i], at):
                    break
            else:
                return
        live = self.live(state, at)
        env = (None, state.profile, live)
        moved = self._advance_stage(state, env, live, at, tracer)
        resets = self._fire(state, env, at, tracer, out)
        for score in resets:
            state.sums[score] = state.base[score]
            if state.awards[score] is not None:
                state.awards[score] = new_awards()
            if tracer is not None:
                tracer.reset(score, at)
        # Stage conditions may read `stage`: after a move the next point can move again.
        state.dirty = bool(resets) or moved

    def live(self, state: _Contact, at: int | None) -> dict:
        """Scores, grades and the stage by name, as conditions see them."""
        table = self.table
        live = {}
        sums, awards, lows, highs = state.sums, state.awards, table.lows, table.highs
        for i, name in enumerate(table.score_names):
            raw = sums[i] if awards[i] is None else sums[i] + awards_total(
                awards[i], at if at is not None else 0, table.decays[i], table.expires[i])
            if lows[i] is not None and raw < lows[i]:
                raw = lows[i]
            elif highs[i] is not None and raw > highs[i]:
                raw = highs[i]
            live[name] = raw
        for name, score, bands, otherwise in table.grades:
            value = live[table.score_names[score]]
            for label, threshold in bands:
                if value >= threshold:
                    live[name] = label
                    break
            else:
                if otherwise is not None:
                    live[name] = otherwise
        live[STAGE] = table.stages[state.stage][0] if state.stage >= 0 else None
        return live

    def _advance_stage(self, state: _Contact, env, live: dict, at: int, tracer) -> bool:
        stages = self.table.stages
        for j in range(len(stages) - 1, state.stage, -1):
            if stages[j][1](env):
                if tracer is not None:
                    tracer.stage(state.stage, j, at, live)
                state.stage = j
                live[STAGE] = stages[j][0]
                return True
        return False

    def _fire(self, state: _Contact, env, at: int, tracer, out) -> list[int]:
        resets = _NO_RESETS
        for j, (test, actions, each_time, _) in enumerate(self.table.triggers):
            bit = 1 << j
            holds = test(env)
            if each_time:
                fires = holds and not state.was_true & bit
                state.was_true = state.was_true | bit if holds else state.was_true & ~bit
            else:
                fires = holds and not state.fired & bit
                if fires:
                    state.fired |= bit
            if not fires:
                continue
            stamp = format_time(at)
            for kind, arg, score in actions:
                action = {"at": stamp, "action": kind, "arg": arg}
                if not state.actions:
                    state.actions = []
                state.actions.append(action)
                if out is not None:
                    out.append({"contact": state.key, **action})
                if score is not None:
                    resets = resets + [score] if resets else [score]
            if tracer is not None:
                tracer.fire(j, at, env[2])
        return resets

    # ------------------------------------------------------------------ results

    def _result(self, contact_id: str, state: _Contact) -> dict:
        names = self.table.score_names
        if not state.scored:
            return {"contact": contact_id, "scores": dict.fromkeys(names), "grades": {},
                    "stage": None, "actions": []}
        live = self.live(state, state.point)
        grades = {name: live[name] for name, *_ in self.table.grades if name in live}
        return {"contact": contact_id, "scores": {name: live[name] for name in names},
                "grades": grades, "stage": live[STAGE], "actions": list(state.actions)}


def _group(events: Iterable[Event]) -> tuple[dict, int | None]:
    """Events by contact, in input order; the latest time."""
    grouped: dict[str, list] = {}
    latest = None
    for event in events:
        bucket = grouped.get(event.contact)
        if bucket is None:
            grouped[event.contact] = [event]
        else:
            bucket.append(event)
        if latest is None or event.at > latest:
            latest = event.at
    return grouped, latest


def _answers(rule, a_target, b_target) -> bool:
    if rule.answered_by is None:
        return a_target == b_target
    return rule.answered_by(b_target)
