"""Seeded generator of events and contacts for the B2B model (`benchmarks/b2b.score`).

    python benchmarks/generate.py --events 2000000 --contacts 100000 --seed 1 --out /tmp/b2b

writes `events.jsonl` and `contacts.jsonl` under `--out`. Standard library only; the same seed
gives the same files byte for byte. The mix exercises every rule of the model: visits to home,
blog posts, pricing, careers and pages no rule names; ebook/whitepaper/datasheet downloads;
webinars; contact forms (capped `once`); email campaigns, about a third answered by an open
within 24 hours (the absence rule), some opened later or not at all; unsubscribes; re-delivered
duplicates (same id). Times span 120 days (decay steps every 30 days, calendar days in Berlin),
activity per contact is skewed, and the file is in time order, as an event log is.
"""
from __future__ import annotations

import argparse
import json
import os
import random
from datetime import datetime, timedelta, timezone

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
SPAN_SECONDS = 120 * 86400
TITLES = ("CEO", "CTO", "VP Sales", "VP Marketing", "Engineer", "Marketing Manager", "Analyst",
          "Founder", "Student")
PAGES = ("home", "home", "home", "pricing", "pricing", "careers", "docs/start", "about") + tuple(
    f"blog/post-{n}" for n in range(12))
# (event, target choices, weight); None in the choices means "no target".
MIX = (
    ("visit", PAGES, 48),
    ("email_sent", None, 20),  # a campaign target; may bring an open (see `_email`)
    ("download", ("ebook", "whitepaper", "datasheet"), 7),
    ("register", ("webinar", "meetup"), 3),
    ("submit", ("contact_form", "newsletter"), 2),
    ("unsubscribe", (None,), 1),
    ("email_open", None, 4),  # opens of campaigns never sent to this contact
    ("click", ("cta", "footer"), 15),  # matched by no rule
)
DUPLICATE_RATE = 0.005
OPEN_WITHIN_DAY = 0.35
OPEN_LATE = 0.10


def contact_id(number: int) -> str:
    return f"c-{number:07d}"


def _at_text(seconds: int, epoch_number: bool) -> str | int:
    if epoch_number:
        return int(START.timestamp()) + seconds
    return (START + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rows(rng: random.Random, events: int, contacts: int) -> list[tuple]:
    """(seconds from START, contact number, event, target, props) in time order."""
    weights = [rng.paretovariate(1.5) for _ in range(contacts)]
    kinds = [kind for kind, _, _ in MIX]
    kind_weights = [weight for _, _, weight in MIX]
    choices = {kind: targets for kind, targets, _ in MIX}
    rows: list[tuple] = []
    who = rng.choices(range(contacts), weights=weights, k=events)
    while len(rows) < events:
        contact = who[len(rows)]
        at = rng.randrange(SPAN_SECONDS)
        kind = rng.choices(kinds, weights=kind_weights)[0]
        if kind in ("email_sent", "email_open"):
            target = f"cmp-{rng.randrange(60)}"
        else:
            target = rng.choice(choices[kind])
        props = {"seconds": rng.randrange(1, 300)} if kind == "visit" and rng.random() < 0.3 \
            else None
        rows.append((at, contact, kind, target, props))
        if kind == "email_sent" and len(rows) < events:
            roll = rng.random()
            if roll < OPEN_WITHIN_DAY + OPEN_LATE:
                delay = rng.randrange(60, 86400) if roll < OPEN_WITHIN_DAY \
                    else rng.randrange(86401, 4 * 86400)
                if at + delay < SPAN_SECONDS:
                    rows.append((at + delay, contact, "email_open", target, None))
    rows.sort(key=lambda row: row[0])
    return rows


def _profile(rng: random.Random, number: int) -> dict | None:
    if rng.random() < 0.02:
        return None  # events but no profile line: an empty profile
    profile = {"contact": contact_id(number), "title": rng.choice(TITLES),
               "employees": int(rng.lognormvariate(4.0, 1.6))}
    roll = rng.random()
    if roll < 0.90:
        profile["consent"] = True
    elif roll < 0.95:
        profile["consent"] = False
    return profile


def generate(out: str, events: int, contacts: int, seed: int = 1) -> dict:
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    rows = _rows(rng, events, contacts)
    written = 0
    with open(os.path.join(out, "events.jsonl"), "w", encoding="utf-8") as stream:
        for number, (at, contact, kind, target, props) in enumerate(rows):
            record = {"contact": contact_id(contact), "event": kind,
                      "at": _at_text(at, rng.random() < 0.05), "id": f"e-{number}"}
            if target is not None:
                record["target"] = target
            if props is not None:
                record["props"] = props
            line = json.dumps(record, separators=(",", ":")) + "\n"
            stream.write(line)
            written += 1
            if rng.random() < DUPLICATE_RATE:  # re-delivered a little later: a duplicate
                record["at"] = _at_text(min(at + rng.randrange(1, 600), SPAN_SECONDS), False)
                stream.write(json.dumps(record, separators=(",", ":")) + "\n")
                written += 1
    profiles = 0
    with open(os.path.join(out, "contacts.jsonl"), "w", encoding="utf-8") as stream:
        for number in range(contacts):
            profile = _profile(rng, number)
            if profile is not None:
                stream.write(json.dumps(profile, separators=(",", ":")) + "\n")
                profiles += 1
    return {"events": written, "contacts": profiles, "out": out}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="/tmp/scorelang-b2b")
    args = parser.parse_args(argv)
    summary = generate(args.out, args.events, args.contacts, args.seed)
    print(f"wrote {summary['events']} events and {summary['contacts']} profiles to "
          f"{summary['out']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
