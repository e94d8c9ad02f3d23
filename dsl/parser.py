"""Text -> AST. The only module that sees a `lark.Tree`.

Syntax errors never stop the parse: the logical line at fault is blanked (line numbers kept)
and the text parsed again, so a file with ten mistakes gets ten diagnostics and a model of the
rest, which the checker can still examine.
"""
from __future__ import annotations

import contextlib
import gc
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.indenter import Indenter

from . import ast
from .diagnostics import Diagnostic, error, sort_diagnostics
from .numbers import check_numbers
from .source import SourceFile, Span
from .recovery import MAX_DEPTH, MAX_ERRORS, blank_block, blank_deep_nesting, blank_statement
from .syntax_errors import describe_lookalike, describe_unexpected, lookalike_in, match_catalogue


_DURATION = re.compile(r"(\d+)[ \t]*([a-z]+)")
_UNITS = {"m": "minute", "minute": "minute", "minutes": "minute", "h": "hour", "hour": "hour",
          "hours": "hour", "d": "day", "day": "day", "days": "day", "w": "week", "week": "week",
          "weeks": "week"}
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
                       r"(Z|[+-]\d{2}:\d{2})?)?$")


@dataclass(frozen=True, slots=True)
class ParseResult:
    model: ast.Model | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


class _IndentError(Exception):
    def __init__(self, line: int, column: int, message: str, hint: str | None = None):
        super().__init__(message)
        self.line, self.column, self.message, self.hint = line, column, message, hint


class _ScoreIndenter(Indenter):
    NL_type = "_NEWLINE"
    OPEN_PAREN_types = ["_LPAR"]
    CLOSE_PAREN_types = ["_RPAR"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def handle_NL(self, token):
        if self.paren_level > 0:
            return
        yield token
        indent_str = token.rsplit("\n", 1)[1]
        line = token.end_line
        block_char = self._chars[-1]
        if " " in indent_str and "\t" in indent_str or (
                indent_str and block_char and indent_str[0] != block_char):
            raise _IndentError(line, 1, "this line mixes tabs and spaces in its indentation",
                               "indent every line of a test with spaces only (4 per level)")
        indent = indent_str.count(" ") + indent_str.count("\t") * self.tab_len
        if indent > self.indent_level[-1]:
            if len(self.indent_level) > 1:  # blocks do not nest: only a test opens one
                raise _IndentError(line, self.indent_level[-1] + 1, "this line is indented "
                                   "further than the line above it in the test",
                                   "indent every line of a test block alike")
            self.indent_level.append(indent)
            self._chars.append(indent_str[:1])
            yield self._at_line_start(self.INDENT_type, indent_str, line)
            return
        while indent < self.indent_level[-1]:
            self.indent_level.pop()
            self._chars.pop()
            yield self._at_line_start(self.DEDENT_type, indent_str, line)
        if indent != self.indent_level[-1]:
            raise _IndentError(line, indent + 1, "this line's indentation matches no "
                               "enclosing line", "indent the lines of a test block alike")

    @staticmethod
    def _at_line_start(kind: str, indent_str: str, line: int) -> Token:
        # Positioned on the indented line itself, so errors point at it, not at the line above.
        column = len(indent_str) + 1
        return Token(kind, indent_str, line=line, column=column, end_line=line,
                     end_column=column + 1)

    def process(self, stream):
        self._chars = [""]
        return super().process(stream)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # package data through importlib.resources: it is read from a wheel, a folder or a zip
    # (spark-submit --py-files scorelang.zip) alike
    grammar = resources.files("dsl").joinpath("score.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", postlex=_ScoreIndenter(),
                propagate_positions=True, maybe_placeholders=False)


def _parse_plain(text: str):
    return _parser().parse(text)


def parse_text(text: str, name: str = "<string>") -> ParseResult:
    return parse(SourceFile.from_text(text, name))


@contextlib.contextmanager
def paused_collector():
    """The cyclic garbage collector off while a parse builds its tokens, tree and AST (any
    cycles among them are collected once it is on again). Left on, each full collection walks every object built so far, so a
    1 MB model parsed 2.5 times slower per KB than a 10 KB one (issue 10 item 13)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse(source: SourceFile) -> ParseResult:
    with paused_collector():
        return _parse(source)


def _parse(source: SourceFile) -> ParseResult:
    lines = source.text.split("\n")
    diagnostics: list[Diagnostic] = []
    depths = blank_deep_nesting(source, lines, diagnostics)
    tree = None
    while tree is None:
        if len(diagnostics) >= MAX_ERRORS:
            diagnostics.append(error("E001", f"stopped after {MAX_ERRORS} syntax errors",
                                     source.span(1, 1), "fix the errors above and check again"))
            return ParseResult(None, tuple(sort_diagnostics(diagnostics)))
        try:
            tree = _parser().parse("\n".join(lines) + "\n")
        except UnexpectedInput as exc:
            line, diagnostic = _syntax_diagnostic(exc, source, "\n".join(lines) + "\n")
            diagnostics.append(diagnostic)
            if not blank_statement(lines, line, depths):
                return ParseResult(None, tuple(sort_diagnostics(diagnostics)))
        except _IndentError as exc:
            diagnostics.append(error("E004", exc.message, source.span(exc.line, exc.column),
                                     exc.hint))
            if not blank_block(lines, exc.line):
                return ParseResult(None, tuple(sort_diagnostics(diagnostics)))
    diagnostics.extend(check_numbers(tree, source.name))
    builder = _AstBuilder(source)
    try:
        model = builder.transform(tree)
    except VisitError as exc:  # a bug of ours, not of the user: say so, with the position
        raise RuntimeError(f"{source.name}: internal error building the AST: {exc}") from exc
    diagnostics.extend(builder.diagnostics)
    return ParseResult(model, tuple(sort_diagnostics(diagnostics)))


# ------------------------------------------------------------------------------ diagnostics


def _syntax_diagnostic(exc: UnexpectedInput, source: SourceFile, text: str):
    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        line = max(1, len(source.text.split("\n")))
        column = 1
    line = line if isinstance(line, int) and line > 0 else 1
    column = column if isinstance(column, int) and column > 0 else 1
    if isinstance(exc, UnexpectedCharacters) and text[exc.pos_in_stream:].startswith('"'):
        rest = text[exc.pos_in_stream + 1:].split("\n", 1)[0]
        pasted = lookalike_in(rest)
        hint = 'end the text on the same line with `"`'
        if pasted is not None:
            hint = f'the text ends with `{pasted[0]}`, not `"`: type `{pasted[1]}` instead'
        return line, error("E003", "this text has no closing quote", source.span(line, column),
                           hint)
    if isinstance(exc, UnexpectedCharacters) and describe_lookalike(exc.char) is not None:
        message, hint = describe_lookalike(exc.char)
        return line, error("E002", message, source.span(line, column), hint)
    width = 1
    if isinstance(exc, UnexpectedToken) and exc.token.type not in ("_NEWLINE", "$END",
                                                                 "_INDENT", "_DEDENT"):
        width = max(1, len(str(exc.token)))
    span = source.span(line, column, line, column + width)
    code = "E002" if isinstance(exc, UnexpectedCharacters) else "E001"
    known = match_catalogue(exc, _parse_plain)
    if known is not None:
        message, hint = known
    else:
        message, hint = describe_unexpected(exc, _parser())
    return line, error(code, message, span, hint)


# ------------------------------------------------------------------------------ tree -> AST


class _Where:
    __slots__ = ("condition",)

    def __init__(self, condition):
        self.condition = condition


class _EventName(str):
    """An event type, unquoted; a `str` subclass so rule builders can tell it from tokens."""


class _Every:
    __slots__ = ("duration",)

    def __init__(self, duration):
        self.duration = duration


class _Times(int):
    """The `N times` of an `expect` line."""


_LABEL_DIGITS = re.compile(r"\d+")


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r'\\(["\\])', r"\1", body)


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


@v_args(meta=True)
class _AstBuilder(Transformer_NonRecursive):
    def __init__(self, source: SourceFile):
        super().__init__()
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self._depth: dict[int, int] = {}
        self._once: set[int] = set()  # ids of the Limits written `once`

    # --------------------------------------------------------------- positions
    def _span(self, meta) -> Span | None:
        if getattr(meta, "empty", True):
            return None
        return Span(self.source.name, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok(self, token: Token) -> Span:
        return Span(self.source.name, token.line, token.column, token.end_line,
                    token.end_column)

    def _invalid(self, token_or_span, message: str, hint: str | None = None) -> None:
        span = token_or_span if isinstance(token_or_span, Span) else self._tok(token_or_span)
        self.diagnostics.append(error("E006", message, span, hint))

    def _deep(self, condition, meta) -> bool:
        if self._depth.get(id(condition), 1) > MAX_DEPTH:
            self.diagnostics.append(error(
                "E005", f"this condition is nested more than {MAX_DEPTH} levels deep",
                self._span(meta), "split it into simpler conditions"))
            return True
        return False

    def _duration(self, token: Token, code: str = "E206") -> ast.Duration:
        amount, unit = _DURATION.match(str(token)).groups()
        duration = ast.Duration(int(amount), _UNITS[unit], self._tok(token))
        if duration.amount == 0:
            self.diagnostics.append(error(code, "a duration must be longer than 0",
                                          self._tok(token), "write e.g. `24 hours`"))
        return duration

    def _datetime(self, token: Token) -> str:
        text = str(token)
        match = _DATETIME.match(text)
        ok = match is not None
        if ok:
            year, month, day = (int(g) for g in match.group(1, 2, 3))
            hour = int(match.group(5) or 0)
            minute = int(match.group(6) or 0)
            second = int(match.group(7) or 0)
            ok = 1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 \
                and second < 60
            try:
                import datetime as _dt
                _dt.date(year, month, day)
            except ValueError:
                ok = False
            if ok and match.group(4) and not match.group(8):
                self._invalid(token, f"`{text}` has no time zone",
                              "add `Z` for UTC or an offset such as `+01:00`")
                return text
        if not ok:
            self._invalid(token, f"`{text}` is not a valid date",
                          "write dates as 2026-03-02 or 2026-03-02T10:15:00Z")
        return text

    # --------------------------------------------------------------- model
    def start(self, meta, children):
        statements = tuple(c for c in children if c is not None)
        return ast.Model(statements, self.source.name, self._span(meta))

    def score_decl(self, meta, children):
        name = children[0]
        low = high = None
        has_range = len(children) > 1
        if has_range:
            low_text, high_text = str(children[1]).split("..")
            low = int(low_text)
            high = int(high_text) if high_text else None
        return ast.ScoreDecl(str(name), low, high, has_range, self._span(meta))

    def timezone_decl(self, meta, children):
        return ast.TimezoneDecl(_unquote(children[0]), self._span(meta))

    def require(self, meta, children):
        if self._deep(children[0], meta):
            return None
        return ast.Require(children[0], self._span(meta))

    def event_name(self, meta, children):
        token = children[0]
        return _EventName(_unquote(token) if token.type == "STRING" else str(token))

    def group_decl(self, meta, children):
        name, score, bounds = str(children[0]), None, {}
        for child in children[1:]:
            if isinstance(child, tuple):
                kind, value, token = child
                if kind in bounds:
                    self._invalid(token, f"`{kind}` is given twice for group `{name}`",
                                  f"keep one `{kind}`")
                bounds.setdefault(kind, value)
            else:
                score = str(child)
        return ast.GroupDecl(name, score, bounds.get("min"), bounds.get("max"),
                             self._span(meta))

    def _bound(self, kind: str, token: Token):
        value = _number(token)
        if not isinstance(value, int):
            self.diagnostics.append(error(
                "E203", f"a group's `{kind}` is a whole number of points, not {token}",
                self._tok(token), f"write e.g. `{kind} {int(value)}`"))
            value = int(value)
        return kind, value, token

    def group_min(self, meta, children):
        return self._bound("min", children[0])

    def group_max(self, meta, children):
        return self._bound("max", children[0])

    def activity_decl(self, meta, children):
        return ast.ActivityDecl(tuple(str(c) for c in children), self._span(meta))

    def event_decl(self, meta, children):
        name, target, properties = str(children[0]), None, ()
        for child in children[1:]:
            if isinstance(child, tuple):
                properties = child
            else:
                target = child
        return ast.EventDecl(name, target, properties, self._span(meta))

    def event_target(self, meta, children):
        return str(children[0])

    def property_list(self, meta, children):
        return tuple(children)

    def property(self, meta, children):
        name, kind = children
        if str(kind) not in ast.PROPERTY_TYPES:
            self._invalid(kind, f"`{kind}` is not a property type",
                          "use number, text or bool")
        return ast.Property(str(name), str(kind), self._span(meta))

    def include(self, meta, children):
        return ast.Include(_unquote(children[0]), self._span(meta))

    # --------------------------------------------------------------- rules
    def _rule_tail(self, children):
        """Split POINTS [NAME] [limit] off the end of a rule's children."""
        points_index = next(i for i, c in enumerate(children)
                            if isinstance(c, Token) and c.type == "POINTS")
        points = int(children[points_index])
        score = limit = None
        for child in children[points_index + 1:]:
            if isinstance(child, ast.Limit):
                limit = child
            else:
                score = str(child)
        return children[:points_index], points, score, limit

    @staticmethod
    def _rule_head(head):
        """The event, targets and `where` condition that start an event rule."""
        targets, where = ast.NO_TARGETS, None
        for child in head[1:]:
            if isinstance(child, ast.Targets):
                targets = child
            elif isinstance(child, _Where):
                where = child.condition
        return str(head[0]), targets, where

    def event_rule(self, meta, children):
        head, points, score, limit = self._rule_tail(children)
        event, targets, where = self._rule_head(head)
        if where is not None and self._deep(where, meta):
            return None
        return ast.EventRule(event, targets, where, points, score, limit, None,
                             self._span(meta))

    def by_rule(self, meta, children):
        # event targets? where? PROP SCORE? RANGE? limit?  (the `by` keyword is dropped)
        index = next(i for i, c in enumerate(children)
                     if isinstance(c, Token) and c.type == "NAME")
        event, targets, where = self._rule_head(children[:index])
        prop = children[index]
        score = low = high = limit = None
        range_token = None
        for child in children[index + 1:]:
            if isinstance(child, ast.Limit):
                limit = child
            elif child.type == "RANGE":
                range_token = child
                low_text, high_text = str(child).split("..")
                low, high = int(low_text), int(high_text) if high_text else None
            else:
                score = str(child)
        if where is not None and self._deep(where, meta):
            return None
        by_span = self._tok(prop) if range_token is None else Span(
            self.source.name, prop.line, prop.column, range_token.end_line,
            range_token.end_column)
        by = ast.ByProperty(str(prop), low, high, by_span)
        return ast.EventRule(event, targets, where, None, score, limit, by, self._span(meta))

    def absence_rule(self, meta, children):
        head, points, score, limit = self._rule_tail(children)
        events = [c for c in head if isinstance(c, _EventName)]
        targets = [ast.NO_TARGETS, ast.NO_TARGETS]
        side = 0
        duration = None
        for child in head[1:]:
            if isinstance(child, ast.Targets):
                targets[side] = child
            elif isinstance(child, _EventName):
                side = 1
            elif isinstance(child, Token) and child.type == "DURATION":
                duration = self._duration(child)
        return ast.AbsenceRule(str(events[0]), targets[0], str(events[1]), targets[1],
                               duration, points, score, limit, self._span(meta))

    def inactivity_rule(self, meta, children):
        # docs/language.md 10.8.5: both durations of an inactivity rule are positive (E205).
        after = self._duration(children[0], "E205")
        points = int(children[1])
        score = every = limit = None
        for child in children[2:]:
            if isinstance(child, _Every):
                every = child.duration
            elif isinstance(child, ast.Limit):
                limit = child
            else:
                score = str(child)
        if limit is not None and id(limit) in self._once:
            # `once` is `at most 1` in the AST, which an inactivity rule with `every` allows;
            # only here can the two spellings be told apart (docs/language.md 10.8.5).
            self.diagnostics.append(error(
                "E205", "`once` is not a limit of an inactivity rule", limit.span,
                "without `every` a quiet spell awards once already; with `every`, write "
                "`at most N` (awards per quiet spell)"))
            limit = None
        return ast.InactivityRule(after, points, score, every, limit, self._span(meta))

    def every(self, meta, children):
        return _Every(self._duration(children[0], "E205"))

    def profile_rule(self, meta, children):
        condition, points = children[0], int(children[1])
        if self._deep(condition, meta):
            return None
        score = str(children[2]) if len(children) > 2 else None
        return ast.ProfileRule(condition, points, score, self._span(meta))

    def where(self, meta, children):
        return _Where(children[0])

    def target(self, meta, children):
        token = children[0]
        return _unquote(token) if token.type == "STRING" else str(token)

    def target_one(self, meta, children):
        return ast.Targets(tuple(children), False, self._span(meta))

    def target_list(self, meta, children):
        return ast.Targets(tuple(children), False, self._span(meta))

    def target_any(self, meta, children):
        return ast.Targets((), True, self._span(meta))

    def limit_once(self, meta, children):
        limit = ast.Limit(1, None, self._span(meta))
        self._once.add(id(limit))
        return limit

    def limit_at_most(self, meta, children):
        count_token = children[0]
        count = _number(count_token)
        if not isinstance(count, int) or count < 1:
            self.diagnostics.append(error("E205", f"`at most {count_token}` must count at "
                                          "least 1 event", self._tok(count_token),
                                          "write a whole number such as `at most 3`"))
            count = max(1, int(count))
        per = None
        if len(children) > 1:
            per = str(children[1])
            if per not in ast.PERIODS:
                self._invalid(children[1], f"`per {per}` is not a calendar period",
                              "write `per day`, `per week` or `per month`")
                per = "day"
        return ast.Limit(count, per, self._span(meta))

    def decay(self, meta, children):
        score, percent, every = children
        value = _number(str(percent)[:-1])
        if not 0 < value < 100:
            self.diagnostics.append(error("E204", f"a decay of {percent} is not between 0% and "
                                          "100%", self._tok(percent),
                                          "write e.g. `decay engagement 10% every 30 days`"))
        return ast.Decay(str(score), value, self._duration(every), self._span(meta))

    def expire(self, meta, children):
        score, after = children
        return ast.Expire(str(score), self._duration(after), self._span(meta))

    # --------------------------------------------------------------- lifecycle
    def grade(self, meta, children):
        name, score = str(children[0]), str(children[1])
        bands = tuple(c for c in children[2:] if isinstance(c, ast.Band))
        rest = [c for c in children[2:] if isinstance(c, str) and not isinstance(c, Token)]
        otherwise = rest[0] if rest else None
        return ast.Grade(name, score, bands, otherwise, self._span(meta))

    def band(self, meta, children):
        label, op, threshold = children
        if str(op) != ">=":
            self._invalid(op, f"a grade band is written `{label} >= N`, not with `{op}`",
                          f"write `{label} >= {threshold}`")
        return ast.Band(label, _number(threshold), self._span(meta))

    def matrix_grade(self, meta, children):
        name, first, second = (str(c) for c in children[:3])
        buckets = tuple(c for c in children[3:] if isinstance(c, ast.Bucket))
        rest = [c for c in children[3:] if isinstance(c, str)]
        otherwise = rest[0] if rest else None
        return ast.MatrixGrade(name, first, second, buckets, otherwise, self._span(meta))

    def bucket(self, meta, children):
        label, op, *cells = children
        if str(op) != "=":
            self._invalid(op, f"a bucket is written `{label} = (CELL, ...)`, not with `{op}`",
                          f"write `{label} = ({', '.join(cells)})`")
        return ast.Bucket(label, tuple(cells), self._span(meta))

    def label_name(self, meta, children):
        token = children[0]
        if token.type == "NUMBER" and not _LABEL_DIGITS.fullmatch(str(token)):
            self._invalid(token, f"`{token}` is not a label",
                          "a label is a name, or letters, digits and `_` starting with a "
                          "digit, such as `1` or `2b`")
        return str(token)

    def stage(self, meta, children):
        if self._deep(children[1], meta):
            return None
        return ast.Stage(children[0], children[1], self._span(meta))

    def trigger(self, meta, children):
        condition = children[0]
        if self._deep(condition, meta):
            return None
        actions = tuple(c for c in children[1:] if isinstance(c, ast.Action))
        each_time = any(c is True for c in children[1:])
        return ast.Trigger(condition, actions, each_time, self._span(meta))

    def each_time(self, meta, children):
        return True

    def notify(self, meta, children):
        return ast.Action("notify", children[0], self._span(meta))

    def tag(self, meta, children):
        return ast.Action("tag", children[0], self._span(meta))

    def reset(self, meta, children):
        return ast.Action("reset", str(children[0]), self._span(meta))

    def arg(self, meta, children):
        token = children[0]
        return _unquote(token) if token.type == "STRING" else str(token)

    # --------------------------------------------------------------- accounts (10.6)
    def account_by(self, meta, children):
        return ast.AccountBy(str(children[0]), self._span(meta))

    def account_score(self, meta, children):
        name, op, aggregate, *rest = children
        if str(op) != "=":
            self._invalid(op, f"an account score is written `account score {name} = ...`, "
                          f"not with `{op}`", f"write `account score {name} = ...`")
        kind, score, condition, where = aggregate
        if rest:
            where = rest[0].condition
        for node in (condition, where):
            if node is not None and self._deep(node, meta):
                return None
        return ast.AccountScore(str(name), kind, score, condition, where, self._span(meta))

    def account_sum(self, meta, children):
        return ("sum", str(children[0]), None, None)

    def account_max(self, meta, children):
        return ("max", str(children[0]), None, None)

    def account_min(self, meta, children):
        return ("min", str(children[0]), None, None)

    def account_count(self, meta, children):
        # `count where C [where F]`: C is what is counted, F the filter (see ast.AccountScore)
        conditions = [child.condition for child in children] + [None, None]
        return ("count", None, conditions[0], conditions[1])

    def account_grade(self, meta, children):
        name, score = str(children[0]), str(children[1])
        bands = tuple(c for c in children[2:] if isinstance(c, ast.Band))
        rest = [c for c in children[2:] if isinstance(c, str) and not isinstance(c, Token)]
        otherwise = rest[0] if rest else None
        return ast.AccountGrade(name, score, bands, otherwise, self._span(meta))

    # --------------------------------------------------------------- conditions
    def _node(self, node, *operands):
        self._depth[id(node)] = 1 + max((self._depth.get(id(o), 1) for o in operands),
                                        default=0)
        return node

    def or_cond(self, meta, children):
        return self._node(ast.Or(tuple(children), self._span(meta)), *children)

    def and_cond(self, meta, children):
        return self._node(ast.And(tuple(children), self._span(meta)), *children)

    def negation(self, meta, children):
        return self._node(ast.Not(children[0], self._span(meta)), children[0])

    def compare(self, meta, children):
        ref, op, value = children
        return ast.Compare(ref, str(op), value, self._span(meta))

    def compare_is(self, meta, children):
        return ast.Compare(children[0], "is", children[1], self._span(meta))

    def compare_is_not(self, meta, children):
        return ast.Compare(children[0], "is not", children[1], self._span(meta))

    def in_list(self, meta, children):
        return ast.In(children[0], tuple(children[1:]), False, self._span(meta))

    def not_in_list(self, meta, children):
        return ast.In(children[0], tuple(children[1:]), True, self._span(meta))

    def truth(self, meta, children):
        return ast.Truth(children[0], self._span(meta))

    def const_true(self, meta, children):
        return ast.Const(True, self._span(meta))

    def const_false(self, meta, children):
        return ast.Const(False, self._span(meta))

    def ref(self, meta, children):
        token = children[0]
        if token.type == "QNAME":
            return ast.Ref(str(token)[len("contact."):], True, self._tok(token))
        return ast.Ref(str(token), False, self._tok(token))

    def text(self, meta, children):
        return ast.Text(_unquote(children[0]), self._span(meta))

    def number(self, meta, children):
        text = str(children[0])
        if len(text) > 1 and text[0] == "0" and text.isdigit():
            # `01` would print as `1`; as a label (`heat is 01`) it is not `1` (10.8.6).
            return ast.Label(text, self._span(meta))
        return ast.Number(_number(text), self._span(meta))

    def label(self, meta, children):
        return ast.Label(str(children[0]), self._span(meta))

    def bool_true(self, meta, children):
        return ast.Bool(True, self._span(meta))

    def bool_false(self, meta, children):
        return ast.Bool(False, self._span(meta))

    # --------------------------------------------------------------- tests
    def test(self, meta, children):
        name = _unquote(children[0])
        return ast.Test(name, tuple(children[1:]), self._span(meta))

    def test_contact(self, meta, children):
        return ast.TestContact(tuple(children), self._span(meta))

    def assignment(self, meta, children):
        name, op, value = children
        if str(op) != "=":
            self._invalid(op, f"a value is given with `=`, not `{op}`",
                          f"write `{name} = ...`")
        return ast.Assignment(str(name), value, self._span(meta))

    def test_event(self, meta, children):
        at = after = target = None
        properties: tuple = ()
        event = None
        for child in children:
            if isinstance(child, tuple) and child and child[0] in ("at", "after"):
                at, after = (child[1], None) if child[0] == "at" else (None, child[1])
            elif isinstance(child, tuple):
                properties = child
            elif isinstance(child, _EventName):
                event = str(child)
            else:
                target = child
        return ast.TestEvent(event, target, at, after, properties, self._span(meta))

    def at_time(self, meta, children):
        return ("at", self._datetime(children[0]))

    def after_time(self, meta, children):
        return ("after", self._duration(children[0]))

    def with_clause(self, meta, children):
        return tuple(children)

    def now_at(self, meta, children):
        return ast.TestNow(self._datetime(children[0]), None, self._span(meta))

    def now_after(self, meta, children):
        return ast.TestNow(None, self._duration(children[0]), self._span(meta))

    def expect_score(self, meta, children):
        name, op, value = children
        return ast.ExpectScore(str(name), str(op), _number(value), self._span(meta))

    def expect_is(self, meta, children):
        return ast.ExpectLabel(str(children[0]), children[1], False, self._span(meta))

    def expect_is_not(self, meta, children):
        return ast.ExpectLabel(str(children[0]), children[1], True, self._span(meta))

    def expect_unscored(self, meta, children):
        return ast.ExpectUnscored(self._span(meta))

    def expect_action(self, meta, children):
        action = children[0]
        times = int(children[1]) if len(children) > 1 else None
        return ast.ExpectAction(action.kind, action.arg, False, times, self._span(meta))

    def expect_no_action(self, meta, children):
        action = children[0]
        if len(children) > 1:
            self.diagnostics.append(error(
                "E006", "`expect no ...` takes no count", self._span(meta),
                f"write `expect {action.kind} {action.arg} 0 times`, or drop the count"))
        return ast.ExpectAction(action.kind, action.arg, True, None, self._span(meta))

    def times(self, meta, children):
        token = children[0]
        count = _number(token)
        if not isinstance(count, int) or count < 0:
            self._invalid(token, f"`{token} times` is not a count",
                          "write a whole number such as `2 times` (or `0 times`)")
            count = max(0, int(count))
        return _Times(count)
