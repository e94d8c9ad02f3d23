"""Hand-written DuckDB SQL for the B2B model (`benchmarks/b2b.score`), what an engineer fluent
in SQL would write for this one model instead of generating it: typed profile columns, the
rules as a VALUES table, and everything the model allows to be specialised, specialised.

- `FULL_SQL`: the complete section-7 result (scores, grade, stage, actions), exactly what the
  runtime computes, reset included. It follows from the model that
  - `tier` reads `fit` only (profile points), so it is fixed per contact;
  - the stage is SQL from the first evaluation point where the (unclamped) engagement sum
    reaches 80, which is also where `notify sales, reset engagement` fires (a `once` trigger);
    after it nothing but the engagement total can change (SQL is the last stage);
  - before that, MQL is reached where engagement >= 50 with tier A or B;
  - `tag "not-a-fit"` fires at the first evaluation point of a tier-D contact;
  - engagement at an evaluation point needs the decay steps reached by then: each award adds a
    change row at every 30-day step where its truncated worth changes (`steps`), and a running
    sum in evaluation order (time; decay steps, events, absence dues, the as-of time; awards
    before their own point) is the value.
- `SCORES_SQL`: the final scores and grade only, ignoring the lifecycle (so wrong wherever a
  reset fired): the lower bound of what a batch query on one machine costs.
"""
from __future__ import annotations

from fractions import Fraction

DAY = 86_400_000_000
DECAY_EVERY = 30 * DAY
POINTS = (5, 10, 15, 25, 30, 1, -10, -20, -5)  # every award size of the engagement rules


def multipliers(limit: int = 400) -> list[int]:
    """M_k = floor(10^9 * 0.9^k) exactly, for `decay engagement 10% every 30 days`."""
    keep = Fraction(9, 10)
    return [int(10**9 * keep**k) for k in range(limit)]


def _worth(points: int, k: int, table: list[int]) -> int:
    value = abs(points) * (table[k] if k < len(table) else 0) // 10**9
    return value if points >= 0 else -value


def steps() -> list[tuple[int, int, int]]:
    """(points, age, change of the truncated worth) at every decay step where it changes."""
    table = multipliers()
    rows = []
    for points in POINTS:
        for k in range(1, len(table) + 1):
            delta = _worth(points, k, table) - _worth(points, k - 1, table)
            if delta:
                rows.append((points, k * DECAY_EVERY, delta))
    return rows


def load(connection, parquet_path: str, contacts_path: str) -> None:
    """Events from Parquet (with their row number as input order), typed contacts, and the
    decay tables."""
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(
        "CREATE OR REPLACE TABLE events AS SELECT file_row_number AS seq, contact, event, "
        "target, epoch_us(\"at\") AS ts_us, \"at\" AS ts, id "
        "FROM read_parquet(?, file_row_number = true)",
        [parquet_path])
    connection.execute(
        "CREATE OR REPLACE TABLE contacts AS SELECT * FROM read_json(?, "
        "format = 'newline_delimited', columns = {contact: 'VARCHAR', title: 'VARCHAR', "
        "employees: 'BIGINT', consent: 'BOOLEAN'})",
        [contacts_path])
    connection.execute("CREATE OR REPLACE TABLE multipliers (k BIGINT, mult BIGINT)")
    connection.executemany("INSERT INTO multipliers VALUES (?, ?)",
                           [(k, m) for k, m in enumerate(multipliers()) if m])
    connection.execute("CREATE OR REPLACE TABLE steps (points BIGINT, age BIGINT, d BIGINT)")
    connection.executemany("INSERT INTO steps VALUES (?, ?, ?)", steps())


_COMMON = """
horizon AS (SELECT max(ts_us) AS t FROM events),
dedup AS (
  SELECT * FROM events
  QUALIFY id IS NULL OR row_number() OVER (PARTITION BY contact, id ORDER BY ts_us, seq) = 1
),
rules(rule, event, target, pattern, points, cap, per_day) AS (VALUES
  (1, 'visit', 'home', NULL, 5, 1, true),
  (2, 'visit', NULL, 'blog/%', 10, 5, false),
  (3, 'visit', 'pricing', NULL, 15, NULL, false),
  (4, 'download', 'ebook', NULL, 15, NULL, false),
  (4, 'download', 'whitepaper', NULL, 15, NULL, false),
  (5, 'register', 'webinar', NULL, 25, NULL, false),
  (6, 'submit', 'contact_form', NULL, 30, 1, false),
  (7, 'email_open', NULL, NULL, 1, 3, true),
  (8, 'visit', 'careers', NULL, -10, NULL, false),
  (9, 'unsubscribe', NULL, NULL, -20, NULL, false)
),
matched AS (
  SELECT d.contact, d.ts_us, d.seq, r.rule, r.points, r.cap,
         CASE WHEN r.per_day THEN CAST(timezone('Europe/Berlin', d.ts) AS DATE) END AS period
  FROM dedup d JOIN rules r ON d.event = r.event
   AND (r.target IS NULL AND r.pattern IS NULL OR d.target = r.target OR d.target LIKE r.pattern)
),
capped AS (
  SELECT contact, ts_us, 0 AS kind, seq, points FROM matched
  QUALIFY cap IS NULL
       OR row_number() OVER (PARTITION BY contact, rule, period ORDER BY ts_us, seq) <= cap
),
absent AS (
  SELECT s.contact, s.ts_us + 86400000000 AS ts_us, 1 AS kind, 0 AS seq, -5 AS points
  FROM dedup s, horizon
  WHERE s.event = 'email_sent' AND s.ts_us + 86400000000 <= horizon.t
    AND NOT EXISTS (SELECT 1 FROM dedup o WHERE o.contact = s.contact
                    AND o.event = 'email_open' AND o.target IS NOT DISTINCT FROM s.target
                    AND o.ts_us BETWEEN s.ts_us AND s.ts_us + 86400000000)
),
people AS (
  SELECT e.contact, p.consent IS TRUE AS scored,
         CASE WHEN p.title IN ('CEO', 'CTO') OR p.title LIKE 'VP%' THEN 20 ELSE 0 END
       + CASE WHEN p.employees >= 200 THEN 15 ELSE 0 END
       + CASE WHEN p.employees < 10 THEN -10 ELSE 0 END AS fit
  FROM (SELECT contact FROM contacts UNION SELECT contact FROM events) e
  LEFT JOIN contacts p USING (contact)
),
graded AS (
  SELECT *, CASE WHEN fit >= 30 THEN 'A' WHEN fit >= 15 THEN 'B' WHEN fit >= 0 THEN 'C'
                 ELSE 'D' END AS tier
  FROM people
)"""

SCORES_SQL = "WITH" + _COMMON + """,
engagement AS (
  SELECT a.contact,
         sum(CASE WHEN m.mult IS NULL THEN 0 ELSE (a.points * m.mult) // 1000000000 END) AS total
  FROM (SELECT * FROM capped UNION ALL SELECT * FROM absent) a CROSS JOIN horizon
  LEFT JOIN multipliers m ON m.k = (horizon.t - a.ts_us) // 2592000000000
  GROUP BY a.contact
)
SELECT contact,
       CASE WHEN scored THEN least(greatest(coalesce(g.total, 0), 0), 100) END AS engagement,
       CASE WHEN scored THEN fit END AS fit,
       CASE WHEN scored THEN tier END AS tier
FROM graded LEFT JOIN engagement g USING (contact) ORDER BY contact
"""

FULL_SQL = "WITH" + _COMMON + """,
awards AS (
  SELECT a.* FROM (SELECT * FROM capped UNION ALL SELECT * FROM absent) a
  JOIN graded p USING (contact) WHERE p.scored
),
points AS (
  SELECT d.contact, d.ts_us AS ts, 0 AS kind, d.seq FROM dedup d JOIN graded p USING (contact)
  WHERE p.scored
  UNION ALL
  SELECT DISTINCT contact, ts_us, 1, 0 FROM awards WHERE kind = 1
  UNION ALL
  SELECT contact, horizon.t, 2, 0 FROM graded, horizon WHERE scored AND horizon.t IS NOT NULL
),
flow AS (
  SELECT contact, ts, kind, seq, 1 AS isp, 0 AS d FROM points
  UNION ALL
  SELECT contact, ts_us, kind, seq, 0, points FROM awards
  UNION ALL
  SELECT a.contact, a.ts_us + s.age, -1, 0, 0, s.d
  FROM awards a JOIN steps s ON s.points = a.points, horizon
  WHERE a.ts_us + s.age <= horizon.t
),
valued AS (
  SELECT contact, ts, kind, seq, isp,
         sum(d) OVER (PARTITION BY contact ORDER BY ts, kind, seq, isp ROWS UNBOUNDED PRECEDING) AS v
  FROM flow
  QUALIFY isp = 1
),
journey AS (
  SELECT v.contact,
         min((v.ts, v.kind, v.seq)) AS first_point,
         min((v.ts, v.kind, v.seq)) FILTER (WHERE v.v >= 80) AS cut,
         bool_or(v.v >= 50 AND g.tier IN ('A', 'B')) AS mql
  FROM valued v JOIN graded g USING (contact)
  GROUP BY v.contact
),
engagement AS (
  SELECT a.contact,
         sum(CASE WHEN m.mult IS NULL THEN 0 ELSE (a.points * m.mult) // 1000000000 END) AS total
  FROM awards a CROSS JOIN horizon
  LEFT JOIN journey j USING (contact)
  LEFT JOIN multipliers m ON m.k = (horizon.t - a.ts_us) // 2592000000000
  WHERE j.cut IS NULL OR (a.ts_us, a.kind, a.seq) > j.cut
  GROUP BY a.contact
)
SELECT g.contact, g.scored,
       least(greatest(coalesce(e.total, 0), 0), 100) AS engagement, g.fit, g.tier,
       CASE WHEN j.cut IS NOT NULL THEN 'SQL' WHEN j.mql THEN 'MQL' END AS stage,
       j.cut AS cut,
       CASE WHEN g.tier = 'D' THEN j.first_point END AS tag
FROM graded g LEFT JOIN journey j USING (contact) LEFT JOIN engagement e USING (contact)
ORDER BY g.contact
"""


def _at(micros: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(micros // 1_000_000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def scores(rows: list[tuple]) -> dict:
    """`SCORES_SQL`'s rows by contact."""
    return {contact: {"engagement": engagement, "fit": fit, "tier": tier}
            for contact, engagement, fit, tier in rows}


def full(rows: list[tuple]) -> dict:
    """`FULL_SQL`'s rows as section-7 results by contact, in the runtime's JSON shape."""
    out = {}
    for contact, scored, engagement, fit, tier, stage, cut, tag in rows:
        if not scored:
            out[contact] = {"contact": contact, "scores": {"engagement": None, "fit": None},
                            "grades": {}, "stage": None, "actions": []}
            continue
        actions = []
        if cut is not None:
            actions += [(tuple(cut), 0, "notify", "sales"), (tuple(cut), 1, "reset", "engagement")]
        if tag is not None:
            actions.append((tuple(tag), 2, "tag", "not-a-fit"))
        out[contact] = {
            "contact": contact, "scores": {"engagement": engagement, "fit": fit},
            "grades": {"tier": tier}, "stage": stage,
            "actions": [{"at": _at(at[0]), "action": action, "arg": arg}
                        for at, _, action, arg in sorted(actions)]}
    return out
