"""Participant pages. No account: the phone keeps a random token (cookie and local storage)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from shared import meeting as rules
from shared import qr
from shared.db import get_db

bp = Blueprint("participant", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/participant")


def _base_url() -> str:
    return current_app.config.get("BASE_URL") or request.host_url.rstrip("/")


@bp.route("/", methods=["GET", "POST"])
def index():
    """The start page: a field for the join code and a link to sign in."""
    error = None
    code = ""
    if request.method == "POST":
        code = request.form.get("code", "")
        meeting = rules.find_by_code(get_db().session.connection(), code)
        if meeting is None:
            error = _("There is no session with this code. Check the code and try again.")
        elif meeting.status == "ended":
            error = _("This session has ended.")
        else:
            return redirect(url_for("participant.join", code=meeting.code))
    return render_template("participant/index.html", error=error, code=code), (422 if error else 200)


@bp.get("/j/<code>")
def join(code: str):
    """The phone view of a session."""
    meeting = rules.find_by_code(get_db().session.connection(), code)
    if meeting is None:
        return render_template("participant/index.html",
                               error=_("There is no session with this code. Check the code and try again."),
                               code=code), 404
    if meeting.code != code:
        return redirect(url_for("participant.join", code=meeting.code))
    snap = rules.snapshot(get_db().session.connection(), meeting.id)
    return render_template("participant/phone.html", meeting=meeting, language=snap.language)


@bp.get("/j/<code>/qr.svg")
def qr_svg(code: str):
    """The QR code of a session's join URL (the code is public: it is shown to the room)."""
    meeting = rules.find_by_code(get_db().session.connection(), code)
    if meeting is None:
        abort(404)
    resp = Response(qr.svg(f"{_base_url()}/j/{meeting.code}"), mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp
