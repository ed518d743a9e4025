"""REST API v1: JSON in and out, bearer tokens, the contract's error bodies.

Handlers only translate HTTP to `shared.meeting`, `shared.library` and `shared.rollup`, commit,
and then announce through the realtime hub.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from shared import access, downloads, guides, library, reports
from shared import meeting as rules
from shared.accounts import user_for_token
from shared.db import get_db
from shared.errors import STATUS, DialogrumError
from shared.messages import message_for
from shared.models import Guide, Meeting
from shared.ratelimit import API_LIMIT
from shared.rollup import rollup as build_rollup
from shared.urls import base_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error_response(code: str, detail: str | None = None, status: int | None = None) -> Response:
    """The contract's error body with a translated message."""
    resp = jsonify({"error": code, "message": message_for(code, detail)})
    resp.status_code = status or STATUS.get(code, 400)
    return resp


@bp.errorhandler(DialogrumError)
def _dialogrum_error(exc: DialogrumError):
    get_db().session.rollback()
    return error_response(exc.code, exc.message if exc.message != exc.code else None)


@bp.errorhandler(guides.GuideError)
def _guide_error(exc: guides.GuideError):
    get_db().session.rollback()
    body = {"error": "invalid_guide", "message": message_for("invalid_guide", str(exc)),
            "errors": [{"place": p, "message": m} for p, m in exc.errors]}
    return jsonify(body), 422


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "invalid", 413: "too_large",
            429: "rate_limited"}.get(exc.code or 400, "invalid")
    return error_response(code, None, exc.code)




def token_required(view):
    """Resolve `Authorization: Bearer <token>` to `g.user`, or answer 401."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        user = user_for_token(get_db().session, token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            return error_response("unauthorized")
        limiter = current_app.extensions["dialogrum.limiter"]
        if not limiter.hit(API_LIMIT, "api", str(user.id)):
            return error_response("rate_limited")
        g.user = user
        return view(*args, **kwargs)

    return wrapper


def json_body() -> dict:
    """The request's JSON object, or a 422."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DialogrumError("invalid", "the body must be a JSON object")
    return data


def _meeting_for(meeting_id: str) -> Meeting:
    return access.managed_meeting(get_db().session, g.user, meeting_id)


def session_object(meeting: Meeting) -> dict[str, Any]:
    """The contract's session object."""
    base = base_url()
    return {
        "id": meeting.id,
        "code": meeting.code,
        "title": meeting.title,
        "unit": meeting.unit,
        "status": meeting.status,
        "guide_id": meeting.guide_id,
        "join_url": f"{base}/j/{meeting.code}",
        "facilitator_url": f"{base}/console/{meeting.id}",
        "projector_url": f"{base}/p/{meeting.projector_key}",
        "qr_svg_url": f"{base}/j/{meeting.code}/qr.svg",
        "created_at": meeting.created_at.isoformat(),
    }


def _hub():
    return current_app.extensions["dialogrum.hub"]


# -- guides -----------------------------------------------------------------------------------


@bp.get("/guides")
@token_required
def list_guides():
    """All guides with how many items each has."""
    return jsonify([library.summary(gd) for gd in library.list_guides(get_db().session)])


@bp.post("/guides")
@token_required
def create_guide():
    """Import a guide document (JSON body, or YAML with a YAML content type)."""
    db = get_db().session
    if request.mimetype in ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"):
        guide = library.import_guide(db, request.get_data(), owner_id=g.user.id, filename="guide.yaml")
    else:
        data = request.get_json(silent=True)
        if data is None:
            raise DialogrumError("invalid", "the body must be a JSON guide document")
        guide = library.import_guide(db, data, owner_id=g.user.id)
    db.commit()
    return jsonify({"id": guide.id}), 201


@bp.get("/guides/<guide_id>")
@token_required
def get_guide(guide_id: str):
    """One guide document with its item ids."""
    guide = get_db().session.get(Guide, guide_id)
    if guide is None:
        raise DialogrumError("not_found")
    return jsonify({**library.summary(guide), "document": guide.document})


@bp.get("/guides/<guide_id>/rollup")
@token_required
def guide_rollup(guide_id: str):
    """The guide across all its sessions the caller may see."""
    db = get_db().session
    guide = db.get(Guide, guide_id)
    if guide is None:
        raise DialogrumError("not_found")
    data = build_rollup(db, guide, g.user, unit=request.args.get("unit") or None,
                        since=_date_arg("from"), until=_date_arg("to", end_of_day=True))
    fmt = request.args.get("format", "json")
    if fmt == "json":
        return jsonify(data)
    return downloads.response(downloads.rollup_file(data, fmt))


def _date_arg(name: str, *, end_of_day: bool = False):
    """A `YYYY-MM-DD` query parameter as a UTC datetime (the day after, for an inclusive end)."""
    import datetime as dt

    raw = request.args.get(name)
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise DialogrumError("invalid", f"{name} must be a date like 2026-05-31") from None
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return start + dt.timedelta(days=1) if end_of_day else start


# -- sessions ---------------------------------------------------------------------------------


@bp.get("/sessions")
@token_required
def list_sessions():
    """The sessions the caller may see, newest first."""
    db = get_db().session
    stmt = access.visible_meetings(g.user).order_by(Meeting.created_at.desc())
    return jsonify([session_object(m) for m in db.scalars(stmt)])


@bp.post("/sessions")
@token_required
def create_session():
    """Create a waiting session from a guide."""
    data = json_body()
    db = get_db().session
    meeting_id = rules.create_meeting(db.connection(), guide_id=data.get("guide_id"), title=data.get("title"),
                                      unit=data.get("unit", ""), facilitator_id=g.user.id)
    db.commit()
    return jsonify(session_object(db.get(Meeting, meeting_id))), 201


@bp.get("/sessions/<meeting_id>")
@token_required
def get_session(meeting_id: str):
    """One session object."""
    return jsonify(session_object(_meeting_for(meeting_id)))


@bp.delete("/sessions/<meeting_id>")
@token_required
def delete_session(meeting_id: str):
    """Delete a session for good, with its participants, votes, comments and conclusions."""
    from shared.organiser import delete_meeting

    meeting = _meeting_for(meeting_id)
    db = get_db().session
    delete_meeting(db.connection(), meeting.id)
    db.commit()
    return "", 204


@bp.get("/sessions/<meeting_id>/state")
@token_required
def get_state(meeting_id: str):
    """The state object, as the room sees it."""
    meeting = _meeting_for(meeting_id)
    conn = get_db().session.connection()
    return jsonify(rules.state(conn, rules.get_meeting(conn, meeting.id)))


@bp.post("/sessions/<meeting_id>/control")
@token_required
def control(meeting_id: str):
    """Apply a control action; answers the state after it."""
    meeting = _meeting_for(meeting_id)
    data = json_body()
    db = get_db().session
    rules.control(db.connection(), meeting.id, data.get("action"), data.get("index"))
    db.commit()
    _hub().state_changed(meeting.id)
    conn = db.connection()
    return jsonify(rules.state(conn, rules.get_meeting(conn, meeting.id)))


@bp.get("/sessions/<meeting_id>/results")
@token_required
def results(meeting_id: str):
    """The JSON export."""
    meeting = _meeting_for(meeting_id)
    return jsonify(_results(meeting))


def _results(meeting: Meeting) -> dict:
    return reports.session_results(get_db().session, meeting)


@bp.get("/sessions/<meeting_id>/export")
@token_required
def export_session(meeting_id: str):
    """The session's results as a CSV, XLSX or JSON file."""
    meeting = _meeting_for(meeting_id)
    return downloads.response(downloads.session_file(get_db().session, meeting, request.args.get("format", "json")))


@bp.post("/sessions/<meeting_id>/comments/<int:comment_id>")
@token_required
def moderate_comment(meeting_id: str, comment_id: int):
    """Hide/unhide or pin/unpin a comment: `{"hidden"?: bool, "pinned"?: bool}`."""
    meeting = _meeting_for(meeting_id)
    data = json_body()
    db = get_db().session
    comment = rules.moderate(db.connection(), meeting.id, comment_id, hidden=data.get("hidden"),
                             pinned=data.get("pinned"))
    db.commit()
    _hub().comment_moderated(meeting.id, comment)
    return jsonify(comment)


@bp.put("/sessions/<meeting_id>/items/<item_id>/conclusion")
@token_required
def put_conclusion(meeting_id: str, item_id: str):
    """Save the group's conclusion on an item: `{"text": "..."}` (empty clears it)."""
    meeting = _meeting_for(meeting_id)
    data = json_body()
    db = get_db().session
    saved = rules.set_conclusion(db.connection(), meeting.id, item_id, data.get("text"))
    db.commit()
    _hub().conclusion_saved(meeting.id, saved)
    return jsonify(saved)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of this API (public)."""
    from shared.openapi import document

    return jsonify(document(base_url()))

