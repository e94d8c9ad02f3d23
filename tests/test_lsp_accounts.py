"""The language server knows account statements (issue 15, docs/language.md 10.6): the
outline lists them, hover says what an account score or grade is and means, completion offers
the aggregates, scores and account scores where they fit, go to definition finds account
scores, account grade labels and the contact names account statements read. Driven by a real
LSP client over stdio on the B2B example, plus the pieces as functions."""
from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from compiler.lsp import hover as lsp_hover
from compiler.lsp.analysis import analyse

from lsp_client import ROOT, Client, position

B2B = ROOT / "examples" / "b2b_saas.score"


@pytest.fixture(scope="module")
def client():
    session = Client(ROOT)
    yield session
    session.close()


@pytest.fixture(scope="module")
def opened(client):
    text = B2B.read_text(encoding="utf-8")
    return text, types.TextDocumentIdentifier(client.open(B2B, text))


def _line(text: str, needle: str) -> int:
    return position(text, needle).line + 1


def test_outline_lists_account_statements(client, opened):
    text, document = opened
    found = client.request("text_document_document_symbol",
                           types.DocumentSymbolParams(document))
    by_detail: dict[str, list] = {}
    for symbol in found:
        by_detail.setdefault(symbol.detail, []).append(symbol)
    assert [s.name for s in by_detail["accounts"]] == ["account by company_domain"]
    assert [s.name for s in by_detail["account score"]] == ["heat", "engaged", "best_fit"]
    heat = by_detail["account score"][0]
    assert heat.selection_range.start == position(text, "heat = sum")
    abm = by_detail["account grade"][0]
    assert abm.name == "abm" and abm.kind == types.SymbolKind.Enum
    assert [(c.name, c.detail) for c in abm.children] == [("Hot", ">= 150"), ("Warm", ">= 60")]
    assert by_detail["score"][0].name == "engagement"  # contact scores stay as they were


def test_hover_on_account_scores_and_grades(client, opened):
    text, document = opened

    def hover(needle, offset=0):
        return client.request("text_document_hover", types.HoverParams(
            document, position(text, needle, offset))).contents.value

    used = hover("abm by heat", len("abm by "))
    assert f"account score `heat` = sum of engagement — declared at line " \
           f"{_line(text, 'account score heat')}" in used
    assert "account grade **abm** labels each account by its account score **heat**: " \
           "**Hot** from 150, **Warm** from 60, **Cold** below that" in used
    declared = hover("heat = sum")
    assert "the members' **engagement** added up, per account; unscored members add nothing" \
        in declared and "declared at" not in declared.split("\n\n")[1]
    assert "the number of scored members for whom `stage in (MQL, SQL)` holds" in \
        hover("engaged = count")
    assert "the highest **fit** of the members" in hover("best_fit = max")
    assert "score `engagement`, from 0 to 100 (the default score)" in hover(
        "sum of engagement", len("sum of "))
    assert "account grade `abm` by account score `heat`: labels `Hot`, `Warm`, `Cold`" in \
        hover("abm by heat")
    assert "label `Warm` of account grade `abm`" in hover("Warm >= 60")
    assert "a contact whose profile has text in `company_domain` is a member" in \
        hover("account by company_domain", len("account by "))
    assert "profile attribute `company_domain`" in hover("account by company_domain",
                                                         len("account by "))


def test_definition_from_account_statements(client, opened):
    text, document = opened

    def where(needle, offset=0):
        found = client.request("text_document_definition", types.DefinitionParams(
            document, position(text, needle, offset)))
        return None if found is None else found.range.start

    assert where("abm by heat", len("abm by ")) == position(text, "heat = sum")
    assert where("sum of engagement", len("sum of ")) == position(text, "engagement 0..100")
    assert where("max of fit", len("max of ")) == position(text, "fit\n")
    assert where("in (MQL, SQL)\naccount", len("in (")) == position(text, "MQL when")


def test_completion_in_account_statements(client, opened):
    text, document = opened
    lines = text.split("\n")

    def labels(typed):
        edited = "\n".join(lines[:40] + [typed] + lines[40:])
        client.change(document.uri, 100 + len(typed), edited)
        found = client.request("text_document_completion", types.CompletionParams(
            document, types.Position(40, len(typed))))
        return [item.label for item in found.items]

    assert labels("account score x = ") == ["count", "max", "min", "sum"]
    assert labels("account score x = sum of ") == ["engagement", "fit"]
    assert labels("account grade g by ") == ["heat", "engaged", "best_fit"]
    assert {"A", "B", "C", "D"} <= set(labels("account score x = count where tier is "))
    assert {"MQL", "SQL"} <= set(labels("account score x = sum of fit where stage is "))
    offered = labels("account score x = count where ")
    assert {"engagement", "tier", "stage"} <= set(offered) and "heat" not in offered
    assert "company_domain" in labels("account by ")
    client.change(document.uri, 1000, text)


NAMESPACE = """score engagement
score fit
visit pricing +10
if title = "CEO" +30 fit
grade tier by fit: A >= 30, else B
account by domain
account score tier = max of fit where tier is A
account grade size by tier: Big >= 30, else Small
"""


def test_an_account_score_named_like_a_grade_keeps_its_namespace(tmp_path):
    """`account score tier` and `grade tier` are two names (10.6): in the account score's
    `where`, `tier` is the members' grade; after `account grade size by`, the account score."""
    path = str(tmp_path / "m.score")
    analysis = analyse(NAMESPACE, path)
    assert not [d for d in analysis.result.diagnostics if d.severity == "error"]

    def at(needle, offset=0):
        where = position(NAMESPACE, needle, offset)
        return where.line + 1, where.character + 1

    found = lsp_hover.hover(analysis, *at("where tier", len("where ")))
    assert found.markdown.startswith("```score\naccount score tier = max of fit where tier is A")
    assert "grade `tier` by `fit`" in found.markdown
    assert lsp_hover.definition(analysis, *at("where tier", len("where "))).line == 5
    span = lsp_hover.definition(analysis, *at("size by tier", len("size by ")))
    assert (span.line, span.column) == (7, len("account score ") + 1)
    assert lsp_hover.definition(analysis, *at("account score tier", len("account score "))) \
        == span


def test_hover_shows_accounts_on_the_sample_data():
    """With sample data, hover on an account grade counts the accounts per label, and on an
    account score gives its range over the accounts (the lines of `score run --accounts`)."""
    from compiler.lsp.impact import compute_impact, read_sample

    data = ROOT / "examples" / "data" / "b2b_saas"
    sample = read_sample(str(data / "events.jsonl"), str(data / "contacts.jsonl"))
    text = B2B.read_text(encoding="utf-8")
    analysis = analyse(text, str(B2B), 1, sample)
    impact = compute_impact(analysis.table, sample)
    labels = [a["grades"]["abm"] for a in impact.accounts]
    assert len(impact.accounts) == 93 and set(labels) == {"Hot", "Warm", "Cold"}

    def hover(needle):
        where = position(text, needle)
        return lsp_hover.hover(analysis, where.line + 1, where.character + 1, impact).markdown

    assert (f"**93 accounts** on the sample data: {labels.count('Hot')} Hot, "
            f"{labels.count('Warm')} Warm, {labels.count('Cold')} Cold") in hover("account grade")
    heat = sorted(a["scores"]["heat"] for a in impact.accounts)
    assert (f"**93 accounts** on the sample data: heat from {heat[0]} to {heat[-1]}, median "
            f"{heat[46]}") in hover("account score heat")
