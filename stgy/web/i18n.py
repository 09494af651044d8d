"""The web face's languages: gettext catalogs (English, Japanese) and picking one per request.

The `.po` files in `translations/` are the source; each process compiles them in memory
the first time it needs one (a few milliseconds), so there is no `.mo` file to build,
ship or let go stale.
"""

from __future__ import annotations

import functools
import gettext as gettext_module
import io
from pathlib import Path
from typing import Any

from quart import Quart, g, request

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("en", "ja")
DEFAULT_LANGUAGE = "en"
_G_KEY = "web_language"


def catalog_path(language: str) -> Path:
    return TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"


@functools.cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The compiled catalog of `language` (one of LANGUAGES); fuzzy entries are left out."""
    from babel.messages.mofile import write_mo  # only where pages are served
    from babel.messages.pofile import read_po

    with catalog_path(language).open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)


def pick_language(accept_language: Any, account_language: str | None = None) -> str:
    """The account's own choice if it has one, else the browser's, else English."""
    if account_language is not None and account_language in LANGUAGES:
        return account_language
    best: str | None = accept_language.best_match(LANGUAGES)
    return best or DEFAULT_LANGUAGE


def set_language(language: str) -> None:
    setattr(g, _G_KEY, language)


def current_language() -> str:
    language: str = g.get(_G_KEY, DEFAULT_LANGUAGE)
    return language


def choose_language(account_language: str | None = None) -> str:
    """Pick this request's language (the account's choice, else its Accept-Language) and
    remember it."""
    language = pick_language(request.accept_languages, account_language)
    set_language(language)
    return language


def gettext(message: str, **variables: Any) -> str:
    """`message` in the request's language; `%(name)s` placeholders filled from variables."""
    translated = translations(current_language()).gettext(message)
    return translated % variables if variables else translated


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    translated = translations(current_language()).ngettext(singular, plural, n)
    return translated % {"num": n, **variables}


def install(app: Quart) -> None:
    """Give the app's templates `_()`, `gettext()`, `ngettext()` and `{% trans %}`."""
    env = app.jinja_env
    env.add_extension("jinja2.ext.i18n")

    def template_gettext(message: str) -> str:
        return translations(current_language()).gettext(message)

    def template_ngettext(singular: str, plural: str, n: int) -> str:
        return translations(current_language()).ngettext(singular, plural, n)

    # Newstyle: `_("Hello %(name)s", name=x)` escapes x and formats after translating.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        template_gettext, template_ngettext, newstyle=True
    )
