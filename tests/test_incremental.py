"""The incremental parser gives exactly what `parse` gives: the same statements with the same
positions, the same diagnostics, after any sequence of edits."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dsl.incremental import IncrementalParser, cut
from dsl.parser import parse
from dsl.source import SourceFile, Span
from fuzz import RANDOM_TEXTS, mutate

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("examples/**/*.score"))] + \
    [p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("tests/golden/*/*.score"))]


def _spans(value, found=None) -> list:
    """Every span inside `value`, in order (AST equality leaves spans out)."""
    found = [] if found is None else found
    if isinstance(value, Span):
        found.append(value)
    elif isinstance(value, tuple):
        for item in value:
            _spans(item, found)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _spans(getattr(value, f.name), found)
    return found


def _same(parser: IncrementalParser, text: str) -> None:
    source = SourceFile.from_text(text, "m.score")
    expected, found = parse(source), parser.parse(source)
    assert found.diagnostics == expected.diagnostics
    assert found.model == expected.model
    if expected.model is not None:
        assert _spans(found.model.statements) == _spans(expected.model.statements)
        assert found.model.span == expected.model.span


def test_every_shipped_model():
    for text in SOURCES:
        _same(IncrementalParser(), text)


def test_pieces_are_statements_and_test_blocks():
    lines = ['score s', '# note', 'visit (a,', '  b) +1', 'test "t":', '    visit a',
             '', '    expect s = 1', 'when s > 0 tag x']
    assert cut(lines) == [(0, 2), (2, 4), (4, 8), (8, 9)]


def test_kept_pieces_move_with_lines_added_above():
    parser = IncrementalParser()
    text = SOURCES[0]
    _same(parser, text)
    _same(parser, "# a new first line\n\n" + text)
    assert parser.reused > 10
    _same(parser, text.replace("\n\n", "\n", 3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RANDOM_TEXTS)
@example("\nv\n and ")  # an indented line after a blanked one: the message needs the context
@example('test "t":\n    (\nx +1\n')  # a test block whose next line the parser drops
def test_random_text(text):
    _same(IncrementalParser(), text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_edits_of_shipped_models(data):
    parser = IncrementalParser()
    text = data.draw(st.sampled_from(SOURCES))
    _same(parser, text)
    for _ in range(data.draw(st.integers(1, 3))):
        text = mutate(data, text)
        _same(parser, text)
