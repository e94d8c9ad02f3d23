"""The canonical layout of a `.score` model (`score fmt`); see docs/formatting.md.

`format_model` lays out an AST; it is a pure function of the statements, their source lines
(to keep blank lines and place comments) and the comments. `format_source` parses first and
re-parses its own output, so that a formatter bug is reported instead of silently changing
the meaning of someone's model (OPA's `fmt` does the same).

Layout decisions are made on whole lines (`_Line`) before any text is joined, so that the
two alignment passes (points of rule blocks, trailing comments) see the final code.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from . import ast
from .diagnostics import Diagnostic, error, has_errors
from .parser import parse, paused_collector
from .source import LINE_END_BLANKS, Comment, SourceFile

INDENT = "    "
ALIGN_LIMIT = 40  # display columns; see _align_points

# `score`, `stage` and `contact` are only keywords where a declaration or the `contact.`
# prefix stands; free text that spells them is quoted anyway, because quoting never changes
# the meaning of a target or an action argument.
KEYWORDS = ast.KEYWORDS
SOFT_KEYWORDS = frozenset(("score", "stage", "contact"))

_NAME = re.compile(r"[^\W\d]\w*")


@dataclass(frozen=True, slots=True)
class FormatResult:
    text: str | None  # None when the source has syntax errors
    diagnostics: tuple[Diagnostic, ...] = ()


# --------------------------------------------------------------------------- entry points


def format_source(source: SourceFile) -> FormatResult:
    """Parse, format, and prove that the output means the same model as the input."""
    with paused_collector():  # see there: two parses and a layout of the whole model
        return _format_source(source)


def _format_source(source: SourceFile) -> FormatResult:
    parsed = parse(source)
    diagnostics = tuple(parsed.diagnostics)
    if parsed.model is None or has_errors(diagnostics):
        return FormatResult(None, diagnostics)
    text = format_model(parsed.model, source.comments())
    problem = _verify(parsed.model, source, text)
    if problem is not None:
        return FormatResult(None, diagnostics + (problem,))
    return FormatResult(text, diagnostics)


def format_model(model: ast.Model, comments=()) -> str:
    """The canonical text of `model`, with `comments` (from `SourceFile.comments()`) placed
    by the source lines recorded in the statements' spans."""
    lines = _layout(model.statements, tuple(comments))
    _align_points(lines)
    _align_comments(lines)
    return _render(lines)


def _verify(model: ast.Model, source: SourceFile, text: str) -> Diagnostic | None:
    """E090 unless `text` parses to `model` and keeps every comment, in order."""
    output = SourceFile.from_text(text, source.name)
    again = parse(output)
    if again.model == model and not has_errors(again.diagnostics):
        if [c.text for c in output.comments()] == [c.text for c in source.comments()]:
            return None
    span = model.span or source.span(1, 1)
    return error("E090", "the formatter would change the meaning of this file; "
                 "it was left as it is", span,
                 hint="please report this file to the scorelang maintainers")


# --------------------------------------------------------------------------- words and values


def is_plain_name(text: str) -> bool:
    """Whether `text` can be written bare where a name or a word stands."""
    return bool(_NAME.fullmatch(text)) and text not in KEYWORDS


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def word(text: str) -> str:
    """A target or an action argument: bare when that reads the same, else quoted."""
    if is_plain_name(text) and text not in SOFT_KEYWORDS:
        return text
    return quote(text)


def event_name(text: str) -> str:
    """An event type: bare when it is a plain name, quoted otherwise (`"Product Added"`),
    and quoted when it spells a word that starts a statement (`"group" +5`, 10.8.1). A
    quoted name that could be bare is written bare: `"visit"` and `visit` are one event."""
    if word(text) == text and text not in ast.STATEMENT_KEYWORDS:
        return text
    return quote(text)


def label(text: str) -> str:
    """A grade or stage label: always bare (a name, or a digit run such as `1` or `2b`)."""
    return text


def number(value: int | float) -> str:
    if isinstance(value, bool):  # bool is an int; never print True as a number
        raise TypeError("a bool is not a number")
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    if "e" in text or "E" in text:  # the grammar has no exponents
        text = format(Decimal(text), "f")
    return text


def points(value: int) -> str:
    return f"+{value}" if value >= 0 else str(value)


def duration(node: ast.Duration) -> str:
    unit = node.unit if node.amount == 1 else node.unit + "s"
    return f"{node.amount} {unit}"


def limit(node: ast.Limit) -> str:
    if node.count == 1 and node.per is None:
        return "once"
    text = f"at most {node.count}"
    return f"{text} per {node.per}" if node.per else text


def targets(node: ast.Targets) -> str:
    if node.any:
        return "any"
    if len(node.items) == 1:
        return word(node.items[0])
    return "(" + ", ".join(word(item) for item in node.items) + ")"


def value(node: ast.Value) -> str:
    match node:
        case ast.Text(value=text):
            return quote(text)
        case ast.Bool(value=flag):
            return "true" if flag else "false"
        case ast.Number(value=amount):
            return number(amount)
        case ast.Label(name=name):
            return name
    raise TypeError(f"not a value: {node!r}")


# --------------------------------------------------------------------------- conditions

# Binding strength: `or` < `and` < `not` < comparisons.
_OR, _AND, _NOT, _ATOM = range(4)


def condition(node: ast.Condition) -> str:
    """Minimal parentheses that re-parse to the same tree: an operand is wrapped when it binds
    more loosely than its parent, or as tightly when both are `and` (or both `or`), since the
    parser flattens `a and b and c` into one node."""
    match node:
        case ast.Or(operands=operands):
            return " or ".join(_operand(o, _OR) for o in operands)
        case ast.And(operands=operands):
            return " and ".join(_operand(o, _AND) for o in operands)
        case ast.Not(operand=operand):
            return "not " + _operand(operand, _NOT)
        case ast.Const(value=flag):
            return "true" if flag else "false"
        case ast.Truth(ref=ref):
            return reference(ref)
        case ast.Compare(ref=ref, op=op, value=right):
            return f"{reference(ref)} {op} {value(right)}"
        case ast.In(ref=ref, values=values, negated=negated):
            keyword = "not in" if negated else "in"
            return f"{reference(ref)} {keyword} ({', '.join(value(v) for v in values)})"
    raise TypeError(f"not a condition: {node!r}")


def _strength(node: ast.Condition) -> int:
    match node:
        case ast.Or():
            return _OR
        case ast.And():
            return _AND
        case ast.Not():
            return _NOT
    return _ATOM


def _operand(node: ast.Condition, parent: int) -> str:
    text = condition(node)
    strength = _strength(node)
    if strength < parent or (strength == parent and parent in (_OR, _AND)):
        return f"({text})"
    return text


def reference(ref: ast.Ref) -> str:
    return f"contact.{ref.name}" if ref.contact else ref.name


# --------------------------------------------------------------------------- statements


def rule_parts(statement) -> tuple[str, str] | None:
    """(head, tail) of a rule line, split where the points stand so blocks can align them.
    The tail starts with the points (`+15`, or `by PROP` as one unit) and a space, or is
    the points alone."""
    match statement:
        case ast.EventRule():
            head = _with_targets(statement.event, statement.targets)
            if statement.where is not None:
                head += " where " + condition(statement.where)
        case ast.AbsenceRule():
            head = (_with_targets(statement.event, statement.targets) + " without "
                    + _with_targets(statement.missing, statement.missing_targets)
                    + " within " + duration(statement.within))
        case ast.ProfileRule():
            head = "if " + condition(statement.condition)
        case ast.InactivityRule():
            head = "inactive " + duration(statement.after)
        case _:
            return None
    by = getattr(statement, "by", None)
    tail = [f"by {by.prop}" if by is not None else points(statement.points)]
    if statement.score is not None:
        tail.append(statement.score)
    if by is not None and by.low is not None:
        tail.append(f"{by.low}..{'' if by.high is None else by.high}")
    if getattr(statement, "every", None) is not None:
        tail.append("every " + duration(statement.every))
    if isinstance(statement, ast.InactivityRule) and statement.limit is not None:
        # `once` is refused on inactivity rules (10.8.5): spell the count out.
        tail.append(f"at most {statement.limit.count}")
    elif getattr(statement, "limit", None) is not None:
        tail.append(limit(statement.limit))
    return head, " ".join(tail)


def _with_targets(event: str, node: ast.Targets) -> str:
    name = event_name(event)
    return f"{name} {targets(node)}" if node.written else name


def statement_text(statement) -> str:
    """One statement on one line (a test: its header line only)."""
    parts = rule_parts(statement)
    if parts is not None:
        return f"{parts[0]} {parts[1]}"
    match statement:
        case ast.ScoreDecl(name=name, low=low, high=high, has_range=has_range):
            if not has_range:
                return f"score {name}"
            low_text = "" if low is None else number(low)
            high_text = "" if high is None else number(high)
            return f"score {name} {low_text}..{high_text}"
        case ast.TimezoneDecl(zone=zone):
            return f"timezone {quote(zone)}"
        case ast.Require(condition=cond):
            return f"require {condition(cond)}"
        case ast.EventDecl(name=name, target=target, properties=properties):
            text = f"event {event_name(name)}"
            if target is not None:
                text += f" target {target}"
            if properties:
                text += " (" + ", ".join(f"{p.name}: {p.type}" for p in properties) + ")"
            return text
        case ast.Include(path=path):
            return f"include {quote(path)}"
        case ast.GroupDecl(name=name, score=score, low=low, high=high):
            text = f"group {name}"
            if score is not None:
                text += f" of {score}"
            if low is not None:
                text += f" min {low}"
            if high is not None:
                text += f" max {high}"
            return text
        case ast.ActivityDecl(events=events):
            return "activity " + ", ".join(event_name(e) for e in events)
        case ast.Decay(score=score, percent=percent, every=every):
            return f"decay {score} {number(percent)}% every {duration(every)}"
        case ast.Expire(score=score, after=after):
            return f"expire {score} after {duration(after)}"
        case ast.Grade(name=name, score=score, bands=bands, otherwise=otherwise):
            items = [f"{label(b.label)} >= {number(b.threshold)}" for b in bands]
            if otherwise is not None:
                items.append(f"else {label(otherwise)}")
            return f"grade {name} by {score}: " + ", ".join(items)
        case ast.MatrixGrade(name=name, first=first, second=second, buckets=buckets,
                             otherwise=otherwise):
            text = f"grade {name} by {first} and {second}"
            items = [f"{label(b.label)} = ({', '.join(label(c) for c in b.cells)})"
                     for b in buckets]
            if otherwise is not None:
                items.append(f"else {label(otherwise)}")
            return text + ": " + ", ".join(items) if items else text
        case ast.Stage(name=name, condition=cond):
            return f"stage {label(name)} when {condition(cond)}"
        case ast.Trigger(condition=cond, actions=actions, each_time=each_time):
            text = f"when {condition(cond)} " + ", ".join(_action(a) for a in actions)
            return text + " each time" if each_time else text
        case ast.AccountBy(attribute=attribute):
            return f"account by {attribute}"
        case ast.AccountScore():
            return _account_score(statement)
        case ast.AccountGrade(name=name, score=score, bands=bands, otherwise=otherwise):
            items = [f"{label(b.label)} >= {number(b.threshold)}" for b in bands]
            if otherwise is not None:
                items.append(f"else {label(otherwise)}")
            return f"account grade {name} by {score}: " + ", ".join(items)
        case ast.Test(name=name):
            return f"test {quote(name)}:"
    raise TypeError(f"not a statement: {statement!r}")


def _account_score(statement: ast.AccountScore) -> str:
    if statement.aggregate == "count":
        text = f"account score {statement.name} = count"
        if statement.condition is not None:
            text += " where " + condition(statement.condition)
    else:
        text = f"account score {statement.name} = {statement.aggregate} of {statement.score}"
    if statement.where is not None:
        text += " where " + condition(statement.where)
    return text


def _action(action: ast.Action) -> str:
    # `reset` names a score, which is always a bare name.
    arg = action.arg if action.kind == "reset" else word(action.arg)
    return f"{action.kind} {arg}"


def step_text(step) -> str:
    match step:
        case ast.TestContact(attributes=attributes):
            return "contact " + _assignments(attributes)
        case ast.TestEvent():
            return _test_event(step)
        case ast.TestNow(at=at, after=after):
            return f"now {at}" if at is not None else f"now after {duration(after)}"
        case ast.ExpectScore(score=score, op=op, value=amount):
            return f"expect {score} {op} {number(amount)}"
        case ast.ExpectLabel(name=name, label=text, negated=negated):
            return f"expect {name} is {'not ' if negated else ''}{label(text)}"
        case ast.ExpectUnscored():
            return "expect unscored"
        case ast.ExpectAction(kind=kind, arg=arg, negated=negated, times=times):
            arg_text = arg if kind == "reset" else word(arg)
            text = f"expect {'no ' if negated else ''}{kind} {arg_text}"
            if times is not None:
                text += f" {times} {'time' if times == 1 else 'times'}"
            return text
    raise TypeError(f"not a test step: {step!r}")


def _test_event(step: ast.TestEvent) -> str:
    parts = []
    if step.at is not None:
        parts.append(f"at {step.at}")
    if step.after is not None:
        parts.append(f"after {duration(step.after)}")
    parts.append(event_name(step.event))
    if step.target is not None:
        parts.append(word(step.target))
    if step.properties:
        parts.append("with " + _assignments(step.properties))
    return " ".join(parts)


def _assignments(assignments) -> str:
    return ", ".join(f"{a.name} = {value(a.value)}" for a in assignments)


# --------------------------------------------------------------------------- layout


@dataclass(slots=True)
class _Line:
    indent: int
    code: str  # "" for a line holding only a comment
    comment: str | None = None
    blank_before: bool = False
    source_line: int | None = None  # where the line's element stands in the source
    rule: tuple[str, str] | None = None
    opens_block: bool = False  # a test header: no blank line may follow it


@dataclass(slots=True)
class _Comments:
    """Comments sorted out by where they go: before an element, after one, or at an end."""
    before: dict = field(default_factory=dict)  # key -> [Comment]
    trailing: dict = field(default_factory=dict)  # key -> [Comment]
    test_end: dict = field(default_factory=dict)  # statement index -> [Comment]
    file_end: list = field(default_factory=list)


def _line_of(node) -> int | None:
    span = getattr(node, "span", None)
    return span.line if span is not None else None


class _Places:
    """Where each element of the model starts, indexed so that placing a comment costs a
    dictionary look-up or a binary search, not a scan of the model."""

    def __init__(self, statements) -> None:
        self.statements = statements
        self.starts = sorted((_line_of(s), i) for i, s in enumerate(statements)
                             if _line_of(s) is not None)
        self.lines = [line for line, _ in self.starts]
        self.last_on: dict[int, tuple] = {}  # with `a; b  # c`, the comment follows `b`
        for line, index in self.starts:
            self.last_on[line] = ("stmt", index)
            statement = statements[index]
            if isinstance(statement, ast.Test):
                for j, step in enumerate(statement.steps):
                    if _line_of(step) is not None:
                        self.last_on[_line_of(step)] = ("step", index, j)

    def own_line(self, comment: Comment) -> tuple[str, tuple | int | None]:
        """Before the next element; inside a test block when the comment sits in one."""
        before = bisect.bisect_left(self.lines, comment.line)
        after = bisect.bisect_right(self.lines, comment.line)
        if before > 0 and isinstance(self.statements[self.starts[before - 1][1]], ast.Test):
            index = self.starts[before - 1][1]
            for j, step in enumerate(self.statements[index].steps):
                line = _line_of(step)
                if line is not None and line > comment.line:
                    return "before", ("step", index, j)
            # After the last step: an indented comment still belongs to the block.
            if comment.column > 1:
                return "test_end", index
        if after < len(self.starts):
            return "before", ("stmt", self.starts[after][1])
        return "file_end", None


def _place_comments(statements, comments: tuple[Comment, ...]) -> _Comments:
    """Attach each comment to an element. Keys are ("stmt", i) and ("step", i, j)."""
    placed = _Comments()
    places = _Places(statements)
    for comment in sorted(comments, key=lambda c: (c.line, c.column)):
        key = None if comment.own_line else places.last_on.get(comment.line)
        if key is not None:
            placed.trailing.setdefault(key, []).append(comment)
            continue
        where, key = places.own_line(comment)
        if where == "file_end":
            placed.file_end.append(comment)
        else:
            getattr(placed, where).setdefault(key, []).append(comment)
    return placed


def _layout(statements, comments: tuple[Comment, ...]) -> list[_Line]:
    placed = _place_comments(statements, comments)
    lines: list[_Line] = []
    after_test = False
    for index, statement in enumerate(statements):
        force_blank = isinstance(statement, ast.Test) or after_test
        start = len(lines)
        _emit(lines, ("stmt", index), statement_text(statement), 0, placed, statement)
        if force_blank and start > 0:
            lines[start].blank_before = True
        after_test = isinstance(statement, ast.Test)
        if after_test:
            lines[-1].opens_block = True
            _emit_test_body(lines, index, statement, placed)
    start = len(lines)
    for comment in placed.file_end:
        _emit_comment(lines, comment, 0)
    if after_test and start < len(lines):
        lines[start].blank_before = True
    _mark_blank_lines(lines)
    return lines


def _emit_test_body(lines, index, test, placed) -> None:
    for j, step in enumerate(test.steps):
        _emit(lines, ("step", index, j), step_text(step), 1, placed, step)
    for comment in placed.test_end.get(index, ()):
        _emit_comment(lines, comment, 1)


def _emit(lines, key, code, indent, placed, node) -> None:
    for comment in placed.before.get(key, ()):
        _emit_comment(lines, comment, indent)
    line = _line_of(node)
    trailing = [c.text for c in placed.trailing.get(key, ())]
    rule = rule_parts(node) if indent == 0 else None
    lines.append(_Line(indent, code, " ".join(trailing) or None, source_line=line, rule=rule))


def _emit_comment(lines, comment: Comment, indent: int) -> None:
    lines.append(_Line(indent, "", comment.text, source_line=comment.line))


def _mark_blank_lines(lines: list[_Line]) -> None:
    """A blank line stays where the source had one or more between two elements, except
    right after a test's header."""
    previous = None
    for line in lines:
        if previous is not None and not previous.opens_block \
                and line.source_line is not None and previous.source_line is not None \
                and line.source_line > previous.source_line + 1:
            line.blank_before = True
        previous = line
    if lines:
        lines[0].blank_before = False


# --------------------------------------------------------------------------- alignment


def display_width(text: str) -> int:
    """Columns a terminal gives `text`: wide CJK characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _align_points(lines: list[_Line]) -> None:
    """In a block of consecutive rule lines, points start in one column and whatever follows
    the points (score, limit) in another, so that the block reads as a table. A rule whose
    head is wider than ALIGN_LIMIT keeps single spaces: one long absence rule or `where`
    would otherwise push every other line of its block far to the right."""
    block: list[_Line] = []
    for line in lines + [_Line(0, "")]:
        if line.rule is not None and block and not line.blank_before:
            block.append(line)
            continue
        _align_block(block)
        block = [line] if line.rule is not None else []


def _split_points(tail: str) -> tuple[str, str]:
    """The points of a rule's tail and what follows them; `by PROP` is one unit."""
    if tail.startswith("by "):
        prop, _, rest = tail[3:].partition(" ")
        return "by " + prop, rest
    points_text, _, rest = tail.partition(" ")
    return points_text, rest


def _align_block(block: list[_Line]) -> None:
    aligned = []
    for line in block:
        if display_width(line.rule[0]) <= ALIGN_LIMIT:
            aligned.append(line)
        else:
            line.code = " ".join(line.rule)
    if not aligned:
        return
    head_width = max(display_width(line.rule[0]) for line in aligned)
    # `by PROP` stands in the points column but does not widen it: one long property name
    # would push every score and limit of the block to the right.
    points_width = max((len(_split_points(line.rule[1])[0]) for line in aligned
                        if not line.rule[1].startswith("by ")), default=0)
    for line in aligned:
        head, tail = line.rule
        points_text, rest = _split_points(tail)
        code = head + " " * (head_width - display_width(head) + 1) + points_text
        if rest:
            code += " " * max(1, points_width - display_width(points_text) + 1) + rest
        line.code = code


def _align_comments(lines: list[_Line]) -> None:
    """Trailing comments of consecutive lines start in one column, two spaces after the
    longest code among them."""
    run: list[_Line] = []
    for line in lines + [_Line(0, "")]:
        if line.code and line.comment and not (run and line.blank_before):
            run.append(line)
            continue
        if run:
            column = max(_code_width(item) for item in run) + 2
            for item in run:
                item.comment = " " * (column - _code_width(item)) + item.comment
        run = [line] if line.code and line.comment else []


def _code_width(line: _Line) -> int:
    return len(INDENT) * line.indent + display_width(line.code)


def _render(lines: list[_Line]) -> str:
    out = []
    for line in lines:
        if line.blank_before and out:
            out.append("")
        text = INDENT * line.indent + line.code
        if line.comment is not None:
            text += line.comment  # a trailing comment carries its alignment spaces
        out.append(text.rstrip(LINE_END_BLANKS))  # only what the grammar ignores
    return "\n".join(out) + "\n" if out else ""
