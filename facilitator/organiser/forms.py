"""The organiser's forms (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from shared.accounts import EMAIL_RE
from shared.forms import Form
from shared.i18n import LANGUAGE_NAMES, LANGUAGES


class ActionForm(Form):
    """A button that changes something (deactivate, retire, revoke, delete): only the CSRF token."""


class InviteForm(Form):
    """Invite a facilitator or an organiser."""

    email = EmailField(_l("E-mail"), validators=[
        DataRequired(), Regexp(EMAIL_RE, message=_l("Give a valid e-mail address.")), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[SelectChoice("facilitator", _l("Facilitator")),
                                            SelectChoice("organiser", _l("Organiser"))], default="facilitator")
    #: the language of the e-mails they get (each language named in itself, as in the language switch);
    #: by default the one the organiser reads the page in
    language = SelectField(_l("Language of their e-mails"),
                           choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
                           default=lambda: str(get_locale()))


class UnitForm(Form):
    """Add a region, kreds or forening to the list of units."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice("region", _l("Region")), SelectChoice("kreds", _l("Kreds")),
                                            SelectChoice("forening", _l("Forening")),
                                            SelectChoice("other", _l("Other"))], default="region")


class RetentionForm(Form):
    """How many days ended sessions keep their comments."""

    days = IntegerField(_l("Days to keep the comments of ended sessions"),
                        validators=[InputRequired(message=_l("Give a whole number of days.")),
                                    NumberRange(min=0, max=3650, message=_l("Give a number from 0 to 3650."))])
    #: the default of new sessions: comments wait for the facilitator's approval (issue 11, point 4)
    approve_comments = BooleanField(_l("New sessions: comments wait for the facilitator's approval before the "
                                       "projector and the phones show them"))


class PublishForm(Form):
    """Publish a guide's roll-up at a public read-only link."""

    include_comments = BooleanField(_l("Include the comments (visible ones only)"), default=False)


class TokenForm(Form):
    """Make an API token for oneself."""

    label = StringField(_l("What it is for (optional)"), validators=[Optional(), Length(max=200)])
