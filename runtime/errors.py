"""Errors the runtime raises. Each cites the source position (`file:line`) when one applies,
so that a failure in production points at the line of the agreement that caused it."""
from __future__ import annotations


class ScoreRuntimeError(Exception):
    """Base class; `at` is the `file:line` of the rule involved, or None."""

    def __init__(self, message: str, at: str | None = None):
        self.at = at
        super().__init__(f"{at}: {message}" if at else message)


class TableError(ScoreRuntimeError):
    """The rule table is malformed or of an unknown format."""


class LateEventError(ScoreRuntimeError):
    """Streaming only: an event older than what the contact has already been evaluated at.
    Accepting it would silently diverge from the batch result, so it is refused."""


class UnorderedInputError(LateEventError):
    """Batch only: a one-shot input (a generator) gave a contact's events out of time order,
    and its events already read are gone. Sort the input, or pass a list (any order)."""


class SnapshotError(ScoreRuntimeError):
    """A snapshot does not belong to this table or is malformed."""
