"""Generate a realistic, reproducible B2B event log and contact profiles for the benchmarks.

    python benchmarks/datagen.py --events 2000000 --contacts 100000 --out /tmp/scorelang-data

writes `events.jsonl`, `events.parquet`, `contacts.jsonl` under `--out/<events>-<contacts>-<seed>/`
(reused when already there). The mix exercises every rule of the B2B model in LANGUAGE.md:
visits to home, blog posts, pricing, careers and unmatched pages; downloads; webinars; contact
forms; email campaigns with and without an open within 24 hours (the absence rule); re-delivered
duplicates (same id); a few broken lines (rejects); profiles with titles, company sizes, consent.
Events are in time order, as an event log is; activity per contact is skewed (lognormal).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

START = 1767225600  # 2026-01-01T00:00:00Z, epoch seconds
SPAN_DAYS = 120
TITLES = ("CEO", "CTO", "VP Sales", "VP Marketing", "Engineer", "Marketing Manager", "Analyst",
          "Founder", "Student")
# (event, target chooser, weight); a target of None means the event has no target.
PAGES = ("home", "pricing", "careers", "docs/start", "docs/api", "about") + tuple(
    f"blog/post-{n}" for n in range(40))
PAGE_WEIGHTS = np.array([30, 15, 5, 6, 6, 3] + [35 / 40] * 40)
MIX = (
    ("visit", 0.46),
    ("email_sent", 0.20),
    ("download", 0.07),
    ("register", 0.03),
    ("submit", 0.02),
    ("unsubscribe", 0.01),
    ("email_open", 0.05),  # opens without a matching send (forwarded mails, other campaigns)
    ("click", 0.16),  # matched by no rule
)
OTHER_TARGETS = {
    "download": ("ebook", "whitepaper", "case-study"),
    "register": ("webinar", "meetup"),
    "submit": ("contact_form", "newsletter_form"),
    "unsubscribe": ("newsletter",),
    "click": ("banner", "cta", "footer"),
}
CAMPAIGNS = 24
OPEN_SHARE = 0.45  # share of sends opened (some after the 24 hours)
DUPLICATE_SHARE = 0.003


def dataset_dir(out: str, events: int, contacts: int, seed: int) -> str:
    return os.path.join(out, f"{events}-{contacts}-{seed}")


def generate(events: int, contacts: int, seed: int = 7, rejects_per_million: int = 100) -> dict:
    """Columns of the event log (numpy arrays, time-ordered) and the profile records."""
    rng = np.random.default_rng(seed)
    duplicates = int(events * DUPLICATE_SHARE)
    broken = events * rejects_per_million // 1_000_000
    sends_share = dict(MIX)["email_sent"]
    base = int((events - duplicates - broken) / (1 + sends_share * OPEN_SHARE) * 1.01) + 10
    activity = rng.lognormal(0.0, 1.0, contacts)
    contact = rng.choice(contacts, size=base, p=activity / activity.sum())
    at = START * 1_000_000 + rng.integers(0, SPAN_DAYS * 86400, base) * 1_000_000
    kinds = np.array([name for name, _ in MIX])
    kind = rng.choice(len(MIX), size=base, p=np.array([w for _, w in MIX]) / sum(w for _, w in MIX))
    event = kinds[kind]
    target = np.empty(base, dtype=object)
    is_visit = event == "visit"
    target[is_visit] = np.array(PAGES, dtype=object)[
        rng.choice(len(PAGES), size=int(is_visit.sum()), p=PAGE_WEIGHTS / PAGE_WEIGHTS.sum())]
    campaigns = np.array([f"campaign-{n}" for n in range(CAMPAIGNS)], dtype=object)
    for name in ("email_sent", "email_open"):
        mask = event == name
        target[mask] = campaigns[rng.integers(0, CAMPAIGNS, int(mask.sum()))]
    for name, choices in OTHER_TARGETS.items():
        mask = event == name
        target[mask] = np.array(choices, dtype=object)[rng.integers(0, len(choices), int(mask.sum()))]
    # Opens answering a send of the same campaign, mostly within the 24 hours.
    sent = np.flatnonzero(event == "email_sent")
    opened = sent[rng.random(sent.size) < OPEN_SHARE]
    delay = (rng.exponential(10 * 3600, opened.size)).astype(np.int64) * 1_000_000
    contact = np.concatenate([contact, contact[opened]])
    at = np.concatenate([at, at[opened] + delay])
    event = np.concatenate([event, np.full(opened.size, "email_open", dtype=object)])
    target = np.concatenate([target, target[opened]])
    ids = np.arange(contact.size)
    # Re-delivered events: same contact and id, a little later.
    again = rng.choice(contact.size, size=duplicates, replace=False)
    contact = np.concatenate([contact, contact[again]])
    at = np.concatenate([at, at[again] + rng.integers(1, 3600, duplicates) * 1_000_000])
    event = np.concatenate([event, event[again]])
    target = np.concatenate([target, target[again]])
    ids = np.concatenate([ids, ids[again]])
    seconds = np.where(event == "visit", rng.integers(-40, 300, event.size), -1)
    order = np.argsort(at, kind="stable")[:max(events - broken, 0)]  # exactly `events` lines
    columns = {"contact": contact[order], "at": at[order], "event": event[order],
               "target": target[order], "id": ids[order], "seconds": seconds[order]}
    return {"columns": columns, "broken": broken, "profiles": profiles(rng, contacts),
            "seed": seed}


def profiles(rng, contacts: int) -> list[dict]:
    """One profile per contact id, but 2% have none (an empty profile, LANGUAGE.md 7)."""
    title = rng.integers(0, len(TITLES) + 1, contacts)  # the last index: no title
    employees = np.exp(rng.normal(4.0, 1.8, contacts)).astype(np.int64) + 1
    consent = rng.random(contacts)
    listed = rng.random(contacts) >= 0.02
    records = []
    for number in np.flatnonzero(listed):
        record: dict = {"contact": contact_id(number)}
        if title[number] < len(TITLES):
            record["title"] = TITLES[title[number]]
        if consent[number] < 0.97:  # the rest has no employee count
            record["employees"] = int(employees[number])
        record["consent"] = bool(consent[number] < 0.9)
        records.append(record)
    return records


def contact_id(number: int) -> str:
    return f"c-{number:07d}"


def _jsonl_lines(data: dict):
    cols = data["columns"]
    broken_every = cols["contact"].size // data["broken"] if data["broken"] else 0
    for index in range(cols["contact"].size):
        if broken_every and index % broken_every == broken_every - 1:
            yield '{"contact": "c-broken", "event": "visit", "at": "yesterday"}\n'
        at_seconds, micros = divmod(int(cols["at"][index]), 1_000_000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at_seconds))
        props = (f', "props": {{"seconds": {cols["seconds"][index]}}}'
                 if cols["seconds"][index] >= 0 else "")
        target = cols["target"][index]
        target = f', "target": "{target}"' if target is not None else ""
        yield (f'{{"contact": "{contact_id(cols["contact"][index])}", "event": '
               f'"{cols["event"][index]}"{target}, "at": "{stamp}", "id": "e-{cols["id"][index]}"'
               f'{props}}}\n')


def write(data: dict, folder: str, parquet: bool = True, jsonl: bool = True) -> dict:
    """Write the data set; returns the paths written."""
    os.makedirs(folder, exist_ok=True)
    paths = {"events": os.path.join(folder, "events.jsonl"),
             "parquet": os.path.join(folder, "events.parquet"),
             "contacts": os.path.join(folder, "contacts.jsonl")}
    if jsonl:
        with open(paths["events"] + ".tmp", "w", encoding="utf-8") as stream:
            stream.writelines(_jsonl_lines(data))
        os.replace(paths["events"] + ".tmp", paths["events"])
    with open(paths["contacts"], "w", encoding="utf-8") as stream:
        stream.writelines(json.dumps(record) + "\n" for record in data["profiles"])
    if parquet:
        _write_parquet(data, paths["parquet"])
    return paths


def _write_parquet(data: dict, path: str) -> None:
    """The same events as Parquet: `at` a UTC timestamp, `props` JSON text (no broken rows:
    Parquet columns are typed)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = data["columns"]
    props = [None if s < 0 else f'{{"seconds": {s}}}' for s in cols["seconds"].tolist()]
    table = pa.table({
        "contact": pa.array([contact_id(n) for n in cols["contact"].tolist()]),
        "event": pa.array(cols["event"].tolist(), pa.string()),
        "target": pa.array(cols["target"].tolist(), pa.string()),
        "at": pa.array(cols["at"], pa.timestamp("us", tz="UTC")),
        "id": pa.array([f"e-{n}" for n in cols["id"].tolist()]),
        "props": pa.array(props, pa.string()),
    })
    pq.write_table(table, path + ".tmp", row_group_size=1_000_000)
    os.replace(path + ".tmp", path)


def ensure(out: str, events: int, contacts: int, seed: int = 7, jsonl: bool = True) -> dict:
    """The paths of the data set, generated first when missing."""
    folder = dataset_dir(out, events, contacts, seed)
    paths = {"events": os.path.join(folder, "events.jsonl"),
             "parquet": os.path.join(folder, "events.parquet"),
             "contacts": os.path.join(folder, "contacts.jsonl")}
    missing = not os.path.exists(paths["parquet"]) or (jsonl and not os.path.exists(paths["events"]))
    if missing:
        started = time.perf_counter()
        write(generate(events, contacts, seed), folder, jsonl=jsonl)
        print(f"generated {events:,} events, {contacts:,} contacts in {folder} "
              f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=os.path.join("/tmp", "scorelang-data"))
    parser.add_argument("--no-jsonl", action="store_true", help="Parquet only (large sizes)")
    args = parser.parse_args(argv)
    paths = ensure(args.out, args.events, args.contacts, args.seed, jsonl=not args.no_jsonl)
    print(json.dumps(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
