"""Completion: the keywords the grammar accepts at the cursor, and the names that fit there.

The line being typed does not parse yet, so the grammar itself is asked what may follow the
text before the cursor (`dsl.expected.expected_next`: the real LALR parser, fed the line's
tokens); the tokens before the cursor say which name fits (an event at the start of a rule,
a score after the points, a grade's labels after `tier is`). The names come from the symbol
table, the document's name index and the sample data.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from dsl import ast
from dsl.expected import expected_next

from ..resolve import STAGE_REF
from .analysis import Analysis

_TEST_HEADER = 'test "t":\n    '
_TEST_TOKENS = 5  # TEST STRING COLON _NEWLINE _INDENT
_PARTIAL = re.compile(r"[\w.]*$")
_CONDITION_STARTS = {"WHEN", "IF", "REQUIRE", "WHERE"}
_REF_AFTER = {"WHEN", "IF", "REQUIRE", "WHERE", "AND", "OR", "NOT", "_LPAR"}
PERIODS = ("day", "week", "month")
PROPERTY_TYPES = ast.PROPERTY_TYPES


@dataclass(frozen=True, slots=True)
class Item:
    label: str
    kind: str  # keyword, event, score, grade, label, stage, attribute, property, target,
    #            value, file, zone
    detail: str = ""
    insert: str | None = None


def complete(analysis: Analysis | None, lines, line: int, column: int, sample=None) -> list[Item]:
    """Completion items at a 1-based position; `lines` are the document's current lines."""
    text = lines[line - 1] if 1 <= line <= len(lines) else ""
    before = text[:column - 1]
    if _in_string(before) or "#" in _outside_strings(before):
        return []
    head = before[:_PARTIAL.search(before).start()]
    in_test = _in_test(lines, line)
    prefix = _TEST_HEADER + head.lstrip() if in_test else head.lstrip()
    expected = expected_next(prefix)
    if expected is None:
        return []
    if analysis is not None:
        analysis = analysis.without_line(line)
    tokens = list(expected.tokens[_TEST_TOKENS:] if in_test else expected.tokens)
    while "SEMICOLON" in (kind for kind, _ in tokens):
        tokens = tokens[[kind for kind, _ in tokens].index("SEMICOLON") + 1:]
    names = _Names(analysis, sample)
    items: list[Item] = []
    if "NAME" in expected.kinds or "QNAME" in expected.kinds:
        items += [item for item in (_step_names if in_test else _statement_names)(tokens, names)
                  if _bare(item.label) or item.label.startswith('"')]
    if "STRING" in expected.kinds:
        items += _strings(tokens, names, analysis, in_test)
    items += [Item(word, "keyword") for word in sorted(expected.words) if word.isalpha()]
    return _unique(items)


def _bare(label: str) -> bool:
    # A name that is not a word (`blog/*`) is offered in quotes, where text may stand.
    return all(part.isidentifier() for part in label.split("."))


def _in_string(text: str) -> bool:
    return _outside_strings(text).endswith('"') and not _outside_strings(text).endswith('""')


def _outside_strings(text: str) -> str:
    """`text` with each string's content left out; an unterminated one ends in one `"`."""
    return re.sub(r'"(?:[^"\\]|\\.)*("?)', lambda m: '"' + m.group(1), text)


def _in_test(lines, line: int) -> bool:
    """Whether the line is (or would be) a line of a test block: indented, below a `test`
    header with only indented or blank lines between."""
    if not lines[line - 1][:1].isspace():
        return False
    for number in range(line - 1, 0, -1):
        text = lines[number - 1]
        if not text.strip() or text.lstrip().startswith("#") or text[:1].isspace():
            continue
        return text.startswith("test")
    return False


def _unique(items: list[Item]) -> list[Item]:
    seen: set[str] = set()
    kept = []
    for item in items:
        if item.label not in seen:
            seen.add(item.label)
            kept.append(item)
    return kept


# --------------------------------------------------------------------------- names in place


def _statement_names(tokens, names: "_Names") -> list[Item]:
    kinds = [kind for kind, _ in tokens]
    if not kinds:
        return names.events()
    first, last = kinds[0], kinds[-1]
    if first == "ACCOUNT":
        return _account_names(tokens, names)
    condition = _condition_start(kinds)
    if first == "WHEN" and last in ("NOTIFY", "TAG"):
        return names.action_args()
    if last == "RESET" or (first in ("DECAY", "EXPIRE") and len(kinds) == 1):
        return names.scores()
    if condition is not None and not _after_condition(kinds, condition):
        scope = {"IF": "profile", "REQUIRE": "profile", "WHERE": "where"}.get(
            kinds[condition], "lifecycle")
        return _condition_names(tokens[condition + 1:], scope, _event_name(tokens[0]), names)
    if first == "GRADE" and last == "BY":
        return names.scores() + names.grades()  # a score or group, or a matrix's first grade
    if first == "GRADE" and last == "AND":
        return names.grades()
    if first == "GROUP" and last == "OF":
        return names.scores(groups=False)
    if first == "ACTIVITY" and last in ("ACTIVITY", "COMMA"):
        return names.events()
    if first == "INACTIVE" and last == "POINTS":
        return names.scores()
    if first == "EVENT" and last == "COLON":
        return [Item(t, "value", "property type") for t in PROPERTY_TYPES]
    if first not in ("NAME", "STRING"):
        return []
    if last == "POINTS":
        return names.scores()
    if last == "WITHOUT":
        return names.events()
    if last == "PER":
        return [Item(p, "value", "calendar period") for p in PERIODS]
    if last == "BY":
        return names.properties(_event_name(tokens[0]))
    if kinds[-2:-1] == ["BY"]:  # `by PROP` then the score or group
        return names.scores()
    event = _event_name(tokens[kinds.index("WITHOUT") + 1]) if "WITHOUT" in kinds[:-1] \
        else _event_name(tokens[0])
    if last in ("NAME", "STRING", "_LPAR", "COMMA") and "POINTS" not in kinds:
        return names.targets(event)
    return []


def _account_names(tokens, names: "_Names") -> list[Item]:
    """Account statements (docs/language.md 10.6): the profile attribute after `account by`,
    a score or group after `sum of` (`max of`, `min of`), an account score after `account
    grade NAME by`; in `where` (and `count where`) what a member's trigger reads."""
    kinds = [kind for kind, _ in tokens]
    last = kinds[-1]
    if kinds == ["ACCOUNT", "BY"]:
        return names.attributes()
    if kinds[1:2] == ["GRADE"] and last == "BY":
        return names.account_scores()
    if kinds[1:2] == ["SCORE"] and last == "OF":
        return names.scores()
    if "WHERE" in kinds:
        start = len(kinds) - 1 - kinds[::-1].index("WHERE")
        return _condition_names(tokens[start + 1:], "lifecycle", "", names)
    return []


def _event_name(token: tuple[str, str]) -> str:
    """The event type a token names: a bare name or a quoted one (10.1)."""
    kind, text = token
    return _unquote(text) if kind == "STRING" else text


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _condition_start(kinds: list[str]) -> int | None:
    for index, kind in enumerate(kinds):
        if kind in _CONDITION_STARTS and not (kind == "WHEN" and index > 0 and
                                              kinds[0] not in ("STAGE", "WHEN")):
            return index
    return None


def _after_condition(kinds: list[str], start: int) -> bool:
    # A trigger's actions or a rule's points come after its condition.
    return any(kind in ("NOTIFY", "TAG", "RESET", "POINTS") for kind in kinds[start:])


def _condition_names(tokens, scope: str, event: str, names: "_Names") -> list[Item]:
    kinds = [kind for kind, _ in tokens]
    is_not = kinds[-2:] == ["IS", "NOT"]
    if not kinds or kinds[-1] in _REF_AFTER and not _in_list(kinds) and not is_not:
        return names.refs(scope, event)
    ref = _compared(tokens)
    if ref is None:
        return []
    if scope == "lifecycle" and (ref == STAGE_REF or ref in names.grades_declared()):
        return names.labels(ref)
    return []


def _in_list(kinds: list[str]) -> bool:
    depth = 0
    for index in range(len(kinds) - 1, -1, -1):
        if kinds[index] == "_RPAR":
            depth += 1
        elif kinds[index] == "_LPAR":
            if depth == 0:
                return index > 0 and kinds[index - 1] == "IN"
            depth -= 1
    return False


def _compared(tokens) -> str | None:
    """The name on the left of the comparison the cursor is in the value of."""
    kinds = [kind for kind, _ in tokens]
    for index in range(len(kinds) - 1, -1, -1):
        if kinds[index] in ("CMP", "IS", "IN"):
            before = index - 1
            if before >= 0 and kinds[before] == "NOT":
                before -= 1
            return tokens[before][1] if before >= 0 and kinds[before] == "NAME" else None
        if kinds[index] in ("AND", "OR"):
            return None
    return None


def _step_names(tokens, names: "_Names") -> list[Item]:
    kinds = [kind for kind, _ in tokens]
    if not kinds or (kinds[-1] in ("DATETIME", "DURATION") and kinds[0] in ("AT", "AFTER")):
        return names.events()
    first, last = kinds[0], kinds[-1]
    if first == "EXPECT":
        if last == "EXPECT":
            return names.expectable()
        if last in ("NOTIFY", "TAG"):
            return names.action_args()
        if last == "RESET":
            return names.scores()
        if last in ("IS", "NOT") and len(tokens) >= 2:
            return names.labels(tokens[1][1])
        return []
    if first == "CONTACT" and last in ("CONTACT", "COMMA"):
        return names.attributes()
    event_at = 2 if first in ("AT", "AFTER") else 0
    if len(kinds) > event_at and kinds[event_at] in ("NAME", "STRING"):
        event = _event_name(tokens[event_at])
        if "WITH" in kinds and last in ("WITH", "COMMA"):
            return names.properties(event)
        if len(kinds) == event_at + 1:
            return names.targets(event)
    return []


def _strings(tokens, names: "_Names", analysis: Analysis | None, in_test: bool) -> list[Item]:
    kinds = [kind for kind, _ in tokens]
    if in_test:
        event_at = 2 if kinds[:1] in (["AT"], ["AFTER"]) else 0
        if len(kinds) == event_at + 1 and kinds[event_at] in ("NAME", "STRING"):
            return _quoted(names.targets(_event_name(tokens[event_at])))
        if len(kinds) == event_at:
            return _quoted(names.events())
        return []
    if not kinds or kinds[-1] == "WITHOUT" or (kinds[0] == "ACTIVITY" and kinds[-1] in (
            "ACTIVITY", "COMMA")):
        return _quoted(names.events())  # event types that are no names: `"Product Added"`
    if kinds == ["TIMEZONE"]:
        from ..resolve import _all_zones

        return [Item(f'"{zone}"', "zone", "time zone") for zone in _all_zones()]
    if kinds == ["INCLUDE"] and analysis is not None:
        return _include_files(analysis.path)
    if kinds[0] in ("NAME", "STRING") and kinds[-1] in ("NAME", "STRING", "_LPAR", "COMMA") \
            and "POINTS" not in kinds:
        event = _event_name(tokens[kinds.index("WITHOUT") + 1]) if "WITHOUT" in kinds[:-1] \
            else _event_name(tokens[0])
        return _quoted(names.targets(event))
    return []


def _quoted(items: list[Item]) -> list[Item]:
    return [Item('"' + i.label.replace("\\", "\\\\").replace('"', '\\"') + '"', i.kind,
                 i.detail) for i in items if not _bare(i.label)]


def _include_files(path: str) -> list[Item]:
    folder = os.path.dirname(path)
    if path.startswith("<") or not os.path.isdir(folder):
        return []
    here = os.path.basename(path)
    found = []
    for root, _dirs, files in os.walk(folder):
        for name in sorted(files):
            if name.endswith(".score") and not (root == folder and name == here):
                relative = os.path.relpath(os.path.join(root, name), folder)
                found.append(Item(f'"{relative}"', "file", "model file"))
        if len(found) > 200:
            break
    return found


class _Names:
    """The names a model and its sample data know, by kind."""

    def __init__(self, analysis: Analysis | None, sample) -> None:
        self.analysis = analysis
        self.symbols = analysis.symbols if analysis is not None else None
        self.index = analysis.index if analysis is not None else None
        self.sample = sample

    def _uses(self, kind: str, owner: str | None = None) -> list[str]:
        return self.index.uses(kind, owner) if self.index is not None else []

    def events(self) -> list[Item]:
        declared = list(self.symbols.events) if self.symbols else []
        seen = self.sample.targets if self.sample is not None else {}
        names = declared + self._uses("event") + sorted(seen, key=lambda e: -sum(seen[e].values()))
        return [Item(n, "event", f"event ({sum(seen[n].values()):,} in the sample data)"
                     if n in seen else "event") for n in dict.fromkeys(names)]

    def scores(self, groups: bool = True) -> list[Item]:
        """Scores and (where a group may stand instead) groups."""
        if self.symbols is None:
            return []
        found = [Item(n, "score", "score") for n in self.symbols.scores]
        if groups:
            found += [Item(n, "score", "group") for n in getattr(self.symbols, "groups", ())]
        return found

    def account_scores(self) -> list[Item]:
        accounts = self.analysis.accounts if self.analysis is not None else {}
        return [Item(name, "score", "account score") for name, statement in accounts.items()
                if isinstance(statement, ast.AccountScore)]

    def grades(self) -> list[Item]:
        return [Item(g, "grade", "grade") for g in self.grades_declared()]

    def grades_declared(self) -> list[str]:
        return list(self.symbols.grades) if self.symbols else []

    def expectable(self) -> list[Item]:
        return (self.scores() + self.grades()
                + [Item(STAGE_REF, "stage", "the contact's stage")])

    def labels(self, owner: str) -> list[Item]:
        if self.symbols is None:
            return []
        if owner == STAGE_REF:
            return [Item(s, "stage", "stage") for s in self.symbols.stages]
        if owner in self.symbols.grades:
            return [Item(label, "label", f"label of {owner}")
                    for label in self.symbols.grade_labels(owner)]
        return []

    def attributes(self) -> list[Item]:
        seen = self.sample.attributes if self.sample is not None else {}
        names = self._uses("attribute") + [n for n, _ in seen.most_common()] \
            if seen else self._uses("attribute")
        return [Item(n, "attribute", "profile attribute") for n in dict.fromkeys(names)]

    def properties(self, event: str) -> list[Item]:
        declared = []
        if self.symbols is not None and event in self.symbols.events:
            declared = [p.name for p in self.symbols.events[event].properties]
        seen = self.sample.properties.get(event) if self.sample is not None else None
        names = declared + self._uses("property", event) + \
            ([n for n, _ in seen.most_common()] if seen else [])
        return [Item(n, "property", f"property of {event}") for n in dict.fromkeys(names)]

    def refs(self, scope: str, event: str) -> list[Item]:
        if scope == "profile":
            return self.attributes()
        if scope == "where":
            return self.properties(event) + [
                Item(f"contact.{i.label}", "attribute", i.detail) for i in self.attributes()]
        return self.expectable() + self.attributes()

    def targets(self, event: str) -> list[Item]:
        seen = self.sample.targets.get(event) if self.sample is not None else None
        names = self._uses("target", event) + ([t for t, _ in seen.most_common()] if seen else [])
        return [Item(t, "target", f"target of {event} ({seen[t]:,} in the sample data)"
                     if seen and t in seen else f"target of {event}")
                for t in dict.fromkeys(names)]

    def action_args(self) -> list[Item]:
        found = []
        for statement in self.analysis.statements if self.analysis is not None else ():
            if isinstance(statement, ast.Trigger):
                found += [a.arg for a in statement.actions if a.kind in ("notify", "tag")]
        return [Item(a if a.isidentifier() else f'"{a}"', "value", "used in this model")
                for a in dict.fromkeys(found)]
