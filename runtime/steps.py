"""What one event, one absence or inactivity award and the as-of time do to a contact's state
(docs/semantics.md): admission (duplicates, order, unscored contacts), rule matching, caps,
awards, pending absences and quiet spells. A mixin of `runtime.engine.Engine`; the compiled
evaluator (`runtime.compiled`) calls the same admission, flush, absence and spell steps."""
from __future__ import annotations

from bisect import insort

from .decay import add_award, new_awards
from .errors import LateEventError
from .events import Event, format_time
from .state import _Contact
from .table import ABSENCE, EVENT

FOREVER = 1 << 80  # a streaming horizon of None: longer than any span of event times
_EMPTY: dict = {}


class ContactSteps:
    """`Engine`'s per-contact steps (see the module docstring)."""

    def _new_contact(self, contact_id: str, profile: dict | None) -> _Contact:
        if self.compiled:
            return self.program.new_contact(contact_id, profile)
        state = _Contact(contact_id, profile or {})
        table = self.table
        state.sums = [0] * len(table.slot_names)
        state.awards = [new_awards() if i in table.timed else None
                        for i in range(len(table.slot_names))]
        self._apply_profile(state, state.profile)
        return state

    def _apply_profile(self, state: _Contact, profile: dict) -> None:
        table = self.table
        state.profile = profile
        env = (None, profile, _EMPTY)
        state.scored = table.require is None or table.require(env)
        base = [0] * len(table.slot_names)
        for test, points, slot, _ in table.profile:
            if test(env):
                base[slot] += points
        for i, old in enumerate(state.base):
            state.sums[i] -= old
        for i, new in enumerate(base):
            state.sums[i] += new
        state.base = tuple(base)
        state.dirty = True

    def _admit(self, state: _Contact, event: Event, horizon: int | None = None) -> bool:
        """False for an event that changes nothing more: a duplicate, or an event of an
        unscored contact (its clock moves). LateEventError for one older than the clock,
        before anything changes (the same event sent again in order is then scored).
        `horizon` (streaming): an id seen more than that long before this event's time is
        forgotten, and the event is scored as a new one (docs/semantics.md); the ids are kept
        with their times. None (batch): every id of the run, in a set (no times to hold)."""
        at = event.at
        ident = event.id
        seen = state.seen
        if ident is not None and seen is not None:
            if horizon is None:
                if has_id(seen, ident):
                    return False  # a duplicate: the first in processing order counts
            else:
                prior = seen.get(ident)
                if prior is not None and prior >= at - horizon:
                    return False
        if state.clock is not None and at < state.clock:
            raise LateEventError(f"event at {format_time(at)} for contact {event.contact!r} "
                                 f"arrives after {format_time(state.clock)}")
        if ident is not None:
            if horizon is None:
                state.seen = add_id(seen, ident)
            elif seen is None:
                state.seen = {ident: at}
            else:
                forget_ids(seen, at - horizon)
                seen.pop(ident, None)  # kept in time order: a new original goes last
                seen[ident] = at
        if not state.scored:
            state.clock = at
            return False
        return True

    def _on_event(self, state: _Contact, event: Event, tracer, out,
                  horizon: int | None = None) -> None:
        if not self._admit(state, event, horizon):
            return
        at = event.at
        if state.pending or state.spell is not None:
            self._flush(state, at, False, tracer, out)
        table = self.table
        if table.has_absence:
            if at != state.clock and state.recent:
                state.recent = ()
            self._answer(state, event)
        if table.inactivity and table.is_activity(event.event):
            self._start_spell(state, at)
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
            if rule.kind != EVENT:
                if rule.kind == ABSENCE:
                    self._expect(state, rule, event)
                    continue
                points = rule.points_of(event.props)  # `by PROP`: no integer, no match
                if points is None:
                    continue
            else:
                points = rule.points
            if rule.cap is None or self._count(state, rule, at):
                self._award(state, rule.slot, at, points)
                if tracer is not None:
                    tracer.award(rule, at, False, points)
            elif tracer is not None:
                tracer.award(rule, at, True, points)
        if table.has_absence:
            if state.recent:
                state.recent.append((event.event, event.target))
            else:
                state.recent = [(event.event, event.target)]
        state.order += 1
        self._point(state, at, tracer, out, event)

    def _finish(self, state: _Contact, until: int, tracer, out) -> None:
        """The as-of point: absences due <= until, then the point itself."""
        if not state.scored:
            return
        if state.pending or state.spell is not None:
            self._flush(state, until, True, tracer, out)
        if state.clock is None or until > state.clock:
            state.clock = until
            state.recent = ()
        if tracer is not None:
            tracer.point(state, "as-of", until, None)
        self._point(state, until, tracer, out, "as-of")

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

    def _award(self, state: _Contact, slot: int, at: int, points: int) -> None:
        awards = state.awards[slot]
        if awards is None:
            state.sums[slot] += points
        else:
            add_award(awards, at, points, self.table.decays[slot], self.table.expires[slot])
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

    def _start_spell(self, state: _Contact, at: int) -> None:
        """An activity event at `at`: a new quiet spell, unless one started at this very
        time (several activity events at one time start one spell). The old spell's awards
        due before `at` were applied by the flush before this event; those due at `at` or
        later are answered by it."""
        spell = state.spell
        if spell is None or spell[0] < at:
            state.spell = [at] + [at + rule.after for rule in self.table.inactivity]

    def _next_due(self, state: _Contact) -> int | None:
        """The earliest absence or inactivity award still to come."""
        due = state.pending[0][0] if state.pending else None
        spell = state.spell
        if spell is not None:
            for index in range(1, len(spell)):
                when = spell[index]
                if when is not None and (due is None or when < due):
                    due = when
        return due

    def _flush(self, state: _Contact, until: int, inclusive: bool, tracer, out) -> None:
        """Absence and inactivity awards due before `until` (or at it, when inclusive), one
        point per due time: absence awards first (by A's time and order, then rule order),
        then inactivity awards in rule order (10.3, 10.8.4)."""
        pending = state.pending
        rules = self.table.rules
        while True:
            due = self._next_due(state)
            if due is None or due > until or (due == until and not inclusive):
                return
            kind = "absence" if pending and pending[0][0] == due else "inactivity"
            if tracer is not None:
                tracer.point(state, kind, due, None)
            while pending and pending[0][0] == due:
                item = pending.pop(0)
                rule = rules[item[3]]
                counted = rule.cap is None or self._count(state, rule, due)
                if counted:
                    self._award(state, rule.slot, due, rule.points)
                if tracer is not None:
                    tracer.absence(rule, item, not counted)
            spell = state.spell
            if spell is not None:
                start = spell[0]
                for rule in self.table.inactivity:
                    if spell[rule.index + 1] == due:
                        self._award(state, rule.slot, due, rule.points)
                        spell[rule.index + 1] = rule.next_due(start, due)
                        if tracer is not None:
                            tracer.inactivity(rule, due, start)
            if state.clock is None or due > state.clock:
                state.clock = due
                state.recent = ()
            self._point(state, due, tracer, out, kind)


# Batch runs keep every id of the run. Most contacts have a few: their ids are one text,
# "\0id\0id\0" (an id with a NUL goes to a set), ~10 bytes an id instead of ~80 in a set of
# strings; past ID_TEXT characters the text becomes `IdTexts`, the same texts bucketed by the
# id's hash, so that a busy contact (16,759 events for one in the B2B log) stays O(1) an id
# and ~10 bytes an id.
ID_SEPARATOR = "\0"
ID_TEXT = 512
_MOST_TEXTS = 1 << 16  # past that, texts grow longer instead of more numerous


class IdTexts:
    """A busy contact's ids: texts like the short one, the id in the one its hash picks (the
    number of texts doubles when one passes ID_TEXT characters); ids with a NUL in a set."""

    __slots__ = ("texts", "odd")

    def __init__(self, ids) -> None:
        self.texts = [ID_SEPARATOR]
        self.odd: set | None = None
        for ident in ids:
            self.add(ident)

    def __contains__(self, ident: str) -> bool:
        if ID_SEPARATOR in ident:
            return self.odd is not None and ident in self.odd
        texts = self.texts
        return ID_SEPARATOR + ident + ID_SEPARATOR in texts[hash(ident) % len(texts)]

    def __len__(self) -> int:
        return sum(text.count(ID_SEPARATOR) - 1 for text in self.texts) + len(self.odd or ())

    def add(self, ident: str) -> None:
        """`ident`, not in these ids yet."""
        if ID_SEPARATOR in ident:
            if self.odd is None:
                self.odd = set()
            self.odd.add(ident)
            return
        texts = self.texts
        slot = hash(ident) % len(texts)
        text = texts[slot] = texts[slot] + ident + ID_SEPARATOR
        if len(text) > ID_TEXT and len(texts) < _MOST_TEXTS:
            self._double()

    def _double(self) -> None:
        ids = [ident for text in self.texts for ident in _ids_of(text)]
        count = 2 * len(self.texts)
        texts = [[] for _ in range(count)]
        for ident in ids:
            texts[hash(ident) % count].append(ident)
        self.texts = [ID_SEPARATOR + "".join(ident + ID_SEPARATOR for ident in part)
                      for part in texts]


def has_id(seen: str | set | IdTexts, ident: str) -> bool:
    if type(seen) is str:
        return ID_SEPARATOR not in ident and ID_SEPARATOR + ident + ID_SEPARATOR in seen
    return ident in seen


def add_id(seen: str | set | IdTexts | None, ident: str) -> str | set | IdTexts:
    """`seen` with `ident` (not in it yet): a text while it is short, else `IdTexts` (a set
    when the first id holds a NUL)."""
    if ID_SEPARATOR not in ident:
        if seen is None:
            return ID_SEPARATOR + ident + ID_SEPARATOR
        if type(seen) is str:
            if len(seen) < ID_TEXT:
                return seen + ident + ID_SEPARATOR
            seen = IdTexts(_ids_of(seen))
    if seen is None:
        return {ident}
    if type(seen) is str:
        seen = IdTexts(_ids_of(seen))
    seen.add(ident)
    return seen


def _ids_of(text: str) -> list[str]:
    """The ids of a text "\0id\0id\0" ("\0" holds none, "\0\0" the empty id)."""
    return text.split(ID_SEPARATOR)[1:-1]


def forget_ids(seen: dict, before: int) -> None:
    """Drop the ids seen before `before` (the dict is in time order: the oldest first)."""
    while seen:
        ident = next(iter(seen))
        if seen[ident] >= before:
            return
        del seen[ident]


def _answers(rule, a_target, b_target) -> bool:
    if rule.answered_by is None:
        return a_target == b_target
    return rule.answered_by(b_target)
