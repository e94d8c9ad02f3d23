"""Hypothesis strategies that build valid `.score` ASTs (spans left out: they do not compare).

Valid means "parses back": names avoid the reserved words of docs/language.md section 1, and the
soft keywords `score`, `stage`, `contact` appear only where the language lets them be names
(a score reference, a condition's name). Meaning (unknown scores, type mismatches) is not
checked here; the compiler's tests can filter with `compiler.check` if they need sound models.

Entry points: `models()`, `programs()` (their text), `statements`, `conditions(in_where=False)`,
`account_statements`, `tests_blocks`.
"""
from __future__ import annotations

from hypothesis import strategies as st

from dsl import ast
from dsl.formatter import KEYWORDS, SOFT_KEYWORDS, format_model

# A few letters outside ASCII so that Unicode names (`besuch`, `größe`, `名前`) are exercised.
_FIRST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_äöüßéçñøÆπλ名前"
_REST = _FIRST + "0123456789"

names = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(_FIRST),
    st.text(alphabet=_REST, max_size=8),
).filter(lambda name: name not in KEYWORDS and name not in SOFT_KEYWORDS)

# `score` is the default score's name: `expire score after 7 days`.
score_refs = st.one_of(names, st.just("score"))

# Free text: anything printable on one line, quotes, backslashes, `#` and globs included.
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
    max_size=12,
)
words = st.one_of(names, texts)  # a target or an action argument: bare or quoted

integers = st.integers(min_value=-10_000, max_value=10_000)
decimals = st.integers(min_value=-100_000, max_value=100_000).map(lambda n: n / 100)
numbers = st.one_of(integers, decimals)

durations = st.builds(ast.Duration, st.integers(min_value=1, max_value=500),
                      st.sampled_from(sorted(ast.DURATION_UNITS)))
limits = st.one_of(
    st.none(),
    st.builds(ast.Limit, st.integers(min_value=1, max_value=50),
              st.one_of(st.none(), st.sampled_from(ast.PERIODS))),
)
points = st.integers(min_value=-500, max_value=500)

# Event types: any text (a plain name is written bare, anything else quoted, 10.1).
event_names = st.one_of(names, names, texts.filter(bool))

# Grade and stage labels (10.4): a name or a digit run (`1`, `01`, `2b`).
_DIGITS = "0123456789"
digit_labels = st.builds(lambda digits, rest: digits + rest,
                         st.text(alphabet=_DIGITS, min_size=1, max_size=3),
                         st.one_of(st.just(""), st.builds(lambda f, r: f + r,
                                                          st.sampled_from(_FIRST),
                                                          st.text(alphabet=_REST, max_size=3))))
labels = st.one_of(names, digit_labels)
# In a condition an unquoted `1` is the Number 1 (read as the label "1" against a grade), so
# a digit Label there keeps what the number reading would lose: a leading zero or letters.
_label_values = st.one_of(
    names, digit_labels.filter(lambda text: not (text.isdigit() and str(int(text)) == text)))

values = st.one_of(
    st.builds(ast.Text, texts),
    st.builds(ast.Number, numbers),
    st.builds(ast.Bool, st.booleans()),
    st.builds(ast.Label, _label_values),
)
# Test data (`contact x = …`, `with p = …`) has no labels.
data_values = st.one_of(
    st.builds(ast.Text, texts),
    st.builds(ast.Number, numbers),
    st.builds(ast.Bool, st.booleans()),
)


def refs(in_where: bool = False):
    """A name in a condition; the `contact.` prefix exists only inside `where`."""
    plain = st.builds(ast.Ref, st.one_of(names, st.sampled_from(("score", "stage"))))
    if not in_where:
        return plain
    return st.one_of(plain, st.builds(ast.Ref, names, st.just(True)))


def _atoms(in_where: bool):
    ref = refs(in_where)
    return st.one_of(
        st.builds(ast.Compare, ref, st.sampled_from(ast.COMPARE_OPS), values),
        st.builds(ast.In, ref, st.lists(values, min_size=1, max_size=4).map(tuple),
                  st.booleans()),
        st.builds(ast.Truth, ref),
        st.builds(ast.Const, st.booleans()),
    )


def conditions(in_where: bool = False):
    def extend(children):
        operands = st.lists(children, min_size=2, max_size=3).map(tuple)
        return st.one_of(
            st.builds(ast.Not, children),
            st.builds(ast.And, operands),
            st.builds(ast.Or, operands),
        )

    return st.recursive(_atoms(in_where), extend, max_leaves=8)


targets = st.one_of(
    st.just(ast.NO_TARGETS),
    st.just(ast.Targets(any=True)),
    st.lists(words, min_size=1, max_size=3).map(lambda items: ast.Targets(tuple(items))),
)

# --------------------------------------------------------------------------- statements

score_decls = st.one_of(
    st.builds(ast.ScoreDecl, names),
    st.builds(lambda name, low, high: ast.ScoreDecl(name, low, high, True),
              names, integers, st.one_of(st.none(), integers)),
)
_by_properties = st.one_of(
    st.builds(ast.ByProperty, names),
    st.builds(ast.ByProperty, names, integers, st.one_of(st.none(), integers)),
)
event_rules = st.one_of(
    st.builds(ast.EventRule, event_names, targets, st.one_of(st.none(), conditions(True)),
              points, st.one_of(st.none(), score_refs), limits),
    st.builds(lambda event, targets, where, score, limit, by:
              ast.EventRule(event, targets, where, None, score, limit, by),
              event_names, targets, st.one_of(st.none(), conditions(True)),
              st.one_of(st.none(), score_refs), limits, _by_properties),
)
absence_rules = st.builds(ast.AbsenceRule, event_names, targets, event_names, targets,
                          durations, points, st.one_of(st.none(), score_refs), limits)
inactivity_rules = st.builds(
    ast.InactivityRule, durations, points, st.one_of(st.none(), score_refs),
    st.one_of(st.none(), durations),
    st.one_of(st.none(), st.builds(ast.Limit, st.integers(min_value=1, max_value=50))))
group_decls = st.builds(ast.GroupDecl, names, st.one_of(st.none(), score_refs),
                        st.one_of(st.none(), integers), st.one_of(st.none(), integers))
activity_decls = st.builds(ast.ActivityDecl,
                           st.lists(event_names, min_size=1, max_size=3).map(tuple))
profile_rules = st.builds(ast.ProfileRule, conditions(), points,
                          st.one_of(st.none(), score_refs))
event_decls = st.builds(
    ast.EventDecl, event_names, st.one_of(st.none(), names),
    st.lists(st.builds(ast.Property, names, st.sampled_from(ast.PROPERTY_TYPES)),
             max_size=3).map(tuple),
)
grades = st.builds(
    ast.Grade, names, score_refs,
    st.lists(st.builds(ast.Band, labels, numbers), min_size=1, max_size=4).map(tuple),
    st.one_of(st.none(), labels),
)
matrix_grades = st.builds(
    ast.MatrixGrade, names, names, names,
    st.lists(st.builds(ast.Bucket, labels, st.lists(labels, min_size=1, max_size=3).map(tuple)),
             max_size=3).map(tuple),
    st.one_of(st.none(), labels),
).filter(lambda grade: grade.buckets or grade.otherwise is None)
actions = st.one_of(
    st.builds(ast.Action, st.sampled_from(("notify", "tag")), words),
    st.builds(ast.Action, st.just("reset"), score_refs),
)
triggers = st.builds(ast.Trigger, conditions(),
                     st.lists(actions, min_size=1, max_size=3).map(tuple), st.booleans())

# Accounts (10.6). A `count` has a filter only after its own condition (ast.AccountScore).
_optional_condition = st.one_of(st.none(), conditions())
account_scores = st.one_of(
    st.builds(ast.AccountScore, names, st.sampled_from(("sum", "max", "min")), score_refs,
              st.none(), _optional_condition),
    st.builds(lambda name, counted, where: ast.AccountScore(
        name, "count", None, counted, where if counted is not None else None),
        names, _optional_condition, _optional_condition),
)
account_grades = st.builds(
    ast.AccountGrade, names, names,
    st.lists(st.builds(ast.Band, labels, numbers), min_size=1, max_size=4).map(tuple),
    st.one_of(st.none(), labels),
)
account_statements = st.one_of(st.builds(ast.AccountBy, names), account_scores, account_grades)

# --------------------------------------------------------------------------- tests

_dates = st.builds(
    lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
    st.integers(2000, 2099), st.integers(1, 12), st.integers(1, 28),
)
_times = st.builds(
    lambda date, h, mi, s, zone: f"{date}T{h:02d}:{mi:02d}:{s:02d}{zone}",
    _dates, st.integers(0, 23), st.integers(0, 59), st.integers(0, 59),
    st.sampled_from(("Z", "+01:00", "-05:30")),
)
moments = st.one_of(_dates, _times)
assignments = st.lists(st.builds(ast.Assignment, names, data_values),
                       min_size=1, max_size=3).map(tuple)


def _test_event(event, target, when, properties):
    at, after = when
    return ast.TestEvent(event, target, at, after, properties)


test_steps = st.one_of(
    st.builds(ast.TestContact, assignments),
    st.builds(
        _test_event, event_names, st.one_of(st.none(), words),
        st.one_of(st.just((None, None)), moments.map(lambda m: (m, None)),
                  durations.map(lambda d: (None, d))),
        st.one_of(st.just(()), assignments),
    ),
    st.one_of(st.builds(ast.TestNow, moments),
              st.builds(lambda d: ast.TestNow(None, d), durations)),
    st.builds(ast.ExpectScore, score_refs, st.sampled_from(("=", "!=", "<", "<=", ">", ">=")),
              numbers),
    st.builds(ast.ExpectLabel, st.one_of(names, st.just("stage")), labels, st.booleans()),
    st.builds(ast.ExpectUnscored),
    st.builds(ast.ExpectAction, st.sampled_from(("notify", "tag")), words, st.booleans()),
    st.builds(ast.ExpectAction, st.sampled_from(("notify", "tag")), words, st.just(False),
              st.integers(min_value=0, max_value=20)),
    st.builds(ast.ExpectAction, st.just("reset"), score_refs, st.booleans()),
)
tests_blocks = st.builds(ast.Test, texts,
                         st.lists(test_steps, min_size=1, max_size=6).map(tuple))

statements = st.one_of(
    score_decls,
    st.builds(ast.TimezoneDecl, texts),
    st.builds(ast.Require, conditions()),
    event_decls,
    st.builds(ast.Include, texts),
    group_decls,
    activity_decls,
    event_rules,
    absence_rules,
    profile_rules,
    inactivity_rules,
    st.builds(ast.Decay, score_refs,
              # strictly between 0% and 100%, as the parser requires
              st.one_of(st.integers(1, 99), st.integers(1, 9999).map(lambda n: n / 100)),
              durations),
    st.builds(ast.Expire, score_refs, durations),
    grades,
    matrix_grades,
    st.builds(ast.Stage, labels, conditions()),
    triggers,
    account_statements,
    tests_blocks,
)


def models(max_statements: int = 8):
    return st.lists(statements, min_size=1, max_size=max_statements).map(
        lambda items: ast.Model(tuple(items)))


def programs(max_statements: int = 8):
    """Valid `.score` text: a generated model in the canonical layout."""
    return models(max_statements).map(format_model)
