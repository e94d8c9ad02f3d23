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
# The awards of a score that decays or expires, as one flat list:
#     [total, valid_until, t0, p0, t1, p1, ...]
# `total` is the sum of the contributions, valid for evaluation times before `valid_until`
# (the first time at which some award moves to its next decay step or expires). Points only
# move forward, so most evaluations read `total` and only a step boundary costs a pass over
# the awards; that pass also drops awards that can never contribute again.

NEVER = 1 << 62  # later than any time in microseconds; an int keeps snapshots JSON-safe


def new_awards() -> list:
    return [0, NEVER]


def add_award(awards: list, at: int, points: int, decay: Decay | None,
              expire: int | None) -> None:
    """An award at `at`, the time of the current evaluation point (age 0: M_0 = 10^9)."""
    awards.append(at)
    awards.append(points)
    awards[0] += points
    until = awards[1]
    if decay is not None and at + decay.every < until:
        until = at + decay.every
    if expire is not None and at + expire < until:
        until = at + expire
    awards[1] = until


def awards_total(awards: list, at: int, decay: Decay | None, expire: int | None) -> int:
    if at < awards[1]:
        return awards[0]
    total, until, spent = 0, NEVER, False
    every = decay.every if decay is not None else 0
    known = decay.known if decay is not None else ()
    count = len(known)
    for start, points in zip(awards[2::2], awards[3::2]):
        age = at - start
        if expire is not None:
            if age >= expire:
                spent = True
                continue
            if start + expire < until:
                until = start + expire
        if decay is None:
            total += points
            continue
        step = age // every
        factor = known[step] if step < count else decay.factor(step)
        if factor == 0:
            spent = True  # every later multiplier is 0 as well
            continue
        scaled = points * factor
        total += scaled // SCALE if scaled >= 0 else -((-scaled) // SCALE)
        if start + (step + 1) * every < until:
            until = start + (step + 1) * every
    if spent:  # drop what can never contribute again
        awards[2:] = [x for start, points in zip(awards[2::2], awards[3::2])
                      if not _spent(at - start, decay, expire) for x in (start, points)]
    awards[0] = total
    awards[1] = until
    return total


def _spent(age: int, decay: Decay | None, expire: int | None) -> bool:
    if expire is not None and age >= expire:
        return True
    return decay is not None and decay.factor(age // decay.every) == 0
