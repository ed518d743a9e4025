"""The facilitator's forms (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from shared.accounts import EMAIL_RE
from shared.forms import Form
from shared.i18n import LANGUAGE_NAMES


class LoginForm(Form):
    """Sign in with e-mail and password."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])


class SetPasswordForm(Form):
    """Choose a password through a one-time link."""

    # The accounts module's own pattern: wtforms' Email() needs the email_validator package.
    email = EmailField(_l("E-mail"), validators=[
        Optional(), Regexp(EMAIL_RE, message=_l("Give a valid e-mail address.")), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=1000)])
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class SessionForm(Form):
    """Create a session from a guide; the unit is picked from the organisers' list of units."""

    guide_id = SelectField(_l("Guide"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    #: choices are the active units (by name) plus "no unit", set by the view
    unit = SelectField(_l("Unit (region, kreds, forening)"), validators=[Optional()])
    #: the meeting's language (contract v1.1): the projector and phones that have not chosen follow it
    language = SelectField(_l("Language of the meeting"), validators=[Optional()], default="",
                           choices=[SelectChoice("", _l("The guide's language")),
                                    *(SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items())])
    #: new comments wait for approval (issue 11, point 4); starts as the organisers' default
    approve_comments = BooleanField(_l("Comments wait for my approval before the projector and the phones show them"))


class FreeUnitSessionForm(SessionForm):
    """Create a session while no units have been set up yet: the unit is typed in."""

    unit = StringField(_l("Unit (region, kreds, forening)"), validators=[Optional(), Length(max=200)])


class GuideImportForm(Form):
    """Upload a guide document."""

    document = FileField(_l("Guide file (YAML or JSON)"), validators=[FileRequired()])
