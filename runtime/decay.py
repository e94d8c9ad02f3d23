"""Exact decay multipliers (LANGUAGE.md 5).

`M_k = floor(10^9 * keep^k)` with `keep = (100 - P) / 100` as a fraction, so every engine
agrees to the unit. Multipliers are computed lazily and cached per `keep`: most awards are
young, and a small P would otherwise mean tens of thousands of big-integer powers up front.
"""
from __future__ import annotations

from fractions import Fraction

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

    __slots__ = ("keep", "every", "_known", "_complete", "_constant")

    def __init__(self, keep: Fraction, every: int, known: list[int] | None = None):
        self.keep = keep
        self.every = every
        self._known = list(known) if known else multipliers(keep, 64)
        self._constant = keep.numerator == keep.denominator
        # Once the list ends with a value whose successor is 0, every later M_k is 0.
        self._complete = (not self._constant
                          and multiplier(keep, len(self._known)) == 0)

    def factor(self, k: int) -> int:
        known = self._known
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
