"""`score test`: run every `test` block of a model (docs/language.md sections 8 and 9.9).

A test block becomes one contact (`TEST_CONTACT`) with the block's profile and events:
- the first event line defaults to 2026-01-01T00:00:00Z (`START`); a line without a time comes
  one second after the previous line's time; `after D` counts from the previous line's time
  (from `START` on the first line); `at DATE` is midnight UTC;
- `now DATE|DATETIME` or `now after D` sets the as-of time; by default it is the latest event
  time (`START` when the test has no events);
- every `expect` is checked against the engine's result as of that time. `expect [no]
  notify|tag|reset ARG` looks at the actions fired up to the as-of time.

A failing expect is reported with its `file:line:col`, the expected and the actual value and,
from `Engine.explain`, the awards (or stage changes, or actions) that produced the actual value.
Nothing here raises for a user error: a file that does not compile or a test whose date cannot
be read becomes a failed outcome with its diagnostics.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from dsl import ast
from dsl import formatter as fmt
from runtime.events import Event

from ..test_times import START, StepTimeError, step_times

TEST_CONTACT = "test"
_OPS = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


class ScenarioError(ValueError):
    """A test block that cannot be turned into events (an unreadable date)."""

    def __init__(self, message: str, span) -> None:
        super().__init__(message)
        self.span = span


@dataclass(frozen=True, slots=True)
class Scenario:
    """What a test block means as engine input."""
    profile: dict
    events: tuple[Event, ...]
    as_of: int
    expects: tuple


@dataclass(frozen=True, slots=True)
class ExpectResult:
    text: str  # the expect as written (canonical form)
    at: str  # file:line:col
    passed: bool
    expected: str
    actual: str
    because: tuple[str, ...] = ()  # awards, stage changes or actions behind the actual value

    def to_json(self) -> dict:
        return {"expect": self.text, "at": self.at, "passed": self.passed,
                "expected": self.expected, "actual": self.actual, "because": list(self.because)}


@dataclass(frozen=True, slots=True)
class TestOutcome:
    file: str
    line: int
    name: str
    expects: tuple[ExpectResult, ...] = ()
    errors: tuple[str, ...] = ()  # rendered diagnostics when the test could not run
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.errors and all(e.passed for e in self.expects)

    @property
    def failures(self) -> tuple[ExpectResult, ...]:
        return tuple(e for e in self.expects if not e.passed)

    @property
    def node_id(self) -> str:
        return f"{self.file}::{self.name}"

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "name": self.name, "passed": self.passed,
                "errors": list(self.errors), "expects": [e.to_json() for e in self.expects]}


@dataclass(frozen=True, slots=True)
class TestRun:
    outcomes: tuple[TestOutcome, ...] = field(default=())

    @property
    def passed(self) -> int:
        return sum(1 for o in self.outcomes if o.passed)

    @property
    def failed(self) -> int:
        return len(self.outcomes) - self.passed

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def summary(self) -> str:
        return f"{self.passed} passed, {self.failed} failed"

    def to_json(self) -> dict:
        return {"passed": self.passed, "failed": self.failed,
                "tests": [o.to_json() for o in self.outcomes]}


# --------------------------------------------------------------------------- test -> input


def scenario_of(test: ast.Test) -> Scenario:
    """The profile, events, as-of time and expects of one test block."""
    profile: dict = {}
    events: list[Event] = []
    as_of = None
    times = iter(step_times(test))
    expects = []
    try:
        for step in test.steps:
            match step:
                case ast.TestContact(attributes=attributes):
                    profile.update({a.name: python_value(a.value) for a in attributes})
                case ast.TestEvent():
                    _, at = next(times)
                    events.append(_event(step, at, len(events)))
                case ast.TestNow():
                    _, as_of = next(times)
                case _:
                    expects.append(step)
    except StepTimeError as exc:
        raise ScenarioError(str(exc), exc.span) from None
    if as_of is None:
        as_of = max((e.at for e in events), default=START)
    return Scenario(profile, tuple(events), as_of, tuple(expects))


def python_value(value: ast.Value):
    match value:
        case ast.Text(value=text):
            return text
        case ast.Number(value=number) | ast.Bool(value=number):
            return number
        case ast.Label(name=name):
            return name
    raise TypeError(f"not a value: {value!r}")


def _event(step: ast.TestEvent, at: int, seq: int) -> Event:
    line = step.span.line if step.span is not None else 0
    props = {p.name: python_value(p.value) for p in step.properties}
    return Event(TEST_CONTACT, step.event, at, step.target, None, props, line, seq)


# --------------------------------------------------------------------------- checking


def check_expect(expect, result: dict, explanation: dict | None = None) -> ExpectResult:
    """One expect against the engine's result for the test contact."""
    expected, actual, passed, because = _judge(expect, result, explanation or {})
    return ExpectResult(fmt.step_text(expect), _where(expect), passed, expected, actual,
                        () if passed else because)


def _judge(expect, result: dict, explanation: dict):
    match expect:
        case ast.ExpectScore(score=name, op=op, value=value):
            # a score, or a group (docs/language.md 10.7): the engine's `values` carry both
            scores = result.get("scores", {})
            groups = result.get("groups") or {}
            values = {**groups, **scores}
            actual = values.get(name)
            passed = actual is not None and _OPS[op](actual, value)
            if name in values:
                actual_text = _score_text(name, actual)
            elif groups:
                names = ", ".join(list(scores) + list(groups))
                actual_text = f"no score or group named {name} ({names})"
            else:
                actual_text = f"no score named {name} (scores: {', '.join(scores) or 'none'})"
            because = award_lines(explanation, name) if name in scores else \
                group_lines(explanation, name)
            return f"{name} {op} {fmt.number(value)}", actual_text, passed, because
        case ast.ExpectLabel(name=name, label=label, negated=negated):
            actual = result.get("stage") if name == "stage" else result.get("grades", {}).get(name)
            passed = (actual == label) != negated
            expected = f"{name} is {'not ' if negated else ''}{label}"
            because = stage_lines(explanation) if name == "stage" else \
                award_lines(explanation, explanation.get("grade_scores", {}).get(name))
            return expected, f"{name} is {actual if actual is not None else '(none)'}", passed, \
                because
        case ast.ExpectUnscored():
            scores = result.get("scores", {})
            passed = bool(scores) and all(v is None for v in scores.values())
            actual = "unscored" if passed else "scored: " + _scores_text(scores)
            return "unscored", actual, passed, ()
        case ast.ExpectAction(kind=kind, arg=arg, negated=negated, times=times):
            fired = [a for a in result.get("actions", ()) if a.get("action") == kind]
            hits = sum(1 for a in fired if a.get("arg") == arg)
            actual = ", ".join(f"{kind} {a.get('arg')} at {a.get('at')}" for a in fired) \
                or f"no {kind} fired"
            if times is not None:  # `N times`; `0 times` is `no` (10.7, 10.8.15)
                expected = f"{kind} {arg} {times} {'time' if times == 1 else 'times'}"
                actual = f"{kind} {arg} fired {hits} {'time' if hits == 1 else 'times'}" + (
                    f" ({actual})" if fired else "")
                return expected, actual, hits == times, action_lines(result, explanation)
            expected = f"{'no ' if negated else ''}{kind} {arg}"
            return expected, actual, (hits > 0) != negated, action_lines(result, explanation)
    raise TypeError(f"not an expect: {expect!r}")


def _score_text(name: str, value) -> str:
    return f"{name} = {'null (unscored)' if value is None else fmt.number(value)}"


def _scores_text(scores: dict) -> str:
    return ", ".join(_score_text(k, v) for k, v in sorted(scores.items())) or "no scores"


def _where(node) -> str:
    span = node.span
    return "<unknown>" if span is None else f"{span.file}:{span.line}:{span.column}"


# --------------------------------------------------------------------------- explanations
# The explanation is `Explanation.to_json()` of the runtime; these read only the documented
# parts: awards (rule, at, event, points, contribution, score), stage changes and actions.


def award_lines(explanation: dict, score: str | None) -> tuple[str, ...]:
    """Event and absence awards, then profile awards, of `score` (every score when None)."""
    lines = [_award_text(a) for a in explanation.get("awards", ())
             if score is None or a.get("score") == score]
    lines += [f"{a.get('source')} [{a.get('rule')}] profile if {a.get('condition')}: "
              f"{_signed(a.get('points'))} {a.get('score')}"
              for a in explanation.get("profile", ()) if score is None or a.get("score") == score]
    return tuple(lines)


def group_lines(explanation: dict, group: str) -> tuple[str, ...]:
    """The awards sent to `group`, then its value and the bound that holds, if one does."""
    lines = [_award_text(a) for a in explanation.get("awards", ()) if a.get("group") == group]
    for record in explanation.get("groups", ()):
        if record.get("group") == group:
            bound = record.get("binds")
            held = f", held at its {bound} {record.get(bound == 'max' and 'high' or 'low')}" \
                if bound else ""
            lines.append(f"group {group} of {record.get('score')}: awards sum to "
                         f"{record.get('raw')}, value {record.get('value')}{held}")
    return tuple(lines)


def _signed(points) -> str:
    return fmt.points(points) if isinstance(points, int) else str(points)


def _award_text(award: dict) -> str:
    if award.get("kind") == "absence":
        after = award.get("after") or {}
        what = " ".join(str(x) for x in ("no", award.get("absence_of"), "after",
                                         after.get("event"), after.get("target"), "at",
                                         after.get("at")) if x)
    else:
        event = award.get("event") or {}
        what = " ".join(str(x) for x in (event.get("event"), event.get("target")) if x)
        what += f" at {event['at']}" if event.get("at") else ""
    text = f"{award.get('source')} [{award.get('rule')}] {what}: " \
           f"{_signed(award.get('points'))} {award.get('score')}"
    status = award.get("status")
    if status == "counted":
        return f"{text} -> contributes {award.get('contribution')}"
    if status == "reset":
        return f"{text} -> discarded by reset at {award.get('reset_at')}"
    if status == "capped":
        return f"{text} -> capped"
    return f"{text} -> {status}"


def stage_lines(explanation: dict) -> tuple[str, ...]:
    return tuple(f"{change.get('source')} stage {change.get('from') or '(none)'} -> "
                 f"{change.get('to')} at {change.get('at')} when {change.get('condition')}"
                 for change in explanation.get("stages", ()))


def action_lines(result: dict, explanation: dict | None = None) -> tuple[str, ...]:
    """Every action fired; with the explanation, the trigger that fired it and why."""
    detailed = (explanation or {}).get("actions")
    if detailed:
        return tuple(f"{a.get('source')} {a.get('action')} {a.get('arg')} at {a.get('at')} "
                     f"when {a.get('condition')}" for a in detailed)
    return tuple(f"{a.get('action')} {a.get('arg')} at {a.get('at')}"
                 for a in result.get("actions", ()))


# --------------------------------------------------------------------------- running


def run_test(test: ast.Test, engine, explain: bool = True,
             grade_scores: dict | None = None) -> TestOutcome:
    """Run one test block with `engine` (a `runtime.Engine` of the compiled model).
    `grade_scores` maps each grade to its score, to show the awards behind a grade."""
    started = time.perf_counter()
    file, line = _position(test)
    try:
        scenario = scenario_of(test)
    except ScenarioError as exc:
        where = "" if exc.span is None else f"{exc.span.file}:{exc.span.line}:{exc.span.column}: "
        return TestOutcome(file, line, test.name, errors=(f"{where}error: {exc}",))
    result = _result_for(engine, scenario)
    results = [check_expect(e, result) for e in scenario.expects]
    if explain and not all(r.passed for r in results):
        explanation = {**explanation_json(engine, scenario), "grade_scores": grade_scores or {}}
        results = [check_expect(e, result, explanation) for e in scenario.expects]
        if explanation.get("unscored"):
            why = unscored_reason(explanation.get("require"), _require_names(engine),
                                  scenario.profile)
            results = [r if r.passed or isinstance(e, ast.ExpectUnscored) else
                       replace(r, because=(why,) + r.because)
                       for e, r in zip(scenario.expects, results)]
    return TestOutcome(file, line, test.name, tuple(results),
                       seconds=time.perf_counter() - started)


def unscored_reason(require: str | None, names, profile: dict) -> str:
    """Why the test's contact is unscored, with the profile values the `require` reads: a
    failing expect of an unscored contact otherwise only says "no notify fired"."""
    values = ", ".join(f"{name} = {_value_text(profile[name])}" if name in profile
                       else f"no {name}" for name in names)
    text = f"unscored: `require {require}` does not hold" if require else "unscored"
    return f"{text}; the test's contact has {values}" if values else text


def _value_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return fmt.quote(value)
    return fmt.number(value) if isinstance(value, (int, float)) else repr(value)


def _require_names(engine) -> list[str]:
    from runtime.conditions import references

    form = getattr(getattr(engine, "table", None), "raw", {}).get("require")
    if not isinstance(form, list):
        return []
    names = [ref[1] for ref in references(form) if ref and ref[0] == "contact"]
    return list(dict.fromkeys(reversed(names)))


def _position(test: ast.Test) -> tuple[str, int]:
    return (test.span.file, test.span.line) if test.span is not None else ("<string>", 0)


def _contacts(scenario: Scenario) -> dict:
    return {TEST_CONTACT: dict(scenario.profile)}


def _result_for(engine, scenario: Scenario) -> dict:
    """The test contact's result, with its groups' values (`Engine.evaluate`)."""
    if hasattr(engine, "evaluate"):
        return engine.evaluate(TEST_CONTACT, list(scenario.events), _contacts(scenario),
                               as_of=scenario.as_of)
    results = engine.run(list(scenario.events), _contacts(scenario), as_of=scenario.as_of)
    for result in results:
        if result.get("contact") == TEST_CONTACT:
            return result
    return {"contact": TEST_CONTACT, "scores": {}, "grades": {}, "stage": None, "actions": []}


def explanation_json(engine, scenario: Scenario) -> dict:
    explanation = engine.explain(TEST_CONTACT, list(scenario.events), _contacts(scenario),
                                 as_of=scenario.as_of)
    return explanation.to_json() if hasattr(explanation, "to_json") else dict(explanation)


def collect_files(paths) -> list[Path]:
    """`.score` files named, or found under the folders named, sorted and each once."""
    found: list[Path] = []
    for path in map(Path, paths):
        found.extend(sorted(path.rglob("*.score")) if path.is_dir() else [path])
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(str(path), path)
    return list(unique.values())


def run_files(paths, explain: bool = True, coverage=None) -> TestRun:
    """Compile each model and run its tests; a model that does not compile is one failure.
    With `coverage` (a `compiler.review.coverage.Collector`), each test is also scored with
    the model's coverage observing."""
    from compiler.pipeline import compile as compile_model
    from dsl.render import format_diagnostic
    from runtime import Engine

    outcomes: list[TestOutcome] = []
    seen: set = set()
    for path in collect_files(paths):
        compiled = compile_model(str(path))
        if compiled.table is None:
            sources = getattr(compiled, "sources", None) or {}
            errors = tuple(format_diagnostic(d, sources.get(d.span.file) if d.span else None)
                           for d in compiled.diagnostics if d.is_error)
            outcomes.append(TestOutcome(str(path), 0, "(compile)", errors=errors))
            continue
        engine = Engine(compiled.table)
        observer = coverage.model(engine.table, compiled.model) if coverage is not None else None
        grades = {s.name: s.score for s in compiled.model.statements if isinstance(s, ast.Grade)}
        for test in tests_of(compiled.model):
            key = (_position(test), test.name)
            if key not in seen:
                seen.add(key)
                outcomes.append(run_test(test, engine, explain, grades))
                if observer is not None:
                    observe_test(engine, test, observer)
    return TestRun(tuple(outcomes))


def observe_test(engine, test: ast.Test, observer) -> None:
    """Score the test's contact again with `observer` told every step (coverage)."""
    try:
        scenario = scenario_of(test)
    except ScenarioError:
        return  # the test itself failed to run and says why
    engine.run(list(scenario.events), _contacts(scenario), as_of=scenario.as_of,
               observer=observer)


def tests_of(model: ast.Model) -> list[ast.Test]:
    return [s for s in model.statements if isinstance(s, ast.Test)]
