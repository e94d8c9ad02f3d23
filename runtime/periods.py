"""Calendar periods for `at most N per day|week|month` caps (LANGUAGE.md 3.1).

A period is named by an integer key: the local date's ordinal for days, the ordinal of the
week's Monday for weeks, `year * 12 + month - 1` for months, all in the model's IANA zone.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

_MICROS_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_ORDINAL = _EPOCH.date().toordinal()
PERIODS = ("day", "week", "month")


class Calendar:
    __slots__ = ("zone", "_utc")

    def __init__(self, zone_name: str):
        self.zone = ZoneInfo(zone_name)
        self._utc = zone_name in ("UTC", "Etc/UTC")

    def _local_date(self, micros: int):
        moment = _EPOCH + timedelta(microseconds=micros)
        return moment.astimezone(self.zone).date()

    def day(self, micros: int) -> int:
        if self._utc:  # no zone lookup on the common path
            return _EPOCH_ORDINAL + micros // _MICROS_PER_DAY
        return self._local_date(micros).toordinal()

    def week(self, micros: int) -> int:
        ordinal = self.day(micros)
        # date.fromordinal(1) is a Monday, so (ordinal - 1) % 7 is the weekday (Monday = 0)
        return ordinal - (ordinal - 1) % 7

    def month(self, micros: int) -> int:
        local = self._local_date(micros)
        return local.year * 12 + local.month - 1

    def key(self, per: str, micros: int) -> int:
        if per == "day":
            return self.day(micros)
        if per == "week":
            return self.week(micros)
        return self.month(micros)
