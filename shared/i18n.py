"""Language choice for pages and messages: a visible switch (`?lang=`, kept in a cookie), else
the browser's `Accept-Language`, among Swedish, Danish and English.

The pages of a meeting follow the meeting's language (contract v1.1, `follow_meeting`): the
projector unless its own address says `?lang=` (a projector is often the facilitator's laptop, set
to another language), a phone unless its owner chose a language (`?lang=` or the cookie).
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import Babel, refresh

LANGUAGES = ("sv", "da", "en")
LANGUAGE_NAMES = {"sv": "Svenska", "da": "Dansk", "en": "English"}
COOKIE = "dialogrum_lang"


def select_locale() -> str:
    """The page language for this request."""
    if request.args.get("lang") in LANGUAGES:
        return request.args["lang"]
    meeting = g.get("meeting_language")
    if meeting in LANGUAGES and g.get("meeting_language_wins"):
        return meeting
    if request.cookies.get(COOKIE) in LANGUAGES:
        return request.cookies[COOKIE]
    if meeting in LANGUAGES:
        return meeting
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


def plural_forms(singular: str, plural: str, *names: str) -> list[str]:
    """A text's two forms for a page's script, which picks one by the number (`Dialogrum.plural`):
    Swedish, Danish and English all say the singular for 1 and the plural otherwise. The
    `%(name)s` places of `names` are kept for the script to fill in."""
    from flask_babel import ngettext

    keep = {name: f"%({name})s" for name in names}
    return [ngettext(singular, plural, n, **keep) for n in (1, 2)]


def follow_meeting(language: str, *, over_cookie: bool = False) -> None:
    """This page follows a meeting's language unless the visitor chose one: `?lang=` always wins,
    the cookie too unless `over_cookie` (the projector). Call it before any text is translated."""
    g.meeting_language = language
    g.meeting_language_wins = over_cookie
    refresh()


def init_app(app: Flask) -> Babel:
    """Set up Flask-Babel and remember an explicit language choice in a cookie."""
    babel = Babel(app, locale_selector=select_locale, default_translation_directories="translations")

    @app.after_request
    def _remember_language(response):
        lang = request.args.get("lang")
        if lang in LANGUAGES and request.cookies.get(COOKIE) != lang:
            response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax",
                                secure=request.is_secure, httponly=True)
        return response

    @app.context_processor
    def _languages():
        from flask_babel import get_locale

        return {"LANGUAGES": LANGUAGES, "LANGUAGE_NAMES": LANGUAGE_NAMES, "current_language": str(get_locale())}

    return babel
