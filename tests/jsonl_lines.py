"""The JSON Lines rules the readers' tests check against, written out once: a file's lines by
number (a byte order mark dropped on line 1, line ends stripped), blank lines skipped but
counted, a line that is not UTF-8 given with the 1-based position of its first bad byte."""
from __future__ import annotations

from typing import Iterator


def strict_lines(data: bytes) -> Iterator[tuple[int, str, int]]:
    """(number, text, bad byte or 0) for every non-blank line of `data`."""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if number == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        try:
            raw, bad = line.decode("utf-8").rstrip("\r\n"), 0
        except UnicodeDecodeError as exc:
            raw, bad = line.decode("utf-8", errors="replace").rstrip("\r\n"), exc.start + 1
        if raw.strip():
            yield number, raw, bad
