"""The fuzz corpus of the parser, shared by every test that must survive broken text (the
parser's, the language server's): random text from a `.score`-like alphabet, and shipped
models with characters deleted, inserted or lines duplicated."""
from __future__ import annotations

from hypothesis import strategies as st

ALPHABET = st.sampled_from(list('visturnpca_+-=<>!()",;:#.%*? \n\t0123456789') +
                           ["visit ", "when ", "score ", "test ", "    ", " and ", " or ",
                            " not ", " in ", " is ", "expect ", "at most ", " per day",
                            "within ", "24 hours", "2026-03-02", "stage ", "grade ", "else "])
RANDOM_TEXTS = st.lists(ALPHABET, max_size=60).map("".join)


def mutate(data, text: str) -> str:
    """`text` with one to four mutations drawn from `data` (a hypothesis `st.data()`)."""
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(text)))
        kind = data.draw(st.sampled_from(["delete", "insert", "duplicate"]))
        if kind == "delete":
            text = text[:position] + text[position + 3:]
        elif kind == "insert":
            text = text[:position] + data.draw(st.sampled_from(list('(")#:;+-\n\t '))) + \
                text[position:]
        else:
            line_start = text.rfind("\n", 0, position) + 1
            text = text[:line_start] + text[line_start:position] + text[line_start:]
    return text
