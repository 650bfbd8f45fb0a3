"""Digest schedules: parsing `daily 09:00` / `weekly mon 09:00` and finding the next time one is due, in a
workspace's time zone. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.h]?([0-5]\d)$")


class ScheduleError(ValueError):
    """The text is not a schedule; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    kind: str  # off | daily | weekly
    hour: int = 9
    minute: int = 0
    day: int | None = None  # 0 = Monday, weekly only

    def describe(self) -> str:
        if self.kind == "off":
            return "off"
        at = f"{self.hour:02d}:{self.minute:02d}"
        return f"daily at {at}" if self.kind == "daily" else f"weekly on {DAYS[self.day or 0].title()} at {at}"

    @property
    def time_text(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"


def parse_schedule(text: str) -> tuple[DigestSchedule, str | None]:
    """`off`, `daily HH:MM [ZONE]` or `weekly DAY HH:MM [ZONE]`; returns the schedule and the time zone named,
    if any."""
    words = text.split()
    if not words:
        raise ScheduleError("say daily HH:MM, weekly DAY HH:MM or off")
    kind = words[0].lower()
    if kind == "off" and len(words) == 1:
        return DigestSchedule("off"), None
    if kind == "daily" and len(words) in (2, 3):
        hour, minute = parse_time(words[1])
        return DigestSchedule("daily", hour, minute), _zone(words[2:])
    if kind == "weekly" and len(words) in (3, 4):
        day = parse_day(words[1])
        hour, minute = parse_time(words[2])
        return DigestSchedule("weekly", hour, minute, day), _zone(words[3:])
    raise ScheduleError("say daily HH:MM, weekly DAY HH:MM or off")


def parse_time(text: str) -> tuple[int, int]:
    match = _TIME.match(text.strip().lower())
    if not match:
        raise ScheduleError(f"{text!r} is not a time like 09:00 or 17:30")
    return int(match.group(1)), int(match.group(2))


def parse_day(text: str) -> int:
    key = text.strip().lower()[:3]
    if key not in DAYS:
        raise ScheduleError(f"{text!r} is not a day of the week (mon … sun)")
    return DAYS.index(key)


def _zone(words: list[str]) -> str | None:
    if not words:
        return None
    zone_name(words[0])
    return words[0]


def zone_name(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"{name!r} is not a time zone like Europe/Berlin or America/New_York") from exc


def next_digest_at(schedule: DigestSchedule, timezone: str, after: datetime) -> datetime | None:
    """The first scheduled time strictly after `after`, in UTC; None when digests are off. Wall-clock times
    that a daylight-saving change skips run at the same wall time plus the skipped hour (zoneinfo's fold)."""
    if schedule.kind == "off":
        return None
    zone = zone_name(timezone)
    local = after.astimezone(zone)
    for offset in range(0, 9):
        day = (local + timedelta(days=offset)).date()
        if schedule.kind == "weekly" and day.weekday() != schedule.day:
            continue
        candidate = datetime(day.year, day.month, day.day, schedule.hour, schedule.minute, tzinfo=zone)
        if candidate.astimezone(UTC) > after:
            return candidate.astimezone(UTC)
    raise AssertionError("a daily or weekly time recurs within 8 days")
