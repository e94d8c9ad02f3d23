"""The times of a test block's steps (docs/language.md section 8), shared by the checker
and `score test`, so that `score check` refuses (E207) exactly the tests that `score test`
could not run: a time before 0001-01-01T00:00:00Z or after 9999-12-31T23:59:59.999999Z
exists on no engine's clock.

The first event line defaults to `START`; a line without a time comes one second after the
previous line's time; `after D` counts from the previous line's time (from `START` on the
first line); `at DATE` is midnight UTC; `now after D` counts from the last event's time."""
from __future__ import annotations

from typing import Iterator

from dsl import ast
from dsl.diagnostics import Diagnostic, error
from runtime.events import MAX_MICROS, MICROS, MIN_MICROS, TimeFormatError, parse_time

START = parse_time("2026-01-01T00:00:00Z")


class StepTimeError(ValueError):
    """A step whose time cannot be read or lies outside the years 1 to 9999."""

    def __init__(self, message: str, span) -> None:
        super().__init__(message)
        self.span = span


def step_times(test: ast.Test) -> Iterator[tuple[ast.TestEvent | ast.TestNow, int]]:
    """(step, time in epoch microseconds) of every event and `now` line, in order; raises
    StepTimeError at the first step whose time cannot be used."""
    previous = START
    first = True
    for step in test.steps:
        match step:
            case ast.TestEvent():
                if step.at is not None:
                    at = _moment(step.at, step)
                elif step.after is not None:
                    at = previous + _micros(step.after)
                else:
                    at = previous if first else previous + MICROS
                first = False
            case ast.TestNow(at=moment, after=after):
                at = _moment(moment, step) if moment is not None else previous + _micros(after)
            case _:
                continue
        if not MIN_MICROS <= at <= MAX_MICROS:
            raise StepTimeError("this step's time falls outside the years 1 to 9999 (UTC)",
                                step.span)
        if isinstance(step, ast.TestEvent):
            previous = at
        yield step, at


def check_test_times(model: ast.Model) -> list[Diagnostic]:
    """E207 for the first step of each test whose time no engine can hold."""
    found = []
    for test in model.statements:
        if isinstance(test, ast.Test):
            try:
                for _ in step_times(test):
                    pass
            except StepTimeError as exc:
                found.append(error("E207", str(exc), exc.span,
                                   "keep a test's dates, and what `after` adds to them, within "
                                   "0001-01-01 and 9999-12-31"))
    return found


def _moment(text: str, step) -> int:
    try:
        return parse_time(text)
    except TimeFormatError as exc:
        raise StepTimeError(str(exc), step.span) from None


def _micros(duration: ast.Duration) -> int:
    return duration.seconds * MICROS
