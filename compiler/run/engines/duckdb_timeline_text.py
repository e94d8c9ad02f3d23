"""`score run --timeline --engine duckdb` for JSON Lines and CSV, laid out by DuckDB.

The rows of `duckdb_timeline` made into Python dicts and laid out by `writers.write_timeline`
cost about 3 µs a row, more than the query: a timeline by day has one row per contact and day
(5.8 million for 100,000 contacts over two months). Here one statement gives every row, T's
too, with its values as columns, as spans of a contact's ends that hold the same values
(`compiler.sql.timeline.timeline_spans_sql`; a query per end where that is not exact).
DuckDB sorts the spans (0.6 million) and lays out each span's texts once into a table
(`tl_laid`), then, a slice of about `SLICE_ROWS` rows at a time, expands the spans into
their rows, each line its span's texts and its end's, and hands them over as Arrow: the
text buffer of a slice is the file's bytes for those lines, written as it is to the
caller's stream (`writers.TimelineFile`: `--out` or standard output). Byte for byte what
`writers.write_timeline` writes (tests/test_duckdb_timeline_text.py compares the bytes):

- JSON Lines: `{"contact": ..., "period": ..., "as_of": ..., "scores": {...}, "grades": {...},
  "stage": ...}` with `json.dumps`' separators; a score as its integer digits or `null`, only
  the grades that have a label, in the table's order.
- CSV: the header (written by `writers.TimelineFile`), then the cells joined by `,`, empty
  for a null, each line ended by CR LF.

Every text not made of digits comes from Python's own encoders: the keys (score and grade
names) once per model; each contact id that is not plain (a quote, comma, backslash, space,
control or line-break character, ...) once per contact, joined to its rows. Plain ids, grade
labels and stage names are written between quotes as they are. A model whose labels or stage
names are not plain is written by the Python writer (`writable` says so before any input is
read).
"""
from __future__ import annotations

import re

from runtime.periods import Calendar
from runtime.timeline import time_text

from ...sql import get_dialect
from ...sql.timeline import timeline_spans_sql, typed_columns, typed_result_sql
from .. import writers
from . import duckdb_contacts, duckdb_input
from .duckdb_timeline import period_ends

# A plain text is written as it is, inside quotes in JSON and bare in CSV: printable ASCII
# but for space, `"`, `,` and `\`, and characters from U+00A0 on but for U+2028 and U+2029
# (json_line escapes those; C1 controls, U+0085 among them, are not plain either).
_PLAIN_RANGES = ((0x21, 0x21), (0x23, 0x2B), (0x2D, 0x5B), (0x5D, 0x7E), (0xA0, 0x2027),
                 (0x202A, 0x10FFFF))
# the same class for Python's re (tested here) and DuckDB's RE2 (the ids a query picks out)
_PLAIN = re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}"
                                  for a, b in _PLAIN_RANGES) + "]+")
_PLAIN_RE2 = "[" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in _PLAIN_RANGES) + "]+"
# rows per slice handed over as Arrow (a slice's lines are held in memory at once: about
# 140 MB at 1M rows of one score); a span is never cut, so a slice may hold a span more
SLICE_ROWS = 1 << 20


def plain(text: str) -> bool:
    return _PLAIN.fullmatch(text) is not None


def writable(table: dict, fmt: str) -> bool:
    """Whether this module can write `table`'s timeline in `fmt` (before reading any input)."""
    if fmt not in ("jsonl", "csv"):
        return False
    labels = [s["name"] for s in table["stages"]]
    for grade in table["grades"]:
        labels += [label for label, _ in grade.get("bands") or ()]
        labels += [label for label, _ in grade.get("buckets") or ()]
        if grade.get("else") is not None:
            labels.append(grade["else"])
    return all(isinstance(label, str) and plain(label) for label in labels)


def _text(d, value: str) -> str:
    return d.string(value) if value else "''"


def write(con, table: dict, contacts: str | None, events: str, as_of: int | None,
          on_reject, period: str, fmt: str, columns: list[tuple], target,
          progress=None) -> None:
    """Write the timeline's lines (for CSV, after the header `target` writes) to
    `target.open()`, a binary stream opened once the input is read, as
    `writers.write_timeline` would, sorted by contact, then period."""
    d = get_dialect("duckdb")
    duckdb_contacts.load_contacts(con, contacts)
    duckdb_input.load_events(con, events, on_reject, progress)
    events_table, contacts_table = duckdb_input.TABLE, duckdb_contacts.TABLE
    (latest,), = con.execute(f'SELECT MAX("at") FROM {events_table}').fetchall()
    until = as_of if as_of is not None else latest
    if until is None:
        target.open()  # no event and no as-of time: no row
        return
    (first,), = con.execute(f'SELECT MIN("at") FROM {events_table} '
                            f'WHERE "at" <= {d.integer(until)}').fetchall()
    calendar = Calendar(table["timezone"])
    ends = period_ends(calendar, period, first, until)
    spans = _spans(con, table, events_table, contacts_table, until, ends)
    texts = _end_texts(calendar, period, [*ends, until])
    named = _register_names(con, fmt, events_table, contacts_table)
    parts = (_json_line if fmt == "jsonl" else _csv_line)(table, columns, named)
    segments, fragments = _segments([*parts, ("", "\n")], texts)
    names = "\nLEFT JOIN tl_names AS n ON n.contact = r.contact" if named else ""
    # The spans (a contact's rows k_lo+1..k_hi of the ends numbered 1..N+1, T's last, with
    # the same values), each with its texts around the end's laid out once, numbered in
    # the order of the file by `tl_to`: the count of rows up to and with the span (a
    # running sum over the spans sorted by contact, then end; every span has a row).
    laid = ", ".join(f"{_concat(d, segment)} AS tl_t{n}" for n, segment in enumerate(segments))
    tl_to = ("SUM(r.k_hi - r.k_lo) OVER (ORDER BY r.contact, r.k_lo ROWS BETWEEN UNBOUNDED "
             "PRECEDING AND CURRENT ROW)")
    source = (f"(SELECT r.*{', n.text AS tl_name' if named else ''} FROM {spans} AS r"
              f"{names})")
    con.execute(f"CREATE OR REPLACE TEMP TABLE tl_laid AS SELECT r.k_lo, r.k_hi, "
                f"{tl_to} AS tl_to, {laid} FROM {source} AS r")
    con.execute("DROP TABLE IF EXISTS tl_rows")
    (total,), = con.execute("SELECT COALESCE(MAX(tl_to), 0) FROM tl_laid").fetchall()
    # Each row's line is its span's texts and its end's, taken from a constant list by
    # number. A projection and `unnest` keep the order of the sorted subquery they read
    # (DuckDB's order preservation), and so does the Arrow result.
    line = []
    for n in range(len(segments)):
        line.append(f"x.tl_t{n}")
        if n < len(fragments):
            line.append(f"{_text_list(d, fragments[n])}[x.tl_k]")
    con.execute("SET arrow_large_buffer_size = true")  # 64-bit offsets: no 2 GB limit
    stream = target.open()
    for lo in range(0, total, SLICE_ROWS):
        hi = lo + SLICE_ROWS
        rows = (f"SELECT s.*, unnest(range(s.k_lo + 1, s.k_hi + 1)) AS tl_k FROM "
                f"(SELECT * FROM tl_laid WHERE tl_to > {d.integer(lo)} AND tl_to <= "
                f"{d.integer(hi)} ORDER BY tl_to) AS s")
        lines = con.sql(f"SELECT concat({', '.join(line)}) AS line FROM ({rows}) AS x")
        # DuckDB 2 names it to_arrow_table; 1.x relations have fetch_arrow_table
        fetch = getattr(lines, "to_arrow_table", None) or lines.fetch_arrow_table
        for batch in fetch().to_batches():
            write_text(stream, batch.column(0))
    con.execute("DROP TABLE IF EXISTS tl_laid")


def write_text(stream, column) -> None:
    """The bytes of an Arrow text column's values, one after the other, to `stream`: the
    slice of its data buffer they take (no Python object per value)."""
    import pyarrow as pa

    if column.null_count:
        raise ValueError("a timeline line is NULL")
    if len(column) == 0:
        return
    if pa.types.is_large_string(column.type):
        code = "q"
    elif pa.types.is_string(column.type):
        code = "i"
    else:  # another layout (a string view): its values as they are
        for value in column.to_pylist():
            stream.write(value.encode("utf-8"))
        return
    _, offsets, data = column.buffers()
    at = memoryview(offsets).cast(code)
    start, end = at[column.offset], at[column.offset + len(column)]
    stream.write(memoryview(data)[start:end])


def _spans(con, table: dict, events_table: str, contacts_table: str, until: int,
           ends: list[int]) -> str:
    """The source of the spans (contact, k_lo, k_hi, `typed_columns`): the rows of the
    ends numbered k_lo+1..k_hi, the ends numbered 1..N and T N+1 (N = len(ends))."""
    d = get_dialect("duckdb")
    values = ", ".join(f"r.{c}" for c in typed_columns(table))

    def as_span(sql: str, k: int) -> str:
        return (f"SELECT r.contact AS contact, {d.integer(k - 1)} AS k_lo, {d.integer(k)} "
                f"AS k_hi, {values} FROM ({sql}) AS r")

    one = timeline_spans_sql(table, events_table, contacts_table, [*ends, until],
                             seq_column="line")
    if one is not None:
        # one statement for all ends, T's too (compiler/sql/timeline.py), read by the COPY
        # itself: 0.6 million spans at 2 million events, never stored
        return f"({one})"
    last = as_span(typed_result_sql(table, events_table, contacts_table, until,
                                    seq_column="line"), len(ends) + 1)
    # a query per end (decay, a reset, a stage reading `stage`), each contact from the
    # period of its first event on, gathered in a table: one span per row
    con.execute(f"CREATE OR REPLACE TEMP TABLE tl_rows AS {last}")
    con.execute(f'CREATE OR REPLACE TEMP TABLE tl_first AS SELECT contact, MIN("at") AS '
                f'first_at FROM {events_table} WHERE "at" <= {d.integer(until)} '
                f'GROUP BY contact')
    for k, end in enumerate(ends, 1):
        sql = typed_result_sql(table, events_table, contacts_table, end, seq_column="line")
        con.execute(f"INSERT INTO tl_rows SELECT r.* FROM ({as_span(sql, k)}) AS r JOIN "
                    f"tl_first AS f ON f.contact = r.contact AND f.first_at <= "
                    f"{d.integer(end)}")
    return "tl_rows"


def _end_texts(calendar: Calendar, period: str, ends: list[int]) -> list[dict]:
    """Per end, its period label and time text (digits and punctuation only, checked: they
    are written as they are)."""
    texts = [{"period": calendar.start_of(period, end).isoformat(), "as_of": time_text(end)}
             for end in ends]
    if not all(plain(text) for end in texts for text in end.values()):
        raise ValueError(f"a period label or time is not plain text: {texts[0]!r}")
    return texts


def _segments(parts: list, texts: list[dict]) -> tuple[list[list], list[list[str]]]:
    """A line's `parts` cut at the texts of its end: the segments that are the same for
    every row of a span (laid out once per span), and between each two of them the texts
    of each end (one text per end: its parts with the end's label and time, joined)."""
    segments: list[list] = [[]]
    fragments: list[list[str]] = []
    run: list = []  # literals and end parts since the last SQL expression

    def close_run() -> None:
        if any(isinstance(p, _End) for p in run):
            fragments.append(["".join(end[p.key] if isinstance(p, _End) else p[1]
                                      for p in run) for end in texts])
            segments.append([])
        else:
            segments[-1].extend(run)
        run.clear()

    for part in parts:
        if isinstance(part, str):  # an SQL expression of the span
            close_run()
            segments[-1].append(part)
        else:
            run.append(part)
    close_run()
    return segments, fragments


class _End(tuple):
    """A part of a line that is the row's end's text: its period label or its time."""

    @property
    def key(self) -> str:
        return self[0]


_PERIOD, _AS_OF = _End(("period", "")), _End(("as_of", ""))


def _text_list(d, texts: list[str]) -> str:
    return "[" + ", ".join(_text(d, t) for t in texts) + "]"


def _register_names(con, fmt: str, events_table: str, contacts_table: str) -> bool:
    """`tl_names(contact, text)`: each contact id that is not plain, as Python's encoder
    writes it in `fmt`; whether there is any."""
    import pyarrow as pa

    d = get_dialect("duckdb")
    odd = [c for c, in con.execute(
        f"SELECT contact FROM (SELECT contact FROM {events_table} UNION SELECT contact FROM "
        f"{contacts_table}) AS k WHERE NOT regexp_full_match(contact, {d.string(_PLAIN_RE2)})"
    ).fetchall()]
    if not odd:
        return False
    encode = writers.json_text if fmt == "jsonl" else writers.csv_cell
    con.register("tl_names", pa.table({"contact": pa.array(odd, pa.string()),
                                       "text": pa.array([encode(c) for c in odd],
                                                        pa.string())}))
    return True


def _contact(named: bool, quote: str) -> list:
    bare = [("", quote), "r.contact", ("", quote)]
    text = get_dialect("duckdb").string(quote) if quote else "''"
    return [f"COALESCE(r.tl_name, {text} || r.contact || {text})"] if named else bare


def _concat(d, parts: list) -> str:
    """One `concat(...)` of `parts`: SQL expressions (never NULL) and ("", TEXT) literals,
    the adjacent literals joined into one."""
    merged: list = []
    for part in parts:
        if isinstance(part, tuple) and merged and isinstance(merged[-1], tuple):
            merged[-1] = ("", merged[-1][1] + part[1])
        elif not (isinstance(part, tuple) and part[1] == ""):
            merged.append(part)
    sql = [d.string(p[1]) if isinstance(p, tuple) else p for p in merged]
    return f"concat({', '.join(sql)})" if len(sql) > 1 else sql[0] if sql else "''"


def _json_line(table: dict, columns, named: bool) -> list:
    """The parts of one JSON line's text, as `runtime.io.json_line` writes the row."""
    value = dict(zip(_value_keys(table), typed_columns(table)))
    parts = [("", '{"contact": '), *_contact(named, '"'), ("", ', "period": "'), _PERIOD,
             ("", '", "as_of": "'), _AS_OF, ("", '", "scores": {')]
    for n, score in enumerate(table["scores"]):
        key = ("" if n == 0 else ", ") + writers.json_text(score["name"]) + ": "
        parts += [("", key), f"COALESCE(CAST(r.{value['s', score['name']]} AS VARCHAR), "
                             f"'null')"]
    parts.append(("", '}, "grades": {'))
    if table["grades"]:
        grades = [f"CASE WHEN r.{value['g', g['name']]} IS NOT NULL THEN concat("
                  f"{get_dialect('duckdb').string(writers.json_text(g['name']) + ': ')}, "
                  f"'\"', r.{value['g', g['name']]}, '\"') END" for g in table["grades"]]
        parts.append(f"concat_ws(', ', {', '.join(grades)})")
    parts.append(("", '}, "stage": '))
    if table["stages"]:
        parts.append("COALESCE('\"' || r.tl_stage || '\"', 'null')")
    else:
        parts.append(("", "null"))
    return parts + [("", "}")]


def _csv_line(table: dict, columns, named: bool) -> list:
    """The parts of one CSV line's text without its LF (`write` adds it), ending in CR."""
    value = dict(zip(_value_keys(table), typed_columns(table)))
    parts: list = []
    for n, (_, section, key) in enumerate(columns):
        if n:
            parts.append(("", ","))
        if section == "contact":
            parts += _contact(named, "")
        elif section in ("period", "as_of"):
            parts.append(_End((section, "")))
        elif section == "stage":
            parts.append("COALESCE(r.tl_stage, '')" if table["stages"] else ("", ""))
        elif (section[0], key) in value:
            parts.append(f"COALESCE(CAST(r.{value[section[0], key]} AS VARCHAR), '')")
        # else a column the rows do not have: empty, as for a null
    return parts + [("", "\r")]


def _value_keys(table: dict) -> list[tuple[str, str]]:
    """('s', score name) and ('g', grade name) in the order of `typed_columns`, then stage."""
    return ([("s", s["name"]) for s in table["scores"]] +
            [("g", g["name"]) for g in table["grades"]] + [("stage", "")])
