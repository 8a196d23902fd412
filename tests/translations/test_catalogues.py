"""The French catalogue is complete, its placeholders match, and what ships is compiled from it."""

from __future__ import annotations

from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo

from translations import LOCALES_DIR, available_languages

from .catalogues import LOCALES, language_catalogue, problems, source_catalogue


def test_french_catalogue_translates_every_message_with_the_same_placeholders() -> None:
    source = source_catalogue()
    assert len(source) > 400  # the extraction sees the templates and the Python
    assert "Sign the agreement" in source and "Agreement signed" in source  # jinja, N_
    assert ("%(num)s meeting", "%(num)s meetings") in [m.id for m in source]
    assert problems(language_catalogue("fr"), source) == []


def test_the_check_sees_missing_fuzzy_untranslated_and_wrong_placeholders() -> None:
    """The catalogue check is not blind: each kind of mistake is named."""
    source = Catalog()
    for message in ("Hello %(name)s,", "Sign out", "Mentors swapped.", "Saved.", "New text"):
        source.add(message)
    source.add(("%(num)s pair", "%(num)s pairs"))
    french = Catalog(locale="fr")
    french.add("Hello %(name)s,", "Bonjour %(nom)s,")  # a renamed placeholder
    french.add("Sign out", "Se déconnecter", flags=["fuzzy"])
    french.add("Mentors swapped.", "")
    french.add("Saved.", "Enregistré à 100 %")  # a stray percent sign
    french.add(("%(num)s pair", "%(num)s pairs"), ("%(num)s binôme", ""))
    french.add("Gone", "Parti")
    assert problems(french, source) == [
        "missing: 'New text'",
        "placeholders differ: 'Hello %(name)s,' -> 'Bonjour %(nom)s,'",
        "fuzzy: 'Sign out'",
        "untranslated: 'Mentors swapped.'",
        "placeholders differ: 'Saved.' -> 'Enregistré à 100 %'",
        "untranslated: ('%(num)s pair', '%(num)s pairs')",
        "no longer in the sources: 'Gone'",
    ]


def test_the_compiled_catalogue_is_the_source_catalogue() -> None:
    """``messages.mo`` (what runs and ships) says what ``messages.po`` says: not stale."""
    assert LOCALES_DIR == LOCALES
    assert available_languages() == ("en", "fr")
    po = language_catalogue("fr")
    with open(LOCALES / "fr" / "LC_MESSAGES" / "messages.mo", "rb") as handle:
        mo = read_mo(handle)

    def entries(catalogue: Catalog) -> dict:
        return {tuple(m.id) if isinstance(m.id, list | tuple) else m.id:
                tuple(m.string) if isinstance(m.string, list | tuple) else m.string
                for m in catalogue if m.id}  # fmt: skip

    assert entries(mo) == entries(po)
    assert mo.plural_forms == po.plural_forms == "nplurals=2; plural=(n > 1);"
