"""REST API v1: JSON in and out, bearer tokens, the contract's error bodies.

Handlers only translate HTTP to `shared.meeting`, `shared.library` and `shared.rollup`. Each
carries an `operation(...)` (shared/schemas/openapi.py): its body and query arrive validated as
models, and it answers through one response model of `shared.schemas.rest`, so the OpenAPI
document generated from them is what the API does (docs/architecture.md#schemas).

The module is long (about 490 lines) because it is the API's one table of routes, in the order of
docs/api.md's endpoint table; each handler is a few lines that translate HTTP to the rules, so
splitting it would only scatter the table.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_babel import get_timezone
from werkzeug.exceptions import HTTPException

from shared import access, campaigns, downloads, faults, guides, library, reports
from shared import meeting as rules
from shared.accounts import user_for_token
from shared.db import get_db
from shared.errors import STATUS, DialogrumError
from shared.meeting import summary
from shared.messages import message_for
from shared.models import Guide, Meeting
from shared.ratelimit import API_LIMIT
from shared.rollup import rollup as build_rollup
from shared.schemas import rest
from shared.schemas.errors import RequestError, error_body
from shared.schemas.fields import BAD_CHARS, MAX_INT
from shared.schemas.guide import GuideDocument
from shared.schemas.openapi import CSV, XLSX, YAML_TYPES, ZIP, Reply, operation, parse, read_json
from shared.uow import unit_of_work
from shared.urls import base_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error_response(code: str, detail: str | None = None, status: int | None = None) -> Response:
    """The contract's error body with a translated message."""
    resp = jsonify(rest.dump(rest.Error, {"error": code, "message": message_for(code, detail)}))
    resp.status_code = status or STATUS.get(code, 400)
    return resp


@bp.errorhandler(DialogrumError)
def _dialogrum_error(exc: DialogrumError):
    get_db().session.rollback()
    if exc.status >= 500:  # a store that does not answer: the contract's 5xx body, logged (shared/faults.py)
        faults.log.error("%s request_id=%s %s %s: %s", exc.code, faults.request_id(), request.method,
                         request.path, exc.message)
        return jsonify(rest.dump(rest.Error, faults.server_error_body(message_for(exc.code)))), exc.status
    if getattr(exc, "complete_message", False):  # a whole translated sentence (library.GuideChangeError)
        body = {"error": exc.code, "message": exc.message, "version": getattr(exc, "version", None)}
        return jsonify(rest.dump(rest.Error, body)), exc.status
    return error_response(exc.code, exc.message if exc.message != exc.code else None)


@bp.errorhandler(guides.GuideError)
def _guide_error(exc: guides.GuideError):
    get_db().session.rollback()
    body = {"error": "invalid_guide", "message": message_for("invalid_guide", str(exc)),
            "errors": [{"place": p, "message": m} for p, m in exc.errors]}
    return jsonify(rest.dump(rest.Error, body)), 422


@bp.errorhandler(rules.CountsError)
def _counts_error(exc: rules.CountsError):
    # Every wrong count or field at once, each in the request's language (shared/meeting/hands.py).
    get_db().session.rollback()
    body = {"error": exc.code, "message": message_for(exc.code), "errors": exc.messages()}
    return jsonify(rest.dump(rest.Error, body)), 422


@bp.errorhandler(RequestError)
def _request_error(exc: RequestError):
    get_db().session.rollback()
    return jsonify(rest.dump(rest.Error, error_body(exc))), 422


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    # One place for HTTP errors under /api/ (a 500 with its request id, a 405 with `Allow`).
    return faults.api_error(exc)


#: What an id in the path that cannot exist is answered with, by parameter.
_UNKNOWN = {"meeting_id": "unknown_session", "item_id": "unknown_item"}


@bp.url_value_preprocessor
def _ids_without_control_characters(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    # No id holds a control character, and PostgreSQL refuses a NUL in a query parameter outright.
    for name, value in (values or {}).items():
        if isinstance(value, str) and BAD_CHARS.search(value):
            raise DialogrumError(_UNKNOWN.get(name, "not_found"))


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

    wrapper.bearer = True  # type: ignore[attr-defined] - the OpenAPI document asks for a token here
    return wrapper


def _meeting_for(meeting_id: str) -> Meeting:
    return access.managed_meeting(get_db().session, g.user, meeting_id)


def session_object(meeting: Meeting) -> dict[str, Any]:
    """The contract's session object."""
    return rest.dump(rest.Session, rest.Session.of(meeting, base_url()))


# -- guides -----------------------------------------------------------------------------------


@bp.get("/guides")
@token_required
@operation("listGuides", "List guides", "guides",
           {200: Reply("Every guide that is not archived (with `archived=true` every guide), built-in ones first.",
                       list[rest.GuideSummary])}, query=rest.GuideListQuery)
def list_guides(query: rest.GuideListQuery):
    """All guides with how many items each has; archived ones only when asked for."""
    found = library.list_guides(get_db().session, include_archived=query.archived == "true")
    return jsonify(rest.dump(list[rest.GuideSummary], [library.summary(gd, g.user) for gd in found]))


@bp.post("/guides")
@token_required
@operation("createGuide", "Import a guide document", "guides", {201: Reply("Imported.", rest.GuideCreated)},
           body=GuideDocument, body_types=YAML_TYPES, parse_body=False,
           description="JSON, or YAML with a YAML content type. Every item gets a stable `id`. A malformed "
           "document is refused whole with `422 invalid_guide`, naming every place in `errors`.")
def create_guide():
    """Import a guide document (JSON body, or YAML with a YAML content type)."""
    db = get_db().session
    if request.mimetype in YAML_TYPES:
        guide = library.import_guide(db, request.get_data(), owner_id=g.user.id, filename="guide.yaml")
    else:
        # The guide's own models check the document and name every place (GuideError).
        guide = library.import_guide(db, read_json(), owner_id=g.user.id)
    db.commit()
    return jsonify(rest.dump(rest.GuideCreated, {"id": guide.id})), 201


@bp.get("/guides/<guide_id>")
@token_required
@operation("getGuide", "Get a guide with its document", "guides", {200: Reply("The guide.", rest.GuideDetail)},
           errors=(404,), contract="additive")
def get_guide(guide_id: str):
    """One guide document with its item ids."""
    return jsonify(_detail(_guide(guide_id)))


def _guide(guide_id: str) -> Guide:
    guide = library.get_guide(get_db().session, guide_id)
    if guide is None:
        raise DialogrumError("not_found")
    return guide


def _detail(guide: Guide) -> dict[str, Any]:
    return rest.dump(rest.GuideDetail, {**library.summary(guide, g.user), "document": guide.document})


@bp.put("/guides/<guide_id>")
@token_required
@operation("saveGuide", "Save an edited guide as its next version", "guides",
           {200: Reply("The saved guide (its `version` one higher, unless nothing changed).", rest.GuideDetail)},
           errors=(403, 404, 409), body=rest.GuideSave, parse_body=False, contract="additive",
           description="Organisers edit every guide that is not built in, facilitators their own (`editable`). "
           "`version` must be the guide's stored version: when somebody saved in between, the save is refused "
           "with `409 version_conflict` (the body's `version` is the stored one) and nothing changes. A "
           "malformed document is refused whole with `422 invalid_guide`, naming every place in `errors`. "
           "Sessions keep the snapshot they were made with.")
def save_guide(guide_id: str):
    """Save an edited document, based on the version the edit started from."""
    db = get_db().session
    guide = _guide(guide_id)
    data = read_json()
    body = parse(rest.GuideVersion, data, root="body")
    with unit_of_work(get_db(), session=db):
        library.save_guide(db, g.user, guide, data.get("document"), version=body.version)
    return jsonify(_detail(guide))


@bp.delete("/guides/<guide_id>")
@token_required
@operation("deleteGuide", "Delete a guide no session used", "guides", {204: Reply("Deleted.")},
           errors=(403, 404, 409), contract="additive",
           description="Refused with `409 guide_in_use` once any session used the guide: archive it instead; "
           "with `409 guide_in_campaign`, naming them, while an open campaign asks units to hold it (close it "
           "first). The guide's closed campaigns are deleted with it.")
def delete_guide(guide_id: str):
    """Delete a guide for good, when no session used it."""
    db = get_db().session
    with unit_of_work(get_db(), session=db):
        library.delete_guide(db, g.user, _guide(guide_id))
    return "", 204


@bp.post("/guides/<guide_id>/duplicate")
@token_required
@operation("duplicateGuide", "Duplicate a guide", "guides",
           {201: Reply("The copy, owned by the caller.", rest.GuideCreated)},
           errors=(404,), contract="additive",
           description="Any guide, built-in ones too. The copy is a new guide at version 1 with new item ids, "
           "called \"Copy of …\" in the guide's language.")
def duplicate_guide(guide_id: str):
    """A new guide with the same content, owned by the caller."""
    db = get_db().session
    with unit_of_work(get_db(), session=db):
        copy = library.duplicate_guide(db, _guide(guide_id), owner_id=g.user.id)
    return jsonify(rest.dump(rest.GuideCreated, {"id": copy.id})), 201


@bp.post("/guides/<guide_id>/archive")
@token_required
@operation("archiveGuide", "Archive a guide, or bring it back", "guides", {200: Reply("The guide.", rest.GuideSummary)},
           errors=(403, 404), body=rest.GuideArchive, contract="additive",
           description="An archived guide is left out of the choices for new sessions; its sessions and roll-up "
           "stay. Whoever may edit the guide may archive it; organisers may also archive a built-in guide.")
def archive_guide(guide_id: str, body: rest.GuideArchive):
    """Archive (`{"archived": true}`) or bring back (`false`) a guide."""
    db = get_db().session
    guide = _guide(guide_id)
    with unit_of_work(get_db(), session=db):
        library.archive_guide(db, g.user, guide, body.archived)
    return jsonify(rest.dump(rest.GuideSummary, library.summary(guide, g.user)))


@bp.get("/guides/<guide_id>/export")
@token_required
@operation("exportGuide", "Download a guide document", "guides",
           {200: Reply("The document as an attachment, with its item ids: it can be imported again.",
                       GuideDocument, files=("application/yaml",), mode="validation")},
           errors=(404,), query=rest.GuideExportQuery, contract="additive")
def export_guide(guide_id: str, query: rest.GuideExportQuery):
    """The guide document as a YAML (default) or JSON file."""
    return downloads.response(library.export_file(_guide(guide_id), query.format))


@bp.get("/guides/<guide_id>/rollup")
@token_required
@operation("getGuideRollup", "Roll up a guide across its sessions", "guides",
           {200: Reply("The roll-up (JSON), or a CSV, XLSX or ZIP file of it.", rest.Rollup, files=(CSV, XLSX, ZIP))},
           errors=(404,), query=rest.RollupQuery,
           description="Every session of the guide the caller may see. `format=json` (the default), the "
           "`unit`, `from` and `to` filters and `tags` are additive.")
def guide_rollup(guide_id: str, query: rest.RollupQuery):
    """The guide across all its sessions the caller may see."""
    db = get_db().session
    guide = db.get(Guide, guide_id)
    if guide is None:
        raise DialogrumError("not_found")
    since, until = query.bounds()
    data = build_rollup(db, guide, g.user, unit=query.unit or None, since=since, until=until)
    fmt = query.format
    if fmt == "json":
        return jsonify(rest.dump(rest.Rollup, data))
    return downloads.response(downloads.rollup_file(data, fmt, language=query.language, tz=get_timezone(),
                                                    table=query.table, dialect=query.dialect))


# -- sessions ---------------------------------------------------------------------------------


@bp.get("/sessions")
@token_required
@operation("listSessions", "List sessions", "sessions",
           {200: Reply("The caller's sessions (all of them for an organiser), newest first.", list[rest.Session])},
           contract="additive")
def list_sessions():
    """The sessions the caller may see, newest first."""
    db = get_db().session
    stmt = access.visible_meetings(g.user).order_by(Meeting.created_at.desc())
    return jsonify([session_object(m) for m in db.scalars(stmt)])


@bp.post("/sessions")
@token_required
@operation("createSession", "Create a session from a guide", "sessions",
           {201: Reply("The new, waiting session.", rest.Session)}, errors=(404,), body=rest.SessionCreate,
           description="The session keeps a snapshot of the guide: later edits of the guide never change it. "
           "An unknown `guide_id` answers 404.")
def create_session(body: rest.SessionCreate):
    """Create a waiting session from a guide."""
    db = get_db().session
    with unit_of_work(get_db(), session=db) as work:
        meeting_id = rules.create_meeting(work, guide_id=body.guide_id, title=body.title, unit=body.unit,
                                          facilitator_id=g.user.id, language=body.language,
                                          approve_comments=body.approve_comments)
    return jsonify(session_object(db.get(Meeting, meeting_id))), 201


@bp.post("/sessions/<meeting_id>/again")
@token_required
@operation("runSessionAgain", "Run a session again", "sessions",
           {201: Reply("The new, waiting session.", rest.Session)}, errors=(403, 404, 409), contract="additive",
           description="A new waiting session with the same guide (as it is now), unit, title and language, "
           "and a new join code and projector key (issue 10). 404 when the session or its guide was deleted, "
           "409 `conflict` when the guide is archived.")
def run_again(meeting_id: str):
    """Run a session again: the page's "Run again", through the same rule."""
    from shared.meeting import again

    old = _meeting_for(meeting_id)
    db = get_db().session
    with unit_of_work(get_db(), session=db) as work:
        new_id = again.run_again(work, old.id, facilitator_id=g.user.id)
    return jsonify(session_object(db.get(Meeting, new_id))), 201


@bp.get("/sessions/<meeting_id>")
@token_required
@operation("getSession", "Get a session", "sessions", {200: Reply("The session.", rest.Session)}, errors=(403, 404))
def get_session(meeting_id: str):
    """One session object."""
    return jsonify(session_object(_meeting_for(meeting_id)))


@bp.delete("/sessions/<meeting_id>")
@token_required
@operation("deleteSession", "Delete a session for good", "sessions",
           {204: Reply("Deleted with its participants, votes, comments and conclusions (with `keep_counts=true`: "
                       "only its comments and the phones' tokens).")}, errors=(403, 404, 409),
           query=rest.DeleteSessionQuery, contract="additive")
def delete_session(meeting_id: str, query: rest.DeleteSessionQuery):
    """Delete a session for good, with its participants, votes, comments and conclusions; or, with
    `keep_counts=true`, only an ended session's personal traces (shared.organiser.anonymise_meeting)."""
    from shared.organiser import delete_meeting

    meeting = _meeting_for(meeting_id)
    db = get_db().session
    with unit_of_work(get_db(), session=db) as work:
        delete_meeting(work, meeting.id, keep_counts=query.keep_counts == "true")
    return "", 204


@bp.get("/sessions/<meeting_id>/state")
@token_required
@operation("getSessionState", "Get a session's state", "sessions",
           {200: Reply("The state object (without `me`).", rest.State)}, errors=(403, 404))
def get_state(meeting_id: str):
    """The state object, as the room sees it."""
    meeting = _meeting_for(meeting_id)
    conn = get_db().session.connection()
    return jsonify(rest.dump(rest.State, rules.state(conn, rules.get_meeting(conn, meeting.id))))


@bp.post("/sessions/<meeting_id>/control")
@token_required
@operation("controlSession", "Apply a control action", "sessions",
           {200: Reply("The state after the action (also sent as `state` to every socket).", rest.State)},
           errors=(403, 404, 409), body=rest.ControlRequest,
           description="Moving to another item closes voting and hides results on the one left. An action that "
           "does not fit the state (voting on a non-consideration, `next` past the end, anything after `end`) "
           "answers 409; an unknown action or a missing `index` with `goto` answers 422.")
def control(meeting_id: str, body: rest.ControlRequest):
    """Apply a control action; answers the state after it."""
    meeting = _meeting_for(meeting_id)
    db = get_db().session
    with unit_of_work(get_db(), session=db) as work:
        state = rules.control(work, meeting.id, body.action, body.index)
    return jsonify(rest.dump(rest.State, state))


@bp.get("/sessions/<meeting_id>/results")
@token_required
@operation("getSessionResults", "Get a session's results", "sessions",
           {200: Reply("The JSON export.", rest.Results)}, errors=(403, 404))
def results(meeting_id: str):
    """The JSON export."""
    meeting = _meeting_for(meeting_id)
    return jsonify(rest.dump(rest.Results, _results(meeting)))


def _results(meeting: Meeting) -> dict:
    return reports.session_results(get_db().session, meeting)


@bp.get("/sessions/<meeting_id>/summary")
@token_required
@operation("getSessionSummary", "Get a session's closing summary", "sessions",
           {200: Reply("Every section's goal statement, each consideration's result and the group's conclusions, "
                       "as the projector's closing summary shows them (issue 11).", rest.Summary)},
           errors=(403, 404), contract="additive")
def get_summary(meeting_id: str):
    """The closing summary of the whole guide; each section's own summary is its part."""
    meeting = _meeting_for(meeting_id)
    return jsonify(rest.dump(rest.Summary, summary.summary(get_db().session.connection(), meeting.id)))


@bp.get("/sessions/<meeting_id>/export")
@token_required
@operation("exportSession", "Download a session's results", "sessions",
           {200: Reply("The file (as an attachment).", rest.Results, files=(CSV, XLSX, ZIP))}, errors=(403, 404),
           query=rest.ExportQuery,
           description="CSV is UTF-8 with a BOM: one table of items, a blank line, one table of comments. "
           "Without `format` the file is JSON (additive default).")
def export_session(meeting_id: str, query: rest.ExportQuery):
    """The session's results as a CSV, XLSX or JSON file."""
    meeting = _meeting_for(meeting_id)
    return downloads.response(downloads.session_file(get_db().session, meeting, query.format,
                                                     language=query.language, tz=get_timezone(),
                                                     table=query.table, dialect=query.dialect))


@bp.post("/sessions/<meeting_id>/comments/<int:comment_id>")
@token_required
@operation("moderateComment", "Hide, unhide, pin, unpin or approve a comment", "sessions",
           {200: Reply("The comment after the change (also sent to the room).", rest.Comment)},
           errors=(403, 404), body=rest.ModerateRequest, contract="additive")
def moderate_comment(meeting_id: str, comment_id: int, body: rest.ModerateRequest):
    """Hide/unhide, pin/unpin or approve a comment: `{"hidden"?: bool, "pinned"?: bool, "approved"?: bool}`."""
    meeting = _meeting_for(meeting_id)
    if comment_id > MAX_INT:  # no such row, and the database would refuse the number
        raise DialogrumError("unknown_comment")
    db = get_db().session
    with unit_of_work(get_db(), session=db) as work:
        comment = rules.moderate(work, meeting.id, comment_id, hidden=body.hidden, pinned=body.pinned,
                                 approved=body.approved)
    return jsonify(rest.dump(rest.Comment, comment))


@bp.put("/sessions/<meeting_id>/items/<item_id>/conclusion")
@token_required
@operation("putConclusion", "Save the group's conclusion on an item", "sessions",
           {200: Reply("The saved conclusion.", rest.Conclusion)}, errors=(403, 404), body=rest.ConclusionRequest,
           contract="additive")
def put_conclusion(meeting_id: str, item_id: str, body: rest.ConclusionRequest):
    """Save the group's conclusion on an item: `{"text": "..."}` (empty clears it)."""
    meeting = _meeting_for(meeting_id)
    db = get_db().session
    with unit_of_work(get_db(), session=db) as work:
        saved = rules.set_conclusion(work, meeting.id, item_id, body.text)
    return jsonify(rest.dump(rest.Conclusion, saved))


@bp.put("/sessions/<meeting_id>/hands/<item_id>")
@token_required
@operation("putHands", "Set the counted hands of an item", "sessions",
           {200: Reply("The item's counted hands; its `results` follow on the sockets.", rest.Hands)},
           errors=(403, 404, 409), body=rest.HandsRequest, contract="additive",
           description="For people without a phone: hands counted per choice, stored apart from the phones' votes "
           "and summed with them in every result. Replaces the item's earlier hands; `{}` clears them. Open while "
           "the session waits or is live (409 `session_ended` after), and on a session entered by hand at any "
           "time. 409 `no_choices` for an item nobody votes on; 422 `invalid_count` when the hands, all choices "
           "summed, exceed the session's stated participants or a choice is not the item's.")
def put_hands(meeting_id: str, item_id: str, body: rest.HandsRequest):
    """Set the counted hands of one item: `{"counts": {"yes": 3, "no": 1}}`."""
    meeting = _meeting_for(meeting_id)
    db = get_db().session
    with unit_of_work(get_db(), session=db) as work:
        saved = rules.set_hands(work, meeting.id, item_id, body.counts)
    return jsonify(rest.dump(rest.Hands, saved))


@bp.post("/sessions/paper")
@token_required
@operation("createPaperSession", "Record a dialogue held on paper", "sessions",
           {201: Reply("The new session: ended, marked `entered_by_hand`.", rest.Session)}, errors=(404,),
           body=rest.PaperSessionCreate, contract="additive",
           description="A dialogue held without Dialogrum, entered afterwards from a guide: the day, unit, number "
           "of participants and per item the counted hands, the group's conclusion and comments. It counts in "
           "reports, exports, roll-ups and public pages like any session, marked as entered by hand. Every wrong "
           "field is named at once (422 `invalid_count`), and nothing is stored then.")
def create_paper_session(body: rest.PaperSessionCreate):
    """Record a dialogue held on paper as an ended session."""
    db = get_db().session
    with unit_of_work(get_db(), session=db) as work:
        meeting_id = rules.create_paper_session(
            work, guide_id=body.guide_id, held_on=body.held_on, unit=body.unit, participants=body.participants,
            title=body.title, facilitator_id=g.user.id,
            items={item_id: item.model_dump() for item_id, item in body.items.items()})
    return jsonify(session_object(db.get(Meeting, meeting_id))), 201


@bp.get("/openapi.json")
@operation("getOpenApi", "This document", "meta",
           {200: Reply("The OpenAPI 3.1 document, generated from the code.", schema={"type": "object"})},
           description="Public.")
def openapi():
    """The OpenAPI 3.1 document of this API (public)."""
    from shared.schemas.openapi import document

    return jsonify(document(current_app, base_url()))


# -- campaigns (issue 12, gap 8) ----------------------------------------------------------------


def _campaign_object(campaign) -> dict[str, Any]:
    prog = campaigns.progress(get_db().session, campaign, get_timezone())
    return rest.dump(rest.Campaign, campaigns.as_json(prog, may_see=lambda m: access.may_manage(g.user, m)))


@bp.get("/campaigns")
@token_required
@operation("listCampaigns", "List dialogue campaigns", "campaigns",
           {200: Reply("Every campaign, open ones first by deadline, with who has held it and who has not yet.",
                       list[rest.Campaign])}, contract="additive")
def list_campaigns():
    """Every campaign with its progress; a held unit's session id only where the caller may see it."""
    return jsonify([_campaign_object(c) for c in campaigns.list_campaigns(get_db().session)])


@bp.get("/campaigns/<int:campaign_id>")
@token_required
@operation("getCampaign", "Get a dialogue campaign", "campaigns",
           {200: Reply("The campaign: held (in order of the first session) and not yet.", rest.Campaign)},
           errors=(404,), contract="additive")
def get_campaign(campaign_id: int):
    """One campaign with who has held it, in order, and who has not yet."""
    return jsonify(_campaign_object(campaigns.get_campaign(get_db().session, campaign_id)))
