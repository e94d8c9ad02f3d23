"""Calendar periods for `at most N per day|week|month` caps (docs/language.md 3.1).

A period is named by an integer key: the local date's ordinal for days, the ordinal of the
week's Monday for weeks, `year * 12 + month - 1` for months, all in the model's IANA zone.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

_MICROS_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_ORDINAL = _EPOCH.date().toordinal()
MICROS_PER_DAY, EPOCH_ORDINAL = _MICROS_PER_DAY, _EPOCH_ORDINAL  # for runtime.compiled_writers
_LAST_ORDINAL = date.max.toordinal()
_LAST_MICRO = (_LAST_ORDINAL + 1 - _EPOCH_ORDINAL) * _MICROS_PER_DAY - 1  # 9999-12-31T23:59:59.999999Z
PERIODS = ("day", "week", "month")
_QUARTER = 900_000_000
QUARTER = _QUARTER  # for runtime.compiled_writers (`Calendar.days_cache`)
_CACHE_LIMIT = 1 << 16


class Calendar:
    __slots__ = ("zone", "_utc", "_days")

    def __init__(self, zone_name: str):
        self.zone = ZoneInfo(zone_name)
        self._utc = zone_name in ("UTC", "Etc/UTC")
        self._days: dict[int, int] = {}

    @property
    def is_utc(self) -> bool:
        return self._utc

    def _local_date(self, micros: int):
        # The whole second holding `micros` has one local date: zone offsets and the
        # instants they change at are whole seconds (TZif), so local midnights are too.
        # fromtimestamp takes a third of the time of the sum and astimezone below (a B2B
        # run of 200,000 events asks for 11,000 quarter hours, two instants each).
        try:
            return datetime.fromtimestamp(micros // 1_000_000, self.zone).date()
        except (OverflowError, OSError, ValueError):  # the ends of time: as before
            moment = _EPOCH + timedelta(microseconds=micros)
            return moment.astimezone(self.zone).date()

    def _local(self, micros: int) -> tuple[int, int, int]:
        """(date ordinal, year, month) of the local date at `micros`. At the ends of time
        the local date can be 0000-12-31 or 10000-01-01, which `datetime` cannot hold: it
        is counted on (ordinal 0, or one past 9999-12-31) with the zone's offset of two
        days inward (no zone changes its offset in the first or last days of the calendar),
        so a cap counts the same day on every engine (docs/language.md 3.1)."""
        try:
            local = self._local_date(micros)
            return local.toordinal(), local.year, local.month
        except OverflowError:
            utc = _EPOCH + timedelta(microseconds=micros)
            inward = timedelta(days=2) if utc.year == 1 else -timedelta(days=2)
            offset = (utc + inward).astimezone(self.zone).utcoffset()
            seconds = utc.hour * 3600 + utc.minute * 60 + utc.second + \
                int(offset.total_seconds())
            ordinal = utc.toordinal() + seconds // 86400
            if ordinal < 1:
                return ordinal, 0, 12
            if ordinal > _LAST_ORDINAL:
                return ordinal, 10000, 1
            local = date.fromordinal(ordinal)
            return ordinal, local.year, local.month

    def days_cache(self) -> dict[int, int]:
        """The quarter hours `day` has cached (micros // QUARTER -> day; only buckets every
        instant of which falls on that day). Cleared in place when full, never replaced."""
        return self._days

    def day(self, micros: int) -> int:
        if self._utc:  # no zone lookup on the common path
            return _EPOCH_ORDINAL + micros // _MICROS_PER_DAY
        # Zone offsets change at most once in a quarter hour: when both ends of a quarter
        # hour fall on the same local day, every instant in it does, and the day is cached.
        bucket = micros // _QUARTER
        day = self._days.get(bucket)
        if day is None:
            first = self._local(bucket * _QUARTER)[0]
            last = self._local(min((bucket + 1) * _QUARTER - 1, _LAST_MICRO))[0]
            if first != last:
                return self._local(micros)[0]
            if len(self._days) >= _CACHE_LIMIT:
                self._days.clear()
            day = self._days[bucket] = first
        return day

    def week(self, micros: int) -> int:
        ordinal = self.day(micros)
        # date.fromordinal(1) is a Monday, so (ordinal - 1) % 7 is the weekday (Monday = 0)
        return ordinal - (ordinal - 1) % 7

    def month(self, micros: int) -> int:
        _, year, month = self._local(micros)
        return year * 12 + month - 1

    def key(self, per: str, micros: int) -> int:
        if per == "day":
            return self.day(micros)
        if per == "week":
            return self.week(micros)
        return self.month(micros)

    # ------------------------------------------------------------------ period boundaries
    # `score run --timeline` evaluates each contact at the end of every day, week or month
    # in the model's zone. A period is named by the local date it starts on.

    def start_of(self, per: str, micros: int):
        """The local date the day, week (Monday) or month holding `micros` starts on. An
        instant whose local date is past the calendar's ends (0000-12-31 or 10000-01-01,
        which `datetime` cannot hold) is in its first or last period."""
        try:
            local = self._local_date(micros) if not self._utc else \
                date.fromordinal(_EPOCH_ORDINAL + micros // _MICROS_PER_DAY)
        except OverflowError:  # local date 0000-12-31 or 10000-01-01: the calendar's end
            local = date.min if micros < 0 else date.max
        if per == "day":
            return local
        if per == "week":
            return local - timedelta(days=local.weekday())
        return local.replace(day=1)

    def next_start(self, per: str, micros: int) -> int:
        """The first instant (microseconds) of the period after the one holding `micros`."""
        first = self.start_of(per, micros)
        try:
            if per == "day":
                following = first + timedelta(days=1)
            elif per == "week":
                following = first + timedelta(days=7)
            else:
                following = (first + timedelta(days=32)).replace(day=1)
        except OverflowError:  # the period holding 9999-12-31 ends with the calendar
            return _LAST_MICRO + 1
        return min(self.instant(following), _LAST_MICRO + 1)

    def instant(self, day) -> int:
        """Local midnight starting `day`, in microseconds since the epoch. Where a zone skips
        midnight (clocks go forward at 00:00) the day starts at the first instant it has:
        zoneinfo reads the missing 00:00 with the offset before the change, which is that
        instant."""
        if self._utc:
            return (day.toordinal() - _EPOCH_ORDINAL) * _MICROS_PER_DAY
        moment = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        return (moment - _EPOCH) // timedelta(microseconds=1)
