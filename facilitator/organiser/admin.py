"""The organiser's pages: users (invite, deactivate, reset the password), units, and how long
ended sessions keep their comments. Facilitators get 403 on every one of them."""

from __future__ import annotations

import functools

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from facilitator.organiser import bp
from facilitator.organiser.forms import ActionForm, InviteForm, RetentionForm, UnitForm
from shared import mail, organiser
from shared.db import get_db
from shared.errors import DialogrumError
from shared.meeting import moderation
from shared.models import User
from shared.uow import unit_of_work
from shared.urls import base_url


def organiser_required(view):
    """Signed in as an organiser, else 403 (or the login page)."""

    @functools.wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_organiser:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _setup_url(secret: str) -> str:
    return base_url() + url_for("facilitator.setup", secret=secret)


def _users_page(invite_form: InviteForm, *, link: dict | None = None, status: int = 200):
    db = get_db().session
    return render_template("organiser/users.html", users=organiser.list_users(db),
                           open_links=organiser.open_links(db), form=invite_form, action_form=ActionForm(),
                           link=link, mails=mail.latest_by_user(db), mail_enabled=mail.enabled()), status


def _mail_link(db, user: User, secret: str, purpose: str) -> dict:
    """The link to show once, and (with e-mail configured) the mail queued with it, in the same
    transaction as the link: it exists exactly when the link does."""
    url = _setup_url(secret)
    queued = organiser.mail_password_link(db, user, url=url, purpose=purpose,
                                          inviter=current_user.name or current_user.email,
                                          fallback_language=str(get_locale()))
    return {"url": url, "user": user, "purpose": purpose, "mail": queued}


@bp.route("/users", methods=["GET", "POST"])
@organiser_required
def users():
    """Everyone who can sign in, and a form to invite a facilitator or an organiser."""
    db = get_db().session
    form = InviteForm()
    if form.validate_on_submit():
        try:
            with unit_of_work(get_db(), session=db):
                user, secret = organiser.invite(db, email=form.email.data, role=form.role.data,
                                                name=(form.name.data or "").strip(), language=form.language.data)
                link = _mail_link(db, user, secret, "invite")
        except DialogrumError as exc:
            if exc.code == "conflict":
                form.email.errors.append(_("A user with this e-mail exists already."))
            else:
                form.email.errors.append(exc.message)
            return _users_page(form, status=422)
        # Shown once, on this response only: the secret is not stored anywhere we could show it again.
        return _users_page(InviteForm(formdata=None), link=link)
    return _users_page(form, status=422 if form.errors else 200)


@bp.post("/users/<int:user_id>/active")
@organiser_required
def set_active(user_id: int):
    """Deactivate or reactivate a user."""
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db().session
    active = request.form.get("active") == "1"
    if not active and request.form.get("confirmed") != "1" and user_id != current_user.id:
        # Deactivating signs somebody out everywhere: a step to confirm it (issue 12, defect 3).
        user = db.get(User, user_id)
        if user is None:
            abort(404)
        who = user.name or user.email
        return render_template(
            "organiser/confirm.html", heading=_("Deactivate %(who)s?", who=who),
            lines=[_("%(who)s can then no longer sign in or use API tokens, is signed out everywhere, and their open "
                     "password links stop working. Their sessions stay. You can reactivate them later.", who=who)],
            action=url_for("organiser.set_active", user_id=user_id), fields={"active": "0"},
            button=_("Deactivate %(who)s", who=who), cancel=url_for("organiser.users"))
    try:
        with unit_of_work(get_db(), session=db):
            user = organiser.set_user_active(db, current_user, user_id, active)
    except DialogrumError as exc:
        if exc.code == "not_found":
            abort(404)
        flash(_("You cannot deactivate yourself."), "error")
        return redirect(url_for("organiser.users"))
    who = user.name or user.email
    flash(_("%(who)s can sign in again.", who=who) if active else
          _("%(who)s can no longer sign in or use API tokens.", who=who), "success")
    return redirect(url_for("organiser.users"))


@bp.post("/users/<int:user_id>/reset")
@organiser_required
def reset(user_id: int):
    """A new one-time link with which the user chooses a new password."""
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db().session
    try:
        with unit_of_work(get_db(), session=db):
            secret = organiser.reset_password(db, user_id)
            link = _mail_link(db, db.get(User, user_id), secret, "reset")
    except DialogrumError as exc:
        if exc.code == "not_found":
            abort(404)
        user = db.get(User, user_id)
        flash(_("%(who)s is deactivated: reactivate the account first, then make a new password link.",
                who=user.name or user.email), "error")
        return _users_page(InviteForm(formdata=None), status=409)
    return _users_page(InviteForm(formdata=None), link=link)


@bp.post("/users/<int:user_id>/mail/<int:mail_id>/again")
@organiser_required
def mail_again(user_id: int, mail_id: int):
    """Send a user's failed (or still retrying) invitation or password e-mail again now."""
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db().session
    try:
        with unit_of_work(get_db(), session=db):
            row = organiser.resend_mail(db, user_id, mail_id)
    except DialogrumError as exc:
        if exc.code == "not_found":
            abort(404)
        flash(_("The link in that e-mail no longer works. Make a new password link instead."), "error")
        return redirect(url_for("organiser.users"))
    flash(_("The e-mail to %(email)s is being sent again.", email=row.to_addr), "success")
    return redirect(url_for("organiser.users"))


@bp.route("/units", methods=["GET", "POST"])
@organiser_required
def units():
    """The regions, kredse and foreninger a session can be held by."""
    db = get_db().session
    form = UnitForm()
    if form.validate_on_submit():
        try:
            with unit_of_work(get_db(), session=db):
                unit = organiser.add_unit(db, form.name.data, form.kind.data)
            flash(_("“%(name)s” was added.", name=unit.name), "success")
            return redirect(url_for("organiser.units"))
        except DialogrumError as exc:
            form.name.errors.append(_("A unit with this name exists already.") if exc.code == "conflict"
                                    else exc.message)
    status = 422 if form.errors else 200
    return render_template("organiser/units.html", units=organiser.list_units(db), form=form,
                           action_form=ActionForm()), status


@bp.post("/units/<int:unit_id>/active")
@organiser_required
def set_unit_active(unit_id: int):
    """Retire a unit (no longer offered; old sessions keep its name) or restore it."""
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db().session
    active = request.form.get("active") == "1"
    try:
        with unit_of_work(get_db(), session=db):
            unit = organiser.set_unit_active(db, unit_id, active)
    except DialogrumError:
        abort(404)
    flash(_("“%(name)s” is offered again for new sessions.", name=unit.name) if active else
          _("“%(name)s” is retired: no longer offered for new sessions.", name=unit.name), "success")
    return redirect(url_for("organiser.units"))


@bp.route("/settings", methods=["GET", "POST"])
@organiser_required
def settings():
    """How long ended sessions keep their comments (0: until the session is deleted), and whether
    new sessions' comments wait for approval by default (issue 11, point 4)."""
    db = get_db().session
    form = RetentionForm()
    if request.method == "GET":
        form.days.data = organiser.retention_days(db.connection())
        form.approve_comments.data = moderation.approval_default(db.connection())
    if form.validate_on_submit():
        with unit_of_work(get_db(), session=db) as work:
            organiser.set_retention_days(work.conn, form.days.data)
            moderation.set_approval_default(work.conn, bool(form.approve_comments.data))
        flash(_("Saved."), "success")
        return redirect(url_for("organiser.settings"))
    return render_template("organiser/settings.html", form=form), (422 if form.errors else 200)
