"""Hand-written format-2 rule tables (docs/rule-table.md) for the runtime's v2 tests.

The runtime is tested on tables written here, independently of the front end and the lowering:
these builders fill in every key a format-2 table must have, and `compiler.passes.optimize`
adds the dispatch index and the decay multipliers as the lowering does.
"""
from __future__ import annotations

from compiler.passes import optimize

DAY = 86_400_000_000
HOUR = 3_600_000_000
MINUTE = 60_000_000
ANY = {"exact": [], "globs": [], "any": True}


def targets(*items: str) -> dict:
    if not items:
        return dict(ANY)
    globs = [item for item in items if "*" in item or "?" in item]
    return {"exact": [item for item in items if item not in globs], "globs": globs, "any": False}


def score(name: str, low=None, high=None, decay=None, expire=None) -> dict:
    """`decay` as `(percent text, every micros)`."""
    return {"name": name, "low": low, "high": high, "expire": expire,
            "decay": None if decay is None else {"percent": decay[0], "every": decay[1],
                                                 "at": "m.score:1"}}


def group(name: str, of: str, low=None, high=None) -> dict:
    return {"name": name, "at": "m.score:2", "score": of, "low": low, "high": high}


def event(kind: str, points, of: str, *items: str, group=None, limit=None, where=None,
          by=None) -> dict:
    """`by` as `(prop, low, high)`; `limit` as `(count, per)`."""
    return {"id": "", "kind": "event", "at": "", "event": kind, "targets": targets(*items),
            "where": where, "points": None if by is not None else points,
            "by": None if by is None else {"prop": by[0], "low": by[1], "high": by[2]},
            "score": of, "group": group,
            "limit": None if limit is None else {"count": limit[0], "per": limit[1]}}


def absence(kind: str, missing: str, within: int, points: int, of: str, *items: str,
            group=None, same=True) -> dict:
    rule = event(kind, points, of, *items, group=group)
    rule.update(kind="absence", missing=missing, within=within,
                missing_targets={"same": True} if same else dict(ANY))
    return rule


def profile(condition, points: int, of: str, group=None) -> dict:
    return {"id": "", "at": "", "condition": condition, "points": points, "score": of,
            "group": group}


def inactive(after: int, points: int, of: str, group=None, every=None, count=None) -> dict:
    return {"id": "", "at": "", "after": after, "every": every, "count": count,
            "points": points, "score": of, "group": group}


def grade(name: str, of: str, bands, otherwise=None, group=None) -> dict:
    return {"name": name, "at": "m.score:9", "score": of, "group": group,
            "bands": [list(band) for band in bands], "else": otherwise}


def matrix(name: str, first: str, second: str, buckets=None, otherwise=None) -> dict:
    return {"name": name, "at": "m.score:10", "matrix": [first, second],
            "buckets": None if buckets is None else [[label, list(cells)]
                                                     for label, cells in buckets],
            "else": otherwise}


def stage(name: str, condition) -> dict:
    return {"name": name, "at": "m.score:11", "condition": condition}


def trigger(condition, *actions, each_time=False) -> dict:
    return {"id": "", "at": "", "condition": condition, "each_time": each_time,
            "actions": [{"action": kind, "arg": arg} for kind, arg in actions]}


def table(scores=None, groups=(), rules=(), profiles=(), inactivity=(), activity=None,
          grades=(), stages=(), triggers=(), require=None, timezone="UTC",
          sha256="0" * 64) -> dict:
    """A complete format-2 table; ids and `file:line` positions are numbered in order."""
    built = {
        "format": 2, "source": {"sha256": sha256, "file": "m.score"}, "timezone": timezone,
        "scores": list(scores or [score("score")]), "groups": list(groups),
        "require": require, "rules": [dict(r) for r in rules],
        "profile": [dict(p) for p in profiles], "inactivity": [dict(i) for i in inactivity],
        "activity": None if activity is None else list(activity), "grades": list(grades),
        "stages": list(stages), "triggers": [dict(t) for t in triggers],
        "dispatch": {}, "answers": {},
    }
    line = 20
    for key, prefix in (("rules", None), ("profile", "p"), ("inactivity", "i"),
                        ("triggers", "t")):
        for index, item in enumerate(built[key]):
            kind = prefix or item["kind"][0]
            item["id"] = item["id"] or f"{kind}-{index:08x}"
            item["at"] = item["at"] or f"m.score:{line}"
            line += 1
    return optimize(built)
