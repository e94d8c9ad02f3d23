"""Hypothesis strategies for semantically valid models, event streams and contacts.

Unlike `tests/strategies.py` (any AST that parses back), these models make sense: every name
they use is declared, conditions compare like with like, grade bands go down, and the rules
draw from one small vocabulary of events, targets, properties and attributes shared with the
event streams, so that rules match, caps bind, absence rules see answers and decay, expiry
and calendar periods act within the few days an event stream spans.

Entry points: `models()` (dsl.ast.Model), `scenarios()` (model, events, contacts, as_of),
`order_free_models()` (no bounds, caps, decay, expiry, stages or resets).

Language v2 (docs/language.md 10.1-10.5) is drawn with `models(v2=True)` and
`scenarios(..., v2=True)`: groups with bounds (rules, profile rules and inactivity rules
sending points to them, conditions and grades reading them), inactivity rules with `every` and
`at most` (and an `activity` list), matrix grades and digit labels (`1`, `01`, `2b`), `by PROP`
rules, and quoted event names (`"Product Added"`, `add-to-cart`). The v2 event streams add
those event types, `points` properties that are integers, integer-valued decimals (`20.0`),
decimals, text, bools, null, out-of-range numbers or missing, and long quiet gaps (an as-of time
up to two weeks after the events). The default stays v1: the SQL targets refuse v2 for now.
"""
from __future__ import annotations

from dataclasses import replace
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
# v2: labels may start with a digit and are compared as written (`01` is not `1`, 10.8.6)
LABEL_SETS = (LABELS, ("1", "2", "3", "4"), ("01", "1", "2b", "3"))
QUOTED_TYPES = ("Product Added", "add-to-cart")  # event names that must be quoted (10.1)
GROUP_NAMES = ("email", "web")
MATRIX_NAMES = ("priority", "lane")
BY_PROPS = ("points", "seconds")
STAGE_NAMES = ("MQL", "SQL", "SAL")
ACTION_WORDS = ("sales", "marketing", "hot", "not-a-fit")
CONTACT_IDS = ("c-1", "c-2", "c-3")
EVENT_IDS = ("e1", "e2", "e3")
START = parse_time("2026-03-01T00:00:00Z")
HOUR = 3600 * 1_000_000
SPAN_HOURS = 96  # event streams cover four days: day/week/month boundaries and decay steps
FAR_AS_OF_HOURS = 14 * 24  # v2: long quiet gaps after the events, for inactivity rules
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


def state_conditions(scores, grades, stages, groups=()):
    """Stages and triggers: scores, groups, grades, `stage`, profile attributes."""
    return _state_conditions(tuple(scores), tuple(grades), tuple(stages), tuple(groups))


def grade_labels(grade, known: dict | None = None) -> list[str]:
    """Every label a grade can give; a matrix grade's from its parts' (`known`: name ->
    labels of the grades before it)."""
    if isinstance(grade, ast.MatrixGrade):
        cells = [a + b for a in known[grade.first] for b in known[grade.second]]
        if not grade.buckets:
            return list(dict.fromkeys(cells))
        found = [b.label for b in grade.buckets]
        return list(dict.fromkeys(found + ([grade.otherwise] if grade.otherwise else [])))
    return [band.label for band in grade.bands] + ([grade.otherwise] if grade.otherwise else [])


def _label_value(label: str):
    """A label on the right of a comparison as the parser gives it: a plain number is a
    `Number` (`heat is 1`), any other digit run a `Label` (10.4)."""
    if label.isdigit() and not (len(label) > 1 and label[0] == "0"):
        return st.sampled_from((ast.Number(int(label)), ast.Label(label)))
    return st.just(ast.Label(label))


@lru_cache(maxsize=None)  # building strategies is costly: one per combination of names
def _state_conditions(scores, grades, stages, groups=()):
    atoms = [_number_compare(name, low=-40, high=80) for name in scores + groups]
    known: dict = {}
    for grade in grades:
        labels = grade_labels(grade, known)
        known[grade.name] = labels
        label = st.sampled_from(labels).flatmap(_label_value)
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
def event_rules(draw, scores, capped: bool = True, v2: bool = False):
    """With v2: quoted event names, and `by PROP [LO..HI]` rules (10.5)."""
    by = None
    if v2 and draw(st.integers(0, 3)) == 0:
        # the forms of score bounds (10.8.10): `LO..HI`, `LO..`, or none; never `..HI`
        low = draw(st.one_of(st.none(), st.integers(-30, 10)))
        high = None if low is None else draw(st.one_of(st.none(), st.integers(low, 40)))
        by = ast.ByProperty(draw(st.sampled_from(BY_PROPS)), low, high)
    return ast.EventRule(
        event=draw(st.sampled_from(STREAM_TYPES + (QUOTED_TYPES if v2 else ()))),
        targets=draw(targets),
        where=draw(st.one_of(st.none(), st.none(), where_conditions())),
        points=None if by is not None else draw(points),
        score=draw(_score_of(tuple(scores))),
        limit=draw(limits) if capped else None,
        by=by,
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


# --------------------------------------------------------------------------- v2 statements

# durations that are multiples of the v2 streams' time steps, so that an activity event often
# falls exactly at a due time (it answers the award, 10.3)
quiet_durations = st.one_of(
    st.builds(ast.Duration, st.integers(1, 48), st.just("hour")),
    st.builds(ast.Duration, st.integers(1, 4), st.just("day")),
    st.sampled_from((ast.Duration(6, "hour"), ast.Duration(12, "hour"), ast.Duration(1, "day"),
                     ast.Duration(2, "day"))),
)
# `every` without `at most` repeats until T: at least half a day, so a long quiet gap gives
# tens of awards, not thousands (the reference interpreter recomputes at every one)
slow_repeats = st.one_of(
    st.builds(ast.Duration, st.integers(12, 48), st.just("hour")),
    st.builds(ast.Duration, st.integers(1, 4), st.just("day")),
)


@st.composite
def inactivity_rules(draw, scores):
    """`inactive D POINTS [SCORE|GROUP] [every D2] [at most N]` (10.3)."""
    every = limit = None
    if draw(st.booleans()):
        if draw(st.booleans()):
            limit = ast.Limit(draw(st.integers(1, 3)))
            every = draw(quiet_durations)
        else:
            every = draw(slow_repeats)
    return ast.InactivityRule(draw(quiet_durations), draw(points),
                              draw(_score_of(tuple(scores))), every, limit)


@st.composite
def group_decls(draw, declared: list, at_least: int = 0):
    """0-2 groups (`at_least` of them) of the declared scores (or of the default score), each
    with at least one bound, `min <= max`, and bounds within the score's own range."""
    made = []
    owners = declared or [ast.ScoreDecl("score")]
    for name in GROUP_NAMES[:draw(st.integers(at_least, 2))]:
        owner = draw(st.sampled_from(owners))
        floor = owner.low if owner.low is not None else -20
        ceiling = owner.high if owner.high is not None else 40
        kind = draw(st.sampled_from(("min", "max", "max", "both")))
        low = draw(st.integers(floor, min(ceiling, floor + 20))) if kind != "max" else None
        high = draw(st.integers(max(floor, low if low is not None else floor), ceiling)) \
            if kind != "min" else None
        # `of` names a declared score; the default score may go without it
        of = owner.name if declared and (owner is not declared[0] or draw(st.booleans())) \
            else None
        made.append(ast.GroupDecl(name, of, low, high))
    return made


def _group_owner(group: ast.GroupDecl, declared: list) -> str:
    return group.score or (declared[0].name if declared else "score")


@st.composite
def grades(draw, score_names, v2: bool = False):
    """Band grades; with v2 they may read a group (`score_names` holds the groups then) and
    use digit labels."""
    name_count = draw(st.integers(0, 2))
    made = []
    for name in GRADE_NAMES[:name_count]:
        labels = draw(st.sampled_from(LABEL_SETS)) if v2 else LABELS
        thresholds = draw(st.lists(st.integers(-20, 60), min_size=1, max_size=3, unique=True))
        thresholds.sort(reverse=True)
        bands = tuple(ast.Band(label, threshold) for label, threshold in zip(labels, thresholds))
        otherwise = labels[len(bands)] if draw(st.booleans()) else None
        made.append(ast.Grade(name, draw(st.sampled_from(score_names)), bands, otherwise))
    return made


@st.composite
def matrix_grades(draw, band_grades: list):
    """Matrix grades (10.4) over the grades before them, a matrix grade included: no bucket
    lists a cell twice (E107) or a cell that cannot occur (W104)."""
    made: list = []
    known = {grade.name: grade_labels(grade) for grade in band_grades}
    for name in MATRIX_NAMES[:draw(st.integers(0, 2))]:
        if len(known) < 2:
            break
        first, second = draw(st.permutations(sorted(known)))[:2]
        cells = list(dict.fromkeys(a + b for a in known[first] for b in known[second]))
        buckets, otherwise = (), None
        if draw(st.booleans()):
            chosen = draw(st.permutations(cells))
            count = draw(st.integers(1, 3))
            cuts = sorted(draw(st.lists(st.integers(1, max(1, len(chosen))), min_size=count,
                                        max_size=count)))
            parts, start = [], 0
            for cut in cuts:
                if chosen[start:cut]:
                    parts.append(tuple(chosen[start:cut]))
                start = max(start, cut)
            buckets = tuple(ast.Bucket(label, part)
                            for label, part in zip(("hot", "warm", "1x"), parts))
            otherwise = draw(st.one_of(st.none(), st.just("cold"))) if buckets else None
        grade = ast.MatrixGrade(name, first, second, buckets, otherwise)
        known[name] = grade_labels(grade, known)
        made.append(grade)
    return made


@st.composite
def triggers(draw, score_names, grade_list, stage_names, resets: bool = True, groups=()):
    kinds = ("notify", "tag", "reset") if resets else ("notify", "tag")
    count = draw(st.integers(1, 3))
    actions = []
    for _ in range(count):
        kind = draw(st.sampled_from(kinds))
        arg = draw(st.sampled_from(score_names if kind == "reset" else ACTION_WORDS))
        actions.append(ast.Action(kind, arg))
    return ast.Trigger(draw(state_conditions(score_names, grade_list, stage_names, groups)),
                       tuple(actions), draw(st.booleans()))


@st.composite
def models(draw, *, bounds=True, caps=True, decay=True, expire=True, stages=True, resets=True,
           absence=True, stage_chains=STAGE_CHAINS, v2=False, min_groups=0):
    """A semantically valid model; the keywords turn features off. `stage_chains`: stage
    conditions may read `stage` itself (`stage SQL when stage is MQL`). `v2`: the language
    v2 constructs too (see the module's docstring), with at least `min_groups` groups."""
    declared = draw(score_decls(bounded=bounds))
    score_names = [d.name for d in declared] or ["score"]
    rule_scores = [d.name for d in declared]
    statements: list = list(declared)
    groups = draw(group_decls(declared, min_groups)) if v2 else []
    group_names = [g.name for g in groups]
    statements += groups
    targets_of_rules = rule_scores + group_names
    if draw(st.booleans()):
        statements.append(ast.TimezoneDecl(draw(st.sampled_from(ZONES))))
    if draw(st.integers(0, 3)) == 0:
        statements.append(ast.Require(draw(profile_conditions())))
    if v2 and draw(st.booleans()):
        kinds = draw(st.lists(st.sampled_from(STREAM_TYPES + QUOTED_TYPES), min_size=1,
                              max_size=3, unique=True))
        statements.append(ast.ActivityDecl(tuple(kinds)))
    rules = draw(st.lists(event_rules(targets_of_rules, caps, v2), min_size=1, max_size=5))
    if absence:
        rules += draw(st.lists(absence_rules(targets_of_rules, caps), max_size=2))
    rules += draw(st.lists(profile_rules(targets_of_rules), max_size=2))
    if v2:
        rules += draw(st.lists(inactivity_rules(targets_of_rules), max_size=2))
    for group in groups:  # no empty group: some rule sends points to each
        if not any(rule.score == group.name for rule in rules):
            rules.append(replace(draw(event_rules([], caps, v2)), score=group.name))
    statements += rules
    for name in score_names:
        if decay and draw(st.integers(0, 2)) == 0:
            percent = draw(st.sampled_from((10, 50, 99, 2.5, 33)))
            statements.append(ast.Decay(name, percent, draw(small_durations)))
        if expire and draw(st.integers(0, 3)) == 0:
            statements.append(ast.Expire(name, draw(small_durations)))
    grade_list = draw(grades(score_names + group_names, v2))
    if v2:
        grade_list += draw(matrix_grades(grade_list))
    statements += grade_list
    stage_names = []
    if stages:
        stage_names = list(STAGE_NAMES[:draw(st.integers(0, 3))])
        for name in stage_names:
            readable = stage_names if stage_chains else []
            statements.append(ast.Stage(name, draw(state_conditions(
                score_names, grade_list, readable, group_names))))
    statements += draw(st.lists(triggers(score_names, grade_list, stage_names, resets,
                                         group_names), max_size=3))
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
# v2 `by points`: integers, integer-valued decimals (as JSON gives `20.0` and `2e1`), other
# decimals, text, bools, null, numbers outside the signed 64-bit range (10.8.9), or missing
_V2_PROP_VALUES = {
    **_PROP_VALUES,
    "points": st.one_of(st.integers(-40, 40), st.integers(-40, 40), st.just(20.0),
                        st.just(-3.0), st.just(2.5), st.just("20"), st.booleans(), st.none(),
                        st.sampled_from((2 ** 63, -2 ** 63 - 1, 2 ** 63 - 1, 1e19))),
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
_V2_PROPS = _some_of(_V2_PROP_VALUES)
_PROFILES = _some_of(_ATTRIBUTE_VALUES)
_HALF_HOURS = st.integers(0, SPAN_HOURS * 2)
_STREAM_TYPES = st.sampled_from(STREAM_TYPES)
_V2_STREAM_TYPES = st.sampled_from(STREAM_TYPES + QUOTED_TYPES)
_TARGETS = st.one_of(st.none(), st.sampled_from(TARGETS))
_IDS = st.one_of(st.none(), st.none(), st.sampled_from(EVENT_IDS))


@lru_cache(maxsize=None)
def _contact_ids(ids: tuple):
    return st.sampled_from(ids[:1] + ids)  # the first contact gets more events


@st.composite
def events(draw, max_size: int = 16, contacts=CONTACT_IDS, v2: bool = False):
    """Events over four days on a half-hour grid, so that times repeat; duplicate ids. With
    v2: quoted event types and `points` properties too."""
    made = []
    size = draw(st.integers(0, max_size))
    who = _contact_ids(tuple(contacts))
    kinds, props = (_V2_STREAM_TYPES, _V2_PROPS) if v2 else (_STREAM_TYPES, _PROPS)
    times = _HALF_HOURS.map(lambda half_hours: START + half_hours * HOUR // 2)
    if v2:  # a coarser grid makes times, due times and activity coincide more often
        step = draw(st.sampled_from((HOUR // 2, 6 * HOUR, 24 * HOUR)))
        times = st.integers(0, SPAN_HOURS * HOUR // step).map(lambda k: START + k * step)
    for seq in range(size):
        made.append(Event(
            contact=draw(who),
            event=draw(kinds),
            at=draw(times),
            target=draw(_TARGETS),
            id=draw(_IDS),
            props=draw(props),
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
# v2: also long after the events (quiet spells that award again and again)
v2_as_of_times = st.one_of(
    as_of_times,
    st.integers(SPAN_HOURS, SPAN_HOURS + FAR_AS_OF_HOURS).map(lambda hours: START + hours * HOUR),
)


@st.composite
def scenarios(draw, model_strategy=None, max_events: int = 16, v2: bool = False):
    """(model, events, contacts, as_of): as_of None means the latest event time. `v2`: v2
    models (unless `model_strategy` is given) and v2 event streams."""
    model = draw(model_strategy if model_strategy is not None else models(v2=v2))
    stream = draw(events(max_events, v2=v2))
    profiles = draw(contacts())
    as_of = draw(v2_as_of_times if v2 else as_of_times)
    if as_of is None and not stream:
        as_of = START
    return model, stream, profiles, as_of
