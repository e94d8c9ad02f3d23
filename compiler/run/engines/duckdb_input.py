"""The DuckDB engine's input: events read and validated inside DuckDB, no Python object per
event (issue 12). What the generated query reads is the table `sl_events`:

    sl_events(line, contact, event, target, at BIGINT microseconds, id, props JSON text)

(`line` is the 1-based line or row, and serves as `seq`, the input order).

How each format gets there:
- JSON Lines: DuckDB's CSV reader cut to one column reads the lines (`WITH ORDINALITY` numbers
  them); a file holding a CR byte, bytes that are not UTF-8, or a line DuckDB would split
  differently is cut into lines by pyarrow instead (LF only, as `runtime.io` does). Both are
  checked: the lines DuckDB returns must add up to the file's bytes (checked on the table its
  one pass wrote: reading, parsing and validating are that pass).
- Parquet: `read_parquet(..., file_row_number = true)`, validated per column type; a file
  DuckDB cannot read (a corrupt page, a timestamp DuckDB cannot hold) is read by the Python
  reader (`compiler.run.parquet`), which gives the rejects or the clear error.
- CSV: the Python reader (`runtime.io`, whose quoting rules are those of Python's csv module),
  its events streamed to DuckDB as Arrow batches.

Validation in SQL is sound, not complete: a line it accepts is one the Python reader accepts
with the same values; every other line (a reject, or a line that needs a check SQL does not
make: a repeated key, deep nesting, NaN, a 5,000-digit number, a time in an odd shape) goes to
the Python reader's own function (`runtime.io.line_item`, `compiler.run.parquet.event_rows`),
so the rejects, their line numbers, reasons and raw text are those of `score run --engine
python` by construction, and so are the events it accepts.

A JSON line as DuckDB would write it back (no spaces, no backslash, the keys in the order
contact, event, target, at, id, props) takes a fast path: one parse, and the line compared
with its values written back (`_CANON`) stands for the guards, the list of keys and the
types; every other line takes the checking path (`_CLASSIFY`).
"""
from __future__ import annotations

import os
from typing import Callable, Iterator

from runtime import io as rio
from runtime.events import MAX_MICROS, MIN_MICROS, Event, Reject
from runtime.records import MAX_DEPTH, MAX_SECONDS, MIN_SECONDS

from ...sql.quoting import quote_identifier
from .. import parquet as pq_reader

TABLE = "sl_events"
_CHUNK = 32 << 20  # bytes per piece when pyarrow cuts a file into lines
_FETCH = 10_000  # suspect lines fetched at a time
LINE_READER = ("read_csv(?, columns = {'t': 'VARCHAR'}, header = false, delim = '\\x01', "
               "quote = '', escape = '', new_line = '\\n', auto_detect = false, "
               "strict_mode = false, max_line_size = 2000000000)")
# The common shapes of `runtime.events.parse_time` for events, in SQL (each macro after the
# ones it uses; call them on columns, not expressions: a macro repeats its argument):
# `2026-03-02T10:15:00Z`, with a fraction of up to 9 digits (truncated to microseconds) and
# `Z` or an offset `+HH:MM` (at most 23:59); NULL for anything else, which goes to Python (a
# space for `T`, `+HHMM`, no seconds, `z`, spaces around, ...). DuckDB's cast would also take
# hour 24 and offsets past 23:59: the substrings are checked first.
_ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)"
MACROS = f"""
CREATE OR REPLACE TEMP MACRO sl_in_range(us) AS (
  CASE WHEN us BETWEEN {MIN_MICROS} AND {MAX_MICROS} THEN us END);
CREATE OR REPLACE TEMP MACRO sl_iso_us(s) AS (
  CASE WHEN regexp_full_match(s, '{_ISO}') AND NOT starts_with(s, '0000')
        AND substr(s, 12, 2) <= '23' AND substr(s, 15, 2) <= '59' AND substr(s, 18, 2) <= '59'
        AND (ends_with(s, 'Z') OR (substr(s, -5, 2) <= '23' AND substr(s, -2, 2) <= '59'))
       THEN sl_in_range(epoch_us(TRY_CAST(s AS TIMESTAMPTZ))) END);
CREATE OR REPLACE TEMP MACRO sl_epoch_us(j) AS (
  CASE WHEN regexp_full_match(j, '-?[0-9]{{1,19}}')
        AND TRY_CAST(j AS BIGINT) BETWEEN {MIN_SECONDS} AND {MAX_SECONDS}
       THEN CAST(j AS BIGINT) * 1000000 END);
CREATE OR REPLACE TEMP MACRO sl_string(j) AS (
  CASE WHEN NOT starts_with(j, '"') THEN NULL
       WHEN contains(j, '\\') THEN j ->> '$' ELSE j[2:-2] END);
"""

def distinct(keys: str, pairs_up_to: int = 5) -> str:
    """SQL: no key of the list `keys` is there twice. Short lists compare their items pairwise
    (list_distinct costs more than a parse of the line)."""
    cases = []
    for size in range(2, pairs_up_to + 1):
        pairs = " AND ".join(f"{keys}[{i}] <> {keys}[{j}]" for i in range(1, size + 1)
                             for j in range(i + 1, size + 1))
        cases.append(f"WHEN {size} THEN {pairs}")
    return (f"(CASE len({keys}) WHEN 0 THEN TRUE WHEN 1 THEN TRUE {' '.join(cases)} "
            f"ELSE len({keys}) = len(list_distinct({keys})) END)")


def no_bare_words(text: str) -> str:
    """SQL true when the JSON text `text` (an SQL expression) holds no `nan`, `inf` or
    `infinity` as a value: DuckDB's parser takes them, signed and in any letter case, as
    numbers, and Python's refuses them. A value starts after a `:`, or in a list after a `[`
    or a `,` (spaces between): a text without `[` has one exactly when it holds a `:`, spaces
    and such a word, which one regexp starting with a literal finds; a text with a `[` meets
    the test at `[` and `,` too, after ILIKE has found the words' letters at all (a false
    hit, inside a string, only sends the line to Python's reader)."""
    return (f"CASE WHEN NOT contains({text}, '[') "
            f"THEN NOT regexp_matches({text}, ':[ \\t\\r\\n]*-?[nNiI][aAnN]') "
            f"WHEN {text} ILIKE '%nan%' OR {text} ILIKE '%inf%' "
            f"THEN NOT regexp_matches({text}, '[:\\[,][ \\t\\r\\n]*-?[nNiI][aAnN]') "
            "ELSE TRUE END")


# A list of keys holds each of the six known ones at most once and nothing else exactly when its
# length is the number of known keys in it (list_distinct would cost a third of the reading).
_KEYS_KNOWN = " + ".join(f"list_contains(keys, '{key}')::INTEGER" for key in rio.EVENT_KEYS)
# A line `t` that DuckDB's JSON parser may be given: an object, and nothing DuckDB accepts that
# Python refuses (NaN, Infinity, trailing commas) or that needs Python's own check (deep
# nesting; numbers past Python's digit limit).
# The cheap checks first: in a CASE condition DuckDB's AND tests the next only where the ones
# before it held.
JSON_GUARDS = f"""starts_with(t, '{{')
          AND (strlen(t) < 4000 OR NOT regexp_matches(t, '[0-9]{{1000}}'))
          AND (strlen(t) <= {2 * MAX_DEPTH}
               OR strlen(t) - strlen(replace(replace(t, '{{', ''), '[', '')) <= {MAX_DEPTH})
          AND {no_bare_words('t')} AND NOT regexp_matches(t, ',[ \\t\\r\\n]*[\\]}}]')"""
# What an event line `t` must be free of before DuckDB's parser may see it (JSON_GUARDS but
# for the nesting, which only `props` can hold in a line SQL accepts: it is checked there).
_EVENT_GUARDS = f"""starts_with(t, '{{')
          AND (strlen(t) < 4000 OR NOT regexp_matches(t, '[0-9]{{1000}}'))
          AND {no_bare_words('t')} AND NOT regexp_matches(t, ',[ \\t\\r\\n]*[\\]}}]')"""
_TRANSFORM = ('{"contact": "JSON", "event": "JSON", "at": "JSON", "target": "JSON", '
              '"id": "JSON", "props": "JSON"}')
# The fast path's parse: the strings as text, `at` and `props` as JSON text (see `_CANON`).
_FAST_TRANSFORM = ('{"contact": "VARCHAR", "event": "VARCHAR", "target": "VARCHAR", '
                   '"at": "JSON", "id": "VARCHAR", "props": "JSON"}')
# The line the fast path's values `f` make when written back in the one order the fast path
# takes (contact, event, target, at, id, props; the optional ones only when set), DuckDB's
# way (no spaces), the strings between quotes as they are: NULL when a required one is not
# set. A line without a backslash that is this text exactly holds these keys once each and
# nothing else, the four strings as strings (a string without a backslash is its text
# between quotes; a value of another type, or `null`, would not be written so), and no
# trailing comma (DuckDB never writes one): what `_EVENT_GUARDS`, `json_keys` and `sl_string`
# establish on the other path. It leaves NaN and Infinity, which DuckDB writes back as they
# were, for `no_bare_words` to find in `props`.
_CANON = ("""concat('{"contact":"', f.contact, '","event":"', f.event, '"', """
          """',"target":"' || f.target || '"', ',"at":', f."at", ',"id":"' || f.id || '"', """
          """',"props":' || f.props, '}')""")


# The number of known keys whose value is not null: when it is the number of keys, each key is
# a known one, there once (a key there twice, or an unknown one, would make the keys more).
_KEYS_SET = " + ".join(f'(j."{key}" IS NOT NULL)::INTEGER' for key in rio.EVENT_KEYS)
# One JSON line. The fast path first (`f`, `fast`): a line shorter than 4,000 bytes without a
# backslash, parsed once by `json_transform` (`try`: the line may not be JSON), that is the
# text `_CANON` writes from its values. Every other line takes the checking path: parsed only
# when it is free of what DuckDB's parser accepts and Python's does not (NaN, Infinity,
# trailing commas) and of what needs Python's own check (deep nesting; numbers past Python's
# digit limit), each check in a CASE of its own so that the costlier ones meet only the lines
# the cheap ones pass. Its parsing costs: `try(json_keys(t))` is the validity check and the
# keys in one parse, `json_transform` the six values as JSON text (written again by DuckDB:
# no spaces, escapes other than \" \\ and control characters decoded) in a second; a value's
# type is its first character (a JSON text starts with `"` only when it is a string, and so
# on), and a string without a backslash is its text between the quotes. The keys are checked
# by their count (`_KEYS_SET`), and by the list only for a line with a null value.
# `props` is accepted when it is an object without objects inside (which could hide a repeated
# key: no second `{`, found by LIKE, five times cheaper than `strpos` on a slice) and, holding
# lists, not nested deeper than Python allows: the line's depth is at most 2 + the `[` in
# props, or 1 + half the length of props.
_CLASSIFY = f"""
f0 AS (
  SELECT line, n, t, raw,
    raw IS NULL OR CASE WHEN starts_with(t, '{{') THEN FALSE
                        ELSE coalesce(regexp_full_match(t, '[ \\t]*'), FALSE) END AS blank,
    CASE WHEN starts_with(t, '{{') AND strlen(t) < 4000 AND NOT contains(t, '\\')
         THEN try(json_transform(t, '{_FAST_TRANSFORM}')) END AS f
  FROM src
), p AS (
  SELECT line, n, t, raw, blank, f, coalesce(t = {_CANON}, FALSE) AS fast
  FROM f0
), k AS (
  SELECT line, n, raw, blank, fast, f,
    CASE WHEN fast THEN NULL WHEN {_EVENT_GUARDS} THEN try(json_keys(t)) END AS keys,
    CASE WHEN NOT fast THEN t END AS t
  FROM p
), q AS (
  SELECT line, n, raw, blank, fast, f, keys,
    CASE WHEN keys IS NOT NULL THEN json_transform(t, '{_TRANSFORM}') END AS j
  FROM k
), v AS (
  SELECT line, n, raw, blank, fast,
    CASE WHEN fast THEN TRUE WHEN len(keys) = {_KEYS_SET} THEN TRUE
         ELSE len(keys) = {_KEYS_KNOWN} END AS known,
    CASE WHEN fast THEN f.contact ELSE sl_string(j.contact) END AS contact,
    CASE WHEN fast THEN f.event ELSE sl_string(j.event) END AS event,
    CASE WHEN fast THEN f.target ELSE sl_string(j.target) END AS target,
    CASE WHEN fast THEN f.id ELSE sl_string(j.id) END AS id,
    CASE WHEN fast THEN NULL ELSE j.target END AS jt,
    CASE WHEN fast THEN NULL ELSE j.id END AS ji,
    CASE WHEN fast THEN f.props ELSE j.props END AS props,
    CASE WHEN fast THEN sl_string(f."at") ELSE sl_string(j."at") END AS at_text,
    CASE WHEN fast THEN sl_epoch_us(f."at") ELSE sl_epoch_us(j."at") END AS at_epoch
  FROM q
), w AS (
  SELECT line, n, raw, blank, fast, known, contact, event, target, id, jt, ji, props,
    coalesce(at_epoch, sl_iso_us(at_text)) AS "at",
    CASE WHEN starts_with(props, '{{') AND NOT props LIKE '{{%{{%'
              AND (NOT contains(props, '[') OR strlen(props) <= {2 * (MAX_DEPTH - 1)}
                   OR strlen(props) - strlen(replace(props, '[', '')) <= {MAX_DEPTH - 2})
         THEN json_keys(props) END AS props_keys
  FROM v
), c AS (
  SELECT line, n, raw, blank, contact, event, "at", target, id,
    CASE WHEN props <> '{{}}' THEN props END AS props,
    coalesce(known AND contact <> '' AND event <> '' AND "at" IS NOT NULL
      AND (jt IS NULL OR target IS NOT NULL) AND (ji IS NULL OR id IS NOT NULL)
      AND (props IS NULL OR (props_keys IS NOT NULL AND {distinct('props_keys')}
                             AND (NOT fast OR {no_bare_words('props')}))),
      FALSE) AS good
  FROM w
)
SELECT line, CASE WHEN blank THEN 0 WHEN good THEN 1 ELSE 2 END AS kind,
  CASE WHEN good THEN contact END AS contact, CASE WHEN good THEN event END AS event,
  CASE WHEN good THEN target END AS target, CASE WHEN good THEN "at" END AS "at",
  CASE WHEN good THEN id END AS id, CASE WHEN good THEN props END AS props,
  CASE WHEN NOT good AND NOT blank THEN raw END AS raw, n
FROM c
"""


def prepare(con) -> None:
    con.execute("SET TimeZone = 'UTC'")
    for statement in MACROS.split(";"):
        if statement.strip():
            con.execute(statement)


def load_events(con, path: str, on_reject: Callable[[Reject], None],
                progress: Callable[[int], None] | None = None, copy: bool = True) -> None:
    """Fill `sl_events` from the events file (or `-`), reporting the rejects in line order.
    `copy=False` (for a caller that reads `sl_events` in a few statements, not once per
    period as the timeline does): a Parquet file is not copied into DuckDB, `sl_events` is a
    view that reads the file in each statement (`_load_parquet`)."""
    prepare(con)
    fmt = rio.file_format(path)
    if fmt == "jsonl":
        _load_jsonl(con, path, progress)
        _settle_lines(con, on_reject)
    elif fmt == "parquet":
        _load_parquet(con, path, on_reject, progress, copy)
    else:
        _load_python(con, path, on_reject, progress)
    if progress is not None and path != rio.STDIN:
        progress(os.path.getsize(path))


def scored(con, path: str, on_reject: Callable[[Reject], None], query: Callable[[str], str],
           progress: Callable[[int], None] | None = None) -> list | None:
    """The rows of a query over the events (`query(name)` is its SQL over the events table
    `name`, as `compiler.sql.generate` writes it) computed in the one statement that reads and
    validates a JSON Lines events file: the lines SQL accepts are held in memory for that
    statement (a materialized CTE) instead of a table written and read again. The lines SQL
    leaves to the Python reader come out of the same statement, as rows whose contact is NULL
    (a contact never is), sorted first, and so does what the lines add up to
    (`_lines_as_python`); they are settled after it and their rejects reported. None, having
    reported nothing, when the events cannot be scored so: not a JSON Lines file (a Parquet
    file is not copied at all: `_load_parquet`), standard input, a file DuckDB cannot read or
    cuts into other lines than runtime.io, or a line left to Python that Python accepts (the
    query did not see it); the caller then loads the events (`load_events`) and queries
    `sl_events`."""
    if path == rio.STDIN or rio.file_format(path) != "jsonl":
        return None
    expected = _line_stats(path)
    if expected is None:
        return None
    prepare(con)
    checked = f"{TABLE}_checked"
    source = (f"WITH src AS (SELECT ordinality AS line, strlen(t)::INTEGER AS n, t, t AS raw "
              f"FROM {LINE_READER} WITH ORDINALITY), {_CLASSIFY}")
    # the suspects (line, raw), then one row of what the lines add up to
    extra = (f"SELECT NULL, line::VARCHAR, raw, NULL, NULL FROM {checked} WHERE kind = 2 "
             "UNION ALL SELECT NULL, NULL, NULL, coalesce(sum(coalesce(n, 0) + 1), 0)::VARCHAR, "
             f"count(*)::VARCHAR || ',' || coalesce(max(line), 0)::VARCHAR FROM {checked}")
    sql = (f"WITH {checked} AS MATERIALIZED ({source}), {TABLE}_good AS (SELECT line, contact, "
           f"event, target, \"at\", id, props FROM {checked} WHERE kind = 1)\n"
           f"SELECT * FROM (\n{query(f'{TABLE}_good')}\n) UNION ALL {extra}\n"
           "ORDER BY 1 NULLS FIRST")
    try:
        rows = con.execute(sql, [path]).fetchall()
    except Exception as exc:  # noqa: BLE001 - duckdb.Error: bytes not UTF-8 and the like
        if not _is_duckdb_error(exc):
            raise
        return None
    first = next((index for index, row in enumerate(rows) if row[0] is not None), len(rows))
    (_, _, _, total, counts), = (row for row in rows[:first] if row[1] is None)
    count, top = (int(part) for part in counts.split(","))
    if (int(total), count) != expected or top != count:
        return None
    held: list[Reject] = []
    suspects = sorted((int(row[1]), row[2]) for row in rows[:first] if row[1] is not None)
    if _python_lines([suspects], held.append):
        return None
    for reject in held:
        on_reject(reject)
    if progress is not None:
        progress(os.path.getsize(path))
    return rows[first:]


# --- JSON Lines -----------------------------------------------------------------------------

def lines_in_sql(con, path: str, table: str, classify: str) -> bool:
    """`table` from DuckDB's lines of the file through `classify` (CTEs over `src`: line, n,
    t, raw), in one pass, checked afterwards on the table it wrote to be the file's lines
    exactly as runtime.io cuts them (`_lines_as_python`); False (for the Python reader) when
    they are not, or the file is standard input."""
    expected = None if path == rio.STDIN else _line_stats(path)
    if expected is None:
        return False
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS WITH src AS ("
                    f"SELECT ordinality AS line, strlen(t)::INTEGER AS n, t, t AS raw "
                    f"FROM {LINE_READER} WITH ORDINALITY), {classify}", [path])
    except Exception as exc:  # noqa: BLE001 - duckdb.Error: bytes not UTF-8 and the like
        if not _is_duckdb_error(exc):
            raise
        return False
    return _lines_as_python(con, table, "line", expected)


def _load_jsonl(con, path: str, progress) -> None:
    """`sl_events_all` from DuckDB's lines (`lines_in_sql`), else from pyarrow's."""
    if lines_in_sql(con, path, f"{TABLE}_all", _CLASSIFY):
        return
    # the byte order mark goes in Python (`_line_batches`), as runtime.io drops it
    _from_stream(con, "sl_chunks", _line_batches(path, progress),
                 f"CREATE OR REPLACE TEMP TABLE {TABLE}_all AS WITH src AS ("
                 "SELECT line, NULL::INTEGER AS n, rtrim(try(decode(b)), chr(13)) AS t, b AS raw "
                 f"FROM sl_chunks), {_CLASSIFY}")


class _Stream:
    """Arrow batches for DuckDB to pull, keeping the error a batch raised: DuckDB would report
    it as its own "reading the stream failed"."""

    def __init__(self, schema, batches) -> None:
        self.schema, self.batches, self.error = schema, batches, None

    def reader(self):
        import pyarrow as pa

        return pa.RecordBatchReader.from_batches(self.schema, self._guarded())

    def _guarded(self):
        try:
            yield from self.batches
        except Exception as exc:  # noqa: BLE001 - handed back by _from_stream
            self.error = exc
            raise


def _from_stream(con, name: str, stream: _Stream, sql: str) -> None:
    con.register(name, stream.reader())
    try:
        con.execute(sql)
    except Exception:
        if stream.error is not None:
            raise stream.error from None
        raise
    finally:
        con.unregister(name)


def _is_duckdb_error(exc: Exception) -> bool:
    import duckdb

    return isinstance(exc, duckdb.Error)


def _line_stats(path: str) -> tuple[int, int] | None:
    """What DuckDB's lines of the file must add up to, to be runtime.io's lines: (the bytes of
    the lines and one LF after each, the number of lines); None when the file holds a CR
    (DuckDB also ends a line there)."""
    lines, size, last, head = 0, 0, b"", b""
    with open(path, "rb") as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            if b"\r" in chunk:
                return None
            head = head or chunk[:3]
            lines += chunk.count(b"\n")
            size += len(chunk)
            last = chunk[-1:]
    unended = last not in (b"\n", b"")  # a last line without its LF
    lines += unended
    expected = size + unended  # each line's bytes and one for its LF
    if head == b"\xef\xbb\xbf":
        expected -= 3  # DuckDB drops the byte order mark, as runtime.io does
    return expected, lines


def _lines_as_python(con, lines: str, number: str, expected: tuple[int, int],
                     parameters: list | None = None) -> bool:
    """Whether the lines DuckDB read (`lines`: a table or subquery with the line `number` and
    its length `n`, NULL for an empty line) hold every byte of the file, one LF after each:
    DuckDB refuses bytes that are not UTF-8, and it would cut a line elsewhere than runtime.io
    only with a CR in the file."""
    total, rows, top = con.execute(
        f"SELECT coalesce(sum(coalesce(n, 0) + 1), 0), count(*), coalesce(max({number}), 0) "
        f"FROM {lines}", parameters or []).fetchone()
    return (total, rows) == expected and top == rows


def _line_batches(path: str, progress):
    """The file as (line, bytes) Arrow batches, cut at LF only."""
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = pa.schema([("line", pa.int64()), ("b", pa.large_binary())])

    def pieces() -> Iterator:
        stream, owned = rio._open_binary(path)
        try:
            done, line, rest = 0, 1, b""
            head = stream.read(3)
            rest = head[3:] if head == b"\xef\xbb\xbf" else head
            while True:
                chunk = stream.read(_CHUNK)
                data = rest + chunk
                if not chunk:
                    if data:
                        yield _batch(pa, pc, schema, data, line)
                    return
                cut = data.rfind(b"\n")
                if cut < 0:
                    rest = data
                    continue
                rest = data[cut + 1:]
                batch = _batch(pa, pc, schema, data[:cut], line)
                line += batch.num_rows
                done += len(chunk)
                if progress is not None:
                    progress(done)
                yield batch
        finally:
            if owned:
                stream.close()

    return _Stream(schema, pieces())


def _batch(pa, pc, schema, data: bytes, first: int):
    lines = pc.split_pattern(pa.array([data], pa.large_binary()), b"\n").flatten()
    numbers = pa.array(range(first, first + len(lines)), pa.int64())
    return pa.RecordBatch.from_arrays([numbers, lines], schema=schema)


def _settle_lines(con, on_reject: Callable[[Reject], None]) -> None:
    """Hand the lines SQL did not accept to the Python reader's own function: report its
    rejects (in line order) and add the events it accepts."""
    cursor = con.execute(f"SELECT line, raw FROM {TABLE}_all WHERE kind = 2 ORDER BY line")
    accepted = _python_lines(iter(lambda: cursor.fetchmany(_FETCH), []), on_reject)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {TABLE} AS SELECT line, contact, event, target, "
                f"\"at\", id, props FROM {TABLE}_all WHERE kind = 1")
    if accepted:
        _insert_events(con, accepted)


def _python_lines(batches, on_reject: Callable[[Reject], None]) -> list[Event]:
    """The lines SQL did not accept, (line, raw) in line order in lists, through the Python
    reader's own function (`runtime.io.line_item`): its rejects reported, its events
    returned."""
    accepted: list[Event] = []
    with rio.paused_collector():
        for rows in batches:
            for line, raw in rows:
                data = raw.encode("utf-8") if isinstance(raw, str) else raw
                item = rio.line_item(data, line, line)
                if isinstance(item, Reject):
                    on_reject(item)
                elif item is not None:
                    accepted.append(item)
    return accepted


def _insert_events(con, events: list[Event]) -> None:
    con.register("sl_more", events_arrow(events))
    try:
        con.execute(f"INSERT INTO {TABLE}_all BY NAME SELECT line, 1 AS kind, contact, event, "
                    "target, \"at\", id, props FROM sl_more")
    finally:
        con.unregister("sl_more")


def events_arrow(events) -> object:
    """Events (Python objects) as an Arrow table of `sl_events`' columns."""
    import json

    import pyarrow as pa

    columns: dict[str, list] = {n: [] for n in ("line", "contact", "event", "target", "at",
                                                "id", "props")}
    line, contact, event, target, at, ids, props = columns.values()
    dumps = json.dumps
    for index, e in enumerate(events):
        line.append(e.line or index + 1)
        contact.append(e.contact)
        event.append(e.event)
        target.append(e.target)
        at.append(e.at)
        ids.append(e.id)
        props.append(dumps(e.props, ensure_ascii=False) if e.props else None)
    types = {"line": pa.int64(), "at": pa.int64()}
    return pa.table({name: pa.array(values, type=types.get(name, pa.string()))
                     for name, values in columns.items()})


# --- Parquet --------------------------------------------------------------------------------

def _load_parquet(con, path: str, on_reject, progress, copy: bool = True) -> None:
    """`sl_events` from a Parquet file. Copied into DuckDB (`sl_events_all`), or without
    `copy` a view over the file itself (`_parquet_view`): a pass that validates without
    keeping the rows, then the query reads the file again. The file's min/max statistics are
    not to be trusted: with them DuckDB narrows a value that breaks them (a flipped byte) to
    garbage where pyarrow reads the value itself; they stay off while a view reads the file."""
    parquet = pq_reader.open_file(path)
    schema = parquet.schema_arrow
    pq_reader.check_schema(path, schema, ("props",))
    parts = _parquet_parts(schema)
    con.execute("SET disabled_optimizers = 'statistics_propagation'")
    kept = False
    try:
        if not copy:
            # every column is read (a page that cannot be decoded fails here, not in the
            # query): the lengths of the values are asked for as well
            lengths = ", ".join(f"max(strlen({name}))" for name in ("contact", "event",
                                                                    "target", "id", "props"))
            (suspects, *_), = con.execute(
                f"SELECT list(line ORDER BY line) FILTER (WHERE kind = 2), {lengths} "
                f"FROM ({_parquet_select(parts)})", [path]).fetchall()
            _parquet_view(con, parts, path, suspects or [])
            kept = True
        else:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {TABLE}_all AS {_parquet_select(parts)}",
                        [path])
            suspects = [line for (line,) in con.execute(
                f"SELECT line FROM {TABLE}_all WHERE kind = 2 ORDER BY line").fetchall()]
            con.execute(f"CREATE OR REPLACE TEMP VIEW {TABLE} AS SELECT line, contact, event, "
                        f"target, \"at\", id, props FROM {TABLE}_all WHERE kind = 1")
    except Exception as exc:  # noqa: BLE001 - whatever DuckDB cannot read, Python reports
        if not _is_duckdb_error(exc):
            raise
        kept = False
        _load_python(con, path, on_reject, progress)
        return
    finally:
        if not kept:
            con.execute("RESET disabled_optimizers")
    _settle_rows(con, path, suspects, on_reject)


def _parquet_view(con, parts: dict, path: str, suspects: list[int]) -> None:
    """`sl_events` as a view reading the file: its rows but the `suspects` (the rows SQL did
    not accept), and the table `sl_events_all` (empty, for the rows the Python reader then
    accepts, `_settle_rows`)."""
    from ...sql.dialects import DIALECTS
    from ...sql.quoting import quote_string

    con.execute(f"CREATE OR REPLACE TEMP TABLE {TABLE}_all (line BIGINT, kind INTEGER, "
                "contact VARCHAR, event VARCHAR, target VARCHAR, \"at\" BIGINT, id VARCHAR, "
                "props VARCHAR, raw VARCHAR)")
    where = ""
    if suspects:
        import pyarrow as pa

        con.register("sl_suspect_list", pa.table({"line": pa.array(suspects, pa.int64())}))
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {TABLE}_suspects AS "
                        "SELECT line FROM sl_suspect_list")
        finally:
            con.unregister("sl_suspect_list")
        where = f" WHERE line NOT IN (SELECT line FROM {TABLE}_suspects)"
    source = quote_string(path, DIALECTS["duckdb"])
    rows = _parquet_rows(parts, source)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {TABLE} AS WITH r AS ({rows}) SELECT line, "
                f"contact, event, target, \"at\", id, {parts['props_value']} AS props FROM "
                f"r{where} UNION ALL SELECT line, contact, event, target, \"at\", id, props "
                f"FROM {TABLE}_all")


def _parquet_parts(schema) -> dict:
    """The SQL pieces that read and validate a Parquet file of this schema (see the module's
    docstring): the values, the checks, `props` as `pj` (its JSON text) and `pk` (its keys)."""
    import pyarrow as pa

    from ...sql.dialects import DIALECTS

    def q(name: str) -> str:
        return quote_identifier(name, DIALECTS["duckdb"])

    names = schema.names
    kinds = {name: pq_reader._base(schema.field(name).type) for name in names}
    checks = [f"{q(name)} IS NULL" for name in names if name not in rio.EVENT_KEYS]
    values = {}
    for key in ("contact", "event", "target", "id"):
        required = key in rio.REQUIRED_KEYS
        if key in names and pq_reader.is_text(kinds[key]):
            values[key] = f"{q(key)}::VARCHAR"
            if required:
                checks.append(f"{q(key)} <> ''")
        else:
            values[key] = "NULL::VARCHAR"
            if required:
                checks.append("FALSE")
            elif key in names:
                checks.append(f"{q(key)} IS NULL")
    values["at"] = _parquet_time(pa, kinds["at"], q("at")) if "at" in names else "NULL::BIGINT"
    pj, pk, props_check, props_value = _parquet_props(pa, kinds.get("props"), q("props"))
    return {"values": ", ".join(f"{value} AS {q(key)}" for key, value in values.items()),
            "ok": " AND ".join(f"({check})" for check in checks) or "TRUE",
            "pj": pj, "pk": pk, "props_check": props_check, "props_value": props_value}


def _parquet_rows(parts: dict, source: str, checked: bool = False) -> str:
    """The file's rows: line, the values and `pj` (with `checked`, also `pk` and `ok`)."""
    more = f", {parts['pk']} AS pk, {parts['ok']} AS ok" if checked else ""
    return (f"SELECT file_row_number + 1 AS line, {parts['values']}, {parts['pj']} AS pj{more} "
            f"FROM read_parquet({source}, file_row_number = true)")


def _parquet_select(parts) -> str:
    """The SELECT that validates a Parquet file (the parameter `?`): kind 1 for a row SQL
    accepts (see the module's docstring), 2 for the Python reader to settle. Given a schema,
    its `_parquet_parts` first."""
    if not isinstance(parts, dict):
        parts = _parquet_parts(parts)
    # two levels: what the checks of `props` read is computed once, in the inner one
    return (f"WITH r AS ({_parquet_rows(parts, '?', checked=True)}) "
            f"SELECT line, CASE WHEN ok AND ({parts['props_check']}) AND \"at\" BETWEEN "
            f"{MIN_MICROS} AND {MAX_MICROS} THEN 1 ELSE 2 END AS kind, contact, event, target, "
            f"\"at\", id, {parts['props_value']} AS props, NULL::VARCHAR AS raw FROM r")


def _parquet_time(pa, kind, column: str) -> str:
    if kind is None:
        return "NULL"
    if pa.types.is_timestamp(kind):
        if kind.unit == "ns":
            ns = f"epoch_ns({column})"
            us = f"({ns} // 1000 - CASE WHEN {ns} % 1000 < 0 THEN 1 ELSE 0 END)"
        else:
            us = f"epoch_us({column})"
        return f"sl_in_range({us})"
    if pa.types.is_integer(kind):
        return (f"CASE WHEN {column} BETWEEN {MIN_SECONDS} AND {MAX_SECONDS} "
                f"THEN {column}::BIGINT * 1000000 END")
    if pq_reader.is_text(kind):
        return f"sl_iso_us({column}::VARCHAR)"
    return "NULL"


def _parquet_props(pa, kind, column: str) -> tuple[str, str, str, str]:
    """A `props` column: (`pj` = its JSON text, `pk` = its keys, the check over both, the
    value over `pj` alone, so that a view can read it without the keys)."""
    if kind is None or pa.types.is_null(kind):
        return "NULL::VARCHAR", "NULL::VARCHAR[]", "TRUE", "NULL::VARCHAR"
    if pa.types.is_struct(kind) or pa.types.is_map(kind):
        # merge-patching into {} drops the null members at any depth, as parquet.plain does
        pj = f"json_merge_patch('{{}}', to_json({column}))::VARCHAR"
        check = "TRUE"
        if _has(pa, kind, lambda k: pa.types.is_decimal(k) and k.scale <= 0):
            check = "pj IS NULL"  # to_json writes 12.0 where the number is 12
        elif _has(pa, kind, pa.types.is_floating):
            check = "pj IS NULL OR (NOT contains(pj, 'NaN') AND NOT contains(pj, 'Infinity'))"
        return pj, "NULL", check, "CASE WHEN pj <> '{}' THEN pj END"
    if pq_reader.is_text(kind):
        text = f"{column}::VARCHAR"
        keys = (f"CASE WHEN starts_with({text}, '{{') AND strlen({text}) < 4000 "
                f"AND NOT {text} LIKE '{{%{{%' "  # no second `{`: cheaper than counting
                f"AND {no_bare_words(text)} "
                f"AND NOT regexp_matches({text}, ',[ \\t\\r\\n]*[\\]}}]') "
                f"THEN try(json_keys({text})) END")
        # an empty object is no props: SQL takes it only as `{}` exactly (the value below)
        check = (f"pj IS NULL OR (pk IS NOT NULL AND {distinct('pk')} "
                 "AND (len(pk) > 0 OR pj = '{}'))")
        return text, keys, check, "CASE WHEN pj <> '{}' THEN pj END"
    return f"{column} IS NOT NULL", "NULL", "NOT pj", "NULL::VARCHAR"


def _has(pa, kind, test) -> bool:
    """Whether the type, or any type inside it, passes `test`."""
    kind = pq_reader._base(kind)
    if test(kind):
        return True
    if pa.types.is_struct(kind):
        return any(_has(pa, kind.field(i).type, test) for i in range(kind.num_fields))
    if pa.types.is_map(kind):
        return _has(pa, kind.item_type, test)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _has(pa, kind.value_type, test)
    return False


def _settle_rows(con, path: str, suspects: list[int], on_reject) -> None:
    """The Parquet rows SQL did not accept (`suspects`, in order), through
    `compiler.run.parquet.event_rows`."""
    if not suspects:
        return
    accepted: list[Event] = []
    position = 0
    with rio.paused_collector():
        for first, batch in pq_reader.batches(path):
            end = first + batch.num_rows
            rows = []
            while position < len(suspects) and suspects[position] < end:
                rows.append(suspects[position] - first)
                position += 1
            for item in pq_reader.event_rows(batch, rows, first, 0):
                if isinstance(item, Reject):
                    on_reject(item)
                else:
                    accepted.append(item)
            if position == len(suspects):
                break
    if accepted:
        _insert_events(con, accepted)


# --- through the Python reader --------------------------------------------------------------

def _load_python(con, path: str, on_reject, progress) -> None:
    """The events as the Python reader validates them, streamed to DuckDB in Arrow batches."""
    from .. import readers

    def pieces() -> Iterator:
        batch: list[Event] = []
        with rio.paused_collector():
            for item in readers.read_events(path, progress=progress):
                if isinstance(item, Reject):
                    on_reject(item)
                    continue
                batch.append(item)
                if len(batch) == 65_536:
                    yield from events_arrow(batch).to_batches()
                    batch = []
        if batch:
            yield from events_arrow(batch).to_batches()

    _from_stream(con, "sl_python", _Stream(events_arrow([]).schema, pieces()),
                 f"CREATE OR REPLACE TEMP TABLE {TABLE}_all AS SELECT line, 1 AS kind, "
                 "contact, event, target, \"at\", id, props, NULL::VARCHAR AS raw "
                 "FROM sl_python")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {TABLE} AS SELECT line, contact, event, target, "
                f"\"at\", id, props FROM {TABLE}_all")
