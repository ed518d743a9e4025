"""The organiser's campaign pages (issue 12, gap 8): the list, the form that makes or edits one
(guide, units asked, period, deadline, a message to the units), a campaign's page with who has
held it in order and who has not yet, closing and reopening, and putting a user in a unit.

The rules are shared/campaigns.py; these views only translate. Facilitators get 403 here and see
what their unit is asked to hold on their sessions page.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, get_timezone, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from facilitator.organiser import bp
from facilitator.organiser.admin import organiser_required
from facilitator.organiser.forms import ActionForm
from shared import access, campaigns, library, mail, organiser
from shared.db import get_db
from shared.errors import DialogrumError
from shared.forms import Form
from shared.i18n import LANGUAGE_NAMES
from shared.models import Campaign, Meeting, User
from shared.uow import unit_of_work
from shared.urls import base_url


class UnitChoices(SelectMultipleField):
    """Checkboxes of units. Unknown ids are the rules' to refuse (`shared.campaigns`), in words
    that name the field, rather than WTForms' generic "not a valid choice"."""

    def pre_validate(self, form) -> None:
        pass


class CampaignForm(Form):
    """Make or edit a campaign."""

    guide_id = SelectField(_l("Guide"), validators=[DataRequired()])
    title = StringField(_l("Name of the campaign (optional)"), validators=[Optional(), Length(max=300)])
    unit_ids = UnitChoices(_l("Units asked"), coerce=int,
                           validators=[DataRequired(message=_l("Choose at least one unit."))])
    starts_on = DateField(_l("First day (optional)"), validators=[Optional()])
    deadline = DateField(_l("Deadline"), validators=[InputRequired(message=_l("Give the last day."))])
    message = TextAreaField(_l("Message to the units (optional)"), validators=[Optional(), Length(max=5000)])


def report_link(meeting: Meeting) -> str | None:
    """The report of a held unit's first session, where the signed-in user may see it."""
    return url_for("organiser.report", meeting_id=meeting.id) if access.may_manage(current_user, meeting) else None


def _campaign(campaign_id: int) -> Campaign:
    try:
        return campaigns.get_campaign(get_db().session, campaign_id)
    except DialogrumError:
        abort(404)


@bp.get("/campaigns")
@organiser_required
def campaign_list():
    """Every campaign with how far it has come."""
    db = get_db().session
    tz = get_timezone()
    rows = [campaigns.progress(db, c, tz) for c in campaigns.list_campaigns(db)]
    return render_template("organiser/campaigns.html", rows=rows, name=campaigns.name)


def _guide_choices(guides: list) -> list[SelectChoice]:
    # Each title says its own language: an English guide's title on a Danish page is not a leak.
    return [SelectChoice(g.id, g.title, render_kw={"lang": g.language}) for g in guides]


def _form_page(form: CampaignForm, campaign: Campaign | None, status: int = 200):
    db = get_db().session
    offered_guides = library.list_guides(db)
    if campaign is not None and campaign.guide not in offered_guides:
        offered_guides.append(campaign.guide)  # an archived guide stays the campaign's own choice
    form.guide_id.choices = _guide_choices(offered_guides)
    units = organiser.list_units(db)
    offered = [u for u in units if u.active or (campaign is not None and u in campaign.units)]
    chosen = set(form.unit_ids.data or ())
    return render_template("organiser/campaign_form.html", form=form, campaign=campaign, units=offered,
                           chosen=chosen), status


def _save(form: CampaignForm, campaign: Campaign | None):
    db = get_db().session
    form.guide_id.choices = _guide_choices(library.list_guides(db, include_archived=True))
    if not form.validate_on_submit():
        return _form_page(form, campaign, 422)
    try:
        with unit_of_work(get_db(), session=db):
            saved = campaigns.save_campaign(
                db, current_user, campaign_id=campaign.id if campaign else None, guide_id=form.guide_id.data,
                unit_ids=form.unit_ids.data, starts_on=form.starts_on.data, deadline=form.deadline.data,
                title=form.title.data or "", message=form.message.data or "")
    except DialogrumError as exc:
        # The rules name the field first ("starts_on: ..."); say it in the page's language there.
        field_name = exc.message.split(":", 1)[0]
        target, text = {"guide_id": (form.guide_id, _("Choose a guide from the list.")),
                        "starts_on": (form.starts_on, _("The first day comes after the deadline.")),
                        "deadline": (form.deadline, _("Give the last day."))}.get(
                            field_name, (form.unit_ids, _("Choose units from the list.")))
        target.errors = [*target.errors, text]
        return _form_page(form, campaign, 422)
    flash(_("The campaign was saved."), "success")
    return redirect(url_for("organiser.campaign", campaign_id=saved.id))


@bp.route("/campaigns/new", methods=["GET", "POST"])
@organiser_required
def new_campaign():
    """Ask units to hold a guide: guide, units, period, deadline, message."""
    form = CampaignForm()
    if request.method == "GET" and request.args.get("guide"):
        form.guide_id.data = request.args["guide"]
    if request.method == "POST":
        return _save(form, None)
    return _form_page(form, None)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_campaign(campaign_id: int):
    """Change what a campaign asks."""
    campaign = _campaign(campaign_id)
    if request.method == "POST":
        return _save(CampaignForm(), campaign)
    form = CampaignForm(obj=campaign)
    form.unit_ids.data = [u.id for u in campaign.units]
    return _form_page(form, campaign)


@bp.get("/campaigns/<int:campaign_id>")
@organiser_required
def campaign(campaign_id: int):
    """Who has held the campaign, in order, with the date and the report; who has not yet."""
    c = _campaign(campaign_id)
    prog = campaigns.progress(get_db().session, c, get_timezone())
    return render_template("organiser/campaign.html", prog=prog, campaign=c, name=campaigns.name(c),
                           link_for=report_link, action_form=ActionForm(), mail_enabled=mail.enabled())


@bp.post("/campaigns/<int:campaign_id>/close")
@organiser_required
def close_campaign(campaign_id: int):
    """Close a campaign (its facilitators no longer see it) or open it again."""
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db().session
    closed = request.form.get("closed") == "1"
    _campaign(campaign_id)
    with unit_of_work(get_db(), session=db):
        c = campaigns.close_campaign(db, campaign_id, closed=closed)
    flash(_("“%(name)s” is closed.", name=campaigns.name(c)) if closed
          else _("“%(name)s” is open again.", name=campaigns.name(c)), "success")
    return redirect(url_for("organiser.campaign", campaign_id=campaign_id))


@bp.post("/campaigns/<int:campaign_id>/remind")
@organiser_required
def remind(campaign_id: int):
    """Remind the units that have not held the campaign yet (issue 12, gap 9): with e-mail set up,
    one mail per facilitator of those units in their own language; without it, the reminder to
    copy and send, with the link that starts a session."""
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db().session
    c = _campaign(campaign_id)
    prog = campaigns.progress(db, c, get_timezone())
    if c.closed_at is not None or not prog.not_yet:
        flash(_("Every unit asked has held it.") if not prog.not_yet else _("The campaign is closed."), "error")
        return redirect(url_for("organiser.campaign", campaign_id=c.id))

    def start_link(unit: str) -> str:
        return base_url() + url_for("facilitator.sessions", guide=c.guide_id, unit=unit, _anchor="new-heading")

    if mail.enabled():
        with unit_of_work(get_db(), session=db):
            done = campaigns.send_reminders(db, prog, url_for_unit=start_link, fallback_language=str(get_locale()))
        if done.sent:
            flash(ngettext("A reminder is on its way to %(num)s facilitator.",
                           "Reminders are on their way to %(num)s facilitators.", len(done.sent)), "success")
        if done.nobody:
            flash(_("Nobody belongs to %(units)s yet: put their facilitators in their units on the users page.",
                    units=", ".join(done.nobody)), "error")
        return redirect(url_for("organiser.campaign", campaign_id=c.id))
    lang = str(get_locale())
    members = campaigns.facilitators_not_yet(db, prog)
    texts = []
    for n in prog.not_yet:
        subject, body = campaigns.reminder_mail(c, unit=n.unit.name, lang=lang, url=start_link(n.unit.name),
                                                overdue=n.overdue)
        texts.append({"unit": n.unit, "subject": subject, "body": body,
                      "to": [u.email for u in members if u.unit_id == n.unit.id]})
    return render_template("organiser/campaign_reminder.html", campaign=c, name=campaigns.name(c), texts=texts)


@bp.post("/users/<int:user_id>/unit")
@organiser_required
def set_user_unit(user_id: int):
    """Put a user in a unit (or in none): what campaigns ask of them, and their sessions' default;
    with `language` in the form, the language of their e-mails too (issue 12 polish, point 2)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db().session
    raw = request.form.get("unit_id", "")
    try:
        unit_id = int(raw) if raw else None
    except ValueError:
        abort(400)
    language = request.form.get("language")  # absent: the language stays as it is
    user = db.get(User, user_id)
    before, unit_before = getattr(user, "language", None), getattr(user, "unit_id", None)
    try:
        with unit_of_work(get_db(), session=db):
            user = campaigns.set_user_unit(db, user_id, unit_id)
            if language is not None:
                organiser.set_user_language(db, user_id, language)
    except DialogrumError as exc:
        if exc.code == "not_found":
            abort(404)
        flash(_("Choose a language from the list.") if exc.message.startswith("language")
              else _("Choose a unit from the list."), "error")
        return redirect(url_for("organiser.users"))
    unit = campaigns.unit_of(db, user)
    who = user.name or user.email
    new_language = bool(user.language) and user.language != before
    if user.unit_id != unit_before or not new_language:  # say what changed; "saved" when nothing did
        flash(_("%(who)s belongs to %(unit)s.", who=who, unit=unit.name) if unit
              else _("%(who)s belongs to no unit.", who=who), "success")
    if new_language:
        flash(_("E-mails to %(who)s are written in %(language)s from now on.", who=who,
                language=LANGUAGE_NAMES[user.language]), "success")
    return redirect(url_for("organiser.users"))


def guide_campaigns(guide_id: str) -> list[campaigns.Progress]:
    """Where each campaign of a guide stands, for the roll-up page."""
    db = get_db().session
    return [campaigns.progress(db, c, get_timezone()) for c in campaigns.for_guide(db, guide_id)]


@bp.context_processor
def _campaign_reads():
    # Read only when a template calls them: the users page's unit column and the roll-up's
    # campaigns, whose views (admin.py, reports.py) need not know about campaigns.
    return {"member_units": lambda: organiser.list_units(get_db().session), "guide_campaigns": guide_campaigns,
            "campaign_report_link": report_link}
