"""Seeded sample data for the example models: a few hundred contacts, a few thousand events each.

    python examples/generate_data.py            # rewrites examples/data/<model>/*.jsonl

The same seed gives the same files byte for byte. Each model has a catalogue of behaviours with
weights; every contact gets an interest level that makes some contacts much busier than others
(as real journeys are), a profile, and events spread over the three months before 2026-04-01.
The B2B events file carries two deliberately broken lines, so that a first run shows how rejects
are reported without stopping the run. B2B contacts work for companies (`company_domain`, for the
model's accounts): colleagues share an industry and a size, and about one in ten has no company
(a personal address); the domains are drawn after the rest, so the other fields do not change.
"""
from __future__ import annotations

import argparse
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
DAYS = 90

# model -> (contacts, events, behaviours: (event, targets, weight, props))
MODELS = {
    "b2b_saas": (300, 4000, [
        ("visit", ["home", "pricing", "careers", "about", "blog/pricing-guide",
                   "blog/lead-scoring-101", "blog/case-study"], 45, None),
        ("download", ["ebook", "whitepaper", "datasheet"], 8, None),
        ("register", ["webinar"], 4, None),
        ("submit", ["contact_form"], 2, None),
        ("email_sent", ["spring-launch", "webinar-invite", "newsletter-03"], 20, None),
        ("email_open", ["spring-launch", "webinar-invite", "newsletter-03"], 14, None),
        ("unsubscribe", [None], 1, None),
    ]),
    "online_shop": (400, 5000, [
        ("add_to_cart", ["shoes", "jacket", "socks", "backpack", "watch"], 20, None),
        ("browse", ["reviews"], 25, None),
        ("compare", ["products"], 15, None),
        ("start", ["checkout"], 12, None),
        ("view", ["home", "sale", "shoes", "jackets"], 28, None),
    ]),
    "vod": (300, 5000, [
        ("subscribe", ["monthly"], 4, None),
        ("renew", ["yearly"], 2, None),
        ("buy", ["package/kids", "package/sports", "package/documentaries"], 4, None),
        ("watch", ["film_1", "film_2", "series_7", "series_9"], 80,
         lambda rnd: {"minutes": rnd.choice([3, 12, 25, 48, 95, 120])}),
        ("cancel", ["subscription"], 1, None),
        ("payment_failed", [None], 2, None),
    ]),
    "hubspot_port": (400, 6000, [
        ("Email Sent", ["spring-launch", "webinar-invite", "newsletter-03"], 30, None),
        ("Email Opened", ["spring-launch", "webinar-invite", "newsletter-03"], 20, None),
        ("Email Clicked", ["spring-launch", "webinar-invite"], 6, None),
        ("Email Unsubscribed", ["newsletter-03"], 1, None),
        ("Page Viewed", ["/", "/pricing", "/careers", "/blog/lead-scoring-101",
                         "/blog/hubspot-vs-marketo", "/blog/case-study"], 30, None),
        ("Form Submitted", ["demo-request", "newsletter"], 3, None),
        ("Webinar Attended", ["spring-webinar"], 3, None),
        ("Meeting Booked", [None], 1, None),
        ("sales_adjust", [None], 1, lambda rnd: {
            "points": rnd.choice([10, 20, 25, 40, -15, -30]),
            "rep": rnd.choice(["ana@sales", "ben@sales", "chloe@sales"]),
            "reason": rnd.choice(["met at trade fair", "asked for a quote",
                                  "left the company", "budget approved"])}),
    ]),
    "loyalty": (400, 4000, [
        ("download", ["app"], 6, None),
        ("reach", ["gold"], 2, None),
        ("scan", ["receipt"], 60, None),
        ("redeem", ["coupon"], 20, None),
        ("unsubscribe", ["newsletter", "leaflets"], 3, None),
    ]),
}

TITLES = ["CEO", "CTO", "VP Sales", "VP Marketing", "Head of Growth", "Engineer", "Analyst",
          "Marketing Manager", "Student"]
COUNTRIES = ["DE", "AT", "CH", "FR", "NL", "US", "GB"]


def _profile(model: str, rnd: random.Random) -> dict:
    profile: dict = {"consent": rnd.random() < 0.9}
    if model == "hubspot_port":
        profile["job_title"] = rnd.choice(TITLES + ["Head of Marketing"])
        profile["seniority"] = rnd.choice(["director", "manager", "individual"])
        profile["company_size"] = rnd.choice([3, 8, 25, 60, 150, 250, 800, 5000])
        profile["industry"] = rnd.choice(["Software", "SaaS", "Retail", "Finance"])
        profile["email_domain"] = rnd.choice(["acme.com", "initech.io", "gmail.com",
                                              "outlook.com", "globex.de"])
    elif model == "b2b_saas":
        profile["title"] = rnd.choice(TITLES)
        profile["employees"] = rnd.choice([3, 8, 25, 60, 150, 250, 800, 5000])
        profile["industry"] = rnd.choice(["software", "retail", "finance", "health"])
    else:
        profile["country"] = rnd.choice(COUNTRIES)
    return profile


COMPANY_WORDS = (["north", "blue", "bright", "iron", "silver", "green", "clear", "swift",
                  "prime", "polar"],
                 ["wind", "stone", "leaf", "path", "field", "works", "labs", "soft", "bay",
                  "line"])
TLDS = {"software": "io", "retail": "shop", "finance": "com", "health": "de"}


def _companies(profiles: list[dict], seed: int) -> None:
    """Adds `company_domain` to B2B profiles: contacts of the same industry and size split
    into companies of 1 to 6 colleagues (never more than the company's employees); one in ten
    has none. A Random of its own, so the other fields are those drawn before."""
    rnd = random.Random(f"b2b_saas-companies-{seed}")
    names = [a + b for a in COMPANY_WORDS[0] for b in COMPANY_WORDS[1]]
    rnd.shuffle(names)
    groups: dict[tuple, list[dict]] = {}
    for profile in profiles:
        groups.setdefault((profile["industry"], profile["employees"]), []).append(profile)
    used = 0
    for (industry, employees), members in sorted(groups.items()):
        members = [p for p in members if rnd.random() >= 0.1]
        rnd.shuffle(members)
        while members:
            size = rnd.randint(1, min(6, employees))
            company = f"{names[used % len(names)]}{used // len(names) or ''}.{TLDS[industry]}"
            used += 1
            for profile in members[:size]:
                profile["company_domain"] = company
            members = members[size:]


def generate(model: str, seed: int, size: tuple[int, int] | None = None
             ) -> tuple[list[dict], list[dict]]:
    """(events, profiles) of `model`; `size` (contacts, events) scales it for benchmarks."""
    rnd = random.Random(f"{model}-{seed}")
    contacts, events, behaviours = MODELS[model]
    if size is not None:
        contacts, events = size
    prefix = "hs" if model == "hubspot_port" else model[:3]
    ids = [f"{prefix}-{n:04d}" for n in range(1, contacts + 1)]
    interest = [rnd.paretovariate(1.3) for _ in ids]
    weights = [b[2] for b in behaviours]
    rows = []
    for number, who in enumerate(rnd.choices(ids, weights=interest, k=events)):
        event, targets, _, props = rnd.choices(behaviours, weights=weights)[0]
        at = START + timedelta(seconds=rnd.randrange(DAYS * 86400))
        row = {"contact": who, "event": event}
        target = rnd.choice(targets)
        if target is not None:
            row["target"] = target
        row["at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        row["id"] = f"e-{number:06d}"
        if props is not None:
            row["props"] = props(rnd)
        rows.append(row)
    rows.sort(key=lambda r: r["at"])
    profiles = [{"contact": who, **_profile(model, rnd)} for who in ids]
    if model == "b2b_saas":
        _companies(profiles, seed)
    return rows, profiles


def write(model: str, seed: int, out: Path) -> None:
    rows, profiles = generate(model, seed)
    folder = out / model
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(row) for row in rows]
    if model == "b2b_saas":  # two broken lines, to show that rejects never stop a run
        lines.insert(1000, '{"contact": "b2b-0007", "event": "visit", "at": "yesterday"}')
        lines.insert(2500, '{"contact": "b2b-0042", "event": "visit", "target": "pricing"')
    (folder / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "contacts.jsonl").write_text(
        "".join(json.dumps(p) + "\n" for p in profiles), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "data")
    args = parser.parse_args()
    for model in MODELS:
        write(model, args.seed, args.out)
        print(f"wrote {args.out / model}")


if __name__ == "__main__":
    main()
