"""Hypothesis strategies for semantically valid models, event streams and contacts.

Unlike `tests/strategies.py` (any AST that parses back), these models make sense: every name
they use is declared, conditions compare like with like, grade bands go down, and the rules
draw from one small vocabulary of events, targets, properties and attributes shared with the
event streams, so that rules match, caps bind, absence rules see answers and decay, expiry
and calendar periods act within the few days an event stream spans.

Entry points: `models()` (dsl.ast.Model), `scenarios()` (model, events, contacts, as_of),
`order_free_models()` (no bounds, caps, decay, expiry, stages or resets).
"""
from __future__ import annotations

from functools import lru_cache

from hypothesis import strategies as st

from dsl import ast
from runtime.events import Event, parse_time

EVENT_TYPES = ("visit", "email_sent", "email_open", "download", "unsubscribe")
# Streams favour a few types, so that the same rule matches often (caps bind).
STREAM_TYPES = ("visit", "visit", "email_sent", "email_open", "email_open", "download",
                "unsubscribe")
TARGETS = ("pricing", "home", "blog/a", "blog/bb", "c1", "c2")
TARGET_ITEMS = ("pricing", "home", "c1", "c2", "blog/*", "blog/?", "*")
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")
SCORE_NAMES = ("engagement", "fit", "intent")
GRADE_NAMES = ("tier", "band")
LABELS = ("A", "B", "C", "D")
STAGE_NAMES = ("MQL", "SQL", "SAL")
ACTION_WORDS = ("sales", "marketing", "hot", "not-a-fit")
CONTACT_IDS = ("c-1", "c-2", "c-3")
EVENT_IDS = ("e1", "e2", "e3")
START = parse_time("2026-03-01T00:00:00Z")
HOUR = 3600 * 1_000_000
SPAN_HOURS = 96  # event streams cover four days: day/week/month boundaries and decay steps
# Stage conditions that read `stage` (see
# tests/test_engine_issues.py::test_stage_chain_moves_again_at_the_as_of_point).
STAGE_CHAINS = True

points = st.integers(min_value=-30, max_value=30).filter(bool)
small_durations = st.one_of(
    st.builds(ast.Duration, st.integers(1, 90), st.just("minute")),
    st.builds(ast.Duration, st.integers(1, 36), st.just("hour")),
    st.builds(ast.Duration, st.integers(1, 3), st.just("day")),
    st.builds(ast.Duration, st.just(1), st.just("week")),
)
limits = st.one_of(
    st.none(),
    st.builds(ast.Limit, st.integers(1, 2), st.one_of(st.none(), st.sampled_from(ast.PERIODS))),
    st.builds(ast.Limit, st.just(1), st.sampled_from(ast.PERIODS)),
)
targets = st.one_of(
    st.just(ast.Targets()),
    st.just(ast.Targets()),
    st.just(ast.Targets(any=True)),
    st.lists(st.sampled_from(TARGET_ITEMS), min_size=1, max_size=3, unique=True)
    .map(lambda items: ast.Targets(tuple(items))),
)


# --------------------------------------------------------------------------- conditions


def _combine(atoms):
    """And / Or / Not over a strategy of atoms, one level deep (enough to mix them)."""
    return st.one_of(
        atoms,
        atoms.map(ast.Not),
        st.lists(atoms, min_size=2, max_size=3).map(lambda ops: ast.And(tuple(ops))),
        st.lists(atoms, min_size=2, max_size=3).map(lambda ops: ast.Or(tuple(ops))),
    )


ORDERINGS = ("=", "!=", "<", "<=", ">", ">=")
EQUALITIES = ("=", "!=", "is", "is not")


def _number_compare(name: str, contact: bool = False, low: int = 0, high: int = 300):
    return st.builds(lambda op, n: ast.Compare(ast.Ref(name, contact), op, ast.Number(n)),
                     st.sampled_from(ORDERINGS), st.integers(low, high))


def _text_compare(name: str, choices, contact: bool = False):
    one = st.sampled_from(choices).map(ast.Text)
    return st.one_of(
        st.builds(lambda op, v: ast.Compare(ast.Ref(name, contact), op, v),
                  st.sampled_from(EQUALITIES), one),
        st.builds(lambda vs, neg: ast.In(ast.Ref(name, contact), tuple(vs), neg),
                  st.lists(one, min_size=1, max_size=3), st.booleans()),
    )


def _flag(name: str, contact: bool = False):
    return st.one_of(
        st.just(ast.Truth(ast.Ref(name, contact))),
        st.builds(lambda op, b: ast.Compare(ast.Ref(name, contact), op, ast.Bool(b)),
                  st.sampled_from(EQUALITIES), st.booleans()),
    )


TITLES = ("CEO", "CTO", "VP*", "Dev", "V?")
PLANS = ("pro", "free", "ent*")


@lru_cache(maxsize=None)
def profile_conditions():
    """`if` / `require`: profile attributes only."""
    return _combine(st.one_of(
        _number_compare("employees", low=0, high=400),
        _text_compare("title", TITLES),
        _text_compare("country", ("DE", "FR", "US")),
        _flag("consent"),
        st.builds(ast.Const, st.booleans()),
    ))


@lru_cache(maxsize=None)
def where_conditions():
    """`where`: event properties, and the profile through `contact.`."""
    return _combine(st.one_of(
        _number_compare("seconds", low=0, high=60),
        _text_compare("plan", PLANS),
        _flag("paid"),
        _text_compare("country", ("DE", "FR"), contact=True),
        _number_compare("employees", contact=True, low=0, high=400),
    ))


def state_conditions(scores, grades, stages):
    """Stages and triggers: scores, grades, `stage`, profile attributes."""
    return _state_conditions(tuple(scores), tuple(grades), tuple(stages))


@lru_cache(maxsize=None)  # building strategies is costly: one per combination of names
def _state_conditions(scores, grades, stages):
    atoms = [_number_compare(name, low=-40, high=80) for name in scores]
    for grade in grades:
        labels = [band.label for band in grade.bands] + \
            ([grade.otherwise] if grade.otherwise else [])
        label = st.sampled_from(labels).map(ast.Label)
        atoms.append(st.builds(lambda op, v, g=grade.name: ast.Compare(ast.Ref(g), op, v),
                               st.sampled_from(("is", "is not", "=", "!=")), label))
        atoms.append(st.builds(lambda vs, neg, g=grade.name: ast.In(ast.Ref(g), tuple(vs), neg),
                               st.lists(label, min_size=1, max_size=2), st.booleans()))
    if stages:
        label = st.sampled_from(stages).map(ast.Label)
        atoms.append(st.builds(lambda op, v: ast.Compare(ast.Ref("stage"), op, v),
                               st.sampled_from(("is", "is not")), label))
    atoms.append(_text_compare("title", TITLES))
    return _combine(st.one_of(*atoms))


# --------------------------------------------------------------------------- statements


@st.composite
def score_decls(draw, bounded: bool = True):
    count = draw(st.integers(0, 3))
    declared = []
    for name in SCORE_NAMES[:count]:
        if bounded and draw(st.booleans()):
            low = draw(st.integers(-20, 10))
            high = draw(st.one_of(st.none(), st.integers(low + 1, low + 80)))
            declared.append(ast.ScoreDecl(name, low, high, has_range=True))
        else:
            declared.append(ast.ScoreDecl(name))
    return declared


@lru_cache(maxsize=None)
def _score_of(scores: tuple):
    """Which score a rule awards: None (the default) or a declared name."""
    return st.one_of(st.none(), st.sampled_from(scores)) if scores else st.none()


@st.composite
def event_rules(draw, scores, capped: bool = True):
    return ast.EventRule(
        event=draw(st.sampled_from(STREAM_TYPES)),
        targets=draw(targets),
        where=draw(st.one_of(st.none(), st.none(), where_conditions())),
        points=draw(points),
        score=draw(_score_of(tuple(scores))),
        limit=draw(limits) if capped else None,
    )


@st.composite
def absence_rules(draw, scores, capped: bool = True):
    return ast.AbsenceRule(
        event=draw(st.sampled_from(EVENT_TYPES)),
        targets=draw(targets),
        missing=draw(st.sampled_from(EVENT_TYPES)),
        missing_targets=draw(targets),
        within=draw(small_durations),
        points=draw(points),
        score=draw(_score_of(tuple(scores))),
        limit=draw(limits) if capped else None,
    )


@st.composite
def profile_rules(draw, scores):
    return ast.ProfileRule(draw(profile_conditions()), draw(points), draw(_score_of(tuple(scores))))


@st.composite
def grades(draw, score_names):
    name_count = draw(st.integers(0, 2))
    made = []
    for name in GRADE_NAMES[:name_count]:
        thresholds = draw(st.lists(st.integers(-20, 60), min_size=1, max_size=3, unique=True))
        thresholds.sort(reverse=True)
        bands = tuple(ast.Band(label, threshold) for label, threshold in zip(LABELS, thresholds))
        otherwise = LABELS[len(bands)] if draw(st.booleans()) else None
        made.append(ast.Grade(name, draw(st.sampled_from(score_names)), bands, otherwise))
    return made


@st.composite
def triggers(draw, score_names, grade_list, stage_names, resets: bool = True):
    kinds = ("notify", "tag", "reset") if resets else ("notify", "tag")
    count = draw(st.integers(1, 3))
    actions = []
    for _ in range(count):
        kind = draw(st.sampled_from(kinds))
        arg = draw(st.sampled_from(score_names if kind == "reset" else ACTION_WORDS))
        actions.append(ast.Action(kind, arg))
    return ast.Trigger(draw(state_conditions(score_names, grade_list, stage_names)),
                       tuple(actions), draw(st.booleans()))


@st.composite
def models(draw, *, bounds=True, caps=True, decay=True, expire=True, stages=True, resets=True,
           absence=True, stage_chains=STAGE_CHAINS):
    """A semantically valid model; the keywords turn features off. `stage_chains`: stage
    conditions may read `stage` itself (`stage SQL when stage is MQL`)."""
    declared = draw(score_decls(bounded=bounds))
    score_names = [d.name for d in declared] or ["score"]
    rule_scores = [d.name for d in declared]
    statements: list = list(declared)
    if draw(st.booleans()):
        statements.append(ast.TimezoneDecl(draw(st.sampled_from(ZONES))))
    if draw(st.integers(0, 3)) == 0:
        statements.append(ast.Require(draw(profile_conditions())))
    statements += draw(st.lists(event_rules(rule_scores, caps), min_size=1, max_size=5))
    if absence:
        statements += draw(st.lists(absence_rules(rule_scores, caps), max_size=2))
    statements += draw(st.lists(profile_rules(rule_scores), max_size=2))
    for name in score_names:
        if decay and draw(st.integers(0, 2)) == 0:
            percent = draw(st.sampled_from((10, 50, 99, 2.5, 33)))
            statements.append(ast.Decay(name, percent, draw(small_durations)))
        if expire and draw(st.integers(0, 3)) == 0:
            statements.append(ast.Expire(name, draw(small_durations)))
    grade_list = draw(grades(score_names))
    statements += grade_list
    stage_names = []
    if stages:
        stage_names = list(STAGE_NAMES[:draw(st.integers(0, 3))])
        for name in stage_names:
            readable = stage_names if stage_chains else []
            statements.append(ast.Stage(name, draw(state_conditions(score_names, grade_list,
                                                                    readable))))
    statements += draw(st.lists(triggers(score_names, grade_list, stage_names, resets),
                                max_size=3))
    return ast.Model(tuple(statements))


def order_free_models():
    """Models whose scores do not depend on the order of events."""
    return models(bounds=False, caps=False, decay=False, expire=False, stages=False,
                  resets=False)


# --------------------------------------------------------------------------- data

_PROP_VALUES = {
    "seconds": st.one_of(st.integers(0, 60), st.just(30.5), st.just("45"), st.none()),
    "plan": st.one_of(st.sampled_from(("pro", "free", "enterprise", "entry")), st.just(1)),
    "paid": st.one_of(st.booleans(), st.just(1), st.just("true")),
}
_ATTRIBUTE_VALUES = {
    "title": st.one_of(st.sampled_from(("CEO", "CTO", "VP Sales", "Dev", "VX")), st.just(5)),
    "employees": st.one_of(st.integers(0, 400), st.just(199.5), st.just("250")),
    "country": st.sampled_from(("DE", "FR", "US")),
    "consent": st.one_of(st.booleans(), st.just("true"), st.none()),
}


def _some_of(values):
    return st.fixed_dictionaries({}, optional=values)


_PROPS = _some_of(_PROP_VALUES)
_PROFILES = _some_of(_ATTRIBUTE_VALUES)
_HALF_HOURS = st.integers(0, SPAN_HOURS * 2)
_STREAM_TYPES = st.sampled_from(STREAM_TYPES)
_TARGETS = st.one_of(st.none(), st.sampled_from(TARGETS))
_IDS = st.one_of(st.none(), st.none(), st.sampled_from(EVENT_IDS))


@lru_cache(maxsize=None)
def _contact_ids(ids: tuple):
    return st.sampled_from(ids[:1] + ids)  # the first contact gets more events


@st.composite
def events(draw, max_size: int = 16, contacts=CONTACT_IDS):
    """Events over four days on a half-hour grid, so that times repeat; duplicate ids."""
    made = []
    size = draw(st.integers(0, max_size))
    who = _contact_ids(tuple(contacts))
    for seq in range(size):
        made.append(Event(
            contact=draw(who),
            event=draw(_STREAM_TYPES),
            at=START + draw(_HALF_HOURS) * HOUR // 2,
            target=draw(_TARGETS),
            id=draw(_IDS),
            props=draw(_PROPS),
            line=seq + 1,
            seq=seq,
        ))
    return made


@st.composite
def contacts(draw, ids=CONTACT_IDS):
    """Profiles as `{id: attributes}` for some of the contacts (others have none)."""
    chosen = draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids)))
    return {contact: draw(_PROFILES) for contact in sorted(chosen)}


as_of_times = st.one_of(
    st.none(),
    st.integers(0, (SPAN_HOURS + 48) * 2).map(lambda half_hours: START + half_hours * HOUR // 2),
)


@st.composite
def scenarios(draw, model_strategy=None, max_events: int = 16):
    """(model, events, contacts, as_of): as_of None means the latest event time."""
    model = draw(model_strategy if model_strategy is not None else models())
    stream = draw(events(max_events))
    profiles = draw(contacts())
    as_of = draw(as_of_times)
    if as_of is None and not stream:
        as_of = START
    return model, stream, profiles, as_of
