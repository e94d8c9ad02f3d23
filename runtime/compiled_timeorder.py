"""The time-order batch loop written out whole for one table, state in flat lists.

`Engine.run` on a list reads the events in the order given (`Program.batch`) where a
contact's state is small: no decay or expiry, no absence, no inactivity, and no event ids.
For such a table (and no action log) this module writes that loop once more as one Python
function with a contact's state in one list indexed by constants, in the shape of a hand
written loop: the matching rules of each dispatch code inline as straight-line code, caps as
integer compares on list items, the point only where something it reads changed (an award
in this event, or the contact's first point), a contact set up by one list allocation, and
the results written from the lists (`results`); where the results need the engine's general
path (groups, matrix grades, an accounts rollup) the lists become the `_Contact`s the other
loops leave (`to_contacts`).

The list of one contact (`sums` in the source; n = number of slots):
    [0, n)      the slots' sums (what `Program._write_values` reads as `sums[slot]`)
    CLOCK, SEQ  the latest event's time (`_BEFORE` before the first) and seq
    BASE + i    the profile's awards per slot (`_Contact.base`)
    then, where the table uses them: FIRED, WAS_TRUE, STAGE, DIRTY (stages or resets only:
    without them every point leaves dirty False), SCORED (`require`), PROFILE (conditions
    or `where` read it), ACTIONS (None or the list), and per capped rule its count, or its
    period key and count.

`build(program)` returns None for any other table. `Fallback` (an event with an id, or a
rule list without inline code) asks the caller to run `Program.batch` instead, from fresh
states; `Unordered` is raised as `Program.batch` raises it.

The same loop is written a second time, on first use, for rows instead of events
(`TimeOrder.run_rows`): each event a tuple `ROW` (contact, event, at, target, id, props),
unpacked by the `for` rather than read attribute by attribute, as `score run` reads a file
in order (`runtime.io.read_row_chunks`). Rows carry no `seq`: in file order each event's
seq is above every earlier one's, so the (at, seq) order is the order of `at`, a tie in
order; the states keep no seq then (`_Contact.seq` None), which only a loop reading more
events would compare. Table values enter the source
only through `codegen.literal`; tests/test_compiled.py holds the results equal to the other
loops and to the reference interpreter.
"""
from __future__ import annotations

from itertools import chain

from .codegen import Refs, condition, literal
from .compiled_writers import (_Writer, write_clamps_and_grades, write_period,
                               write_stages_and_triggers, write_tree)
from .table import BY, EVENT

_BEFORE, _AFTER = -(1 << 80), 1 << 80
_CACHE_LIMIT = 65536


class Fallback(Exception):
    """This input needs `Program.batch` (an event id, or a rule list met without inline
    code): nothing of the states written so far is to be kept."""


def eligible(table) -> bool:
    return (not table.timed and not table.has_absence and not table.inactivity
            and all(rule.kind in (EVENT, BY) for rule in table.rules))


# A row of `run_rows`: an accepted event in file order, `at` in microseconds, `target` and
# `id` None when absent, `props` a dict, or None for none (the same as {})
ROW = ("contact", "event", "at", "target", "id", "props")


def build(program):
    """The function `run(events, states, profiles, until)` -> latest time, for the program's
    table, or None where the table is not `eligible`."""
    table = program.table
    if not eligible(table):
        return None
    writer = _Loop(program)
    source = writer.source()
    namespace = program.namespace
    namespace["Fallback"] = Fallback
    namespace["EMPTY"] = {}  # a missing profile: read with .get only, never changed
    namespace.update(chain=chain, iter=iter, sorted=sorted, KeyError=KeyError)
    # the dispatch codes by event type: the code itself where the type's rules do not look
    # at the target (the loop's one lookup is then on the name alone), else a dict by
    # target. No (event, target) tuple a row: building and hashing it, then comparing it
    # with the cached key's strings, cost leadbench 2M 0.15-0.25 CPU s of 2.1
    cache: dict = {}
    cached = [0]
    targets_matter = table.targets_matter

    def code(event, target):
        """Program._code_for, kept in `cache` (bounded as its own, by entries)."""
        found = program._code_for(event, target)
        if cached[0] >= _CACHE_LIMIT:
            cache.clear()
            cached[0] = 0
        cached[0] += 1
        if targets_matter(event):
            by_target = cache.get(event)
            if type(by_target) is not dict:
                by_target = cache[event] = {}
            by_target[target] = found
        else:
            cache[event] = found
        return found

    namespace["TCACHE"], namespace["tcode"] = cache, code
    exec(compile(source, f"<scorelang time order {table.sha256 or ''}>", "exec"), namespace)
    return TimeOrder(namespace, source, writer)


class TimeOrder:
    """The written functions: `run(events, states, profiles, until)` -> latest time (the
    states as lists), `to_contacts(states, profiles)` (lists -> `_Contact`, in place), and
    `results(states, profiles, until)` (the results from the lists; None where the table
    has groups or matrix grades: then the states go through `to_contacts`); and
    `run_rows(rows, states, profiles, until)`, `run` over rows (`ROW`), written on first
    use (`rows_source` its source then)."""

    def __init__(self, namespace: dict, source: str, writer: "_Loop"):
        self.source = source
        self.run = namespace["timeorder"]
        self.to_contacts = namespace["to_contacts"]
        self.results = namespace["results"] if writer.results else None
        self.rows_source = None
        self._namespace, self._writer, self._rows = namespace, writer, None

    @property
    def run_rows(self):
        if self._rows is None:
            self.rows_source = source = self._writer.rows_source()
            table = self._writer.table
            exec(compile(source, f"<scorelang time order rows {table.sha256 or ''}>", "exec"),
                 self._namespace)
            self._rows = self._namespace["timeorder_rows"]
        return self._rows


class _Loop:
    def __init__(self, program):
        self.program = program
        self.table = table = program.table
        self.writer = _Writer
        n = len(table.slot_names)
        self.n = n
        self.clock, self.seq = n, n + 1
        self.base = n + 2
        index = n + 2 + n
        self.fields: dict[str, int] = {}
        once_triggers = [t for t in table.triggers if not t[2]]
        wanted = []
        if table.triggers:
            wanted.append("fired")
        if any(t[2] for t in table.triggers):
            wanted.append("was_true")
        if table.stages:
            wanted.append("stage")
        self.resets = any(score is not None for t in table.triggers for _, _, score in t[1])
        if table.stages or self.resets:
            wanted.append("dirty")
        if table.raw["require"] is not None and table.raw["require"] is not True:
            wanted.append("scored")
        self.where = any(rule.where is not None for rule in table.rules)
        if self.where or program._reads_profile():
            wanted.append("profile")
        if table.triggers:
            wanted.append("actions")
        for name in wanted:
            self.fields[name] = index
            index += 1
        self.caps: dict[int, int] = {}  # rule index -> its count (or period key, then count)
        for rule in table.rules:
            if rule.cap is not None:
                self.caps[rule.index] = index
                index += 1 if rule.per is None else 2
        self.size = index
        self.once = sum(1 << j for j, t in enumerate(table.triggers) if not t[2])
        self.once_count = len(once_triggers)
        # the point can change nothing: no stages and no triggers
        self.pointless = not table.stages and not table.triggers
        self.results = not table.groups and not table.has_matrix
        self.ordered = False
        self.rows = False  # writing the loop over rows (`ROW`), not events

    def f(self, name: str) -> str:
        return f"sums[{self.fields[name]}]"

    # ------------------------------------------------------------------ source

    def source(self) -> str:
        """`timeorder` (see `_loop`), `to_contacts` and `results`."""
        w = self.writer()
        self._loop(w, rows=False)
        self._convert(w)
        if self.results:
            self._results(w)
        return w.text()

    def rows_source(self) -> str:
        """`timeorder_rows`: `timeorder` over rows (`ROW`)."""
        w = self.writer()
        self._loop(w, rows=True)
        return w.text()

    def _loop(self, w, rows: bool) -> None:
        """Two loops over one iterator: the first while the whole input is in (at, seq)
        order and at or before `until` (then each contact's order holds without looking at
        its clock, and the latest time is the last one), the second, with the order checked
        per contact, from the first event that is not (as `Program.batch` reads it). Over
        rows (`rows`) the `for` unpacks each, and seq is left out (see the module's
        docstring): (at, seq) order is `at` order."""
        self.rows = rows
        unpack = "key, ename, at, etarget, eid, eprops"
        w("def timeorder_rows(rows, states, profiles, until):" if rows else
          "def timeorder(events, states, profiles, until):")
        w.depth += 1
        w("get = states.get")
        w("codes = TCACHE")
        w("pget = profiles.get")
        w(f"bound = {literal(_AFTER)} if until is None else until")
        w(f"prev = {literal(_BEFORE)}")
        if not rows:
            w("pseq = None")
        w("rest = None")
        w("it = iter(rows)" if rows else "it = iter(events)")
        for bounded in (False, True):
            w("if until is None:" if not bounded else "else:")
            w.depth += 1
            late = " or at > until" if bounded else ""
            if rows:
                w(f"for {unpack} in it:")
                w.depth += 1
                w(f"if at < prev{late}:")
                w(f"    rest = ({unpack})")
                w("    break")
                w("prev = at")
            else:
                w("for ev in it:")
                w.depth += 1
                w("at = ev.at")
                w("seq = ev.seq")
                w(f"if (at <= prev and (at < prev or seq < pseq)){late}:")
                w("    rest = ev")
                w("    break")
                w("prev = at")
                w("pseq = seq")
            self._body(w, ordered=True)
            w.depth -= 2
        w("latest = prev")
        w("if rest is not None:")
        w.depth += 1
        if rows:
            w(f"for {unpack} in chain((rest,), it):")
            w.depth += 1
        else:
            w("for ev in chain((rest,), it):")
            w.depth += 1
            w("at = ev.at")
        w("if at > latest:")
        w("    latest = at")
        if not rows:
            w("key = ev.contact")
        w("sums = get(key)")
        w("if sums is None:")
        w.depth += 1
        self._new_state(w)
        w.depth -= 1
        w("if at > bound:")
        w("    continue")
        w(f"last = sums[{self.clock}]")
        if rows:
            w("if at < last:")
        else:
            w(f"if at <= last and (at < last or ev.seq < sums[{self.seq}]):")
        w("    raise Unordered(key)")
        if not rows:
            w("seq = ev.seq")
        self._body(w, ordered=False)
        w.depth -= 2
        w(f"return None if latest == {literal(_BEFORE)} else latest")
        w.depth -= 1
        self.rows = False

    def _ev(self, field: str) -> str:
        """An event field in the loop being written: `ev.<field>`, or its local over rows."""
        return {"event": "ename", "target": "etarget", "id": "eid", "props": "eprops"
                }[field] if self.rows else f"ev.{field}"

    def _body(self, w, ordered: bool) -> None:
        """An event whose order is known to be right: ids, clock, dispatch, rules, point.
        `ordered` (the first loop): the contact is looked up here, and whether this is its
        first point is a local (`first`), else `last` holds the clock before the event."""
        self.ordered = ordered
        w(f"if {self._ev('id')} is not None:")
        w("    raise Fallback")
        if ordered:
            if not self.rows:
                w("key = ev.contact")
            if self._needs_first():
                w("first = False")
            w("sums = get(key)")
            w("if sums is None:")
            w.depth += 1
            self._new_state(w)
            if self._needs_first():
                w("first = True")
            w.depth -= 1
        w(f"sums[{self.clock}] = at")
        if not self.rows:
            w(f"sums[{self.seq}] = seq")
        if "scored" in self.fields:
            w(f"if not {self.f('scored')}:")
            w("    continue")
        event, target = self._ev("event"), self._ev("target")
        w("try:")  # a miss is rare (once per event type and target): no test per event
        w(f"    code = codes[{event}]")
        w("    if type(code) is dict:")  # this type's rules look at the target
        w(f"        code = code[{target}]")
        # a target neither text nor None (not a reader's) is hashed as before, by the
        # cache: an unhashable one raises TypeError, which the engine names
        w(f"    elif type({target}) is not str and {target} is not None:")
        w(f"        code = tcode({event}, {target})")
        w("except KeyError:")
        w(f"    code = tcode({event}, {target})")
        # codes past the inline ones (a handler's rule list) reach the last leaf
        self._tree(w, 0, len(self.program._inline) + 1)

    def _needs_first(self) -> bool:
        return not self.pointless and "dirty" not in self.fields

    def _new_state(self, w, store: bool = True) -> None:
        """A contact met for the first time: its profile awards, then one list (in
        `states` unless `store` is false)."""
        table = self.table
        reads_profile = (table.profile or "scored" in self.fields or "profile" in self.fields)
        if reads_profile:
            w("profile = pget(key)")
            w("if profile is None:")
            w("    profile = EMPTY")
        refs = Refs(value=_no_values, grade=_no_values, globs=self.program._glob_name)
        n = self.n
        for i in range(n):
            w(f"b{i} = 0")
        for _, points, slot, raw in table.profile:
            w(f"if {condition(raw['condition'], refs)}:")
            w(f"    b{slot} += {literal(points)}")
        items = [f"b{i}" for i in range(n)] + [literal(_BEFORE), "None"] + \
            [f"b{i}" for i in range(n)]
        for name in self.fields:
            if name == "stage":
                items.append("-1")
            elif name == "dirty":
                items.append("True")
            elif name == "scored":
                require = table.raw["require"]
                items.append(condition(require, refs))
            elif name == "profile":
                items.append("profile")
            elif name == "actions":
                items.append("None")
            else:
                items.append("0")
        for rule in table.rules:
            if rule.cap is not None:
                items.extend(["0"] if rule.per is None else ["None", "0"])
        assert len(items) == self.size
        w(f"sums = {'states[key] = ' if store else ''}[{', '.join(items)}]")

    def _tree(self, w, low: int, high: int) -> None:
        write_tree(w, low, high, self._leaf)

    def _leaf(self, w, code: int) -> None:
        if code == len(self.program._inline):
            w("raise Fallback")
            return
        before = len(w.lines)
        self._rules(w, [self.table.rules[i] for i in self.program._inline[code]])
        if len(w.lines) == before:  # no rule and nothing a point could change
            w("pass")

    def _rules(self, w, rules) -> None:
        """The awards of one rule list, then the event's point, which runs where the
        generic loop's `dirty` would be true: after an award for certain (`always`), or
        where a guarded award (a `where`, a cap, a `by` property) set `changed`."""
        table = self.table
        if any(rule.where is not None for rule in rules):
            props = self._ev("props")
            w(f"props = {props} if {props} is not None else {{}}")
            w(f"profile = {self.f('profile')}")
        refs = Refs(value=_no_values, grade=_no_values, globs=self.program._glob_name)
        raw_rules = table.raw["rules"]
        guarded = [rule.where is not None or rule.kind == BY or rule.cap is not None
                   for rule in rules]
        always = not all(guarded)
        if any(guarded) and not always and not self.pointless:
            w("changed = False")
        for rule, guard in zip(rules, guarded):
            depth = w.depth
            if rule.where is not None:
                w(f"if {condition(raw_rules[rule.index]['where'], refs)}:")
                w.depth += 1
            points = literal(rule.points)
            if rule.kind == BY:
                w(f"points = RULES[{rule.index}].points_of({self._ev('props')})")
                w("if points is not None:")
                w.depth += 1
                points = "points"
            if rule.cap is not None:
                self._cap(w, rule)
            w(f"sums[{rule.slot}] += {points}")
            if guard and not always and not self.pointless:
                w("changed = True")
            w.depth = depth
        self._point(w, "True" if always else ("changed" if any(guarded) else "False"))

    def _cap(self, w, rule) -> None:
        index, cap = self.caps[rule.index], literal(rule.cap)
        if rule.per is None:
            w(f"if sums[{index}] < {cap}:")
            w(f"    sums[{index}] += 1")
        else:
            write_period(w, "period", rule.per, self.table.calendar.is_utc)
            w(f"if sums[{index}] != period:")  # periods only move forward
            w(f"    sums[{index}] = period")
            w(f"    sums[{index + 1}] = 0")
            w(f"if sums[{index + 1}] < {cap}:")
            w(f"    sums[{index + 1}] += 1")
        w.depth += 1

    # ------------------------------------------------------------------ the point

    def _point(self, w, changed: str) -> None:
        """The event's point (Program._point_body's meaning on the list): run where
        something changed since the last point and the contact is not done."""
        if self.pointless:
            return
        if "dirty" in self.fields:
            dirty = self.f("dirty")
            test = dirty if changed == "False" else (
                "True" if changed == "True" else f"({changed} or {dirty})")
        else:
            # without stages and resets every point leaves dirty False: it is True only
            # before the contact's first point (`last` is the clock before this event)
            first = "first" if self.ordered else f"last == {literal(_BEFORE)}"
            test = first if changed == "False" else (
                "True" if changed == "True" else f"({changed} or {first})")
        done = self._done()
        parts = [p for p in (f"not ({done})" if done else None,
                             None if test == "True" else test) if p]
        depth = w.depth
        if parts:
            w(f"if {' and '.join(parts)}:")
            w.depth += 1
        body = self._point_body()
        w.block(body)
        if parts and "dirty" in self.fields:
            w.depth = depth
            w("else:")
            w(f"    {self.f('dirty')} = False")
        w.depth = depth

    def _done(self) -> str | None:
        """As Program._done; None where the triggers' own bit tests say as much (one once
        trigger, no stages)."""
        table = self.table
        if any(t[2] for t in table.triggers):
            return None
        if not table.stages and self.once_count <= 1:
            return None
        done = [f"{self.f('fired')} == {self.once}"] if self.once else []
        if table.stages:
            done.append(f"{self.f('stage')} == {len(table.stages) - 1}")
        return " and ".join(done) or None

    def _point_body(self) -> list[str]:
        program, table = self.program, self.table
        w = self.writer()
        if "profile" in self.fields and program._reads_profile():
            w(f"profile = {self.f('profile')}")
        values = program._write_values(w, program._lifecycle_refs())
        refs = program._refs(values)
        moved, resets = write_stages_and_triggers(w, table, refs, self.f, self._fire)
        for flag, slots in resets:
            w(f"if {flag}:")
            for slot in slots:
                w(f"    sums[{slot}] = sums[{self.base + slot}]")
        if "dirty" in self.fields:
            flags = " or ".join([flag for flag, _ in resets] + [moved])
            w(f"{self.f('dirty')} = {flags}")
        return w.lines

    def _fire(self, w, index: int, actions: tuple, resets: list) -> None:
        acts = self.f("actions")
        w("stamp = format_time(at)")
        w(f"if {acts} is None:")
        w(f"    {acts} = []")
        slots: list[int] = []
        for kind, arg, score in actions:
            w(f"{acts}.append({{'at': stamp, 'action': {literal(kind)}, "
              f"'arg': {literal(arg)}}})")
            if score is not None:
                slots.extend(s for s in self.table.reset_slots[score] if s not in slots)
        if slots:
            flag = f"reset{index}"
            w(f"{flag} = True")
            resets.append((flag, slots))

    # ------------------------------------------------------------------ the states

    def _convert(self, w) -> None:
        """`to_contacts(states, profiles)`: each list into the `_Contact` the other loops
        would have left."""
        table = self.table
        n = self.n
        w("def to_contacts(states, profiles):")
        w.depth += 1
        w("pget = profiles.get")
        w("for key, sums in states.items():")
        w.depth += 1
        w("profile = pget(key)")
        w("st = states[key] = Contact(key, profile if profile is not None else {})")
        if "scored" in self.fields:
            w(f"st.scored = scored = {self.f('scored')}")
        else:
            w("scored = True")
        bases = ", ".join(f"sums[{self.base + i}]" for i in range(n))
        w(f"st.base = ({bases},)")
        w(f"st.sums = sums[:{n}]")
        w(f"st.awards = [None] * {n}")
        w(f"clock = sums[{self.clock}]")
        w(f"if clock != {literal(_BEFORE)}:")
        w("    st.clock = clock")
        w(f"    st.seq = sums[{self.seq}]")
        w("    if scored:")
        w("        st.point = clock")
        if "dirty" in self.fields:
            w("        st.dirty = " + self.f("dirty"))
        else:
            w("        st.dirty = False")
        if "fired" in self.fields:
            w(f"st.fired = {self.f('fired')}")
        if "was_true" in self.fields:
            w(f"st.was_true = {self.f('was_true')}")
        if "stage" in self.fields:
            w(f"st.stage = {self.f('stage')}")
        if "actions" in self.fields:
            w(f"if {self.f('actions')} is not None:")
            w(f"    st.actions = {self.f('actions')}")
        caps = []
        for rule in table.rules:
            if rule.cap is None:
                continue
            index = self.caps[rule.index]
            if rule.per is None:
                caps.append((rule.index, f"sums[{index}]", f"sums[{index}]"))
            else:
                caps.append((rule.index, f"sums[{index}] is not None",
                             f"[sums[{index}], sums[{index + 1}]]"))
        if caps:
            # the caps as `_Contact.caps` holds them (a dict once a capped rule matched)
            w("caps = {}")
            for rule_index, present, value in caps:
                w(f"if {present}:")
                w(f"    caps[{rule_index}] = {value}")
            w("if caps:")
            w("    st.caps = caps")
        w.depth -= 2

    def _results(self, w) -> None:
        """`results(states, profiles, until)`: `Engine._results` on the lists (a table
        without groups or matrix grades, as `Program.result`): sorted by contact, a contact
        with a profile and no event too; the as-of point at `until`, then the section-7
        result with the scores clamped and the grades read from them."""
        table = self.table
        names = table.score_names
        w("def results(states, profiles, until):")
        w.depth += 1
        w("pop = states.pop")
        w("pget = profiles.get")
        w("for key in sorted(states.keys() | profiles.keys()):")
        w.depth += 1
        w("sums = pop(key, None)")
        w("if sums is None:")
        w.depth += 1
        self._new_state(w, store=False)
        w.depth -= 1
        if "scored" in self.fields:
            nulls = ", ".join(f"{literal(name)}: None" for name in names)
            w(f"if not {self.f('scored')}:")
            w(f"    yield {{'contact': key, 'scores': {{{nulls}}}, 'grades': {{}}, "
              "'stage': None, 'actions': []}")
            w("    continue")
        if not self.pointless:
            w("if until is not None:")
            w.depth += 1
            w("at = until")
            w(f"last = sums[{self.clock}]")
            self.ordered = False
            before = len(w.lines)
            self._point(w, "False")
            if len(w.lines) == before:
                w("pass")
            w.depth -= 1
        for i in range(len(names)):
            w(f"v{i} = sums[{i}]")
        scores = write_clamps_and_grades(w, table)
        if table.stages:
            labels = "(" + "".join(f"{literal(stage[0])}, " for stage in table.stages) + ")"
            w(f"stage = {self.f('stage')}")
            stage = f"{labels}[stage] if stage >= 0 else None"
        else:
            stage = "None"
        actions = f"list({self.f('actions')} or ())" if "actions" in self.fields else "[]"
        w(f"yield {{'contact': key, 'scores': {{{', '.join(scores)}}}, 'grades': grades, "
          f"'stage': {stage}, 'actions': {actions}}}")
        w.depth -= 2


def _no_values(*_):
    raise ValueError("a profile or `where` condition reads only the profile and the event")
