"""The base of every page's form: Flask-WTF (CSRF on every one) with WTForms' own messages ("This
field is required.", "Field cannot be longer than 300 characters.") translated from Dialogrum's
catalogues, in the page's language.

Flask-WTF would look them up in WTForms' catalogues, which have Swedish but no Danish, so a Danish
page showed them in English (issue 9, point 10). The msgids are WTForms' own, copied into
shared/translations with their plurals.
"""

from __future__ import annotations

from flask_babel import get_translations
from flask_wtf import FlaskForm


class Catalogue:
    """WTForms' translations object, answered from the request's catalogue. WTForms fills in
    `%(min)d` and the like itself, so the texts are returned unformatted."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


CATALOGUE = Catalogue()


class Form(FlaskForm):
    """A page's form: CSRF-protected, its messages in the page's language."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return CATALOGUE
