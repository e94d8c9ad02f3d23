"""Numbers at the edge of what SQL holds (issue 10 item 12): every model the checker accepts
(E008 refuses literals beyond 64 bits and durations of 2^63 us) scores the same on the Python
and DuckDB engines (and on Spark): sums beyond BIGINT, bounds
and thresholds at +-2^63, durations of about 282,000 years (longer ones, which an event time
plus them could take beyond 64 bits, are refused with E302 by every SQL dialect), and decay
of awards so large that points * M_k (M_k up to 10^9) leaves BIGINT, which the query then
computes in DECIMAL(38) (`compiler/sql/query.py`, `_large_points`)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

pytest.importorskip("duckdb", reason="the DuckDB engine needs the `sql` extra")
from compiler.pipeline import compile_text  # noqa: E402
from compiler.run import engines  # noqa: E402
from compiler.sql import UnsupportedError, generate  # noqa: E402
from compiler.sql.dialects import DIALECTS  # noqa: E402

DAY = 86_400_000_000
T0 = 1_772_323_200_000_000  # 2026-03-01

MODELS = {
    "sum of two 2^63-1": ("visit +9223372036854775807\n", 2),
    "bounds at 2^63": ("score s -9223372036854775808..9223372036854775807\n"
                       "visit +9223372036854775807\n", 2),
    "threshold at 2^63-1": ("visit +5\ngrade g by score: A >= 9223372036854775807, else B\n", 1),
    "inactive 103000000 days": ("visit +1\ninactive 103000000 days +5\n", 1),
    "within 103000000 days": ("visit without buy within 103000000 days -3\n", 1),
    "expire after 103000000 days": ("score s\nexpire s after 103000000 days\nvisit +7\n", 1),
    "decay of 10^10": ("score s\ndecay s 10% every 1 day\nvisit +10000000000\n", 3),
    "decay of 9*10^18": ("score s\ndecay s 10% every 1 day\nvisit +9000000000000000000\n", 3),
    "decay of -9*10^18 profile": ("score s\ndecay s 10% every 1 day\n"
                                  "if plan = 1 -9000000000000000000\nvisit +1\n", 2),
    # each group's value is 2^63-1 without any large award: only their sum leaves BIGINT
    "two groups at min 2^63-1": ("score s\ngroup a of s min 9223372036854775807\n"
                                 "group b of s min 9223372036854775807\nvisit +1 a\n", 1),
    "decay every 103000000 days": ("score s\ndecay s 10% every 103000000 days\nvisit +5\n", 1),
}


def _write_events(path, count: int, same_time: bool = False) -> str:
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(count):
            at = T0 + (0 if same_time else i * DAY)
            when = datetime.fromtimestamp(at // 10 ** 6, timezone.utc)
            handle.write(json.dumps({"contact": "c", "event": "visit",
                                     "at": when.strftime("%Y-%m-%dT%H:%M:%SZ")}) + "\n")
    return str(path)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("same_time", [False, True])
def test_python_and_duckdb_agree_at_the_edges(tmp_path, name, same_time):
    text, count = MODELS[name]
    result = compile_text(text)
    assert result.table is not None, [d.code for d in result.diagnostics]
    events = _write_events(tmp_path / "events.jsonl", count, same_time)
    contacts = tmp_path / "contacts.jsonl"
    contacts.write_text(json.dumps({"contact": "c", "plan": 1}) + "\n", encoding="utf-8")
    as_of = T0 + 10 * DAY
    python, duckdb = (engines.run(engine, result.table, events, str(contacts), as_of,
                                  lambda reject: pytest.fail(str(reject)))
                      for engine in ("python", "duckdb"))
    assert duckdb == python


@pytest.mark.parametrize("text", ["visit without buy within 106000000 days -3\n",
                                  "visit +1\ninactive 103820000 days +5\n"])
@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_durations_an_event_time_cannot_reach_are_refused(text, dialect):
    table = compile_text(text).require_table()  # the Python engine scores them
    with pytest.raises(UnsupportedError) as caught:
        generate(table, dialect)
    assert [d.code for d in caught.value.diagnostics] == ["E302"]
    assert "days" in caught.value.diagnostics[0].message


SPARK = ["two groups at min 2^63-1", "sum of two 2^63-1", "bounds at 2^63", "decay of 10^10", "decay of 9*10^18",
         "decay of -9*10^18 profile", "within 103000000 days", "inactive 103000000 days"]


@pytest.mark.parametrize("name", SPARK)
def test_python_and_spark_agree_at_the_edges(tmp_path, name):
    pytest.importorskip("pyspark", reason="the Spark engine needs the `spark` extra")
    if engines.missing_dependency("spark"):
        pytest.skip(engines.missing_dependency("spark"))
    text, count = MODELS[name]
    table = compile_text(text).require_table()
    events = _write_events(tmp_path / "events.jsonl", count)
    contacts = tmp_path / "contacts.jsonl"
    contacts.write_text(json.dumps({"contact": "c", "plan": 1}) + "\n", encoding="utf-8")
    as_of = T0 + 10 * DAY
    python, spark = (engines.run(engine, table, events, str(contacts), as_of,
                                 lambda reject: pytest.fail(str(reject)))
                     for engine in ("python", "spark"))
    assert spark == python
