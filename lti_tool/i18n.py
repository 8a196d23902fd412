"""Translation entry points for the web layer: the request's language.

Every user-facing string goes through one of these names, in Python
(``from lti_tool.i18n import gettext as _``) and in templates (``{{ _('Home') }}``,
``{{ _('Next check-in in %(days)s days', days=n) }}``), and dates and numbers through
``format_date`` / ``format_decimal``. The language of a request is, first found:
the signed-in member's locale (the launch's ``locale`` claim, or the portal's OIDC
``locale``), the browser's ``Accept-Language``, the tenant's default
(``tandem tenant set NAME --default-locale fr``), English.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context, request, session

import translations
from translations import N_


def _request_locale() -> str:
    # The sign-in stored the member's locale and the tenant's default in the session
    # cookie, so a page costs no query to know its language.
    stored = session.get("locale") if session else None
    tenant_default = session.get("tenant_locale") if session else None
    return translations.negotiate(
        [
            stored,
            *translations.parse_accept_language(request.headers.get("Accept-Language")),
            tenant_default,
        ]
    )


def translator() -> translations.Translator:
    """The translator of the current request (English outside one)."""
    if not has_request_context():
        return translations.for_locale(None)
    if "translator" not in g:
        g.translator = translations.for_locale(_request_locale())
    return g.translator


def reset() -> None:
    """Forget the request's language (a sign-in just changed it)."""
    g.pop("translator", None)


def current_locale() -> str:
    """The request's locale as Babel spells it (``"fr_CA"``)."""
    return translator().locale


def html_lang() -> str:
    """The request's locale as HTML's ``lang`` attribute wants it (``"fr-CA"``)."""
    return current_locale().replace("_", "-")


def gettext(message: str, **variables: Any) -> str:
    """``message`` in the current language, with ``%(name)s`` placeholders filled."""
    return translator().gettext(message, **variables)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The singular or plural form for ``num``; ``%(num)s`` is filled too."""
    return translator().ngettext(singular, plural, num, **variables)


def format_date(value: Any, format: str = "medium") -> str:
    """A date in the request's locale."""
    return translator().format_date(value, format)


def format_datetime(value: Any, format: str = "medium") -> str:
    """A date and time in the request's locale."""
    return translator().format_datetime(value, format)


def format_decimal(value: Any, digits: int | None = None) -> str:
    """A number in the request's locale."""
    return translator().format_decimal(value, digits)


# The words stored in status, kind, mode and role columns, as pages show them. The
# columns keep English codes; ``{{ p.status|label }}`` shows the member's word for one.
LABELS: dict[str, str] = {
    "draft": N_("draft"),
    "enrolling": N_("enrolling"),
    "matching": N_("matching"),
    "running": N_("running"),
    "closed": N_("closed"),
    "one_to_one": N_("one-to-one"),
    "group": N_("group"),
    "peer": N_("peer"),
    "reverse": N_("reverse"),
    "flash": N_("flash"),
    "assigned": N_("assigned"),
    "mentee_choice": N_("mentee choice"),
    "hybrid": N_("hybrid"),
    "mentor": N_("mentor"),
    "mentee": N_("mentee"),
    "enrolled": N_("enrolled"),
    "matched": N_("matched"),
    "withdrawn": N_("withdrawn"),
    "proposed": N_("proposed"),
    "accepted": N_("accepted"),
    "active": N_("active"),
    "declined": N_("declined"),
    "rematched": N_("rematched"),
    "pending": N_("pending"),
    "done": N_("done"),
    "coordinator": N_("coordinator"),
    "member": N_("member"),
    "video": N_("video"),
    "in_person": N_("in person"),
    "phone": N_("phone"),
    "chat": N_("chat"),
    "other": N_("other"),
}


def label(code: object) -> str:
    """A stored code (``"mentee_choice"``) as the request's language says it."""
    text = LABELS.get(str(code))
    return gettext(text) if text is not None else str(code)


def translate_text(text: object) -> str:
    """A text Tandem defined once and marked with ``N_`` (a section title, a default
    theme), translated when the catalogue has it and shown as it is otherwise.

    For words that may also come from people (a coordinator's own theme): unlike ``_()``
    in a template, the result is plain text (escaped on output) and never a format
    string, so a ``%`` or markup in someone's text stays inert.
    """
    return translator().translate(str(text)) if text else ""


def init_app(app: Flask) -> None:
    """Give templates ``_``, ``gettext``, ``ngettext`` (Jinja's i18n extension, newstyle),
    the date and number formatters, and ``html_lang``."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    # Newstyle: Jinja itself fills the placeholders (escaping the values), so the
    # callables it gets return the translation as it is.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: translator().translate(message),
        lambda singular, plural, num: translator().translate_plural(singular, plural, num),
        newstyle=True,
    )
    app.jinja_env.globals.update(
        format_date=format_date,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
        html_lang=html_lang,
    )
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["tr"] = translate_text
