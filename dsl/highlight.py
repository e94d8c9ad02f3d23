"""A Pygments lexer for `.score` files (`pygmentize -l score`, Sphinx, MkDocs).

Registered as the `pygments.lexers` entry point `score`. The keywords come from `dsl.ast`,
so the lexer knows the words the parser knows. Points are shown as insertions (`+15`) and
deletions (`-20`), which every Pygments style colours green and red; labels (`A` in
`tier is A`, the bands of a grade) as constants; the event a rule starts with as a function.
Only text the language cannot contain at all (such as `$`) becomes an error token.
"""
from __future__ import annotations

import re

from pygments.lexer import RegexLexer, bygroups, include, words
from pygments.token import (Comment, Error, Generic, Keyword, Name, Number, Operator,
                            Punctuation, String, Whitespace)

from .ast import KEYWORDS, STATEMENT_KEYWORDS

# Keywords only where a statement starts (docs/language.md sections 1 and 10.8).
SOFT_KEYWORDS = ("score", "stage", "contact")
DECLARATIONS = ("score", "timezone", "require", "event", "include", "decay", "expire", "grade",
                "stage", "test", "if", "when") + tuple(sorted(STATEMENT_KEYWORDS))
# Language v2 words that are keywords only inside their statements (docs/language.md 10).
GROUP_WORDS = ("of", "min", "max")
ACCOUNT_WORDS = ("score", "grade", "by", "of", "sum", "count", "max", "min", "where")
OPERATOR_WORDS = ("and", "or", "not", "in", "is")
CONSTANTS = ("true", "false")
ALL_KEYWORDS = tuple(sorted(KEYWORDS | set(SOFT_KEYWORDS) | STATEMENT_KEYWORDS))
_OTHER = tuple(sorted((KEYWORDS | STATEMENT_KEYWORDS) - set(OPERATOR_WORDS) - set(CONSTANTS)))

NAME = r"[^\W\d]\w*"
_KEYWORD = r"(?:" + "|".join(ALL_KEYWORDS) + r")(?!\w)"
DATETIME = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?"
DURATION = r"\d+[ \t]*(?:minutes|minute|hours|hour|days|day|weeks|week|m|h|d|w)(?!\w)"
STRING = r'"(?:[^"\\\n]|\\.)*"'


class ScoreLexer(RegexLexer):
    name = "scorelang"
    aliases = ["score", "scorelang"]
    filenames = ["*.score"]
    mimetypes = ["text/x-score"]
    url = "https://pypi.org/project/scorelang/"
    flags = re.MULTILINE | re.UNICODE

    tokens = {
        "root": [
            (r"\n", Whitespace),
            (r"#.*?$", Comment.Single),
            (STRING, String.Double),
            (r'"[^"\n]*$', String.Double),  # unterminated: the checker says so (E003)
            # `grade tier by fit: A >= 30, ..., else D`: the bands are labels
            (r"^(grade)(\s+)(" + NAME + r")", bygroups(Keyword.Declaration, Whitespace,
                                                        Name.Class), "grade"),
            (r"^(stage)(\s+)(" + NAME + r"|\d\w*)", bygroups(Keyword.Declaration, Whitespace,
                                                        Name.Constant)),
            (r"^(score)(\s+)(" + NAME + r")", bygroups(Keyword.Declaration, Whitespace,
                                                        Name.Variable)),
            (r"^(group)(\s+)(" + NAME + r")", bygroups(Keyword.Declaration, Whitespace,
                                                        Name.Variable), "group"),
            (r"^account(?!\w)", Keyword.Declaration, "account"),
            (r"(\d+)([ \t]+)(times?)(?!\w)", bygroups(Number, Whitespace, Keyword)),
            (r"^(event)(\s+)(" + NAME + r")", bygroups(Keyword.Declaration, Whitespace,
                                                        Name.Function)),
            (words(DECLARATIONS, prefix="^", suffix=r"(?!\w)"), Keyword.Declaration),
            # test lines: `contact ...`, `[at TIME | after DURATION] EVENT ...`
            (r"^([ \t]+)(contact)(?!\w)", bygroups(Whitespace, Keyword)),
            (r"^([ \t]+)(?!" + _KEYWORD + r")(" + NAME + r")", bygroups(Whitespace,
                                                                      Name.Function)),
            (r"(at)([ \t]+)(" + DATETIME + r")([ \t]+)(?!" + _KEYWORD + r")(" + NAME + r")",
             bygroups(Keyword, Whitespace, Number.Other, Whitespace, Name.Function)),
            (r"(after)([ \t]+)(" + DURATION + r")([ \t]+)(?!" + _KEYWORD + r")(" + NAME + r")",
             bygroups(Keyword, Whitespace, Number.Other, Whitespace, Name.Function)),
            # a rule starts with its event
            (r"^(?!" + _KEYWORD + r")" + NAME, Name.Function),
            (r"(without)(\s+)(" + NAME + r")", bygroups(Keyword, Whitespace, Name.Function)),
            (r"(per)(\s+)(day|week|month)(?!\w)", bygroups(Keyword, Whitespace, Keyword)),
            (r"(decay|expire|reset)(\s+)(" + NAME + r")", bygroups(Keyword, Whitespace,
                                                                Name.Variable)),
            # the score that receives the points
            (r"(\+\d+)([ \t]+)(?!" + _KEYWORD + r")(" + NAME + r")",
             bygroups(Generic.Inserted, Whitespace, Name.Variable)),
            (r"(-\d+)([ \t]+)(?!" + _KEYWORD + r")(" + NAME + r")",
             bygroups(Generic.Deleted, Whitespace, Name.Variable)),
            (r"[ \t\f\r]+", Whitespace),
            include("values"),
            (r"(is)(\s+)(not)(\s+)(?!(?:true|false)(?!\w))(" + NAME + r"|\d\w*)",
             bygroups(Operator.Word, Whitespace, Operator.Word, Whitespace, Name.Constant)),
            (r"(is)(\s+)(?!(?:not|true|false)(?!\w))(" + NAME + r"|\d\w*)",
             bygroups(Operator.Word, Whitespace, Name.Constant)),
            (r"(in)(\s*)(\()", bygroups(Operator.Word, Whitespace, Punctuation), "labels"),
            (words(OPERATOR_WORDS, suffix=r"(?!\w)"), Operator.Word),
            include("names"),
            (r"[(),:;]", Punctuation),
            (r".", Error),
        ],
        "values": [
            (DATETIME, Number.Other),
            (DURATION, Number.Other),
            (r"\d+(?:\.\d+)?%", Number.Other),
            (r"-?\d+\.\.(?:-?\d+)?", Number.Integer),
            (r"\+\d+(?![\d.])", Generic.Inserted),
            (r"-\d+(?![\d.])", Generic.Deleted),
            (r"-?\d+(?:\.\d+)?", Number),
            (r"!=|<=|>=|=|<|>", Operator),
        ],
        "names": [
            (words(CONSTANTS, suffix=r"(?!\w)"), Keyword.Constant),
            (r"contact\.", Name.Builtin),
            (words(("stage",), suffix=r"(?!\w)"), Name.Builtin),
            (words(_OTHER, suffix=r"(?!\w)"), Keyword),
            (NAME, Name),
        ],
        "grade": [
            (r"\n", Whitespace, "#pop"),
            (r"[ \t\f\r]+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r"(else)(\s+)(" + NAME + r"|\d\w*)", bygroups(Keyword, Whitespace,
                                                            Name.Constant)),
            (r"(" + NAME + r"|\d\w*)(\s*)(>=|>|<=|<|=)", bygroups(Name.Constant, Whitespace,
                                                                  Operator)),
            (r"(by)(\s+)(" + NAME + r")", bygroups(Keyword, Whitespace, Name.Variable)),
            (r"(and)(\s+)(" + NAME + r")", bygroups(Operator.Word, Whitespace, Name.Variable)),
            (r"\(", Punctuation, "labels"),
            include("values"),
            include("names"),
            (r"[(),:;]", Punctuation),
            (r".", Error),
        ],
        "group": [
            (r"\n", Whitespace, "#pop"),
            (r"[ \t\f\r]+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r"(of)(\s+)(" + NAME + r")", bygroups(Keyword, Whitespace, Name.Variable)),
            (words(GROUP_WORDS, suffix=r"(?!\w)"), Keyword),
            include("values"),
            (NAME, Name),
            (r".", Error),
        ],
        "account": [
            (r"\n", Whitespace, "#pop"),
            (r"[ \t\f\r]+", Whitespace),
            (r"#.*?$", Comment.Single),
            (STRING, String.Double),
            (words(ACCOUNT_WORDS, suffix=r"(?!\w)"), Keyword),
            (r"(is)(\s+)(not)(\s+)(" + NAME + r"|\d\w*)",
             bygroups(Operator.Word, Whitespace, Operator.Word, Whitespace, Name.Constant)),
            (r"(is)(\s+)(?!(?:not|true|false)(?!\w))(" + NAME + r"|\d\w*)",
             bygroups(Operator.Word, Whitespace, Name.Constant)),
            (r"(in)(\s*)(\()", bygroups(Operator.Word, Whitespace, Punctuation), "labels"),
            (words(OPERATOR_WORDS, suffix=r"(?!\w)"), Operator.Word),
            (r"(" + NAME + r"|\d\w*)(\s*)(>=|>|<=|<|=)(?!=)", bygroups(Name.Constant, Whitespace,
                                                                      Operator)),
            include("values"),
            include("names"),
            (r"[(),:;]", Punctuation),
            (r".", Error),
        ],
        "labels": [
            (r"\)", Punctuation, "#pop"),
            (r"\s+", Whitespace),
            (STRING, String.Double),
            (words(CONSTANTS, suffix=r"(?!\w)"), Keyword.Constant),
            (r"-?\d+(?:\.\d+)?(?!\w)", Number),
            (NAME + r"|\d\w*", Name.Constant),
            (r",", Punctuation),
            (r"#.*?$", Comment.Single),
            (r".", Error),
        ],
    }
