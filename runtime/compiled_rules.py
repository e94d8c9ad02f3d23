"""`Program`'s writers from an event to its rules (runtime/compiled.py): a mixin, and the
dispatch cache.

Rules are dispatched on (event type, target) to a code per distinct list of matching rules:
the lists the table tells are written inline in the loops as a tree of compares, others get a
function (a handler) on first sight; `_Codes` and `_Targets` cache the codes, bounded. Each
rule's award is written out with its cap, `where` and decay (`_write_rules`), the absences
due likewise (`_write_absence_awards`). Apart from the loops and the point because it is
what a rule means, whichever loop runs it.

The mixin reads `Program`'s attributes: `table`, `namespace`, `handlers`, `cache`,
`_cached`, `_codes`, `_inline`, `_local`, `_hot`, `_bounds`, and its shared pieces (`_s`,
`_awards`, `_sync_in`, `_sync_out`, `_quiet_off`, `_glob_name`); a rule list ends with the
point's `_write_point_call`.
"""
from __future__ import annotations

from .codegen import Refs, condition, literal
from .compiled_writers import _no_values, _Writer, write_period, write_tree
from .table import ABSENCE, BY, EVENT

_CACHE_LIMIT = 65536
_INLINE_LIMIT = 64  # rule lists dispatched inline in the event loop


class _RuleWriter:
    """The writers from an event to its rules, mixed into `Program`."""

    # ---------------------------------------------------------------- dispatch

    def _known_rule_lists(self) -> tuple[list[tuple], bool]:
        """The lists of rule indices an event can match, as far as the table tells them
        (exact targets, `any`, up to three patterns of one event type in every combination):
        these are dispatched inline. Others get a function on first sight. And whether the
        inline lists are every list an event can match (then no event needs a function)."""
        table = self.table
        complete = all(len(index["glob"]) <= 3 for index in table.raw["dispatch"].values())
        found: dict[tuple, None] = {(): None}
        for event in sorted(table.raw["dispatch"]):
            index = table.raw["dispatch"][event]
            chosen, globs = set(index["any"]), index["glob"]
            subsets = [()]
            if len(globs) <= 3:
                subsets = [tuple(g for k, g in enumerate(globs) if mask >> k & 1)
                           for mask in range(1 << len(globs))]
            for subset in subsets:
                found[tuple(sorted(chosen | set(subset)))] = None
            for target in sorted(index["exact"]):
                matched = {i for i in globs if table.rules[i].matches(target)}
                found[tuple(sorted(chosen | set(index["exact"][target]) | matched))] = None
        return list(found)[:_INLINE_LIMIT], complete and len(found) <= _INLINE_LIMIT

    def _write_dispatch(self, w: _Writer, exit_: str) -> None:
        """`code` -> the rules' code inline (a binary tree of compares), else a call."""
        # one subscript per level: a miss fills the cache (`_Codes`, `_Targets`)
        w(f"code = codes[{'ev_event' if self._local else 'ev.event'}][ev.target]")
        count = len(self._inline)
        w(f"if code < {count}:")
        w.depth += 1
        self._write_tree(w, 0, count)
        # one point after every inline rule list (a handler ends with its own): the point
        # is written once, not once per list (B2B: a function a tenth as long, compiled in
        # a tenth of the time, at every engine's first run)
        self._write_point_call(w)
        w.depth -= 1
        w("else:")
        w.depth += 1
        self._sync_out(w)
        w(f"HANDLERS[code - {count}](st, ev, at, out)")  # handlers follow the inline codes
        self._sync_in(w)
        w.depth -= 1

    def _write_tree(self, w: _Writer, low: int, high: int) -> None:
        write_tree(w, low, high, lambda w, code: self._write_rules(
            w, [self.table.rules[i] for i in self._inline[code]], point=False))

    def _code_for(self, event: str, target) -> int:
        """The dispatch code of an event of this type and target (cached): the position of
        its rule list among the inline ones, else of a function written now."""
        key = tuple(rule.index for rule in self.table.rules_for(event, target))
        code = self._codes.get(key)
        if code is None:
            code = self._codes[key] = len(self._inline) + len(self.handlers)
            self.handlers.append(self._compile_handler([self.table.rules[i] for i in key]))
        if self._cached >= _CACHE_LIMIT:
            self.cache.clear()  # bound memory under unbounded target vocabularies
            self._cached = 0
        self.cache[event][target] = code
        self._cached += 1
        return code

    def _compile_handler(self, rules) -> object:
        w = _Writer()
        name = f"handler{len(self.handlers)}"
        w(f"def {name}(st, ev, at, out):")
        w.depth += 1
        self._write_rules(w, rules)
        source = w.text()
        exec(compile(source, f"<scorelang rules {[r.index for r in rules]}>", "exec"),
             self.namespace)
        handler = self.namespace[name]
        handler.source = source
        return handler

    # ---------------------------------------------------------------- awards

    def _write_rules(self, w: _Writer, rules, point: bool = True) -> None:
        """The awards of the matching rules, then (`point`) the event's point."""
        table = self.table
        written = len(w.lines)
        if any(rule.where is not None for rule in rules):
            w("props = ev.props if ev.props is not None else {}")
            w("profile = st.profile")
        if any(rule.cap is not None for rule in rules):
            w(f"caps = {self._s('caps')}")
            w("if caps is None:")
            w(f"    caps = {self._s('caps')} = {{}}")
        if not self._local and any(rule.kind != ABSENCE and rule.slot not in table.timed
                                   for rule in rules):
            w("sums = st.sums")
        refs = Refs(value=_no_values, grade=_no_values, globs=self._glob_name)
        raw_rules = table.raw["rules"]
        for rule in rules:
            depth = w.depth
            if rule.where is not None:
                w(f"if {condition(raw_rules[rule.index]['where'], refs)}:")
                w.depth += 1
            if rule.kind == ABSENCE and self._local and rule.answered_by is None:
                # Engine._expect written out: pending unless a B on the same target came
                # before at this very time (`recent` holds only this time's B events)
                w("if not (c_recent and (" + literal(rule.missing) +
                  ", ev.target) in c_recent):")
                w(f"    item = (at + {literal(rule.within)}, at, c_order, {rule.index}, "
                  "ev.target)")
                w("    if st.pending:")
                w("        insort(st.pending, item)")
                w("    else:")
                w("        st.pending = [item]")
                w.depth = depth
                continue
            if rule.kind == ABSENCE:
                if self._local and "order" in self._hot:
                    w("st.order, st.recent = c_order, c_recent")  # what _expect reads
                w(f"expect(st, RULES[{rule.index}], ev)")
                w.depth = depth
                continue
            points = literal(rule.points) if rule.kind == EVENT else "points"
            if rule.kind == BY:
                w(f"points = RULES[{rule.index}].points_of(ev.props)")
                w("if points is not None:")
                w.depth += 1
            if rule.cap is not None:
                self._write_cap(w, rule)
            if rule.slot in table.timed:
                self._write_award(w, rule.slot, points,
                                  rule.points if rule.kind == EVENT else None)
            else:
                w(f"sums[{rule.slot}] += {points}")
                self._quiet_off(w)
            w(f"{self._s('dirty')} = True")
            w.depth = depth
        if point:
            self._write_point_call(w)
        elif len(w.lines) == written:
            w("pass")

    def _write_absence_awards(self, w: _Writer) -> None:
        """The absences of `pending` due at `at` popped and awarded (cap, award, dirty)."""
        table = self.table
        w("while pending and pending[0][0] == at:")
        w.depth += 1
        w("index = pending.pop(0)[3]")
        for k, rule in enumerate(rule for rule in table.rules if rule.kind == ABSENCE):
            w(f"{'if' if k == 0 else 'elif'} index == {rule.index}:")
            w.depth += 1
            depth = w.depth
            if rule.cap is not None:
                w(f"caps = {self._s('caps')}")
                w("if caps is None:")
                w(f"    caps = {self._s('caps')} = {{}}")
                self._write_cap(w, rule)
            if rule.slot in table.timed:
                self._write_award(w, rule.slot, literal(rule.points), rule.points)
            else:
                w(f"sums[{rule.slot}] += {literal(rule.points)}")
                self._quiet_off(w)
            w(f"{self._s('dirty')} = True")
            w.depth = depth - 1
        w.depth -= 1

    def _write_award(self, w: _Writer, slot: int, points: str, value=None) -> None:
        """`add_award` on a timed slot; written out where the score decays and never
        expires (the usual case: one award per matching event, the call was ~5% of a run)."""
        awards = f"{self._awards()}[{slot}]"
        decay, expire = self.table.decays[slot], self.table.expires[slot]
        if self._local and slot in self._bounds:  # see _bounded_slots
            if value is None:
                w(f"if {points} > 0:")
                w(f"    c_hi{slot} += {points}")
                w("    c_quiet = False")
            elif value > 0:
                w(f"c_hi{slot} += {points}")
                w("c_quiet = False")
        else:
            self._quiet_off(w)
        if decay is None or expire is not None:
            w(f"add_award({awards}, at, {points}, DECAYS[{slot}], EXPIRES[{slot}])")
            return
        w(f"award = {awards}")
        w(f"award[0] += {points}")
        w(f"heappush(award[1], (at + {literal(decay.every)}, at, {points}, {points}))")

    def _write_cap(self, w: _Writer, rule) -> None:
        index, cap = rule.index, literal(rule.cap)
        if rule.per is None:
            w(f"used = caps.get({index}, 0)")
            w(f"if used < {cap}:")
            w(f"    caps[{index}] = used + 1")
        else:
            # not `key`: the contact-by-contact loop names the contact so (Unordered(key))
            write_period(w, "period", rule.per, self.table.calendar.is_utc)
            w(f"entry = caps.get({index})")
            w("if entry is None or entry[0] != period:")
            w(f"    entry = caps[{index}] = [period, 0]")  # periods only move forward
            w(f"if entry[1] < {cap}:")
            w("    entry[1] += 1")
        w.depth += 1


class _Codes(dict):
    """`Program.cache`: event type -> its `_Targets`, made on first sight."""
    __slots__ = ("program",)

    def __init__(self, program):
        super().__init__()
        self.program = program

    def __missing__(self, event):
        targets = self[event] = _Targets(self.program, event)
        return targets


class _Targets(dict):
    """target -> dispatch code of one event type; a miss asks `Program._code_for`, which
    stores the code (and may clear the whole cache first, to bound its memory)."""
    __slots__ = ("program", "event")

    def __init__(self, program, event):
        super().__init__()
        self.program, self.event = program, event

    def __missing__(self, target):
        return self.program._code_for(self.event, target)
