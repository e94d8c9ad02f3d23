"""Evaluation points and results (docs/semantics.md): the live values of scores, groups and
grades, the stage (forward only), triggers in file order, resets; a contact's section-7 result
and its values. A mixin of `runtime.engine.Engine` (the interpreted path; the compiled one is
`runtime.compiled`)."""
from __future__ import annotations

from .accounts import grade_label
from .conditions import STAGE
from .decay import awards_due, awards_total, new_awards
from .events import format_time
from .state import _Contact

_NO_RESETS: list = []  # shared, never mutated: most points reset nothing


class PointSteps:
    """`Engine`'s evaluation points and results (see the module docstring)."""

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
            label = grade_label(live[source], bands, otherwise)
            if label is not None:
                live[name] = label
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
            label = grade_label(live[source], bands, otherwise)
            if label is not None:
                live[name] = label
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
