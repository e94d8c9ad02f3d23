"""The language server's features as functions (no protocol): completion in place, hover
words, sample-data impact, configuration, and survival on the parser's fuzz corpus."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.lsp import actions, completion, hover, outline
from compiler.lsp.analysis import analyse
from compiler.lsp.config import ConfigError, Settings, sample_files
from compiler.lsp.convert import Positions
from compiler.lsp.impact import compute_impact, read_sample
from fuzz import RANDOM_TEXTS, mutate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.score"))
V2_MODELS = sorted((ROOT / "tests" / "conformance").glob("1[1-6]_*/model.score"))
B2B = ROOT / "examples" / "b2b_saas.score"
B2B_DATA = ROOT / "examples" / "data" / "b2b_saas"


@pytest.fixture(scope="module")
def sample():
    return read_sample(str(B2B_DATA / "events.jsonl"), str(B2B_DATA / "contacts.jsonl"))


def _complete(line_text: str, sample=None, in_test: bool = False) -> list[str]:
    """Labels offered at the end of `line_text`, typed as a new line of the B2B example
    (inside its first test block when `in_test`)."""
    lines = B2B.read_text(encoding="utf-8").split("\n")
    at = lines.index("    expect no notify sales") + 1 if in_test else lines.index("") + 1
    lines.insert(at, line_text)
    found = analyse("\n".join(lines), str(B2B), 1, sample)
    return [i.label for i in completion.complete(found, lines, at + 1, len(line_text) + 1,
                                                 sample)]


@pytest.mark.parametrize("typed, offered, not_offered", [
    ("", ["visit", "email_open", "grade", "stage", "when", "test"], ["once", "engagement"]),
    ("visit pricing +5 ", ["engagement", "fit", "once", "at"], ["visit", "when"]),
    ("visit pricing +5 at most 2 per ", ["day", "week", "month"], ["engagement"]),
    ("email_sent without ", ["email_open", "visit"], ["engagement"]),
    ("when ", ["engagement", "fit", "tier", "stage", "not"], ["visit"]),
    ("stage X when engagement > 5 and ", ["engagement", "tier", "stage"], []),
    ("when tier is ", ["A", "B", "C", "D"], ["MQL", "engagement"]),
    ("when tier in (A, ", ["B", "C"], ["MQL"]),
    ("when stage is not ", ["MQL", "SQL"], ["A"]),
    ("when engagement > 3 ", ["notify", "tag", "reset", "and", "or"], ["engagement"]),
    ("when engagement > 3 notify ", ["sales", '"not-a-fit"'], ["engagement"]),
    ("when engagement > 3 reset ", ["engagement", "fit"], ["tier"]),
    ("decay ", ["engagement", "fit"], ["tier"]),
    ("grade g by ", ["engagement", "fit", "tier"], ["MQL", "visit"]),  # tier: a matrix grade
    ("if ", ["title", "employees", "consent", "not"], ["engagement", "tier"]),
    ('timezone ', ['"Europe/Berlin"', '"UTC"'], []),
    ('include ', ['"loyalty.score"'], ['"b2b_saas.score"']),
    ("event signup (plan: ", ["number", "text", "bool"], []),
    ('visit "blog', [], ["visit"]),
])
def test_completion_offers_what_fits_in_place(typed, offered, not_offered):
    labels = _complete(typed)
    assert set(offered) <= set(labels), labels
    assert not set(not_offered) & set(labels), labels


@pytest.mark.parametrize("typed, offered, not_offered", [
    ("    ", ["visit", "expect", "at", "contact", "now"], ["engagement", "grade"]),
    ("    expect ", ["engagement", "tier", "stage", "unscored", "no"], ["visit"]),
    ("    expect tier is ", ["A", "D", "not"], ["MQL"]),
    ("    expect stage is not ", ["MQL", "SQL"], ["A"]),
    ("    at 2026-03-02 ", ["visit", "register"], ["expect", "engagement"]),
    ("    expect notify ", ["sales"], ["engagement"]),
])
def test_completion_in_test_blocks(typed, offered, not_offered):
    labels = _complete(typed, in_test=True)
    assert set(offered) <= set(labels), labels
    assert not set(not_offered) & set(labels), labels


def test_completion_offers_targets_and_attributes_of_the_sample_data(sample):
    labels = _complete("visit ", sample)
    # seen in the sample: bare names as they are, other targets in quotes
    assert {"pricing", "careers", '"blog/lead-scoring-101"'} <= set(labels)
    assert "blog/lead-scoring-101" not in labels
    assert {"title", "employees", "industry", "consent"} <= set(_complete("if ", sample))
    assert "industry" not in _complete("if ")  # no model line reads it: only the data knows
    assert {"pricing", '"blog/case-study"'} <= set(_complete("    at 2026-03-02 visit ",
                                                             sample, in_test=True))


# --------------------------------------------------------------------------- hover


def _hover(text: str, needle: str, offset: int = 0, sample=None, impact=None,
           path: str = "/tmp/m.score") -> str:
    found = analyse(text, path, 1, sample)
    index = text.index(needle) + offset
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    answer = hover.hover(found, line, column, impact)
    return answer.markdown if answer else ""


@pytest.mark.parametrize("statement, words", [
    ('visit pricing +15 at most 1 per day', "awards **+15 engagement** for each `visit` of "
     "`pricing`, at most 1 per day in Europe/Berlin"),
    ('visit "blog/*" +10 fit at most 5', "awards **+10 fit** for each `visit` of a target "
     "matching `blog/*`, at most 5 times per contact"),
    ('unsubscribe -20', "takes away **20 engagement** for each `unsubscribe`"),
    ('submit form +30 once', "once per contact"),
    ('visit pricing where seconds >= 30 +5', "where `seconds >= 30`"),
    ('email_sent without email_open within 24 hours -5', "takes away **5 engagement** 24 "
     "hours after each `email_sent` that no `email_open` of the same target follows"),
    ('if title in ("CEO", "VP*") +20 fit', "awards **+20 fit** while the contact's profile "
     "has `title in (\"CEO\", \"VP*\")`"),
    ('decay engagement 10% every 30 days', "loses 10% of its points every 30 days"),
    ('expire engagement after 90 days', "counts for 90 days, then nothing"),
    ('grade tier by fit: A >= 30, B >= 15, else C', "**A** from 30, **B** from 15, **C** "
     "below that"),
    ('stage MQL when engagement >= 50', "stage **MQL** (1st of 1 stages): a contact moves "
     "here once `engagement >= 50` holds"),
    ('when engagement >= 80 notify sales, reset engagement each time', "notifies **sales**, "
     "resets **engagement**"),
])
def test_hover_says_what_a_statement_means(statement, words):
    text = ('timezone "Europe/Berlin"\nscore engagement 0..100\nscore fit\n' + statement
            + "\n")
    assert words in _hover(text, statement)


@pytest.mark.parametrize("statement, words", [
    ("group email of engagement max 40", "group **email** of **engagement**: the points rules "
     "send to `email` count at most 40 towards engagement"),
    ("activity visit, email_open", "only `visit`, `email_open` events count as activity"),
    ("inactive 30 days -10 fit every 30 days at most 3", "takes away **10 fit** after 30 days "
     "without activity, and again every 30 days the quiet spell lasts, at most 3 times"),
    ("purchase by value fit -50..50", "awards **fit** the whole number in the `value` property "
     "(kept between -50..50) for each `purchase`"),
    ('"Product Added" +30', "awards **+30 engagement** for each `Product Added`"),
    ("grade lane by tier and heat: hot = (A1, B1), else cold", "grade **lane** pairs the "
     "labels of **tier** and **heat** (`A` and `1` make `A1`): **hot** for A1, B1, **cold**"),
])
def test_hover_on_v2_statements(statement, words):
    text = "score engagement 0..100\nscore fit\n" + statement + "\n"
    assert words in _hover(text, statement, 1)


def test_v2_names_are_indexed_and_completed():
    text = ("score engagement\ngroup email of engagement max 40\nactivity visit\n"
            '"Product Added" +5 email\npurchase by value engagement\n'
            "grade tier by engagement: A >= 10, else B\ngrade heat by engagement: 1 >= 5\n"
            "grade lane by tier and heat: hot = (A1), else cold\n")
    found = analyse(text, "/tmp/v2.score")
    kinds = {(o.name, o.kind, o.declares) for o in found.index.occurrences}
    assert {("email", "group", True), ("engagement", "score", False),
            ("Product Added", "event", False), ("value", "property", False),
            ("tier", "grade", False), ("heat", "grade", False), ("hot", "label", True),
            ("cold", "label", True)} <= kinds
    assert "group `email` of `engagement` — declared at line 2" in _hover(text, "+5 email", 4)
    use = next(o for o in found.index.occurrences if o.name == "email" and not o.declares)
    assert hover.declaration_span(found, use).line == 2
    quoted = next(o for o in found.index.occurrences if o.name == "Product Added")
    assert (quoted.span.line, quoted.span.column, quoted.span.end_column) == (4, 1, 16)
    lines = text.split("\n")

    def offered(typed):
        lines.append(typed)
        labels = [i.label for i in completion.complete(found, lines, len(lines), len(typed) + 1)]
        lines.pop()
        return labels

    assert "engagement" in offered("group web of ")
    assert {"tier", "heat"} <= set(offered("grade x by tier and "))
    assert "value" in offered("purchase by ")
    assert {"group", "activity", "inactive"} <= set(offered(""))


def test_hover_on_names_names_their_kind_and_declaration():
    text = B2B.read_text(encoding="utf-8")
    assert _hover(text, "engagement >= 80").startswith(
        "```score\nstage SQL when engagement >= 80\n```\n\nscore `engagement`, from 0 to 100 "
        "(the default score) — declared at line 4")
    assert "label `A` of grade `tier` — declared at line 26" in _hover(text, "A, B)")
    assert "profile attribute `title` of the contact" in _hover(text, "title in")
    assert "the contact's lifecycle stage (stages: `MQL`, `SQL`)" in _hover(text, "stage is SQL")


def test_impact_counts_awards_contacts_and_caps_as_explain_does(sample):
    from compiler.pipeline import compile as compile_model
    from runtime import Engine

    table = compile_model(str(B2B)).table
    impact = compute_impact(table, sample)
    # the same numbers, counted from `score explain` of every contact in the sample
    engine = Engine(table)
    as_of = max(e.at for e in sample.events)
    awards = capped = 0
    contacts = set()
    home = impact.rule_ids[f"{B2B}:10"][0]
    for contact in sorted({e.contact for e in sample.events} | set(sample.contacts)):
        explanation = engine.explain(contact, sample.events, sample.contacts, as_of).to_json()
        for record in explanation["awards"]:
            if record["rule"] == home:
                capped += record["status"] == "capped"
                awards += record["status"] != "capped"
                if record["status"] != "capped":
                    contacts.add(contact)
    found = impact.rules[home]
    assert (found.awards, found.contacts, found.capped) == (awards, len(contacts), capped)
    assert awards > 0 and capped > 0
    results = engine.run(sample.events, sample.contacts, as_of)
    assert impact.stages["SQL"] == (sum(r["stage"] == "SQL" for r in results),) * 2
    assert impact.stages["MQL"][0] == sum(r["stage"] in ("MQL", "SQL") for r in results)


def test_impact_of_a_profile_rule_skips_unscored_contacts(tmp_path):
    events = tmp_path / "e.jsonl"
    contacts = tmp_path / "c.jsonl"
    events.write_text('{"contact": "a", "event": "visit", "at": "2026-03-02T00:00:00Z"}\n',
                      encoding="utf-8")
    contacts.write_text('{"contact": "a", "title": "CEO", "consent": true}\n'
                        '{"contact": "b", "title": "CEO", "consent": false}\n', encoding="utf-8")
    text = 'require consent\nif title = "CEO" +20\n'
    path = str(tmp_path / "m.score")
    impact = compute_impact(analyse(text, path).table,
                            read_sample(str(events), str(contacts)))
    assert impact.scored == 1
    assert "**1 award** to 1 contact" in _hover(text, "if title", impact=impact, path=path)


def test_a_rule_on_a_shared_line_finds_its_own_counts(sample):
    text = "visit pricing +15; visit home +5\n"
    found = analyse(text, "/tmp/shared.score")
    impact = compute_impact(found.table, sample)
    pricing, home = impact.rule_ids["/tmp/shared.score:1"]
    first = _hover(text, "pricing", impact=impact, path="/tmp/shared.score")
    second = _hover(text, "home", impact=impact, path="/tmp/shared.score")
    assert "visit pricing" in first and "visit home" in second
    assert f"**{impact.rules[pricing].awards:,} awards**" in first
    assert f"**{impact.rules[home].awards:,} awards**" in second
    assert impact.rules[pricing].awards != impact.rules[home].awards


# --------------------------------------------------------------------------- configuration


def test_scorelang_toml_gives_each_model_its_data(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "scorelang.toml").write_text(
        'events = "data/all.jsonl"\n[models."models/b2b.score"]\nevents = "data/b2b.jsonl"\n'
        'contacts = "data/c.jsonl"\n', encoding="utf-8")
    chosen = sample_files(str(tmp_path / "models" / "b2b.score"), Settings())
    assert (chosen.events, chosen.contacts) == (str(tmp_path / "data" / "b2b.jsonl"),
                                                str(tmp_path / "data" / "c.jsonl"))
    other = sample_files(str(tmp_path / "models" / "shop.score"), Settings())
    assert (other.events, other.contacts) == (str(tmp_path / "data" / "all.jsonl"), None)


def test_settings_apply_without_a_toml_file(tmp_path):
    settings_ = Settings.from_client({"scorelang": {"events": "d/e.jsonl"}}, str(tmp_path))
    chosen = sample_files(str(tmp_path / "m.score"), settings_)
    assert chosen.events == str(tmp_path / "d" / "e.jsonl") and chosen.origin == "settings"
    assert not sample_files(str(tmp_path / "m.score"), Settings(root=str(tmp_path))).any


def test_a_broken_toml_file_is_a_clear_error(tmp_path):
    (tmp_path / "scorelang.toml").write_text("events = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="scorelang.toml"):
        sample_files(str(tmp_path / "m.score"), Settings())


# --------------------------------------------------------------------------- diagnostics


@pytest.mark.parametrize("code, message, hint, underlined, fixed", [
    ("E102", "unknown score `engagment`", "did you mean `engagement`?", "engagment",
     ["engagement"]),
    ("E111", 'unknown time zone "europe/berlin"',
     "did you mean `Europe/Berlin`? (time zone names are case-sensitive)", '"europe/berlin"',
     ['"Europe/Berlin"']),
    ("E001", "expected points such as +15 or -20 ... but found `15`", None, "15",
     ["+15", "-15"]),
    ("E001", "expected `:` here", None, "15", []),
    ("E102", "unknown score `x`", "declared scores: `a`, `b`", "x", []),
])
def test_quick_fixes_come_from_hints(code, message, hint, underlined, fixed):
    assert [f.new_text for f in actions.fixes(code, message, hint, underlined)] == fixed


# --------------------------------------------------------------------------- robustness


def _every_feature(text: str, probed: range | None = None) -> None:
    """Every feature on `text`, at every position of the `probed` lines (default: all)."""
    found = analyse(text, "/tmp/fuzz.score", 1)
    positions = Positions(text)
    lines = positions.lines
    outline.symbols(found, positions)
    outline.lenses(found, positions, "file:///tmp/fuzz.score", lambda name: name)
    for line in probed or range(1, len(lines) + 1):
        for column in range(1, len(lines[line - 1]) + 2):
            hover.hover(found, line, column, "computing")
            hover.definition(found, line, column)
            completion.complete(found, lines, line, column)
    for problem in found.result.diagnostics:
        span = problem.span
        text_of = positions.line_text(span.line)[span.column - 1:span.end_column - 1] \
            if span else ""
        actions.fixes(problem.code, problem.message, problem.hint, text_of)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RANDOM_TEXTS)
def test_every_feature_survives_random_text(text):
    _every_feature(text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_feature_survives_mutated_examples(data):
    source = data.draw(st.sampled_from([p.read_text(encoding="utf-8")
                                        for p in EXAMPLES + V2_MODELS]))
    text = mutate(data, source)
    # every position of a whole example is slow: probe a window of its lines
    count = text.count("\n") + 1
    start = data.draw(st.integers(1, max(1, count - 10)))
    _every_feature(text, range(start, min(count, start + 10) + 1))
