"""API tokens on pages (issue 15, point 3): everybody signed in sees, makes and revokes their own
tokens at `/tokens`; an organiser sees and revokes everybody's at `/users/tokens`. A token's secret
is shown once, on the answer that made it; the lists show its id, label, when it was made and last
used. Revoking answers 401 at once on every process, and the hubs close the token's sockets."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from facilitator.organiser import bp
from facilitator.organiser.admin import organiser_required
from facilitator.organiser.forms import ActionForm, TokenForm
from shared import accounts
from shared.db import get_db
from shared.errors import DialogrumError
from shared.uow import unit_of_work


def _page(form: TokenForm | None, *, everyone: bool, new_token: str | None = None, status: int = 200):
    db = get_db().session
    tokens = accounts.list_tokens(db, None if everyone else current_user.id)
    return render_template("organiser/tokens.html", tokens=tokens, form=form, everyone=everyone,
                           new_token=new_token, action_form=ActionForm()), status


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """The signed-in user's own API tokens, and a form that makes one (shown once)."""
    form = TokenForm()
    if form.validate_on_submit():
        db = get_db().session
        with unit_of_work(get_db(), session=db):
            token = accounts.create_token(db, current_user, (form.label.data or "").strip())
        return _page(TokenForm(formdata=None), everyone=False, new_token=token)
    return _page(form, everyone=False, status=422 if form.errors else 200)


@bp.get("/users/tokens")
@organiser_required
def all_tokens():
    """Every user's API tokens, for an organiser."""
    return _page(None, everyone=True)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one token: its owner's own, or anybody's for an organiser (else 404)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db().session
    try:
        with unit_of_work(get_db(), session=db):
            row = accounts.revoke_token(db, token_id, actor=current_user)
    except DialogrumError:
        abort(404)
    flash(_("The token “%(label)s” (#%(id)s) is revoked: it no longer works anywhere.",
            label=row.label or "—", id=row.id), "success")
    everyone = request.form.get("back") == "all" and current_user.is_organiser
    return redirect(url_for("organiser.all_tokens" if everyone else "organiser.tokens"))
