"""Reachability lints: parts of the lifecycle that no history can ever reach.

- W130 a stage that can never be reached: a later stage's condition holds whenever its own
  does (`stage SAL when engagement >= 60` before `stage SQL when engagement >= 50`: the
  contact goes straight to SQL), or it needs a stage that is never reached;
- W131 a trigger that can never fire, because the stage it needs is never reached;
- W132 a trigger identical to an earlier one (same condition, actions and `each time`);
- W133 a threshold above the most the rules can ever give a score, when every rule that
  adds to it is capped (`A >= 150` on a `fit` whose profile rules give at most 40);
- W134 `expect notify X` / `expect tag X` (or `expect reset S`) where no trigger does that;
- W135 a score (or group) read in a stage, trigger or grade that no rule gives points to.

Conditions are taken in the rule table's form (names bound, `is` as `=`), put in disjunctive
form, and each conjunction is checked for satisfiability over what each name can be: scores
and groups within their declared bounds and the most their rules can give, grades among the
labels they can give (or none), the stage among the stages that can be reached (or none).
Everything that cannot be decided this way (profile attributes, patterns, large formulas) is
treated as possibly true, so that a lint is only reported when it surely applies.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

from dsl import ast
from dsl import formatter as fmt
from dsl.diagnostics import Diagnostic, did_you_mean, warning

from .lints import possible_labels
from .resolve import Locator, Symbols

INF = math.inf
MISSING = None  # a grade without a label, the stage before the first one
_MAX_TERMS = 256  # disjunctive forms larger than this are left undecided


def check_reachability(model: ast.Model, symbols: Symbols, locate: Locator,
                       table: dict) -> list[Diagnostic]:
    """W130-W135 for a model without errors and its rule table (`compiler.lower`)."""
    maxima = score_maxima(model, symbols)
    found = list(_thresholds(model, symbols, maxima))
    found += _unawarded_reads(model, symbols)
    found += _stages_and_triggers(model, symbols, locate, table, maxima)
    found += _expected_actions(model)
    return [d for d in found if _own(d, model)]


def _own(diagnostic: Diagnostic, model: ast.Model) -> bool:
    span = diagnostic.span
    return span is None or span.file == model.file


# --------------------------------------------------------------------------- maxima


@dataclass(frozen=True)
class Most:
    """The most the rules can ever give a score or group (INF: no limit), and the parts."""
    value: float
    parts: tuple[str, ...]  # "+20 (line 23)", "3 x +10 (line 12)"


def score_maxima(model: ast.Model, symbols: Symbols) -> dict[str, Most]:
    """Per score and group: the most its value can be. Every positive award counts as if
    it came at once and never decayed, capped rules as often as their limit lets them."""
    sums: dict[str, list] = {}  # score or group -> [total, parts]
    for name in list(symbols.scores) + list(symbols.groups):
        sums[name] = [0.0, []]
    for statement in model.statements:
        target, most, part = _most_of(statement, symbols)
        if target is None or target not in sums or most <= 0:
            continue
        sums[target][0] += most
        sums[target][1].append(part)
    found: dict[str, Most] = {}
    for name, info in symbols.groups.items():
        total, parts = sums[name]
        value = total if info.high is None else min(total, info.high)
        if info.low is not None:
            value = max(value, info.low)
        found[name] = Most(value, tuple(parts) if value == total else
                           (f"the group's `max {info.high}`",))
    for name, info in symbols.scores.items():
        total, parts = sums[name]
        parts = list(parts)
        for group in (g for g in symbols.groups.values() if g.score == name):
            total += found[group.name].value
            if found[group.name].value > 0:
                parts.append(f"group {group.name}: at most {_number(found[group.name].value)}")
        value = total
        if info.high is not None:
            value = min(value, info.high)
        if info.low is not None:
            value = max(value, info.low)
        found[name] = Most(value, tuple(parts))
    return found


def _most_of(statement, symbols: Symbols) -> tuple[str | None, float, str]:
    """(score or group, the most the rule can add over any history, how) of one rule."""
    match statement:
        case ast.EventRule() | ast.AbsenceRule():
            by, limit = getattr(statement, "by", None), statement.limit
            each = statement.points if by is None else (INF if by.high is None else by.high)
            times = INF if limit is None or limit.per is not None else limit.count
            target = statement.score or symbols.default_score
        case ast.ProfileRule(points=points, score=score):
            each, times, target = points, 1, score or symbols.default_score
        case ast.InactivityRule(points=points, score=score):
            each, times, target = points, INF, score or symbols.default_score
        case _:
            return None, 0, ""
    if each <= 0:
        return target, 0, ""
    line = statement.span.line if statement.span is not None else "?"
    count = "" if times == 1 else f"{_number(times)} x "
    return target, each * times, f"{count}{_signed(each)} (line {line})"


def _number(value: float) -> str:
    return "∞" if value == INF else str(int(value)) if float(value).is_integer() else str(value)


def _signed(value: float) -> str:
    return "+∞" if value == INF else f"{'+' if value >= 0 else ''}{_number(value)}"


def _thresholds(model: ast.Model, symbols: Symbols, maxima: dict[str, Most]):
    """W133: grade bands and comparisons in stages and triggers above the most."""
    for statement in model.statements:
        match statement:
            case ast.Grade(score=score, bands=bands):
                most = maxima.get(score)
                for band in bands:
                    if _above(band.threshold, ">=", most, _declared_high(symbols, score)):
                        yield _w133(f"band `{band.label} >= {_number(band.threshold)}` of grade "
                                    f"`{statement.name}` can never be reached", score, most,
                                    band.span or statement.span)
            case ast.Stage(condition=condition) | ast.Trigger(condition=condition):
                for node, negated in _comparisons(condition):
                    name = node.ref.name
                    if negated or node.ref.contact or symbols.kind_of(name) not in (
                            "score", "group"):
                        continue
                    values = (node.value,) if isinstance(node, ast.Compare) else node.values
                    op = node.op if isinstance(node, ast.Compare) else "="
                    if values and all(isinstance(v, ast.Number) and _above(
                            v.value, op, maxima.get(name), _declared_high(symbols, name))
                            for v in values):
                        yield _w133("this condition can never hold", name, maxima.get(name),
                                    node.span)


def _declared_high(symbols: Symbols, name: str) -> float:
    info = symbols.scores.get(name) or symbols.groups.get(name)
    return INF if info is None or info.high is None else info.high


def _above(number, op: str, most: Most | None, declared: float) -> bool:
    """`value op number` cannot hold when value <= most, but could within the declared
    range (else W104/W105 already say so). Nothing awarded at all is W135's to say."""
    if most is None or most.value == INF or not most.parts:
        return False
    match op:
        case ">=" | "=" | "is":
            return most.value < number <= declared
        case ">":
            return most.value <= number < declared
    return False


def _w133(message: str, name: str, most: Most, span) -> Diagnostic:
    return warning(
        "W133", f"{message}: the rules give `{name}` at most {_number(most.value)}", span,
        hint=f"what adds to `{name}`: {', '.join(most.parts)} (a profile rule counts once, a capped rule as "
             f"often as its limit allows); lower the threshold to {_number(most.value)} or "
             "less, or let a rule give more")


def _comparisons(condition: ast.Condition):
    stack = [(condition, False)]
    while stack:
        node, negated = stack.pop()
        match node:
            case ast.Not(operand=operand):
                stack.append((operand, not negated))
            case ast.And(operands=operands) | ast.Or(operands=operands):
                stack.extend((operand, negated) for operand in operands)
            case ast.Compare() | ast.In():
                yield node, negated


# --------------------------------------------------------------------------- W135


def _unawarded_reads(model: ast.Model, symbols: Symbols):
    awarded = set()
    for statement in model.statements:
        if isinstance(statement, (ast.EventRule, ast.AbsenceRule, ast.ProfileRule,
                                  ast.InactivityRule)):
            target = statement.score or symbols.default_score
            awarded.add(target)
            if target in symbols.groups:
                awarded.add(symbols.groups[target].score)
    groups_of = {}
    for group in symbols.groups.values():
        groups_of.setdefault(group.score, []).append(group.name)

    def unawarded(name: str) -> bool:
        return name not in awarded and not any(g in awarded for g in groups_of.get(name, ()))

    for statement in model.statements:
        match statement:
            case ast.Grade(score=score) if symbols.kind_of(score) in ("score", "group") \
                    and unawarded(score):
                yield _w135(score, statement.span, "grade", symbols)
            case ast.Stage(condition=condition) | ast.Trigger(condition=condition):
                reported = set()
                for node in ast.walk_condition(condition):
                    ref = getattr(node, "ref", None)
                    if ref is None or ref.contact or ref.name in reported or \
                            symbols.kind_of(ref.name) not in ("score", "group") or \
                            not unawarded(ref.name):
                        continue
                    reported.add(ref.name)
                    yield _w135(ref.name, ref.span or node.span,
                                "stage" if isinstance(statement, ast.Stage) else "trigger",
                                symbols)


def _w135(name: str, span, where: str, symbols: Symbols) -> Diagnostic:
    kind = symbols.kind_of(name)
    return warning(
        "W135", f"this {where} reads {kind} `{name}`, but no rule gives it points", span,
        hint=f"`{name}` stays at its lowest value for every contact, so this {where} never "
             f"changes; add a rule that awards `{name}` (e.g. `visit pricing +10 {name}`) or "
             "read another score")


# --------------------------------------------------------------------------- W134


def _expected_actions(model: ast.Model):
    produced: dict[str, set[str]] = {"notify": set(), "tag": set(), "reset": set()}
    for statement in model.statements:
        if isinstance(statement, ast.Trigger):
            for action in statement.actions:
                produced[action.kind].add(action.arg)
    for statement in model.statements:
        if not isinstance(statement, ast.Test):
            continue
        for step in statement.steps:
            if not isinstance(step, ast.ExpectAction) or step.arg in produced[step.kind]:
                continue
            verb = {"notify": "notifies", "tag": "tags with", "reset": "resets"}[step.kind]
            absent = step.negated or step.times == 0
            message = f"`{fmt.step_text(step)}` " + (
                "passes whatever the model does: no trigger " if absent else
                "can never pass: no trigger ") + f"{verb} `{step.arg}`"
            hint = did_you_mean(step.arg, produced[step.kind])
            if hint is None:
                known = ", ".join(f"`{a}`" for a in sorted(produced[step.kind]))
                hint = (f"the triggers' {step.kind} actions are {known}" if known else
                        f"no trigger of the model has a `{step.kind}` action")
            yield warning("W134", message, step.span, hint=hint)


# --------------------------------------------------------------------------- W130-W132


def _stages_and_triggers(model: ast.Model, symbols: Symbols, locate: Locator, table: dict,
                         maxima: dict[str, Most]):
    stages = [s for s in model.statements if isinstance(s, ast.Stage)]
    triggers = [s for s in model.statements if isinstance(s, ast.Trigger)]
    if len(stages) != len(table["stages"]) or len(triggers) != len(table["triggers"]):
        return  # an included file's statements: the table and the AST do not line up
    names = [s["name"] for s in table["stages"]]
    forms = [s["condition"] for s in table["stages"]]
    space = Space(symbols, maxima, names)
    causes: dict[int, tuple[str, int | None]] = {}  # stage -> ("later", j) | ("stage", None)
    changed = True
    while changed:  # an unreachable stage can make the stages that read it unreachable
        changed = False
        for i, form in enumerate(forms):
            if i in causes:
                continue
            if space.impossible(form):  # (an impossible condition implies every other)
                causes[i] = ("values", None) if Space(symbols, maxima, names).impossible(
                    form) else ("stage", None)
            else:
                later = next((j for j in range(len(forms) - 1, i, -1)
                              if space.implies(form, forms[j])), None)
                if later is None:
                    continue
                causes[i] = ("later", later)
            space = Space(symbols, maxima, [n for k, n in enumerate(names) if k not in causes])
            changed = True
    for i, (cause, later) in sorted(causes.items()):
        if cause == "values":
            continue  # W104 / W133 already say which comparison cannot hold
        stage = stages[i]
        span = locate.word(stage.span, stage.name, start=len("stage"))
        if cause == "later":
            other = stages[later]
            yield warning(
                "W130", f"stage `{stage.name}` can never be reached: whenever its condition "
                f"holds, so does the condition of `{other.name}`, declared after it", span,
                hint=f"a contact moves to the last stage whose condition holds, so it goes "
                     f"straight to `{other.name}`; declare the stages in lifecycle order with "
                     f"rising thresholds, or make `{other.name}` require more",
                notes=(f"`{other.name}` is at {other.span}",) if other.span else ())
        else:
            yield warning(
                "W130", f"stage `{stage.name}` can never be reached: its condition needs a "
                "stage that is never reached", span,
                hint="see the warnings about the stages it reads")
    unreachable = {names[i] for i in causes}
    first: dict[str, ast.Trigger] = {}
    for trigger, raw in zip(triggers, table["triggers"]):
        form = raw["condition"]
        if unreachable and space.impossible(form) and not Space(
                symbols, maxima, names).impossible(form):
            which = ", ".join(f"`{n}`" for n in names if n in unreachable and _reads(form, n))
            yield warning(
                "W131", "this trigger can never fire: it needs "
                f"{'stage ' + which if which else 'a stage'}, which is never reached",
                trigger.span, hint="see the warning on the stage; fix the stages' order or "
                "conditions, or remove the trigger")
        key = json.dumps([_canonical(form), sorted(
            [a["action"], a["arg"]] for a in raw["actions"]), bool(raw.get("each_time"))])
        if key in first:
            other = first[key]
            yield warning(
                "W132", "this trigger is identical to another one: same condition, same "
                "actions", trigger.span,
                hint="each fires its actions, so they happen twice; remove one of them",
                notes=(f"the other trigger is at {other.span}",) if other.span else ())
        else:
            first[key] = trigger


def _reads(form, stage: str) -> bool:
    """Whether the condition compares the stage with `stage`."""
    if not isinstance(form, list) or not form:
        return False
    if form[0] in ("and", "or", "not"):
        return any(_reads(item, stage) for item in form[1:])
    if form[1] != ["stage"]:
        return False
    return stage == form[2] if form[0] == "=" else stage in form[2] if form[0] == "in" else False


def _canonical(form):
    """A condition with the operands of `and` and `or` in a fixed order."""
    if isinstance(form, list) and form and form[0] in ("and", "or"):
        return [form[0], *sorted((_canonical(x) for x in form[1:]), key=json.dumps)]
    if isinstance(form, list) and form and form[0] == "not":
        return ["not", _canonical(form[1])]
    return form


# --------------------------------------------------------------------------- satisfiability


class Space:
    """What each name of a lifecycle condition can be (see the module's docstring)."""

    def __init__(self, symbols: Symbols, maxima: dict[str, Most], stages: list[str]):
        self.numbers: dict[tuple, tuple[float, float]] = {}
        for name, info in symbols.scores.items():
            self.numbers[("score", name)] = _range(info.low, info.high, maxima.get(name))
        for name, info in symbols.groups.items():
            self.numbers[("group", name)] = _range(info.low, info.high, maxima.get(name))
        self.labels: dict[tuple, frozenset] = {("stage",): frozenset(stages) | {MISSING}}
        for name, grade in symbols.grades.items():
            labels = frozenset(possible_labels(symbols, name))
            always = isinstance(grade, ast.Grade) and grade.otherwise is not None
            self.labels[("grade", name)] = labels if always else labels | {MISSING}

    def impossible(self, form) -> bool:
        terms = _dnf(form, False)
        return terms is not None and not any(self._possible(term) for term in terms)

    def implies(self, first, second) -> bool:
        """Whether `second` holds at every point where `first` does."""
        terms = _dnf(["and", first, ["not", second]], False)
        return terms is not None and not any(self._possible(term) for term in terms)

    def _possible(self, term) -> bool:
        numbers = dict(self.numbers)
        excluded: dict[tuple, set] = {}
        labels = dict(self.labels)
        opaque: dict[str, bool] = {}
        for leaf, positive in term:
            if leaf is True or leaf is False:
                if leaf != positive:
                    return False
                continue
            op, ref = leaf[0], tuple(leaf[1])
            if ref in labels and op in ("=", "in"):
                values = frozenset([leaf[2]] if op == "=" else leaf[2])
                labels[ref] = labels[ref] & values if positive else labels[ref] - values
                continue
            if ref in numbers and op in ("=", "<", "<=", ">", ">=") and _is_number(leaf[2]):
                if op == "=" and not positive:
                    excluded.setdefault(ref, set()).add(leaf[2])
                    continue
                numbers[ref] = _narrow(numbers[ref], op, leaf[2], positive)
                continue
            key = json.dumps(leaf, sort_keys=True)
            if opaque.get(key, positive) != positive:
                return False
            opaque[key] = positive
        if any(not allowed for allowed in labels.values()):
            return False
        for ref, (low, high) in numbers.items():
            if low > high:
                return False
            if high - low < len(excluded.get(ref, ())) and all(
                    value in excluded[ref] for value in range(int(low), int(high) + 1)):
                return False
        return True


def _range(low, high, most: Most | None) -> tuple[float, float]:
    top = INF if high is None else high
    if most is not None:
        top = min(top, most.value)
    return (-INF if low is None else low), top


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _narrow(interval: tuple[float, float], op: str, number, positive: bool):
    """The integers of `interval` where `value op number` is (or, negated, is not) true."""
    low, high = interval
    if not positive:
        op = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}[op]
    floor, ceil = math.floor(number), math.ceil(number)
    match op:
        case "=":
            return (max(low, number), min(high, number)) if number == floor else (1, 0)
        case "<":
            return low, min(high, ceil - 1)
        case "<=":
            return low, min(high, floor)
        case ">":
            return max(low, floor + 1), high
        case ">=":
            return max(low, ceil), high
    return low, high


def _dnf(form, negated: bool):
    """The condition as a list of conjunctions of (leaf, positive); None when too large."""
    if form is True or form is False:
        return [[(form, not negated)]]
    head = form[0]
    if head == "not":
        return _dnf(form[1], not negated)
    if head in ("and", "or"):
        conjunction = (head == "and") != negated
        parts = [_dnf(item, negated) for item in form[1:]]
        if any(part is None for part in parts):
            return None
        if not conjunction:
            joined = [term for part in parts for term in part]
            return joined if len(joined) <= _MAX_TERMS else None
        terms = [[]]
        for part in parts:
            terms = [term + other for term in terms for other in part]
            if len(terms) > _MAX_TERMS:
                return None
        return terms
    return [[(form, not negated)]]


