"""The checker on account statements (docs/language.md 10.6, 10.8.11-14); the goldens
tests/golden/diagnostics/accounts*.score show each message in full."""
from pathlib import Path

import pytest

from compiler.pipeline import compile as compile_model, compile_text

ROOT = Path(__file__).resolve().parent.parent
BASE = """\
score engagement 0..100
score fit
group email of engagement max 40
visit pricing +20 engagement
email_open +1 email
if title = "CEO" +30 fit
grade tier by fit: A >= 30, else B
stage SQL when engagement >= 80
"""


def codes(text: str, **options) -> list[tuple[str, int]]:
    result = compile_text(BASE + text, **options)
    return [(d.code, d.span.line - BASE.count("\n")) for d in result.diagnostics]


def test_the_conformance_model_is_clean():
    result = compile_model(ROOT / "tests" / "conformance" / "16_accounts" / "model.score")
    assert result.diagnostics == []


@pytest.mark.parametrize("text", [
    "account by company_domain\naccount score heat = sum of engagement",
    "account by company_domain\naccount score e = max of email where tier is A",
    "account by d\naccount score c = count where stage is SQL where title = \"CEO\"",
    "account by d\naccount score tier = count\naccount grade stage by tier: A >= 1",  # 10.8.13
    "account score x = count\naccount by d",  # `account by` may come later
    "account by d\naccount score n = count where fit > 10 and engagement >= 5",
])
def test_valid_account_statements_have_no_diagnostics(text):
    assert codes(text) == []


@pytest.mark.parametrize("text, expected", [
    ("account by a\naccount by b", [("E107", 2)]),
    ("account by a\naccount score h = sum of engagment", [("E102", 2)]),
    ("account by a\naccount score h = min of nothing_like_it", [("E102", 2)]),
    ("account by a\naccount score h = sum of tier", [("E201", 2)]),
    ("account by a\naccount score h = sum of stage", [("E201", 2)]),
    ("account by a\naccount score h = count\naccount score s = sum of h", [("E102", 3)]),
    ("account by a\naccount score h = count\naccount score c = count where h >= 2",
     [("W120", 3)]),
    ("account by a\naccount score c = count where engagment >= 2", [("W110", 2)]),
    ("account by a\naccount score c = count where tier is Z", [("E104", 2)]),
    ("account by a\naccount grade g by engagement: A >= 1", [("E121", 2)]),
    ("account by a\naccount grade g by nope: A >= 1", [("E121", 2)]),
    ("account score h = count", [("E120", 1)]),
    ("account grade g by h: A >= 1\naccount score h = count", [("E120", 1), ("E120", 2)]),
    ("account by a\naccount score h = count\naccount grade h by h: A >= 1", [("E107", 3)]),
    ("account by a\naccount score h = count\naccount grade g by h: A >= 1, B >= 2",
     [("E202", 3)]),
    ("account by stage", [("E108", 1)]),
    ("account by a\naccount score when = count", [("E108", 2)]),
])
def test_each_misuse_is_coded_on_its_line(text, expected):
    assert codes(text) == expected


def test_sample_contacts_without_the_account_attribute_warn():
    found = codes("account by company_domain\naccount score h = count",
                  sample_contacts=[{"contact": "c1", "title": "CEO"}])
    assert found == [("W106", 1)]
    assert codes("account by company_domain\naccount score h = count",
                 sample_contacts=[{"contact": "c1", "title": "CEO",
                                   "company_domain": "a.com"}]) == []


def test_account_errors_stop_the_compile():
    result = compile_text(BASE + "account score h = count")
    assert result.table is None
