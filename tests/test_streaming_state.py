"""The streaming state (issue 10 item 7): a refused late event changes nothing, seen ids are
bounded by the duplicate horizon, profiles are written once, the state of a contact stays small
at any stream length, and a table is identified by its content when it has no source hash.
Every case runs on the compiled and the interpreted path."""
from __future__ import annotations

import copy
import json

import pytest

from compiler.lower import lower
from compiler.pipeline import compile_text
from dsl import ast as A
from runtime import Engine, Event, LateEventError, SnapshotError, parse_time
from runtime.engine import DUPLICATE_HORIZON

HOUR = 3600 * 1_000_000
DAY = 24 * HOUR
T0 = parse_time("2026-03-01T00:00:00Z")
PATHS = pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "interpreted"])


def table_of(text: str) -> dict:
    return compile_text(text).require_table()


def ev(at: int, ident=None, contact="c", event="visit", target="pricing", seq=0) -> Event:
    return Event(contact, event, at, target, ident, {}, seq + 1, seq)


def score(engine: Engine, contact="c") -> int:
    return engine.state(contact)["scores"]["score"]


@PATHS
def test_a_late_event_is_refused_without_any_state_change(compiled):
    engine = Engine(table_of("visit pricing +15\n"), compiled=compiled)
    engine.process(ev(T0 + 2 * HOUR, "e-1"))
    before = json.dumps(engine.snapshot(), sort_keys=True)
    with pytest.raises(LateEventError):
        engine.process(ev(T0 + HOUR, "e-2"))
    assert json.dumps(engine.snapshot(), sort_keys=True) == before
    # sent again in order, the refused event is a new event, not a duplicate of itself
    engine.process(ev(T0 + 3 * HOUR, "e-2"))
    assert score(engine) == 30


@PATHS
def test_a_late_resend_of_a_processed_event_is_still_a_duplicate(compiled):
    engine = Engine(table_of("visit pricing +15\n"), compiled=compiled)
    engine.process(ev(T0, "e-1"))
    engine.process(ev(T0 + HOUR, "e-2"))
    assert engine.process(ev(T0, "e-1")) == []  # at-least-once delivery: ignored, not late
    assert score(engine) == 30


@PATHS
def test_ids_older_than_the_horizon_are_forgotten(compiled):
    engine = Engine(table_of("visit pricing +1\n"), compiled=compiled)
    assert engine.duplicate_horizon == DUPLICATE_HORIZON == 7 * DAY
    engine.process(ev(T0, "e-1"))
    engine.process(ev(T0 + 7 * DAY, "e-1"))  # within the horizon (inclusive): a duplicate
    assert score(engine) == 1
    engine.process(ev(T0 + 7 * DAY + 1, "e-1"))  # beyond it: scored as a new event
    assert score(engine) == 2
    engine.process(ev(T0 + 8 * DAY, "e-1"))  # ... which is now the original
    assert score(engine) == 2
    seen = engine.snapshot()["contacts"]["c"]["seen"]
    assert seen == [["e-1", T0 + 7 * DAY + 1]]


@PATHS
def test_the_horizon_is_configurable_and_none_keeps_every_id(compiled):
    table = table_of("visit pricing +1\n")
    day = Engine(table, compiled=compiled, duplicate_horizon=DAY)
    forever = Engine(table, compiled=compiled, duplicate_horizon=None)
    for engine in (day, forever):
        engine.process(ev(T0, "e-1"))
        engine.process(ev(T0 + 30 * DAY, "e-1"))
    assert (score(day), score(forever)) == (2, 1)
    with pytest.raises(TypeError, match="duplicate_horizon"):
        Engine(table, duplicate_horizon=-1)
    # the horizon travels with the snapshot
    assert Engine.restore(table, day.snapshot()).duplicate_horizon == DAY


@PATHS
def test_batch_runs_keep_every_id_of_the_run(compiled):
    """Every engine's batch run (SQL included) counts the first of all the same ids."""
    table = table_of("visit pricing +1\n")
    events = [ev(T0, "e-1"), ev(T0 + 30 * DAY, "e-1", seq=1)]
    engine = Engine(table, compiled=compiled)
    assert engine.run(events)[0]["scores"] == {"score": 1}
    assert engine.evaluate("c", events)["scores"] == {"score": 1}


@PATHS
def test_seen_ids_stay_bounded_on_a_long_stream(compiled):
    engine = Engine(table_of("visit pricing +1\n"), compiled=compiled)
    for k in range(5000):  # one event with a new id every hour for 208 days
        engine.process(ev(T0 + k * HOUR, f"e-{k}"))
    state = engine._states["c"]
    assert len(state.seen) == 7 * 24 + 1
    assert len(engine.snapshot()["contacts"]["c"]["seen"]) == 7 * 24 + 1


@PATHS
def test_a_snapshot_writes_only_the_ids_the_horizon_still_covers(compiled):
    table = table_of("visit pricing +1\nvisit home +1\n")
    engine = Engine(table, compiled=compiled)
    engine.process(ev(T0, "e-1"))
    engine.process(ev(T0 + 10 * DAY, None, target="home"))  # no id: nothing forgotten yet
    assert list(engine._states["c"].seen) == ["e-1"]
    snapshot = engine.snapshot()
    assert snapshot["contacts"]["c"]["seen"] is None  # e-1 can never be a duplicate again
    resumed = Engine.restore(table, snapshot, compiled=compiled)
    for one in (engine, resumed):
        one.process(ev(T0 + 10 * DAY, "e-1"))
    assert score(resumed) == score(engine) == 3


def test_profiles_are_written_once():
    table = table_of("require consent\nvisit pricing +1\nif title = \"CEO\" +5\n")
    profile = {"consent": True, "title": "CEO", "note": "x" * 300}
    engine = Engine(table, {"c": profile})
    engine.process(ev(T0))
    engine.set_profile("d", {"consent": True})
    engine.process(ev(T0, contact="d"))
    snapshot = engine.snapshot()
    assert json.dumps(snapshot).count("x" * 300) == 1
    assert "profile" not in snapshot["contacts"]["c"]
    resumed = Engine.restore(table, json.loads(json.dumps(snapshot)))
    for one in (engine, resumed):
        one.process(ev(T0 + HOUR))
        one.process(ev(T0 + HOUR, contact="e"))  # no profile: unscored
    for contact in "cde":
        assert resumed.state(contact) == engine.state(contact)
    assert resumed.state("c")["scores"] == {"score": 7}


B2B_WITHOUT_DECAY = """\
timezone "Europe/Berlin"
score engagement 0..100
score fit
require consent
visit home                 +5   at most 1 per day
visit "blog/*"             +10  at most 5
visit pricing              +15
download (ebook, whitepaper) +15
register webinar           +25
submit contact_form        +30  once
email_open                 +1   at most 3 per day
visit careers              -10
unsubscribe                -20
email_sent without email_open within 24 hours  -5
if title in ("CEO", "CTO", "VP*")  +20 fit
if employees >= 200                +15 fit
grade tier by fit: A >= 30, B >= 15, C >= 0, else D
stage MQL when engagement >= 50 and tier in (A, B)
stage SQL when engagement >= 80
when stage is SQL notify sales, reset engagement
when tier is D tag "not-a-fit"
"""


@PATHS
def test_a_contact_state_stays_under_1_kb_at_any_stream_length(compiled):
    """A model without decay state (b2b without its decay line): one contact, an event with
    an id every 12 hours (the benchmark's busiest contacts), the JSON of its snapshot entry
    after 1, 10 and 100 weeks. What the horizon keeps grows with the rate, not the length."""
    engine = Engine(table_of(B2B_WITHOUT_DECAY), {"c": {"consent": True, "title": "CEO"}},
                    compiled=compiled)
    kinds = [("visit", "home"), ("visit", "blog/a"), ("email_sent", None), ("email_open", None),
             ("visit", "pricing"), ("visit", "careers"), ("download", "ebook")]
    sizes = []
    k = 0
    for weeks in (1, 10, 100):
        while k * 12 * HOUR < weeks * 7 * DAY:
            event, target = kinds[k % len(kinds)]
            engine.process(Event("c", event, T0 + k * 12 * HOUR, target, f"evt-{k:08d}", {}))
            k += 1
        entry = engine.snapshot()["contacts"]["c"]
        sizes.append(len(json.dumps(entry)))
    assert max(sizes) < 1024, sizes
    # flat once the horizon is full and the triggers have fired: nothing grows with the stream
    # but the digits of the event counter
    assert sizes[2] <= sizes[1] + 4, sizes


def test_a_table_without_a_source_hash_is_identified_by_its_content():
    one = lower(A.Model((A.EventRule("visit", A.Targets(), None, 1),)))
    two = lower(A.Model((A.EventRule("visit", A.Targets(), None, 2),)))
    assert one["source"]["sha256"] is None and two["source"]["sha256"] is None
    nulled = copy.deepcopy(one)
    engine = Engine(one)
    engine.process(ev(T0, target=None))
    snapshot = json.loads(json.dumps(engine.snapshot()))
    assert snapshot["table"].startswith("content:")
    with pytest.raises(SnapshotError, match="another rule table"):
        Engine.restore(two, snapshot)
    assert Engine.restore(nulled, snapshot).state("c")["scores"] == {"score": 1}
    # a table with a source hash keeps it as its identity (recompiling the same source)
    hashed = table_of("visit +1\n")
    assert Engine(hashed).snapshot()["table"] == hashed["source"]["sha256"]
