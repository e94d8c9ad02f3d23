"""`Program`'s writers of the evaluation point (runtime/compiled.py): a mixin of `Program`.

A point computes the values a stage or trigger reads (raw sums, decayed totals, groups,
scores, grades), moves the stage forward, fires the triggers in file order and resets what
they reset (docs/semantics.md 13-15). Written as the function `point` and inline after an
event. Here too are the shortcuts that let a point do less: what is fixed per contact in a
batch run (`_fixed_values`, `_constant_triggers`), when a contact is done (`_done`), and the
upper bounds of decayed totals that let the contact-by-contact loop skip a point
(`_bounded_slots`). Apart from the loops (compiled_loops) and the rules (compiled_rules),
which call into it: what a point does is the same whichever loop it is written into.

The mixin reads `Program`'s attributes: `table`, `_local`, `_bounds`, `_settled`, `_fixed`,
`_fixed_written`, `_not_due`, `_inline_point`, and its shared pieces (`_s`, `_awards`,
`_sync_in`, `_sync_out`, `_glob_name`, `_constant`).
"""
from __future__ import annotations

from .codegen import Refs, condition, literal, number_kind
from .compiled_writers import _clamp_source, _Writer, write_stages_and_triggers

_INLINE_POINT_LINES = 60  # a longer point is called, not repeated after every rule list


class _PointWriter:
    """The evaluation point's writers, mixed into `Program` (see the module docstring)."""

    # ---------------------------------------------------------------- values, stages, triggers

    def _refs(self, values: dict) -> Refs:
        """Refs over the locals the point computes (`values`: (kind, name) -> local)."""
        table = self.table

        def value(kind, name):
            if kind == "score":
                i = table.score_index[name]
                return values[("score", name)], table.lows[i], table.highs[i]
            group = table.groups[table.group_names.index(name)]
            return values[("group", name)], group[2], group[3]

        return Refs(value=value, grade=lambda name: values[("grade", name)],
                    stage_labels=tuple(stage[0] for stage in table.stages),
                    globs=self._glob_name)

    def _add_grade_sources(self, wanted: set) -> None:
        """Add to `wanted` what its grades read: their scores or groups, and the two grades a
        matrix grade combines (transitively)."""
        table = self.table
        grades = {g[0]: g for g in table.grades}
        stack = [name for kind, name in wanted if kind == "grade"]
        while stack:
            _, source, bands, _ = grades[stack.pop()]
            if source is None:
                for part in bands[:2]:
                    if ("grade", part) not in wanted:
                        wanted.add(("grade", part))
                        stack.append(part)
            else:
                wanted.add(("score" if source in table.score_index else "group", source))

    def _lifecycle_refs(self) -> set:
        """Every score, group and grade a stage or trigger condition reads, and what those
        grades read in turn."""
        from .conditions import references

        table = self.table
        wanted = set()
        for form in [s["condition"] for s in table.raw["stages"]] + \
                [t["condition"] for t in table.raw["triggers"]]:
            for ref in references(form):
                if ref[0] in ("score", "group", "grade"):
                    wanted.add((ref[0], ref[1]))
        self._add_grade_sources(wanted)
        scores_with_groups = {table.score_names[g[1]] for g in table.groups}
        for kind, name in list(wanted):
            if kind == "score" and name in scores_with_groups:
                for group in table.groups:
                    if table.score_names[group[1]] == name:
                        wanted.add(("group", group[0]))
        return wanted

    def _write_values(self, w: _Writer, wanted: set, bound: bool = False) -> dict:
        """Locals for the raw sums of the wanted slots, then group values, score sums and
        grade labels, in the order they depend on each other. `bound`: a slot of
        `_bounds` is its upper bound (`c_hi`), not its decayed total."""
        table = self.table
        values: dict = {}
        if self._local and self._fixed_written:
            for key in wanted & self._fixed:
                kind, name = key
                values[key] = f"s{table.score_index[name]}" if kind == "score" else \
                    f"r{[g[0] for g in table.grades].index(name)}"

        def raw(slot: int) -> str:
            if slot not in table.timed:
                return f"sums[{slot}]"
            if bound:
                return f"sums[{slot}] + c_hi{slot}"
            if self._local and slot in self._bounds and self._not_due:
                return f"sums[{slot}] + awards[{slot}][0]"
            if self._local and slot in self._bounds:
                # a step was crossed: the bound of the contributions as they are now
                w(f"aw = awards[{slot}]")
                w("heap = aw[1]")
                w("if not heap or heap[0][0] > at:")
                w(f"    t{slot} = aw[0]")
                w("else:")
                w(f"    t{slot} = awards_total(aw, at, DECAYS[{slot}], EXPIRES[{slot}])")
                w(f"    c_hi{slot} = positive_total(aw)")
                return f"sums[{slot}] + t{slot}"
            # awards_total's own first test written out: most points come before the next
            # decay step of any award, and then the total is the one kept
            w(f"aw = awards[{slot}]")
            w("heap = aw[1]")
            w(f"t{slot} = aw[0] if not heap or heap[0][0] > at else "
              f"awards_total(aw, at, DECAYS[{slot}], EXPIRES[{slot}])")
            return f"sums[{slot}] + t{slot}"

        for j, (name, score, low, high, slot) in enumerate(table.groups):
            if ("group", name) in wanted:
                local = values[("group", name)] = f"g{j}"
                w(f"{local} = {raw(slot)}")
        for i, name in enumerate(table.score_names):
            if ("score", name) not in wanted or ("score", name) in values:
                continue
            local = values[("score", name)] = f"s{i}"
            parts = [raw(i)]
            for j, (gname, score, low, high, _) in enumerate(table.groups):
                if score == i:  # the group's clamped value is part of its score (10.2)
                    parts.append(_clamp_source(values[("group", gname)], low, high))
            w(f"{local} = {' + '.join(parts)}")
        refs = self._refs(values)
        for j, (name, source, bands, otherwise) in enumerate(table.grades):
            if ("grade", name) not in wanted or ("grade", name) in values:
                continue
            local = f"r{j}"
            if source is None:
                first, second, cells = bands
                a, b = values[("grade", first)], values[("grade", second)]
                if cells is None:
                    label = f"{a} + {b}"
                else:
                    mapping = self._constant("CELLS", "{" + ", ".join(
                        f"{literal(k)}: {literal(v)}" for k, v in cells.items()) + "}")
                    label = f"{mapping}.get({a} + {b}, {literal(otherwise)})"
                w(f"{local} = {label} if {a} is not None and {b} is not None else None")
            else:
                kind = "score" if source in table.score_index else "group"
                chain = ""
                for label, threshold in bands:
                    test = condition([">=", [kind, source], threshold], refs)
                    chain += f"{literal(label)} if {test} else "
                w(f"{local} = {chain}{literal(otherwise)}")
            values[("grade", name)] = local
        return values

    def _point_guard(self) -> str | None:
        """When a point can change anything: something changed since the last point (or an
        award reached a decay step), and the contact is not done. None: never (no stages
        and no triggers, so nothing at a point is observable)."""
        table = self.table
        if not table.stages and not table.triggers:
            return None
        changed = self._s("dirty")
        awards = self._awards()
        if table.timed:
            # awards_due written out: (heap := the slot's heap) and heap[0][0] <= at
            changed = f"({changed} or " + " or ".join(
                f"((heap := {awards}[{i}][1]) and heap[0][0] <= at)"
                for i in table.timed) + ")"
        done = self._done()
        return f"not ({done}) and {changed}" if done else changed

    def _write_point(self, w: _Writer) -> None:
        w("def point(st, at, out, cause):")
        w.depth += 1
        w("st.point = at")
        guard = self._point_guard()
        if guard is None:
            w("st.dirty = False")
        else:
            w(f"if {guard}:")
            w.depth += 1
            w.block(self._point_body("cause"))
            w.depth -= 1
            w("else:")
            w("    st.dirty = False")
        w.depth -= 1

    def _point_body(self, cause: str) -> list[str]:
        """The point itself: values, stage (forward only), triggers in file order, then the
        resets (docs/semantics.md 13-15). `cause` names the event or the kind of point."""
        table = self.table
        w = _Writer()
        if not self._local:  # the contact-by-contact loop holds both in locals
            w("sums = st.sums")
            if table.timed:
                w("awards = st.awards")
        if self._reads_profile():
            w("profile = st.profile")
        values = self._write_values(w, self._lifecycle_refs())
        refs = self._refs(values)
        moved, resets = write_stages_and_triggers(
            w, table, refs, self._s,
            lambda w, j, actions, resets: self._write_fire(w, j, actions, resets, cause))
        for flag, slots in resets:
            w(f"if {flag}:")
            for slot in slots:
                w(f"    sums[{slot}] = st.base[{slot}]")
                if slot in table.timed:
                    w(f"    {self._awards()}[{slot}] = new_awards()")
                    if self._local and slot in self._bounds:
                        w(f"    c_hi{slot} = 0")
        if resets:
            w(f"{self._s('dirty')} = {' or '.join(flag for flag, _ in resets)} or {moved}")
        else:
            w(f"{self._s('dirty')} = {moved}")
        return w.lines

    def _bounded_slots(self) -> tuple:
        """The timed slots whose decayed total the contact-by-contact loop bounds from above
        instead of computing it at every point: `c_hi{slot}`, the sum of the positive
        contributions (decay.positive_total), raised by every positive award. A point first
        tests every live stage and once trigger with the bound in place of the total
        (`_bound_test`); where all are false, every total up to the bound gives the same
        point (no stage moves, nothing fires), so the point does nothing, and the heap is
        left for a later point (a contribution depends only on its award and the time).
        Only where that holds: each condition reads such a slot only in `>=` or `>` against
        a number, outside any `not` (true at a total, true at every larger one), and no
        grade, group or each-time trigger reads one. () when not, or nothing is timed."""
        table = self.table
        if not table.timed or table.groups or any(t[2] for t in table.triggers) or \
                not (table.stages or table.triggers):
            return ()
        timed = set(table.timed)
        grades = {g[0]: g for g in table.grades}

        def grade_timed(name) -> bool:
            _, source, bands, _ = grades[name]
            if source is None:
                return grade_timed(bands[0]) or grade_timed(bands[1])
            return source not in table.score_index or table.score_index[source] in timed

        read: set = set()

        def monotone(node, positive: bool) -> bool:
            if node is True or node is False:
                return True
            head = node[0]
            if head in ("and", "or"):
                return all(monotone(part, positive) for part in node[1:])
            if head == "not":
                return monotone(node[1], not positive)
            kind = node[1][0]
            if kind == "grade":
                return not grade_timed(node[1][1])
            if kind == "group":
                return False
            if kind != "score" or table.score_index[node[1][1]] not in timed:
                return True  # stage, profile, event: unchanged by a decay step
            slot = table.score_index[node[1][1]]
            low, high = table.lows[slot], table.highs[slot]
            if not positive or head not in (">=", ">") or number_kind(node[2]) != "number" \
                    or (low is not None and high is not None and low > high):
                return False
            read.add(slot)
            return True

        forms = [s["condition"] for s in table.raw["stages"]] + \
            [t["condition"] for t in table.raw["triggers"]]
        if not all(monotone(form, True) for form in forms):
            return ()
        return tuple(sorted(read))

    def _bound_test(self, w: _Writer) -> str:
        """Written before a point of the contact-by-contact loop (see `_bounded_slots`): the
        values with each bounded total at its bound; returns an expression true when some
        stage not reached yet or once trigger not fired yet may hold."""
        table = self.table
        if self._reads_profile():
            w("profile = st.profile")
        refs = self._refs(self._write_values(w, self._lifecycle_refs(), bound=True))
        if table.stages:
            w(f"stage = {self._s('stage')}")
        fired = self._s("fired")
        if self._settled:
            fired = f"({fired} | c_settled)"
        parts = [f"(stage < {j} and {condition(stage['condition'], refs)})"
                 for j, stage in enumerate(table.raw["stages"])]
        parts += [f"(not {fired} & {1 << j} and {condition(raw['condition'], refs)})"
                  for j, (_, _, _, raw) in enumerate(table.triggers)]
        return " or ".join(parts)

    def _reads_profile(self) -> bool:
        from .conditions import references

        forms = [s["condition"] for s in self.table.raw["stages"]] + \
            [t["condition"] for t in self.table.raw["triggers"]]
        return any(ref[0] == "contact" for form in forms for ref in references(form))

    def _constant_triggers(self) -> int:
        """The once triggers (bit mask) whose condition reads only the profile and slots no
        rule awards to and that neither decay nor expire: within one batch run (which never
        changes a profile) their condition has one value per contact. The batch loop
        computes, per contact, those that do not hold (`c_settled`): they can never fire, so
        that a contact whose other triggers have fired and whose stage is the last one is
        done (see `_done`). Without it, a contact who reached the last stage but is not
        tier D (B2B) ran the whole point at every event."""
        from .conditions import references

        table = self.table
        changing = {rule.slot for rule in table.rules} | \
            {rule.slot for rule in table.inactivity} | set(table.timed)
        grades = {g[0]: g for g in table.grades}

        def slots(kind, name) -> set:
            if kind == "score":
                i = table.score_index[name]
                return {i} | {g[4] for g in table.groups if g[1] == i}
            if kind == "group":
                return {table.groups[table.group_names.index(name)][4]}
            _, source, bands, _ = grades[name]
            if source is None:
                return slots("grade", bands[0]) | slots("grade", bands[1])
            return slots("score" if source in table.score_index else "group", source)

        mask = 0
        for j, (_, _, each_time, raw) in enumerate(table.triggers):
            if each_time:
                continue
            if all(ref[0] == "contact" or (ref[0] in ("score", "group", "grade")
                                           and not slots(ref[0], ref[1]) & changing)
                   for ref in references(raw["condition"])):
                mask |= 1 << j
        return mask

    def _fixed_values(self) -> set:
        """The scores and grades whose value is fixed per contact within one batch run: a
        score no rule awards to, that neither decays nor expires, no trigger resets and no
        group is part of (its sum is the profile's part, and a batch run never changes a
        profile), and a grade by bands on such a score. The contact-by-contact loop computes
        the ones a stage or trigger reads once per contact, before its events, instead of at
        every point (B2B's `fit` and `tier`)."""
        table = self.table
        changing = {rule.slot for rule in table.rules} | \
            {rule.slot for rule in table.inactivity} | set(table.timed)
        for _, actions, _, _ in table.triggers:
            for _, _, score in actions:
                if score is not None:
                    changing.update(table.reset_slots[score])
        fixed = set()
        for i, name in enumerate(table.score_names):
            if i not in changing and not any(g[1] == i for g in table.groups):
                fixed.add(("score", name))
        for name, source, _, _ in table.grades:
            if source is not None and ("score", source) in fixed:
                fixed.add(("grade", name))
        return fixed

    def _write_fixed(self, w: _Writer) -> None:
        """Before a contact's events: the fixed values a stage or trigger reads (see
        `_fixed_values`), in the locals every point of the contact then reads."""
        wanted = self._lifecycle_refs() & self._fixed
        if wanted:
            self._write_values(w, wanted)
        self._fixed_written = True

    def _write_settled(self, w: _Writer) -> None:
        """`c_settled` for the contact in hand (see `_constant_triggers`)."""
        from .conditions import references

        table = self.table
        wanted = set()
        parts = []
        for j, trigger in enumerate(table.triggers):
            if self._settled >> j & 1:
                for ref in references(trigger[3]["condition"]):
                    if ref[0] != "contact":
                        wanted.add((ref[0], ref[1]))
        if self._reads_profile():
            w("profile = st.profile")
        self._add_grade_sources(wanted)
        for kind, name in list(wanted):
            if kind == "score":
                i = table.score_index[name]
                wanted.update(("group", g[0]) for g in table.groups if g[1] == i)
        values = self._write_values(w, wanted)
        refs = self._refs(values)
        for j, trigger in enumerate(table.triggers):
            if self._settled >> j & 1:
                parts.append(f"(0 if {condition(trigger[3]['condition'], refs)} else {1 << j})")
        w(f"c_settled = {' | '.join(parts)}")

    def _write_fire(self, w: _Writer, index: int, actions: tuple, resets: list,
                    cause: str) -> None:
        w("stamp = format_time(at)")  # once per firing trigger (points rarely fire)
        w("if not st.actions:")
        w("    st.actions = []")
        slots: list[int] = []
        for kind, arg, score in actions:
            w(f"action = {{'at': stamp, 'action': {literal(kind)}, 'arg': {literal(arg)}}}")
            w("st.actions.append(action)")
            w("if out is not None:")
            w.depth += 1
            self._sync_out(w)  # the action log reads the values right after the action
            w(f"out.fired(st, at, action, {cause})")
            w.depth -= 1
            if score is not None:
                slots.extend(s for s in self.table.reset_slots[score] if s not in slots)
        if slots:
            flag = f"reset{index}"
            w(f"{flag} = True")
            resets.append((flag, slots))

    # ---------------------------------------------------------------- the point after an event

    def _write_point_call(self, w: _Writer, cause: str = "ev") -> None:
        """The point after an event (`cause`: or the kind of point, as a literal): inline
        when its code is short, else a call."""
        w(f"{self._s('point')} = at")
        guard = self._point_guard()
        if guard is None:
            w(f"{self._s('dirty')} = False")
            return
        if self._local and self._bounds:
            self._write_bounded_point(w, cause)
            return
        w(f"if {guard}:")
        w.depth += 1
        self._write_full_point(w, cause)
        w.depth -= 1
        w("else:")
        w(f"    {self._s('dirty')} = False")

    def _write_full_point(self, w: _Writer, cause: str, not_due: bool = False) -> None:
        """The point itself, inline when its code is short, else a call (`not_due`: no
        bounded slot is due, see `_write_bounded_point`)."""
        key = (self._local, not_due, cause)
        if key not in self._inline_point:
            self._not_due = not_due
            try:
                body = self._point_body(cause)
            finally:
                self._not_due = False
            self._inline_point[key] = body if len(body) <= _INLINE_POINT_LINES else []
        if self._inline_point[key]:
            w.block(self._inline_point[key])
        else:
            self._sync_out(w)
            w(f"point(st, at, out, {cause})")
            self._sync_in(w)

    def _write_bounded_point(self, w: _Writer, cause: str) -> None:
        """The point after an event in the contact-by-contact loop where `_bounded_slots`
        bounds decayed totals. Where a decay step is due, every live stage and once trigger
        is first tested with the bounds in place of the totals (`_bound_test`): when none
        can hold, no total up to the bounds changes anything, the point does nothing and the
        totals are left for later. That answer holds until something the test reads changes
        (a positive award to a bounded slot, any other award, a point that runs, a call that
        may change the state: `_quiet_off`), so `c_quiet` keeps it and later points skip
        even the test; a non-positive award to a bounded slot lowers a total only."""
        table = self.table
        dirty = self._s("dirty")
        done = self._done()
        w(f"if c_quiet{f' or ({done})' if done else ''}:")
        w(f"    {dirty} = False")
        w("elif " + " or ".join(f"((heap := awards[{slot}][1]) and heap[0][0] <= at)"
                                for slot in self._bounds) + ":")
        w.depth += 1
        test = self._bound_test(w)
        w(f"if not ({test}):")
        w("    c_quiet = True")
        w(f"    {dirty} = False")
        w("else:")
        w.depth += 1
        self._write_full_point(w, cause)
        w.depth -= 2
        others = [f"((heap := awards[{i}][1]) and heap[0][0] <= at)"
                  for i in table.timed if i not in self._bounds]
        w(f"elif {' or '.join([dirty] + others)}:")
        w.depth += 1
        self._write_full_point(w, cause, not_due=True)
        w.depth -= 1

    def _done(self) -> str | None:
        """An expression true when no point of this contact can change anything any more:
        every once trigger fired, no each-time trigger, the last stage reached."""
        table = self.table
        if any(t[2] for t in table.triggers):
            return None
        once = sum(1 << j for j in range(len(table.triggers)))
        fired = self._s("fired")
        if self._local and self._settled:  # see _constant_triggers
            fired = f"({fired} | c_settled)"
        done = [f"{fired} == {once}"] if once else []
        if table.stages:
            done.append(f"{self._s('stage')} == {len(table.stages) - 1}")
        return " and ".join(done) or None
