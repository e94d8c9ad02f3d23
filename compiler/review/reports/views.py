"""View models: plain dicts of display-ready values for the templates (decisions live here)."""
from __future__ import annotations

WIDTH = 80


def rule(title: str = "", char: str = "=") -> str:
    """A pytest-like separator line: `===== FAILURES =====`."""
    if not title:
        return char * WIDTH
    side = max(3, (WIDTH - len(title) - 2) // 2)
    return f"{char * side} {title} {char * side}"


# --------------------------------------------------------------------------- score test


def test_view(run) -> dict:
    """`run` is a `compiler.review.testing.TestRun`."""
    failures = [o for o in run.outcomes if not o.passed]
    return {
        "lines": [{"id": o.node_id, "status": "PASSED" if o.passed else "FAILED"}
                  for o in run.outcomes],
        "failures_rule": rule("FAILURES"),
        "failures": [_failure_view(o) for o in failures],
        "summary_rule": rule(),
        "summary": run.summary(),
    }


def _failure_view(outcome) -> dict:
    return {
        "rule": rule(outcome.node_id, "_"),
        "errors": list(outcome.errors),
        "expects": [{"at": e.at, "text": e.text, "expected": e.expected, "actual": e.actual,
                     "because": list(e.because)} for e in outcome.failures],
    }


# --------------------------------------------------------------------------- journeys


def percent(value: float | None) -> str:
    return "-" if value is None else f"{round(value * 100)}%"


def decimal(value: float | None, places: int = 1) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def journeys_view(report) -> dict:
    """`report` is a `compiler.review.journeys.JourneyReport`."""
    return {
        "model": report.model,
        "source": report.source,
        "won": report.won,
        "lost": report.lost,
        "stages": [{"stage": r.stage, "mark": " (hand-over)" if r.handover else "",
                    "won": f"{r.split.won}/{r.split.won_total}",
                    "lost": f"{r.split.lost}/{r.split.lost_total}",
                    "precision": percent(r.split.precision), "recall": percent(r.split.recall)}
                   for r in report.stages],
        "scores": [_score_view(r) for r in report.scores],
        "grades": [{"grade": g, "label": label, "won": w, "lost": l}
                   for g, label, w, l in report.grades],
    }


def _score_view(row) -> dict:
    split = row.split
    return {
        "score": row.score, "won_mean": decimal(row.won_mean), "lost_mean": decimal(row.lost_mean),
        "auc": decimal(row.auc, 2),
        "threshold": "-" if row.threshold is None else f">= {row.threshold}",
        "precision": percent(split.precision if split else None),
        "recall": percent(split.recall if split else None),
        "accuracy": percent(split.accuracy if split else None),
    }


# --------------------------------------------------------------------------- score diff

SIGNS = {"added": "+", "removed": "-", "changed": "~"}
BAR = 30  # characters of the widest text histogram bar


MARKDOWN_CHANGES = 150  # per file: a PR comment holds at most 65,536 characters


def diff_view(review, max_changes: int | None = None, max_contacts: int | None = None,
              max_periods: int | None = None) -> dict:
    """`review` is a `compiler.review.compare.Review`; `max_changes` caps the changes shown per file,
    `max_contacts` the changed contacts, `max_periods` the latest periods of `--by` (the rest
    are counted as omitted)."""
    files = [_file_view(f, max_changes, max_contacts, max_periods) for f in review.files]
    shown = [f for f in files if f["status"] != "unchanged"]
    return {
        "old": review.old_label,
        "new": review.new_label,
        "summary": _diff_summary(review),
        "files": shown,
        "unchanged": [f["name"] for f in files if f["status"] == "unchanged"],
        "events": review.events,
        "rejects": review.rejects,
    }


def _diff_summary(review) -> str:
    counts = {"added": 0, "removed": 0, "changed": 0}
    for file in review.files:
        if file.diff is not None and file.status != "unchanged":
            for status, count in file.diff.counts().items():
                counts[status] += count
    changed_files = sum(1 for f in review.files if f.status != "unchanged")
    if not changed_files:
        return "no semantic change"
    files = f"{changed_files} file{'s' if changed_files != 1 else ''}"
    return f"{files}: {counts['added']} added, {counts['removed']} removed, " \
           f"{counts['changed']} changed"


def _file_view(file, max_changes: int | None = None, max_contacts: int | None = None,
               max_periods: int | None = None) -> dict:
    view = {"name": file.name, "status": file.status, "errors": list(file.errors),
            "headline": file.status, "sections": [], "impact": None, "omitted": 0}
    if file.diff is not None:
        counts = file.diff.counts()
        view["headline"] = f"{file.status}: {counts['added']} added, " \
                           f"{counts['removed']} removed, {counts['changed']} changed"
        shown = file.diff.changes if max_changes is None else file.diff.changes[:max_changes]
        view["sections"] = _sections(shown)
        view["omitted"] = len(file.diff.changes) - len(shown)
    if file.impact is not None:
        view["impact"] = impact_view(file.impact, max_contacts, max_periods)
    return view


def _sections(changes) -> list[dict]:
    sections: list[dict] = []
    for change in changes:
        if not sections or sections[-1]["title"] != change.section:
            sections.append({"title": change.section, "changes": []})
        sections[-1]["changes"].append(_change_view(change))
    return sections


def _change_view(change) -> dict:
    if change.status == "added":
        text, at = change.new or change.subject, change.new_at or ""
    elif change.status == "removed":
        text, at = change.old or change.subject, change.old_at or ""
    else:
        text = change.subject
        at = " -> ".join(dict.fromkeys(x for x in (change.old_at, change.new_at) if x))
    return {"sign": SIGNS[change.status], "status": change.status, "kind": change.kind,
            "text": text, "at": at, "old": change.old or "", "new": change.new or "",
            "fields": [_field_text(f) for f in change.fields]}


def _field_text(field) -> str:
    if field.old is None:
        return f"{field.field}: added {field.new}"
    if field.new is None:
        return f"{field.field}: removed (was {field.old})"
    return f"{field.field}: {field.old} -> {field.new}"


MARKDOWN_CONTACTS = 50  # changed contacts listed in Markdown; the HTML lists them all


def impact_view(impact, max_contacts: int | None = None, max_periods: int | None = None) -> dict:
    from .charts import histogram_svg

    contacts = [_contact_view(c) for c in impact.changed]
    shown = contacts if max_contacts is None else contacts[:max_contacts]
    return {
        "contacts": impact.contacts,
        "changed": len(impact.changed),
        "changed_noun": "contact changes" if len(impact.changed) == 1 else "contacts change",
        "movements": [str(m) for m in impact.movements],
        "movers": [{"contact": m.contact, "score": m.score, "before": _value(m.before),
                    "after": _value(m.after),
                    "delta": "hand-over (reset)" if m.handover else f"{m.delta:+d}",
                    "stage": _stage_move(m.stage_before, m.stage_after)}
                   for m in impact.movers],
        "histograms": [_histogram_view(h, histogram_svg(h)) for h in impact.histograms],
        "funnel": _funnel_view(impact),
        "matrix": _matrix_view(impact),
        "changed_contacts": shown,
        "contacts_omitted": len(contacts) - len(shown),
        "score_names": [h.score for h in impact.histograms],
        "periods": None if impact.periods is None else periods_view(impact.periods,
                                                                    max_periods),
        "accounts": None if impact.accounts is None else _accounts_view(impact.accounts,
                                                                        max_contacts),
    }


def _accounts_view(accounts, max_accounts: int | None = None) -> dict:
    """The accounts next to the contacts: movements of account grades, changed accounts
    (cut to `max_accounts` in Markdown, as the contacts are)."""
    changed = [{"account": c.account, "what": "; ".join(c.what)} for c in accounts.changed]
    shown = changed if max_accounts is None else changed[:max_accounts]
    return {"accounts": accounts.accounts, "changed": len(changed),
            "changed_noun": "account changes" if len(changed) == 1 else "accounts change",
            "movements": [str(m) for m in accounts.movements],
            "changed_accounts": shown, "accounts_omitted": len(changed) - len(shown)}


_PERIOD_NOTES = {"week": "weeks from Monday", "month": "calendar months"}
MARKDOWN_PERIODS = 53  # the latest year of weeks: a longer history is in the HTML and JSON


def periods_view(periods, max_periods: int | None = None) -> dict:
    """`periods` is a `compiler.review.by_period.ByPeriod`: one row per period, one column
    per stage entered or action fired; a cell reads `old -> new`, or one number when equal."""
    from .charts import line_svg

    def cell(old: int, new: int) -> str:
        return str(new) if old == new else f"{old} -> {new}"

    columns = [s.name for s in periods.series]
    rows = [{"period": period,
             "cells": [cell(s.old[i], s.new[i]) for s in periods.series]}
            for i, period in enumerate(periods.periods)]
    totals = [cell(sum(s.old), sum(s.new)) for s in periods.series]
    widths = [max([len(c), len(t)] + [len(r["cells"][k]) for r in rows])
              for k, (c, t) in enumerate(zip(columns, totals))]
    return {
        "by": periods.by, "timezone": periods.timezone,
        "title": f"per {periods.by} ({_PERIOD_NOTES[periods.by]}, {periods.timezone}): "
                 "old -> new",
        "columns": columns, "rows": rows, "totals": totals, "widths": widths,
        "period_width": max([len(periods.by), len("total")] + [len(p) for p in periods.periods]),
        "recent": rows if max_periods is None else rows[len(rows) - max_periods:] if max_periods else [],
        "earlier": 0 if max_periods is None else max(0, len(rows) - max_periods),
        "charts": [line_svg(s, periods.periods) for s in periods.series],
    }


def _contact_view(change) -> dict:
    names = list(dict.fromkeys([*change.scores_before, *change.scores_after]))
    return {"contact": change.contact,
            "stage": _stage_move(change.stage_before, change.stage_after),
            "scores": [_score_move(change.scores_before.get(n), change.scores_after.get(n))
                       for n in names],
            "what": "; ".join(change.what)}


def _score_move(before, after) -> str:
    return _value(after) if before == after else f"{_value(before)} -> {_value(after)}"


def _funnel_view(impact) -> list[dict]:
    rows = impact.funnel()
    peak = max([max(b, a) for _, b, a in rows] + [1])
    return [{"stage": stage, "before": b, "after": a, "delta": f"{a - b:+d}",
             "width_before": round(100 * b / peak, 1), "width_after": round(100 * a / peak, 1)}
            for stage, b, a in rows]


def _matrix_view(impact) -> dict:
    """Rows: the stage under the old model; columns: under the new one; the diagonal is the
    contacts that stayed."""
    names = [None, *impact.stages] + sorted({s for t in impact.transitions
                                             for s in (t.before, t.after)
                                             if s is not None and s not in impact.stages})
    counts = {(t.before, t.after): t.count for t in impact.transitions}
    used = [n for n in names if any(counts.get((n, m)) or counts.get((m, n)) for m in names)]
    return {"labels": [n or "(none)" for n in used],
            "rows": [{"label": b or "(none)",
                      "cells": [{"count": counts.get((b, a), 0), "stayed": a == b}
                                for a in used]} for b in used],
            "moved": sum(t.count for t in impact.transitions if t.before != t.after)}


def _value(value) -> str:
    return "unscored" if value is None else str(value)


def _stage_move(before, after) -> str:
    if before == after:
        return before or "(none)"
    return f"{before or '(none)'} -> {after or '(none)'}"


def _histogram_view(histogram, svg: dict) -> dict:
    peak = max([max(b.before, b.after) for b in histogram.bins] + [1])
    last = len(histogram.bins) - 1
    rows = [{"band": f"[{b.low}, {b.high}{']' if i == last else ')'}", "before": b.before,
             "after": b.after,
             "bar_before": "#" * round(BAR * b.before / peak),
             "bar_after": "#" * round(BAR * b.after / peak),
             "delta": f"{b.after - b.before:+d}"} for i, b in enumerate(histogram.bins)]
    changed = any(b.before != b.after for b in histogram.bins) \
        or histogram.unscored_before != histogram.unscored_after
    return {"score": histogram.score, "rows": rows, "changed": changed,
            "mean_before": decimal(histogram.mean_before),
            "mean_after": decimal(histogram.mean_after),
            "unscored_before": histogram.unscored_before,
            "unscored_after": histogram.unscored_after, "svg": svg,
            "band_width": max(len(r["band"]) for r in rows)}


# --------------------------------------------------------------------------- coverage


def coverage_view(report, fail_under: float | None = None) -> dict:
    """`report` is a `compiler.review.coverage.CoverageReport`."""
    what = f"{report.contacts} test{'s' if report.contacts != 1 else ''}" \
        if report.source == "tests" else \
        f"{report.contacts} contact{'s' if report.contacts != 1 else ''} of {report.source}"
    verdict = ""
    if fail_under is not None and report.percent < fail_under:
        verdict = f"coverage {_percent_text(report.percent)} is under --fail-under " \
                  f"{decimal(fail_under, 1).removesuffix('.0')}%"
    return {
        "title": rule(f"coverage of {what}"),
        "files": [{"file": f.file, "summary": f"{f.covered} of {f.total} covered "
                                              f"({_percent_text(f.percent)})",
                   "missed": [f"{i.at}: {i.missing}: {i.subject}" for i in f.missed]}
                  for f in report.files],
        "summary_rule": rule(),
        "summary": f"coverage: {report.covered} of {report.total} ({_percent_text(report.percent)})",
        "verdict": verdict,
    }


def _percent_text(value: float) -> str:
    """One decimal, rounded down, so that 99.96% never reads as 100%."""
    return f"{int(value * 10) / 10:.1f}%"
