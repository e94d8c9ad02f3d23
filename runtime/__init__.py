"""The scorelang runtime: loads a rule table and turns events into scores. Standard library only.

`__all__` is the public API: the rule table and anything generated from it may use only these.
"""
from .actions import ActionLog
from .engine import Engine
from .errors import (LateEventError, ScoreRuntimeError, SnapshotError, TableError,
                     UnorderedInputError)
from .events import Event, Reject, format_time, parse_time
from .explain import Explanation
from .table import FORMAT, CompiledTable, load_table

__all__ = [
    "ActionLog",
    "FORMAT",
    "CompiledTable",
    "Engine",
    "Event",
    "Explanation",
    "LateEventError",
    "Reject",
    "ScoreRuntimeError",
    "SnapshotError",
    "TableError",
    "UnorderedInputError",
    "format_time",
    "load_table",
    "parse_time",
]
