"""`score diff --events` with accounts (issue 13 item 5): account statements in the model
diff, and the impact lists the accounts that change grade next to the contacts, in text,
Markdown, HTML and JSON."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from compiler.review.compare import FileReview, Review
from compiler.review.impact import compare_accounts, compare_results
from compiler.review.reports import diff_report

CASE = Path(__file__).parent / "conformance" / "16_accounts"


def line(account, heat, grade):
    return {"account": account, "contacts": 1, "scores": {"heat": heat},
            "grades": {} if grade is None else {"abm": grade}}


def test_account_movements_by_hand():
    before = [line("a.com", 10, "Cold"), line("b.com", 50, "Warm"), line("c.com", 90, "Hot"),
              line("d.com", 20, "Warm"), line("e.com", None, None)]
    after = [line("a.com", 70, "Hot"), line("b.com", 70, "Hot"), line("c.com", 90, "Hot"),
             line("d.com", 20, "Warm"), line("e.com", 75, "Hot")]
    found = compare_accounts(before, after)
    assert found.accounts == 5
    assert [str(m) for m in found.movements] == [
        "-1 account leaves abm Cold", "+3 accounts reach abm Hot",
        "-1 account leaves abm Warm"]
    assert [(c.account, c.what) for c in found.changed] == [
        ("a.com", ("abm Cold -> Hot", "heat 10 -> 70")),
        ("b.com", ("abm Warm -> Hot", "heat 50 -> 70")),
        ("e.com", ("abm (none) -> Hot", "heat (none) -> 75"))]


def test_a_model_without_accounts_before_has_every_account_reach():
    found = compare_accounts([], [line("a.com", 70, "Hot"), line("b.com", 5, "Cold")])
    assert [str(m) for m in found.movements] == ["+1 account reaches abm Cold",
                                                 "+1 account reaches abm Hot"]
    assert len(found.changed) == 2


def test_reports_list_accounts_next_to_contacts():
    impact = compare_results({"x": {"scores": {"e": 1}, "grades": {}, "stage": None,
                                    "actions": []}},
                             {"x": {"scores": {"e": 1}, "grades": {}, "stage": None,
                                    "actions": []}})
    from dataclasses import replace
    accounts = compare_accounts([line("a|b.com", 10, "Cold")], [line("a|b.com", 70, "Hot")])
    review = Review("old", "new", [FileReview("m.score", "changed",
                                              impact=replace(impact, accounts=accounts))])
    text = diff_report(review, "text")
    assert "  impact on 1 accounts: 1 account changes\n    -1 account leaves abm Cold\n" \
           "    +1 account reaches abm Hot\n" in text
    assert "  changed accounts (1)\n    a|b.com: abm Cold -> Hot; heat 10 -> 70\n" in text
    markdown = diff_report(review, "markdown")
    assert "**Accounts**: 1 accounts, 1 account changes" in markdown
    assert "- +1 account reaches abm Hot" in markdown
    assert "| `a|b.com` | abm Cold -> Hot; heat 10 -> 70 |" not in markdown  # | escaped
    assert "| `a\\|b.com` | abm Cold -> Hot; heat 10 -> 70 |" in markdown
    html = diff_report(review, "html")
    assert "<li>+1 account reaches abm Hot</li>" in html
    assert '<td><code>a|b.com</code></td><td class="what">abm Cold -&gt; Hot; heat 10 -&gt; 70</td>' in html
    data = json.loads(diff_report(review, "json"))
    assert data["files"][0]["impact"]["accounts"]["movements"][0] == {
        "count": -1, "text": "account leaves abm Cold"}
    # a model without accounts: no accounts in any report (the goldens stay as they were)
    plain = Review("old", "new", [FileReview("m.score", "changed", impact=impact)])
    assert "accounts" not in diff_report(plain, "text")
    assert "accounts" not in json.loads(diff_report(plain, "json"))["files"][0]["impact"]


@pytest.fixture
def case(tmp_path):
    for name in ("model.score", "events.jsonl", "contacts.jsonl"):
        shutil.copy(CASE / name, tmp_path / name)
    return tmp_path


def diff(case, new_text, *extra):
    (case / "new.score").write_text(new_text, encoding="utf-8")
    return CliRunner().invoke(main, ["diff", str(case / "model.score"), str(case / "new.score"),
                                     "--events", str(case / "events.jsonl"), "--contacts",
                                     str(case / "contacts.jsonl"), *extra],
                              catch_exceptions=False)


def test_cli_a_grade_threshold_moves_accounts(case):
    old = (case / "model.score").read_text(encoding="utf-8")
    new = old.replace("Hot >= 60, Warm >= 20", "Hot >= 70, Warm >= 20").replace(
        "Strong >= 30", "Strong >= 10")
    result = diff(case, new)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "  accounts\n    ~ account grade abm" in out
    assert "        band Hot: >= 60 -> >= 70\n" in out
    # acme.com's heat is 60: Hot before, Warm after; beta.io's best fit 10 becomes Strong
    assert "  impact on 3 accounts: 2 accounts change\n" in out
    for movement in ("-1 account leaves abm Hot", "+1 account reaches abm Warm",
                     "+1 account reaches fitness Strong", "-1 account leaves fitness Weak"):
        assert f"    {movement}\n" in out
    assert "    acme.com: abm Hot -> Warm\n    beta.io: fitness Weak -> Strong\n" in out
    assert "0 contacts change" in out  # account grades change no contact
    data = json.loads(diff(case, new, "--format", "json").stdout)
    accounts = data["files"][0]["impact"]["accounts"]
    assert accounts["changed"] == 2 and accounts["accounts"] == 3


def test_cli_an_account_score_changed_and_added(case):
    old = (case / "model.score").read_text(encoding="utf-8")
    new = old.replace("account score heat = sum of engagement",
                      "account score heat = max of engagement") + \
        "account score size = count\n"
    out = diff(case, new).stdout
    assert "    ~ account score heat" in out
    assert "        aggregate: sum of engagement -> max of engagement\n" in out
    assert "    + account score size" in out
    # `count` counts the scored members (a3 is unscored); a max over no member is null
    assert "acme.com: abm Hot -> Warm; heat 60 -> 40; size (none) -> 2" in out
    assert "delta.org: abm Cold -> (none); heat 0 -> (none); size (none) -> 0" in out


def test_cli_only_an_account_statement_changed_is_a_change(case):
    old = (case / "model.score").read_text(encoding="utf-8")
    out = diff(case, old.replace("account by company_domain", "account by domain")).stdout
    assert "    ~ account by" in out and "attribute: company_domain -> domain" in out
    assert "impact on 0 accounts" not in out and "impact on 3 accounts" in out
