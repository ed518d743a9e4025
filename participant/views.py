"""Participant pages. No account: the phone keeps a random token (cookie and local storage)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from shared import guides, i18n, joining, organiser, qr
from shared import meeting as rules
from shared.db import get_db
from shared.errors import DialogrumError
from shared.messages import MESSAGES
from shared.urls import base_url

bp = Blueprint("participant", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/participant")


def _find(code: str):
    """The session with this join code, or None for a wrong one. Wrong codes count against the
    client's address, the right one never; past the limit raises `rate_limited` unless the phone's
    token cookie belongs to the session (shared/joining.py)."""
    token = request.cookies.get(f"dlg_{rules.normalise_code(code) or ''}")
    return joining.find(get_db().session.connection(), code, current_app.extensions["dialogrum.limiter"],
                        request.remote_addr, token=token)


def _too_many_wrong_codes(code: str):
    return render_template("participant/index.html", code=code, error=_(
        "Too many wrong codes were tried from this network. Wait a minute and try again.")), 429


@bp.route("/", methods=["GET", "POST"])
def index():
    """The start page: a field for the join code and a link to sign in."""
    error = None
    code = ""
    if request.method == "POST":
        code = request.form.get("code", "")
        try:
            meeting = _find(code)
        except DialogrumError as exc:
            if exc.code != "rate_limited":
                raise
            return _too_many_wrong_codes(code)
        if meeting is None:
            error = _("There is no session with this code. Check the code and try again.")
        elif meeting.status == "ended":
            error = _("This session has ended.")
        else:
            return redirect(url_for("participant.join", code=meeting.code))
    return render_template("participant/index.html", error=error, code=code,
                           first_run=organiser.nobody_can_sign_in(get_db().session)), (422 if error else 200)


@bp.get("/j/<code>")
def join(code: str):
    """The phone view of a session."""
    try:
        meeting = _find(code)
    except DialogrumError as exc:
        if exc.code != "rate_limited":
            raise
        return _too_many_wrong_codes(code)
    if meeting is None:
        return render_template("participant/index.html",
                               error=_("There is no session with this code. Check the code and try again."),
                               code=code), 404
    if meeting.code != code:
        return redirect(url_for("participant.join", code=meeting.code))
    conn = get_db().session.connection()
    snap = rules.snapshot(conn, meeting.id)
    # A phone that has not chosen a language follows the meeting's (before any text is translated).
    i18n.follow_meeting(rules.meeting_language(meeting, snap))
    config = {"code": meeting.code, "text": _phone_texts(), "errors": {k: str(v) for k, v in MESSAGES.items()}}
    return render_template("participant/phone.html", meeting=meeting, language=snap.language,
                           labels=guides.VOTE_LABELS[snap.language], config_json=config,
                           retention_days=organiser.retention_days(conn))


def _phone_texts() -> dict[str, str]:
    """The phone script's texts in the page's language (the script itself holds none)."""
    return {
        "waiting": _("Waiting for the facilitator to start. Keep this page open."),
        "ended": _("The session has ended. Thank you for taking part!"),
        "reconnecting": _("Connection lost, reconnecting… Your vote is kept."),
        "voting_open": _("Voting is open: choose your answer."),
        "voting_closed": _("Voting is closed for this item."),
        "voting_soon": _("Voting opens soon."),
        "prompt": _("Write your thoughts below. Everyone sees them on the screen."),
        "comment_vote": _("The facilitator reads it and may show it on the screen."),
        "info": _("Listen to the facilitator. The next question comes soon."),
        "saving": _("Saving…"),
        "vote_saved": _("Your vote is saved. You can change it while voting is open."),
        "vote_kept": _("Your vote is saved. You can change it while voting is open."),
        "vote_final": _("Your vote is counted."),
        "not_saved": _("Not saved: the connection is poor. Try again."),
        "offline_not_sent": _("Not sent: the phone is offline. Try again when it is connected."),
        "sending": _("Sending…"),
        "sent": _("Sent. Thank you!"),
        "comments_sent": i18n.plural_forms("You have sent %(n)s comment on this item.",
                                           "You have sent %(n)s comments on this item.", "n"),
        "counter": _("%(n)s / %(max)s characters"),
    }


@bp.get("/j/<code>/qr.svg")
def qr_svg(code: str):
    """The QR code of a session's join URL (the code is public: it is shown to the room)."""
    try:
        meeting = _find(code)
    except DialogrumError as exc:
        abort(429 if exc.code == "rate_limited" else 503)
    if meeting is None:
        abort(404)
    resp = Response(qr.svg(f"{base_url()}/j/{meeting.code}"), mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp
