"""One version of one open document, compiled once and read by every feature.

`analyse` runs `compiler.pipeline.compile` on the editor's text (named by the file's path, so
includes resolve as on disk and diagnostics equal `score check FILE`), keeping the file's own
parse (the pipeline's `parse` hook records it: its `include` lines and test blocks, which the
loaded model splices or keeps) and the symbol table `compiler.resolve` makes of the whole
model. Nothing here parses or resolves in a way of its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from dsl import ast
from dsl.parser import ParseResult, parse
from dsl.source import SourceFile

from ..pipeline import CompileResult, compile as compile_model, table_of
from ..resolve import Locator, Symbols, resolve
from .names import Index, build_index


@dataclass
class Analysis:
    path: str  # the name spans and diagnostics use
    version: int | None
    source: SourceFile
    result: CompileResult
    own: ast.Model | None  # this file's own statements, `include` lines kept
    sample: object | None = None  # the `impact.Sample` the diagnostics were checked against
    sample_problem: str | None = None  # why the configured sample data could not be read
    parser: object | None = field(default=None, repr=False)
    _variants: dict = field(default_factory=dict, repr=False)

    @cached_property
    def table(self) -> dict | None:
        """The rule table (None while the model has errors), lowered on first use: checking
        a keystroke needs no table."""
        return table_of(self.result)

    @cached_property
    def locate(self) -> Locator:
        return Locator(self.result.sources or {self.path: self.source})

    @cached_property
    def symbols(self) -> Symbols | None:
        if self.result.model is None:
            return None
        return resolve(self.result.model, self.locate)[0]

    @cached_property
    def index(self) -> Index:
        if self.own is None or self.symbols is None:
            return Index(())
        return build_index(self.own.statements, self.symbols, self.locate)

    @cached_property
    def accounts(self) -> dict:
        """The model's account scores and grades by name, first declaration first
        (docs/language.md 10.6: a namespace of their own, which the symbol table leaves out)."""
        found: dict = {}
        for statement in self.result.model.statements if self.result.model else ():
            if isinstance(statement, (ast.AccountScore, ast.AccountGrade)):
                found.setdefault(statement.name, statement)
        return found

    @property
    def statements(self) -> tuple:
        return self.own.statements if self.own is not None else ()

    def statement_at(self, line: int, column: int | None = None):
        """The statement of this file at a 1-based position (a test block: any of its
        lines); of several statements on the line (`a +1; b +2`), the one at `column`, or
        the last one that starts before it."""
        found = None
        for statement in self.statements:
            span = statement.span
            if span is None or not span.line <= line <= span.end_line:
                continue
            if column is None or found is None or (span.line, span.column) <= (line, column):
                found = statement
        return found

    def without_line(self, line: int) -> "Analysis":
        """The analysis of this text with one line left empty: the names a line being typed
        can use, when that line (an open parenthesis, half a rule) hides later statements
        from the parser. Itself when the text has no syntax error."""
        if not any(d.code.startswith("E0") for d in self.result.diagnostics):
            return self
        key = ("without", line)
        if key not in self._variants:
            lines = self.source.text.split("\n")
            if 1 <= line <= len(lines):
                lines[line - 1] = ""
            self._variants[key] = analyse("\n".join(lines), self.path, self.version,
                                          self.sample, self.sample_problem, self.parser)
        return self._variants[key]

    def step_at(self, line: int):
        statement = self.statement_at(line)
        if isinstance(statement, ast.Test):
            for step in statement.steps:
                if step.span is not None and step.span.line == line:
                    return step
        return None


def analyse(text: str, path: str, version: int | None = None, sample=None,
            sample_problem: str | None = None, parser=None) -> Analysis:
    """Compile `text` as the file `path`; with `sample` (an `impact.Sample`), also check it
    against the sample data as `score check --contacts --events` does. `parser` (a
    `dsl.incremental.IncrementalParser`, one per document) parses the document again
    reading only what changed since its last version; included files are parsed whole."""
    source = SourceFile.from_text(text, path)
    parsed: dict[str, ParseResult] = {}

    def recording_parse(file: SourceFile) -> ParseResult:
        result = parser.parse(file) if parser is not None and file.name == path \
            else parse(file)
        parsed.setdefault(file.name, result)
        return result

    options = {}
    if sample is not None:
        contacts, events = sample.for_check()
        options = {"sample_contacts": contacts if sample.contacts else None,
                   "sample_events": events if sample.events else None}
    result = compile_model(source, parse=recording_parse, lower_table=False, **options)
    own = parsed.get(path)
    return Analysis(path, version, source, result, own.model if own else None, sample,
                    sample_problem, parser)
