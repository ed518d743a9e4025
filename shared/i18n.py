"""Language choice for pages and messages: a visible switch (`?lang=`, kept in a cookie), else
the browser's `Accept-Language`, among Swedish, Danish and English."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel

LANGUAGES = ("sv", "da", "en")
LANGUAGE_NAMES = {"sv": "Svenska", "da": "Dansk", "en": "English"}
COOKIE = "dialogrum_lang"


def select_locale() -> str:
    """The page language for this request."""
    wanted = request.args.get("lang") or request.cookies.get(COOKIE)
    if wanted in LANGUAGES:
        return wanted
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


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
