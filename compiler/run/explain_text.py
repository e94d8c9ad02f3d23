"""`score explain` as text: the story of one contact's scores, told with the model's own words.

It lays out `Explanation.to_json()` of the runtime with what only the compiler side has:
- each rule, stage and trigger as written in the source file (`file:line` and its text), not
  re-rendered from the table;
- times in the model's time zone, with the offset (the JSON stays UTC);
- after every award, the running total of its score (and group) as of the as-of time, and
  where a bound holds the value (`engagement = 0 (sum -6; held at the minimum 0)`);
- for a decayed award, its age, the decay steps and the rate; for an expired one, its age.

Running totals add up what each award contributes *as of the as-of time* (the same numbers
as the "contributes" column), in the order the awards happened; profile points come first,
since they count from the start. The last total of each score is its value in the result.
"""
from __future__ import annotations

from typing import Mapping

from runtime.events import MICROS, TimeFormatError, parse_time

from .localtime import LocalTime

_UNITS = ((7 * 86400, "week"), (86400, "day"), (3600, "hour"), (60, "minute"), (1, "second"))


class SourceText:
    """Statement text by `file:line`, from the model's source files (empty for a table)."""

    def __init__(self, sources: Mapping | None) -> None:
        self.sources = dict(sources or {})

    def statement(self, at: str | None, fallback: str = "") -> str:
        if not at or ":" not in at:
            return fallback
        file, _, line = at.rpartition(":")
        source = self.sources.get(file)
        if source is None or not line.isdigit():
            return fallback
        number = int(line)
        text = _code(source.line_text(number))
        # a statement whose parentheses span several lines continues until they close
        while text.count("(") > text.count(")") and number < len(source.text.split("\n")):
            number += 1
            text += " " + _code(source.line_text(number))
        return " ".join(text.split()) or fallback


def _code(line: str) -> str:
    """A line without its comment (a `#` outside double quotes)."""
    quoted = escaped = False
    for index, char in enumerate(line):
        if quoted:
            escaped = char == "\\" and not escaped
            if char == '"' and not escaped:
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "#":
            return line[:index].rstrip()
    return line.rstrip()


def explanation_text(data: dict, table: dict, sources: Mapping | None = None) -> str:
    """The text of `score explain` for `data` (an `Explanation.to_json()`) of `table`."""
    local = LocalTime(table.get("timezone"))
    text = SourceText(sources)
    zone = "" if local.is_utc else f" ({local.name})"
    lines = [f"contact {data['contact']} as of {local.text(data.get('as_of'))}{zone}"]
    if data.get("unscored"):
        lines.append(f"  unscored: the profile does not satisfy `require {data.get('require')}`")
        return "\n".join(lines) + "\n"
    result = data["result"]
    lines.append("  scores: " + ", ".join(f"{k} = {_value(v)}" for k, v in
                                          result["scores"].items()))
    for group in data.get("groups", ()):
        lines.append("  " + _group_text(group))
    for name, label in result["grades"].items():
        lines.append(f"  grade {name}: {label}")
    lines.append(f"  stage: {result['stage'] or '(none)'}")
    totals = _Totals(table)
    if data.get("profile"):
        lines.append("profile points (they count from the start):")
        for award in data["profile"]:
            written = text.statement(award["source"], f"if {award['condition']}")
            target = award.get("group") or award["score"]
            totals.add(award, award["points"])
            lines.append(f"  {award['source']}  {written}")
            lines.append(f"      the profile matches: {award['points']:+d} {target}; "
                         f"{totals.text(award)}")
    if data.get("awards"):
        lines.append(f"awards (what each contributes as of {local.text(data.get('as_of'))}, "
                     "and the running totals):")
    as_of = _micros(data.get("as_of"))
    decays = {s["name"]: s for s in table.get("scores", ()) if isinstance(s, dict)}
    for award in data.get("awards", ()):
        totals.add(award, award.get("contribution") or 0)
        lines.append(f"  {award['source']}  {text.statement(award['source'])}".rstrip())
        lines.append(f"      {_cause(award, local)}: {_status(award, as_of, decays, local)}; "
                     f"{totals.text(award)}")
    for change in data.get("stages", ()):
        written = text.statement(change["source"], f"stage {change['to']} when "
                                                   f"{change['condition']}")
        lines.append(f"stage {change['from'] or '(none)'} -> {change['to']} at "
                     f"{local.text(change['at'])}: {change['source']}  {written}"
                     f"{_values_text(change.get('values'))}")
    for action in data.get("actions", ()):
        written = text.statement(action["source"], f"when {action['condition']}")
        point = (action.get("point") or {}).get("kind", "")
        lines.append(f"action {action['action']} {action['arg']} at {local.text(action['at'])}: "
                     f"{action['source']}  {written}  (became true at the {point} point"
                     f"{_values_text(action.get('values'), ', ')})")
    return "\n".join(lines) + "\n"


class _Totals:
    """Running sums per score and per group, and the values their bounds make of them."""

    def __init__(self, table: dict) -> None:
        self.bounds = {s["name"]: (s.get("low"), s.get("high"))
                       for s in table.get("scores", ()) if isinstance(s, dict)}
        self.group_bounds = {g["name"]: (g.get("low"), g.get("high"), g.get("score"))
                             for g in table.get("groups", ()) or () if isinstance(g, dict)}
        self.ungrouped = {name: 0 for name in self.bounds}
        self.groups = {name: 0 for name in self.group_bounds}

    def add(self, award: dict, points: int) -> None:
        group = award.get("group")
        if group is not None and group in self.groups:
            self.groups[group] += points
        else:
            self.ungrouped[award["score"]] = self.ungrouped.get(award["score"], 0) + points

    def text(self, award: dict) -> str:
        score, group = award["score"], award.get("group")
        parts = []
        if group is not None and group in self.groups:
            low, high, _ = self.group_bounds[group]
            parts.append(_held(group, self.groups[group], low, high))
        low, high = self.bounds.get(score, (None, None))
        parts.append(_held(score, self._sum(score), low, high))
        return ", ".join(parts)

    def _sum(self, score: str) -> int:
        total = self.ungrouped.get(score, 0)
        for name, (low, high, owner) in self.group_bounds.items():
            if owner == score:
                total += _clamp(self.groups[name], low, high)
        return total


def _held(name: str, total: int, low, high) -> str:
    value = _clamp(total, low, high)
    if value == total:
        return f"{name} = {value}"
    bound = "maximum" if high is not None and total > high else "minimum"
    return f"{name} = {value} (sum {total}; held at the {bound} {value})"


def _clamp(value: int, low, high) -> int:
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return value


def _cause(award: dict, local: LocalTime) -> str:
    kind = award.get("kind")
    if kind == "absence":
        after = award.get("after") or {}
        target = f" {after['target']}" if after.get("target") else ""
        return (f"no {award['absence_of']} after {after.get('event')}{target} at "
                f"{local.text(after.get('at'))}, due {local.text(award['at'])}")
    if kind == "inactivity":
        text = f"no activity since {local.text(award.get('spell_start'))}, due " \
               f"{local.text(award['at'])}"
        if award.get("award_in_spell") is not None:
            most = f" of at most {award['count']}" if award.get("count") is not None else ""
            text += f" (award {award['award_in_spell']}{most} in this quiet spell)"
        return text
    event = award.get("event") or {}
    target = f" {event['target']}" if event.get("target") else ""
    text = f"{event.get('event')}{target} at {local.text(event.get('at') or award['at'])}"
    if award.get("by") is not None:
        props = ", ".join(f"{k}: {v!r}" for k, v in sorted((award.get("props") or {}).items()))
        text += f" ({award['by']['prop']} from the event; {props})"
    return text


def _status(award: dict, as_of: int | None, scores: dict, local: LocalTime) -> str:
    points = award["points"]
    into = award.get("group") or award["score"]
    status = award.get("status")
    if status == "capped":
        limit = award.get("limit") or {}
        per = f" per {limit['per']}" if limit.get("per") else ""
        return f"{points:+d} {into} -> capped (at most {limit.get('count')}{per}): nothing"
    if status == "reset":
        return f"{points:+d} {into} -> discarded by the reset at " \
               f"{local.text(award.get('reset_at'))}"
    age = None if as_of is None else as_of - (_micros(award["at"]) or as_of)
    if status == "expired":
        return f"{points:+d} {into} -> expired (age {_duration(age)}): nothing"
    contribution = award.get("contribution")
    decay = (scores.get(award["score"]) or {}).get("decay")
    if decay and age is not None and contribution != points:
        steps = _steps(points, contribution, age, decay)
        return (f"{points:+d} {into} -> {contribution:+d}, decayed (age {_duration(age)}: "
                f"{steps} step{'s' if steps != 1 else ''} of {decay['percent']}% every "
                f"{_period(decay['every'])})")
    if decay and age is not None:
        return f"{points:+d} {into} (age {_duration(age)}, not yet decayed)"
    return f"{points:+d} {into}"


def _steps(points: int, contribution: int, age: int, decay: dict) -> int:
    """`age // every`; the ages here come from times printed to the second, so a step that
    ends within that second is checked against the engine's contribution."""
    steps = age // decay["every"]
    multipliers = decay.get("multipliers") or []
    for k in (steps, steps + 1, steps - 1):
        if 0 <= k < len(multipliers) and _decayed(points, multipliers[k]) == contribution:
            return k
    return steps


def _decayed(points: int, multiplier: int) -> int:
    value = abs(points) * multiplier // 10**9  # trunc toward zero
    return value if points >= 0 else -value


def _micros(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_time(text)
    except TimeFormatError:
        return None


def _period(micros: int) -> str:
    """A decay period in the largest unit that divides it: `30 days`, `2 weeks`."""
    seconds = micros // MICROS
    for size, unit in _UNITS:
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{micros} microseconds"


def _duration(micros: int | None) -> str:
    """An age: `62 days 3 hours`, the two largest units (weeks left out), rounded down."""
    if micros is None:
        return "?"
    seconds = micros // MICROS
    parts = []
    for size, unit in _UNITS[1:]:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
        if len(parts) == 2:
            break
    return " ".join(parts) or "0 seconds"


def _group_text(group: dict) -> str:
    head = f"group {group['group']} of {group['score']}: "
    if group.get("binds") is None:
        return head + str(group["value"])
    bound = group["high"] if group["binds"] == "max" else group["low"]
    return head + f"{group['raw']} -> {group['value']}, {group['binds']} {bound}"


def _value(value) -> str:
    return "null" if value is None else str(value)


def _values_text(values: dict | None, lead: str = "  ") -> str:
    """The scores, grades and stage the condition saw: `  (engagement = 85, tier = B)`, or
    with a `, ` lead inside parentheses already open."""
    if not values:
        return ""
    shown = ", ".join(f"{k} = {_value(v)}" for k, v in values.items())
    return f"{lead}{shown}" if lead.strip() else f"{lead}({shown})"

