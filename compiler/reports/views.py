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
    """`run` is a `compiler.testing.TestRun`."""
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
    """`report` is a `compiler.journeys.JourneyReport`."""
    return {
        "model": report.model,
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
