"""`score run --timeline --engine duckdb` in JSON Lines and CSV is written by DuckDB itself
(compiler/run/engines/duckdb_timeline_text.py): the file must hold exactly the bytes that
`writers.write_timeline` writes for the same rows, contact ids full of quotes, commas,
backslashes, control and line-break characters included."""
from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

pytest.importorskip("duckdb", reason="the duckdb engine needs the `sql` extra")

import model_strategies as ms  # noqa: E402
from compiler.lower import lower  # noqa: E402
from compiler.pipeline import compile as compile_model  # noqa: E402
from compiler.run import engines, scoring, writers  # noqa: E402
from compiler.run.engines import duckdb_timeline_text  # noqa: E402
from compiler.run.scoring import RunOptions, _names, run_model  # noqa: E402
from compiler.sql import check  # noqa: E402
from compiler.sql.timeline import timeline_spans_sql  # noqa: E402
from runtime.timeline import time_text  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ('plain-1', 'q"uote', 'back\\slash', 'com,ma', 'new\nline', 'cr\rlf\r\n', 'tab\t',
           'ctl\x01\x1f', 'del\x7f', 'c1\x80\x9f', 'nel\x85', 'ls\u2028ps\u2029', ' lead',
           'trail ', 'in side', '\u00e9t\u00e9', '\U0001f600', 'a\'b', '"', ',', '\\',
           '{"json": 1}', '=1+2', 'zz')
EXACT = """\
timezone "Europe/Berlin"
score engagement 0..100
score fit
score spend
visit pricing +15
email_open +1 at most 3 per day
submit contact_form +30 once
purchase by amount spend
if title in ("CEO", "CTO") +20 fit
grade tier by fit: A >= 20, B >= 5, else C
stage MQL when engagement >= 30
stage SQL when engagement >= 45
"""


def _events(folder: Path, contacts, days: int = 5) -> tuple[str, str]:
    kinds = (("visit", "pricing", {}), ("email_open", None, {}),
             ("submit", "contact_form", {}), ("purchase", None, {"amount": 9 * 10 ** 18}))
    with open(folder / "events.jsonl", "w", encoding="utf-8") as out:
        for n, contact in enumerate(contacts):
            for day in range(n % days + 1):
                event, target, props = kinds[(n + day) % len(kinds)]
                record = {"contact": contact, "event": event,
                          "at": time_text(1_772_000_000_000_000 + (day * 24 + n) * 3_600_000_000)}
                if target:
                    record["target"] = target
                if props:
                    record["props"] = props
                out.write(json.dumps(record, ensure_ascii=n % 2 == 0) + "\n")
    with open(folder / "contacts.jsonl", "w", encoding="utf-8") as out:
        for n, contact in enumerate(contacts):
            out.write(json.dumps({"contact": contact, "title": ("CEO", "CTO", "Intern")[n % 3]},
                                 ensure_ascii=False) + "\n")
        out.write(json.dumps({"contact": "only\na profile", "title": "CEO"}) + "\n")
    return str(folder / "events.jsonl"), str(folder / "contacts.jsonl")


def _expected(table, events, contacts, as_of, period, fmt) -> str:
    """What the Python writer writes for the Python engine's rows."""
    rows = engines.timeline("python", table, events, contacts, as_of, lambda r: None, period)
    out = io.StringIO()
    writers.write_timeline(rows, out, fmt, score_names=_names(table["scores"]),
                           grade_names=_names(table["grades"]))
    return out.getvalue()


def _written(table, events, contacts, as_of, period, fmt, folder) -> str:
    """What DuckDB writes to a file, the CSV header included (`writers.TimelineFile`, as
    `score run` gives it); DuckDB's path must be the one taken."""
    path = Path(folder) / f"out.{fmt}"
    columns = writers.timeline_columns(_names(table["scores"]), _names(table["grades"]))
    target = writers.TimelineFile(str(path), io.StringIO(), fmt, columns)
    assert engines.timeline_text("duckdb", table, events, contacts, as_of, lambda r: None,
                                 period, fmt, columns, target)
    target.commit()
    return path.read_bytes().decode("utf-8")


def _exact_table(tmp_path):
    (tmp_path / "m.score").write_text(EXACT, encoding="utf-8")
    return compile_model(str(tmp_path / "m.score")).table


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("period", ["day", "week"])
def test_hostile_contact_ids_give_the_python_writers_bytes(tmp_path, fmt, period):
    table = _exact_table(tmp_path)
    assert timeline_spans_sql(table, "e", "c", [0]) is not None
    events, contacts = _events(tmp_path, HOSTILE)
    expected = _expected(table, events, contacts, None, period, fmt)
    assert expected.count("9000000000000000000") > 0  # a sum past BIGINT is in the rows
    assert _written(table, events, contacts, None, period, fmt, tmp_path) == expected


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_model_with_decay_takes_a_statement_per_end_and_the_same_bytes(tmp_path, fmt):
    table = compile_model(str(ROOT / "examples" / "b2b_saas.score")).table
    assert timeline_spans_sql(table, "e", "c", [0]) is None
    events, contacts = _events(tmp_path, HOSTILE, days=9)
    as_of = 1_772_000_000_000_000 + 6 * 86_400_000_000
    expected = _expected(table, events, contacts, as_of, "day", fmt)
    assert _written(table, events, contacts, as_of, "day", fmt, tmp_path) == expected


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_unscored_contacts_and_an_as_of_among_the_events_give_the_same_bytes(tmp_path, fmt):
    # a contact `require` leaves out has rows of nulls from its first event's day on (one
    # span of the statement's), and one after T only T's row
    (tmp_path / "m.score").write_text(EXACT + 'require title in ("CEO", "Intern")\n',
                                      encoding="utf-8")
    table = compile_model(str(tmp_path / "m.score")).table
    assert timeline_spans_sql(table, "e", "c", [0]) is not None
    events, contacts = _events(tmp_path, HOSTILE, days=7)
    as_of = 1_772_000_000_000_000 + 4 * 86_400_000_000
    expected = _expected(table, events, contacts, as_of, "day", fmt)
    nulls = '"scores": {"engagement": null, "fit": null, "spend": null}' if fmt == "jsonl" \
        else "Z,,,,,\r\n"
    assert expected.count(nulls) > 8  # unscored contacts' rows, over several days
    assert _written(table, events, contacts, as_of, "day", fmt, tmp_path) == expected


@pytest.mark.parametrize("name", ["b2b_saas", "online_shop"])
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_examples_by_week(tmp_path, name, fmt):
    table = compile_model(str(ROOT / "examples" / f"{name}.score")).table
    if check(table, "duckdb"):
        pytest.skip(f"the duckdb engine refuses {name}")
    data = ROOT / "examples" / "data" / name
    events, contacts = str(data / "events.jsonl"), str(data / "contacts.jsonl")
    expected = _expected(table, events, contacts, None, "week", fmt)
    assert _written(table, events, contacts, None, "week", fmt, tmp_path) == expected


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_empty_timelines(tmp_path, fmt):
    table = _exact_table(tmp_path)
    (tmp_path / "none.jsonl").write_text("", encoding="utf-8")
    events = str(tmp_path / "none.jsonl")
    _, contacts = _events(tmp_path, ("a", 'b"'))
    for as_of, who in ((None, None), (None, contacts), (1_772_000_000_000_000, contacts)):
        expected = _expected(table, events, who, as_of, "day", fmt)
        assert _written(table, events, who, as_of, "day", fmt, tmp_path) == expected
    assert _expected(table, events, None, None, "day", fmt) in ("", "contact,period,as_of,"
                                                                "engagement,fit,spend,tier,"
                                                                "stage\r\n")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_score_run_writes_the_bytes_to_a_file_and_to_stdout(tmp_path, fmt):
    (tmp_path / "m.score").write_text(EXACT, encoding="utf-8")
    table = compile_model(str(tmp_path / "m.score")).table
    events, contacts = _events(tmp_path, HOSTILE)
    expected = _expected(table, events, contacts, None, "day", fmt)
    out = tmp_path / f"out.{fmt}"
    options = RunOptions(events, contacts, out=str(out), fmt=fmt, engine="duckdb",
                         timeline="day")
    assert run_model(str(tmp_path / "m.score"), options, io.StringIO(), io.StringIO()) == 0
    assert out.read_bytes() == expected.encode("utf-8")
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    options.out = None
    assert run_model(str(tmp_path / "m.score"), options, stdout, io.StringIO()) == 0
    stdout.flush()
    assert stdout.buffer.getvalue() == expected.encode("utf-8")


def test_labels_that_are_not_plain_go_to_the_python_writer(tmp_path, monkeypatch):
    """A table's labels are letters, digits and `_` (runtime/schema.py), so plain today; the
    check guards the layout should that change."""
    table = _exact_table(tmp_path)
    odd = json.loads(json.dumps(table))
    odd["grades"][0]["else"] = 'C, "low"'
    assert duckdb_timeline_text.writable(table, "csv")
    assert not duckdb_timeline_text.writable(odd, "csv")
    assert not duckdb_timeline_text.writable(table, "table")
    events, contacts = _events(tmp_path, HOSTILE[:6])
    columns = writers.timeline_columns(_names(table["scores"]), _names(table["grades"]))
    # a format it cannot write: False, with nothing read and nothing opened
    target = writers.TimelineFile(str(tmp_path / "x.txt"), io.StringIO(), "table", columns)
    assert not engines.timeline_text("duckdb", table, events, contacts, None, lambda r: None,
                                     "day", "table", columns, target)
    assert not (tmp_path / "x.txt").exists() and target._file is None


@st.composite
def _hostile_ids(draw):
    text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6)
    return draw(st.lists(st.one_of(st.sampled_from(HOSTILE), text), min_size=1, max_size=6,
                         unique=True))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(ms.scenarios(ms.models(), max_events=12), _hostile_ids(),
       st.sampled_from(("day", "week", "month")), st.sampled_from(("jsonl", "csv")))
def test_generated_models_histories_and_ids_give_the_python_writers_bytes(scenario, ids,
                                                                          period, fmt):
    model, events, contacts, as_of = scenario
    table = lower(model, "0" * 64)
    assume(not check(table, "duckdb") and duckdb_timeline_text.writable(table, fmt))
    rename = dict(zip(sorted({e.contact for e in events} | set(contacts)), ids))
    assume(len(rename) == len(set(rename.values())))
    with tempfile.TemporaryDirectory() as folder:
        with open(Path(folder) / "events.jsonl", "w", encoding="utf-8") as out:
            for e in events:
                record = {"contact": rename.get(e.contact, e.contact), "event": e.event,
                          "at": time_text(e.at)}
                for key in ("target", "id"):
                    if getattr(e, key) is not None:
                        record[key] = getattr(e, key)
                if e.props:
                    record["props"] = e.props
                out.write(json.dumps(record) + "\n")
        with open(Path(folder) / "contacts.jsonl", "w", encoding="utf-8") as out:
            for contact, profile in contacts.items():
                out.write(json.dumps({"contact": rename.get(contact, contact), **profile}) + "\n")
        events_path, contacts_path = str(Path(folder) / "events.jsonl"), str(
            Path(folder) / "contacts.jsonl")
        expected = _expected(table, events_path, contacts_path, as_of, period, fmt)
        assert _written(table, events_path, contacts_path, as_of, period, fmt,
                        folder) == expected


@pytest.mark.parametrize("rows", [1, 7])
def test_slices_of_a_few_rows_give_the_same_bytes(tmp_path, monkeypatch, rows):
    """The lines go out a slice of spans at a time (`SLICE_ROWS`); a slice ends after the
    span that reaches its count, so spans are never cut and the lines keep their order."""
    monkeypatch.setattr(duckdb_timeline_text, "SLICE_ROWS", rows)
    table = _exact_table(tmp_path)
    events, contacts = _events(tmp_path, HOSTILE, days=6)
    for fmt in ("jsonl", "csv"):
        expected = _expected(table, events, contacts, None, "day", fmt)
        assert _written(table, events, contacts, None, "day", fmt, tmp_path) == expected


def _run(tmp_path, out, fmt="jsonl", stdout=None):
    (tmp_path / "m.score").write_text(EXACT, encoding="utf-8")
    events, contacts = _events(tmp_path, HOSTILE)
    options = RunOptions(events, contacts, out=out, fmt=fmt, engine="duckdb", timeline="day")
    code = run_model(str(tmp_path / "m.score"), options, stdout or io.StringIO(),
                     io.StringIO())
    return code, _expected(compile_model(str(tmp_path / "m.score")).table, events, contacts,
                           None, "day", fmt)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_out_is_replaced_by_a_file_written_beside_it_with_its_permissions(tmp_path):
    import os
    import stat

    out = tmp_path / "out.jsonl"
    out.write_text("the old timeline\n", encoding="utf-8")
    os.chmod(out, 0o640)
    code, expected = _run(tmp_path, str(out))
    assert code == 0 and out.read_bytes() == expected.encode("utf-8")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640 and _leftovers(tmp_path) == []
    fresh = tmp_path / "fresh.csv"  # a new file: the mode the umask gives
    mask = os.umask(0o022)
    os.umask(mask)
    assert _run(tmp_path, str(fresh), "csv")[0] == 0
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o666 & ~mask


def test_a_run_that_fails_while_writing_leaves_out_as_it_was(tmp_path, monkeypatch):
    out = tmp_path / "out.jsonl"
    out.write_text("the old timeline\n", encoding="utf-8")
    monkeypatch.setattr(duckdb_timeline_text, "SLICE_ROWS", 5)
    written = []
    real = duckdb_timeline_text.write_text

    def fail_on_the_third(stream, column):
        if len(written) == 2:
            raise RuntimeError("disk full")
        written.append(len(column))
        real(stream, column)

    monkeypatch.setattr(duckdb_timeline_text, "write_text", fail_on_the_third)
    with pytest.raises(RuntimeError, match="disk full"):
        _run(tmp_path, str(out))
    assert written and out.read_text(encoding="utf-8") == "the old timeline\n"
    assert _leftovers(tmp_path) == []  # the half file beside is gone


def test_a_symlinked_out_keeps_its_link_and_a_fifo_is_written_as_it_is(tmp_path):
    import os
    import stat
    import threading

    real = tmp_path / "real.jsonl"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    code, expected = _run(tmp_path, str(link))
    assert code == 0 and link.is_symlink() and real.read_bytes() == expected.encode("utf-8")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert _run(tmp_path, str(fifo))[0] == 0
    reader.join()
    assert got == [expected.encode("utf-8")] and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_stdout_a_pipe_gets_the_bytes_in_slices_and_a_closed_pipe_is_no_error(
        tmp_path, monkeypatch, fmt):
    import contextlib
    import os
    import threading

    monkeypatch.setattr(duckdb_timeline_text, "SLICE_ROWS", 3)
    read, write = os.pipe()
    got = []
    reader = threading.Thread(target=lambda: got.append(os.fdopen(read, "rb").read()))
    reader.start()
    with os.fdopen(write, "w", encoding="utf-8", newline="") as stdout:
        code, expected = _run(tmp_path, None, fmt, stdout)
    reader.join()
    assert code == 0 and got == [expected.encode("utf-8")]
    read, write = os.pipe()
    os.close(read)  # `score run ... | head` once head has left
    quieted = []  # (it points the real stdout at /dev/null: not pytest's)
    monkeypatch.setattr(scoring, "_quiet_stdout", lambda: quieted.append(True))
    stdout = open(write, "w", encoding="utf-8", newline="", closefd=False)
    assert _run(tmp_path, None, fmt, stdout)[0] == 0 and quieted == [True]
    with contextlib.suppress(BrokenPipeError):  # what is left in its buffer cannot go
        stdout.close()
    os.close(write)


@pytest.mark.parametrize("zone, period", [("Europe/Berlin", "day"), ("UTC", "week"),
                                          ("America/New_York", "month"), ("UTC", "day")])
def test_the_count_of_ends_before_a_time_is_exact_at_and_around_every_end(zone, period):
    import duckdb

    from compiler.sql import get_dialect
    from compiler.sql.timeline import ends_before
    from runtime.periods import Calendar

    calendar = Calendar(zone)
    start = 1_761_000_000_000_000  # 2025-10-20, before Berlin's and New York's DST ends
    ends = [calendar.next_start(period, start) - 1]
    while len(ends) < 40:
        ends.append(calendar.next_start(period, ends[-1] + 1) - 1)
    gaps = {b - a for a, b in zip(ends, ends[1:])}
    assert len(gaps) > 1 or zone == "UTC"  # uneven periods where the zone makes them so
    times = [start - 10 ** 12, start] + [e + d for e in ends for d in (-1, 0, 1, 3_600_000_000)]
    times.append(ends[-1] + 10 ** 13)
    con = duckdb.connect()
    for count in (0, 1, 2, len(ends)):
        before = ends_before(get_dialect("duckdb"), ends[:count])
        sql = ", ".join(before(get_dialect("duckdb").integer(t)) for t in times)
        assert list(con.execute(f"SELECT {sql}").fetchone()) == [
            sum(e < t for e in ends[:count]) for t in times]
