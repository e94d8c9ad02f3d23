"""Exact decay multipliers (docs/language.md 5).

`M_k = floor(10^9 * keep^k)` with `keep = (100 - P) / 100` as a fraction, so every engine
agrees to the unit. Multipliers are computed lazily and cached per `keep`: most awards are
young, and a small P would otherwise mean tens of thousands of big-integer powers up front.
"""
from __future__ import annotations

from fractions import Fraction
from heapq import heappop, heappush, heapreplace

SCALE = 10 ** 9
# The table lists at most this many multipliers; consumers compute later ones from `keep`.
TABLE_LIMIT = 4096


def keep_fraction(percent: str | int | float) -> Fraction:
    """`(100 - P) / 100` exactly; P is read from its decimal text, never through a float."""
    return (100 - Fraction(str(percent))) / 100


def multiplier(keep: Fraction, k: int) -> int:
    return SCALE * keep.numerator ** k // keep.denominator ** k


def multipliers(keep: Fraction, limit: int = TABLE_LIMIT) -> list[int]:
    """Every non-zero M_k from k = 0, at most `limit` of them."""
    found = []
    num, den = 1, 1
    while len(found) < limit:
        value = SCALE * num // den
        if value == 0:
            break
        found.append(value)
        num *= keep.numerator
        den *= keep.denominator
        if keep.numerator == keep.denominator:  # 0%: constant, list the one value
            break
    return found


class Decay:
    """A score's decay: contribution of an award of `points` at age `age` (microseconds)."""

    __slots__ = ("keep", "every", "known", "_complete", "_constant")

    def __init__(self, keep: Fraction, every: int, known: list[int] | None = None):
        self.keep = keep
        self.every = every
        # the table lists up to TABLE_LIMIT multipliers: all of them for any usual P
        self.known = list(known) if known else multipliers(keep)
        self._constant = keep.numerator == keep.denominator
        # Once the list ends with a value whose successor is 0, every later M_k is 0.
        self._complete = (not self._constant
                          and multiplier(keep, len(self.known)) == 0)

    def factor(self, k: int) -> int:
        known = self.known
        if k < len(known):
            return known[k]
        if self._constant:
            return SCALE
        if self._complete:
            return 0
        while len(known) <= k:
            value = multiplier(self.keep, len(known))
            known.append(value)
            if value == 0:
                self._complete = True
                return 0
        return known[k]

    def is_spent(self, age: int) -> bool:
        """True when every award this old or older contributes 0 from now on."""
        return self.factor(age // self.every) == 0

    def contribution(self, points: int, age: int) -> int:
        scaled = points * self.factor(age // self.every)
        # trunc toward zero, in integers
        return scaled // SCALE if scaled >= 0 else -((-scaled) // SCALE)


# --------------------------------------------------------------------------- timed awards
#
# The awards of a score that decays or expires: `[total, heap]`. `total` is the sum of every
# award's current contribution; the heap holds one `(next change, start, points, current)`
# per award still contributing, keyed by the time its contribution next changes (its next
# decay step or its expiry). Evaluation times only move forward, so an evaluation pops just
# the awards whose contribution changed since: O(log n) per step instead of a pass over all
# awards. |p * M_k| never grows with k, so an award whose contribution reaches 0 stays at 0
# and leaves the heap: memory holds only awards that still count.

NEVER = 1 << 62  # later than any time in microseconds; an int keeps snapshots JSON-safe


def new_awards() -> list:
    return [0, []]


def add_award(awards: list, at: int, points: int, decay: Decay | None,
              expire: int | None) -> None:
    """An award at `at`, the time of the current evaluation point (age 0: M_0 = 10^9)."""
    change = at + decay.every if decay is not None else NEVER
    if expire is not None and at + expire < change:
        change = at + expire
    awards[0] += points
    # tuples of ints: the garbage collector stops tracking them, which matters when a
    # streaming engine holds millions of awards
    heappush(awards[1], (change, at, points, points))


def awards_due(awards: list, at: int) -> bool:
    """True when some award's contribution has changed by time `at`."""
    heap = awards[1]
    return bool(heap) and heap[0][0] <= at


def awards_total(awards: list, at: int, decay: Decay | None, expire: int | None) -> int:
    heap = awards[1]
    if not heap or heap[0][0] > at:
        return awards[0]
    total = awards[0]
    # hot (every evaluation point of a decaying score): the decay's fields in locals, the
    # multiplier list read directly while the step is within it (Decay.factor otherwise)
    if decay is not None:
        every, known = decay.every, decay.known
        count = len(known)
        factor = decay.factor
        if expire is None:
            # decay alone (the usual case): the entry read in place and replaced by its next
            # step in one heap operation (heapreplace), popped only when it reaches 0
            while heap:
                entry = heap[0]
                if entry[0] > at:
                    break
                start, points = entry[1], entry[2]
                step = (at - start) // every
                scaled = points * (known[step] if step < count else factor(step))
                now = scaled // SCALE if scaled >= 0 else -((-scaled) // SCALE)
                total += now - entry[3]
                if now:
                    heapreplace(heap, (start + (step + 1) * every, start, points, now))
                else:
                    heappop(heap)
            awards[0] = total
            return total
    while heap and heap[0][0] <= at:
        change, start, points, was = heappop(heap)
        age = at - start
        if expire is not None and age >= expire:
            total -= was
            continue
        if decay is None:
            continue  # cannot happen: an expire-only award changes only when it expires
        step = age // every
        scaled = points * (known[step] if step < count else factor(step))
        now = scaled // SCALE if scaled >= 0 else -((-scaled) // SCALE)
        total += now - was
        if now == 0:
            continue
        change = start + (step + 1) * every
        if expire is not None and start + expire < change:
            change = start + expire
        heappush(heap, (change, start, points, now))
    awards[0] = total
    return total


def positive_total(awards: list) -> int:
    """An upper bound of `awards_total(awards, t, ...)` at every later time `t` until the next
    award with points > 0: the sum of the positive contributions as last computed. A
    contribution only moves toward 0 (decay and expiry never change its sign or grow it), so
    the positive ones can only shrink and the negative ones stay <= 0; an entry not popped yet
    holds its contribution as of its last change, which is >= the one it has now."""
    return sum([entry[3] for entry in awards[1] if entry[3] > 0])
