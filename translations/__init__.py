"""The message catalogues, and a translator for one language.

A leaf: every part may import it, so that an email composed in ``checkins`` or
``portals`` is written in its recipient's language, and the web layer
(``lti_tool.i18n``) uses the same catalogues for pages.

    t = translations.for_member(member)
    subject = t.gettext("Your check-in is due on %(date)s", date=...)
"""

from __future__ import annotations

from typing import Any, Protocol

DEFAULT_LOCALE = "en"


class Translator:
    """The messages of one language (English text until catalogues are installed)."""

    def __init__(self, locale: str = DEFAULT_LOCALE) -> None:
        self.locale = locale

    def gettext(self, message: str, **variables: Any) -> str:
        """``message`` translated, with ``%(name)s`` placeholders filled."""
        return message % variables if variables else message

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        """The singular or plural form for ``num``; ``%(num)s`` is filled too."""
        variables.setdefault("num", num)
        return (singular if num == 1 else plural) % variables


class _HasLocale(Protocol):
    """Anything that may carry a preferred language (a member)."""


def for_locale(locale: str | None) -> Translator:
    """The translator for ``locale`` (e.g. ``"fr"``, ``"fr-CA"``); English when unknown."""
    return Translator(locale or DEFAULT_LOCALE)


def for_member(member: _HasLocale | None) -> Translator:
    """The translator for a member's own language, for mail and files sent to them."""
    return for_locale(getattr(member, "locale", None))
