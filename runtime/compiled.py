"""The compiled evaluator: Python source written for one rule table, run on the engine's state.

`Program(engine)` reads the engine's `CompiledTable` (never the model's AST) and writes one
module of Python source for it (`Program.source`), then executes it once. What the model does
not use leaves no code: without decay there is no call to the decay heap, without absence rules
no pending list is looked at, without stages or triggers a point only moves the clock. Rules are
dispatched on (event type, target) to one function per distinct list of matching rules, with
caps counted inline; stage and trigger conditions over a bounded score are compares on the raw
integer sum; a once trigger that has fired is not tested again, and a contact whose triggers
have all fired and whose stage is the last one skips its points altogether. Contact by
contact, a point where a decay step is due first tests the live conditions at an upper
bound of the decayed total and does nothing when all are false (`_bounded_slots`).

The state is the engine's own `_Contact`, so the interpreted path (`Engine(compiled=False)`,
explanations, snapshots) and the compiled one can take turns on the same contact; the property
tests hold them equal to each other and to the reference interpreter. Every value from the
table enters the source through `codegen.literal`; the rest is indices.
"""
from __future__ import annotations

from bisect import insort
from heapq import heappush

from .codegen import Refs, condition, literal, number_kind
from .conditions import compile_glob
from .decay import add_award, awards_due, awards_total, new_awards, positive_total
from .events import format_time
from .periods import EPOCH_ORDINAL, MICROS_PER_DAY, QUARTER
from .steps import ID_SEPARATOR, ID_TEXT, add_id, has_id
from .table import ABSENCE, BY, EVENT

_NUMBER = (int, float)
_CACHE_LIMIT = 65536
_PERIODS = {"day": "day", "week": "week", "month": "month"}  # the calendar's functions
# before and after any time in microseconds (Python ints compare with every int)
_BEFORE, _AFTER = -(1 << 80), 1 << 80
_INLINE_LIMIT = 64  # rule lists dispatched inline in the event loop
_INLINE_POINT_LINES = 60  # a longer point is called, not repeated after every rule list
# the state fields the contact-by-contact loop keeps in locals while it reads a contact's events
# (those of features the table uses: see Program._hot_fields)
_HOT = ("clock", "seq", "seen", "point", "dirty", "fired", "was_true", "stage", "caps", "order",
        "recent")


class Unordered(Exception):
    """A batch input whose events of one contact are not in time order (`Engine.run` sorts)."""


class _Writer:
    def __init__(self):
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def block(self, lines: list[str]) -> None:
        for line in lines:
            self(line)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


class Program:
    """The compiled functions of one engine's table (see the module docstring)."""

    def __init__(self, engine):
        self.engine = engine
        table = self.table = engine.table
        self._globs: dict[str, str] = {}
        self._constants: list[str] = []  # module-level lines: globs, cell maps
        self.handlers: list = []  # functions for rule lists met later than the load
        self._ready = False
        # the event's point written inline, per mode (state fields on `st`, or in locals)
        self._inline_point: dict[tuple, list[str]] = {}
        # writing a point of the contact-by-contact loop where no bounded slot is due: their
        # totals are the ones kept (see `_write_bounded_point`)
        self._not_due = False
        # writing the contact-by-contact loop: the hot state fields live in locals (`c_...`)
        self._local = False
        self._hot = self._hot_fields()
        self.cache = _Codes(self)  # event -> target -> dispatch code, filled on first sight
        self._cached = 0
        self.namespace = {
            "__builtins__": {"type": type, "len": len, "list": list, "tuple": tuple,
                             "int": int, "float": float, "str": str, "bool": bool,
                             "dict": dict, "set": set, "None": None},
            "_NUMBER": _NUMBER, "_glob": lambda pattern: compile_glob(pattern).fullmatch,
            "add_award": add_award, "heappush": heappush, "insort": insort, "awards_due": awards_due, "awards_total": awards_total,
            "new_awards": new_awards, "format_time": format_time, "Unordered": Unordered,
            "RULES": table.rules, "DECAYS": table.decays, "EXPIRES": table.expires,
            "Contact": engine.contact_class, "admit": engine._admit, "add_id": add_id,
            "has_id": has_id, "flush": engine._flush,
            "answer": engine._answer, "ANSWERS": table.answers, "expect": engine._expect,
            "start_spell": engine._start_spell, "is_activity": table.is_activity,
            "day": table.calendar.day, "DAYS_get": table.calendar.days_cache().get, "week": table.calendar.week,
            "month": table.calendar.month,
            "CACHE": self.cache, "HANDLERS": self.handlers,
            "answer_fast": _answerer(table, engine._answer), "positive_total": positive_total,
        }
        self._settled = self._constant_triggers()
        # the scores and grades fixed per contact, and whether the contact-by-contact loop
        # has written their locals yet (then a point reads them, see `_fixed_values`)
        self._fixed = self._fixed_values()
        self._fixed_written = False
        self._bounds = self._bounded_slots()
        self._inline, self.inline_complete = self._known_rule_lists()
        self._codes = {key: code for code, key in enumerate(self._inline)}
        body = _Writer()
        self._write_point(body)
        self._flushes = table.has_absence and not table.inactivity
        if self._flushes:
            self._write_flush(body)
        self._write_new_contact(body)
        self._results = not table.groups and not table.has_matrix
        if self._results:
            self._write_result(body)
        self._write_step(body)
        self._write_batch(body)
        self._write_groups(body)
        self.source = "".join(line + "\n" for line in self._constants) + body.text()
        exec(compile(self.source, f"<scorelang table {table.sha256 or ''}>", "exec"),
             self.namespace)
        self._ready = True
        self.point = self.namespace["point"]
        self.new_contact = self.namespace["new_contact"]
        self.step = self.namespace["step"]
        self.batch = self.namespace["batch"]
        self.groups = self.namespace["groups"]
        # finish (the as-of point) and result of one contact: None where groups or matrix
        # grades need Engine._result's general path
        self.result = self.namespace["result"] if self._results else None

    # ---------------------------------------------------------------- shared pieces

    def _glob_name(self, pattern: str) -> str:
        name = self._globs.get(pattern)
        if name is None:
            name = self._globs[pattern] = f"G{len(self._globs)}"
            self._constant_line(f"{name} = _glob({literal(pattern)})")
        return name

    def _constant_line(self, line: str) -> None:
        """A module-level line; once the module runs (handlers are written later, on first
        sight of an event), it runs at once in the module's namespace."""
        self._constants.append(line)
        if self._ready:
            exec(compile(line, "<scorelang constant>", "exec"), self.namespace)

    def _constant(self, prefix: str, source: str) -> str:
        name = f"{prefix}{len(self._constants)}"
        self._constant_line(f"{name} = {source}")
        return name

    def _s(self, field: str) -> str:
        """Where the code being written reads and writes a hot state field: `st.FIELD`, or
        the local `c_FIELD` in the contact-by-contact loop (see `_write_groups`)."""
        return f"c_{field}" if self._local and field in self._hot else f"st.{field}"

    def _awards(self) -> str:
        """The state's award lists: the local `awards` in the contact-by-contact loop (which
        `_sync_in` binds), else `st.awards`."""
        return "awards" if self._local else "st.awards"

    def _hot_fields(self) -> tuple:
        table = self.table
        used = {"clock", "seq", "seen", "point", "dirty"}
        if table.triggers:
            used.add("fired")
        if any(t[2] for t in table.triggers):
            used.add("was_true")
        if table.stages or table.triggers:  # the point reads the stage
            used.add("stage")
        if any(rule.cap is not None for rule in table.rules):
            used.add("caps")
        if table.has_absence:  # counted at every event, read where an absence is expected
            used.update(("order", "recent"))
        return tuple(f for f in _HOT if f in used)

    def _quiet_off(self, w: _Writer) -> None:
        """Written where something a point's bound test reads may change (see
        `_write_point_call`): the last test's answer is not known to hold any more."""
        if self._local and self._bounds:
            w("c_quiet = False")

    def _sync_out(self, w: _Writer) -> None:
        """The locals back into the state, before code that reads the state (a handler, the
        point function, flush, an action log)."""
        if self._local:
            w(", ".join(f"st.{f}" for f in self._hot) + " = " +
              ", ".join(f"c_{f}" for f in self._hot))

    def _sync_in(self, w: _Writer, awarded: bool = True) -> None:
        """The locals from the state, after code that may have changed it (`awarded`: may
        have given positive points to a slot of `_bounds`)."""
        if self._local:
            w(", ".join(f"c_{f}" for f in self._hot) + " = " +
              ", ".join(f"st.{f}" for f in self._hot))
            w("sums = st.sums")
            if self.table.timed:
                w("awards = st.awards")
            self._quiet_off(w)
            for slot in self._bounds if awarded else ():  # see _bounded_slots
                w(f"c_hi{slot} = positive_total(awards[{slot}]) if awards[{slot}][1] else 0")

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

    # ---------------------------------------------------------------- evaluation point

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
        w(f"if until is None:")
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


def write_stages_and_triggers(w: _Writer, table, refs, field, fire) -> tuple[str, list]:
    """A point's stage steps (forward only, the highest stage whose condition holds) and its
    triggers in file order, as both generated loops write them. `field(name)` is where the
    contact's `stage`, `fired` or `was_true` is read and written; `fire(w, j, actions,
    resets)` writes what trigger `j` does. Returns the test that a stage moved ("False"
    without stages) and the (flag, slots) resets for the caller to write."""
    moved = "False"
    if table.stages:  # a condition can read `stage` only where the model has stages
        stage_field = field("stage")
        w(f"stage = {stage_field}")
        w("moved = False")
        moved = "moved"
        last = len(table.stages) - 1
        for j in range(last, -1, -1):
            form = table.raw["stages"][j]["condition"]
            w(f"{'if' if j == last else 'elif'} stage < {j} and {condition(form, refs)}:")
            w(f"    {stage_field} = stage = {j}")
            w("    moved = True")
    resets: list[tuple] = []
    for j, (_, actions, _, _) in enumerate(table.triggers):
        if any(score is not None for _, _, score in actions):
            w(f"reset{j} = False")
    for j, (_, actions, each_time, raw) in enumerate(table.triggers):
        bit = 1 << j
        test = condition(raw["condition"], refs)
        if each_time:
            was_true = field("was_true")
            w(f"if {test}:")
            w(f"    if not {was_true} & {bit}:")
            w(f"        {was_true} |= {bit}")
            w.depth += 2
            fire(w, j, actions, resets)
            w.depth -= 2
            w(f"elif {was_true} & {bit}:")
            w(f"    {was_true} &= {~bit}")
        else:
            fired = field("fired")
            w(f"if not {fired} & {bit} and {test}:")
            w(f"    {fired} |= {bit}")
            w.depth += 1
            fire(w, j, actions, resets)
            w.depth -= 1
    return moved, resets


def write_tree(w: _Writer, low: int, high: int, leaf) -> None:
    """The dispatch on `code` from `low` to `high` (exclusive) as a tree of compares, so an
    event meets about log2(codes) of them: `leaf(w, code)` writes what one code does."""
    if high - low == 1:
        leaf(w, low)
        return
    middle = (low + high) // 2
    w(f"if code < {middle}:")
    w.depth += 1
    write_tree(w, low, middle, leaf)
    w.depth -= 1
    w("else:")
    w.depth += 1
    write_tree(w, middle, high, leaf)
    w.depth -= 1


def write_clamps_and_grades(w: _Writer, table) -> list[str]:
    """With each score's total in `v0`, `v1`, ...: each clamped into its bounds, then
    `grades` read from the clamped values. Returns the items of the scores dict."""
    scores = []
    for i, name in enumerate(table.score_names):
        low, high = table.lows[i], table.highs[i]
        if low is not None:
            w(f"if v{i} < {literal(low)}:")
            w(f"    v{i} = {literal(low)}")
        if high is not None:
            w(f"{'elif' if low is not None else 'if'} v{i} > {literal(high)}:")
            w(f"    v{i} = {literal(high)}")
        scores.append(f"{literal(name)}: v{i}")
    w("grades = {}")
    score_of = {name: f"v{i}" for i, name in enumerate(table.score_names)}
    for name, source, bands, otherwise in table.grades:
        value = score_of[source]
        chain = "".join(f"{literal(label)} if {value} >= {literal(threshold)} else "
                        for label, threshold in bands)
        w(f"label = {chain}{literal(otherwise)}")
        if otherwise is None:
            w("if label is not None:")
            w(f"    grades[{literal(name)}] = label")
        else:
            w(f"grades[{literal(name)}] = label")
    return scores


def write_period(w: _Writer, name: str, per: str, is_utc: bool) -> None:
    """Writes `name = ` the period (day, week or month) of the instant `at`."""
    if per == "day" and is_utc:
        w(f"{name} = {literal(EPOCH_ORDINAL)} + at // {literal(MICROS_PER_DAY)}")
    elif per == "day":
        # Calendar.day's cache of quarter hours read first (a bucket is there only when every
        # instant in it has that day), the call on a miss
        w(f"{name} = DAYS_get(at // {literal(QUARTER)})")
        w(f"if {name} is None:")
        w(f"    {name} = day(at)")
    else:
        w(f"{name} = {_PERIODS[per]}(at)")


def _clamp_source(local: str, low, high) -> str:
    text = local
    if high is not None:
        text = f"({literal(high)} if {local} > {literal(high)} else {text})"
    if low is not None:
        text = f"({literal(low)} if {local} < {literal(low)} else {text})"
    return text


def _answerer(table, generic):
    """`Engine._answer` (an event B cancels the pending absences it answers) for a table
    whose absence rules all match B's target to A's (no `missing_targets`): per B event,
    the indices of its rules, then one pass over the pending list. Else `generic`."""
    rules = [rule for rule in table.rules if rule.kind == ABSENCE]
    if any(rule.answered_by is not None for rule in rules):
        return generic
    indices: dict = {}
    for rule in rules:
        indices.setdefault(rule.missing, set()).add(rule.index)

    def answer(state, event):
        mine = indices.get(event.event)
        if mine is None or not state.pending:
            return
        target = event.target
        pending = state.pending
        kept = [item for item in pending if not (item[4] == target and item[3] in mine)]
        if len(kept) != len(pending):
            state.pending = kept

    return answer


def _no_values(*_):
    raise ValueError("a profile or `where` condition reads only the profile and the event")
