"""SQL dialects as small configuration classes over one generator (the sqlglot way).

The generator (`compiler.sql.generate`) writes one query shape for every dialect; a dialect
only says how to spell the few things SQL engines disagree on: string and identifier
quoting, JSON property access with type checks, epoch microseconds to local calendar
periods, truncating integer division, and how the result's JSON columns are built.

`duckdb`, `spark` and `postgres` are executed by this repository's tests (PostgreSQL on a
throwaway server: `tests/test_sql_postgres.py`); the other dialects are checked by parsing
the generated query with sqlglot (`tests/test_sql_generate.py`). See `docs/sql.md`.
"""
from __future__ import annotations

import re

from .quoting import QuotingRules, quote_identifier, quote_string


class Dialect(QuotingRules):
    sqlglot = None  # the sqlglot dialect name used to check the generated SQL
    like_escape = "!"  # the LIKE escape character (a dialect without ESCAPE uses `\`)
    like_has_escape_clause = True
    bigint = "BIGINT"
    double = "DOUBLE"
    wide = "DECIMAL(38, 0)"  # sums of points taken from event properties (up to 2^63 each)
    union_distinct = "UNION"
    materialized_keyword: str | None = None  # `name AS MATERIALIZED (...)`
    # the plan shapes measured and run here on DuckDB and PostgreSQL (sparse points, the
    # duplicate-id window over the rows with an id, events of scored contacts only); the
    # others keep the earlier shapes (one of these tripped Spark 4's planner: "Can't zip
    # RDDs with unequal numbers of partitions")
    tuned_plans = False
    # the change rows of decaying awards read T as a scalar subquery `(SELECT as_of FROM
    # tnow)` instead of `CROSS JOIN tnow` before their inner join (Spark: that mix of cross
    # and inner join trips ReorderJoin.createOrderedJoin's assertion)
    as_of_subquery = False
    # IANA zone names that the dialect reads as something else (a fixed-offset abbreviation):
    # calendar caps in such a zone are refused (support.py)
    zone_abbreviations: frozenset[str] = frozenset()

    # -- literals ----------------------------------------------------------------------------
    def string(self, value: str) -> str:
        return quote_string(value, self)

    def like(self, expr: str, pattern: str) -> str:
        escape = self.string(self.like_escape)
        return f"{expr} LIKE {self.string(pattern)} ESCAPE {escape}"

    def integer(self, value: int) -> str:
        return f"CAST({int(value)} AS {self.bigint})"

    def values_table(self, rows: list[tuple[int, ...]], columns: tuple[str, ...]) -> str:
        """A SELECT of constant integer rows (the decay multipliers)."""
        body = ",\n       ".join("(" + ", ".join(self.integer(v) for v in row) + ")"
                                 for row in rows)
        return f"SELECT * FROM (VALUES {body}) AS t({', '.join(columns)})"

    def constant_table(self, columns: tuple[str, ...], rows: list[tuple]) -> str:
        """A SELECT of constant rows of text and integer values (a column's kind is its first
        row's; no NULLs): a model's long lists (rule keys, targets) as data rather than as
        SQL expressions, whose planning grows faster than their length (issue 10 item 13).
        Every text goes through `string`, every integer through `integer` (a BIGINT)."""
        kinds = [isinstance(v, str) for v in rows[0]]
        body = ",\n       ".join(
            "(" + ", ".join(self.string(v) if text else str(int(v))
                            for v, text in zip(row, kinds)) + ")" for row in rows)
        names = [f"c{i}" for i in range(len(columns))]
        outer = [f"{n} AS {c}" if text else f"CAST({n} AS {self.bigint}) AS {c}"
                 for n, c, text in zip(names, columns, kinds)]
        return f"SELECT {', '.join(outer)} FROM (VALUES {body}) AS t({', '.join(names)})"

    def in_list(self, expr: str, literals: list[str]) -> str:
        """`expr` equals one of the SQL `literals` (NULL when `expr` is NULL): one IN list,
        not a chain of ORs (whose planning is quadratic in DuckDB)."""
        if len(literals) == 1:
            return f"{expr} = {literals[0]}"
        return f"{expr} IN ({', '.join(literals)})"

    def text_in(self, expr: str, values: list[str]) -> str:
        """`in_list` of texts (each quoted by `string`)."""
        return self.in_list(expr, [self.string(v) for v in values])

    def json_equal_each(self, column: str, kind: str, pairs: list[tuple[str, str]],
                        every: bool) -> str | None:
        """Whether any (`every`: each) key of the JSON `column` holds its value, a `kind`
        (number, text, bool) value given as text (`repr` of a double, the text, `true` or
        `false`): the `=` leaves of one `and`/`or` read as one test over two lists, never
        NULL. None where the dialect has no such test (each leaf is then written out)."""
        return None

    def json_equal_groups(self, column: str, groups: list[list[tuple[str, str, str]]],
                          every: bool) -> str | None:
        """Whether some group (`every`: each group) of (key, kind, value as text) leaves on
        the JSON `column` has each (`every`: some) key holding its value: the `and`s of `=`
        leaves under one `or` (the `or`s under one `and`) as one test over a few lists, never
        NULL. None where the dialect has no such test (each leaf is then written out)."""
        return None

    def first_rows(self, source: str) -> str:
        """A SELECT of (contact, ts, seq): per contact of `source` (columns contact, ts, seq),
        its least (ts, seq)."""
        least = (f"SELECT contact, MIN(ts) AS ts FROM {source} GROUP BY contact")
        return (f"SELECT e.contact AS contact, e.ts AS ts, MIN(e.seq) AS seq FROM {source} AS e "
                f"JOIN ({least}) AS f ON f.contact = e.contact AND f.ts = e.ts "
                "GROUP BY e.contact, e.ts")

    # -- arithmetic --------------------------------------------------------------------------
    def int_div(self, left: str, right: str) -> str:
        """Integer division truncating toward zero (both operands BIGINT)."""
        return f"({left}) / ({right})"

    def wide_div(self, left: str, right: str) -> str:
        """`int_div` of a `wide` numerator (the result fits BIGINT)."""
        return self.int_div(left, right)

    def _integral_double(self, value: str) -> str:
        """`value` (a DOUBLE) as a BIGINT when it is an integer within -2^63 .. 2^63-1, else
        NULL (infinity too). A double at or above 2^63 is out of range; below, every double
        of that size is an integer that BIGINT holds."""
        low = f"CAST('-9223372036854775808' AS {self.double})"
        high = f"CAST('9223372036854775808' AS {self.double})"
        # the range first: FLOOR may return BIGINT (Spark), which a huge double overflows
        return (f"CASE WHEN {value} >= {low} AND {value} < {high} THEN CASE WHEN {value} = "
                f"FLOOR({value}) THEN CAST({value} AS {self.bigint}) END END")

    def series(self, source: str, upper: str, name: str) -> str:
        """A FROM item: every row of the SELECT `source` once per integer `name` in
        0 .. its column `upper` (>= 0)."""
        raise NotImplementedError

    # -- JSON: typed access to one key of an object column; NULL unless of that type --------
    def json_number(self, column: str, key: str) -> str:
        raise NotImplementedError

    def json_text(self, column: str, key: str) -> str:
        raise NotImplementedError

    def json_bool(self, column: str, key: str) -> str:
        raise NotImplementedError

    def json_integer(self, column: str, key: str) -> str:
        """The key's value as a BIGINT when it is a JSON number with an integer value within
        -2^63 .. 2^63-1 (`20`, `20.0`, `2e1`), else NULL (language 10.5, 10.8.9). As the
        Python runtime reads JSON, a number written with a fraction or an exponent is read
        as a double, an integer written as one exactly."""
        raise NotImplementedError

    # -- time --------------------------------------------------------------------------------
    def local_time(self, micros: str, zone: str) -> str:
        raise NotImplementedError

    def period(self, micros: str, zone: str, per: str) -> str:
        """A value identifying the calendar day / week (from Monday) / month of `micros`."""
        local = self.local_time(micros, zone)
        return f"DATE_TRUNC({self.string(per)}, {local})"

    def format_utc(self, micros: str) -> str:
        """`2026-03-03T00:00:00Z`: UTC, truncated to the second."""
        raise NotImplementedError

    # -- results -----------------------------------------------------------------------------
    def sort_key(self, expr: str) -> str:
        """`expr` as an ORDER BY key that sorts strings by code point, as Python's sorted()
        does (for UTF-8, the same as byte order). DuckDB and Spark compare bytes unless told
        otherwise; Snowflake (Unicode codes) and BigQuery (case-sensitive, `Z` before `a`)
        compare binary by default too: only a column declared with a collation orders
        otherwise there."""
        return expr

    def json_object(self, pairs: list[tuple[str, str]]) -> str:
        """A JSON object text from (key, SQL expression) pairs; NULL values are kept."""
        raise NotImplementedError

    def json_object_present(self, pairs: list[tuple[str, str]]) -> str:
        """A JSON object text holding only the pairs whose value is not NULL."""
        raise NotImplementedError

    def json_array_agg(self, fields: list[tuple[str, str]], order_by: list[str],
                       where: str) -> str:
        """An aggregate: the JSON array of objects built from `fields`, rows ordered by
        `order_by`, only the rows satisfying `where` ('[]' when none)."""
        raise NotImplementedError


IN_LIST_MAX = 64  # DuckDB: a longer list of texts is one text cut by `string_split`
SEPARATORS = "\x1f\x1e\x1d\x1c\x01\x02\x03\x04\x05\x06\x07\x08"  # unit separator first


class DuckDB(Dialect):
    name = "duckdb"
    sqlglot = "duckdb"
    materialized_keyword = "MATERIALIZED"
    tuned_plans = True
    wide = "HUGEINT"

    def int_div(self, left: str, right: str) -> str:
        return f"(({left}) // ({right}))"  # DuckDB `//` truncates toward zero

    # DuckDB plans every element of a VALUES list or of a list literal (~30 us each, and more
    # per element as the list grows: 4.7 s for 100,000); a list written as one text that
    # `string_split` cuts at a separator no value holds is one constant to plan (0.2 s)
    # (benchmarks/bench_sql_scale.py). Without such a separator, a list literal.
    def _split_list(self, texts: list[str]) -> str:
        held = set().union(*map(set, texts)) if texts else set()
        free = next((c for c in SEPARATORS if c not in held), None)
        if free is None:
            return "[" + ", ".join(map(self.string, texts)) + "]"
        return f"string_split({self.string(free.join(texts))}, {self.string(free)})"

    def text_list(self, texts: list[str]) -> str:
        """A constant LIST of VARCHAR, planned as one constant however long."""
        return self._split_list(texts)

    def integer_list(self, values: list[int]) -> str:
        """A constant LIST of BIGINT, planned as one constant however long."""
        return f"CAST({self._split_list([str(int(v)) for v in values])} AS {self.bigint}[])"

    def constant_table(self, columns, rows):
        outer = []
        for i, column in enumerate(columns):
            if isinstance(rows[0][i], str):
                outer.append(f"unnest({self._split_list([row[i] for row in rows])}) AS {column}")
            else:
                items = self._split_list([str(int(row[i])) for row in rows])
                outer.append(f"CAST(unnest({items}) AS {self.bigint}) AS {column}")
        return f"SELECT {', '.join(outer)}"

    def text_in(self, expr, values):
        if len(values) <= IN_LIST_MAX:
            return super().text_in(expr, values)
        return f"list_contains({self._split_list(values)}, {expr})"

    def _path(self, key: str) -> str:
        return self.string(self._path_text(key))

    @staticmethod
    def _path_text(key: str) -> str:
        escaped = key.replace("\\", "\\\\").replace('"', '\\"')
        return f'$."{escaped}"'

    # DuckDB binds and optimizes each expression node of a condition (~25 per leaf: 0.6 ms,
    # 7 s for 10,000 leaves); `json_type` and `json_extract_string` take a list of paths, so
    # the keys, the values and the test are three constants however many the leaves
    # (benchmarks/bench_sql_scale.py, shape `condition`). CASE evaluates its THEN only where
    # the type matched: a text is never cast to a number.
    _typed_element = {
        "number": ("e[1] IN ('BIGINT', 'UBIGINT', 'DOUBLE')", "CAST(e[2] AS DOUBLE)", "DOUBLE"),
        "text": ("e[1] = 'VARCHAR'", "e[2]", None),
        "bool": ("e[1] = 'BOOLEAN'", "CAST(e[2] AS BOOLEAN)", "BOOLEAN"),
    }

    def json_equal_each(self, column, kind, pairs, every):
        test, value, cast = self._typed_element[kind]
        paths = self._split_list([self._path_text(key) for key, _ in pairs])
        values = self._split_list([text for _, text in pairs])
        if cast:
            values = f"CAST({values} AS {cast}[])"
        each = "list_bool_and" if every else "list_bool_or"
        return (f"COALESCE({each}(list_transform(list_zip(json_type({column}, {paths}), "
                f"json_extract_string({column}, {paths}), {values}), "
                f"lambda e: COALESCE(CASE WHEN {test} THEN {value} END = e[3], FALSE))), FALSE)")

    # DuckDB hashes an expression as the XOR of its nodes' hashes, so a leaf (its path read
    # twice) hashes as its value alone, and `x0 = 0 and y0 = 0`, `x1 = 1 and y1 = 1`, ... all
    # hash alike: its common-subexpression pass then compares every such `and` with every
    # other (9.2 s for 500 pairs; benchmarks/bench_sql_scale.py, shape `pairs`). One test over
    # the leaves of all the groups, as lists: each leaf's type, text, value, kind and group;
    # the groups holding a false leaf (for `every`, a true leaf) are counted.
    _json_kind = {"number": "NUMBER", "text": "VARCHAR", "bool": "BOOLEAN"}

    def json_equal_groups(self, column, groups, every):
        leaves = [(str(g), key, self._json_kind[kind], text)
                  for g, group in enumerate(groups) for key, kind, text in group]
        paths = self._split_list([self._path_text(key) for _, key, _, _ in leaves])
        lists = ", ".join(self._split_list([leaf[i] for leaf in leaves]) for i in (3, 2, 0))
        # e: (JSON type, text, value, kind, group); CASE casts only a number's texts
        leaf = ("COALESCE(CASE WHEN e[4] = 'NUMBER' THEN CASE WHEN e[1] IN ('BIGINT', "
                "'UBIGINT', 'DOUBLE') THEN CAST(e[2] AS DOUBLE) END = CAST(e[3] AS DOUBLE) "
                "ELSE e[1] = e[4] AND e[2] = e[3] END, FALSE)")
        keep, compare = (leaf, "=") if every else (f"NOT {leaf}", "<")
        return (f"COALESCE(len(list_distinct(list_transform(list_filter(list_zip("
                f"json_type({column}, {paths}), json_extract_string({column}, {paths}), "
                f"{lists}), lambda e: {keep}), lambda e: e[5]))) {compare} {len(groups)}, "
                f"FALSE)")

    # A leaf that read its path twice (`json_type(c, P)`, `json_extract_string(c, P)`) hashed
    # as its operator and constant alone (DuckDB's expression hash is the XOR of its nodes',
    # see above): `x0 > 5 or x1 > 5 or ...` then all hashed alike and the common-subexpression
    # pass compared every leaf with every other (1.26 s for 800 leaves, quadratic;
    # benchmarks/bench_sql_scale.py, shape `cmp`). The text is read through the same key's
    # JSON pointer (RFC 6901: `/key`, `~` as `~0`, `/` as `~1`), an equal path written
    # otherwise, so the two paths no longer cancel and leaves on distinct keys hash apart.
    # The type is read first: the pointer is only followed where `$."key"` found a value.
    def _reads(self, column: str, key: str) -> tuple[str, str]:
        """(the JSON type, the text) of the key's value in `column`."""
        return (f"json_type({column}, {self._path(key)})",
                f"json_extract_string({column}, {self.string(self._pointer_text(key))})")

    @staticmethod
    def _pointer_text(key: str) -> str:
        return "/" + key.replace("~", "~0").replace("/", "~1")

    def json_number(self, column: str, key: str) -> str:
        kind, text = self._reads(column, key)
        return (f"CASE WHEN {kind} IN ('BIGINT', 'UBIGINT', 'DOUBLE') "
                f"THEN CAST({text} AS DOUBLE) END")

    def json_text(self, column: str, key: str) -> str:
        kind, text = self._reads(column, key)
        return f"CASE WHEN {kind} = 'VARCHAR' THEN {text} END"

    def json_bool(self, column: str, key: str) -> str:
        kind, text = self._reads(column, key)
        return f"CASE WHEN {kind} = 'BOOLEAN' THEN CAST({text} AS BOOLEAN) END"

    def json_integer(self, column, key):
        path = self._path(key)
        text = f"json_extract_string({column}, {path})"
        number = f"CAST({text} AS DOUBLE)"
        # DuckDB keeps an integer too long for 64 bits as its text (type DOUBLE): exact then
        return (f"CASE WHEN json_type({column}, {path}) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN "
                f"CASE WHEN regexp_full_match({text}, '-?[0-9]+') THEN TRY_CAST({text} AS BIGINT) "
                f"ELSE {self._integral_double(number)} END END")

    def series(self, source, upper, name):
        return (f"(SELECT s.*, unnest(generate_series(CAST(0 AS BIGINT), s.{upper})) AS {name} "
                f"FROM ({source}) AS s)")

    def local_time(self, micros: str, zone: str) -> str:
        return f"timezone({self.string(zone)}, make_timestamptz({micros}))"

    def period(self, micros: str, zone: str, per: str) -> str:
        if zone == "UTC" and per in ("day", "week"):
            # the day (or Monday week: 1970-01-01 was a Thursday) number, floored: integer
            # arithmetic, not a timestamp built and truncated per row
            day = 86_400_000_000
            shifted, size = (micros, day) if per == "day" else (f"{micros} + {3 * day}", 7 * day)
            return f"((({shifted}) - ((({shifted}) % {size}) + {size}) % {size}) // {size})"
        if zone == "UTC":
            local = f"make_timestamp({micros})"
        else:
            local = self.local_time(micros, zone)
        return f"date_trunc({self.string(per)}, {local})"

    def format_utc(self, micros: str) -> str:
        return f"strftime(make_timestamp({micros}), '%Y-%m-%dT%H:%M:%SZ')"

    def json_object(self, pairs):
        args = ", ".join(f"{self.string(k)}, {v}" for k, v in pairs)
        return f"CAST(json_object({args}) AS VARCHAR)"

    def json_object_present(self, pairs):
        if not pairs:
            return "'{}'"
        entries = ", ".join(f"{{'k': {self.string(k)}, 'v': {v}}}" for k, v in pairs)
        return (f"CAST(CAST(map_from_entries(list_filter([{entries}], lambda e: e.v IS NOT NULL)) "
                f"AS JSON) AS VARCHAR)")

    def json_array_agg(self, fields, order_by, where):
        obj = ", ".join(f"{self.string(k)}, {v}" for k, v in fields)
        return (f"CAST(COALESCE(to_json(list(json_object({obj}) ORDER BY {', '.join(order_by)}) "
                f"FILTER (WHERE {where})), '[]') AS VARCHAR)")


class Postgres(Dialect):
    """PostgreSQL 12+: `props` and `profile` are `jsonb` (or `json`, or JSON text).
    Executed by tests/test_sql_postgres.py on a live server."""
    name = "postgres"
    sqlglot = "postgres"
    materialized_keyword = "MATERIALIZED"
    tuned_plans = True
    nul_char = None  # text cannot hold NUL
    identifier_max_bytes = 63  # NAMEDATALEN - 1: PostgreSQL silently truncates longer names
    # `AT TIME ZONE 'CET'` looks the name up in the abbreviations (timezone_abbreviations:
    # Default, Australia) before the tz database: CET, EET, MET and WET then have no DST,
    # EST (+10:00 in the Australia set), MST and HST no history
    zone_abbreviations = frozenset({"CET", "EET", "MET", "WET", "EST", "MST", "HST"})
    double = "DOUBLE PRECISION"
    wide = "NUMERIC"

    def wide_div(self, left, right):
        return f"DIV({left}, {right})"  # numeric `/` keeps the fraction; DIV truncates

    def series(self, source, upper, name):
        return (f"(SELECT s.*, generate_series(CAST(0 AS BIGINT), s.{upper}) AS {name} "
                f"FROM ({source}) AS s)")

    # `props`/`profile` may be `jsonb` (no-op cast), `json` or JSON `text`
    def json_number(self, column, key):
        k, c = self.string(key), f"CAST({column} AS jsonb)"
        return (f"CASE WHEN jsonb_typeof({c} -> {k}) = 'number' "
                f"THEN CAST({c} ->> {k} AS DOUBLE PRECISION) END")

    def json_text(self, column, key):
        k, c = self.string(key), f"CAST({column} AS jsonb)"
        return f"CASE WHEN jsonb_typeof({c} -> {k}) = 'string' THEN {c} ->> {k} END"

    def json_bool(self, column, key):
        k, c = self.string(key), f"CAST({column} AS jsonb)"
        return (f"CASE WHEN jsonb_typeof({c} -> {k}) = 'boolean' "
                f"THEN CAST({c} ->> {k} AS BOOLEAN) END")

    def json_integer(self, column, key):
        # read as `json` (not jsonb), so that a number's text is as written (jsonb keeps its
        # decimal value: `2e1` reads back as `20`): an integer text is exact; a text with a
        # fraction or an exponent is read as a DOUBLE PRECISION, as the Python runtime does.
        # The cast to a double fails outside its range, so magnitudes from 10^19 (no double
        # there is in range) and below 10^-300 (a double holds 0 or a fraction) are decided
        # on the NUMERIC: below 2^-1075 (2.4703282292062327e-324, 17 digits) it rounds to 0.
        k, c = self.string(key), f"CAST({column} AS json)"
        text = f"({c} ->> {k})"
        number = f"CAST({text} AS NUMERIC)"
        double = f"CAST({text} AS DOUBLE PRECISION)"
        return (f"CASE WHEN json_typeof({c} -> {k}) = 'number' THEN "
                f"CASE WHEN {text} ~ '^-?[0-9]+$' THEN CASE WHEN {number} BETWEEN "
                f"-9223372036854775808 AND 9223372036854775807 THEN CAST({number} AS BIGINT) END "
                f"WHEN ABS({number}) >= 10000000000000000000 THEN NULL "
                f"WHEN ABS({number}) >= 1e-300 THEN {self._integral_double(double)} "
                f"WHEN ABS({number}) < 2.4703282292062327e-324 THEN CAST(0 AS BIGINT) END END")

    @staticmethod
    def _utc(micros):
        """`micros` as a `timestamp` (without time zone) holding the UTC wall clock, exactly.
        `bigint * interval` goes through DOUBLE PRECISION, exact only within 2^53 us of 1970
        (the years 1685 to 2255): whole seconds and the remaining microseconds are added
        apart, each exact. Adding a pure time interval to a `timestamp` does not depend on
        the session's TimeZone."""
        return (f"(TIMESTAMP '1970-01-01 00:00:00' + (({micros}) / 1000000) * INTERVAL '1 second'"
                f" + (({micros}) % 1000000) * INTERVAL '1 microsecond')")

    def local_time(self, micros, zone):
        return f"(({self._utc(micros)} AT TIME ZONE 'UTC') AT TIME ZONE {self.string(zone)})"

    def period(self, micros, zone, per):
        local = self._utc(micros) if zone == "UTC" else self.local_time(micros, zone)
        return f"DATE_TRUNC({self.string(per)}, {local})"

    def format_utc(self, micros):
        return f"to_char({self._utc(micros)}, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

    def sort_key(self, expr):
        # text sorts by the database's locale (en_US: `a`, `B`, `é`, `Z`) unless told "C"
        return f'{expr} COLLATE "C"'

    def json_object(self, pairs):
        args = ", ".join(f"{self.string(k)}, {v}" for k, v in pairs)
        return f"CAST(json_build_object({args}) AS TEXT)"

    def json_object_present(self, pairs):
        args = ", ".join(f"{self.string(k)}, {v}" for k, v in pairs)
        return f"CAST(jsonb_strip_nulls(jsonb_build_object({args})) AS TEXT)"

    def json_array_agg(self, fields, order_by, where):
        obj = ", ".join(f"{self.string(k)}, {v}" for k, v in fields)
        return (f"CAST(COALESCE(json_agg(json_build_object({obj}) ORDER BY {', '.join(order_by)}) "
                f"FILTER (WHERE {where}), '[]') AS TEXT)")


class Spark(Dialect):
    """Spark SQL 4.0 (VARIANT for typed JSON access). Run with
    `spark.sql.session.timeZone=UTC`; `props`/`profile` are JSON text."""
    name = "spark"
    as_of_subquery = True

    def first_rows(self, source):
        # a struct orders field by field; the self-join of the default trips an assertion of
        # Spark's join reordering (ReorderJoin.createOrderedJoin) in the whole query
        least = (f"SELECT contact, MIN(named_struct('ts', ts, 'seq', seq)) AS m FROM {source} "
                 "GROUP BY contact")
        return f"SELECT contact, m.ts AS ts, m.seq AS seq FROM ({least}) AS f"
    sqlglot = "spark"
    identifier_quote = "`"
    backslash_escapes = True
    nul_char = "CHAR(0)"

    def int_div(self, left, right):
        # `div` truncates toward zero, like Python's int(a / b) on integers
        return f"(({left}) DIV ({right}))"

    def _variant(self, column, key):
        return f"variant_get(parse_json({column}), {self.string(self._path(key))})"

    @staticmethod
    def _path(key):
        return "$['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"

    def _typed(self, column, key, schemas, cast):
        v = f"try_variant_get(parse_json({column}), {self.string(self._path(key))})"
        kinds = " OR ".join(f"schema_of_variant({v}) LIKE {self.string(s)}" for s in schemas)
        return f"CASE WHEN {kinds} THEN CAST({v} AS {cast}) END"

    def json_number(self, column, key):
        return self._typed(column, key, ("BIGINT", "DECIMAL%", "DOUBLE"), "DOUBLE")

    def json_text(self, column, key):
        return self._typed(column, key, ("STRING",), "STRING")

    def json_bool(self, column, key):
        return self._typed(column, key, ("BOOLEAN",), "BOOLEAN")

    def json_integer(self, column, key):
        # VARIANT reads an integer as BIGINT when it fits 64 bits, else as DECIMAL(p,0) (out
        # of range then); a number with a fraction as DECIMAL(p,s) (`20.0` as DECIMAL(2,0)),
        # one with an exponent as DOUBLE. The Python runtime reads the latter two as doubles,
        # so the VARIANT cannot tell `-9223372036854775809` (out of range) from
        # `-9223372036854775809.0` (the double -2^63, in range). get_json_object can: it
        # returns an integer's text as written and a number with a fraction or an exponent as
        # Java's double (`-9.223372036854776E18`). Its path syntax has no escapes, so it is
        # used for plain ASCII names (every `by PROP` of the language; a loaded table's other
        # names keep the VARIANT reading, where a DECIMAL(p,0) is an integer)
        path = self.string(self._path(key))
        v = f"try_variant_get(parse_json({column}), {path})"
        kind = f"schema_of_variant({v})"
        number = f"({kind} = 'BIGINT' OR {kind} = 'DOUBLE' OR {kind} LIKE 'DECIMAL%')"
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            text = f"get_json_object({column}, {self.string('$.' + key)})"
            return (f"CASE WHEN {number} THEN CASE WHEN {text} RLIKE '^-?[0-9]+$' THEN "
                    f"try_cast({text} AS BIGINT) ELSE "
                    f"{self._integral_double(f'try_cast({text} AS DOUBLE)')} END END")
        low = f"try_variant_get(parse_json({column}), {path}, 'decimal(38,0)') < " \
              "-9223372036854775808"
        return (f"CASE WHEN {kind} = 'BIGINT' THEN "
                f"try_variant_get(parse_json({column}), {path}, 'bigint') "
                f"WHEN {kind} LIKE 'DECIMAL(%,0)' AND {low} THEN NULL "
                f"WHEN {number} THEN {self._integral_double(f'CAST({v} AS DOUBLE)')} END")

    def series(self, source, upper, name):
        return (f"(SELECT s.*, explode(sequence(CAST(0 AS BIGINT), s.{upper})) AS {name} "
                f"FROM ({source}) AS s)")

    def local_time(self, micros, zone):
        return f"from_utc_timestamp(timestamp_micros({micros}), {self.string(zone)})"

    def format_utc(self, micros):
        return f"date_format(timestamp_micros({micros}), \"yyyy-MM-dd'T'HH:mm:ss'Z'\")"

    def json_object(self, pairs):
        args = ", ".join(f"{self.string(k)}, {v}" for k, v in pairs)
        return f"to_json(map({args}))"

    def json_object_present(self, pairs):
        args = ", ".join(f"{self.string(k)}, {v}" for k, v in pairs)
        return f"to_json(map_filter(map({args}), (k, v) -> v IS NOT NULL))"

    def json_array_agg(self, fields, order_by, where):
        obj = ", ".join(f"{self.string(k)}, {v}" for k, v in fields)
        keys = ", ".join(f"'k{n}', {expr}" for n, expr in enumerate(order_by))
        return (f"to_json(transform(array_sort(collect_list(CASE WHEN {where} THEN "
                f"named_struct({keys}, 'o', named_struct({obj})) END)), x -> x.o))")


class Snowflake(Dialect):
    """Snowflake: `props`/`profile` are VARIANT; WEEK_START must be 0 or 1 (Monday)."""
    name = "snowflake"
    wide = "NUMBER(38, 0)"
    sqlglot = "snowflake"
    backslash_escapes = True
    nul_char = "CHR(0)"

    def int_div(self, left, right):
        return f"TRUNC(({left}) / ({right}))"

    def _get(self, column, key):
        return f"GET({column}, {self.string(key)})"

    def json_number(self, column, key):
        g = self._get(column, key)
        return (f"CASE WHEN TYPEOF({g}) IN ('INTEGER', 'DECIMAL', 'DOUBLE') "
                f"THEN CAST({g} AS DOUBLE) END")

    def json_text(self, column, key):
        g = self._get(column, key)
        return f"CASE WHEN TYPEOF({g}) = 'VARCHAR' THEN CAST({g} AS VARCHAR) END"

    def json_bool(self, column, key):
        g = self._get(column, key)
        return f"CASE WHEN TYPEOF({g}) = 'BOOLEAN' THEN CAST({g} AS BOOLEAN) END"

    def json_integer(self, column, key):
        g = self._get(column, key)
        return (f"CASE WHEN TYPEOF({g}) = 'INTEGER' THEN CASE WHEN CAST({g} AS NUMBER(38, 0)) "
                f"BETWEEN -9223372036854775808 AND 9223372036854775807 THEN "
                f"CAST({g} AS BIGINT) END WHEN TYPEOF({g}) IN ('DECIMAL', 'DOUBLE') THEN "
                f"{self._integral_double(f'CAST({g} AS DOUBLE)')} END")

    def series(self, source, upper, name):
        return (f"(SELECT s.*, CAST(g.value AS BIGINT) AS {name} FROM ({source}) AS s, "
                f"LATERAL FLATTEN(input => ARRAY_GENERATE_RANGE(0, s.{upper} + 1)) AS g)")

    def local_time(self, micros, zone):
        return f"CONVERT_TIMEZONE('UTC', {self.string(zone)}, TO_TIMESTAMP_NTZ({micros}, 6))"

    def format_utc(self, micros):
        return f"TO_CHAR(TO_TIMESTAMP_NTZ({micros}, 6), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

    def json_object(self, pairs):
        args = ", ".join(f"{self.string(k)}, {v}" for k, v in pairs)
        return f"TO_JSON(OBJECT_CONSTRUCT_KEEP_NULL({args}))"

    def json_object_present(self, pairs):
        args = ", ".join(f"{self.string(k)}, {v}" for k, v in pairs)
        return f"TO_JSON(OBJECT_CONSTRUCT({args}))"

    def json_array_agg(self, fields, order_by, where):
        obj = ", ".join(f"{self.string(k)}, {v}" for k, v in fields)
        return (f"TO_JSON(ARRAY_AGG(CASE WHEN {where} THEN OBJECT_CONSTRUCT({obj}) END) "
                f"WITHIN GROUP (ORDER BY {', '.join(order_by)}))")


class BigQuery(Dialect):
    """BigQuery Standard SQL: `props`/`profile` are JSON."""
    name = "bigquery"
    sqlglot = "bigquery"
    identifier_quote = "`"
    identifier_backslash_escapes = True
    backslash_escapes = True
    nul_char = "CODE_POINTS_TO_STRING([0])"
    like_has_escape_clause = False
    like_escape = "\\"
    bigint = "INT64"
    double = "FLOAT64"
    wide = "NUMERIC"  # 29 integer digits: a product 2^63 * 10^9 fits
    union_distinct = "UNION DISTINCT"

    def like(self, expr, pattern):
        return f"{expr} LIKE {self.string(pattern)}"

    def int_div(self, left, right):
        return f"DIV({left}, {right})"

    def values_table(self, rows, columns):
        structs = ", ".join("STRUCT(" + ", ".join(f"{self.integer(v)} AS {c}"
                                                  for v, c in zip(row, columns)) + ")"
                            for row in rows)
        return f"SELECT * FROM UNNEST([{structs}])"

    def json_number(self, column, key):
        v = f"{column}[{self.string(key)}]"
        return f"CASE WHEN JSON_TYPE({v}) = 'number' THEN FLOAT64({v}) END"

    def json_text(self, column, key):
        v = f"{column}[{self.string(key)}]"
        return f"CASE WHEN JSON_TYPE({v}) = 'string' THEN STRING({v}) END"

    def json_bool(self, column, key):
        v = f"{column}[{self.string(key)}]"
        return f"CASE WHEN JSON_TYPE({v}) = 'boolean' THEN BOOL({v}) END"

    def json_integer(self, column, key):
        v = f"{column}[{self.string(key)}]"
        return (f"CASE WHEN JSON_TYPE({v}) = 'number' THEN COALESCE(SAFE.INT64({v}), "
                f"{self._integral_double(f'SAFE.FLOAT64({v})')}) END")

    def series(self, source, upper, name):
        return (f"(SELECT s.*, {name} FROM ({source}) AS s "
                f"CROSS JOIN UNNEST(GENERATE_ARRAY(0, s.{upper})) AS {name})")

    def local_time(self, micros, zone):
        return f"DATETIME(TIMESTAMP_MICROS({micros}), {self.string(zone)})"

    def period(self, micros, zone, per):
        unit = {"day": "DAY", "week": "ISOWEEK", "month": "MONTH"}[per]
        return f"DATETIME_TRUNC({self.local_time(micros, zone)}, {unit})"

    def format_utc(self, micros):
        return f"FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', TIMESTAMP_MICROS({micros}))"

    def json_object(self, pairs):
        args = ", ".join(f"{self.string(k)}, {v}" for k, v in pairs)
        return f"TO_JSON_STRING(JSON_OBJECT({args}))"

    def json_object_present(self, pairs):
        args = ", ".join(f"{self.string(k)}, {v}" for k, v in pairs)
        return f"TO_JSON_STRING(JSON_STRIP_NULLS(JSON_OBJECT({args})))"

    def json_array_agg(self, fields, order_by, where):
        obj = ", ".join(f"{v} AS {quote_identifier(k, self)}" for k, v in fields)
        return (f"TO_JSON_STRING(ARRAY_AGG(IF({where}, STRUCT({obj}), NULL) IGNORE NULLS "
                f"ORDER BY {', '.join(order_by)}))")


DIALECTS: dict[str, Dialect] = {d.name: d for d in (DuckDB(), Spark(), Postgres(), Snowflake(),
                                                   BigQuery())}


def get_dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(f"unknown SQL dialect `{name}` (choose from "
                         f"{', '.join(DIALECTS)})") from None
