"""The Spark engine: the standard-library runtime run once per contact on a cluster.

Plan of a run (every step is a Spark job; nothing but results and rejects reaches the driver):

1. *Read* the events as numbered lines (JSON Lines, CSV) or numbered rows (Parquet). Files of a
   directory or glob are taken in sorted path order and numbered as if concatenated, so a single
   file keeps its own line numbers.
2. *Validate* every line with `runtime.io`, exactly as the Python reader does, inside a
   `mapPartitions`: a line becomes an accepted event or a `Reject(line, reason, raw)`.
3. The rejects are collected (they are few) and reported in line order; the default as-of time
   is the latest accepted event time over the whole input (docs/language.md 9.10).
4. Events and profiles are unioned, hashed by contact into partitions, and `runtime.Engine`
   runs once per partition over its contacts' events (input order), as of that same time.
   Contacts are independent in the language, so per-partition runs equal one run over
   everything, for every construct (caps, absence, decay, stages, triggers, `reset`). The
   alternative `grouping="pandas"` is `groupBy(contact).applyInPandas`, one runtime call per
   contact: the same results, but Spark's per-group cost (~10 ms on a laptop) dominates.

Executors import only `runtime` (standard library), this module and `compiler.run.readers`, plus
the pandas/pyarrow that `applyInPandas` needs; the driver also needs lark to compile a model. See
docs/spark.md for spark-submit on a cluster.
"""
from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import sys
import tempfile
import zipfile
from itertools import groupby
from operator import itemgetter
from typing import Callable, Iterable, Iterator

from runtime import io as rio
from runtime.events import MAX_MICROS, MIN_MICROS, Event, Reject

DEFAULT_MASTER = "local[2]"
MASTER_ENV = "SCORELANG_SPARK_MASTER"
_KIND_PROFILE, _KIND_EVENT, _KIND_REJECT = 0, 1, 2
_SKIP = ("blank",)  # _decode's record for a blank line: no JSON value equals a tuple
_ROW_SCHEMA = ("kind int, contact string, line long, at long, event string, target string, "
               "id string, data string, reason string, raw string")
_RESULT_SCHEMA = "contact string, result string"
_MICROS = "__epoch_us"  # a timestamp cell, as the struct {_MICROS: microseconds}
_PARQUET_RESULT_SCHEMA = ("contact string, scores map<string, bigint>, grades map<string, string>,"
                          " stage string, actions array<struct<at: string, action: string, "
                          "arg: string>>")


# --- the session --------------------------------------------------------------------------------

def session(master: str | None = None, app_name: str = "scorelang", conf: dict | None = None):
    """The active SparkSession, or a new one on `master` (default: $SCORELANG_SPARK_MASTER,
    else `local[2]`). Times stay in UTC; Arrow carries the pandas batches."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = (SparkSession.builder.appName(app_name)
               .config("spark.sql.session.timeZone", "UTC")
               # an arithmetic overflow fails the query instead of wrapping (the default
               # from Spark 4, set for a cluster whose default differs; issue 10 item 12)
               .config("spark.sql.ansi.enabled", "true")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.ui.showConsoleProgress", "false"))
    master = master or os.environ.get(MASTER_ENV) or (None if _submitted() else DEFAULT_MASTER)
    if master is not None:
        builder = builder.master(master)
        if master.startswith("local"):
            builder = (builder.config("spark.sql.shuffle.partitions", str(4 * _local_cores(master)))
                       .config("spark.ui.enabled", "false"))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _submitted() -> bool:
    """True under spark-submit (it starts the JVM first and hands Python its gateway), which
    sets the master itself."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def _local_cores(master: str) -> int:
    inside = master[master.find("[") + 1:master.find("]")] if "[" in master else "1"
    if inside == "*":
        return os.cpu_count() or 2
    return max(int(inside.split(",")[0]), 1)


def ship_package(spark) -> str:
    """Zip the pure-Python packages executors import (`runtime`, standard library only, and
    `compiler`, of which they load only this module and the Parquet row rules) and add the zip
    to their Python path. Not needed when the package is installed on every node."""
    import compiler
    import runtime

    target = os.path.join(tempfile.mkdtemp(prefix="scorelang-"), "scorelang.zip")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for package in (runtime, compiler):
            root = os.path.dirname(os.path.dirname(package.__file__))
            for folder, _, names in sorted(os.walk(os.path.dirname(package.__file__))):
                for name in sorted(names):
                    if name.endswith(".py"):
                        path = os.path.join(folder, name)
                        archive.write(path, os.path.relpath(path, root))
    spark.sparkContext.addPyFile(target)
    return target


# --- reading and validating ------------------------------------------------------------------

def input_files(spark, path: str) -> list[str]:
    """The data files of a path (a file, a directory or a glob, any Hadoop file system), sorted;
    names starting with `_` or `.` (such as `_SUCCESS`) are skipped."""
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    statuses = fs.globStatus(hadoop_path) or []
    files: list[str] = []
    for status in statuses:
        children = fs.listStatus(status.getPath()) if status.isDirectory() else [status]
        for child in children:
            name = child.getPath().getName()
            if child.isFile() and not name.startswith(("_", ".")):
                files.append(child.getPath().toString())
    if not files:
        raise FileNotFoundError(f"{path}: no such file or no data files in it")
    return sorted(files)


def _numbered_lines(spark, files: list[str]):
    """RDD of (1-based line number, text) over the files concatenated in the given order."""
    lines = spark.sparkContext.textFile(",".join(files))
    return lines.zipWithIndex().map(lambda pair: (pair[1] + 1, pair[0]))


def _parquet_rows(spark, files: list[str]):
    """RDD of (1-based row number, record dict) over Parquet files in the given order."""
    from pyspark.sql import functions as F

    _check_local_schema(files)
    frame = spark.read.parquet(*files)
    columns = [name for name in frame.columns]
    for name, kind in frame.dtypes:
        if kind.startswith("timestamp"):  # microseconds, so executors' zones play no part
            frame = frame.withColumn(name, F.struct(F.unix_micros(F.col(name)).alias(_MICROS)))
    frame = frame.select(*columns, F.col("_metadata.file_path").alias("__file"),
                         F.col("_metadata.row_index").alias("__row"))
    counts = dict(frame.groupBy("__file").count().collect())
    offsets, total = {}, 0
    for name in sorted(counts, key=lambda file: _file_rank(file, files)):
        offsets[name] = total
        total += counts[name]

    def number(row):
        record = row.asDict(recursive=True)
        line = offsets[record.pop("__file")] + record.pop("__row") + 1
        return line, record

    return frame.rdd.map(number)


def _check_local_schema(files: list[str]) -> None:
    """Refuse `props` of a type no JSON value holds, as `compiler.run.parquet` does, for the
    files the driver can open itself (local ones); a cluster's files are not checked here."""
    from compiler.run import parquet

    for name in files:
        local = name[len("file:"):] if name.startswith("file:") else name
        if "://" not in local and os.path.isfile(local):
            parquet.check_schema(local, parquet.open_file(local).schema_arrow, ("props",))


def _file_rank(name: str, files: list[str]) -> tuple[int, str]:
    bare = [file.split(":", 1)[-1].lstrip("/") for file in files]
    key = name.split(":", 1)[-1].lstrip("/")
    return (bare.index(key) if key in bare else len(files), name)


def _csv_header(spark, files: list[str]) -> list[str]:
    first = spark.sparkContext.textFile(files[0]).first() if files else ""
    first = first.lstrip("\ufeff")
    return [name.strip() for name in next(csv.reader([first]), [])]


def _event_rows(fmt: str, header: list[str] | None) -> Callable[[Iterable], Iterator[tuple]]:
    """A mapPartitions function: numbered lines (or rows) to event and reject rows."""

    def rows(items):
        for line, item in items:
            if fmt == "jsonl":  # the reader's own fast path, as `runtime.io` reads a line
                raw = (item.lstrip("\ufeff") if line == 1 else item).rstrip("\r\n")
                if not raw.strip():
                    continue
                event = rio.event_of_line(raw, line, line)
            else:
                record, raw = _decode(fmt, header, line, item)
                if record == _SKIP:
                    continue
                if isinstance(record, rio.RecordError):
                    yield _reject_row(Reject(line, str(record), raw))
                    continue
                event = rio.validate_event(record, line, line, raw)
            if isinstance(event, Reject):
                yield _reject_row(event)
            else:
                props = json.dumps(event.props, ensure_ascii=False) if event.props else None
                yield (_KIND_EVENT, event.contact, line, event.at, event.event, event.target,
                       event.id, props, None, None)

    return rows


def _profile_rows(fmt: str, header: list[str] | None) -> Callable[[Iterable], Iterator[tuple]]:
    """A mapPartitions function: numbered contacts lines to profile rows (rejects dropped, as
    the Python engine drops them; the caller reports contacts rejects)."""

    def rows(items):
        for line, item in items:
            record, raw = _decode(fmt, header, line, item)
            if record == _SKIP or isinstance(record, rio.RecordError):
                continue
            if fmt == "csv":
                record = {key: value for key, value in
                          ((key, rio.csv_value(cell)) for key, cell in record.items())
                          if value is not None}
            try:
                contact, profile = rio.profile_from_record(record)
            except rio.RecordError:
                continue
            yield (_KIND_PROFILE, contact, line, None, None, None, None,
                   json.dumps(profile, ensure_ascii=False), None, None)

    return rows



def _decode(fmt: str, header: list[str] | None, line: int, item):
    """(record | _RecordError | _SKIP, raw) for one line or row, as `runtime.io` reads it."""
    if fmt == "parquet":
        from compiler.run import parquet  # noqa: PLC0415 (executor side)

        record = {key: _spark_plain(value) for key, value in item.items()
                  if value is not None or key in rio.REQUIRED_KEYS}
        raw = json.dumps({key: _micros_text(value) if isinstance(value, _Micros) else value
                          for key, value in record.items()}, default=str, ensure_ascii=False)
        if isinstance(record.get("at"), _Micros):
            micros = int(record["at"])
            if not MIN_MICROS <= micros <= MAX_MICROS:
                return rio.RecordError(parquet.out_of_range(micros)), raw
            record["at"] = parquet.iso_micros(micros)  # reads back to the same microseconds
        if isinstance(record.get("props"), dict) and _not_finite(record["props"]):
            return rio.RecordError(f"`props` holds {_not_finite(record['props'])!r}, which "
                                   "JSON cannot hold"), raw
        if isinstance(record.get("props"), str):
            try:
                record["props"] = rio.decode_json(record["props"])
            except rio.RecordError as exc:
                return rio.RecordError(f"`props` is {exc}"), raw
        return record, raw
    text = item.lstrip("\ufeff") if line == 1 else item
    if fmt == "csv":
        return _decode_csv(header or [], line, text)
    raw = text.rstrip("\r\n")
    if not raw.strip():
        return _SKIP, raw
    try:
        return rio.decode_json(raw), raw
    except rio.RecordError as exc:
        return exc, raw


class _Micros(int):
    """A timestamp cell of a Parquet row, in microseconds (see `_parquet_rows`)."""


def _micros_text(micros: int) -> str:
    from compiler.run import parquet  # noqa: PLC0415 (executor side)

    if MIN_MICROS <= micros <= MAX_MICROS:
        return parquet.iso_micros(micros)
    return f"{int(micros)} us after 1970-01-01"


def _not_finite(value):
    """The first NaN or infinity in a decoded value, else None."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) \
        else ()
    for item in items:
        found = _not_finite(item)
        if found is not None:
            return found
    return None


def _spark_plain(value):
    """A Spark row value as the JSON value `compiler.run.parquet.plain` makes of the same
    Parquet cell: maps and structs (dicts here) without their null entries, decimals as
    numbers, a timestamp as its `_Micros`."""
    import decimal

    if isinstance(value, dict) and set(value) == {_MICROS}:
        return None if value[_MICROS] is None else _Micros(value[_MICROS])
    if isinstance(value, dict):
        return {key: _spark_plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_spark_plain(item) for item in value]
    if isinstance(value, decimal.Decimal):
        return int(value) if value.as_tuple().exponent >= 0 else float(value)
    return value


def _decode_csv(header: list[str], line: int, text: str):
    if line == 1:
        return _SKIP, text
    try:
        cells = next(csv.reader([text]), [])
    except csv.Error as exc:
        return rio.RecordError(f"unreadable CSV: {exc}"), ""
    if not any(cell.strip() for cell in cells) or [cell.strip() for cell in cells] == header:
        return _SKIP, text  # a blank row, or the header of a later file of a directory
    raw = rio.csv_raw(cells)
    if len(cells) != len(header):
        return rio.RecordError(f"expected {len(header)} cells, found {len(cells)}"), raw
    try:
        return rio.event_record_from_csv(dict(zip(header, cells))), raw
    except rio.RecordError as exc:
        return exc, raw


def _reject_row(reject: Reject) -> tuple:
    return (_KIND_REJECT, None, reject.line, None, None, None, None, None, reject.reason,
            reject.raw)


def _read(spark, path: str, rows_of):
    """An RDD of `_ROW_SCHEMA` tuples from an events or contacts path."""
    files = input_files(spark, path)
    fmt = rio.file_format(files[0])
    header = _csv_header(spark, files) if fmt == "csv" else None
    numbered = _parquet_rows(spark, files) if fmt == "parquet" else _numbered_lines(spark, files)
    return numbered.mapPartitions(rows_of(fmt, header))


# --- scoring ---------------------------------------------------------------------------------

GROUPINGS = ("partitions", "pandas")


@functools.lru_cache(maxsize=4)
def _engine(table_json: str):
    from runtime import Engine

    return Engine(json.loads(table_json))


def _event_of(row) -> Event:
    """An accepted-event row back to the `Event` the Python reader made (`seq` = line)."""
    _, contact, line, at, event, target, event_id, data, _, _ = row
    return Event(contact, event, int(at), _text(target), _text(event_id),
                 json.loads(data) if _text(data) else {}, int(line), int(line))


def _score_partition(table_json: str, as_of: int | None, period: str | None = None,
                     accounts: bool = False, actions: tuple | None = None):
    """mapPartitions over (contact, row) pairs hashed by contact: every contact's rows are in
    one partition, so one `Engine.run` over the partition scores its contacts completely.
    With `period`, `Engine.timeline` instead: ((contact, period), row as JSON text).
    With `accounts`, it yields `(RESULT, contact, text)` and, after the partition's results,
    `(ACCOUNT, account, aggregates as JSON)` for each account the partition's contacts
    belong to (`runtime.accounts.Rollup.partial`), which merge across partitions.
    With `actions` (`(since,)`), it yields `(RESULT, contact, text)` and, per contact with
    actions fired after `since`, `(ACTION, contact, its ActionLog records as JSON)`."""

    def score(items):
        events: list[Event] = []
        profiles: dict[str, tuple[int, dict]] = {}
        for contact, row in items:
            if row[0] == _KIND_PROFILE:
                if contact not in profiles or profiles[contact][0] < row[2]:
                    profiles[contact] = (row[2], json.loads(row[7]))  # the last line wins
            else:
                events.append(_event_of(row))
        known = {contact: profile for contact, (_, profile) in profiles.items()}
        engine = _engine(table_json)
        if period is not None:
            for row in engine.timeline(events, known, as_of=as_of, period=period):
                yield (row["contact"], row["period"]), json.dumps(row, ensure_ascii=False)
            return
        if not accounts and actions is None:
            for result in engine.run(events, known, as_of=as_of):
                yield result["contact"], json.dumps(rio.result_json(result), ensure_ascii=False)
            return
        from runtime import ActionLog
        from runtime.accounts import Rollup

        rollup = Rollup(engine.table.accounts) if accounts else None
        log = ActionLog(engine, actions[0]) if actions is not None else None
        results, _ = engine.run_with_accounts(events, known, as_of=as_of, rollup=rollup,
                                              actions=log)
        for result in results:
            yield _RESULT, result["contact"], json.dumps(rio.result_json(result),
                                                          ensure_ascii=False)
        if rollup is not None:
            for account, row in rollup.partial().items():
                yield _ACCOUNT, account, json.dumps(row)
        if log is not None:
            for contact, records in groupby(log.records(), key=itemgetter("contact")):
                yield _ACTION, contact, json.dumps(list(records), ensure_ascii=False)

    return score


_RESULT, _ACCOUNT, _ACTION = 0, 1, 2


def _combine_rows(table_json: str):
    """reduceByKey's function: two partitions' aggregates of one account, combined."""
    def combine(left: str, right: str) -> str:
        row = json.loads(left)
        _engine(table_json).table.accounts.combine(row, json.loads(right))
        return json.dumps(row)

    return combine


def _score_group(table_json: str, as_of: int | None):
    """The function given to applyInPandas: one contact's rows -> its one result row."""

    def score(frame):
        import pandas as pd

        contact = frame["contact"].iloc[0]
        profile: dict = {}
        events: list[Event] = []
        for row in frame.sort_values("line").itertuples(index=False, name=None):
            if row[0] == _KIND_PROFILE:
                profile = json.loads(row[7])  # sorted by line: the last one wins
            else:
                events.append(_event_of(row))
        results = _engine(table_json).run(events, {contact: profile}, as_of=as_of)
        lines = [json.dumps(rio.result_json(result), ensure_ascii=False) for result in results]
        return pd.DataFrame({"contact": [contact] * len(lines), "result": lines})

    return score


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _unreadable_is_an_error(path: str, job):
    """Run the first job over the input; a file Spark cannot read (a corrupt Parquet page) is
    an `EngineError` naming it, not a Java stack trace."""
    try:
        return job()
    except Exception as exc:
        if type(exc).__name__ not in ("Py4JJavaError", "SparkException") \
                and not type(exc).__module__.startswith("pyspark"):
            raise
        from . import EngineError

        message = str(exc).strip().splitlines()
        reason = next((line for line in message if "Exception:" in line or "Error" in line),
                      message[0] if message else type(exc).__name__)
        raise EngineError(f"{path}: Spark cannot read it: {reason.strip()[:300]}") from None


def scored(table: dict, events: str, contacts: str | None, as_of: int | None,
           on_reject: Callable[[Reject], None], *, spark=None, grouping: str = "partitions",
           period: str | None = None, accounts: bool = False, actions: tuple | None = None):
    """An RDD of (contact, section-7 result as JSON text); rejects go to `on_reject` first.
    With `period` (partitions only): ((contact, period), timeline row as JSON text).
    With `accounts` or `actions` (partitions only), the tagged records of `_score_partition`.

    `grouping="partitions"` (default) hashes rows by contact and runs the runtime once per
    partition; `grouping="pandas"` is `groupBy(contact).applyInPandas`, one call per contact
    (Spark's per-group overhead makes it several times slower; see docs/spark.md)."""
    from pyspark import StorageLevel

    if grouping not in GROUPINGS:
        raise ValueError(f"unknown grouping `{grouping}` (choose from {', '.join(GROUPINGS)})")
    if (accounts or actions is not None) and grouping != "partitions":
        raise ValueError("accounts and actions are collected per partition: use "
                         "grouping=\"partitions\"")
    spark = spark or session()
    rows = _unreadable_is_an_error(events, lambda: _read(spark, events, _event_rows)).persist(
        StorageLevel.MEMORY_AND_DISK)
    try:
        found = _unreadable_is_an_error(events, lambda: rows.filter(
            lambda row: row[0] == _KIND_REJECT).map(lambda row: (row[2], row[8], row[9])
                                                    ).collect())
        for line, reason, raw in sorted(found):
            on_reject(Reject(line, reason, raw))
        accepted = rows.filter(lambda row: row[0] == _KIND_EVENT)
        if as_of is None:
            times = accepted.map(lambda row: row[3])
            as_of = times.max() if not times.isEmpty() else None
        if contacts:
            accepted = accepted.union(_read(spark, contacts, _profile_rows))
        table_json = json.dumps(table, sort_keys=True)
        if grouping == "pandas" and period is None:
            frame = spark.createDataFrame(accepted, _ROW_SCHEMA)
            result = frame.groupBy("contact").applyInPandas(
                _score_group(table_json, as_of), _RESULT_SCHEMA).rdd.map(tuple)
        else:
            partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
            result = accepted.map(lambda row: (row[1], row)).partitionBy(partitions).mapPartitions(
                _score_partition(table_json, as_of, period, accounts, actions),
                preservesPartitioning=True)
        return result.persist(StorageLevel.MEMORY_AND_DISK), rows
    except BaseException:
        rows.unpersist()
        raise


def run(table: dict, events: str, contacts: str | None, as_of: int | None,
        on_reject: Callable[[Reject], None], *, spark=None, grouping: str = "partitions"
        ) -> list[dict]:
    """Score on Spark; the section-7 results sorted by contact, identical to the Python engine."""
    result, rows = scored(table, events, contacts, as_of, on_reject, spark=spark,
                          grouping=grouping)
    try:
        collected = result.collect()
    finally:
        result.unpersist()
        rows.unpersist()
    return [json.loads(text) for _, text in sorted(collected)]


def timeline(table: dict, events: str, contacts: str | None, as_of: int | None,
             on_reject: Callable[[Reject], None], period: str, *, spark=None) -> list[dict]:
    """`score run --timeline` on Spark: the rows of `Engine.timeline`, sorted by contact and
    period, identical to the Python engine (each contact is evaluated by one runtime, as of the
    same default time)."""
    from runtime.timeline import check_period

    check_period(period)
    result, rows = scored(table, events, contacts, as_of, on_reject, spark=spark, period=period)
    try:
        collected = result.collect()
    finally:
        result.unpersist()
        rows.unpersist()
    return [json.loads(text) for _, text in sorted(collected)]


def run_with_accounts(table: dict, events: str, contacts: str | None, as_of: int | None,
                      on_reject: Callable[[Reject], None], *, spark=None
                      ) -> tuple[list[dict], list[dict]]:
    """`run`, and the accounts (docs/language.md 10.6): each partition rolls its contacts up
    into per-account aggregates, which are combined on the cluster (reduceByKey); only the
    results and one row per account reach the driver."""
    from runtime.accounts import Rollup, compile_accounts

    spec = compile_accounts(table.get("accounts"))
    if spec is None:
        return run(table, events, contacts, as_of, on_reject, spark=spark), []
    result, rows = scored(table, events, contacts, as_of, on_reject, spark=spark,
                          accounts=True)
    try:
        collected = result.filter(lambda item: item[0] == _RESULT).map(
            lambda item: (item[1], item[2])).collect()
        combined = result.filter(lambda item: item[0] == _ACCOUNT).map(
            lambda item: (item[1], item[2])).reduceByKey(
            _combine_rows(json.dumps(table, sort_keys=True))).collect()
    finally:
        result.unpersist()
        rows.unpersist()
    rollup = Rollup(spec)
    rollup.merge({account: json.loads(row) for account, row in combined})
    return [json.loads(text) for _, text in sorted(collected)], rollup.results()


def run_with_actions(table: dict, events: str, contacts: str | None, as_of: int | None,
                     on_reject: Callable[[Reject], None], since: int | None = None,
                     accounts: bool = False, *, spark=None
                     ) -> tuple[list[dict], list[dict], list[dict]]:
    """`run` (and the accounts when `accounts`), and the actions fired after `since`: each
    partition's runtime logs its contacts' actions (`runtime.ActionLog`, as the Python
    engine), which reach the driver with the results."""
    from runtime.accounts import Rollup, compile_accounts

    spec = compile_accounts(table.get("accounts")) if accounts else None
    result, rows = scored(table, events, contacts, as_of, on_reject, spark=spark,
                          accounts=spec is not None, actions=(since,))
    try:
        collected = result.filter(lambda item: item[0] == _RESULT).map(
            lambda item: (item[1], item[2])).collect()
        fired = result.filter(lambda item: item[0] == _ACTION).map(
            lambda item: (item[1], item[2])).collect()
        combined = result.filter(lambda item: item[0] == _ACCOUNT).map(
            lambda item: (item[1], item[2])).reduceByKey(
            _combine_rows(json.dumps(table, sort_keys=True))).collect() if spec else []
    finally:
        result.unpersist()
        rows.unpersist()
    lines = []
    if spec is not None:
        rollup = Rollup(spec)
        rollup.merge({account: json.loads(row) for account, row in combined})
        lines = rollup.results()
    records = [record for _, text in sorted(fired) for record in json.loads(text)]
    return [json.loads(text) for _, text in sorted(collected)], lines, records


def write(table: dict, events: str, contacts: str | None, as_of: int | None, out: str, *,
          fmt: str = "parquet", rejects: str | None = None, spark=None,
          grouping: str = "partitions") -> int:
    """Score on Spark and write the results to the directory `out` (Parquet or JSON Lines part
    files, sorted by contact across the parts); rejects, when `rejects` is given, go there as
    JSON Lines. Returns the number of rejected lines."""
    from pyspark.sql import functions as F

    if fmt not in ("parquet", "jsonl"):
        raise ValueError(f"unknown output format `{fmt}` (parquet or jsonl)")
    spark = spark or session()
    found: list[Reject] = []
    result, rows = scored(table, events, contacts, as_of, found.append, spark=spark,
                          grouping=grouping)
    try:
        ordered = spark.createDataFrame(result, _RESULT_SCHEMA).orderBy("contact")
        if fmt == "jsonl":
            ordered.select("result").write.mode("overwrite").text(out)
        else:
            parsed = F.from_json("result", _PARQUET_RESULT_SCHEMA)
            ordered.select(parsed.alias("r")).select("r.*").write.mode("overwrite").parquet(out)
    finally:
        result.unpersist()
        rows.unpersist()
    if rejects is not None:
        with open(rejects, "w", encoding="utf-8") as stream:
            rio.write_rejects_jsonl(found, stream, file=events)
    return len(found)


# --- spark-submit ----------------------------------------------------------------------------

def _table(args) -> dict:
    if args.table:
        with open(args.table, encoding="utf-8") as stream:
            return json.load(stream)
    from compiler.pipeline import compile as compile_model

    result = compile_model(args.model)
    if result.table is None:
        for diagnostic in result.diagnostics:
            print(diagnostic, file=sys.stderr)
        raise SystemExit(1)
    return result.table


def main(argv: list[str] | None = None) -> int:
    """`spark-submit compiler/run/engines/spark.py --model M.score --events PATH --out DIR`."""
    parser = argparse.ArgumentParser(prog="scorelang-spark", description=main.__doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="the .score file (compiled on the driver)")
    source.add_argument("--table", help="a compiled rule table (JSON)")
    parser.add_argument("--events", required=True, help="file, directory or glob; any Hadoop FS")
    parser.add_argument("--contacts")
    parser.add_argument("--as-of", help="ISO-8601 time or epoch seconds")
    parser.add_argument("--out", help="output directory; without it JSON Lines go to stdout")
    parser.add_argument("--format", choices=("parquet", "jsonl"), default="parquet")
    parser.add_argument("--rejects", help="local file for rejected lines (JSON Lines)")
    parser.add_argument("--master", help=f"Spark master (default {DEFAULT_MASTER}, or the "
                                         "one spark-submit was given)")
    parser.add_argument("--grouping", choices=GROUPINGS, default="partitions",
                        help="one runtime call per hash partition (default) or per contact "
                             "(groupBy(contact).applyInPandas)")
    parser.add_argument("--ship-package", action="store_true",
                        help="zip `runtime` and `compiler` and add them to the executors' path")
    args = parser.parse_args(argv)
    table = _table(args)
    as_of = rio.parse_as_of(args.as_of) if args.as_of else None
    spark = session(args.master)
    if args.ship_package:
        ship_package(spark)
    if args.out:
        count = write(table, args.events, args.contacts, as_of, args.out, fmt=args.format,
                      rejects=args.rejects, spark=spark, grouping=args.grouping)
        print(f"{args.out}: written; {count} rejected lines", file=sys.stderr)
        return 0

    def report(reject: Reject) -> None:
        print(rio.format_reject(reject, args.events), file=sys.stderr)

    results = run(table, args.events, args.contacts, as_of, report, spark=spark,
                  grouping=args.grouping)
    rio.write_results_jsonl(results, sys.stdout)
    return 0


def _main_of_the_module() -> int:
    """Run as a script (`spark-submit .../spark.py`, `python -m compiler.run.engines.spark`),
    this file is `__main__`, and the functions Spark sends to the executors would be pickled
    as `__main__._engine`, which an executor cannot find. Run `main` of the importable module
    instead, so that they are pickled as `compiler.run.engines.spark._engine`."""
    here = os.path.dirname(os.path.abspath(__file__))
    # as a script, this folder is sys.path[0]: `import duckdb` would find our duckdb.py
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    from compiler.run.engines import spark as module

    return module.main()


if __name__ == "__main__":
    sys.exit(_main_of_the_module())
