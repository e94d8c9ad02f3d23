"""`Program`'s writers of the functions around the events (runtime/compiled.py): a mixin.

`new_contact` (a contact's state from its profile), `result` (the as-of point and the
section-7 result), `step` (one event, streaming), `batch` (the one-shot loop over an input in
time order per contact), `groups` (the same contact by contact, the hot state fields in
locals, with what a contact's next block needs kept in `kept`), and the absence flushes. The
prologue written here leads an event to its rules (compiled_rules) and its point
(compiled_points); it is apart from them because it is the loops' shape, not what a rule or
a point means.

The mixin reads `Program`'s attributes: `table`, `_local`, `_hot`, `_bounds`, `_settled`,
`_flushes`, `_fixed_written`, and its shared pieces (`_s`, `_sync_in`, `_sync_out`,
`_glob_name`); it calls the rules' `_write_dispatch` and `_write_absence_awards` and the
point's `_write_point_call`, `_write_fixed` and `_write_settled`.
"""
from __future__ import annotations

from .codegen import Refs, condition, literal
from .compiled_writers import _no_values, _Writer, write_clamps_and_grades
from .steps import ID_SEPARATOR, ID_TEXT
from .table import ABSENCE

# before and after any time in microseconds (Python ints compare with every int)
_BEFORE, _AFTER = -(1 << 80), 1 << 80


class _LoopWriter:
    """The writers of the functions around the events, mixed into `Program`."""

    # ---------------------------------------------------------------- contacts

    def _write_new_contact(self, w: _Writer) -> None:
        table = self.table
        w("def new_contact(key, profile):")
        w.depth += 1
        w("if profile is None:")
        w("    profile = {}")
        w("st = Contact(key, profile)")
        refs = Refs(value=_no_values, grade=_no_values, globs=self._glob_name)
        require = table.raw["require"]
        if require is not None and require is not True:
            w(f"st.scored = {condition(require, refs)}")
        count = len(table.slot_names)
        w(f"base = [0] * {count}")
        for _, points, slot, raw in table.profile:
            w(f"if {condition(raw['condition'], refs)}:")
            w(f"    base[{slot}] += {literal(points)}")
        w("st.base = tuple(base)")
        w("st.sums = base")
        awards = ", ".join("new_awards()" if i in table.timed else "None" for i in range(count))
        w(f"st.awards = [{awards}{',' if count == 1 else ''}]")
        w("return st")
        w.depth -= 1

    def _write_result(self, w: _Writer) -> None:
        """`Engine._finish` then `Engine._result` (a table without groups or matrix
        grades): the as-of point at `until` (None: none), then the section-7 result, its
        scores clamped and its grades read from them as `Engine.live` does."""
        table = self.table
        names = table.score_names
        w("def result(key, st, until, out):")
        w.depth += 1
        w("if not st.scored:")
        nulls = ", ".join(f"{literal(name)}: None" for name in names)
        w(f"    return {{'contact': key, 'scores': {{{nulls}}}, 'grades': {{}}, "
          "'stage': None, 'actions': []}")
        w("if until is not None:")
        w.depth += 1
        if table.has_absence or table.inactivity:
            acts = ["st.pending"] + (["st.spell is not None"] if table.inactivity else [])
            w(f"if {' or '.join(acts)}:")
            if self._flushes:
                w("    flush_absence(st, until, True, out)")
            else:
                w("    flush(st, until, True, None, out)")
        w("clock = st.clock")
        w("if clock is None or until > clock:")
        w("    st.clock = until")
        w("    st.recent = ()")
        w("point(st, until, out, 'as-of')")
        w.depth -= 1
        w("at = st.point")
        w("if at is None:")
        w("    at = 0")
        w("sums = st.sums")
        if table.timed:
            w("awards = st.awards")
        for i in range(len(names)):
            if i in table.timed:
                w(f"aw = awards[{i}]")
                w("heap = aw[1]")
                w(f"v{i} = sums[{i}] + (aw[0] if not heap or heap[0][0] > at else "
                  f"awards_total(aw, at, DECAYS[{i}], EXPIRES[{i}]))")
            else:
                w(f"v{i} = sums[{i}]")
        scores = write_clamps_and_grades(w, table)
        labels = "(" + "".join(f"{literal(stage[0])}, " for stage in table.stages) + ")"
        stage = f"{labels}[st.stage] if st.stage >= 0 else None" if table.stages else "None"
        w(f"return {{'contact': key, 'scores': {{{', '.join(scores)}}}, 'grades': grades, "
          f"'stage': {stage}, 'actions': list(st.actions)}}")
        w.depth -= 1

    # ---------------------------------------------------------------- events

    def _write_prologue(self, w: _Writer, exit_: str, batch: bool) -> None:
        """From an event to its rules: duplicates, order, unscored contacts, awards due
        before it, absence answers, the quiet spell. `exit_` leaves the event."""
        table = self.table
        clock, seen = self._s("clock"), self._s("seen")
        if not self._local:
            w("clock = st.clock")
            clock = "clock"
        if batch:
            # Before the duplicate check: a duplicate first in the input but later in time
            # would hide its original. Ties in time are processed in `seq` order.
            w("seq = ev.seq")
            w(f"if {clock} is not None and at <= {clock} and "
              f"(at < {clock} or seq < {self._s('seq')}):")
            w(f"    raise Unordered({'key' if self._local else 'ev.contact'})")
            w(f"{self._s('seq')} = seq")
            # Engine._admit written out for batch, where it is one call per event with an id:
            # the order is checked above (no LateEventError) and there is no horizon, so an
            # id already seen is a duplicate. tests/test_compiled.py holds the two equal.
            # the ids as runtime.steps keeps them in batch: a short text, else a set
            w("ident = ev.id")
            w("if ident is not None:")
            if self._local:
                # contact by contact, every event of the contact is in hand: its ids in a
                # set while they are read (`_write_groups` drops it after the last one)
                w("    if seen_set:")
                w("        if ident in c_seen:")
                w(f"            {exit_}")
                w("        c_seen.add(ident)")
                w("    else:")
                w.depth += 1
            else:
                w("    seen = st.seen")
            local = "c_seen" if self._local else "seen"
            w(f"    if {local} is None:")
            w(f"        {seen} = add_id(None, ident)")
            w(f"    elif type({local}) is str and {literal(ID_SEPARATOR)} not in ident:")
            w(f"        if {literal(ID_SEPARATOR)} + ident + {literal(ID_SEPARATOR)} in {local}:")
            w(f"            {exit_}")
            w(f"        {seen} = {local} + ident + {literal(ID_SEPARATOR)} "
              f"if len({local}) < {literal(ID_TEXT)} else add_id({local}, ident)")
            w(f"    elif has_id({local}, ident):")
            w(f"        {exit_}")
            w("    else:")
            w(f"        {seen} = add_id({local}, ident)")
            if self._local:
                w.depth -= 1
            w(f"if not {'scored' if self._local else 'st.scored'}:")
            w(f"    {self._s('clock')} = at")
            w(f"    {exit_}")
            if self._local:
                w("ev_event = ev.event")  # read once: the absence tests and the dispatch
        else:
            w("if ev.id is not None or (clock is not None and at < clock) or not st.scored:")
            w("    if not admit(st, ev, horizon):")
            w(f"        {exit_}")
        if table.has_absence and not table.inactivity and self._local:
            # flush does nothing before the first award due before `at`: look at the pending
            # list first (sorted by due time), so that the locals go out only when it acts;
            # an answer cancels only what is pending (flush pops from the same list)
            w("pending = st.pending")
            w("if pending:")
            w("    if pending[0][0] < at:")
            w.depth += 2
            self._write_local_flush(w)
            w.depth -= 2
            w("    if ev_event in ANSWERS:")
            w("        answer_fast(st, ev)")
            # empty at most events: tested first
            w(f"if {self._s('recent')} and at != {self._s('clock')}:")
            w(f"    {self._s('recent')} = ()")
        elif (table.has_absence or table.inactivity) and self._local:
            w("pending = st.pending")
            acts = ["(pending and pending[0][0] < at)"] if table.has_absence else []
            if table.inactivity:
                acts.append("st.spell is not None")
            w(f"if {' or '.join(acts)}:")
            w.depth += 1
            self._sync_out(w)
            w(self._flush_call())
            self._sync_in(w, self._flush_awards())
            w.depth -= 1
        elif table.has_absence or table.inactivity:
            w("if st.pending or st.spell is not None:")
            w(f"    {self._flush_call()}")
        if table.has_absence and not (self._local and not table.inactivity):
            w(f"if at != {self._s('clock')} and {self._s('recent')}:")
            w(f"    {self._s('recent')} = ()")
            w("if st.pending and ev.event in ANSWERS:")
            w("    answer_fast(st, ev)")
        if table.inactivity:
            w("if is_activity(ev.event):")
            w("    start_spell(st, at)")
        w(f"{self._s('clock')} = at")
        self._write_dispatch(w, exit_)
        if table.has_absence:
            if self._local:
                # `recent` is read only for the events that answer an absence (`_expect`
                # looks for an answer at this very time): the batch loop keeps only those
                w("if ev_event in ANSWERS:")
                w.depth += 1
            recent = self._s("recent")
            name = "ev_event" if self._local else "ev.event"
            w(f"if {recent}:")
            w(f"    {recent}.append(({name}, ev.target))")
            w("else:")
            w(f"    {recent} = [({name}, ev.target)]")
            if self._local:
                w.depth -= 1
            w(f"{self._s('order')} += 1")

    def _flush_awards(self) -> bool:
        """Whether a flush may give positive points to a slot of `_bounds` (a reset there
        only lowers a total: the bound stays one)."""
        table = self.table
        return bool(table.inactivity) or any(
            rule.kind == ABSENCE and rule.slot in self._bounds and not rule.points <= 0
            for rule in table.rules)

    def _flush_call(self) -> str:
        if self._flushes:
            return "flush_absence(st, at, False, out)"
        return "flush(st, at, False, None, out)"

    def _write_flush(self, w: _Writer) -> None:
        """`Engine._flush` for a table with absence rules and no inactivity rule (tracer
        None): the absence awards due before `until` (or at it, when inclusive), one point
        per due time; each rule's cap and award written out, as after an event."""
        w("def flush_absence(st, until, inclusive, out):")
        w.depth += 1
        w("pending = st.pending")
        w("sums = st.sums")
        w("while pending:")
        w.depth += 1
        w("at = pending[0][0]")
        w("if at > until or (at == until and not inclusive):")
        w("    return")
        self._write_absence_awards(w)
        w("clock = st.clock")
        w("if clock is None or at > clock:")
        w("    st.clock = at")
        w("    st.recent = ()")
        w("point(st, at, out, 'absence')")
        w.depth -= 2

    def _write_local_flush(self, w: _Writer) -> None:
        """`flush_absence(st, at, False, out)` written out in the contact-by-contact loop,
        on its locals (no state fields copied out and back, no call per due time): the
        absences due before the event, one point per due time, `at` that time meanwhile."""
        clock, recent = self._s("clock"), self._s("recent")
        w("ev_at = at")
        w("while pending:")
        w.depth += 1
        w("at = pending[0][0]")
        w("if at >= ev_at:")
        w("    break")
        self._write_absence_awards(w)
        w(f"if {clock} is None or at > {clock}:")
        w(f"    {clock} = at")
        w(f"    {recent} = ()")
        self._write_point_call(w, "'absence'")
        w.depth -= 1
        w("at = ev_at")

    def _write_step(self, w: _Writer) -> None:
        w("def step(st, ev, out, horizon=None):")
        w.depth += 1
        w("at = ev.at")
        w("codes = CACHE")
        self._write_prologue(w, "return", False)
        w.depth -= 1

    def _write_batch(self, w: _Writer) -> None:
        """The batch loop: every event of an input in time order per contact; returns the
        latest time. Events after `until` do not exist, but their contacts do."""
        w("def batch(events, states, profiles, until, out):")
        w.depth += 1
        w("get = states.get")
        w("codes = CACHE")
        w(f"latest = {literal(_BEFORE)}")
        w("if until is None:")
        w(f"    until = {literal(_AFTER)}")
        w("for ev in events:")
        w.depth += 1
        w("at = ev.at")
        w("if at > latest:")
        w("    latest = at")
        w("st = get(ev.contact)")
        w("if st is None:")
        w("    st = states[ev.contact] = new_contact(ev.contact, profiles.get(ev.contact))")
        w("if at > until:")
        w("    continue")
        self._write_prologue(w, "continue", True)
        w.depth -= 1
        w(f"return None if latest == {literal(_BEFORE)} else latest")
        w.depth -= 1

    def _write_groups(self, w: _Writer) -> None:
        """`batch` for events already grouped by contact (a dict: contact -> its events in
        input order, `Engine.run` on a list): one contact at a time, with the state fields
        every event touches in locals (`_HOT`), written back to the state when the contact's
        events are done and around every call that reads or changes the state. Returns the
        latest time, as `batch`.

        `kept` (a dict, for the blocks of a `ContactBlocks` stream, whose later blocks may
        hold more events of the same contacts; None for a list): what a contact's next
        block needs beyond its state, see `_write_kept`."""
        self._local = True
        try:
            w("def groups(groups, states, profiles, until, out, kept=None):")
            w.depth += 1
            w("get = states.get")
            w("codes = CACHE")
            w(f"latest = {literal(_BEFORE)}")
            w("if until is None:")
            w(f"    until = {literal(_AFTER)}")
            w("for key, events in groups.items():")
            w.depth += 1
            w("st = get(key)")
            w("if st is None:")
            w("    st = states[key] = new_contact(key, profiles.get(key))")
            self._sync_in(w, awarded=False)
            self._write_bounds_in(w)
            if "seen" in self._hot:
                w("if c_seen is None:")
                w("    c_seen = set()")
                w("elif type(c_seen) is str:")  # kept by the contact's last block
                w(f"    c_seen = set(c_seen.split({literal(ID_SEPARATOR)})[1:-1])")
                # a set stays a set: the prologue's test of its type, once per contact
                w("seen_set = type(c_seen) is set")
            w("scored = st.scored")  # batch never changes a profile
            self._write_fixed(w)
            if self._settled:
                self._write_settled(w)
            w("for ev in events:")
            w.depth += 1
            w("at = ev.at")
            w("if at > until:")
            w("    if at > latest:")
            w("        latest = at")
            w("    continue")
            self._write_prologue(w, "continue", True)
            w.depth -= 1
            self._sync_out(w)
            self._write_kept(w)
            # The events at or before `until` came in time order (else Unordered), those
            # after it were counted above: the last event's time is the latest of the rest.
            w("if at > latest:")
            w("    latest = at")
            w.depth -= 1
            w(f"return None if latest == {literal(_BEFORE)} else latest")
            w.depth -= 1
        finally:
            self._local = False
            self._fixed_written = False

    def _write_bounds_in(self, w: _Writer) -> None:
        """A contact's `c_hi` bounds (see `_bounded_slots`) at the start of its events in
        `groups`: those its last block left in `kept` (still exact: nothing touched the
        state since), else from its awards (a sum over the decay heap: at 2M B2B events in
        blocks of 262,144, 5.8 times as many contacts' starts as contacts)."""
        if not self._bounds:
            return
        names = ", ".join(f"c_hi{slot}" for slot in self._bounds)
        w("bounds = None if kept is None else kept.get(key)")
        w("if bounds is not None:")
        w(f"    {names} = bounds")
        w("else:")
        for slot in self._bounds:
            w(f"    c_hi{slot} = positive_total(awards[{slot}]) if awards[{slot}][1] else 0")

    def _write_kept(self, w: _Writer) -> None:
        """The end of a contact's events in `groups`. For a list, every event of the contact
        has been read (a pass's states are its own, see Engine._batch_paused): its ids are
        not needed again, and a set per contact would hold far more memory than the events'
        own strings. For a block (`kept`), its next block needs them: joined into one text
        as `runtime.steps` writes short ones ("\\0id\\0id\\0", ~10 bytes an id where the set
        and its strings take ~100, so memory stays bounded by contacts as in the one-shot
        batch loop), split into a set again there (an event reads a set faster: profiled at
        2M B2B events in blocks, the ids took 4.7 s as the text and `IdTexts` the
        prologue's other branch keeps, 1.3 s as sets joined and split); ids holding the
        separator keep the set (the text would not give them back). And its `c_hi` bounds
        (`_write_bounds_in`)."""
        sep = literal(ID_SEPARATOR)
        w("if kept is None:")
        w("    st.seen = None")
        w("else:")
        w.depth += 1
        if "seen" in self._hot:
            w("if c_seen:")
            w(f"    text = {sep} + {sep}.join(c_seen) + {sep}")
            w(f"    st.seen = text if text.count({sep}) == len(c_seen) + 1 else c_seen")
            w("else:")
            w("    st.seen = None")
        if self._bounds:
            w(f"kept[key] = {', '.join(f'c_hi{slot}' for slot in self._bounds)}")
        else:
            w("pass")
        w.depth -= 1
