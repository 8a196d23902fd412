"""The message catalogues, and a translator for one language.

A leaf: every part may import it, so that an email composed in ``checkins`` or
``portals`` is written in its recipient's language, and the web layer
(``lti_tool.i18n``) uses the same catalogues for pages.

    t = translations.for_member(member)
    subject = t.gettext("Your check-in is due on %(date)s", date=t.format_date(day))

Catalogues live in ``translations/locales/<language>/LC_MESSAGES/messages.po`` with the
compiled ``messages.mo`` beside it (committed, so that a fresh clone and the wheel have
them); ``docs/translations.md`` says how to add a language.
"""

from __future__ import annotations

import gettext as _gettext
import re
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.numbers import format_decimal as _format_decimal
from babel.support import NullTranslations, Translations

DEFAULT_LOCALE = "en"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
# BCP 47 tags are short; anything longer (or with other characters) is not a locale.
_TAG = re.compile(r"[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8}){0,4}")
MAX_TAG = 35

__all__ = [
    "DEFAULT_LOCALE",
    "N_",
    "Translator",
    "available_languages",
    "for_locale",
    "for_member",
    "negotiate",
    "normalise",
    "parse_accept_language",
]


def available_languages() -> tuple[str, ...]:
    """The languages Tandem speaks: English (the source) and every compiled catalogue."""
    return _available_languages()


@lru_cache(maxsize=1)
def _available_languages() -> tuple[str, ...]:
    found = sorted(
        path.parent.parent.name for path in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")
    )
    return (DEFAULT_LOCALE, *(name for name in found if name != DEFAULT_LOCALE))


def normalise(tag: object) -> str | None:
    """A locale tag as Babel spells it (``"fr-CA"`` -> ``"fr_CA"``), or ``None`` when it
    is not a string, too long, or not a locale Babel knows."""
    if not isinstance(tag, str) or len(tag) > MAX_TAG or not _TAG.fullmatch(tag.strip()):
        return None
    try:
        return str(Locale.parse(tag.strip().replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an ``Accept-Language`` header, most wanted first (``q=0`` dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "")[:1000].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag.strip()))
    return [tag for _q, _p, tag in sorted(weighted)]


def negotiate(candidates: Iterable[object]) -> str:
    """The first candidate whose language Tandem speaks, as a Babel locale (``"fr_CA"``
    keeps its region for dates and numbers); English when none is."""
    languages = available_languages()
    for candidate in candidates:
        tag = normalise(candidate)
        if tag is not None and tag.split("_")[0] in languages:
            return tag
    return DEFAULT_LOCALE


@lru_cache(maxsize=32)
def _catalogue(language: str) -> NullTranslations:
    if language == DEFAULT_LOCALE:
        return NullTranslations()
    try:
        return Translations.load(str(LOCALES_DIR), [language], DOMAIN)
    except OSError:  # pragma: no cover - load() already falls back to NullTranslations
        return NullTranslations()


class Translator:
    """The messages, dates and numbers of one locale (``"fr_CA"``: French words,
    Canadian dates)."""

    def __init__(self, locale: str = DEFAULT_LOCALE) -> None:
        self.locale = negotiate([locale])
        self.language = self.locale.split("_")[0]
        self._messages: _gettext.NullTranslations = _catalogue(self.language)

    def translate(self, message: str) -> str:
        """``message`` translated, placeholders left as they are (Jinja fills them)."""
        return self._messages.gettext(message)

    def translate_plural(self, singular: str, plural: str, num: int) -> str:
        """The form for ``num``, translated, placeholders left as they are."""
        return self._messages.ngettext(singular, plural, num)

    def gettext(self, message: str, **variables: Any) -> str:
        """``message`` translated, with ``%(name)s`` placeholders filled."""
        text = self.translate(message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        """The singular or plural form for ``num``; ``%(num)s`` is filled too."""
        variables.setdefault("num", num)
        return self.translate_plural(singular, plural, num) % variables

    def format_date(self, value: date | datetime | None, format: str = "medium") -> str:
        """A date as this locale writes it (``7 déc. 2026``); empty for ``None``."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.date()
        return _format_date(value, format=format, locale=self.locale)

    def format_datetime(self, value: datetime | None, format: str = "medium") -> str:
        """A moment as this locale writes it, in the value's own time zone (UTC for
        Tandem's stored times)."""
        if value is None:
            return ""
        return _format_datetime(value, format=format, tzinfo=value.tzinfo, locale=self.locale)

    def format_decimal(self, value: float | int | None, digits: int | None = None) -> str:
        """A number as this locale writes it (``1 234,5`` in French); ``digits`` rounds."""
        if value is None:
            return ""
        pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
        return _format_decimal(value, format=pattern, locale=self.locale)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it here: a constant
    defined once (a section title, a survey's name) and translated where it is shown,
    ``_(section.title)``."""
    return message


class _HasLocale(Protocol):
    """Anything that may carry a preferred language (a member)."""


def for_locale(locale: str | None) -> Translator:
    """The translator for ``locale`` (e.g. ``"fr"``, ``"fr-CA"``); English when unknown."""
    return Translator(locale or DEFAULT_LOCALE)


def for_member(member: _HasLocale | None, fallback: str | None = None) -> Translator:
    """The translator for a member's own language (their last known locale), for mail
    and files sent to them; ``fallback`` (the tenant's default) when Tandem never
    learnt it."""
    return for_locale(getattr(member, "locale", None) or fallback)
