"""A failing test whose contact is unscored says why (the `require` and the profile values)."""
from click.testing import CliRunner

from compiler.cli import main

MODEL = """require consent
require country = "DE"
visit pricing +15
when score >= 10 notify sales

test "a DE contact who agreed":
    contact consent = yes, country = "DE"
    visit pricing
    expect notify sales
    expect score = 15

test "a contact without consent is unscored":
    contact country = "DE"
    visit pricing
    expect unscored
"""


def run(tmp_path, text, *options):
    path = tmp_path / "m.score"
    path.write_text(text, encoding="utf-8")
    return CliRunner().invoke(main, ["test", *options, str(path)])


def test_a_failing_test_of_an_unscored_contact_says_so(tmp_path):
    result = run(tmp_path, MODEL)
    assert result.exit_code == 1
    why = ('unscored: `require consent = true and country = "DE"` does not hold; '
           'the test\'s contact has consent = "yes", country = "DE"')
    assert result.output.count(why) == 2, result.output  # under each failing expect
    assert "1 passed, 1 failed" in result.output


def test_a_missing_attribute_is_named(tmp_path):
    result = run(tmp_path, MODEL.replace('consent = yes, country = "DE"', 'country = "DE"'))
    assert 'the test\'s contact has no consent, country = "DE"' in result.output


def test_the_junit_report_says_so_too(tmp_path):
    report = tmp_path / "junit.xml"
    run(tmp_path, MODEL, "--junit", str(report))
    assert "unscored: `require consent = true" in report.read_text(encoding="utf-8")


def test_a_scored_contact_gets_no_unscored_line(tmp_path):
    result = run(tmp_path, MODEL.replace("consent = yes", "consent = true")
                 .replace("expect score = 15", "expect score = 16"))
    assert result.exit_code == 1 and "unscored" not in result.output.replace(
        "a contact without consent is unscored", "")
