"""The B2B model (`benchmarks/b2b.score`) scored by a plain, hand-written Python loop.

This is the practical limit for pure Python on this model: no rule table, no dispatch, no
conditions to interpret, every rule written out as an `if`. `bench_engine.py` times it next to
the engine and asserts that both give the same scores, grades, stages and actions.

It follows docs/language.md exactly for this one model: evaluation points at every surviving event,
at each due time of an unanswered `email_sent`, and at the as-of time T; caps per Berlin
calendar day; decay 10% every 30 days per award, truncated toward zero; clamp 0..100; stages
forward only; the two once-only triggers; the reset discards the awards applied so far.
"""
from __future__ import annotations

from datetime import datetime, timezone
from fractions import Fraction
from heapq import heappop, heappush
from zoneinfo import ZoneInfo

MICROS = 1_000_000
DAY = 86400 * MICROS
STEP = 30 * DAY  # decay engagement 10% every 30 days
WITHIN = 24 * 3600 * MICROS  # email_sent without email_open within 24 hours
SCALE = 10 ** 9
_BERLIN = ZoneInfo("Europe/Berlin")
_HOUR = 3600 * MICROS


class _Multipliers(dict):
    """M_k = floor(10^9 * 0.9^k), exactly, computed on first use."""

    def __missing__(self, k: int) -> int:
        value = (SCALE * Fraction(9, 10) ** k).__floor__()
        self[k] = value
        return value


class _BerlinDays(dict):
    """The Berlin calendar day of a UTC hour (offsets change only on hour boundaries)."""

    def __missing__(self, hour: int):
        value = datetime.fromtimestamp(hour * 3600, _BERLIN).date().toordinal()
        self[hour] = value
        return value


_M = _Multipliers()
_DAYS = _BerlinDays()


def fit_of(profile: dict) -> int:
    fit = 0
    title = profile.get("title")
    if isinstance(title, str) and (title in ("CEO", "CTO") or title.startswith("VP")):
        fit += 20
    employees = profile.get("employees")
    if isinstance(employees, (int, float)) and not isinstance(employees, bool):
        if employees >= 200:
            fit += 15
        if employees < 10:
            fit -= 10
    return fit


def tier_of(fit: int) -> str:
    return "A" if fit >= 30 else "B" if fit >= 15 else "C" if fit >= 0 else "D"


def _contribution(points: int, k: int) -> int:
    product = points * _M[k]
    return product // SCALE if product >= 0 else -((-product) // SCALE)


class _Lead:
    """One contact's engagement awards since the last reset. The decayed sum is kept up to
    date: a heap holds each award's next 30-day step, and only awards that cross a step are
    recomputed (O(log n) per step instead of re-summing every award)."""
    __slots__ = ("steps", "total", "stage", "sql_fired", "d_fired", "actions",
                 "good_tier", "tier_d", "home_days", "blog", "form", "open_days", "pending",
                 "last_open")

    def __init__(self, tier: str):
        self.steps: list = []  # heap of [next step time, award time, points, k]
        self.total = 0
        self.stage = 0  # 0 none, 1 MQL, 2 SQL
        self.sql_fired = False
        self.d_fired = False
        self.actions: list = []
        self.good_tier = tier in ("A", "B")
        self.tier_d = tier == "D"
        self.home_days: set = set()
        self.blog = 0
        self.form = False
        self.open_days: dict = {}
        self.pending: list = []  # [due, target, answered] in due order
        self.last_open: dict = {}

    def award(self, at: int, points: int) -> None:
        heappush(self.steps, (at + STEP, at, points, 0))
        self.total += points

    def engagement(self, now: int) -> int:
        steps = self.steps
        while steps and steps[0][0] <= now:
            _, at, points, k = heappop(steps)
            new_k = (now - at) // STEP
            new = _contribution(points, new_k)
            self.total += new - _contribution(points, k)
            if new:
                heappush(steps, (at + (new_k + 1) * STEP, at, points, new_k))
        total = self.total
        return 0 if total < 0 else 100 if total > 100 else total

    def point(self, now: int) -> None:
        """Steps 2 to 5 of an evaluation point."""
        engagement = self.engagement(now)
        if engagement >= 80:
            if self.stage < 2:
                self.stage = 2
        elif engagement >= 50 and self.good_tier and self.stage < 1:
            self.stage = 1
        reset = False
        if self.stage == 2 and not self.sql_fired:
            self.sql_fired = True
            self.actions.append((now, "notify", "sales"))
            self.actions.append((now, "reset", "engagement"))
            reset = True
        if self.tier_d and not self.d_fired:
            self.d_fired = True
            self.actions.append((now, "tag", "not-a-fit"))
        if reset:
            self.steps = []
            self.total = 0

    def flush(self, until: int, inclusive: bool) -> None:
        """Absence points due before `until` (or at it, when inclusive)."""
        pending = self.pending
        while pending and (pending[0][0] < until or inclusive and pending[0][0] == until):
            due = pending[0][0]
            missed = 0
            while pending and pending[0][0] == due:
                if not pending.pop(0)[2]:
                    missed += 1
            if missed:
                for _ in range(missed):
                    self.award(due, -5)
                self.point(due)

    def event(self, kind: str, target, at: int) -> None:
        self.flush(at, False)
        if kind == "visit":
            if target == "home":
                day = _DAYS[at // _HOUR]
                if day not in self.home_days:
                    self.home_days.add(day)
                    self.award(at, 5)
            elif target is not None and target.startswith("blog/"):
                if self.blog < 5:
                    self.award(at, 10)
                self.blog += 1
            elif target == "pricing":
                self.award(at, 15)
            elif target == "careers":
                self.award(at, -10)
        elif kind == "email_open":
            day = _DAYS[at // _HOUR]
            seen = self.open_days.get(day, 0)
            self.open_days[day] = seen + 1
            if seen < 3:
                self.award(at, 1)
            for item in self.pending:
                if item[1] == target and item[0] - WITHIN <= at:
                    item[2] = True
            self.last_open[target] = at
        elif kind == "email_sent":
            self.pending.append([at + WITHIN, target, self.last_open.get(target) == at])
        elif kind == "download":
            if target == "ebook" or target == "whitepaper":
                self.award(at, 15)
        elif kind == "register":
            if target == "webinar":
                self.award(at, 25)
        elif kind == "submit":
            if target == "contact_form":
                if not self.form:
                    self.award(at, 30)
                self.form = True
        elif kind == "unsubscribe":
            self.award(at, -20)
        self.point(at)


def score_b2b(events: list, profiles: dict, as_of: int | None = None) -> dict:
    """`events` in processing order (time, then input order). Returns
    {contact: (engagement, fit, tier, stage, actions)} with actions as (micros, kind, arg)."""
    if as_of is None:
        as_of = max((event.at for event in events), default=None)
    leads: dict = {}
    fits: dict = {}
    seen: set = set()
    results: dict = {}
    for event in events:
        contact = event.contact
        if event.id is not None:
            key = (contact, event.id)
            if key in seen:
                continue
            seen.add(key)
        lead = leads.get(contact)
        if lead is None:
            if contact in results:
                continue  # unscored
            profile = profiles.get(contact, {})
            if profile.get("consent") is not True:
                results[contact] = None
                continue
            fit = fit_of(profile)
            fits[contact] = fit
            lead = leads[contact] = _Lead(tier_of(fit))
        if event.at <= as_of:
            lead.event(event.event, event.target, event.at)
    for contact, profile in profiles.items():
        if contact not in leads and contact not in results:
            if profile.get("consent") is not True:
                results[contact] = None
            else:
                fits[contact] = fit_of(profile)
                leads[contact] = _Lead(tier_of(fits[contact]))
    for contact, lead in leads.items():
        if as_of is not None:
            lead.flush(as_of, True)
            lead.point(as_of)
        stage = (None, "MQL", "SQL")[lead.stage]
        results[contact] = (lead.engagement(as_of) if as_of is not None else 0, fits[contact],
                            tier_of(fits[contact]), stage, lead.actions)
    return results


def summary_of_loop(results: dict) -> list:
    """The loop's results in the comparable form of `summary_of_engine`."""
    out = []
    for contact in sorted(results):
        result = results[contact]
        if result is None:
            out.append((contact, None, None, None, None, ()))
            continue
        engagement, fit, tier, stage, actions = result
        out.append((contact, engagement, fit, tier, stage,
                    tuple((_format(at), kind, arg) for at, kind, arg in actions)))
    return out


def summary_of_engine(results: list[dict]) -> list:
    out = []
    for result in results:
        scores = result["scores"]
        actions = tuple((a["at"], a["action"], a["arg"]) for a in result["actions"])
        out.append((result["contact"], scores["engagement"], scores["fit"],
                    result["grades"].get("tier"), result["stage"], actions))
    return out


def _format(micros: int) -> str:
    return datetime.fromtimestamp(micros // MICROS, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
