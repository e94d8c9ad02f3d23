"""`score diff`: semantic diff of models, reports, impact on data, git revisions."""
from __future__ import annotations

import importlib.util
import json
import pathlib
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import strategies
from compiler.review.diff import diff_models
from compiler.review.impact import bin_edges, compare_results, nice_width
from dsl import ast

GOLDEN = pathlib.Path(__file__).parent / "golden" / "diff"
PAIRS = sorted({p.name.split(".")[0] for p in GOLDEN.glob("*.old.score")})
HAS_PARSER = importlib.util.find_spec("dsl.parser") is not None
needs_parser = pytest.mark.skipif(not HAS_PARSER,
                                  reason="the parser (dsl/parser.py) has not landed yet")
HAS_RUNTIME = importlib.util.find_spec("compiler.lower") is not None \
    and importlib.util.find_spec("runtime.engine") is not None
needs_runtime = pytest.mark.skipif(
    not HAS_RUNTIME, reason="needs compiler.lower and runtime.Engine (other engineers' modules)")
needs_engine = pytest.mark.skipif(
    not HAS_PARSER or not HAS_RUNTIME,
    reason="needs the parser, compiler.lower and runtime.Engine (other engineers' modules)")
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def parse(text: str, name: str = "m.score") -> ast.Model:
    from dsl.parser import parse_text

    result = parse_text(text, name)
    assert result.model is not None and not [d for d in result.diagnostics if d.is_error], \
        result.diagnostics
    return result.model


def diff_text(old: str, new: str):
    return diff_models(parse(old, "old.score"), parse(new, "new.score"))


# --------------------------------------------------------------------------- properties


@FAST
@given(strategies.models())
def test_a_model_does_not_differ_from_itself(model):
    assert diff_models(model, model).empty


@FAST
@given(strategies.models(), strategies.models())
def test_diff_reversed_is_the_diff_the_other_way(a, b):
    assert diff_models(a, b).reversed() == diff_models(b, a)


def test_reversal_with_two_spellings_of_one_meaning():
    a = ast.Compare(ast.Ref("stage"), "is", ast.Label("SQL"))
    b = ast.Compare(ast.Ref("stage"), "=", ast.Label("SQL"))
    old = model(ast.Stage("MQL", ast.Const(True)), ast.Stage("SQL", ast.Const(False)),
                ast.Trigger(a, (ast.Action("notify", "sales"),)),
                ast.Trigger(ast.Const(False), (ast.Action("tag", "x"),)))
    new = model(ast.Stage("MQL", ast.Const(True)), ast.Stage("SQL", ast.Const(False)),
                ast.Trigger(ast.Const(False), (ast.Action("tag", "x"),)),
                ast.Trigger(b, (ast.Action("notify", "marketing"),)))
    forward = diff_models(old, new)
    assert forward.reversed() == diff_models(new, old)
    assert [c.subject for c in forward.changes] == ["trigger order", "when stage = SQL"]


@needs_parser
@FAST
@given(strategies.models())
def test_formatting_is_no_change(model):
    from dsl.formatter import format_model

    assert diff_models(model, parse(format_model(model))).empty


@FAST
@given(strategies.models(), st.randoms())
def test_reordering_rules_is_no_change(model, random):
    movable = (ast.EventRule, ast.AbsenceRule, ast.ProfileRule, ast.Grade, ast.Decay,
               ast.Expire, ast.Require, ast.EventDecl, ast.Include, ast.Test)
    fixed = [s for s in model.statements if not isinstance(s, movable)]
    moved = [s for s in model.statements if isinstance(s, movable)]
    random.shuffle(moved)
    shuffled = ast.Model(tuple(fixed + moved))
    assert diff_models(model, shuffled).empty


# --------------------------------------------------------------------------- each kind of change


def _only(diff, kind):
    changes = [c for c in diff.changes if c.kind == kind]
    assert len(changes) == 1, diff.changes
    return changes[0]


def _fields(change) -> dict:
    return {f.field: (f.old, f.new) for f in change.fields}


def rule(event, target=None, points=10, score=None, limit=None, where=None):
    targets = ast.Targets((target,)) if target else ast.Targets()
    return ast.EventRule(event, targets, where, points, score, limit)


def model(*statements):
    return ast.Model(tuple(statements))


def test_points_limit_and_score_of_an_event_rule():
    old = model(ast.ScoreDecl("engagement"), ast.ScoreDecl("fit"), rule("visit", "pricing", 15))
    new = model(ast.ScoreDecl("engagement"), ast.ScoreDecl("fit"),
                rule("visit", "pricing", 20, "fit", ast.Limit(3, "day")))
    change = _only(diff_models(old, new), "event rule")
    assert change.status == "changed" and change.subject == "visit pricing"
    assert _fields(change) == {"points": ("+15", "+20"), "score": ("engagement", "fit"),
                               "limit": ("none", "at most 3 per day")}


def test_omitted_score_is_the_default_score():
    old = model(ast.ScoreDecl("engagement"), rule("visit", "pricing", 15))
    new = model(ast.ScoreDecl("engagement"), rule("visit", "pricing", 15, "engagement"))
    assert diff_models(old, new).empty


def test_rules_are_matched_by_meaning_not_position():
    where = ast.Compare(ast.Ref("seconds"), ">=", ast.Number(30))
    old = model(rule("visit", "pricing", 15), rule("visit", "pricing", 5, where=where))
    new = model(rule("visit", "pricing", 6, where=where), rule("visit", "pricing", 15))
    change = _only(diff_models(old, new), "event rule")
    assert change.subject == "visit pricing where seconds >= 30"
    assert _fields(change) == {"points": ("+5", "+6")}


def test_added_and_removed_rules():
    old = model(rule("visit", "careers", -10))
    new = model(rule("submit", "contact_form", 30, limit=ast.Limit(1)))
    diff = diff_models(old, new)
    assert [(c.status, c.old, c.new) for c in diff.changes] == [
        ("added", None, "submit contact_form +30 once"),
        ("removed", "visit careers -10", None)]
    assert diff.counts() == {"added": 1, "removed": 1, "changed": 0}


def test_two_rules_with_one_key_pair_by_score():
    old = model(ast.ScoreDecl("e"), ast.ScoreDecl("fit"),
                rule("visit", "pricing", 15), rule("visit", "pricing", 5, "fit"))
    new = model(ast.ScoreDecl("e"), ast.ScoreDecl("fit"),
                rule("visit", "pricing", 7, "fit"), rule("visit", "pricing", 15))
    change = _only(diff_models(old, new), "event rule")
    assert _fields(change) == {"points": ("+5", "+7")}


def test_equal_meanings_are_equal():
    ref = ast.Ref("tier")
    old = model(ast.Stage("MQL", ast.And((ast.In(ref, (ast.Label("A"), ast.Label("B"))),
                                          ast.Compare(ast.Ref("e"), ">=", ast.Number(50))))),
                ast.ProfileRule(ast.Truth(ast.Ref("consent")), 5),
                ast.AbsenceRule("email_sent", ast.Targets(), "email_open", ast.Targets(),
                                ast.Duration(24, "hour"), -5),
                ast.EventRule("download", ast.Targets(("ebook", "whitepaper")), None, 15),
                rule("visit", None, 1))
    new = model(ast.Stage("MQL", ast.And((ast.Compare(ast.Ref("e"), ">=", ast.Number(50)),
                                          ast.In(ref, (ast.Label("B"), ast.Label("A")))))),
                ast.ProfileRule(ast.Compare(ast.Ref("consent"), "is", ast.Bool(True)), 5),
                ast.AbsenceRule("email_sent", ast.Targets(), "email_open",
                                ast.Targets(), ast.Duration(1, "day"), -5),
                ast.EventRule("download", ast.Targets(("whitepaper", "ebook")), None, 15),
                ast.EventRule("visit", ast.Targets(any=True), None, 1))
    assert diff_models(old, new).empty


def test_absence_profile_decay_expire_changes():
    old = model(ast.AbsenceRule("email_sent", ast.Targets(), "email_open", ast.Targets(),
                                ast.Duration(24, "hour"), -5),
                ast.ProfileRule(ast.Compare(ast.Ref("employees"), ">=", ast.Number(200)), 15,
                                "fit"),
                ast.Decay("engagement", 10, ast.Duration(30, "day")))
    new = model(ast.AbsenceRule("email_sent", ast.Targets(), "email_open", ast.Targets(),
                                ast.Duration(2, "day"), -5),
                ast.ProfileRule(ast.Compare(ast.Ref("employees"), ">=", ast.Number(200)), 10,
                                "fit"),
                ast.Decay("engagement", 20, ast.Duration(4, "week")),
                ast.Expire("engagement", ast.Duration(90, "day")))
    diff = diff_models(old, new)
    assert _fields(_only(diff, "absence rule")) == {"within": ("24 hours", "2 days")}
    assert _fields(_only(diff, "profile rule")) == {"points": ("+15", "+10")}
    assert _fields(_only(diff, "decay")) == {"rate": ("10%", "20%"),
                                            "every": ("30 days", "4 weeks")}
    assert _only(diff, "expire").status == "added"


def test_grade_bands_stages_triggers_declarations():
    old = model(ast.TimezoneDecl("Europe/Berlin"), ast.ScoreDecl("e", 0, 100, True),
                ast.Grade("tier", "fit", (ast.Band("A", 30), ast.Band("B", 15)), "D"),
                ast.Stage("MQL", ast.Const(True)), ast.Stage("SQL", ast.Const(False)),
                ast.Trigger(ast.Const(True), (ast.Action("notify", "sales"),)),
                ast.EventDecl("visit", "page", (ast.Property("seconds", "number"),)))
    new = model(ast.TimezoneDecl("UTC"), ast.ScoreDecl("e", 0, None, True),
                ast.Grade("tier", "fit", (ast.Band("A", 35), ast.Band("C", 0)), "E"),
                ast.Stage("SQL", ast.Const(False)), ast.Stage("MQL", ast.Const(True)),
                ast.Trigger(ast.Const(True), (ast.Action("notify", "sales"),
                                              ast.Action("reset", "e")), each_time=True),
                ast.EventDecl("visit", "page", ()))
    diff = diff_models(old, new)
    assert _fields(_only(diff, "timezone")) == {"zone": ('"Europe/Berlin"', '"UTC"')}
    assert _fields(_only(diff, "score")) == {"range": ("0..100", "0..")}
    assert _fields(_only(diff, "grade")) == {"band A": (">= 30", ">= 35"),
                                            "band B": (">= 15", None),
                                            "band C": (None, ">= 0"), "else": ("D", "E")}
    assert _fields(_only(diff, "stage order")) == {"order": ("MQL, SQL", "SQL, MQL")}
    assert _fields(_only(diff, "trigger")) == {
        "actions": ("notify sales", "notify sales, reset e"), "each time": ("once", "each time")}
    assert _fields(_only(diff, "event declaration")) == {"properties": ("seconds: number",
                                                                        "none")}


def test_default_score_change_is_reported():
    diff = diff_models(model(ast.ScoreDecl("a"), ast.ScoreDecl("b")),
                       model(ast.ScoreDecl("b"), ast.ScoreDecl("a")))
    assert _fields(_only(diff, "default score")) == {"default score": ("a", "b")}


def test_test_blocks_are_compared_by_name():
    step = ast.ExpectUnscored()
    diff = diff_models(model(ast.Test("t", (step,))),
                       model(ast.Test("t", (step, ast.ExpectScore("score", "=", 1)))))
    assert _only(diff, "test").status == "changed"


# --------------------------------------------------------------------------- goldens


def _cli(*args):
    from compiler.cli import main

    return CliRunner().invoke(main, ["diff", *args])


@needs_parser
@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("fmt, suffix", [("text", "txt"), ("markdown", "md"), ("json", "json")])
def test_golden_reports(pair, fmt, suffix, update_goldens, monkeypatch):
    monkeypatch.chdir(GOLDEN)
    result = _cli("--format", fmt, f"{pair}.old.score", f"{pair}.new.score")
    assert result.exit_code == 0, result.output
    expected = GOLDEN / f"{pair}.expected.{suffix}"
    if update_goldens:
        expected.write_text(result.output, encoding="utf-8")
    assert result.output == expected.read_text(encoding="utf-8")


@needs_parser
def test_reformatted_pair_is_no_change(monkeypatch):
    monkeypatch.chdir(GOLDEN)
    result = _cli("--format", "json", "--exit-code", "reformatted.old.score",
                  "reformatted.new.score")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [f["status"] for f in data["files"]] == ["unchanged"]
    changed = _cli("--exit-code", "rules.old.score", "rules.new.score")
    assert changed.exit_code == 1


@needs_parser
def test_html_report_is_one_self_contained_file(monkeypatch, tmp_path):
    monkeypatch.chdir(GOLDEN)
    out = tmp_path / "report.html"
    result = _cli("--format", "html", "--out", str(out), "rules.old.score", "rules.new.score")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert "visit pricing" in html and "points: +15 -&gt; +20" in html
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def test_usage_errors_are_messages_not_tracebacks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _cli("no-such-thing")
    assert result.exit_code == 2
    assert "neither a file, a folder nor a git revision" in result.output
    assert "Traceback" not in result.output
    (tmp_path / "a.score").write_text("visit pricing +1\n", encoding="utf-8")
    result = _cli("a.score")
    assert result.exit_code == 2 and "needs a second side" in result.output


# --------------------------------------------------------------------------- histograms


def test_nice_widths_and_bins():
    assert [nice_width(s) for s in (0, 9, 10, 11, 100, 101, 240, 1000)] == \
        [1, 1, 1, 2, 10, 20, 50, 100]
    assert bin_edges([], (0, 100)) == (0, 10, 10)
    assert bin_edges([-7, 33]) == (-10, 5, 9)


def test_compare_results_counts_movements_by_hand():
    def result(stage, score, grade=None, actions=()):
        return {"scores": {"e": score}, "grades": {"tier": grade} if grade else {},
                "stage": stage, "actions": [{"action": a, "arg": b, "at": "x"}
                                            for a, b in actions]}
    before = {"a": result("MQL", 55, "B"), "b": result("MQL", 60, "A"),
              "c": result(None, 10, "C"), "d": result("SQL", 90, "A", [("notify", "sales")])}
    after = {"a": result("SQL", 85, "B", [("notify", "sales")]), "b": result("MQL", 60, "A"),
             "c": result(None, None), "d": result("SQL", 90, "A", [("notify", "sales")])}
    impact = compare_results(before, after, bounds={"e": (0, 100)}, stages=("SQL", "MQL"))
    assert [str(m) for m in impact.movements] == [
        "+1 reach SQL", "-1 leave MQL", "-1 leave tier C", "+1 get notify sales",
        "+1 become unscored"]
    assert sorted(c.contact for c in impact.changed) == ["a", "c"]
    assert [(m.contact, m.before, m.after) for m in impact.movers] == [("a", 55, 85),
                                                                       ("c", 10, None)]
    hist = impact.histograms[0]
    assert sum(b.before for b in hist.bins) == 4 and sum(b.after for b in hist.bins) == 3
    assert (hist.unscored_before, hist.unscored_after) == (0, 1)


# --------------------------------------------------------------------------- impact vs engine


@needs_runtime
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_impact_matches_running_both_models(data):
    import model_strategies
    from compiler.review.impact import impact
    from compiler.lower import lower
    from runtime.engine import Engine

    old, events, contacts, as_of = data.draw(model_strategies.scenarios())
    new = data.draw(model_strategies.models())
    old_table, new_table = lower(old), lower(new)
    result = impact(old_table, new_table, events, contacts, as_of)
    before = {r["contact"]: r for r in Engine(old_table).run(events, contacts, as_of=as_of)}
    after = {r["contact"]: r for r in Engine(new_table).run(events, contacts, as_of=as_of)}
    assert result.contacts == len(set(before) | set(after))
    stages = {s for r in list(before.values()) + list(after.values()) for s in [r["stage"]] if s}
    for stage in stages:
        reach = sum(1 for c in after if after[c]["stage"] == stage
                    and before.get(c, {}).get("stage") != stage)
        found = [m.count for m in result.movements if m.text == f"reach {stage}"]
        assert found == ([reach] if reach else [])
        leave = sum(1 for c in before if before[c]["stage"] == stage
                    and after.get(c, {}).get("stage") != stage)
        found = [m.count for m in result.movements if m.text == f"leave {stage}"]
        assert found == ([-leave] if leave else [])
    for hist in result.histograms:
        values = [r["scores"].get(hist.score) for r in after.values()]
        assert sum(b.after for b in hist.bins) == sum(1 for v in values if v is not None)

    def actions(r):
        return sorted((a["action"], a["arg"]) for a in r["actions"])

    labelled = {c for c in before if before[c]["stage"] != after[c]["stage"]
                or before[c]["grades"] != after[c]["grades"]
                or actions(before[c]) != actions(after[c])}
    changed = {c.contact for c in result.changed}
    assert labelled <= changed
    for contact in changed - labelled:  # only a score band moved, so the score did
        assert before[contact]["scores"] != after[contact]["scores"]


B2B = pathlib.Path(__file__).parent.parent / "examples" / "journeys" / "b2b.score"


@needs_engine
def test_impact_in_cli_report(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    old = B2B.read_text(encoding="utf-8")
    (tmp_path / "old.score").write_text(old, encoding="utf-8")
    (tmp_path / "new.score").write_text(
        old.replace("stage SQL when engagement >= 80", "stage SQL when engagement >= 60"),
        encoding="utf-8")
    events = [
        {"contact": "c1", "event": "visit", "target": "pricing", "at": "2026-03-02T10:00:00Z"},
        {"contact": "c1", "event": "register", "target": "webinar", "at": "2026-03-02T11:00:00Z"},
        {"contact": "c1", "event": "submit", "target": "contact_form", "at": "2026-03-03T11:00:00Z"},
        {"contact": "c2", "event": "visit", "target": "pricing", "at": "2026-03-02T10:00:00Z"},
    ]
    (tmp_path / "events.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n")
    (tmp_path / "contacts.jsonl").write_text(
        '{"contact": "c1", "title": "CEO", "employees": 250, "consent": true}\n'
        '{"contact": "c2", "consent": true}\n')
    result = _cli("--events", "events.jsonl", "--contacts", "contacts.jsonl", "--format", "json",
                  "old.score", "new.score")
    assert result.exit_code == 0, result.output
    impact = json.loads(result.output)["files"][0]["impact"]
    # c1: engagement 70 -> SQL under the new model (hand-over, reset), MQL under the old one
    assert {"count": 1, "text": "reach SQL"} in impact["movements"]
    assert {"count": 1, "text": "get notify sales"} in impact["movements"]
    assert impact["contacts"] == 2 and impact["changed"] == 1
    html = _cli("--events", "events.jsonl", "--contacts", "contacts.jsonl", "--format", "html",
                "old.score", "new.score").output
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(svgs) == len(impact["histograms"]) == 2
    for svg, histogram in zip(svgs, impact["histograms"]):
        root = ET.fromstring(svg)  # well-formed XML, drawable without any script
        bars = [r for r in root.iter("{http://www.w3.org/2000/svg}rect")
                if r.get("class") in ("before", "after") and r.find(
                    "{http://www.w3.org/2000/svg}title") is not None]
        assert len(bars) == 2 * len(histogram["bins"])
        tallest = max(bars, key=lambda r: float(r.get("height")))
        peak = max(max(b["before"], b["after"]) for b in histogram["bins"])
        assert tallest.find("{http://www.w3.org/2000/svg}title").text.endswith(
            (f": {peak} before", f": {peak} after"))


# --------------------------------------------------------------------------- git revisions


def git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    models = tmp_path / "models"
    models.mkdir()
    (models / "shared.score").write_text("score engagement 0..100\nscore fit\n")
    (models / "b2b.score").write_text('include "shared.score"\nvisit pricing +15\n')
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "v1")
    git(tmp_path, "tag", "v1")
    (models / "b2b.score").write_text('include "shared.score"\nvisit pricing +20\n')
    git(tmp_path, "commit", "-q", "-am", "v2")
    (models / "b2b.score").write_text('include "shared.score"\nvisit pricing +25\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _points(output: str, name: str = "models/b2b.score"):
    data = json.loads(output)
    files = {f["file"]: f for f in data["files"]}
    fields = files[name]["diff"]["changes"][0]["fields"]
    return fields[0]["old"], fields[0]["new"]


@needs_git
@needs_parser
def test_revision_against_working_tree(repo):
    result = _cli("--format", "json", "main")
    assert result.exit_code == 0, result.output
    assert _points(result.output) == ("+20", "+25")


@needs_git
@needs_parser
def test_two_revisions_with_path(repo):
    result = _cli("--format", "json", "v1", "main", "--", "models/b2b.score")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [f["file"] for f in data["files"]] == ["models/b2b.score"]
    assert _points(result.output) == ("+15", "+20")
    assert data["files"][0]["diff"]["changes"][0]["old_at"] == "v1:models/b2b.score:2"


@needs_git
@needs_parser
def test_revision_and_folder_from_a_subfolder(repo, monkeypatch):
    monkeypatch.chdir(repo / "models")
    result = _cli("--format", "json", "v1", ".")
    assert result.exit_code == 0, result.output
    assert _points(result.output) == ("+15", "+25")


@needs_git
def test_hostile_revision_names_are_not_options_or_shell(repo):
    from compiler.review import gitrev

    assert gitrev.is_revision("main", repo)
    for name in ("--output=x", "-p", "main; touch pwned", "$(touch pwned)"):
        assert not gitrev.is_revision(name, repo)
        with pytest.raises(gitrev.RevisionError):
            gitrev.resolve(name, None, (), repo)
    assert not (repo / "pwned").exists() and not (repo / "x").exists()


@needs_git
def test_paths_that_match_nothing_are_an_error(repo):
    result = _cli("main", "--", "models/", "--format", "json")
    assert result.exit_code == 2
    assert "--format: no .score file there on either side" in result.output


@needs_git
@needs_parser
def test_options_before_double_dash_and_relative_revisions(repo):
    result = _cli("--format=json", "main~1", "--", "models/")
    assert result.exit_code == 0
    assert _points(result.output) == ("+15", "+25")


@needs_git
@needs_parser
def test_git_diff_uses_the_driver(repo):
    score = shutil.which("score")
    if score is None:
        pytest.skip("the `score` script is not installed on PATH (pip install -e .)")
    (repo / ".gitattributes").write_text("*.score diff=score\n")
    git(repo, "config", "diff.score.command", f"{score} diff --git-driver")
    done = subprocess.run(["git", "diff"], cwd=repo, capture_output=True, text=True, check=True)
    assert "visit pricing" in done.stdout and "points: +20 -> +25" in done.stdout


@needs_git
@needs_parser
def test_files_broken_before_the_change_are_not_its_errors(repo):
    (repo / "broken.score").write_text("visit pricing +15 engagment\n")
    git(repo, "add", "broken.score")
    git(repo, "commit", "-q", "-m", "broken")
    result = _cli("--format", "json", "HEAD", "--", "broken.score")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["files"][0]["status"] == "unchanged"
    (repo / "broken.score").write_text("visit pricing +20 engagment\n")
    result = _cli("HEAD", "--", "broken.score")
    assert result.exit_code == 1
    assert "broken.score:1:19: error[E102]" in result.output
    assert "HEAD:broken.score:1:19: error[E102]" in result.output


@needs_parser
def test_git_driver_arguments(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "new.score").write_text("visit pricing +15\n", encoding="utf-8")
    added = _cli("--git-driver", "m.score", "/dev/null", "0" * 40, ".", "new.score", "1" * 40,
                 "100644")
    assert added.exit_code == 0, added.output
    assert "+ visit pricing +15  (b/m.score:1)" in added.output
    wrong = _cli("--git-driver", "m.score", "/dev/null")
    assert wrong.exit_code == 2 and "expected 7 arguments from git, got 2" in wrong.output
    (tmp_path / "bad.score").write_text("visit pricing +\n", encoding="utf-8")
    broken = _cli("--git-driver", "m.score", "new.score", "1" * 40, "100644", "bad.score",
                  "2" * 40, "100644")
    assert broken.exit_code == 0  # git must carry on; the diagnostics are in the output
    assert "b/m.score:1:" in broken.output and "error[" in broken.output


def test_markdown_is_capped_for_pull_request_comments():
    from compiler.review.reports import diff_report
    from compiler.review.reports.views import MARKDOWN_CHANGES
    from compiler.review.compare import FileReview, Review

    new = model(*(rule("visit", f"page-{n:04d}", n + 1) for n in range(MARKDOWN_CHANGES + 7)))
    review = Review("old", "new", [FileReview("m.score", "added", diff_models(model(), new))])
    markdown = diff_report(review, "markdown")
    assert markdown.count("`visit \"page-") == MARKDOWN_CHANGES
    assert "… and 7 more changes" in markdown
    assert diff_report(review, "text").count("+ visit \"page-") == MARKDOWN_CHANGES + 7
