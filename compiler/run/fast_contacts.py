"""JSON Lines contacts decoded by msgspec in C, a chunk of lines at a time, for
`runtime.io.read_contacts` (`chunk_records`): the strict path decoded every line with the
standard library's scanner and a duplicate-key hook, ~7.5 us a line against ~1 us here.

A line is taken here only when the strict path would take it alike and decode the same
value; every other line goes to `strict` (the strict path, which gives the reason):
- the chunk is UTF-8 and has no backslash (so no escape, no lone surrogate): else it is all
  read by `strict`;
- no repeated key (msgspec keeps the last): the quotes of the lines taken are counted
  against those of their values encoded again, as `fast_jsonl` proves it for events; a
  chunk where they differ is all read by `strict`;
- nesting at most `MAX_DEPTH` (`fast_jsonl._deep`), a `{` first (not a byte order mark),
  and no more bytes than `sys.get_int_max_str_digits()` (a number the strict path refuses
  for its length is longer; msgspec reads the others as Python does);
- the record is an object whose `contact` is non-empty text, so it is never rejected and
  needs no raw text (tests/test_fast_contacts.py)."""
from __future__ import annotations

import sys
from typing import Callable

import msgspec

from .fast_jsonl import _deep

__all__ = ["contact_records"]

Row = tuple  # (line, record or RecordError, raw), what `runtime.io.collect_contacts` reads


def contact_records(strict: Callable[[list[bytes], int], list[Row]]
                    ) -> Callable[[list[bytes], int], list[Row]]:
    """`read(lines, number)`: the rows of `lines` (the first is line `number + 1`), in line
    order, blank lines left out, as `strict(lines, number)` (the strict path) gives them."""
    decode = msgspec.json.Decoder().decode
    encode = msgspec.json.Encoder().encode
    failed = msgspec.MsgspecError
    count = bytes.count

    def read(lines: list[bytes], number: int) -> list[Row]:
        joined = b"".join(lines)
        if joined.find(b"\\") >= 0 or _deep(lines) or not _utf8(joined):
            return strict(lines, number)
        longest = sys.get_int_max_str_digits() or len(joined)
        rows = []
        taken = []
        quotes = count(joined, b'"')
        for data in lines:
            number += 1
            record = None
            if data[:1] == b"{" and len(data) <= longest:
                try:
                    record = decode(data)
                except failed:
                    pass
            if type(record) is dict:
                contact = record.get("contact")
                if type(contact) is str and contact:
                    rows.append((number, record, None))
                    taken.append(record)
                    continue
            quotes -= count(data, b'"')
            rows.extend(strict([data], number - 1))
        if quotes != count(encode(taken), b'"'):
            return strict(lines, number - len(lines))
        return rows
    return read


def _utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
