"""Labelled journeys: does the model separate the deals we won from the ones we lost?

Layout (documented in docs/ci.md):

    DIR/won/*.jsonl     one file per contact whose deal was won
    DIR/lost/*.jsonl    one file per contact whose deal was lost

Each file is one contact's history in the events format of docs/language.md section 7, except that
`contact` may be left out (the contact is the file: `won/acme-cto`). The profile is a line
`{"profile": {"title": "CTO", "employees": 250}}`, usually the first; with no such line the
profile is empty. A line that is neither is a reject, reported as `FILE:LINE: REASON`, and the
journey is scored without it.

Each journey is scored as of its latest event. Per score, the value compared is the *peak*:
the highest value the score showed as of any of the journey's event times, or at a stage
change or a trigger (as the condition saw it, before that point's resets) — a score that is
reset at hand-over would otherwise look worst for exactly the deals that reached it.

The report gives:
- per stage: how many won and lost journeys reached it, with precision (won among those
  reaching it) and recall (reaching it among the won), the hand-over stage marked. The
  hand-over stage is the stage of a trigger `when stage is X notify ...`, else the last stage;
- per score: mean peak of won and lost, separation as AUC (the chance that a random won
  journey peaks higher than a random lost one, ties counting half), and the best threshold
  `score >= t` by Youden's J (recall - false positive rate; ties: higher accuracy, then lower
  t), with its precision, recall and accuracy;
- per grade: how many won and lost end with each label.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dsl import ast
from dsl.source import split_lines
from runtime.events import Event, Reject

LABELS = ("won", "lost")


@dataclass(frozen=True, slots=True)
class Journey:
    id: str  # "won/acme-cto"
    label: str  # won | lost
    profile: dict
    events: tuple[Event, ...]
    as_of: int | None = None  # scored as of this instant; None: the latest event's time


@dataclass(frozen=True, slots=True)
class Outcome:
    journey: Journey
    stage: str | None
    grades: dict
    peaks: dict  # score -> highest value (None: unscored)


@dataclass(frozen=True, slots=True)
class Split:
    """Won/lost counts of a predicate over journeys."""
    won: int
    lost: int
    won_total: int
    lost_total: int

    @property
    def precision(self) -> float | None:
        reached = self.won + self.lost
        return None if reached == 0 else self.won / reached

    @property
    def recall(self) -> float | None:
        return None if self.won_total == 0 else self.won / self.won_total

    @property
    def false_positive_rate(self) -> float | None:
        return None if self.lost_total == 0 else self.lost / self.lost_total

    @property
    def accuracy(self) -> float | None:
        total = self.won_total + self.lost_total
        return None if total == 0 else (self.won + self.lost_total - self.lost) / total


@dataclass(frozen=True, slots=True)
class StageRow:
    stage: str
    handover: bool
    split: Split


@dataclass(frozen=True, slots=True)
class ScoreRow:
    score: str
    won_mean: float | None
    lost_mean: float | None
    auc: float | None
    threshold: int | float | None
    split: Split | None  # at the threshold


@dataclass(frozen=True, slots=True)
class JourneyReport:
    model: str
    won: int
    lost: int
    stages: tuple[StageRow, ...]
    scores: tuple[ScoreRow, ...]
    grades: tuple[tuple[str, str, int, int], ...]  # (grade, label, won, lost)
    outcomes: tuple[Outcome, ...] = field(default=(), repr=False)
    source: str = ""  # where the labels came from, when not journey files


# --------------------------------------------------------------------------- reading


def read_journeys(directory: str | Path) -> tuple[list[Journey], list[str]]:
    """Every journey of DIR/won and DIR/lost (sorted by file name) and the reject messages."""
    journeys: list[Journey] = []
    messages: list[str] = []
    for label in LABELS:
        for path in sorted((Path(directory) / label).glob("*.jsonl")):
            try:
                journey, rejects = read_journey(path, label)
            except OSError as exc:
                messages.append(f"{path}: cannot be read: {exc.strerror or exc}")
                continue
            journeys.append(journey)
            messages.extend(f"{path}:{r.line}: {r.reason}" for r in rejects)
    return journeys, messages


def read_journey(path: Path, label: str) -> tuple[Journey, list[Reject]]:
    from runtime.io import decode_json, validate_event

    journey_id = f"{label}/{path.stem}"
    profile: dict = {}
    events: list[Event] = []
    rejects: list[Reject] = []
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, raw in enumerate(split_lines(text), start=1):  # U+2028 is JSON, not a break
        if not raw.strip():
            continue
        try:
            record = decode_json(raw)
        except ValueError as exc:
            rejects.append(Reject(number, f"not JSON: {exc}", raw))
            continue
        if isinstance(record, dict) and set(record) == {"profile"}:
            if isinstance(record["profile"], dict):
                profile = dict(record["profile"])
            else:
                rejects.append(Reject(number, "`profile` must be an object", raw))
            continue
        if isinstance(record, dict):
            record = {**record, "contact": journey_id}
        item = validate_event(record, number, len(events), raw)
        (rejects if isinstance(item, Reject) else events).append(item)
    return Journey(journey_id, label, profile, tuple(events)), rejects


# --------------------------------------------------------------------------- scoring


def score_journey(engine, journey: Journey) -> Outcome:
    contacts = {journey.id: journey.profile}
    events = list(journey.events)
    times = sorted({e.at for e in events})
    as_of = journey.as_of if journey.as_of is not None else times[-1] if times else None
    final = _result(engine.run(events, contacts, as_of=as_of), journey.id)
    peaks: dict = dict(final.get("scores", {}))
    seen = [_result(engine.run(events, contacts, as_of=t), journey.id).get("scores", {})
            for t in times if t != as_of]
    seen += _values_before_resets(engine, journey, contacts, as_of)
    for scores in seen:
        for name, value in scores.items():
            if name in peaks and isinstance(value, int) and not isinstance(value, bool) \
                    and (peaks[name] is None or value > peaks[name]):
                peaks[name] = value
    return Outcome(journey, final.get("stage"), dict(final.get("grades", {})), peaks)


def _values_before_resets(engine, journey: Journey, contacts: dict, as_of) -> list[dict]:
    """The scores as each stage change and trigger saw them: before that point's resets."""
    data = engine.explain(journey.id, list(journey.events), contacts, as_of=as_of).to_json()
    return [item.get("values") or {} for item in data.get("stages", []) + data.get("actions", [])]


def _result(results, contact: str) -> dict:
    for result in results:
        if result.get("contact") == contact:
            return result
    return {}


def handover_stage(model: ast.Model) -> str | None:
    """The stage a `notify` trigger fires on (`when stage is X notify ...`), else the last."""
    stages = [s.name for s in model.statements if isinstance(s, ast.Stage)]
    for statement in model.statements:
        if isinstance(statement, ast.Trigger) and any(a.kind == "notify"
                                                      for a in statement.actions):
            for node in ast.walk_condition(statement.condition):
                if isinstance(node, ast.Compare) and node.ref.name == "stage" \
                        and node.op in ("=", "is") and isinstance(node.value, ast.Label) \
                        and node.value.name in stages:
                    return node.value.name
    return stages[-1] if stages else None


def build_report(model_name: str, model: ast.Model, outcomes: list[Outcome],
                 source: str = "") -> JourneyReport:
    won_total = sum(1 for o in outcomes if o.journey.label == "won")
    lost_total = len(outcomes) - won_total
    stages = [s.name for s in model.statements if isinstance(s, ast.Stage)]
    handover = handover_stage(model)
    stage_rows = tuple(
        StageRow(name, name == handover,
                 _split(outcomes, lambda o, i=index: _stage_index(stages, o.stage) >= i,
                        won_total, lost_total))
        for index, name in enumerate(stages))
    score_names = [s.name for s in model.statements if isinstance(s, ast.ScoreDecl)] or \
        sorted({name for o in outcomes for name in o.peaks})
    score_rows = tuple(score_row(name, outcomes, won_total, lost_total) for name in score_names)
    return JourneyReport(model_name, won_total, lost_total, stage_rows, score_rows,
                         _grade_rows(model, outcomes), tuple(outcomes), source)


def _stage_index(stages: list[str], stage: str | None) -> int:
    return stages.index(stage) if stage in stages else -1


def _split(outcomes, predicate, won_total: int, lost_total: int) -> Split:
    won = sum(1 for o in outcomes if o.journey.label == "won" and predicate(o))
    lost = sum(1 for o in outcomes if o.journey.label == "lost" and predicate(o))
    return Split(won, lost, won_total, lost_total)


def score_row(name: str, outcomes, won_total: int, lost_total: int) -> ScoreRow:
    won = [o.peaks.get(name) for o in outcomes if o.journey.label == "won"]
    lost = [o.peaks.get(name) for o in outcomes if o.journey.label == "lost"]
    won_values = [v for v in won if v is not None]
    lost_values = [v for v in lost if v is not None]
    threshold, split = best_threshold(won, lost)
    return ScoreRow(name, _mean(won_values), _mean(lost_values), auc(won_values, lost_values),
                    threshold, split)


def _mean(values) -> float | None:
    return sum(values) / len(values) if values else None


def auc(won: list, lost: list) -> float | None:
    """P(random won > random lost) + half of P(tie): the Mann-Whitney statistic."""
    if not won or not lost:
        return None
    wins = sum((w > l) + 0.5 * (w == l) for w in won for l in lost)
    return wins / (len(won) * len(lost))


def best_threshold(won: list, lost: list) -> tuple[int | float | None, Split | None]:
    """The threshold t of `score >= t` with the highest Youden's J. Unscored (None) values
    never pass a threshold."""
    candidates = sorted({v for v in won + lost if v is not None})
    best = None
    for threshold in candidates:
        split = Split(sum(1 for v in won if v is not None and v >= threshold),
                      sum(1 for v in lost if v is not None and v >= threshold),
                      len(won), len(lost))
        j = (split.recall or 0.0) - (split.false_positive_rate or 0.0)
        key = (j, split.accuracy or 0.0, -threshold)
        if best is None or key > best[0]:
            best = (key, threshold, split)
    return (None, None) if best is None else (best[1], best[2])


def _grade_rows(model: ast.Model, outcomes) -> tuple:
    rows = []
    for grade in (s for s in model.statements if isinstance(s, ast.Grade)):
        labels = [b.label for b in grade.bands] + ([grade.otherwise] if grade.otherwise else [])
        for label in labels:
            won = sum(1 for o in outcomes
                      if o.journey.label == "won" and o.grades.get(grade.name) == label)
            lost = sum(1 for o in outcomes
                       if o.journey.label == "lost" and o.grades.get(grade.name) == label)
            rows.append((grade.name, label, won, lost))
    return tuple(rows)


# --------------------------------------------------------------------------- entry point


def evaluate(model_name: str, model: ast.Model, table: dict, directory) -> tuple[
        JourneyReport, list[str]]:
    from runtime import Engine

    engine = Engine(table)
    journeys, messages = read_journeys(directory)
    outcomes = [score_journey(engine, j) for j in journeys]
    return build_report(model_name, model, outcomes), messages


def evaluate_path(path: str, directory) -> tuple[JourneyReport | None, list[str]]:
    """Compile the model at `path` and score the journeys; (None, diagnostics) on errors."""
    from compiler.pipeline import compile as compile_model
    from dsl.render import format_diagnostic

    compiled = compile_model(path)
    if compiled.table is None:
        sources = compiled.sources or {}
        return None, [format_diagnostic(d, sources.get(d.span.file) if d.span else None)
                      for d in compiled.diagnostics if d.is_error]
    if not any((Path(directory) / label).is_dir() for label in LABELS):
        return None, [f"{directory}: no `won/` or `lost/` folder of journeys"]
    return evaluate(path, compiled.model, compiled.table, directory)


def evaluate_paths(models, directory) -> list[tuple[JourneyReport | None, list[str]]]:
    """`evaluate_path` for each model file, in order."""
    return [evaluate_path(str(model), directory) for model in models]


def report_json(report: JourneyReport) -> dict:
    return {
        "model": report.model, "won": report.won, "lost": report.lost,
        **({"source": report.source} if report.source else {}),
        "stages": [{"stage": r.stage, "handover": r.handover, **_split_json(r.split)}
                   for r in report.stages],
        "scores": [{"score": r.score, "won_mean": r.won_mean, "lost_mean": r.lost_mean,
                    "auc": r.auc, "threshold": r.threshold,
                    **(_split_json(r.split) if r.split else {})} for r in report.scores],
        "grades": [{"grade": g, "label": label, "won": w, "lost": l}
                   for g, label, w, l in report.grades],
        "journeys": [{"journey": o.journey.id, "stage": o.stage, "grades": o.grades,
                      "peaks": o.peaks} for o in report.outcomes],
    }


def _split_json(split: Split) -> dict:
    return {"won_reaching": split.won, "lost_reaching": split.lost,
            "precision": split.precision, "recall": split.recall, "accuracy": split.accuracy}


__all__ = ["Journey", "JourneyReport", "read_journeys", "evaluate", "evaluate_path",
           "best_threshold", "auc", "handover_stage", "report_json"]
