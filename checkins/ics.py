"""Calendar invites (``.ics``) for a pair's next meeting, in the member's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vCalAddress

from records import utcnow

from .errors import InvalidInput


def zone(name: str | None) -> ZoneInfo:
    """The named IANA time zone, UTC when unset.

    Raises:
        InvalidInput: an unknown zone name.
    """
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"time zone {name!r} is not an IANA zone like 'Europe/London'") from None


def meeting_invite(
    *,
    uid: str,
    start: datetime,
    duration_minutes: int,
    time_zone: str | None,
    summary: str,
    description: str = "",
    attendees: list[tuple[str, str]] = (),  # type: ignore[assignment]
    stamp: datetime | None = None,
) -> bytes:
    """An iCalendar file with one event.

    ``start`` is aware; it is written in ``time_zone`` (with its VTIMEZONE, so calendars
    that do not know the zone still place the meeting right, summer time included).
    ``attendees`` are ``(name, email)`` pairs.
    """
    if start.tzinfo is None:
        raise InvalidInput("the meeting start needs a time zone")
    local = start.astimezone(zone(time_zone))
    calendar = Calendar()
    calendar.add("prodid", "-//Tandem mentoring//tandem//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp or utcnow())
    event.add("dtstart", local)
    event.add("dtend", local + timedelta(minutes=duration_minutes))
    event.add("summary", summary)
    if description:
        event.add("description", description)
    for name, email in attendees:
        if not email:
            continue
        address = vCalAddress(f"mailto:{email}")
        address.params["cn"] = name
        event.add("attendee", address, encode=0)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
