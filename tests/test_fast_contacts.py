"""Contacts lines read through msgspec (`compiler.run.fast_contacts`, what `score run` uses)
give exactly what the strict path gives line by line: the same profiles (values, types, key
order, the last line of a contact winning) and the same rejects (line, reason, raw), on
generated files with repeated keys (top level and nested), big integers, floats, escapes,
NaN, bytes that are not UTF-8, a byte order mark, CRLF, blank lines, deep nesting, lines
that are not objects or lack a usable `contact`, and chunks from one line to the whole file."""
from __future__ import annotations

import io
import json
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from runtime import io as rio
from runtime import records

pytest.importorskip("msgspec")

from compiler.run import fast_contacts, readers  # noqa: E402
from jsonl_lines import strict_lines  # noqa: E402


def _strict(data: bytes) -> tuple[dict, list]:
    """The strict path, line by line: `decode_json` of each line's text (a byte order mark
    dropped on line 1; blank lines skipped but counted), then `collect_contacts`."""
    rows = []
    for number, raw, bad in strict_lines(data):
        if bad:
            rows.append((number, records.RecordError(f"not valid UTF-8 (byte {bad})"), raw))
            continue
        try:
            rows.append((number, records.decode_json(raw), raw))
        except records.RecordError as exc:
            rows.append((number, exc, raw))
    return rio.collect_contacts(rows)


def _read(data: bytes, size: int, fast: bool) -> tuple[dict, list]:
    with mock.patch.object(rio, "_CHUNK_BYTES", size):
        return rio.read_contacts(io.BytesIO(data), fmt="jsonl",
                                 chunk_records=fast_contacts.contact_records if fast else None)


def _same(found: tuple[dict, list], expected: tuple[dict, list]) -> None:
    profiles, rejects = found
    assert [(key, json.dumps(value)) for key, value in profiles.items()] == \
        [(key, json.dumps(value)) for key, value in expected[0].items()]
    assert [(type(v).__name__, v) for p in profiles.values() for v in p.values()] == \
        [(type(v).__name__, v) for p in expected[0].values() for v in p.values()]
    assert rejects == expected[1]


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=6),
    st.sampled_from(["VP", "é", "\u2028", "a\"b", "\\", "\x01"]))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abc"), inner, max_size=3)),
    max_leaves=6)


@st.composite
def _lines(draw) -> bytes:
    kind = draw(st.integers(0, 9))
    if kind <= 4:  # a contact line, maybe with a repeated key or a bad contact
        contact = draw(st.one_of(st.sampled_from(["c1", "c2", "c3", "", "é"]),
                                 st.integers(0, 3), st.none()))
        fields = draw(st.dictionaries(st.sampled_from(["title", "employees", "x", "n"]),
                                      _values, max_size=4))
        text = json.dumps({"contact": contact, **fields},
                          ensure_ascii=draw(st.booleans()))
        if kind == 1 and fields:  # the first key repeated at the end
            key = next(iter(fields))
            text = text[:-1] + f', "{key}": 1}}'
        if kind == 2:
            text = text[:-1] + ', "contact": "c9"}'
        if kind == 3:
            text = text.replace('"contact": ', '"contactx": ', 1)
        return text.encode()
    return draw(st.sampled_from([
        b"", b"   ", b"\r", b"[1, 2]", b'"text"', b"null", b'{"contact": "c1", "a": NaN}',
        b'{"contact": "c1"} trailing', b'{"contact": "c1", "a": 1e400}',
        b'{"contact": "c\xff1"}', b'{"contact": "c1", "a": "\xe9"}',
        b'{"contact": "c1", "n": ' + b"[" * 120 + b"]" * 120 + b"}",
        b'{"contact": "c1", "n": {"a": 1, "a": 2}}', b'{"contact": "c2", "big": '
        + b"9" * 30 + b"}", b'{"contact": "c2", "big": ' + b"9" * 4400 + b"}",
        b' {"contact": "c3"} ', b'{"contact": "\\u00e9"}',
        b'{"contact": "c1", "s": "\\ud800"}', b'{"contact": "c1",}', b"{", b"\xef\xbb\xbf"]))


@settings(max_examples=500, deadline=None)
@given(lines=st.lists(_lines(), max_size=12), crlf=st.booleans(), bom=st.booleans(),
       end=st.booleans(), size=st.sampled_from([1, 120, 1 << 16]))
@example(lines=[b'{"contact": "c1", "a": 1, "a": 2}'] * 2, crlf=False, bom=False, end=True,
         size=1 << 16)
@example(lines=[b'{"contact": "c1", "n": {"a": {"b": 1, "b": 2}}}'], crlf=False, bom=False,
         end=True, size=1 << 16)
def test_the_msgspec_contacts_reader_gives_the_strict_path_line_by_line(lines, crlf, bom,
                                                                         end, size):
    data = (b"\r\n" if crlf else b"\n").join(lines) + (b"\n" if end and lines else b"")
    if bom:
        data = b"\xef\xbb\xbf" + data
    expected = _strict(data)
    _same(_read(data, size, fast=False), expected)
    _same(_read(data, size, fast=True), expected)


def test_common_lines_are_taken_without_the_strict_path():
    data = b"".join(json.dumps({"contact": f"c{n}", "title": "VP", "employees": n,
                                "score": n / 3, "tags": ["a", {"b": None}]}).encode() + b"\n"
                    for n in range(500))
    with mock.patch.object(rio, "contact_lines", side_effect=AssertionError("strict")):
        profiles, rejects = rio.read_contacts(io.BytesIO(data), fmt="jsonl",
                                              chunk_records=fast_contacts.contact_records)
    assert len(profiles) == 500 and not rejects
    assert profiles["c7"] == {"title": "VP", "employees": 7, "score": 7 / 3,
                              "tags": ["a", {"b": None}]}


def test_score_run_reads_contacts_through_msgspec(tmp_path):
    path = tmp_path / "contacts.jsonl"
    path.write_bytes(b'{"contact": "c1", "title": "CEO"}\n{"contact": ""}\n'
                     b'{"contact": "c1", "title": "CTO", "title": "VP"}\n')
    profiles, rejects = readers.read_contacts(str(path))
    assert profiles == {"c1": {"title": "CEO"}}
    assert [(r.line, r.reason) for r in rejects] == [
        (2, "`contact` must not be empty"), (3, "not valid JSON: duplicate key `title`")]
