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

`Program` is put together from three mixins, one module each, so that each part of the
writing is read on its own: `compiled_loops` (the functions around the events: a new
contact, its result, `step`, the one-shot `batch` loop, the contact-by-contact `groups`
loop, absence flushes), `compiled_rules` (from an event to its rules: the dispatch codes and
their cache, the handlers, the awards and caps) and `compiled_points` (the evaluation point:
values, stages, triggers, and the shortcuts that let a point be skipped). `compiled_writers`
holds `_Writer` and the writers `compiled_timeorder` shares. This module keeps what the
engine uses (`Program`, `Unordered`), the construction of the namespace the source runs in,
and the pieces every part reads (where a state field lives, the module-level constants).
"""
from __future__ import annotations

from bisect import insort
from heapq import heappush

from .codegen import literal
from .compiled_loops import _LoopWriter
from .compiled_points import _PointWriter
from .compiled_rules import _Codes, _RuleWriter
from .compiled_writers import (_Writer, write_clamps_and_grades, write_period,
                               write_stages_and_triggers, write_tree)
from .conditions import compile_glob
from .decay import add_award, awards_due, awards_total, new_awards, positive_total
from .events import format_time
from .steps import add_id, has_id
from .table import ABSENCE

# What the engine uses; and the writers, which live in compiled_writers: modules and tests
# written before the split import them from here.
__all__ = ["Program", "Unordered", "_Writer", "write_clamps_and_grades", "write_period",
           "write_stages_and_triggers", "write_tree"]

_NUMBER = (int, float)
# the state fields the contact-by-contact loop keeps in locals while it reads a contact's events
# (those of features the table uses: see Program._hot_fields)
_HOT = ("clock", "seq", "seen", "point", "dirty", "fired", "was_true", "stage", "caps", "order",
        "recent")


class Unordered(Exception):
    """A batch input whose events of one contact are not in time order (`Engine.run` sorts)."""


class Program(_LoopWriter, _RuleWriter, _PointWriter):
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
