"""Quick fixes made from the hints of the diagnostics (never guessed from the text alone).

- "did you mean `X`?" replaces the underlined word by `X` (in quotes where the underlined
  text is quoted, as a time zone is);
- points without a sign (E001 underlining a bare number where the parser expected points)
  offer `+N` and `-N`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`\?")
_BARE_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class Fix:
    title: str
    new_text: str
    preferred: bool = False


def fixes(code: str, message: str, hint: str | None, underlined: str) -> list[Fix]:
    """The fixes for one diagnostic, given the text its range underlines."""
    found: list[Fix] = []
    match = _DID_YOU_MEAN.search(hint or "")
    if match and underlined:
        replacement = match.group(1)
        if underlined.startswith('"') and not replacement.startswith('"'):
            replacement = '"' + replacement.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if replacement != underlined:
            found.append(Fix(f"Change `{underlined}` to `{replacement}`", replacement, True))
    if code == "E001" and _BARE_NUMBER.fullmatch(underlined or "") and _wants_points(message,
                                                                                    hint):
        found.append(Fix(f"Add {underlined} points: `+{underlined}`", f"+{underlined}", True))
        found.append(Fix(f"Take {underlined} points away: `-{underlined}`", f"-{underlined}"))
    return found


def _wants_points(message: str, hint: str | None) -> bool:
    text = f"{message} {hint or ''}"
    return "points" in text or "sign" in text
