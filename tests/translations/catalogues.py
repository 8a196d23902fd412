"""Reading the catalogues against the sources: what the catalogue test and the docs' steps use.

``source_catalogue()`` extracts every marked message from the parts (as
``pybabel extract -F babel.cfg -k N_`` does), and ``problems()`` lists what a language's
catalogue gets wrong against it.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent.parent
LOCALES = ROOT / "translations" / "locales"
# The parts whose strings reach people (the CLI prints English on purpose, and marks none).
SOURCES = ("lti_tool", "platforms", "portals", "programmes", "checkins", "members", "translations")
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
# A placeholder, or a literal percent sign written twice.
_FORMAT = re.compile(r"%(?:\((\w+)\)[sd]|%)")


def source_catalogue() -> Catalog:
    """Every message the sources mark, as one catalogue."""
    catalogue = Catalog()
    for part in SOURCES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / part, METHODS, OPTIONS, keywords=KEYWORDS
        ):
            catalogue.add(message)
    return catalogue


def language_catalogue(language: str) -> Catalog:
    """A language's ``messages.po``."""
    with open(LOCALES / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def placeholders(text: str) -> set[str]:
    """The ``%(name)s`` names in ``text``."""
    return {name for name in _FORMAT.findall(text) if name}


def _forms(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _ids(message: Message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def problems(translated: Catalog, source: Catalog) -> list[str]:
    """What ``translated`` misses or gets wrong, one line each (empty when complete)."""
    found: list[str] = []
    for message in source:
        if message.id and message.id not in translated:
            found.append(f"missing: {message.id!r}")
    for message in translated:
        if not message.id:
            continue
        if message.id not in source:
            found.append(f"no longer in the sources: {message.id!r}")
        if message.fuzzy:
            found.append(f"fuzzy: {message.id!r}")
        forms = _forms(message)
        if not all(forms) or len(forms) != (translated.num_plurals if message.pluralizable else 1):
            found.append(f"untranslated: {message.id!r}")
            continue
        wanted = set().union(*(placeholders(text) for text in _ids(message)))
        for form in forms:
            got = placeholders(form)
            # A plural's singular form may leave out %(num)s ("un point d'étape chaque jour").
            needed = wanted - {"num"} if message.pluralizable else wanted
            if not (needed <= got <= wanted) or "%" in _FORMAT.sub("", form):
                found.append(f"placeholders differ: {message.id!r} -> {form!r}")
    return found
