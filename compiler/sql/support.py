"""Which parts of a rule table each SQL dialect computes exactly; diagnostics for the rest.

The SQL targets never approximate: whatever they cannot express is refused at compile time
with an E3xx diagnostic that names the construct and the engines that do support it.

| construct | duckdb | spark | postgres | snowflake | bigquery |
|---|---|---|---|---|---|
| event rules: targets, globs, lists, `where` on props and `contact.X` | yes | yes | yes | yes | yes |
| caps: once, at most N, per day/week/month in the model's time zone | yes | yes | yes | yes | yes |
| absence rules, profile rules, decay, expiry, clamping, grades, require | yes | yes | yes | yes | yes |
| stages and triggers (`once`, `each time`) | yes | yes | yes | yes | yes |
| `reset` in exactly one trigger, which fires `once` | yes | yes | yes | yes | yes |
| `reset` in an `each time` trigger or in several triggers | no | no | no | no | no |
| a stage condition that reads `stage` (the stage before the move) | yes | yes | yes | yes | yes |
| text containing NUL | yes | yes | no | yes | yes |
| v2: quoted event names, labels with digits, matrix grades | yes | yes | yes | yes | yes |
| v2: groups with bounds, inactivity rules (`every`, `at most`, `activity`), `by PROP` | yes | yes | yes | yes | yes |
| calendar caps in the zones CET, EET, MET, WET, EST, MST, HST | yes | yes | no | yes | yes |
| `within` / inactivity `after` over 103,819,094 days (E302) | no | no | no | no | no |

(`yes` for snowflake and bigquery means "generated"; duckdb, spark and postgres are executed
by the tests of this repository, see docs/sql.md.)
"""
from __future__ import annotations

from dsl.diagnostics import Diagnostic, error
from dsl.source import Span
from runtime import FORMAT

from .dialects import Dialect

ELSEWHERE = "run it with `score run --engine python` (or `--engine spark`)"


def span_of(at: str | None) -> Span | None:
    """A rule's `at` (`file:line`) as a span covering the line's start."""
    if not at or ":" not in at:
        return None
    file, _, line = at.rpartition(":")
    if not line.isdigit():
        return None
    return Span(file, int(line), 1, int(line), 1)


def unsupported(table: dict, dialect: Dialect) -> list[Diagnostic]:
    """Diagnostics (E301) for every construct of `table` that `dialect` cannot compute."""
    out: list[Diagnostic] = []
    engine = f"the {dialect.name} SQL engine"
    if table.get("format") != FORMAT:
        out.append(error("E301", f"rule table format {table.get('format')!r} is not supported "
                         f"by {engine} (it reads format {FORMAT})", None))
        return out
    resetting = [t for t in table["triggers"] if any(a["action"] == "reset"
                                                      for a in t["actions"])]
    for trigger in resetting:
        if trigger.get("each_time"):
            out.append(error(
                "E301", f"`reset` in an `each time` trigger is not supported by {engine}: "
                "each reset changes every later evaluation point (a recursive state)",
                span_of(trigger.get("at")), hint=ELSEWHERE))
    once = [t for t in resetting if not t.get("each_time")]
    if len(once) > 1:
        for trigger in once[1:]:
            out.append(error(
                "E301", f"`reset` in more than one trigger is not supported by {engine} "
                f"(only one `once` trigger may reset; the first is at {once[0].get('at')})",
                span_of(trigger.get("at")), hint=ELSEWHERE))
    out += _zone_abbreviation(table, dialect, engine)
    out += _long_durations(table, engine)
    return out


# The latest time an event can have (9999-12-31T23:59:59.999999Z, in epoch microseconds): the
# query adds an absence rule's `within` and an inactivity rule's `after` to event times, so a
# longer duration could leave BIGINT (DuckDB, PostgreSQL and ANSI Spark fail; Spark without
# ANSI would wrap). E008 already refuses durations of 2^63 us and more everywhere.
LATEST = 253_402_300_799_999_999
LONGEST = 2 ** 63 - 1 - LATEST  # 8,970,000,000,000,000,000 us: about 103,819,000 days


def _long_durations(table: dict, engine: str) -> list[Diagnostic]:
    """E302 for a duration that an event time plus it could take beyond BIGINT."""
    out = []
    items = [(r, "within", r.get("within")) for r in table["rules"] if r["kind"] != "event"]
    items += [(r, "after", r.get("after")) for r in table.get("inactivity") or ()]
    for rule, word, value in items:
        if type(value) is int and value > LONGEST:
            out.append(error(
                "E302", f"`{word}` of {value // 86_400_000_000:,} days is not supported by "
                f"{engine}: an event time plus it may leave its 64-bit integers (at most "
                f"{LONGEST // 86_400_000_000:,} days)", span_of(rule.get("at")),
                hint="write a shorter duration, or run it with `score run --engine python` "
                "(every SQL engine refuses it)"))
    return out


def _zone_abbreviation(table: dict, dialect: Dialect, engine: str) -> list[Diagnostic]:
    """A calendar cap in a zone whose name the dialect reads as a fixed-offset abbreviation
    (PostgreSQL: `CET` is always +01:00 there, the IANA zone `CET` has summer time)."""
    zone = table.get("timezone") or "UTC"
    if zone.upper() not in dialect.zone_abbreviations:
        return []
    capped = [r for r in table["rules"] if (r.get("limit") or {}).get("per")]
    if not capped:
        return []  # the zone is only used by calendar caps
    return [error(
        "E301", f"calendar caps (`per {capped[0]['limit']['per']}`) in time zone `{zone}` are "
        f"not supported by {engine}: it reads `{zone}` as a fixed-offset time zone abbreviation, "
        "not as the IANA zone", span_of(capped[0].get("at")),
        hint=f"name the zone by a region and city (e.g. `Europe/Berlin`, not `CET`), or "
        f"{ELSEWHERE}")]
