"""What the grammar accepts next after some text: the language server's completion asks the
real LALR parser of `dsl/parser.py`, fed the tokens before the cursor."""
from __future__ import annotations

from dataclasses import dataclass

from lark.exceptions import UnexpectedInput

from .parser import _IndentError, _parser


@dataclass(frozen=True, slots=True)
class Expected:
    """What the grammar accepts after the start of a line (the language server's completion).

    `tokens` are (kind, text) of the tokens before the cursor; `words` the keywords and
    punctuation that may come next, as written (`once`, `at`, `(`); `kinds` the other tokens
    that may come next (`NAME`, `STRING`, `NUMBER`, `POINTS`, `DURATION`, ...)."""
    tokens: tuple[tuple[str, str], ...]
    words: frozenset[str]
    kinds: frozenset[str]


def expected_next(text: str) -> Expected | None:
    """What may follow `text`: one statement's start, or a test header line and the start of
    one step (`test "t":\\n    expect `). None when `text` cannot start anything."""
    parser = _parser()
    interactive = parser.parse_interactive(text)
    tokens: list[tuple[str, str]] = []
    try:
        for token in interactive.lexer_thread.lex(interactive.parser_state):
            # With one step line there is no dedent but the one at the end of the text, which
            # would close the test block the cursor is in.
            if token.type == "_DEDENT":
                break
            interactive.feed_token(token)
            tokens.append((token.type, str(token)))
        accepted = interactive.accepts()
    except (UnexpectedInput, _IndentError):
        return None
    spelled = {terminal.name: terminal.pattern.value for terminal in parser.terminals
               if terminal.pattern.type == "str"}
    words = frozenset(spelled[name] for name in accepted if name in spelled)
    kinds = frozenset(name for name in accepted if name not in spelled and name != "$END")
    return Expected(tuple(tokens), words, kinds)
