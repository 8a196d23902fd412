"""A programme's check-in settings, read from ``Programme.settings`` with defaults.

Keys (all optional): ``require_agreement`` (bool, default false), ``grace_days`` (int,
default 7), ``pulse_surveys`` (list of ``day30``/``midpoint``/``close``, default all
three), ``survey_window_days`` (days a pulse stays open before it counts as unanswered,
default 14), ``themes`` (list of ``{"theme": str, "questions": [str]}``, one per month).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from records import Match, Programme
from translations import N_

PULSES = ("day30", "midpoint", "close")
DEFAULT_GRACE_DAYS = 7
DEFAULT_SURVEY_WINDOW_DAYS = 14
# The close pulse opens this many days before the programme ends.
CLOSE_PULSE_LEAD_DAYS = 14

DEFAULT_THEMES: list[dict[str, Any]] = [
    {
        "theme": N_("Getting to know each other"),
        "questions": [
            N_("What made you join this programme, and what would make it worthwhile?"),
            N_("How do you each like to give and receive feedback?"),
        ],
    },
    {
        "theme": N_("Career planning"),
        "questions": [
            N_("Where would you like to be in three years, and what is the next step?"),
            N_("Which decisions in your mentor's career would they make again?"),
        ],
    },
    {
        "theme": N_("Workplace challenges"),
        "questions": [
            N_("What situation at work drained you most this month, and why?"),
            N_("Which conversation are you putting off?"),
        ],
    },
    {
        "theme": N_("Skill development"),
        "questions": [
            N_("Which skill would make the biggest difference this year?"),
            N_("How could you practise it in your current role?"),
        ],
    },
    {
        "theme": N_("Networks and visibility"),
        "questions": [
            N_("Who should know about your work who does not yet?"),
            N_("Which professional events or groups are worth your time?"),
        ],
    },
    {
        "theme": N_("Reflection and next steps"),
        "questions": [
            N_("What has changed since your first meeting?"),
            N_("How will you keep going once the programme closes?"),
        ],
    },
]


@dataclass(frozen=True)
class CheckinSettings:
    """The effective settings of one programme."""

    cadence_days: int
    grace_days: int
    require_agreement: bool
    pulse_surveys: tuple[str, ...]
    survey_window_days: int
    themes: tuple[dict[str, Any], ...]

    @property
    def theme_names(self) -> list[str]:
        return [t["theme"] for t in self.themes]


def settings_of(programme: Programme) -> CheckinSettings:
    """Read ``programme.settings``, falling back to defaults for what is unset or malformed."""
    raw = programme.settings or {}
    pulses = tuple(s for s in raw.get("pulse_surveys", PULSES) if s in PULSES)
    themes = raw.get("themes")
    if not isinstance(themes, list) or not all(
        isinstance(t, dict) and isinstance(t.get("theme"), str) for t in themes
    ):
        themes = DEFAULT_THEMES
    return CheckinSettings(
        cadence_days=programme.cadence_days,
        grace_days=_positive_int(raw.get("grace_days"), DEFAULT_GRACE_DAYS),
        require_agreement=bool(raw.get("require_agreement", False)),
        pulse_surveys=pulses,
        survey_window_days=_positive_int(raw.get("survey_window_days"), DEFAULT_SURVEY_WINDOW_DAYS),
        themes=tuple(themes),
    )


def _positive_int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and value >= 0 else default


def match_start(match: Match) -> date | None:
    """The day a pair began: when both accepted (the clock does not wait for the paperwork
    of an agreement), else when it started."""
    moment = match.accepted_at or match.started_at
    return moment.date() if moment else None


def pulse_opens_on(programme: Programme, match: Match, survey: str) -> date | None:
    """The day ``survey`` opens for ``match``, or ``None`` when it cannot be placed yet.

    day30 counts from the pair's start; midpoint is halfway through the programme (or
    day 90 of the pair when the programme has no end); close is two weeks before the end.
    """
    fixed, days_after_start = pulse_schedule(programme, survey)
    if fixed is not None:
        return fixed
    start = match_start(match)
    if days_after_start is None or start is None:
        return None
    return start + timedelta(days=days_after_start)


def pulse_schedule(programme: Programme, survey: str) -> tuple[date | None, int | None]:
    """How ``survey`` is placed: ``(day, None)`` on a fixed day of the programme,
    ``(None, n)`` n days after each pair's start, ``(None, None)`` not at all.

    The dashboard turns this into SQL; :func:`pulse_opens_on` into a date.
    """
    if survey == "day30":
        return None, 30
    if survey == "midpoint":
        if programme.starts_on and programme.ends_on:
            return programme.starts_on + (programme.ends_on - programme.starts_on) / 2, None
        return None, 90
    if survey == "close":
        if programme.ends_on:
            return programme.ends_on - timedelta(days=CLOSE_PULSE_LEAD_DAYS), None
        return None, None
    raise ValueError(f"survey {survey!r} is not a pulse; need one of {PULSES}")


def month_of_programme(programme: Programme, day: date) -> int:
    """Which month of the programme ``day`` falls in, counting from 0 (0 before it starts)."""
    if programme.starts_on is None or day < programme.starts_on:
        return 0
    return (
        (day.year - programme.starts_on.year) * 12
        + day.month
        - programme.starts_on.month
        - (1 if day.day < programme.starts_on.day else 0)
    )


def prompt_for(programme: Programme, day: date) -> dict[str, Any]:
    """This month's theme and suggested questions (themes repeat when the list runs out)."""
    themes = settings_of(programme).themes
    theme = themes[month_of_programme(programme, day) % len(themes)]
    return {"theme": theme["theme"], "questions": list(theme.get("questions", []))}
