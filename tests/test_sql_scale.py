"""Models with thousands of targets, rules or listed values (issue 10 item 13): the generated
query's shape does not grow with them (their lists are data, one constant table or one
IN test, not a SELECT per rule nor a chain of ORs, whose planning DuckDB does in superlinear
time: 48 s for 400 rules before), and the results stay equal to the Python engine's,
hostile texts and separators included. Timings are in benchmarks/bench_sql_scale.py."""
from __future__ import annotations

import json
import re
from collections import Counter

import pytest

duckdb = pytest.importorskip("duckdb", reason="the DuckDB engine needs the `sql` extra")
from compiler.pipeline import compile_text  # noqa: E402
from compiler.run.engines import duckdb as duck  # noqa: E402
from compiler.sql import generate  # noqa: E402
from compiler.sql.dialects import DIALECTS, SEPARATORS, get_dialect  # noqa: E402
from runtime import Engine, Event  # noqa: E402

AS_OF = 1_800_000_000_000_000


def _targets(n: int) -> str:
    return "score s\nvisit (" + ", ".join(f"p{i}" for i in range(n)) + ") +1\n"


def _rules(n: int) -> str:
    return "score s\n" + "".join(f"visit p{i} +{i % 7 + 1}" + (" at most 2 per day"
                                                                 if i % 3 == 0 else "") + "\n"
                                 for i in range(n))


def _in(n: int) -> str:
    return ("score s\nvisit +1\nif plan in (" + ", ".join(f'"v{i}"' for i in range(n)) +
            ") +5\n")


def _condition(n: int, joiner: str = " or ") -> str:
    """A profile rule whose condition has N terms, each on another attribute, numbers,
    texts and booleans in turn."""
    terms = [(f"x{i} = {i}", f't{i} = "v{i}"', f"b{i} = true")[i % 3] for i in range(n)]
    return "score s\nvisit +1\nif " + joiner.join(terms) + " +5\n"


def _sql(text: str, dialect: str = "duckdb") -> str:
    return generate(compile_text(text).require_table(), dialect, as_of=AS_OF)


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_rules_are_rows_of_a_table_not_selects(dialect):
    few, many = _sql(_rules(10), dialect), _sql(_rules(1000), dialect)
    assert many.count("UNION ALL") == few.count("UNION ALL")
    assert many.count("SELECT") == few.count("SELECT")


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("make", [_targets, _in], ids=["targets", "in"])
def test_a_long_list_is_no_chain_of_ors(dialect, make):
    few, many = _sql(make(3), dialect), _sql(make(3000), dialect)
    assert many.count(" OR ") == few.count(" OR ")
    assert many.count("SELECT") == few.count("SELECT")


@pytest.mark.parametrize("joiner", [" or ", " and "])
def test_a_long_condition_is_a_few_list_tests_in_duckdb(joiner):
    # each leaf written out is ~25 expressions DuckDB binds and optimizes (7 s for 10,000)
    few, many = _sql(_condition(60, joiner)), _sql(_condition(3000, joiner))
    assert many.count("json_type(") == few.count("json_type(") == 3
    assert many.count(" OR ") == few.count(" OR ") and many.count(" AND ") == few.count(" AND ")
    assert "'v2999'" not in many and "'$.\"x2998\"'" not in many


def test_duckdb_writes_a_long_list_as_one_text():
    sql = _sql(_targets(3000))
    assert sql.count("string_split(") >= 1 and "'p2999'" not in sql
    sql = _sql(_in(3000))
    assert "string_split(" in sql and "'v2999'" not in sql


def test_sql_grows_linearly():
    for make in (_targets, _rules, _in, _condition):
        small, large = len(_sql(make(1000))), len(_sql(make(10000)))
        assert large < 12 * small, make.__name__


HOSTILE = ["it's", "back\\slash", "nul\x00in", "", "semi; DROP TABLE events; --", "\u2028",
           "é", "sep" + SEPARATORS]  # the last holds every separator: a list literal then


def _agree(text: str, events: list[Event], profiles: dict) -> None:
    table = compile_text(text).require_table()
    expected = Engine(table).run(events, profiles, as_of=AS_OF)
    assert duck.run_events(table, events, profiles, as_of=AS_OF) == expected


@pytest.mark.parametrize("count", [3, 200])
def test_long_and_hostile_lists_score_as_python(count):
    names = [f"p{i}" for i in range(count)] + HOSTILE
    listed = ", ".join('"' + n.replace("\\", "\\\\").replace('"', '\\"')
                       .replace("\x00", "\\u0000").replace("\u2028", "\\u2028") + '"'
                       for n in names)
    text = (f"score s\nscore t\nvisit ({listed}) +1\nvisit ({listed}, p1) +2 t at most 3 per day\n"
            f"visit \"it*\" +4 t\nbuy +3 at most 1\nbuy where amount > 5 +7 t\n"
            + "".join(f"page {n} +1 t\n" for n in ("a", "b", "c")) +
            f"if plan in ({listed}) +10\nif plan in ({listed}, 7) +20 t\n")
    assert compile_text(text).table is not None, compile_text(text).diagnostics
    events = [Event.from_iso(c, "visit", f"2026-03-0{d}T10:00:00Z", target)
              for c, target in (("a", "p1"), ("b", "it's"), ("c", "sep" + SEPARATORS),
                                ("d", "nul\x00in"), ("e", ""), ("f", "zzz"))
              for d in (2, 2, 2, 2, 3)]
    events += [Event.from_iso(c, "buy", "2026-03-04T10:00:00Z", None, props={"amount": 9})
               for c in ("a", "b", "a")]
    events += [Event.from_iso("a", "page", "2026-03-04T11:00:00Z", t) for t in "abcab"]
    profiles = {"a": {"plan": "p0"}, "b": {"plan": "sep" + SEPARATORS}, "c": {"plan": 7},
                "d": {"plan": "nul\x00in"}, "e": {"plan": ""}, "f": {"plan": "no"}}
    _agree(text, events, profiles)


def test_every_dialect_still_generates_a_keyed_model():
    for name in DIALECTS:
        assert "visit" in _sql(_rules(20), name), get_dialect(name).name


def _text(value: str) -> str:
    return '"' + (value.replace("\\", "\\\\").replace('"', '\\"').replace("\x00", "\\u0000")
                  .replace("\u2028", "\\u2028")) + '"'


def test_long_conditions_score_as_python():
    """`=` leaves of each kind grouped into list tests beside leaves kept as themselves (an
    integer beyond 2^53, a `!=`, a pattern), in profile and event conditions, `and` and `or`."""
    ors = [f"n{i} = {i}" if i % 2 else f"n{i} = {i}.5" for i in range(20)]
    ors += [f"t{i} = {_text(v)}" for i, v in enumerate(HOSTILE * 3)]
    ors += [f"b{i} = {'true' if i % 2 else 'false'}" for i in range(20)]
    ors += ["big = 9007199254740993", "plan != \"x\"", 'plan = "p*"']
    plain = [v for v in HOSTILE if v not in ("\u2028", "nul\x00in")] * 3  # equal as written
    ands = [f"m{i} = {i}" for i in range(20)] + [f"u{i} = {_text(v)}" for i, v in
                                                 enumerate(plain)]
    wheres = [f"p{i} = {i}" for i in range(20)] + ["contact.plan = \"gold\""]
    text = ("score s\nscore t\nvisit +1\n"
            f"if {' or '.join(ors)} +5\nif {' and '.join(ands)} +7 t\n"
            f"buy where {' or '.join(wheres)} +3\nbuy where {' and '.join(wheres[:-1])} +4 t\n")
    every = {f"m{i}": i for i in range(20)} | {f"u{i}": v for i, v in enumerate(plain)}
    profiles = {"a": {"n3": 3, "plan": "x"}, "b": {"n3": "3", "plan": "x"},
                "c": {"t9": HOSTILE[1], "plan": "x"}, "d": {"b1": 1, "b2": False, "plan": "x"},
                "e": every, "f": every | {"m7": 7.5}, "g": {"big": 9007199254740993, "plan": "x"},
                "h": {"n0": 0.5, "plan": "x"}, "i": {"t0": "its", "plan": "x"},
                "j": {"plan": "gold"}}
    events = [Event.from_iso(c, "visit", "2026-03-02T10:00:00Z", None) for c in "abcdefghijk"]
    events += [Event.from_iso(c, "buy", "2026-03-03T10:00:00Z", None, props=props)
               for c, props in (("a", {"p4": 4}), ("b", {"p4": "4"}), ("j", {}),
                                ("e", {f"p{i}": i for i in range(20)}),
                                ("f", {f"p{i}": i + (i == 19) for i in range(20)}))]
    assert "list_bool_and(" in _sql(text) and "list_bool_or(" in _sql(text)
    _agree(text, events, profiles)


def _pairs(n: int, outer: str = " or ") -> str:
    """A profile rule whose condition is an `or` of N `and` pairs (an `and` of `or` pairs),
    each leaf on another property, numbers, texts and booleans in turn, both leaves of a pair
    equal to one value as far as their kinds allow (the shape DuckDB planned in quadratic
    time: 9.2 s for 500 pairs)."""
    inner = " and " if outer == " or " else " or "
    kinds = [lambda p, i: f"{p} = {i}", lambda p, i: f'{p} = "v{i}"',
             lambda p, i: f"{p} = {'true' if i % 2 else 'false'}"]
    terms = [kinds[i % 3](f"x{i}", i) + inner + kinds[(i + 1) % 3](f"y{i}", i) for i in range(n)]
    return "score s\nvisit +1\nif " + outer.join(f"({t})" for t in terms) + " +5\n"


@pytest.mark.parametrize("outer", [" or ", " and "])
def test_an_or_of_ands_is_one_list_test_in_duckdb(outer):
    few, many = _sql(_pairs(10, outer)), _sql(_pairs(3000, outer))
    assert many.count("json_type(") == few.count("json_type(") == 1
    assert many.count(" OR ") == few.count(" OR ") and many.count(" AND ") == few.count(" AND ")
    assert "'v2999'" not in many and "'$.\"x2998\"'" not in many
    for name in ("postgres", "spark"):  # written out where the dialect has no list test
        assert _sql(_pairs(20, outer), name).count("x19") >= 2


def test_an_or_of_ands_scores_as_python():
    """The `and`s of `=` leaves under an `or` (the `or`s under an `and`) as one list test,
    in profile and event conditions: every kind, hostile texts, wrong types, a missing
    profile, beside children kept as themselves (a leaf beyond 2^53, a `!=`, an `and` over
    two references)."""
    groups = [f"n{i} = {i} and t{i} = {_text(HOSTILE[i % len(HOSTILE)])} and b{i} = "
              f"{'true' if i % 2 else 'false'}" for i in range(6)]
    groups += [f"n{i} = {i}.5 and t{i} = \"v{i}\"" for i in range(6, 10)]
    dnf = " or ".join(f"({g})" for g in groups)
    dnf += " or (big = 9007199254740993 and n0 = 1) or plan != \"x\""
    cnf = " and ".join(f"({g.replace(' and ', ' or ')})" for g in groups)
    wheres = " or ".join(f"(p{i} = {i} and q{i} = \"w{i}\")" for i in range(10))
    where_cnf = " and ".join(f"(p{i} = {i} or q{i} = \"w{i}\")" for i in range(10))
    text = ("score s\nscore t\nvisit +1\n"
            f"if {dnf} +5\nif {cnf} +7 t\n"
            f"buy where {wheres} or (p0 = 1 and contact.plan = \"gold\") +3\n"
            f"buy where {where_cnf} +4 t\n")
    sql = _sql(text)
    assert sql.count("list_distinct(") == 4, sql

    def group(i: int) -> dict:  # the leaves of group i, all holding
        if i < 6:
            return {f"n{i}": i, f"t{i}": HOSTILE[i % len(HOSTILE)], f"b{i}": bool(i % 2)}
        return {f"n{i}": i + 0.5, f"t{i}": f"v{i}"}

    every = {k: v for i in range(10) for k, v in group(i).items()}
    profiles = {"a": group(3) | {"plan": "x"},  # one group: the `or` holds, the `and` not
                "b": group(3) | {"n3": "3", "plan": "x"},  # a number as text: none holds
                "c": group(1) | {"b1": 1, "plan": "x"},  # 1 for true
                "l": group(1) | {"b1": "true", "plan": "x"},  # a text for true
                "d": group(7) | {"n7": 7, "plan": "x"},  # 7 for 7.5
                "e": every | {"plan": "x"},  # every group: both
                "f": every | {"t0": "its", "n9": None, "plan": "x"},  # all but two leaves
                "g": {f"b{i}": bool(i % 2) for i in range(6)}  # a leaf of each group:
                | {f"t{i}": f"v{i}" for i in range(6, 10)} | {"plan": "x"},  # the `and` only
                "h": {"big": 9007199254740993, "n0": 1, "plan": "x"},
                "i": {"plan": "y"}, "j": {"plan": "gold"}}
    events = [Event.from_iso(c, "visit", "2026-03-02T10:00:00Z", None) for c in "abcdefghijkl"]
    props = [("a", {"p4": 4, "q4": "w4"}), ("l", {"p4": 4, "q4": True}),
             ("b", {"p4": "4", "q4": "w4"}),
             ("c", {"p4": 4, "q5": "w5"}), ("j", {"p0": 1}), ("i", {"p0": 1}),
             ("e", {f"p{i}": i for i in range(10)}),
             ("f", {f"q{i}": f"w{i}" for i in range(9)}), ("k", {})]
    events += [Event.from_iso(c, "buy", "2026-03-03T10:00:00Z", None, props=p)
               for c, p in props]
    _agree(text, events, profiles)


def _leaves(n: int) -> str:
    """Profile and event rules whose leaves no list test takes, each on its own key, the same
    operator and constant for every key (`x_i > 5`: the shape DuckDB planned in quadratic
    time, 11.6 s at 1,600 leaves)."""
    leaves = [(f"x{i} > 5", f"x{i} < 5", f"x{i} != 5", f't{i} != "a"', f't{i} = "a*"',
               f"b{i} != true", f"(x{i} > 5 and y{i} = 5)")[i % 7] for i in range(n)]
    wheres = [f"p{i} > 5" for i in range(n)]
    return (f"score s\nvisit +1\nif {' or '.join(leaves)} +5\n"
            f"buy where {' or '.join(wheres)} +3\n")


def test_duckdb_leaves_on_distinct_keys_do_not_hash_alike():
    """DuckDB hashes an expression as the XOR of its nodes' hashes: a leaf reading its key
    through one path literal twice hashed as its operator and constant alone. Each key's
    path literals must not all come in pairs."""
    sql = _sql(_leaves(21))
    literals = Counter(re.findall(r"'(?:[^']|'')*'", sql))
    for key in [f"{c}{i}" for i in range(21) for c in "xtbp"]:
        mine = {lit: n for lit, n in literals.items()
                if re.search(rf"\b{key}\b", lit) and len(lit) <= len(key) + 8}
        if mine:
            assert any(n % 2 for n in mine.values()), (key, mine)
    assert any(f"'/x{i}'" in sql for i in range(21))


KEYS = ["a/b", "~", "~1", "~0b", "/", "q\"uote", "back\\slash", "it's", "é", "日本", "0", "*",
        "$", "a.b", "[0]", "nul\x00in", "\u2028"]
VALUES = [5, 5.5, 6, -1, "6", "a", "", True, False, None, [1], {"k": 1}, 2 ** 70]


@pytest.mark.parametrize("kind", ["number", "text", "bool"])
def test_duckdb_typed_reads_of_hostile_keys_agree_with_python(kind):
    """The type read through `$."key"`, the text through the key's JSON pointer: every key,
    every kind of value, missing and null, read as the Python engine reads it."""
    d, con = get_dialect("duckdb"), duckdb.connect()
    for key in KEYS:
        expr = getattr(d, f"json_{kind}")("CAST(doc AS JSON)", key)
        docs = [json.dumps({key: v, "other": 1}) for v in VALUES] + ['{"other": 1}', "{}"]
        got = [r[0] for r in con.execute(
            f"SELECT {expr} FROM (SELECT unnest(?) AS doc, generate_subscripts(?, 1) AS n) "
            "ORDER BY n", [docs, docs]).fetchall()]
        want = []
        for doc in docs:
            v = json.loads(doc).get(key)
            if kind == "number":
                ok = isinstance(v, (int, float)) and not isinstance(v, bool)
                want.append(float(v) if ok else None)
            elif kind == "text":
                want.append(v if isinstance(v, str) else None)
            else:
                want.append(v if isinstance(v, bool) else None)
        assert got == want, (key, kind)


def test_leaves_on_distinct_keys_score_as_python():
    """`>`, `<`, `!=`, patterns, booleans, mixed `>`/`=` pairs and event leaves (each key read
    through two paths) against the Python engine: numbers, numbers as text, booleans, null,
    missing, nested values."""
    leaves = _leaves(21).split("\nif ")[1].split(" +5\n")[0].split(" or ")
    text = _leaves(21) + "score t\n" + "".join(f"if {leaf} +{2 ** i} t\n"  # each leaf alone
                                                for i, leaf in enumerate(leaves))
    fills = [5, 6, 4, "6", "a", "ab", True, False, None, [6], {"k": 6}, 6.5]
    profiles = {f"c{j}": {f"{c}{i}": fills[(i + j) % len(fills)]
                          for i in range(21) for c in "xtby" if (i + j) % 5}
                for j in range(len(fills))}
    profiles["none"] = {}
    events = [Event.from_iso(c, "visit", "2026-03-02T10:00:00Z", None) for c in profiles]
    events += [Event.from_iso(c, "buy", "2026-03-03T10:00:00Z", None,
                              props={f"p{(j * 3) % 21}": fills[j]})
               for j, c in enumerate(profiles) if j < len(fills)]
    _agree(text, events, profiles)
