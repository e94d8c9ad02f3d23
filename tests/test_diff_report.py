"""The `score diff` report made for reviewers: funnel, stage transitions, every changed
contact, hand-overs, readable histograms, Markdown within a comment's size, and the HTML in a
real browser (headless Chromium: a screenshot, no console message)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.review.compare import FileReview, Review
from compiler.review.impact import compare_results
from compiler.review.reports import COMMENT_LIMIT, diff_report

ROOT = Path(__file__).resolve().parent.parent
B2B = ROOT / "examples" / "b2b_saas.score"
DATA = ROOT / "examples" / "data" / "b2b_saas"
SVG = "{http://www.w3.org/2000/svg}"


def result(stage, score, actions=()):
    return {"scores": {"e": score}, "grades": {}, "stage": stage,
            "actions": [{"action": a, "arg": b, "at": "x"} for a, b in actions]}


def test_funnel_and_transitions_by_hand():
    before = {"a": result(None, 10), "b": result("MQL", 55), "c": result("MQL", 60),
              "d": result("SQL", 90), "e": result(None, 0)}
    after = {"a": result("SQL", 85), "b": result("SQL", 80), "c": result("MQL", 60),
             "d": result("SQL", 90), "e": result(None, 0)}
    impact = compare_results(before, after, stages=("MQL", "SQL"))
    assert [(t.before, t.after, t.count) for t in impact.transitions] == [
        (None, None, 1), (None, "SQL", 1), ("MQL", "MQL", 1), ("MQL", "SQL", 1),
        ("SQL", "SQL", 1)]
    # at or past each stage: a contact at SQL has passed MQL
    assert impact.funnel() == [("MQL", 3, 4), ("SQL", 1, 3)]


def test_a_reset_at_hand_over_is_shown_as_one():
    before = {"h": result("MQL", 66), "m": result("MQL", 40)}
    after = {"h": result("SQL", 0, [("notify", "sales"), ("reset", "e")]),
             "m": result("MQL", 50)}
    impact = compare_results(before, after, bounds={"e": (0, 100)}, stages=("MQL", "SQL"))
    assert [(m.contact, m.handover) for m in impact.movers] == [("m", False), ("h", True)]
    review = Review("old", "new", [FileReview("m.score", "changed", impact=impact)])
    text = diff_report(review, "text")
    assert "h: e 66 -> 0 (hand-over (reset)), stage MQL -> SQL" in text
    assert "-66" not in text
    assert "e [60, 70) -> [0, 10) (reset at hand-over by the new model)" in text


def _big_review(contacts: int) -> Review:
    before = {f"c-{n:05d}": result("MQL", n % 100) for n in range(contacts)}
    after = {f"c-{n:05d}": result("SQL" if n % 3 else "MQL", (n * 7) % 100)
             for n in range(contacts)}
    impact = compare_results(before, after, bounds={"e": (0, 100)}, stages=("MQL", "SQL"))
    return Review("old", "new", [FileReview("m.score", "changed", impact=impact)])


def test_markdown_fits_a_pull_request_comment_and_html_lists_every_contact():
    review = _big_review(5000)
    changed = len(review.files[0].impact.changed)
    assert changed > 4000
    markdown = diff_report(review, "markdown")
    assert len(markdown) <= COMMENT_LIMIT
    assert f"{changed} changed contacts (the first 50)" in markdown
    assert f"… and {changed - 50} more: the HTML report" in markdown
    html = diff_report(review, "html")
    table = re.search(r'<details class="contacts">.*?</details>', html, flags=re.S).group(0)
    assert table.count("<tr><td><code>c-") == changed


def test_histogram_axes_name_every_bin_edge_and_counts():
    impact = _big_review(300).files[0].impact
    html = diff_report(_big_review(300), "html")
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", html, flags=re.S).group(0))
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    edges = [str(b.low) for b in impact.histograms[0].bins] + \
        [str(impact.histograms[0].bins[-1].high)]
    assert all(edge in texts for edge in edges)
    assert "contacts" in texts and "e (bins)" in texts
    ticks = [float(t.text) for t in svg.iter(f"{SVG}text") if t.text and
             re.fullmatch(r"\d+", t.text) and t.get("text-anchor") == "end"]
    peak = max(max(b.before, b.after) for b in impact.histograms[0].bins)
    assert ticks[0] == 0 and ticks[-1] >= peak  # the axis reaches the tallest bar


# --------------------------------------------------------------------------- in a browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium; .ci/run "
                             "installs it where it can)")


def screenshot(page: Path, png: Path) -> list[str]:
    """Renders `page` in headless Chromium into `png`; the page's console messages."""
    done = subprocess.run([CHROMIUM, *FLAGS, "--window-size=1100,2600",
                           f"--screenshot={png}", page.as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@needs_chromium
def test_the_check_sees_console_errors(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>console.error('marker');"
                    "missingFunction();</script>", encoding="utf-8")
    messages = screenshot(page, tmp_path / "bad.png")
    assert any("marker" in m for m in messages)
    assert any("missingFunction" in m for m in messages)


@needs_chromium
def test_the_html_report_renders_in_chromium(tmp_path, monkeypatch):
    from compiler.cli import main

    monkeypatch.chdir(tmp_path)
    text = B2B.read_text(encoding="utf-8")
    (tmp_path / "old.score").write_text(text, encoding="utf-8")
    (tmp_path / "new.score").write_text(text.replace("stage SQL when engagement >= 80",
                                                     "stage SQL when engagement >= 70"),
                                        encoding="utf-8")
    page = tmp_path / "report.html"
    result = CliRunner().invoke(main, [
        "diff", "--events", str(DATA / "events.jsonl"), "--contacts",
        str(DATA / "contacts.jsonl"), "--by", "week", "--format", "html", "--out", str(page),
        "old.score", "new.score"])
    assert result.exit_code == 0, result.output
    png = tmp_path / "report.png"
    assert screenshot(page, png) == []
    assert _png_size(png) == (1100, 2600)
    assert png.stat().st_size > 50_000  # a page of tables and charts, not a blank one
    keep = os.environ.get("SCORELANG_SCREENSHOTS")
    if keep:  # CI uploads it, for a person to look at
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(keep) / "score-diff-report.png")


def test_many_changed_files_are_cut_to_fit_a_comment():
    from compiler.review.diff import diff_models
    from dsl.parser import parse_text

    def parsed(text, name):
        return parse_text(text, name).model

    old = parsed("", "old.score")
    new = parsed("".join(f'visit "page-{n:04d}" +{n % 9 + 1}\n' for n in range(400)), "new.score")
    files = [FileReview(f"m{n:02d}.score", "added", diff_models(old, new)) for n in range(40)]
    review = Review("old", "new", files)
    uncut = len(diff_report(review, "text"))
    assert uncut > COMMENT_LIMIT
    markdown = diff_report(review, "markdown")
    assert len(markdown) <= COMMENT_LIMIT
    assert all(f"`m{n:02d}.score`" in markdown for n in range(40))  # every file is named
    assert "more changes: run `score diff` for the full list" in markdown
