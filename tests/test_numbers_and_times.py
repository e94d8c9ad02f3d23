"""Numbers and times at the edges (issue 10 items 4, 8 and 10): every number the engines
cannot hold is refused as it is read (E008); `score fmt` writes every accepted decimal back
as the same decimal value; test times outside the years 1 to 9999 are E207 in `score check`
and in `score test`; `include "\\x00"` is E109; calendar caps on the first and last days of
the calendar count the same days on both engines. None of it is a traceback."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.cli import main
from compiler.pipeline import compile_text
from dsl.formatter import format_source
from dsl.source import SourceFile

BIG = "1" + "0" * 400


def codes(text: str) -> list[str]:
    return [d.code for d in compile_text(text).diagnostics]


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert isinstance(result.exception, (SystemExit, type(None))), result.exception
    return result


@pytest.mark.parametrize("line", [
    f"visit home +{BIG}", "visit home +9223372036854775808", "visit home -9223372036854775809",
    f"if employees >= {BIG} +5", f"if employees >= -{BIG} +5",
    "if employees >= 99999999999999999999.5 +5", "if employees >= 9007199254740993.5 +5",
    f"grade tier by engagement: A >= {BIG}, else D", f"stage MQL when engagement >= {BIG}",
    f"visit home +5 at most {BIG}", f"decay engagement {BIG}% every 30 days",
    "email_sent without email_open within 10000000000000000000000000000 days -5",
    "decay engagement 10% every 99999999999999 weeks",
])
def test_a_number_no_engine_holds_is_e008(line):
    assert "E008" in codes(f"score engagement\n{line}\n")


@pytest.mark.parametrize("decl", [f"score engagement 0..{BIG}", f"score engagement {BIG}..",
                                  f"score engagement -{BIG}..0"])
def test_score_bounds_out_of_range_are_e008(decl):
    assert "E008" in codes(f"{decl}\nvisit home +5\n")


@pytest.mark.parametrize("line", [
    "visit home +9223372036854775807", "if employees >= 0.1 +5",
    "if employees >= 0.30000000000000004 +5", "if revenue >= 123456789.125 +5",
])
def test_numbers_the_engines_hold_are_accepted(line):
    assert "E008" not in codes(f"score engagement\n{line}\n")


@settings(max_examples=200, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-10 ** 25,
                   max_value=10 ** 25))
def test_fmt_writes_the_same_decimal_or_the_parser_refuses(value):
    text = format(value, "f")
    if "." not in text:
        text += ".5"
    source = f"score engagement\nif revenue >= {text} +5\n"
    result = format_source(SourceFile.from_text(source))
    if result.text is None:
        assert [d.code for d in result.diagnostics] == ["E008"]
        return
    written = result.text.split(">= ")[1].split(" ")[0]
    assert Decimal(written) == Decimal(text)
    assert format_source(SourceFile.from_text(result.text)).text == result.text


def test_fmt_keeps_a_long_but_exact_decimal():
    source = "score engagement\nif revenue >= 0.30000000000000004 +5\n"
    assert format_source(SourceFile.from_text(source)).text == source


def test_check_test_and_run_report_a_huge_number_without_a_traceback(tmp_path):
    model = tmp_path / "m.score"
    model.write_text(f"score engagement 0..{BIG}\nvisit home +{BIG}\n"
                     f'test "t":\n    visit home\n    expect engagement >= 0\n')
    events = tmp_path / "e.jsonl"
    events.write_text('{"contact": "c", "event": "visit", "target": "home", '
                      '"at": "2026-01-01T00:00:00Z"}\n')
    for args in (["check", model], ["test", model], ["run", model, "--events", events],
                 ["run", model, "--events", events, "--engine", "duckdb"]):
        result = cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "E008" in result.output and "Traceback" not in result.output


def test_include_of_a_nul_path_is_e109(tmp_path):
    model = tmp_path / "m.score"
    model.write_text('include "\\x00"\nscore engagement\nvisit home +5\n')
    result = compile_text('include "a\x00b.score"\nscore engagement\n', str(model))
    assert [d.code for d in result.diagnostics] == ["E109"]
    assert "U+0000" in result.diagnostics[0].message
    assert cli("check", model).exit_code == 1


@pytest.mark.parametrize("steps, line", [
    ("at 9999-12-31 visit home\n    after 2 days visit home", 5),
    ("at 9999-12-31T23:59:59Z visit home\n    now after 1 day", 5),
    ("at 0001-01-01T00:00:00+01:00 visit home", 4),
    ("visit home\n    after 500000 weeks visit home", 5),
])
def test_test_times_outside_the_calendar_are_e207_in_check_and_test(tmp_path, steps, line):
    model = tmp_path / "m.score"
    model.write_text('score engagement\nvisit home +5 at most 1 per day\n'
                     f'test "t":\n    {steps}\n    expect engagement >= 0\n')
    for command in ("check", "test"):
        result = cli(command, model)
        assert result.exit_code == 1, result.output
        assert f"m.score:{line}:5: error[E207]" in result.output, result.output


def test_test_times_on_the_last_day_run(tmp_path):
    model = tmp_path / "m.score"
    model.write_text('timezone "America/New_York"\nscore engagement\n'
                     'visit home +5 at most 1 per day\n'
                     'test "t":\n    at 9999-12-31T23:59:58Z visit home\n    visit home\n'
                     '    expect engagement = 5\n'
                     'test "u":\n    at 0001-01-01 visit home\n    after 4 hours visit home\n'
                     '    after 1 hour visit home\n    expect engagement = 10\n')
    result = cli("test", model)
    assert result.exit_code == 0, result.output


ENDS = ["0001-01-01T00:00:00Z", "0001-01-01T04:56:01Z", "0001-01-01T04:56:02Z",
        "0001-01-01T05:00:00Z", "0001-01-02T00:00:00Z", "9999-12-31T04:59:59Z",
        "9999-12-31T05:00:00Z", "9999-12-31T14:59:59Z", "9999-12-31T15:00:00Z",
        "9999-12-31T23:59:59Z"]


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo", "Pacific/Kiritimati",
                                  "Europe/Berlin"])
def test_calendar_caps_at_the_ends_of_time_agree_on_both_engines(tmp_path, zone):
    model = tmp_path / "m.score"
    model.write_text(f'timezone "{zone}"\nscore engagement\n'
                     "visit home +5 at most 1 per day\nvisit pricing +3 at most 1 per week\n"
                     "visit blog +2 at most 1 per month\n")
    lines = []
    for index, at in enumerate(ENDS):
        for target in ("home", "pricing", "blog"):
            for contact in (f"pair{index // 2}", "all"):
                lines.append(json.dumps({"contact": contact, "event": "visit",
                                         "target": target, "at": at}))
    events = tmp_path / "e.jsonl"
    events.write_text("\n".join(lines) + "\n")
    outputs = []
    for engine in ("python", "duckdb"):
        result = cli("run", model, "--events", events, "--engine", engine)
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    scores = {json.loads(line)["contact"]: json.loads(line)["scores"]["engagement"]
              for line in outputs[0].splitlines()}
    assert scores["all"] > 0 and len(scores) == len(ENDS) // 2 + 1


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.integers(min_value=-62135596800 * 10**6, max_value=253402300800 * 10**6 - 1),
                 st.sampled_from([-62135596800 * 10**6, 253402300800 * 10**6 - 1, 0, -1,
                                  -86_400 * 10**6, -86_400 * 10**6 - 1, 86_399_999_999])))
def test_format_time_equals_the_calendar_for_every_time_it_can_print(micros):
    # format_time keeps each day's "YYYY-MM-DDT" and computes the time of day itself
    from datetime import datetime, timedelta, timezone

    from runtime.events import format_time

    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=micros // 10**6)
    assert format_time(micros) == f"{moment.year:04d}-{moment:%m-%dT%H:%M:%SZ}"
    assert format_time(micros) == format_time(micros)  # the second call reads the kept day


@pytest.mark.parametrize("micros", [-62135596800 * 10**6 - 1, 253402300800 * 10**6, 10**30])
def test_format_time_refuses_a_time_past_the_calendar_as_before(micros):
    from runtime.events import format_time

    with pytest.raises(OverflowError):
        format_time(micros)


def test_format_time_keeps_its_days_apart_from_parse_times_cache():
    # parse_time's cache of dates ("2026-03-02" -> seconds) has a size limit of its own:
    # the days format_time keeps must not count against it (nor sit in it)
    from runtime import events

    events.parse_time("2026-03-02T10:00:00Z", date_only_is_utc_midnight=False)
    for day in range(300):
        events.format_time(day * 86_400 * 10**6)
    assert all(type(key) is str for key in events._DAYS)
    assert all(type(key) is int for key in events._DAY_PREFIXES)
