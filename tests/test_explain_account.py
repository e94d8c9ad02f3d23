"""`score explain --account` (issue 13 item 4): each member's part in each account score, the
members left out and why; the parts add up to the account's line of `score run --accounts`."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

import account_strategies as acs
from compiler.cli import main
from compiler.lower import lower
from runtime import Engine
from runtime.accounts import account_of

CASE = Path(__file__).parent / "conformance" / "16_accounts"
PROPERTY = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def explain(*args, cwd=CASE):
    return CliRunner().invoke(main, ["explain", str(cwd / "model.score"), "--events",
                                     str(cwd / "events.jsonl"), "--contacts",
                                     str(cwd / "contacts.jsonl"), *args],
                              catch_exceptions=False)


def expected_accounts() -> dict:
    lines = (CASE / "expected_accounts.jsonl").read_text(encoding="utf-8").splitlines()
    return {line["account"]: line for line in map(json.loads, lines)}


def test_json_line_equals_the_conformance_accounts_line():
    for account, line in expected_accounts().items():
        found = explain("--account", account, "--format", "json")
        assert found.exit_code == 0, found.stderr
        data = json.loads(found.stdout)
        assert {k: data[k] for k in line} == line


def test_text_shows_parts_totals_and_reasons():
    result = explain("--account", "acme.com")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "account acme.com as of 2026-03-02T14:00:00Z"
    assert lines[1] == '  members: 3 (profiles whose company_domain is "acme.com"; 2 scored)'
    assert lines[2] == "  scores: heat = 60, champions = 1, best_fit = 40, a_heat = 40"
    text = result.stdout
    assert "  a3  unscored: the profile does not satisfy `require consent = true`" in text
    # the statement as written, then each member's part and the running total
    assert ("model.score:12  account score heat = sum of engagement\n"
            "      a1  +40 engagement; heat = 40\n"
            "      a2  +20 engagement; heat = 60\n"
            "      left out: a3 (unscored)\n") in text
    assert ("model.score:13  account score champions = count where stage is SQL\n"
            "      a1  counted; champions = 1\n"
            "      left out: a2 (`stage = \"SQL\"` does not hold); a3 (unscored)\n") in text
    assert "      a1  fit = 40  <- the highest\n      a2  fit = 0\n      best_fit = 40\n" in text
    assert "      heat = 60 -> Hot (>= 60)" in text


def test_an_account_without_scored_members():
    text = explain("--account", "delta.org").stdout
    assert "no member is taken: best_fit has no value (null)" in text
    assert "heat = 0 -> Cold (else)" in text
    assert "best_fit = null -> no label (the score has no value)" in text


def test_unknown_account_hints_and_fails():
    result = explain("--account", "acme.co")
    assert result.exit_code == 1
    assert "no profile names the account `acme.co`" in result.stderr
    assert "did you mean `acme.com`?" in result.stderr
    # 42 is not text: contact n1 belongs to no account (10.8.12)
    assert explain("--account", "42").exit_code == 1


def test_contact_or_account_exactly_one(tmp_path):
    assert explain().exit_code == 2
    both = explain("--contact", "a1", "--account", "acme.com")
    assert both.exit_code == 2 and "one of --contact ID or --account ID" in both.output
    for name in ("events.jsonl", "contacts.jsonl"):
        shutil.copy(CASE / name, tmp_path / name)
    (tmp_path / "model.score").write_text("score engagement\nvisit pricing +20\n",
                                          encoding="utf-8")
    plain = explain("--account", "acme.com", cwd=tmp_path)
    assert plain.exit_code == 2 and "has no `account by`" in plain.stderr


def test_explain_contact_still_works():
    result = explain("--contact", "a1")
    assert result.exit_code == 0 and result.stdout.startswith("contact a1 as of")


@PROPERTY
@given(acs.account_scenarios())
def test_every_account_explained_adds_up_to_its_line(scenario):
    """On generated models and histories: the explanation's line equals `run_with_accounts`'s,
    every member is either taken or left out by every account score, and the parts give
    the value (a sum adds up, a count counts, max/min's chosen member holds it)."""
    model, events, contacts, as_of = scenario
    engine = Engine(lower(model, "0" * 64))
    _, accounts = engine.run_with_accounts(events, contacts, as_of)
    for line in accounts:
        data = engine.explain_account(line["account"], events, contacts, as_of)
        assert {k: data[k] for k in line} == line
        members = sorted(c for c, p in contacts.items()
                         if account_of(p, acs.ACCOUNT_ATTRIBUTE) == line["account"])
        assert [m["contact"] for m in data["members"]] == members
        for score in data["account_scores"]:
            taken = [part["contact"] for part in score["members"]]
            left = [item["contact"] for item in score["left_out"]]
            assert sorted(taken + left) == members
            values = [part["value"] for part in score["members"]]
            if score["aggregate"] in ("sum", "count"):
                assert sum(values) == score["value"]
            else:
                chosen = [p["value"] for p in score["members"] if p.get("chosen")]
                best = {"max": max, "min": min}[score["aggregate"]](values, default=None)
                assert score["value"] == best and chosen == ([] if best is None else [best])
    assert engine.explain_account("no-such.account", events, contacts, as_of) is None


def test_as_of_explains_the_account_at_that_time():
    """Every member as of the same time: at 10:30 only a1's two visits (before a2's one),
    so heat is 40 and a2 adds nothing yet; `score run --accounts --as-of` agrees."""
    data = json.loads(explain("--account", "acme.com", "--as-of", "2026-03-02T10:30:00Z",
                              "--format", "json").stdout)
    assert data["as_of"] == "2026-03-02T10:30:00Z"
    heat = next(s for s in data["account_scores"] if s["name"] == "heat")
    assert heat["value"] == 40 and heat["members"] == [{"contact": "a1", "value": 40},
                                                         {"contact": "a2", "value": 0}]
    engine = Engine(lower_case())
    events, contacts = case_inputs()
    from runtime.events import parse_time
    _, accounts = engine.run_with_accounts(events, contacts, parse_time("2026-03-02T10:30:00Z"))
    line = next(a for a in accounts if a["account"] == "acme.com")
    assert {k: data[k] for k in line} == line


def lower_case() -> dict:
    from compiler.pipeline import compile as compile_model

    return compile_model(str(CASE / "model.score")).table


def case_inputs():
    from compiler.run import readers

    profiles, _ = readers.read_contacts(str(CASE / "contacts.jsonl"))
    events = [e for e in readers.read_events(str(CASE / "events.jsonl"))
              if not hasattr(e, "reason")]
    return events, profiles
