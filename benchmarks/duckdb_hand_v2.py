"""Hand-written DuckDB SQL for the v2 example (`examples/hubspot_port.score`), what an engineer
fluent in SQL would write for this one model instead of generating it: the complete section-7
result (scores, grades, stage, actions), exactly what the runtime computes, reset included.

It reads the tables the generated query reads (`compiler/run/engines/duckdb.py`):
`events(line, contact, event, target, at BIGINT microseconds, id, props JSON)` and
`contacts(contact, profile JSON text)`, so both queries start from the same loaded data.

What it specialises, because it follows from this model:
- every event matches at most one event rule (the rules' event types and targets are
  disjoint), so an event's award rides on the event's own evaluation point: one row per
  point, no separate award rows;
- fit reads the profile only, so `fit`, `fit_tier` (and which engagement makes the priority
  hot or the lane nurture) are fixed per contact;
- there is no decay or expiry: a slot's value at a point is a running sum of its deltas;
- `stage SQL when stage is MQL and engagement >= 80`: MQL is the first point whose priority
  is hot (A1, A2, B1); SQL the first point after it with engagement >= 80. For a tier A or B
  contact engagement >= 80 makes the priority hot, so the MQL point comes no later than the
  first point with engagement >= 80, and SQL is the first or the second of those points;
- SQL fires the `once` reset: after that point the engagement slots count from zero, i.e.
  their running sums minus the sums at the SQL point (`base`); the contacts that reach SQL
  get this second look, the others are done after one window;
- `when lane is nurture tag nurture each time` fires where the lane becomes nurture; the
  previous point's sums are `run - d` (no second window), and at the point after the reset
  the previous point is the SQL point, seen before its reset.
`full` turns the rows into the runtime's JSON shape (not part of the query's cost).
"""
from __future__ import annotations

from datetime import datetime, timezone

SQL = """
WITH
tnow AS (SELECT max("at") AS t FROM events),
people AS MATERIALIZED (
  SELECT k.contact, COALESCE(p.consent, FALSE) AS scored,
         least(greatest(
             least(CASE WHEN p.job_title IN ('CEO', 'CTO') OR p.job_title LIKE 'VP%'
                             OR p.job_title LIKE 'Head of%' THEN 25 ELSE 0 END
                 + CASE WHEN p.seniority = 'director' THEN 15 ELSE 0 END, 40)
           + least(CASE WHEN p.company_size >= 200 THEN 30 ELSE 0 END
                 + CASE WHEN p.company_size >= 50 THEN 15 ELSE 0 END
                 + CASE WHEN p.industry IN ('Software', 'SaaS') THEN 20 ELSE 0 END, 60)
           + CASE WHEN p.email_domain IN ('gmail.com', 'yahoo.com', 'outlook.com')
                  THEN -20 ELSE 0 END, 0), 100) AS fit
  FROM (SELECT contact FROM events UNION SELECT contact FROM contacts) k
  LEFT JOIN (
    SELECT contact,
           json_extract(profile, '$.consent')::VARCHAR = 'true' AS consent,
           profile->>'$.job_title' AS job_title, profile->>'$.seniority' AS seniority,
           CASE WHEN json_type(profile, '$.company_size') IN ('BIGINT', 'UBIGINT', 'DOUBLE')
                THEN (profile->>'$.company_size')::DOUBLE END AS company_size,
           profile->>'$.industry' AS industry, profile->>'$.email_domain' AS email_domain
    FROM contacts) p USING (contact)
),
tiers AS MATERIALIZED (
  -- the engagement from which the priority is hot, and below which the lane is nurture
  SELECT contact, fit, CASE WHEN fit >= 60 THEN 'A' WHEN fit >= 30 THEN 'B' ELSE 'C' END AS tier,
         CASE WHEN fit >= 60 THEN 25 WHEN fit >= 30 THEN 60 END AS hot_from,
         CASE WHEN fit >= 60 THEN NULL WHEN fit >= 30 THEN 25 ELSE 60 END AS nurture_below
  FROM people WHERE scored
),
ev AS MATERIALIZED (
  SELECT e.contact, e.event, e.target, e."at" AS ts, e.line AS seq, e.props
  FROM events e SEMI JOIN tiers USING (contact), tnow
  WHERE e."at" <= tnow.t
  QUALIFY e.id IS NULL OR row_number() OVER (PARTITION BY e.contact, e.id ORDER BY e."at", e.line) = 1
),
-- event rules; the capped ones through one window, partitioned by rule and period
capped AS (
  SELECT contact, ts, seq, rule,
         row_number() OVER (PARTITION BY contact, rule, period ORDER BY ts, seq) <= lim AS c
  FROM (
    SELECT contact, ts, seq,
           CASE WHEN event = 'Email Opened' THEN 1 WHEN event = 'Page Viewed' AND target = '/pricing' THEN 4
                WHEN event = 'Page Viewed' THEN 5 WHEN event = 'Form Submitted' THEN 7 ELSE 9 END AS rule,
           CASE WHEN event = 'Email Opened' THEN 5 WHEN event = 'Page Viewed' AND target = '/pricing' THEN 2
                WHEN event = 'Page Viewed' THEN 5 ELSE 1 END AS lim,
           CASE WHEN event = 'Email Opened' OR target = '/pricing'
                THEN date_trunc('day', timezone('America/New_York', make_timestamptz(ts)))
                WHEN event = 'Page Viewed'
                THEN date_trunc('week', timezone('America/New_York', make_timestamptz(ts))) END AS period
    FROM ev
    WHERE event = 'Email Opened' OR event = 'Meeting Booked'
       OR event = 'Page Viewed' AND (target = '/pricing' OR target LIKE '/blog/%')
       OR event = 'Form Submitted' AND target = 'demo-request')
),
-- the points with their own award: email, web, events, manual, ungrouped engagement
event_points AS (
  SELECT contact, ts, 0 AS kind, seq,
         CASE WHEN event = 'Email Clicked' THEN 5 ELSE 0 END AS d_email,
         CASE WHEN event = 'Webinar Attended' THEN 15 ELSE 0 END AS d_events,
         0 AS d_web,
         CASE WHEN event = 'sales_adjust' THEN
           least(greatest(CASE WHEN json_type(props, '$.points') IN ('BIGINT', 'UBIGINT')
                               THEN TRY_CAST(props->>'$.points' AS BIGINT)
                               WHEN json_type(props, '$.points') = 'DOUBLE'
                                    AND TRY_CAST(props->>'$.points' AS DOUBLE) % 1 = 0
                               THEN TRY_CAST(TRY_CAST(props->>'$.points' AS DOUBLE) AS BIGINT) END,
                          -25), 25) ELSE 0 END AS d_manual,
         CASE WHEN event = 'Email Unsubscribed' THEN -20
              WHEN event = 'Page Viewed' AND target = '/careers' THEN -10 ELSE 0 END AS d_other
  FROM ev
  WHERE NOT (event = 'Email Opened' OR event = 'Meeting Booked'
             OR event = 'Page Viewed' AND (target = '/pricing' OR target LIKE '/blog/%')
             OR event = 'Form Submitted' AND target = 'demo-request')
  UNION ALL
  SELECT contact, ts, 0, seq,
         CASE WHEN c AND rule = 1 THEN 2 ELSE 0 END, 0,
         CASE WHEN NOT c THEN 0 WHEN rule = 4 THEN 10 WHEN rule = 5 THEN 3 ELSE 0 END, 0,
         CASE WHEN NOT c THEN 0 WHEN rule = 7 THEN 30 WHEN rule = 9 THEN 25 ELSE 0 END
  FROM capped
),
-- "Email Sent" without "Email Opened" (same target) within 7 days -2 email, at most 3 per month
absent AS (
  SELECT contact, due, a_ts, a_seq FROM (
    SELECT contact, ts + 604800000000 AS due, ts AS a_ts, seq AS a_seq, event,
           count(*) FILTER (WHERE event = 'Email Opened') OVER (
             PARTITION BY contact, target ORDER BY ts
             RANGE BETWEEN CURRENT ROW AND 604800000000 FOLLOWING) AS opens
    FROM ev WHERE event IN ('Email Sent', 'Email Opened')) s, tnow
  WHERE event = 'Email Sent' AND opens = 0 AND due <= tnow.t
),
absences AS (
  SELECT contact, due,
         row_number() OVER (PARTITION BY contact, date_trunc('month',
             timezone('America/New_York', make_timestamptz(due))) ORDER BY a_ts, a_seq) <= 3 AS c
  FROM absent
),
-- inactive 30 days -10 every 30 days at most 3: dues u + 30, 60, 90 days before the next activity
spells AS (
  SELECT contact, u, lead(u) OVER (PARTITION BY contact ORDER BY u) AS v
  FROM (SELECT DISTINCT contact, ts AS u FROM ev
        WHERE event IN ('Email Opened', 'Email Clicked', 'Page Viewed', 'Form Submitted',
                        'Webinar Attended'))
),
quiet AS (
  SELECT s.contact, s.u + k.n * 2592000000000 AS due
  FROM spells s, (VALUES (1), (2), (3)) k(n), tnow
  WHERE s.u + k.n * 2592000000000 <= tnow.t AND (s.v IS NULL OR s.u + k.n * 2592000000000 < s.v)
),
due_points AS (
  SELECT contact, due AS ts, 1 AS kind, 0 AS seq,
         sum(d_email) AS d_email, 0 AS d_events, 0 AS d_web, 0 AS d_manual, sum(d_other) AS d_other
  FROM (SELECT contact, due, CASE WHEN c THEN -2 ELSE 0 END AS d_email, 0 AS d_other FROM absences
        UNION ALL SELECT contact, due, 0, -10 FROM quiet)
  GROUP BY contact, due
),
points AS (
  SELECT * FROM event_points
  UNION ALL SELECT * FROM due_points
  UNION ALL SELECT contact, tnow.t, 2, 0, 0, 0, 0, 0, 0 FROM tiers, tnow WHERE tnow.t IS NOT NULL
),
run AS MATERIALIZED (
  SELECT r.*, t.hot_from, t.nurture_below,
         -- engagement before any reset, now and at the previous point
         least(greatest(least(r.email, 40) + least(r.web, 50) + least(r.events, 30)
                        + least(greatest(r.manual, -50), 50) + r.other, 0), 100) AS eng,
         least(greatest(least(r.email - r.d_email, 40) + least(r.web - r.d_web, 50)
                        + least(r.events - r.d_events, 30)
                        + least(greatest(r.manual - r.d_manual, -50), 50) + r.other - r.d_other,
                        0), 100) AS eng_prev
  FROM (
    SELECT p.*,
           row_number() OVER w AS pn,
           sum(d_email) OVER w AS email, sum(d_web) OVER w AS web, sum(d_events) OVER w AS events,
           sum(d_manual) OVER w AS manual, sum(d_other) OVER w AS other
    FROM points p
    WINDOW w AS (PARTITION BY contact ORDER BY ts, kind, seq ROWS UNBOUNDED PRECEDING)) r
  JOIN tiers t USING (contact)
),
journey AS MATERIALIZED (
  -- per contact, points as {pn, ts}: MQL, SQL (the reset), the first email >= 40 and the
  -- points where the lane becomes nurture (both right up to the reset), the values at T
  SELECT contact, mql,
         CASE WHEN mql IS NULL THEN NULL WHEN e80[1].pn > mql.pn THEN e80[1] ELSE e80[2] END AS sql,
         email, nurture, last_pn, last_eng
  FROM (
    SELECT contact,
           min({'pn': pn, 'ts': ts}) FILTER (WHERE eng >= hot_from) AS mql,
           min({'pn': pn, 'ts': ts}, 2) FILTER (WHERE eng >= 80) AS e80,
           min({'pn': pn, 'ts': ts}) FILTER (WHERE email >= 40) AS email,
           list({'pn': pn, 'ts': ts} ORDER BY pn) FILTER (
             WHERE eng < nurture_below AND (pn = 1 OR eng_prev >= nurture_below)) AS nurture,
           max(pn) AS last_pn, arg_max(eng, pn) AS last_eng
    FROM run GROUP BY contact)
),
-- after the reset: the engagement slots count from zero (the sums at the SQL point, `b`)
after AS (
  SELECT a.contact, a.pn, a.ts,
         least(greatest(least(a.email - b.email, 40) + least(a.web - b.web, 50)
                        + least(a.events - b.events, 30)
                        + least(greatest(a.manual - b.manual, -50), 50) + a.other - b.other,
                        0), 100) AS eng,
         CASE WHEN a.pn = b.pn + 1 THEN a.eng_prev ELSE
         least(greatest(least(a.email - a.d_email - b.email, 40)
                        + least(a.web - a.d_web - b.web, 50)
                        + least(a.events - a.d_events - b.events, 30)
                        + least(greatest(a.manual - a.d_manual - b.manual, -50), 50)
                        + a.other - a.d_other - b.other, 0), 100) END AS eng_prev,
         a.email - b.email AS email, a.nurture_below
  FROM journey j
  JOIN run b ON b.contact = j.contact AND b.pn = j.sql.pn
  JOIN run a ON a.contact = j.contact AND a.pn > j.sql.pn
),
after_journey AS (
  SELECT contact,
         min({'pn': pn, 'ts': ts}) FILTER (WHERE email >= 40) AS email,
         list({'pn': pn, 'ts': ts} ORDER BY pn) FILTER (
           WHERE eng < nurture_below AND eng_prev >= nurture_below) AS nurture,
         arg_max(eng, pn) AS last_eng
  FROM after GROUP BY contact
)
SELECT p.contact, p.scored, t.fit, t.tier,
       CASE WHEN j.sql IS NULL THEN j.last_eng ELSE COALESCE(aj.last_eng, 0) END AS engagement,
       CASE WHEN j.sql IS NOT NULL THEN 'SQL' WHEN j.mql IS NOT NULL THEN 'MQL' END AS stage,
       j.mql, j.sql,
       CASE WHEN j.sql IS NULL OR j.email.pn <= j.sql.pn THEN j.email ELSE aj.email END AS email,
       list_concat(CASE WHEN j.sql IS NULL THEN j.nurture
                        ELSE list_filter(j.nurture, lambda x: x.pn <= j.sql.pn) END,
                   aj.nurture) AS nurture
FROM people p
LEFT JOIN tiers t USING (contact)
LEFT JOIN journey j USING (contact)
LEFT JOIN after_journey aj USING (contact)
ORDER BY p.contact
"""


def _at(micros: int) -> str:
    return datetime.fromtimestamp(micros // 1_000_000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


GRADE_HEAT = ((60, "1"), (25, "2"))
HOT, WARM = ("A1", "A2", "B1"), ("A3", "B2", "C1")


def full(rows) -> dict:
    """The query's rows as section-7 results by contact, in the runtime's JSON shape."""
    out = {}
    for contact, scored, fit, tier, engagement, stage, mql, sql, email, nurture in rows:
        if not scored:
            out[contact] = {"contact": contact, "scores": {"engagement": None, "fit": None},
                            "grades": {}, "stage": None, "actions": []}
            continue
        heat = next((label for low, label in GRADE_HEAT if engagement >= low), "3")
        priority = tier + heat
        lane = "hot" if priority in HOT else "warm" if priority in WARM else "nurture"
        actions = []  # (point, trigger, action) sorts them in evaluation order
        if mql is not None:
            actions.append((mql["pn"], 0, 0, mql["ts"], "notify", "sales"))
        if sql is not None:
            actions += [(sql["pn"], 1, 0, sql["ts"], "notify", "account-executive"),
                        (sql["pn"], 1, 1, sql["ts"], "reset", "engagement")]
        if email is not None:
            actions.append((email["pn"], 2, 0, email["ts"], "tag", "email-maxed"))
        actions += [(n["pn"], 3, 0, n["ts"], "tag", "nurture") for n in nurture or ()]
        out[contact] = {
            "contact": contact, "scores": {"engagement": engagement, "fit": fit},
            "grades": {"fit_tier": tier, "heat": heat, "priority": priority, "lane": lane},
            "stage": stage,
            "actions": [{"at": _at(ts), "action": action, "arg": arg}
                        for _, _, _, ts, action, arg in sorted(actions)]}
    return out


def load(connection, events_path: str, contacts_path: str | None) -> None:
    """Tables `events` and `contacts` as the DuckDB engine loads and validates them (rejects
    and all), for both the generated query and `SQL`."""
    from compiler.run.engines import duckdb_contacts, duckdb_input

    duckdb_contacts.load_contacts(connection, contacts_path)
    duckdb_input.load_events(connection, events_path, lambda reject: None, None)
    connection.execute("CREATE OR REPLACE TABLE events AS SELECT line, contact, event, target, "
                       f"\"at\", id, props FROM {duckdb_input.TABLE}")
    connection.execute("CREATE OR REPLACE TABLE contacts AS SELECT contact, profile "
                       f"FROM {duckdb_contacts.TABLE}")
