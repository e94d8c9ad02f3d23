"""The DuckDB engine's contacts, read inside DuckDB as its events are (`duckdb_input`): the
table `sl_contacts(contact, profile JSON text)`, one row per contact, the last line winning.

As for events, SQL accepts only the lines the Python reader accepts with the same profile; the
others (a reject, or a profile with a nested object, which could hide a repeated key) are
settled by the Python reader's own functions, which give the rejected lines' reasons and raw
text (`load_contacts(on_reject=...)`: `score run` then does not read the file again for them).
CSV contacts, and anything DuckDB cannot read, come from the Python reader.
"""
from __future__ import annotations

from typing import Callable

from runtime import io as rio
from runtime.events import Reject
from runtime.records import RecordError, decode_json, profile_from_record

from .. import parquet as pq_reader
from ...sql.dialects import DIALECTS
from ...sql.quoting import quote_identifier
from . import duckdb_input as di

TABLE = "sl_contacts"
_ALL = f"{TABLE}_all"

# kind 1: SQL's profile; 2: for Python. A profile is the object without `contact`
# (merge-patching `{"contact": null}` into it removes that key and nothing else).
_CLASSIFY = f"""
p AS (
  SELECT line, n, t, raw,
    raw IS NULL OR coalesce(NOT starts_with(t, '{{') AND regexp_full_match(t, '[ \\\\t]*'),
                            FALSE) AS blank,
    CASE WHEN {di.JSON_GUARDS} AND NOT t LIKE '{{%{{%'
         THEN try(json_keys(t)) END AS keys
  FROM src
), c AS (
  SELECT line, n, t, raw, blank,
    CASE WHEN list_contains(keys, 'contact') AND {di.distinct('keys', 8)}
         THEN sl_string(json_extract(t, '$.contact')) END AS contact
  FROM p
)
SELECT line, CASE WHEN blank THEN 0 WHEN contact <> '' THEN 1 ELSE 2 END AS kind, contact,
  CASE WHEN contact <> '' THEN json_merge_patch(t, '{{"contact": null}}')::VARCHAR END
    AS profile,
  CASE WHEN NOT blank AND coalesce(contact, '') = '' THEN raw END AS raw, n
FROM c
"""


def load_contacts(con, path: str | None,
                  on_reject: Callable[[Reject], None] | None = None) -> None:
    """Fill `sl_contacts` from the contacts file (none: an empty table); `on_reject` is
    given the rejects of `compiler.run.readers.read_contacts`, in line order."""
    report = on_reject or (lambda reject: None)
    di.prepare(con)
    if path is None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_ALL} (line BIGINT, kind INTEGER, "
                    "contact VARCHAR, profile VARCHAR, raw VARCHAR)")
    elif rio.file_format(path) == "jsonl" and di.lines_in_sql(con, path, _ALL, _CLASSIFY):
        _settle_lines(con, report)
    elif rio.file_format(path) == "parquet" and _parquet_in_sql(con, path):
        if on_reject is not None and \
                con.execute(f"SELECT count(*) FROM {_ALL} WHERE kind = 2").fetchone()[0]:
            # the rows without a contact: their reasons and raw text are the Python reader's
            from .. import readers

            for reject in readers.read_contacts(path)[1]:
                on_reject(reject)
    else:
        _from_python(con, path, report)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TABLE} AS SELECT contact, profile FROM {_ALL} "
                "WHERE kind = 1 QUALIFY row_number() OVER (PARTITION BY contact "
                "ORDER BY line DESC) = 1")
    con.execute(f"DROP TABLE {_ALL}")


def _settle_lines(con, on_reject: Callable[[Reject], None]) -> None:
    """The lines SQL did not accept, as `runtime.io.read_contacts` reads them: a blank line
    skipped, a line whose record or profile is wrong rejected (reported), the others added."""
    found = []
    for line, raw in con.execute(f"SELECT line, raw FROM {_ALL} WHERE kind = 2 "
                                 "ORDER BY line").fetchall():
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            contact, profile = profile_from_record(decode_json(text))
        except RecordError as exc:
            on_reject(Reject(line, str(exc), text))
            continue
        found.append((line, contact, profile))
    _insert(con, found)


def _insert(con, found: list[tuple[int, str, dict]]) -> None:
    if not found:
        return
    import json

    import pyarrow as pa


    lines, contacts, profiles = zip(*found)
    texts = [json.dumps(profile, ensure_ascii=False) for profile in profiles]
    table = pa.table({"line": pa.array(lines, pa.int64()), "contact": text_array(list(contacts)),
                      "profile": text_array(texts)})
    con.register("sl_more_contacts", table)
    try:
        con.execute(f"INSERT INTO {_ALL} (line, kind, contact, profile, raw) "
                    "SELECT line, 1, contact, profile, NULL FROM sl_more_contacts")
    finally:
        con.unregister("sl_more_contacts")


def _parquet_in_sql(con, path: str) -> bool:
    """A Parquet contacts file whose `contact` is text and whose other columns hold no NaN and
    no whole-number decimals (to_json writes 12.0) is read in SQL; False for the others."""
    import pyarrow as pa

    schema = pq_reader.open_file(path).schema_arrow
    pq_reader.check_schema(path, schema, [name for name in schema.names if name != "contact"])
    if "contact" not in schema.names or not pq_reader.is_text(schema.field("contact").type):
        return False
    others = [name for name in schema.names if name != "contact"]
    for name in others:
        kind = schema.field(name).type
        if di._has(pa, kind, pa.types.is_floating) or \
                di._has(pa, kind, lambda k: pa.types.is_decimal(k) and k.scale <= 0):
            return False

    def q(name: str) -> str:
        return quote_identifier(name, DIALECTS["duckdb"])

    fields = ", ".join(f"{q(name)} := {q(name)}" for name in others)
    profile = (f"json_merge_patch('{{}}', to_json(struct_pack({fields})))::VARCHAR" if others
               else "'{}'")
    con.execute("SET disabled_optimizers = 'statistics_propagation'")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_ALL} AS SELECT file_row_number + 1 AS line, "
                    "CASE WHEN contact <> '' THEN 1 ELSE 2 END AS kind, contact::VARCHAR AS "
                    f"contact, {profile} AS profile, NULL::VARCHAR AS raw "
                    "FROM read_parquet(?, file_row_number = true)", [path])
    except Exception as exc:  # noqa: BLE001 - what DuckDB cannot read, Python reports
        if not di._is_duckdb_error(exc):
            raise
        return False
    finally:
        con.execute("RESET disabled_optimizers")
    return True  # an empty or null `contact` is a reject: nothing to settle


def _from_python(con, path: str, on_reject: Callable[[Reject], None]) -> None:
    from .. import readers

    profiles, rejects = readers.read_contacts(path)
    for reject in rejects:
        on_reject(reject)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_ALL} (line BIGINT, kind INTEGER, "
                "contact VARCHAR, profile VARCHAR, raw VARCHAR)")
    _insert(con, [(index, contact, profile)
                  for index, (contact, profile) in enumerate(profiles.items(), start=1)])


def text_array(values: list[str]):
    """Text as an Arrow array built from its buffers: `pa.array` on a Python list first
    imports pandas (half a second) to look for pandas types."""
    import array

    import pyarrow as pa

    data = [value.encode("utf-8") for value in values]
    offsets = array.array("q", [0])
    total = 0
    for item in data:
        total += len(item)
        offsets.append(total)
    return pa.LargeStringArray.from_buffers(len(values), pa.py_buffer(offsets),
                                            pa.py_buffer(b"".join(data)))
