"""The engine: events in, scores, grades, stages and actions out (docs/language.md 5, 6, 9, 10).

One `_Contact` holds everything a contact needs between events: integer sums for slots (a
score's ungrouped part, or a group) that do not change with time, a heap of decay steps only
for slots whose score decays or expires, cap counters, pending absences, the quiet spell of
inactivity rules, the stage and two bit masks for triggers. Batch `run` and the streaming API
share the same per-contact steps, which is what makes "process every event, then advance(T)"
equal to "run(as_of=T)".

Evaluation points (docs/semantics.md): each surviving event; the absence and inactivity
awards due at one time, after the events of that time; the as-of time, always last. At a
point: awards, groups, scores and grades, stage (forward only), triggers in file order, then
resets.
"""
from __future__ import annotations

from bisect import insort
from operator import attrgetter
from os import PathLike
from typing import Iterable, Iterator, Mapping

from .accounts import Rollup, account_of, explain_account, members
from .conditions import STAGE, render
from .decay import add_award, awards_due, awards_total, new_awards
from .errors import LateEventError, SnapshotError, UnorderedInputError
from .events import NEAR_EPOCH, Event, check_event, check_micros, format_time
from .explain import Explanation, Tracer
from .compiled import Program, Unordered
from .observe import Observer
from .snapshot import dump, load
from .table import ABSENCE, EVENT, CompiledTable
from .timeline import check_period, contact_rows

DUPLICATE_HORIZON = 7 * 24 * 3600 * 1_000_000  # 7 days of event time, in microseconds
_EMPTY: dict = {}
_NO_RESETS: list = []  # shared, never mutated: most points reset nothing
_ORDER = attrgetter("at", "seq")


class _Contact:
    __slots__ = ("key", "profile", "scored", "base", "sums", "awards", "caps", "pending", "spell",
                 "stage", "fired", "was_true", "actions", "clock", "point", "recent", "seen",
                 "order", "dirty", "seq")

    def __init__(self, key: str, profile: dict):
        self.key = key  # the contact id
        self.profile = profile
        self.scored = True
        self.base: tuple = ()  # profile awards per slot (a score's own part, or a group)
        # per slot: profile awards + event, absence and inactivity awards (untimed slots) in
        # one list, so that a point reads one list; timed slots add their decayed total
        self.sums: list[int] = []
        self.awards: list = []  # per slot: None (untimed) or timed awards (runtime.decay)
        self.caps: dict | None = None  # rule index -> count, or [period key, count]
        # Containers start as the shared empty tuple and become lists on first use: a
        # streaming engine holds millions of contacts, most never need them.
        self.pending: list | tuple = ()  # (due, a_at, a_order, rule index, target), sorted
        # the quiet spell (10.3): None before the first activity, else [u, next due per
        # inactivity rule (None once the rule awards no more in this spell)]
        self.spell: list | None = None
        self.stage = -1
        self.fired = 0  # bit j: once-trigger j has fired
        self.was_true = 0  # bit j: each-time trigger j held at the last point
        self.actions: list | tuple = ()
        self.clock: int | None = None  # time of the latest event or advance
        self.point: int | None = None  # time of the latest evaluation point
        self.recent: list | tuple = ()  # (event, target) already processed at `clock`
        # event id -> time, in time order (events of a contact come in time order), for
        # duplicates; streaming forgets ids older than the duplicate horizon
        self.seen: dict | None = None
        self.order = 0  # events processed: A's processing order for absences
        self.dirty = True  # something changed since the last evaluation point
        self.seq = None  # batch only: `seq` of the latest event, to check the input's order

    def fork(self) -> "_Contact":
        """A copy to evaluate ahead (a timeline's period end) without changing this one: the
        containers points change are copied, the rest (profile, seen ids) shared."""
        twin = _Contact.__new__(_Contact)
        for name in _Contact.__slots__:
            setattr(twin, name, getattr(self, name))
        twin.sums = list(self.sums)
        twin.awards = [None if a is None else [a[0], list(a[1])] for a in self.awards]
        if self.caps is not None:
            twin.caps = {k: list(v) if type(v) is list else v for k, v in self.caps.items()}
        twin.pending = list(self.pending) if self.pending else ()
        twin.spell = list(self.spell) if self.spell is not None else None
        twin.actions = list(self.actions) if self.actions else ()
        twin.recent = list(self.recent) if self.recent else ()
        return twin


class _Actions(list):
    """What `process` and `advance` return: each action fired, with its contact; `also` (an
    `ActionLog`) is handed each action too."""

    def __init__(self, also=None):
        super().__init__()
        self.also = also
        if also is not None:
            also.begin()

    def fired(self, state: _Contact, at: int, action: dict, cause) -> None:
        self.append({"contact": state.key, **action})
        if self.also is not None:
            self.also.fired(state, at, action, cause)

    def restart(self) -> None:
        self.clear()


class Engine:
    """Runs one rule table. `contacts` (optional) gives profiles for the streaming API.

    `compiled` (default) runs the table through Python source written for it
    (`runtime.compiled`); `compiled=False` interprets the table step by step, as explanations
    always do. Both give the same results."""

    contact_class = _Contact

    def __init__(self, table, contacts: Mapping[str, dict] | None = None, *,
                 compiled: bool = True, duplicate_horizon: int | None = DUPLICATE_HORIZON):
        if table is None:
            raise TypeError("Engine(None): no rule table. `compile(...)` gives `table = None` "
                            "when the model has errors: read `result.diagnostics`, or use "
                            "`compile(...).require_table()`, which raises with them")
        if not isinstance(table, (CompiledTable, dict, str, PathLike)):
            raise TypeError(f"Engine needs a rule table (a dict, a path to a table's JSON or a "
                            f"CompiledTable), not {type(table).__name__}")
        self.table = table if isinstance(table, CompiledTable) else CompiledTable(table)
        self._profiles: dict[str, dict] = dict(contacts or {})
        self._states: dict[str, _Contact] = {}
        self._members: dict[str, set[str]] | None = None  # account -> contacts, on first use
        self.compiled = bool(compiled)
        if duplicate_horizon is not None and (type(duplicate_horizon) is not int
                                              or duplicate_horizon < 0):
            raise TypeError(f"duplicate_horizon must be None or an int of microseconds >= 0, "
                            f"not {duplicate_horizon!r}")
        # streaming only (`process`): how long an event id is remembered, in event time
        self.duplicate_horizon = duplicate_horizon
        self._program: Program | None = None

    @property
    def program(self) -> Program:
        """The compiled evaluator of this engine's table, written on first use."""
        if self._program is None:
            self._program = Program(self)
        return self._program

    # ------------------------------------------------------------------ batch

    def run(self, events: Iterable[Event], contacts: Mapping[str, dict] | None = None,
            as_of: int | None = None, observer: Observer | None = None) -> list[dict]:
        """Results (docs/language.md 7) for every contact in the events or the contacts, sorted.
        An `observer` (runtime.observe) is told every step of every contact's evaluation.

        The events are read once, in the order given, keeping only a state per contact. A
        list or tuple may be in any order (it is sorted when a contact's events are not in
        time order); a one-shot iterator (a generator) must give each contact's events in
        time order, else UnorderedInputError (a LateEventError) names the first one out of
        order."""
        if observer is not None and not isinstance(observer, Observer):
            raise TypeError(f"observer must be a runtime.observe.Observer, not "
                            f"{type(observer).__name__}")
        if observer is not None:
            return self._run(events, contacts, as_of, None, observer)
        return list(self.iter_run(events, contacts, as_of))

    def iter_run(self, events: Iterable[Event], contacts: Mapping[str, dict] | None = None,
                 as_of: int | None = None, *, actions=None) -> Iterator[dict]:
        """`run`'s results one by one, sorted by contact: each contact's state is let go
        once its result is out (memory for a large run). The events are all read before
        this returns. `actions` (optional) receives every action fired, with its cause:
        an object with `fired(state, at, action, cause)` and `restart()` (see
        `runtime.actions.ActionLog`)."""
        contacts = contacts or {}
        states, until = self._batch(events, contacts, as_of, actions)
        return self._results(states, contacts, until, None, actions)

    def run_with_accounts(self, events: Iterable[Event],
                          contacts: Mapping[str, dict] | None = None,
                          as_of: int | None = None, rollup: Rollup | None = None, *,
                          actions=None) -> tuple[list[dict], list[dict]]:
        """`run`'s results and, from the same evaluation, the accounts (docs/language.md
        10.6): one line per account, sorted by name; none when the table has no `account by`.
        Only each account's aggregates are kept while the contacts are scored. A `rollup`
        given (`runtime.accounts.Rollup` of this table) receives them, so that a caller
        scoring the contacts in parts can merge the parts' `partial()`s. `actions` as in
        `iter_run`."""
        spec = self.table.accounts
        if rollup is None and spec is not None:
            rollup = Rollup(spec)
        results = self._run(events, contacts, as_of, rollup, actions=actions)
        return results, [] if rollup is None else rollup.results()

    def _run(self, events, contacts, as_of, rollup: Rollup | None,
             observer: Observer | None = None, actions=None) -> list[dict]:
        contacts = contacts or {}
        if observer is not None:  # every step reported: the interpreted path, per contact
            return self._observed(events, contacts, as_of, observer)
        states, until = self._batch(events, contacts, as_of, actions)
        return list(self._results(states, contacts, until, rollup, actions))

    def _batch(self, events, contacts: Mapping, as_of, sink) -> tuple[dict, int | None]:
        """Every event through its contact's state (no as-of point yet): the states and T."""
        batch = self.program.batch if self.compiled else self._batch_interpreted
        states: dict[str, _Contact] = {}
        try:
            try:
                latest = batch(events, states, contacts, as_of, sink)
            except Unordered as exc:
                if iter(events) is events:  # one pass only: its events are gone
                    raise UnorderedInputError(_unordered(exc.args[0])) from None
                states = {}
                if sink is not None:
                    sink.restart()
                # a stable sort keeps the input order of events with the same (at, seq)
                latest = batch(sorted(events, key=_ORDER), states, contacts, as_of, sink)
        except (TypeError, AttributeError):
            _refuse_malformed(events)
            raise
        if latest is not None and type(latest) is not int:
            _refuse_malformed(events)
        return states, as_of if as_of is not None else latest

    def _batch_interpreted(self, events, states: dict, profiles: Mapping, until, out):
        """`Program.batch` step by step: the events read once, in the order given, into a
        state per contact; Unordered when a contact's events are not in (at, seq) order.
        Returns the latest time (events after `until` count for it, and make a contact)."""
        latest = None
        for event in events:
            at = event.at
            if latest is None or at > latest:
                latest = at
            state = states.get(event.contact)
            if state is None:
                state = states[event.contact] = self._new_contact(
                    event.contact, profiles.get(event.contact))
            if until is not None and at > until:
                continue
            clock = state.clock
            if clock is not None and at <= clock and (at < clock or event.seq < state.seq):
                raise Unordered(event.contact)
            state.seq = event.seq
            self._on_event(state, event, None, out)
        return latest

    def _results(self, states: dict, contacts: Mapping, until, rollup: Rollup | None,
                 sink) -> Iterator[dict]:
        for contact_id in sorted(states.keys() | contacts.keys()):
            state = states.pop(contact_id, None)
            if state is None:
                state = self._new_contact(contact_id, contacts.get(contact_id))
            if until is not None:
                self._finish(state, until, None, sink)
            if rollup is None:
                yield self._result(contact_id, state)
                continue
            live = self.live(state, state.point) if state.scored else None
            yield self._result(contact_id, state, live)
            rollup.add(state.profile, live)

    def _observed(self, events, contacts: Mapping, as_of, observer: Observer) -> list[dict]:
        grouped, latest = _group(events)
        until = as_of if as_of is not None else latest
        results = []
        for contact_id in sorted(set(grouped) | set(contacts)):
            state = self._evaluate(contact_id, grouped.get(contact_id, ()),
                                   contacts.get(contact_id), until, observer)
            result = self._result(contact_id, state)
            observer.result(contact_id, result)
            results.append(result)
        return results

    def timeline(self, events: Iterable[Event], contacts: Mapping[str, dict] | None = None,
                 as_of: int | None = None, period: str = "day") -> list[dict]:
        """Per contact and period (`day`, `week` or `month` in the model's time zone): the
        scores, grades and stage as of the period's end, as `run(as_of=END)` gives them, from
        the contact's first period to the period of the as-of time, whose row is as of that
        time (the contact's result). Sorted by contact, then period. See runtime.timeline."""
        check_period(period)
        contacts = contacts or {}
        grouped, latest = _group(events)
        until = as_of if as_of is not None else latest
        if until is None:
            return []
        rows: list[dict] = []
        for contact_id in sorted(set(grouped) | set(contacts)):
            rows.extend(contact_rows(self, contact_id,
                                     sorted(grouped.get(contact_id, ()), key=_ORDER),
                                     contacts.get(contact_id), until, period))
        return rows

    def explain(self, contact_id: str, events: Iterable[Event],
                contacts: Mapping[str, dict] | None = None, as_of: int | None = None):
        """Why one contact has its result: every award, stage change and action."""
        grouped, latest = _group(events)
        until = as_of if as_of is not None else latest
        tracer = Tracer(self.table)
        state = self._evaluate(contact_id, grouped.get(contact_id, ()),
                               (contacts or {}).get(contact_id), until, tracer)
        if state.scored:
            tracer.finish(self.group_values(state, state.point))
        return Explanation(contact_id, self._result(contact_id, state), tracer, until)

    def explain_account(self, account_id: str, events: Iterable[Event],
                        contacts: Mapping[str, dict] | None = None,
                        as_of: int | None = None) -> dict | None:
        """Why an account has its line in `run_with_accounts` over the same input: each
        member's part in each account score and the members left out, and why (see
        `runtime.accounts.explain_account`), as of `as_of` (default: the latest event time of
        all `events`, as `run`). None when the table has no `account by` or no profile in
        `contacts` names the account."""
        spec = self.table.accounts
        contacts = contacts or {}
        found = [contact_id for contact_id, profile in contacts.items()
                 if spec is not None and account_of(profile, spec.by) == account_id]
        if not found:
            return None
        grouped, latest = _group(events)
        until = as_of if as_of is not None else latest
        members = []
        for contact_id in found:
            state = self._evaluate(contact_id, grouped.get(contact_id, ()),
                                   contacts[contact_id], until, None)
            values = self._values(contact_id, state)
            live = self.live(state, state.point) if state.scored else None
            members.append((contact_id, state.profile, live, values))
        data = explain_account(spec, account_id, [m[:3] for m in members])
        data["as_of"] = None if until is None else format_time(until)
        if self.table.raw.get("require") is not None:
            data["require"] = render(self.table.raw["require"])
        values = {m[0]: m[3] for m in members}
        for member in data["members"]:
            found_values = values[member["contact"]]
            member.update({key: found_values[key] for key in
                           ("at", "scores", "groups", "grades", "stage")})
        return data

    def evaluate(self, contact_id: str, events: Iterable[Event],
                 contacts: Mapping[str, dict] | None = None, as_of: int | None = None) -> dict:
        """One contact's values (see `values`) after a batch run over `events` (only its own
        are read), as of `as_of` (default: the latest event time, as `run`)."""
        grouped, latest = _group(events)
        until = as_of if as_of is not None else latest
        state = self._evaluate(contact_id, grouped.get(contact_id, ()),
                               (contacts or {}).get(contact_id), until, None)
        return self._values(contact_id, state)

    def _evaluate(self, contact_id, items, profile, until, tracer) -> _Contact:
        state = self._new_contact(contact_id, profile)
        if tracer is not None:
            tracer.start(state, self)
        # a stable sort on (at, seq) keeps input order for ties; on sorted input it is linear
        for event in sorted(items, key=_ORDER):
            if until is not None and event.at > until:
                break
            self._event(state, event, tracer, None)
        if until is not None:
            self._finish(state, until, tracer, None)
        return state

    def _event(self, state: _Contact, event: Event, tracer, out) -> None:
        if tracer is None and self.compiled:
            self.program.step(state, event, out)
        else:
            self._on_event(state, event, tracer, out)

    # ------------------------------------------------------------------ streaming

    def set_profile(self, contact_id: str, profile: dict) -> None:
        """Profiles apply from now on: profile awards and `require` are recomputed."""
        if self._members is not None:
            self._move_member(contact_id, self._profiles.get(contact_id), profile)
        self._profiles[contact_id] = profile
        state = self._states.get(contact_id)
        if state is not None:
            self._apply_profile(state, profile)

    def process(self, event: Event, actions=None) -> list[dict]:
        """Feed one event; returns the actions it caused (each with its `contact`); an
        `actions` log (`runtime.ActionLog`) also gets them with their cause and values.
        Per contact, events must come in time order (LateEventError otherwise). A malformed
        event (`at` not an int of microseconds, or one that looks like epoch seconds) raises
        TypeError / ValueError before anything changes."""
        at = event.at  # the common mistakes are here: the full check only when it looks wrong
        if type(at) is not int or -NEAR_EPOCH < at < NEAR_EPOCH or \
                type(event.contact) is not str or type(event.props) is not dict:
            check_event(event)
        out = _Actions(actions)
        state = self._states.get(event.contact)
        if state is None:
            state = self._state_of(event.contact)
        if self.compiled:
            self.program.step(state, event, out, self.duplicate_horizon)
        else:
            self._on_event(state, event, None, out, self.duplicate_horizon)
        return list(out)

    def advance(self, now: int, actions=None) -> list[dict]:
        """Absence awards due <= now, then an evaluation point at `now`, for every contact
        (those with profiles included). A contact already past `now` is left as it is.
        `now` is an int of microseconds since the epoch. `actions` as in `process`."""
        check_micros(now, "advance(now)")
        out = _Actions(actions)
        for contact_id in self._profiles:
            self._state_of(contact_id)
        for contact_id in sorted(self._states):
            state = self._states[contact_id]
            if state.clock is None or state.clock <= now:
                self._finish(state, now, None, out)
        return list(out)

    def state(self, contact_id: str) -> dict:
        """The contact's result as of its last evaluation point (asking registers nothing)."""
        state = self._states.get(contact_id)
        if state is None:
            state = self._new_contact(contact_id, self._profiles.get(contact_id))
        return self._result(contact_id, state)

    def values(self, contact_id: str) -> dict:
        """A streaming contact's values by name as of its last evaluation point: the result
        (docs/language.md 7) plus `groups` (each group's clamped value, 10.2) and `at` (the time
        of that point, or None before the first one). Unscored: every score and group None.
        `evaluate` gives the same for a batch run of one contact. Asking registers nothing."""
        state = self._states.get(contact_id)
        if state is None:
            state = self._new_contact(contact_id, self._profiles.get(contact_id))
        return self._values(contact_id, state)

    def account(self, account_id: str) -> dict | None:
        """An account's line (docs/language.md 10.6) from its members, each as of its own
        last evaluation point (a member with no point yet: its profile alone, as `state`);
        None when no profile names the account. Asking registers nothing."""
        spec = self.table.accounts
        if spec is None:
            return None
        found = self._account_members().get(account_id)
        if not found:
            return None
        rollup = Rollup(spec)
        for contact_id in found:
            state = self._states.get(contact_id)
            if state is None:
                state = self._new_contact(contact_id, self._profiles.get(contact_id))
            rollup.add(state.profile, self.live(state, state.point) if state.scored else None)
        return rollup.result(account_id)

    def accounts(self) -> Iterator[dict]:
        """Every account's line, sorted by account name, as `account` gives it."""
        if self.table.accounts is None:
            return
        for account_id in sorted(self._account_members()):
            line = self.account(account_id)
            if line is not None:
                yield line

    def _account_members(self) -> dict[str, set[str]]:
        if self._members is None:
            self._members = members(self._profiles, self.table.accounts.by)
        return self._members

    def _move_member(self, contact_id: str, old: dict | None, new: dict) -> None:
        if self.table.accounts is None:
            return
        by = self.table.accounts.by
        before, after = account_of(old, by), account_of(new, by)
        if before == after:
            return
        if before is not None:
            self._members[before].discard(contact_id)
            if not self._members[before]:
                del self._members[before]
        if after is not None:
            self._members.setdefault(after, set()).add(contact_id)

    def snapshot(self) -> dict:
        """The streaming state of every contact as a JSON-safe dict (profiles, sums, timed
        awards, caps, pending absences, stages, trigger states, actions so far, clocks and
        the event ids the duplicate horizon still covers), stamped with the table's identity
        and a checksum of its content. Store it anywhere JSON goes; the engine is not changed
        by taking it."""
        return dump(self)

    @classmethod
    def restore(cls, table, snapshot: dict, *, compiled: bool = True) -> "Engine":
        """A new engine for `table` in exactly the state `snapshot` was taken in (its
        duplicate horizon included): feeding it the rest of the events gives what the
        uninterrupted engine would have given. Raises SnapshotError for a snapshot of another
        table, of another version, changed or cut short (checksum), or malformed."""
        engine = cls(table, compiled=compiled)
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
        forgotten, and the event is scored as a new one (docs/semantics.md)."""
        at = event.at
        ident = event.id
        seen = state.seen
        if ident is not None and seen is not None:
            prior = seen.get(ident)
            if prior is not None and (horizon is None or prior >= at - horizon):
                return False  # a duplicate: the first in processing order counts
        if state.clock is not None and at < state.clock:
            raise LateEventError(f"event at {format_time(at)} for contact {event.contact!r} "
                                 f"arrives after {format_time(state.clock)}")
        if ident is not None:
            if seen is None:
                state.seen = {ident: at}
            else:
                if horizon is not None:
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

    # ------------------------------------------------------------------ evaluation points

    def _point(self, state: _Contact, at: int, tracer, out, cause) -> None:
        """An evaluation point; `cause` is the event, or "absence", "inactivity", "as-of"."""
        if tracer is None and self.compiled:
            self.program.point(state, at, out, cause)
            return
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
        resets = self._fire(state, env, at, tracer, out, cause)
        for score in resets:
            for slot in table.reset_slots[score]:  # the score's own awards and its groups'
                state.sums[slot] = state.base[slot]
                if state.awards[slot] is not None:
                    state.awards[slot] = new_awards()
            if tracer is not None:
                tracer.reset(score, at)
        # Stage conditions may read `stage`: after a move the next point can move again.
        state.dirty = bool(resets) or moved

    def live(self, state: _Contact, at: int | None) -> dict:
        """Scores, groups, grades and the stage by name, as conditions see them."""
        table = self.table
        if table.groups or table.has_matrix:
            return self._live_v2(state, at)
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
        for name, source, bands, otherwise in table.grades:
            value = live[source]
            for label, threshold in bands:
                if value >= threshold:
                    live[name] = label
                    break
            else:
                if otherwise is not None:
                    live[name] = otherwise
        live[STAGE] = table.stages[state.stage][0] if state.stage >= 0 else None
        return live

    def _raw(self, state: _Contact, slot: int, at: int | None) -> int:
        """A slot's unclamped sum as of `at`: profile awards plus the contributions."""
        awards = state.awards[slot]
        if awards is None:
            return state.sums[slot]
        table = self.table
        return state.sums[slot] + awards_total(awards, at if at is not None else 0,
                                               table.decays[slot], table.expires[slot])

    def group_values(self, state: _Contact, at: int | None) -> list[tuple]:
        """`(name, score index, raw sum, value, low, high)` per group (10.2): the value is
        the raw sum of the group's awards clamped to the group's bounds."""
        found = []
        for name, score, low, high, slot in self.table.groups:
            raw = value = self._raw(state, slot, at)
            if low is not None and value < low:
                value = low
            elif high is not None and value > high:
                value = high
            found.append((name, score, raw, value, low, high))
        return found

    def _live_v2(self, state: _Contact, at: int | None) -> dict:
        """`live` with groups and matrix grades: score = clamp(its groups' values + its
        ungrouped part, LO, HI); a matrix grade joins two labels read before it."""
        table = self.table
        live = {}
        extra = [0] * len(table.score_names)
        for name, score, _, value, _, _ in self.group_values(state, at):
            live[name] = value
            extra[score] += value
        lows, highs = table.lows, table.highs
        for i, name in enumerate(table.score_names):
            raw = self._raw(state, i, at) + extra[i]
            if lows[i] is not None and raw < lows[i]:
                raw = lows[i]
            elif highs[i] is not None and raw > highs[i]:
                raw = highs[i]
            live[name] = raw
        for name, source, bands, otherwise in table.grades:
            if source is None:
                first, second, cells = bands
                left, right = live.get(first), live.get(second)
                if left is None or right is None:
                    continue  # either grade absent: the matrix grade is absent too
                cell = left + right
                label = cell if cells is None else cells.get(cell, otherwise)
                if label is not None:
                    live[name] = label
                continue
            value = live[source]
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

    def _fire(self, state: _Contact, env, at: int, tracer, out, cause) -> list[int]:
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
                    out.fired(state, at, action, cause)
                if score is not None:
                    resets = resets + [score] if resets else [score]
            if tracer is not None:
                tracer.fire(j, at, env[2])
        return resets

    # ------------------------------------------------------------------ results

    def _values(self, contact_id: str, state: _Contact) -> dict:
        found = self._result(contact_id, state)
        if state.scored:
            groups = {name: value for name, _, _, value, _, _
                      in self.group_values(state, state.point)}
        else:
            groups = dict.fromkeys(self.table.group_names)
        return {"contact": contact_id, "at": None if state.point is None
                else format_time(state.point), "scores": found["scores"], "groups": groups,
                "grades": found["grades"], "stage": found["stage"], "actions": found["actions"]}

    def _result(self, contact_id: str, state: _Contact, live: dict | None = None) -> dict:
        names = self.table.score_names
        if not state.scored:
            return {"contact": contact_id, "scores": dict.fromkeys(names), "grades": {},
                    "stage": None, "actions": []}
        if live is None:
            live = self.live(state, state.point)
        grades = {name: live[name] for name, *_ in self.table.grades if name in live}
        return {"contact": contact_id, "scores": {name: live[name] for name in names},
                "grades": grades, "stage": live[STAGE], "actions": list(state.actions)}


def _group(events: Iterable[Event]) -> tuple[dict, int | None]:
    """Events by contact, in input order; the latest time."""
    grouped: dict[str, list] = {}
    latest = None
    try:
        for event in events:
            bucket = grouped.get(event.contact)
            if bucket is None:
                grouped[event.contact] = [event]
            else:
                bucket.append(event)
            if latest is None or event.at > latest:
                latest = event.at
    except (TypeError, AttributeError):
        _refuse_malformed(events)
        raise
    if latest is not None and type(latest) is not int:  # the latest of them all: cheap to ask
        _refuse_malformed(events)
    return grouped, latest


def forget_ids(seen: dict, before: int) -> None:
    """Drop the ids seen before `before` (the dict is in time order: the oldest first)."""
    while seen:
        ident = next(iter(seen))
        if seen[ident] >= before:
            return
        del seen[ident]


def _unordered(contact) -> str:
    return (f"Engine.run: the events of contact {contact!r} are not in time order, and a "
            "one-shot iterator cannot be read again to sort them: pass a list (any order), "
            "or sort the events by time")


def _refuse_malformed(events) -> None:
    """Name the first event the batch API cannot read (types only: readers made the rest)."""
    for event in events if isinstance(events, (list, tuple)) else ():
        check_event(event, near_epoch=False)


def _answers(rule, a_target, b_target) -> bool:
    if rule.answered_by is None:
        return a_target == b_target
    return rule.answered_by(b_target)
