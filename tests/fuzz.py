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


# --------------------------------------------------------------------------- seeded mutants
# The whole-toolchain fuzz test (tests/test_fuzz.py) and its benchmark
# (benchmarks/bench_fuzz.py) use a seeded mutator rather than hypothesis: the same seed gives
# the same mutants everywhere, so a failure found in CI reproduces with one number.

# what an attacker or an unlucky user types: numbers beyond float and 64-bit range, exact
# decimals a float cannot hold, times at the ends of the calendar, control characters and
# the other line breaks, includes of odd paths, long names
HOSTILE = [
    "1" + "0" * 400, "99999999999999999999.5", "9007199254740993.5", "9223372036854775808",
    "1e400", "0.000000000000000000001", "-" + "9" * 30, "10000000000000000000000000000 days",
    "0001-01-01", "9999-12-31", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "after 3652059 days", "after 99999999999 days", "now 9999-12-31", "at 0001-01-01",
    '"\\x00"', "\x00", "\x0c", "\x85", "\u2028", "\u2029", "\r", "\t", "\ufeff", "\ud7ff",
    'include "\x00"', 'include "/"', 'include "."', "include \"" + "a" * 300 + "\"",
    " per day", " at most 1 per day", " within 99999999 days", " decay ", "%", "%%",
    "x" * 200, "(" * 50, ")" * 50, '"', "#", ";", ":", "\n    ", "\n", " and ", " or ", " not ",
    "expect ", "score ", "test \"t\":\n    ", "grade g by ", "stage S when ", "every 0 days",
]


BIG = "1" + "0" * 400
# whole statements that reach the checker, the lowering and the engines
HOSTILE_LINES = [
    'include "\x00"', 'include "\x00.score"', f"visit home +{BIG}", f"score s 0..{BIG}",
    f"if employees >= {BIG} +5", "if employees >= 99999999999999999999.5 +5",
    "visit home +9223372036854775807", "visit home +9223372036854775808 at most 2",
    "visit home +10000000000 at most 1 per day", "decay engagement 10% every 30 days",
    "visit home +5 at most 1 per day", "visit pricing +5 at most 3 per 99999999999 days",
    "email_sent without email_open within 10000000000000000000000000000 days -5",
    f"grade tier by engagement: A >= {BIG}, else D", f"stage MQL when engagement >= {BIG}",
    'test "far":\n    visit home at 9999-12-31\n    visit home after 2 days\n'
    '    expect engagement >= 0',
    'test "early":\n    now 0001-01-01\n    expect engagement = 0',
    'test "late":\n    visit home\n    now after 99999999999 days\n    expect engagement = 0',
    'timezone "America/New_York"', "visit home +5 at most 1 per day",
    'test "ends":\n    visit home at 0001-01-01\n    visit home at 9999-12-31\n'
    '    expect engagement >= 0',
]


def corpus(root) -> list[tuple[str, str]]:
    """(name, text) of every shipped model, golden and conformance model under `root`."""
    paths = (sorted(root.glob("examples/*.score")) + sorted(root.glob("tests/golden/**/*.score"))
             + sorted(root.glob("tests/conformance/*/model.score")))
    return [(str(path.relative_to(root)), path.read_text(encoding="utf-8")) for path in paths]


def mutant(rng, text: str) -> str:
    """`text` with one to four mutations drawn from `rng` (a `random.Random`)."""
    for _ in range(rng.randint(1, 4)):
        position = rng.randint(0, len(text))
        kind = rng.choice(["delete", "insert", "hostile", "hostile", "duplicate", "number",
                           "swap", "line", "line"])
        if kind == "delete":
            text = text[:position] + text[position + rng.randint(1, 12):]
        elif kind == "insert":
            text = text[:position] + rng.choice(list('(")#:;+-\n\t ,.*?<>=!')) + text[position:]
        elif kind == "hostile":
            text = text[:position] + rng.choice(HOSTILE) + text[position:]
        elif kind == "number":
            # replace the next number with a hostile one, where numbers carry meaning
            digits = [i for i in range(position, min(len(text), position + 400))
                      if text[i].isdigit()]
            if digits:
                start = end = digits[0]
                while end < len(text) and (text[end].isdigit() or text[end] == "."):
                    end += 1
                text = text[:start] + rng.choice(HOSTILE[:8]) + text[end:]
        elif kind == "duplicate":
            start = text.rfind("\n", 0, position) + 1
            end = text.find("\n", position)
            end = len(text) if end < 0 else end + 1
            text = text[:end] + text[start:end] * rng.randint(1, 3) + text[end:]
        elif kind == "line":
            start = text.rfind("\n", 0, position) + 1
            text = text[:start] + rng.choice(HOSTILE_LINES) + "\n" + text[start:]
        else:
            lines = text.split("\n")
            if len(lines) > 2:
                a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[a], lines[b] = lines[b], lines[a]
                text = "\n".join(lines)
    return text
