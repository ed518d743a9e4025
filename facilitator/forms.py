"""Forms (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional, Regexp

from shared.accounts import EMAIL_RE


class LoginForm(FlaskForm):
    """Sign in with e-mail and password."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])


class SetPasswordForm(FlaskForm):
    """Choose a password through a one-time link."""

    # The accounts module's own pattern: wtforms' Email() needs the email_validator package.
    email = EmailField(_l("E-mail"), validators=[
        Optional(), Regexp(EMAIL_RE, message=_l("Give a valid e-mail address.")), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=1000)])
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class SessionForm(FlaskForm):
    """Create a session from a guide; the unit is picked from the organisers' list of units."""

    guide_id = SelectField(_l("Guide"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    #: choices are the active units (by name) plus "no unit", set by the view
    unit = SelectField(_l("Unit (region, kreds, forening)"), validators=[Optional()])


class FreeUnitSessionForm(SessionForm):
    """Create a session while no units have been set up yet: the unit is typed in."""

    unit = StringField(_l("Unit (region, kreds, forening)"), validators=[Optional(), Length(max=200)])


class GuideImportForm(FlaskForm):
    """Upload a guide document."""

    document = FileField(_l("Guide file (YAML or JSON)"), validators=[FileRequired()])


class ActionForm(FlaskForm):
    """A button that changes something (deactivate, retire, revoke, delete): only the CSRF token."""


class InviteForm(FlaskForm):
    """Invite a facilitator or an organiser."""

    email = EmailField(_l("E-mail"), validators=[
        DataRequired(), Regexp(EMAIL_RE, message=_l("Give a valid e-mail address.")), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[SelectChoice("facilitator", _l("Facilitator")),
                                            SelectChoice("organiser", _l("Organiser"))], default="facilitator")


class UnitForm(FlaskForm):
    """Add a region, kreds or forening to the list of units."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice("region", _l("Region")), SelectChoice("kreds", _l("Kreds")),
                                            SelectChoice("forening", _l("Forening")),
                                            SelectChoice("other", _l("Other"))], default="region")


class RetentionForm(FlaskForm):
    """How many days ended sessions keep their comments."""

    days = IntegerField(_l("Days to keep the comments of ended sessions"),
                        validators=[InputRequired(message=_l("Give a whole number of days.")),
                                    NumberRange(min=0, max=3650, message=_l("Give a number from 0 to 3650."))])


class PublishForm(FlaskForm):
    """Publish a guide's roll-up at a public read-only link."""

    include_comments = BooleanField(_l("Include the comments (visible ones only)"), default=False)
