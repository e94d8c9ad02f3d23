"""Writes syntaxes/score.tmLanguage.json, the TextMate grammar of `.score` files.

The keywords and token shapes come from the language's own lists (`dsl.ast.KEYWORDS`) and the
Pygments lexer (`dsl.highlight`), so the three highlighters and the parser agree on what a
keyword, a duration or a date is. `tests/test_editors.py` fails when the committed grammar is
not what this script writes: run `python3 editors/vscode/make_grammar.py` after a change.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from dsl.highlight import (ACCOUNT_WORDS, ALL_KEYWORDS, CONSTANTS, DATETIME,  # noqa: E402
                           DECLARATIONS, DURATION, GROUP_WORDS, OPERATOR_WORDS)

OUTPUT = HERE / "syntaxes" / "score.tmLanguage.json"
NAME = r"[\p{L}_][\p{L}\p{N}\p{M}_]*"
LABEL = rf"(?:{NAME}|\d[\p{{L}}\p{{N}}_]*)"
KEYWORD = "(?:" + "|".join(ALL_KEYWORDS) + r")(?![\p{L}\p{N}_])"
END = r"(?![\p{L}\p{N}_])"
ACTIONS = ("notify", "tag", "reset")
OTHER = tuple(k for k in ALL_KEYWORDS
              if k not in OPERATOR_WORDS + CONSTANTS + ACTIONS + ("score", "stage", "contact"))


BEGIN = r"(?<![\p{L}\p{N}_])"


def words(items) -> str:
    return BEGIN + "(?:" + "|".join(items) + ")" + END


def grammar() -> dict:
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/"
                   "tmlanguage.json",
        "name": "scorelang",
        "scopeName": "source.score",
        "fileTypes": ["score"],
        "patterns": [{"include": "#comment"}, {"include": "#test-header"},
                     {"include": "#grade"}, {"include": "#group"}, {"include": "#account"},
                     {"include": "#declaration"},
                     {"include": "#test-line"}, {"include": "#rule-start"},
                     {"include": "#line"}],
        "repository": {
            "comment": {"match": "#.*$", "name": "comment.line.number-sign.score"},
            "string": {
                "begin": '"', "end": r'"|$', "name": "string.quoted.double.score",
                "patterns": [{"match": r"\\.", "name": "constant.character.escape.score"},
                             {"match": r"[*?]", "name": "constant.other.glob.score"}]},
            "test-header": {
                "match": r'^(test)\s+("(?:[^"\\]|\\.)*")\s*(:)',
                "captures": {"1": {"name": "keyword.control.declaration.score"},
                             "2": {"name": "string.quoted.double.test-name.score"},
                             "3": {"name": "punctuation.separator.colon.score"}}},
            "grade": {
                "begin": rf"^(grade)\s+({NAME})", "end": "$",
                "beginCaptures": {"1": {"name": "keyword.control.declaration.score"},
                                  "2": {"name": "entity.name.type.grade.score"}},
                "patterns": [
                    {"include": "#comment"},
                    {"match": rf"{BEGIN}(by)\s+({NAME})",
                     "captures": {"1": {"name": "keyword.other.score"},
                                  "2": {"name": "variable.other.score-name.score"}}},
                    {"match": rf"{BEGIN}(else)\s+({LABEL})",
                     "captures": {"1": {"name": "keyword.other.score"},
                                  "2": {"name": "constant.other.label.score"}}},
                    {"match": rf"{BEGIN}(and)\s+({NAME})",
                     "captures": {"1": {"name": "keyword.operator.logical.score"},
                                  "2": {"name": "entity.name.type.grade.score"}}},
                    {"include": "#label-list"},
                    {"match": rf"({LABEL})\s*(>=|>|<=|<|=)",
                     "captures": {"1": {"name": "constant.other.label.score"},
                                  "2": {"name": "keyword.operator.comparison.score"}}},
                    {"include": "#values"}, {"include": "#punctuation"}, {"match": NAME}]},
            "group": {
                "begin": rf"^(group)\s+({NAME})", "end": "$",
                "beginCaptures": {"1": {"name": "keyword.control.declaration.score"},
                                  "2": {"name": "variable.other.score-name.score"}},
                "patterns": [
                    {"include": "#comment"},
                    {"match": rf"{BEGIN}(of)\s+({NAME})",
                     "captures": {"1": {"name": "keyword.other.score"},
                                  "2": {"name": "variable.other.score-name.score"}}},
                    {"match": words(GROUP_WORDS), "name": "keyword.other.score"},
                    {"include": "#values"}, {"match": NAME}]},
            "account": {
                "begin": rf"^(account){END}", "end": "$",
                "beginCaptures": {"1": {"name": "keyword.control.declaration.score"}},
                "patterns": [
                    {"include": "#comment"},
                    {"match": words(ACCOUNT_WORDS), "name": "keyword.other.score"},
                    {"match": rf"({LABEL})\s*(>=|>|<=|<)",
                     "captures": {"1": {"name": "constant.other.label.score"},
                                  "2": {"name": "keyword.operator.comparison.score"}}},
                    {"include": "#line"}]},
            "label-list": {
                "begin": r"\(", "end": r"\)|$",
                "beginCaptures": {"0": {"name": "punctuation.section.parens.begin.score"}},
                "endCaptures": {"0": {"name": "punctuation.section.parens.end.score"}},
                "patterns": [{"include": "#string"}, {"include": "#comment"},
                             {"match": LABEL, "name": "constant.other.label.score"},
                             {"match": ",", "name": "punctuation.separator.comma.score"}]},
            "declaration": {"patterns": [
                {"match": rf"^(score)\s+({NAME})",
                 "captures": {"1": {"name": "keyword.control.declaration.score"},
                              "2": {"name": "variable.other.score-name.score"}}},
                {"match": rf"^(stage)\s+({LABEL})",
                 "captures": {"1": {"name": "keyword.control.declaration.score"},
                              "2": {"name": "constant.other.label.stage.score"}}},
                {"match": rf"^(event)\s+({NAME})",
                 "captures": {"1": {"name": "keyword.control.declaration.score"},
                              "2": {"name": "entity.name.function.event.score"}}},
                {"match": rf"^(decay|expire)\s+({NAME})",
                 "captures": {"1": {"name": "keyword.control.declaration.score"},
                              "2": {"name": "variable.other.score-name.score"}}},
                {"match": "^" + words(DECLARATIONS),
                 "name": "keyword.control.declaration.score"}]},
            "test-line": {"patterns": [
                {"match": rf"^(\s+)(contact){END}",
                 "captures": {"2": {"name": "keyword.other.score"}}},
                {"match": rf"^(\s+)(?!{KEYWORD})({NAME})",
                 "captures": {"2": {"name": "entity.name.function.event.score"}}},
                {"match": rf"{BEGIN}(at)\s+({DATETIME})\s+(?!{KEYWORD})({NAME})",
                 "captures": {"1": {"name": "keyword.other.score"},
                              "2": {"name": "constant.numeric.datetime.score"},
                              "3": {"name": "entity.name.function.event.score"}}},
                {"match": rf"{BEGIN}(after)\s+({DURATION})\s+(?!{KEYWORD})({NAME})",
                 "captures": {"1": {"name": "keyword.other.score"},
                              "2": {"name": "constant.numeric.duration.score"},
                              "3": {"name": "entity.name.function.event.score"}}}]},
            "rule-start": {"patterns": [
                {"match": rf"^(?!{KEYWORD})({NAME})", "name": "entity.name.function.event.score"},
                {"match": r'^"(?:[^"\\]|\\.)*"',
                 "name": "string.quoted.double.score entity.name.function.event.score"}]},
            "line": {"patterns": [
                {"include": "#comment"}, {"include": "#string"},
                {"match": rf"{BEGIN}(without)\s+({NAME})",
                 "captures": {"1": {"name": "keyword.other.score"},
                              "2": {"name": "entity.name.function.event.score"}}},
                {"match": rf"{BEGIN}(is)\s+(not\s+)?(?!(?:true|false|not){END})({LABEL})",
                 "captures": {"1": {"name": "keyword.operator.word.score"},
                              "2": {"name": "keyword.operator.logical.score"},
                              "3": {"name": "constant.other.label.score"}}},
                {"begin": BEGIN + r"(in)\s*(\()", "end": r"\)|$",
                 "beginCaptures": {"1": {"name": "keyword.operator.word.score"},
                                   "2": {"name": "punctuation.section.parens.begin.score"}},
                 "endCaptures": {"0": {"name": "punctuation.section.parens.end.score"}},
                 "patterns": [{"include": "#string"}, {"include": "#comment"},
                              {"match": words(CONSTANTS), "name": "constant.language.score"},
                              {"match": r"-?\d+(?:\.\d+)?(?![\p{L}_])",
                               "name": "constant.numeric.score"},
                              {"match": LABEL, "name": "constant.other.label.score"},
                              {"match": ",", "name": "punctuation.separator.comma.score"}]},
                {"match": rf"(\+\d+)\s+(?!{KEYWORD})({NAME})",
                 "captures": {"1": {"name": "constant.numeric.points.positive.score"},
                              "2": {"name": "variable.other.score-name.score"}}},
                {"match": rf"(-\d+)\s+(?!{KEYWORD})({NAME})",
                 "captures": {"1": {"name": "constant.numeric.points.negative.score"},
                              "2": {"name": "variable.other.score-name.score"}}},
                {"match": rf"(\d+)\s+(times?){END}",
                 "captures": {"1": {"name": "constant.numeric.score"},
                              "2": {"name": "keyword.other.score"}}},
                {"match": rf"{BEGIN}(reset)\s+({NAME})",
                 "captures": {"1": {"name": "keyword.other.action.score"},
                              "2": {"name": "variable.other.score-name.score"}}},
                {"match": rf"{BEGIN}(per)\s+(day|week|month){END}",
                 "captures": {"1": {"name": "keyword.other.score"},
                              "2": {"name": "keyword.other.score"}}},
                {"include": "#values"},
                {"match": rf"{BEGIN}contact\.", "name": "variable.language.contact.score"},
                {"match": rf"{BEGIN}stage{END}", "name": "variable.language.stage.score"},
                {"match": words(ACTIONS), "name": "keyword.other.action.score"},
                {"match": words(("and", "or", "not")), "name": "keyword.operator.logical.score"},
                {"match": words(("in", "is")), "name": "keyword.operator.word.score"},
                {"match": words(CONSTANTS), "name": "constant.language.score"},
                {"match": words(OTHER), "name": "keyword.other.score"},
                {"include": "#punctuation"},
                # any other word, so no keyword or number is found inside a name
                {"match": rf"{NAME}|\d+[\p{{L}}_][\p{{L}}\p{{N}}_]*"}]},
            "values": {"patterns": [
                {"include": "#string"},
                {"match": DATETIME, "name": "constant.numeric.datetime.score"},
                {"match": DURATION, "name": "constant.numeric.duration.score"},
                {"match": r"\d+(?:\.\d+)?%", "name": "constant.numeric.percentage.score"},
                {"match": r"-?\d+\.\.(?:-?\d+)?", "name": "constant.numeric.range.score"},
                {"match": r"\+\d+(?![\d.])", "name": "constant.numeric.points.positive.score"},
                {"match": r"-\d+(?![\d.])", "name": "constant.numeric.points.negative.score"},
                {"match": r"-?\d+(?:\.\d+)?", "name": "constant.numeric.score"},
                {"match": r"!=|<=|>=|=|<|>", "name": "keyword.operator.comparison.score"}]},
            "punctuation": {"patterns": [
                {"match": ",", "name": "punctuation.separator.comma.score"},
                {"match": ";", "name": "punctuation.separator.statement.score"},
                {"match": ":", "name": "punctuation.separator.colon.score"},
                {"match": r"\(", "name": "punctuation.section.parens.begin.score"},
                {"match": r"\)", "name": "punctuation.section.parens.end.score"}]},
        },
    }


def text() -> str:
    return json.dumps(grammar(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text(), encoding="utf-8")
    print(f"wrote {OUTPUT}")
