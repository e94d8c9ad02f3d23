"""What a statement means, in words a marketer reads on hover.

Each function takes the AST (and the symbol table, for the default score and the time zone)
and returns Markdown; the wording follows docs/language.md sections 3 to 6. The conditions and
durations are written by the formatter, so they read exactly as the canonical source.
"""
from __future__ import annotations

from dsl import ast
from dsl import formatter as fmt

from ..resolve import Symbols

_PERIODS = {"day": "day", "week": "week (weeks start on Monday)", "month": "month"}


def statement(node, symbols: Symbols) -> str | None:
    """The meaning of one statement, or None for a statement that needs no explanation."""
    match node:
        case ast.EventRule():
            return event_rule(node, symbols)
        case ast.AbsenceRule():
            return absence_rule(node, symbols)
        case ast.ProfileRule():
            return (f"{_awards(node.points, _score(node.score, symbols))} while the contact's "
                    f"profile has `{fmt.condition(node.condition)}` (profile points neither "
                    "decay nor expire, and are not capped)")
        case ast.Require(condition=condition):
            return (f"only contacts whose profile has `{fmt.condition(condition)}` are scored; "
                    "the others are *unscored*: no points, grade, stage or action")
        case ast.Decay(score=score, percent=percent, every=every):
            return (f"each event award to **{score}** loses {fmt.number(percent)}% of its "
                    f"points every {fmt.duration(every)} of its age (profile points do not "
                    "decay)")
        case ast.Expire(score=score, after=after):
            return (f"an event award to **{score}** counts for {fmt.duration(after)}, then "
                    "nothing")
        case ast.Grade():
            return grade(node)
        case ast.MatrixGrade():
            return matrix_grade(node)
        case ast.GroupDecl():
            return group(node, symbols)
        case ast.ActivityDecl(events=events):
            return ("only " + ", ".join(f"`{e}`" for e in events) + " events count as activity "
                    "for `inactive` rules (without this line, every event does)")
        case ast.InactivityRule():
            return inactivity_rule(node, symbols)
        case ast.Stage():
            return stage(node, symbols)
        case ast.Trigger():
            return trigger(node)
        case ast.TimezoneDecl(zone=zone):
            return (f"days, weeks and months of `at most N per ...` limits are counted in "
                    f"**{zone}**")
        case ast.AccountBy() | ast.AccountScore() | ast.AccountGrade():
            return account_statement(node)
        case ast.Test(name=name, steps=steps):
            expects = sum(1 for s in steps if type(s).__name__.startswith("Expect"))
            return f"test **{name}**: one contact, {_plural(expects, 'expectation')}"
    return None


def event_rule(rule: ast.EventRule, symbols: Symbols) -> str:
    score = _score(rule.score, symbols)
    if rule.by is not None:
        bounds = ""
        if rule.by.low is not None or rule.by.high is not None:
            bounds = (f" (kept between {'' if rule.by.low is None else rule.by.low}.."
                      f"{'' if rule.by.high is None else rule.by.high})")
        awards = (f"awards **{score}** the whole number in the `{rule.by.prop}` property"
                  f"{bounds}")
    else:
        awards = _awards(rule.points, score)
    text = f"{awards} for each `{rule.event}`{_targets(rule.targets)}"
    if rule.where is not None:
        text += f" where `{fmt.condition(rule.where)}`"
    return text + _limit(rule.limit, symbols)


def absence_rule(rule: ast.AbsenceRule, symbols: Symbols) -> str:
    answer = (_targets(rule.missing_targets) if rule.missing_targets.written
              else " of the same target")
    return (f"{_awards(rule.points, _score(rule.score, symbols))} "
            f"{fmt.duration(rule.within)} after each `{rule.event}`{_targets(rule.targets)} "
            f"that no `{rule.missing}`{answer} follows within that time"
            + _limit(rule.limit, symbols))


def group(node, symbols: Symbols) -> str:
    bounds = []
    if node.low is not None:
        bounds.append(f"at least {node.low}")
    if node.high is not None:
        bounds.append(f"at most {node.high}")
    return (f"group **{node.name}** of **{_score(node.score, symbols)}**: the points rules send "
            f"to `{node.name}` count {' and '.join(bounds) or 'without bounds'} towards "
            f"{_score(node.score, symbols)}")


def inactivity_rule(rule, symbols: Symbols) -> str:
    text = (f"{_awards(rule.points, _score(rule.score, symbols))} after "
            f"{fmt.duration(rule.after)} without activity")
    if rule.every is not None:
        text += f", and again every {fmt.duration(rule.every)} the quiet spell lasts"
    if rule.limit is not None:
        text += f", at most {rule.limit.count} times per quiet spell"
    return text


def matrix_grade(node) -> str:
    text = (f"grade **{node.name}** pairs the labels of **{node.first}** and "
            f"**{node.second}** (`A` and `1` make `A1`)")
    if node.buckets:
        text += ": " + ", ".join(f"**{b.label}** for " + ", ".join(b.cells)
                                 for b in node.buckets)
        if node.otherwise is not None:
            text += f", **{node.otherwise}** for the other pairs"
    return text


def grade(node: ast.Grade) -> str:
    bands = [f"**{b.label}** from {fmt.number(b.threshold)}" for b in node.bands]
    if node.otherwise is not None:
        bands.append(f"**{node.otherwise}** below that")
    else:
        bands.append("no grade below that")
    return (f"grade **{node.name}** labels each contact by **{node.score}**: "
            + ", ".join(bands) + " (the first band that holds wins; unscored contacts have no "
            "grade)")


def stage(node: ast.Stage, symbols: Symbols) -> str:
    names = list(symbols.stages)
    place = (f" ({_ordinal(names.index(node.name) + 1)} of {len(names)} stages)"
             if node.name in names else "")
    return (f"stage **{node.name}**{place}: a contact moves here once "
            f"`{fmt.condition(node.condition)}` holds; stages only move forward, to the last "
            "declared stage whose condition holds")


def trigger(node: ast.Trigger) -> str:
    actions = ", ".join(_action(a) for a in node.actions)
    when = ("every time the condition becomes true" if node.each_time
            else "once per contact, the first time the condition becomes true")
    return f"{actions} {when}: `{fmt.condition(node.condition)}`"


_AGGREGATES = {"sum": "the members' **{of}** added up",
               "max": "the highest **{of}** of the members",
               "min": "the lowest **{of}** of the members"}


def account_statement(node) -> str:
    """Account statements (docs/language.md 10.6), in words."""
    match node:
        case ast.AccountBy(attribute=attribute):
            return (f"a contact whose profile has text in `{attribute}` is a member of the "
                    f"account that text names (`\"{attribute}\": \"acme.com\"`: account "
                    "`acme.com`); without it, a contact belongs to no account. Account scores "
                    "add the members up (`score run --accounts`)")
        case ast.AccountScore(name=name, aggregate="count", condition=condition, where=where):
            text = f"account score **{name}**: the number of scored members"
            conditions = [c for c in (condition, where) if c is not None]
            if conditions:
                text += " for whom " + " and ".join(f"`{fmt.condition(c)}`" for c in conditions)
                text += " holds"
            return text + ", per account (0 when there is none)"
        case ast.AccountScore(name=name, aggregate=aggregate, score=score, where=where):
            text = f"account score **{name}**: " + _AGGREGATES[aggregate].format(of=score)
            if where is not None:
                text += f", taking only the members for whom `{fmt.condition(where)}` holds"
            empty = "0" if aggregate == "sum" else "no value (null)"
            return text + f", per account; unscored members add nothing ({empty} over no member)"
        case ast.AccountGrade(name=name, score=score, bands=bands, otherwise=otherwise):
            labels = [f"**{b.label}** from {fmt.number(b.threshold)}" for b in bands]
            labels.append(f"**{otherwise}** below that" if otherwise is not None
                          else "no label below that")
            return (f"account grade **{name}** labels each account by its account score "
                    f"**{score}**: " + ", ".join(labels) + " (the first band that holds wins; "
                    f"an account whose {score} has no value has no label)")
    return ""


def account_declaration(kind: str, name: str, accounts: dict, owner: str | None = None) -> str:
    """The hover's first line for an account score, account grade or account grade label;
    `accounts` maps the names to the model's account statements."""
    node = accounts.get(owner if kind == "account label" else name)
    if kind == "account label":
        return f"label `{name}` of account grade `{owner}`"
    if kind == "account grade":
        if not isinstance(node, ast.AccountGrade):
            return f"account grade `{name}` (not declared)"
        labels = [b.label for b in node.bands] + ([node.otherwise] if node.otherwise else [])
        return f"account grade `{name}` by account score `{node.score}`: labels " + \
            ", ".join(f"`{label}`" for label in dict.fromkeys(labels))
    if not isinstance(node, ast.AccountScore):
        return f"account score `{name}` (not declared)"
    return f"account score `{name}` = {fmt.statement_text(node).partition(' = ')[2]}"


def declaration(kind: str, name: str, symbols: Symbols, owner: str | None = None) -> str:
    """What a name is: its kind and its declaration, as the hover's first line."""
    match kind:
        case "score":
            info = symbols.scores.get(name)
            if info is None:
                return f"score `{name}` (not declared)"
            if info.declaration is None:
                return f"score `{name}`: the model's only score (none is declared)"
            default = " (the default score)" if name == symbols.default_score else ""
            bounds = _bounds(info.low, info.high) if info.declaration.has_range else ""
            return f"score `{name}`{bounds}{default}"
        case "group":
            node = getattr(symbols, "groups", {}).get(name)
            return f"group `{name}`" + (f" of `{node.score or symbols.default_score}`"
                                        if node is not None else "")
        case "grade":
            node = symbols.grades.get(name)
            if node is None:
                return f"grade `{name}` (not declared)"
            if isinstance(node, ast.MatrixGrade):
                return f"grade `{name}` by `{node.first}` and `{node.second}`"
            return f"grade `{name}` by `{node.score}`: labels " + \
                ", ".join(f"`{label}`" for label in symbols.grade_labels(name))
        case "stage":
            if name == "stage":
                names = ", ".join(f"`{s}`" for s in symbols.stages) or "none declared"
                return f"the contact's lifecycle stage (stages: {names})"
            return f"stage `{name}`"
        case "label":
            if owner == "stage":
                return f"stage `{name}`"
            return f"label `{name}` of grade `{owner}`"
        case "event":
            event = symbols.events.get(name)
            if event is None:
                return f"event `{name}`"
            props = ", ".join(f"`{p.name}`: {p.type}" for p in event.properties)
            return f"event `{name}`" + (f" with {props}" if props else "")
        case "property":
            declared = symbols.property_type(owner, name) if owner else None
            of_type = f" ({declared})" if declared else ""
            return f"property `{name}`{of_type} of the `{owner}` event"
        case "attribute":
            return f"profile attribute `{name}` of the contact"
        case "target":
            return f"target `{name}` of `{owner}` events"
        case "include":
            return f"included file `{name}`"
        case "test":
            return f"test `{name}`"
    return f"`{name}`"


# --------------------------------------------------------------------------- pieces


def _bounds(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f", from {low} to {high}"
    if low is not None:
        return f", at least {low}"
    return f", at most {high}" if high is not None else ""


def _score(score: str | None, symbols: Symbols) -> str:
    return score if score is not None else symbols.default_score


def _awards(points: int, score: str) -> str:
    if points < 0:
        return f"takes away **{-points} {score}**"
    return f"awards **+{points} {score}**"


def _targets(targets: ast.Targets) -> str:
    if not targets.written or targets.any:
        return ""
    shown = [f"`{t}`" if not any(c in t for c in "*?") else f"a target matching `{t}`"
             for t in targets.items]
    return " of " + " or ".join(shown)


def _limit(limit: ast.Limit | None, symbols: Symbols) -> str:
    if limit is None:
        return ""
    if limit.per is None:
        return ", once per contact" if limit.count == 1 else \
            f", at most {limit.count} times per contact"
    return (f", at most {limit.count} per {_PERIODS.get(limit.per, limit.per)} in "
            f"{symbols.timezone}")


def _action(action: ast.Action) -> str:
    match action.kind:
        case "notify":
            return f"notifies **{action.arg}**"
        case "tag":
            return f"tags the contact **{action.arg}**"
        case "reset":
            return f"resets **{action.arg}** (its event awards so far are discarded)"
    return f"{action.kind} {action.arg}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
