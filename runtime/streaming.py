"""The streaming API of `Engine` (docs/semantics.md, streaming contract): profiles, `process`
one event at a time, `advance` the clock, read `state` / `values` / accounts, `snapshot` and
`restore`. A mixin of `runtime.engine.Engine`: the state per contact is the batch run's."""
from __future__ import annotations

from typing import Iterator

from .accounts import Rollup, account_of, members
from .events import NEAR_EPOCH, Event, check_event, check_micros
from .snapshot import dump, load
from .state import _Contact
from .steps import FOREVER


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


class StreamingAPI:
    """`Engine`'s streaming methods (see the module docstring)."""

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
        horizon = self.duplicate_horizon  # None: ids kept with their times, never forgotten
        if horizon is None:
            horizon = FOREVER
        if self.compiled:
            self.program.step(state, event, out, horizon)
        else:
            self._on_event(state, event, None, out, horizon)
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
