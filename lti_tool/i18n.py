"""Translation entry points for the web layer.

Every user-facing string goes through one of these names, in Python
(``from lti_tool.i18n import gettext as _``) and in templates (``{{ _('Home') }}``,
``{{ _('Next check-in in %(days)s days', days=n) }}``), so that a catalogue can
translate it. Until a catalogue is installed they return the English text.
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def gettext(message: str, **variables: Any) -> str:
    """``message`` in the current language, with ``%(name)s`` placeholders filled."""
    return message % variables if variables else message


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The singular or plural form for ``num``; ``%(num)s`` is filled too."""
    variables.setdefault("num", num)
    return (singular if num == 1 else plural) % variables


def init_app(app: Flask) -> None:
    """Give templates ``_``, ``gettext`` and ``ngettext`` (Jinja's i18n extension)."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
