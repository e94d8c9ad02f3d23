"""Diagnostics cost what the input costs (issue 10 item 11): a quoted line shows a window of
the line around the caret, and a line reports at most five diagnostics (the fifth notes how
many more it holds), so that `score check` of a 1 MB one-line model prints a few kilobytes
instead of hundreds of megabytes. Sizes and counts are asserted, never times."""
from __future__ import annotations

import json

from click.testing import CliRunner

from compiler.cli import main
from compiler.pipeline import check_paths, compile_text
from dsl import render
from dsl.diagnostics import PER_LINE, cap_per_line, error
from dsl.source import SourceFile, Span

MISTAKE = "vist pricing +5 engagment"  # E102 (and W102 from the second one on)


def one_line_model(size: int) -> str:
    count = size // (len(MISTAKE) + 2)
    return "score s\n" + "; ".join([MISTAKE] * count) + "\n"


def test_a_1mb_one_line_model_gives_a_bounded_report(tmp_path):
    path = tmp_path / "big.score"
    path.write_text(one_line_model(1_000_000), encoding="utf-8")
    assert path.stat().st_size > 990_000
    report = check_paths([str(path)])
    assert len(report.diagnostics) == PER_LINE
    assert "more diagnostics on this line not shown" in report.diagnostics[-1].notes[-1]
    more = int(report.diagnostics[-1].notes[-1].split()[0])
    assert more > 30_000  # the line does hold them all: they are counted, not lost
    for fmt in render.FORMATS:
        output = render.render(report.diagnostics, report.sources, fmt)
        assert len(output) < 20_000, (fmt, len(output))


def test_score_check_prints_a_bounded_report(tmp_path):
    path = tmp_path / "wide.score"
    path.write_text(one_line_model(100_000), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert len(result.output) < 10_000
    assert result.output.count("error[E102]") == 3  # and two W102 on the same line


def test_a_model_of_short_lines_reports_each_line_once(tmp_path):
    """Many lines: one diagnostic per bad line, each quoting only its own short line."""
    lines = 10_000
    path = tmp_path / "tall.score"
    path.write_text("score s\n" + "".join(f"visit p{i} +1 engagment\n" for i in range(lines)),
                    encoding="utf-8")
    assert path.stat().st_size > 200_000
    report = check_paths([str(path)])
    assert len(report.diagnostics) == lines
    output = render.render(report.diagnostics, report.sources, "text")
    assert len(output) < 250 * lines  # linear: each diagnostic a few short lines


def test_a_70kb_condition_is_quoted_in_a_window():
    condition = " or ".join(f"x{i} = {i}" for i in range(7_000))
    text = f"score s\nif {condition} or engagment >= 1 +5 nope\n"
    assert len(text) > 70_000
    result = compile_text(text)
    assert result.diagnostics
    output = render.render_text(result.diagnostics, result.sources)
    assert len(output) < 2_000 * len(result.diagnostics)


def test_the_window_keeps_the_caret_under_the_word():
    line = "a" * 500 + " target " + "b" * 500
    source = SourceFile.from_text(line + "\n", "m.score")
    span = Span("m.score", 1, 502, 1, 508)  # `target`
    text = render.render_text([error("E102", "unknown", span)], {"m.score": source})
    quoted, carets = text.splitlines()[1:3]
    assert quoted.startswith("  1 | …") and quoted.endswith("…")
    assert len(quoted) < 2 * render.WINDOW + 40
    column = carets.index("^")
    assert quoted[column:column + 6] == "target" and carets.count("^") == 6


def test_a_short_line_is_quoted_whole():
    source = SourceFile.from_text("visit pricing +5 engagment\n", "m.score")
    span = Span("m.score", 1, 18, 1, 27)
    text = render.render_text([error("E102", "unknown", span)], {"m.score": source})
    assert "  1 | visit pricing +5 engagment\n" in text and "…" not in text


def test_a_long_underline_is_cut_to_the_window():
    line = "x" * 10_000
    source = SourceFile.from_text(line + "\n", "m.score")
    span = Span("m.score", 1, 1, 1, 10_001)
    text = render.render_text([error("E102", "unknown", span)], {"m.score": source})
    assert text.count("^") == render.WINDOW and len(text) < 1_000


def test_cap_per_line_keeps_other_lines_and_unplaced_diagnostics():
    many = [error("E102", f"n{i}", Span("m", 1, i + 1, 1, i + 2)) for i in range(12)]
    other = error("E102", "other", Span("m", 2, 1, 2, 2))
    nowhere = error("E007", "missing", None)
    capped = cap_per_line([nowhere] + many + [other])
    assert [d.message for d in capped] == ["missing", "n0", "n1", "n2", "n3", "n4", "other"]
    assert capped[5].notes == ("7 more diagnostics on this line not shown (at most 5 per "
                               "line)",)
    assert cap_per_line(many[:5]) == many[:5]  # five or fewer: unchanged


def test_json_keeps_the_note_of_what_was_left_out():
    text = "score s\n" + "; ".join([MISTAKE] * 10) + "\n"
    result = compile_text(text)
    document = json.loads(render.render_json(result.diagnostics))
    assert len(document["diagnostics"]) == PER_LINE
    assert document["diagnostics"][-1]["notes"][-1].startswith("14 more diagnostics")
