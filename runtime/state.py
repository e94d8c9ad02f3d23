"""A contact's state between events (`_Contact`): what the batch run, the streaming API,
the compiled evaluator and snapshots share (docs/semantics.md, streaming contract)."""
from __future__ import annotations


class _Contact:
    # the fields every event reads or writes first, next to each other: a batch run over
    # many contacts finds them in one or two cache lines of the object
    __slots__ = ("clock", "seq", "seen", "scored", "sums", "point", "dirty", "fired", "caps",
                 "stage", "awards", "pending", "recent", "order", "was_true", "spell",
                 "actions", "key", "profile", "base")

    def __init__(self, key: str, profile: dict):
        self.key = key  # the contact id
        self.profile = profile
        self.scored = True
        self.base: tuple = ()  # profile awards per slot (a score's own part, or a group)
        # per slot: profile awards + event, absence and inactivity awards (untimed slots) in
        # one list, so that a point reads one list; timed slots add their decayed total
        self.sums: list[int] = []
        self.awards: list = []  # per slot: None (untimed) or timed awards (runtime.decay)
        self.caps: dict | None = None  # rule index -> count, or [period key, count]
        # Containers start as the shared empty tuple and become lists on first use: a
        # streaming engine holds millions of contacts, most never need them.
        self.pending: list | tuple = ()  # (due, a_at, a_order, rule index, target), sorted
        # the quiet spell (10.3): None before the first activity, else [u, next due per
        # inactivity rule (None once the rule awards no more in this spell)]
        self.spell: list | None = None
        self.stage = -1
        self.fired = 0  # bit j: once-trigger j has fired
        self.was_true = 0  # bit j: each-time trigger j held at the last point
        self.actions: list | tuple = ()
        self.clock: int | None = None  # time of the latest event or advance
        self.point: int | None = None  # time of the latest evaluation point
        self.recent: list | tuple = ()  # (event, target) already processed at `clock`
        # event id -> time, in time order (events of a contact come in time order), for
        # duplicates; streaming forgets ids older than the duplicate horizon
        self.seen: dict | set | None = None  # a set in batch runs (every id, no times)
        self.order = 0  # events processed: A's processing order for absences
        self.dirty = True  # something changed since the last evaluation point
        self.seq = None  # batch only: `seq` of the latest event, to check the input's order

    def fork(self) -> "_Contact":
        """A copy to evaluate ahead (a timeline's period end) without changing this one: the
        containers points change are copied, the rest (profile, seen ids) shared."""
        twin = _Contact.__new__(_Contact)
        for name in _Contact.__slots__:
            setattr(twin, name, getattr(self, name))
        twin.sums = list(self.sums)
        twin.awards = [None if a is None else [a[0], list(a[1])] for a in self.awards]
        if self.caps is not None:
            twin.caps = {k: list(v) if type(v) is list else v for k, v in self.caps.items()}
        twin.pending = list(self.pending) if self.pending else ()
        twin.spell = list(self.spell) if self.spell is not None else None
        twin.actions = list(self.actions) if self.actions else ()
        twin.recent = list(self.recent) if self.recent else ()
        return twin
