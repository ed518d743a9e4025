"""The facilitator's pages: sign-in and set-up links, the guide library, the sessions list with the
form that starts one, the console and one session's downloads (behind login), and the projector
view (behind its key). The rules and reads are in shared/; these views only translate."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from facilitator import hall, paper
from facilitator.forms import FreeUnitSessionForm, GuideImportForm, LoginForm, SessionForm, SetPasswordForm
from shared import (
    access,
    accounts,
    campaigns,
    downloads,
    guides,
    i18n,
    library,
    organiser,
    overview,
    signin,
    templating,
)
from shared import meeting as rules
from shared.db import get_db
from shared.errors import DialogrumError
from shared.meeting import again
from shared.meeting.moderation import approval_default
from shared.messages import MESSAGES
from shared.models import Meeting
from shared.uow import unit_of_work
from shared.urls import base_url, same_site_path

bp = Blueprint("facilitator", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/facilitator")
hall.register(bp)  # "run again" and the join-link check (issue 10, sections 2 and 3)
paper.register(bp)  # a dialogue held on paper, recorded afterwards (issue 11, section 1)


def _errors() -> dict[str, str]:
    return {code: str(text) for code, text in MESSAGES.items()}


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site after normalising, else the sessions
    (issue 15, point 5: `?next=/%09/evil.example` was an open redirect)."""
    return same_site_path(target) or url_for("facilitator.sessions")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with e-mail and password."""
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        # Normalised once, then counted and looked up alike (shared/signin.py says the limits).
        email = signin.email_key(form.email.data)
        secret_key = current_app.config["SECRET_KEY"]
        device = signin.known_device(secret_key, request.cookies.get(signin.DEVICE_COOKIE), email)
        if not signin.may_try(current_app.extensions["dialogrum.limiter"], address=request.remote_addr or "?",
                              email=email, device=device):
            error, status = _("Too many attempts. Wait a minute and try again."), 429
        else:
            user = accounts.authenticate(get_db().session, email, form.password.data)
            if user is not None:
                login_user(user)
                response = redirect(_safe_next(request.args.get("next")))
                if device is None:  # this browser gets a budget of its own for this account
                    response.set_cookie(signin.DEVICE_COOKIE, signin.device_cookie(secret_key, email),
                                        max_age=signin.DEVICE_MAX_AGE, path=url_for("facilitator.login"),
                                        secure=request.is_secure, httponly=True, samesite="Lax")
                return response
            error, status = _("The e-mail or the password is wrong."), 401
    return render_template("facilitator/login.html", form=form, error=error,
                           first_run=organiser.nobody_can_sign_in(get_db().session)), status


@bp.post("/logout")
@login_required
def logout():
    """Sign out (POST, so it is CSRF-protected): every sign-in of this user ends, on the server,
    so a copy of the cookie no longer works (issue 15, point 2)."""
    with unit_of_work(get_db(), session=get_db().session):
        accounts.end_sign_ins(get_db().session, current_user.id)
    logout_user()
    return redirect(url_for("participant.index"))


@bp.route("/setup/<secret>", methods=["GET", "POST"])
def setup(secret: str):
    """Choose a password through a one-time link (first run, invitation, reset)."""
    db = get_db().session
    link = accounts.link_user(db, secret)
    if link is None:
        return render_template("facilitator/setup.html", form=None, link=None), 404
    form = SetPasswordForm()
    if request.method == "GET" and link.purpose == "first_run":
        form.email.data = "" if link.user.email.endswith(".invalid") else link.user.email
    error = None
    if form.validate_on_submit():
        try:
            if link.purpose == "first_run" and not form.email.data:
                raise DialogrumError("invalid", _("Give the e-mail address you will sign in with."))
            with unit_of_work(get_db(), session=db):
                user = accounts.use_link(db, secret, form.password.data, email=form.email.data,
                                         name=form.name.data, language=str(get_locale()))
            login_user(user)
            return redirect(url_for("facilitator.sessions"))
        except DialogrumError as exc:
            if exc.code == "not_found":
                return render_template("facilitator/setup.html", form=None, link=None), 404
            error = _("A user with this e-mail exists already.") if exc.code == "conflict" else exc.message
    return render_template("facilitator/setup.html", form=form, link=link, error=error)


def _guide_choices(db) -> list[SelectChoice]:
    # Each title says its own language: an English guide's title on a Danish page is not a leak.
    return [SelectChoice(gd.id, gd.title, render_kw={"lang": gd.language}) for gd in library.list_guides(db)]


def session_form(db) -> SessionForm:
    """The create form: a choice among the active units, or a text field while there are none."""
    units = organiser.list_units(db, active_only=True)
    form = SessionForm() if units else FreeUnitSessionForm()
    form.guide_id.choices = _guide_choices(db)
    if request.method == "GET":  # the organisers' default (settings page); the maker may change it
        form.approve_comments.data = approval_default(db.connection())
    if units:
        form.unit.choices = [SelectChoice("", _("No unit"))] + [SelectChoice(u.name, u.name) for u in units]
    return form


@bp.route("/sessions", methods=["GET", "POST"])
@login_required
def sessions():
    """Every session the user may see (all for an organiser), filtered and sorted, and a form to
    create one."""
    db = get_db().session
    form = session_form(db)
    if request.method == "GET" and request.args.get("guide"):
        form.guide_id.data = request.args["guide"]
        # "Start a session with this guide" from a campaign: the unit asked comes along.
        _prefill_unit(form, request.args.get("unit") or getattr(campaigns.unit_of(db, current_user), "name", None))
    if request.method == "GET" and request.args.get("again"):
        _prefill_again(form, request.args["again"])
    elif request.method == "GET" and not request.args.get("guide"):
        _prefill_habit(form)
    if form.validate_on_submit():
        try:
            with unit_of_work(get_db(), session=db) as work:
                meeting_id = rules.create_meeting(work, guide_id=form.guide_id.data, title=form.title.data,
                                                  unit=form.unit.data or "", facilitator_id=current_user.id,
                                                  language=form.language.data or None,
                                                  approve_comments=bool(form.approve_comments.data))
            return redirect(url_for("facilitator.console", meeting_id=meeting_id))
        except DialogrumError as exc:
            flash(exc.message, "error")
    filters = overview.parse_filters(request.args, organiser=current_user.is_organiser)
    page = overview.sessions(db, current_user, filters, get_timezone())
    return render_template(
        "facilitator/sessions.html", rows=page.rows, page=page, form=form, filters=filters,
        # Archived guides too: their sessions are still listed and filtered by guide.
        guides=library.list_guides(db, include_archived=True), unit_names=overview.unit_names(db, current_user),
        facilitators=overview.facilitators(db) if current_user.is_organiser else [],
        # What the user's unit is asked to hold (issue 12, gap 8), with where it stands.
        assignments=[campaigns.progress(db, c, get_timezone()) for c in campaigns.for_user(db, current_user)],
        my_unit=campaigns.unit_of(db, current_user),
    )


def _prefill_unit(form: SessionForm, name: str | None) -> None:
    """Start the form with the unit `name` when the form offers it (or takes any text)."""
    choices = getattr(form.unit, "choices", None)
    if name and (choices is None or any(getattr(c, "value", c) == name for c in choices)):
        form.unit.data = name


def _prefill_again(form: SessionForm, meeting_id: str) -> None:
    """"Run again" from an ended console: the form starts with that session's guide, title and
    unit (a unit that is no longer offered is left out)."""
    try:
        meeting = access.managed_meeting(get_db().session, current_user, meeting_id)
    except DialogrumError:
        return
    if meeting.guide_id:
        form.guide_id.data = meeting.guide_id
    form.title.data = meeting.title
    if meeting.language and meeting.language != (meeting.guide_snapshot or {}).get("language"):
        form.language.data = meeting.language
    choices = getattr(form.unit, "choices", None)
    if choices is None or any(getattr(c, "value", c) == meeting.unit for c in choices):
        form.unit.data = meeting.unit


def _prefill_habit(form: SessionForm) -> None:
    """The form starts with the guide a campaign asks the user's unit to hold (not held yet), else
    the guide and unit of the user's last session, else a guide in the page's language (issue 12,
    defect 5: not the first guide in the list, whatever its language)."""
    units = [getattr(c, "value", c) for c in form.unit.choices][1:] if hasattr(form.unit, "choices") else None
    db = get_db().session
    form.guide_id.data, form.unit.data = again.form_defaults(
        db.connection(), facilitator_id=current_user.id, language=str(get_locale()),
        guides=[(c.value, c.render_kw["lang"]) for c in form.guide_id.choices], units=units,
        own_unit=getattr(campaigns.unit_of(db, current_user), "name", None),
        asked_guide=campaigns.asked_guide(db, current_user, get_timezone()))


def _managed(meeting_id: str) -> Meeting:
    """The session the signed-in user may manage, else 404 or 403."""
    try:
        return access.managed_meeting(get_db().session, current_user, meeting_id)
    except DialogrumError as exc:
        abort(exc.status)


@bp.get("/console/<meeting_id>")
@login_required
def console(meeting_id: str):
    """The facilitator's console for one session."""
    meeting = _managed(meeting_id)
    conn = get_db().session.connection()
    snap = rules.snapshot(conn, meeting.id)
    base = base_url()
    config = {
        "session_id": meeting.id,
        "items": [{"index": it["index"], "id": it["id"], "kind": it["kind"]} for it in snap.items],
        "conclusions": rules.conclusions(conn, meeting.id),
        "labels": guides.VOTE_LABELS[snap.language],
        "language": snap.language,
        "errors": _errors(),
        "text": _console_texts(),
        "status": templating.names()["status_names"],
    }
    return render_template("facilitator/console.html", meeting=meeting, items=snap.items, language=snap.language,
                           join_url=f"{base}/j/{meeting.code}", config_json=config,
                           # No ?lang=: the projector shows the meeting's language (contract v1.1).
                           projector_url=url_for("facilitator.projector", key=meeting.projector_key))


def _voters_forms() -> list[str]:
    """"N of M phones have voted", with the plural of M."""
    return i18n.plural_forms("%(voters)s of %(participants)s phone has voted.",
                             "%(voters)s of %(participants)s phones have voted.", "voters", "participants")


def _console_texts() -> dict[str, str]:
    """The console script's texts in the page's language."""
    return {
        "connected": _("Connected."),
        "reconnecting": _("Connection lost, reconnecting…"),
        "refused": _("The console could not connect: %(reason)s Reload the page or sign in again."),
        "open_voting": _("Open voting"),
        "close_voting": _("Close voting"),
        "show_results": _("Show results"),
        "hide_results": _("Hide results"),
        "voting_open": _("Voting is open"),
        "voting_closed": _("Voting is closed"),
        "voting_soon": _("Voting has not been opened yet"),
        "results_shown": _("Results are shown on the projector"),
        "results_hidden": _("Results are hidden from the room"),
        "position": _("Item %(n)s of %(count)s"),
        "waiting": _("The session has not started. Start it when the room is ready."),
        "ended": _("The session has ended. The results are in the exports."),
        "voters": _voters_forms(),
        "hidden_from_room": _("(only you see them)"),
        "hide": _("Hide"),
        "unhide": _("Show again"),
        "pin": _("Pin"),
        "unpin": _("Unpin"),
        "hidden_label": _("hidden"),
        "pinned_label": _("pinned"),
        "saved": _("Saved."),
        "saving": _("Saving…"),
        "confirm_end": _("Click again to end the session for everyone."),
        "moved": _("Now showing item %(n)s."),
        "no_comments": _("No comments yet."),
        "join_warning": _("One network address has joined %(n)s participants while %(participants)s phones are "
                          "connected: someone may be voting more than once. Compare the votes with the room."),
        # Comments on the projector: all but the hidden ones on an open question, only the pinned
        # ones on a Ja/Nej item (issue 9, point 7).
        "comments_prompt": _("The projector shows every comment on this question, pinned ones first. "
                             "Hide a comment to take it off the projector at once."),
        "comments_vote": _("Comments on a consideration stay here: the projector shows only the ones "
                           "you put on it, three at most. Hidden ones never reach the room."),
        "show": _("Show on the projector"),
        "unshow": _("Take off the projector"),
        "shown_label": _("on the projector"),
        "queued_label": _("not on the projector now: three at most are shown"),
    }


@bp.get("/sessions/<meeting_id>/export.<fmt>")
@login_required
def export(meeting_id: str, fmt: str):
    """Download one session's results (CSV, XLSX or JSON), conclusions included: the same file as
    the REST API's export and `dialogrum export`."""
    if fmt not in downloads.FORMATS:
        abort(404)
    meeting = _managed(meeting_id)
    # In the page's language, for a spreadsheet there (?plain=1: the stable English columns);
    # ?table= one table per CSV file, ?dialect=comma|semicolon other separators (issue 12, gap 12).
    language = None if request.args.get("plain") else str(get_locale())
    table = request.args.get("table") or None
    if table is not None and table not in downloads.SESSION_TABLES:
        abort(404)
    return downloads.response(downloads.session_file(get_db().session, meeting, fmt, language=language,
                                                     tz=get_timezone(), table=table,
                                                     dialect=request.args.get("dialect")))


@bp.get("/p/<key>")
def projector(key: str):
    """The projected view: no login, the unguessable key is the credential."""
    meeting = rules.find_by_projector_key(get_db().session.connection(), key)
    if meeting is None:
        abort(404)
    snap = rules.snapshot(get_db().session.connection(), meeting.id)
    # The projector speaks the meeting's language unless its own address says ?lang= (the laptop's
    # language and the facilitator's cookie do not count), before any text is translated.
    i18n.follow_meeting(rules.meeting_language(meeting, snap), over_cookie=True)
    base = base_url()
    config = {"projector_key": key, "labels": guides.VOTE_LABELS[snap.language], "language": snap.language,
              "text": {"voting_open": _("Voting is open: vote on your phone."),
                       "voting_closed": _("Voting is closed."),
                       "voting_soon": _("Voting opens soon."),
                       "voters": _voters_forms(),
                       "connected": i18n.plural_forms("phone connected", "phones connected")}}
    return render_template("facilitator/projector.html", meeting=meeting, language=snap.language,
                           join_url=f"{base}/j/{meeting.code}", config_json=config,
                           short_url=base.split("://", 1)[-1])


@bp.route("/guides", methods=["GET", "POST"])
@login_required
def guide_library():
    """The guide library, with an import form that shows the validator's messages."""
    db = get_db().session
    form = GuideImportForm()
    errors: list[tuple[str, str]] = []
    if form.validate_on_submit():
        upload = form.document.data
        raw = upload.read(1_000_001)
        try:
            if len(raw) > 1_000_000:
                raise guides.GuideError([("file", _("the file is larger than 1 MB"))])
            with unit_of_work(get_db(), session=db):
                guide = library.import_guide(db, raw, owner_id=current_user.id, filename=upload.filename)
            flash(_("The guide “%(title)s” was imported.", title=guide.title), "success")
            return redirect(url_for("facilitator.guide_detail", guide_id=guide.id))
        except guides.GuideError as exc:
            errors = exc.errors
    return render_template("facilitator/guides.html", guides=library.list_guides(db, include_archived=True),
                           form=form, errors=errors,
                           flatten=guides.flatten), (422 if errors else 200)


@bp.get("/guides/<guide_id>")
@login_required
def guide_detail(guide_id: str):
    """Preview every section and item of a guide."""
    guide = library.get_guide(get_db().session, guide_id)
    if guide is None:
        abort(404)
    return render_template("facilitator/guide.html", guide=guide, items=guides.flatten(guide.document),
                           labels=guides.VOTE_LABELS[guide.language])
