"""The OpenAPI 3.1 document of REST API v1, served at `GET /api/v1/openapi.json`.

A plain data builder: no Flask, no database. `tests/shared/test_openapi.py` keeps it honest
against the app's URL map (every `/api/v1` route and method documented, nothing documented that
is not routed), against `openapi-spec-validator`, and against the constants it mirrors.

Operations and fields that go beyond the v1 contract (docs/api.md) carry
`x-dialogrum-contract: additive`; the contract's own ones carry `v1`.
"""

from __future__ import annotations

from typing import Any

from shared.errors import STATUS

OPENAPI_VERSION = "3.1.0"
API_PREFIX = "/api/v1"

# Mirrors of the rule modules' constants (the tests check they have not drifted).
LANGUAGES = ["sv", "da", "en"]
KINDS = ["consideration", "prompt", "info"]
CHOICES = ["yes", "no", "unsure"]
STATUSES = ["waiting", "live", "ended"]
ACTIONS = ["start", "next", "prev", "goto", "open_voting", "close_voting", "show_results", "hide_results", "end"]
EXPORT_FORMATS = ["csv", "xlsx", "json"]
CODE_PATTERN = "^[2-9A-HJKMNP-Z]{6}$"  # 6 of 23456789ABCDEFGHJKMNPQRSTUVWXYZ
ITEM_ID_PATTERN = "^[A-Za-z0-9_-]{1,40}$"
MAX_TITLE = 300
MAX_TEXT = 4000
MAX_UNIT = 200
MAX_CONCLUSION = 10000
YAML_TYPES = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"]
CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_TYPE = "application/json"

#: The error responses, by status: component name and what it means.
ERROR_RESPONSES = {
    401: ("Unauthorized", "No `Authorization: Bearer <token>` header, or the token is unknown or revoked."),
    403: ("Forbidden", "The session is not yours (a facilitator manages only their own sessions)."),
    404: ("NotFound", "Unknown guide, session, item or comment."),
    409: ("Conflict", "The action does not fit the session's state (or the session changed concurrently)."),
    413: ("TooLarge", "The request body is larger than 1 MB."),
    422: ("Invalid", "The request is not valid: malformed JSON, a missing or wrongly typed field, an unknown "
                     "`format`."),
    429: ("RateLimited", "More than 600 API requests a minute with this user's tokens."),
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {JSON_TYPE: {"schema": schema}}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` or null (OpenAPI 3.1 has no `nullable`)."""
    return {"oneOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], required: list[str] | None = None, *, description: str | None = None,
            closed: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def _string(description: str | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", **extra}
    if description:
        schema["description"] = description
    return schema


def _integer(description: str | None = None, minimum: int | None = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    if description:
        schema["description"] = description
    return schema


def _codes(status: int) -> list[str]:
    return sorted(code for code, st in STATUS.items() if st == status)


def _counts() -> dict[str, Any]:
    return {c: _integer() for c in CHOICES}


def _schemas() -> dict[str, Any]:
    section = _object(
        {
            "title": _string(),
            "statement": _string("Empty when the guide gives none."),
            "tags": {"type": "array", "items": _string()},
            "index": _integer("Additive: the section's 0-based place in the guide."),
        },
        ["title", "statement", "tags"],
        description="The section an item belongs to.",
    )
    comment = _object(
        {
            "id": _integer(minimum=1),
            "item_id": _string("Additive."),
            "text": _string(maxLength=1000),
            "created_at": _string("UTC, ISO 8601.", format="date-time"),
            "hidden": {"type": "boolean", "description": "Hidden by a facilitator: never shown to the room."},
            "pinned": {"type": "boolean", "description": "Additive: pinned comments are listed first."},
        },
        ["id", "text", "created_at", "hidden", "pinned"],
        description="A participant's comment (anonymous).",
    )
    rollup_cell = _object(
        {**_counts(), "voters": _integer(), "comments": _integer("Comments that are not hidden.")},
        ["yes", "no", "unsure", "voters", "comments"],
    )
    return {
        "Error": _object(
            {"error": _string("A stable machine code, e.g. `wrong_state`."),
             "message": _string("Human text in the request's language.")},
            ["error", "message"],
            description="Every 4xx answer. Codes by status: "
            + "; ".join(f"{st}: {', '.join(_codes(st))}" for st in sorted(ERROR_RESPONSES)) + ".",
        ),
        "GuideError": {
            "description": "A refused guide document: every problem, each with its place.",
            "allOf": [
                _ref("Error"),
                _object({"errors": {"type": "array", "items": _object(
                    {"place": _string("e.g. `sections[1].items[0]`"), "message": _string()},
                    ["place", "message"])}}),
            ],
        },
        "GuideSummary": _object(
            {
                "id": _string(),
                "title": _string(),
                "language": {"type": "string", "enum": LANGUAGES},
                "items": _integer("How many items the guide has."),
                "builtin": {"type": "boolean", "description": "Additive: one of the guides shipped with Dialogrum."},
            },
            ["id", "title", "language", "items"],
        ),
        "GuideDetail": {
            "description": "Additive: a guide summary with its document (item ids filled in).",
            "allOf": [_ref("GuideSummary"), _object({"document": _ref("GuideDocument")}, ["document"])],
        },
        "GuideDocument": _object(
            {
                "title": _string(minLength=1, maxLength=MAX_TITLE),
                "language": {"type": "string", "enum": LANGUAGES,
                             "description": "Sets the default vote labels (Ja/Nej/Ved ikke ...)."},
                "description": _string("Optional, shown to the facilitator.", maxLength=MAX_TEXT),
                "sections": {"type": "array", "minItems": 1, "items": _ref("GuideSection")},
            },
            ["title", "language", "sections"],
            closed=True,
            description="A guide, as imported (YAML or JSON). A malformed document is refused whole with 422 "
            "naming every place. Unknown fields are refused; `language` and `kind` ignore case.",
        ),
        "GuideSection": _object(
            {
                "title": _string(minLength=1, maxLength=MAX_TITLE),
                "statement": _string("Optional.", maxLength=MAX_TEXT),
                "tags": {
                    "description": "Optional. A list, or one string separated by `•` or `,`.",
                    "oneOf": [{"type": "array", "items": _string(maxLength=MAX_TITLE)}, _string()],
                },
                "items": {"type": "array", "minItems": 1, "items": _ref("GuideItem")},
            },
            ["title", "items"],
            closed=True,
        ),
        "GuideItem": _object(
            {
                "id": _string("Optional on import: every item gets a stable id.", pattern=ITEM_ID_PATTERN),
                "kind": {"type": "string", "enum": KINDS,
                         "description": "`consideration`: a yes/no question everybody votes on; `prompt`: an "
                         "open question for comments; `info`: a text slide."},
                "title": _string("Optional (an `info` item needs a title or a text).", maxLength=MAX_TITLE),
                "text": _string("Required for `consideration` and `prompt`.", maxLength=MAX_TEXT),
                "allow_unsure": {"type": "boolean", "default": False,
                                 "description": "Only on considerations: adds a third choice `unsure`."},
            },
            ["kind"],
            closed=True,
        ),
        "GuideCreated": _object({"id": _string()}, ["id"]),
        "SessionCreate": _object(
            {
                "guide_id": _string(),
                "title": _string(minLength=1, maxLength=MAX_TITLE),
                "unit": _nullable(_string("The organisational unit, e.g. a department.", maxLength=MAX_UNIT)),
            },
            ["guide_id", "title"],
        ),
        "Session": _object(
            {
                "id": _string(),
                "code": _string("The join code; matched ignoring case, spaces and dashes.", pattern=CODE_PATTERN),
                "title": _string(),
                "unit": _string(),
                "status": {"type": "string", "enum": STATUSES},
                "join_url": _string("`<base>/j/<code>`", format="uri"),
                "facilitator_url": _string(format="uri"),
                "projector_url": _string("`<base>/p/<projector_key>`: no login needed; the key is also the "
                                         "projector's Socket.IO credential.", format="uri"),
                "qr_svg_url": _string("A QR code of `join_url`.", format="uri"),
                "guide_id": _string("Additive."),
                "created_at": _string("Additive.", format="date-time"),
            },
            ["id", "code", "title", "unit", "status", "join_url", "facilitator_url", "projector_url", "qr_svg_url"],
        ),
        "Section": section,
        "StateItem": _object(
            {
                "id": _string(),
                "kind": {"type": "string", "enum": KINDS},
                "title": _string(),
                "text": _string(),
                "choices": {"type": "array", "items": {"type": "string", "enum": CHOICES},
                            "description": "`[yes, no]` or `[yes, no, unsure]` on considerations, else empty."},
                "section": _ref("Section"),
            },
            ["id", "kind", "title", "text", "choices", "section"],
        ),
        "State": _object(
            {
                "session": _object(
                    {"id": _string(), "code": _string(pattern=CODE_PATTERN), "title": _string(),
                     "status": {"type": "string", "enum": STATUSES}},
                    ["id", "code", "title", "status"],
                ),
                "position": _object(
                    {"index": _nullable(_integer("0-based; null while waiting.")),
                     "count": _integer("How many items the session has.")},
                    ["index", "count"],
                ),
                "item": {"description": "Null while the session is waiting.", **_nullable(_ref("StateItem"))},
                "voting_open": {"type": "boolean"},
                "results_visible": {"type": "boolean"},
                "participants": _integer("Phones connected right now."),
                "language": {"type": "string", "enum": LANGUAGES, "description": "Additive: the guide's language."},
                "labels": {
                    "description": "Additive: the vote labels in the guide's language.",
                    **_object({c: _string() for c in CHOICES}, CHOICES),
                },
                "version": _integer("Additive: grows with every change of state."),
                "me": {
                    "description": "Only in `state` events sent to a participant: their own vote and comment "
                    "count on the current item.",
                    **_object(
                        {"vote": _nullable({"type": "string", "enum": CHOICES}), "comments": _integer()},
                        ["vote", "comments"],
                    ),
                },
            },
            ["session", "position", "item", "voting_open", "results_visible", "participants", "language",
             "labels", "version"],
            closed=True,
            description="The state object; also the payload of the Socket.IO `state` event.",
        ),
        "ControlRequest": {
            **_object(
                {"action": {"type": "string", "enum": ACTIONS},
                 "index": _integer("The 0-based item to go to (with `goto`).")},
                ["action"],
            ),
            "if": {"properties": {"action": {"const": "goto"}}, "required": ["action"]},
            "then": {"required": ["index"]},
        },
        "Counts": _object(_counts(), CHOICES),
        "Comment": comment,
        "ModerateRequest": {
            **_object({"hidden": {"type": "boolean"}, "pinned": {"type": "boolean"}},
                      description="Give at least one of the two."),
            "anyOf": [{"required": ["hidden"]}, {"required": ["pinned"]}],
        },
        "ConclusionRequest": _object(
            {"text": _string("The group's conclusion; empty clears it.", maxLength=MAX_CONCLUSION)}, ["text"]),
        "Conclusion": _object(
            {"item_id": _string(), "text": _string("Empty when cleared.")}, ["item_id", "text"],
            description="The group's conclusion on an item."),
        "Results": _object(
            {
                "session": _object(
                    {
                        "id": _string(),
                        "code": _string(pattern=CODE_PATTERN),
                        "title": _string(),
                        "unit": _string(),
                        "status": {"type": "string", "enum": STATUSES},
                        "guide_id": _string(),
                        "guide_title": _string(),
                        "language": {"type": "string", "enum": LANGUAGES},
                        "created_at": _string(format="date-time"),
                        "started_at": _nullable(_string(format="date-time")),
                        "ended_at": _nullable(_string(format="date-time")),
                        "facilitator": _nullable(_string("Name or e-mail of the session's facilitator.")),
                        "participants": _integer("Phones that ever joined."),
                    },
                    ["id", "code", "title", "unit", "status"],
                ),
                "items": {"type": "array", "items": _ref("ResultItem")},
            },
            ["session", "items"],
            description="The JSON export of one session (additive fields marked in docs/api.md).",
        ),
        "ResultItem": _object(
            {
                "id": _string(),
                "index": _integer("Additive."),
                "kind": {"type": "string", "enum": KINDS},
                "title": _string("Additive."),
                "section": _ref("Section"),
                "text": _string(),
                "choices": {"type": "array", "items": {"type": "string", "enum": CHOICES},
                            "description": "Additive."},
                "counts": _ref("Counts"),
                "voters": _integer(),
                "comments": {"type": "array", "items": _ref("Comment"),
                             "description": "Every comment, hidden ones included, oldest first."},
                "conclusion": _nullable(_string("Additive: the group's conclusion.")),
            },
            ["id", "kind", "section", "text", "counts", "voters", "comments", "conclusion"],
        ),
        "Rollup": _object(
            {
                "guide": _object({"id": _string(), "title": _string()}, ["id", "title"]),
                "sessions": {"type": "array", "items": _object(
                    {"id": _string(), "title": _string(), "unit": _string(),
                     "started_at": _nullable(_string(format="date-time")), "participants": _integer()},
                    ["id", "title", "unit", "started_at", "participants"])},
                "items": {"type": "array", "items": _object(
                    {
                        "id": _string("Stable across the guide's sessions and edits."),
                        "kind": {"type": "string", "enum": KINDS},
                        "text": _string(),
                        "section": {"description": "Additive.", **_ref("Section")},
                        "per_session": {"type": "object", "additionalProperties": _ref("RollupCell"),
                                        "description": "By session id."},
                        "total": _ref("RollupCell"),
                    },
                    ["id", "kind", "text", "per_session", "total"])},
                "tags": {"type": "array", "description": "Additive: the considerations carrying each tag "
                         "(AlmenKompas målepunkter), summed per session and in total.",
                         "items": _object({
                             "tag": _string(),
                             "items": {"type": "array", "items": _string()},
                             "per_session": {"type": "object", "additionalProperties": _ref("Counts")},
                             "total": _ref("Counts"),
                         }, ["tag", "items", "per_session", "total"])},
            },
            ["guide", "sessions", "items"],
            description="One guide across every session of it the caller may see (an organiser all, a "
            "facilitator their own).",
        ),
        "RollupCell": rollup_cell,
        "Health": _object({"status": {"type": "string", "enum": ["ok", "unavailable"]}}, ["status"]),
    }


def _responses() -> dict[str, Any]:
    out = {}
    for status, (name, text) in ERROR_RESPONSES.items():
        out[name] = {
            "description": f"{text} Codes: {', '.join(f'`{c}`' for c in _codes(status))}.",
            "content": _json(_ref("Error")),
        }
    out["InvalidGuide"] = {
        "description": "Not a guide document, or a malformed one (`invalid`, `invalid_guide` with `errors`).",
        "content": _json(_ref("GuideError")),
    }
    return out


def _errors(*statuses: int, invalid: str | None = None) -> dict[str, Any]:
    out = {}
    for status in statuses:
        name = invalid if status == 422 and invalid else ERROR_RESPONSES[status][0]
        out[str(status)] = {"$ref": f"#/components/responses/{name}"}
    return out


def _path_param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema or _string()}


def _format_param(formats: list[str], default: str) -> dict[str, Any]:
    return {"name": "format", "in": "query", "required": False, "description": "The file format.",
            "schema": {"type": "string", "enum": formats, "default": default}}


def _download_headers() -> dict[str, Any]:
    return {"Content-Disposition": {"description": "`attachment; filename=\"...\"`", "schema": _string()}}


def _op(operation_id: str, summary: str, tag: str, ok: dict[str, Any], errors: dict[str, Any], *,
        contract: str = "v1", description: str | None = None, **extra: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": [tag]}
    if description:
        op["description"] = description
    op.update(extra)
    op["responses"] = {**ok, **errors}
    op["x-dialogrum-contract"] = contract
    return op


def _ok(description: str, schema: dict[str, Any] | None = None, status: int = 200) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema is not None:
        response["content"] = _json(schema)
    return {str(status): response}


def _body(schema_name: str, *, extra_types: list[str] | None = None) -> dict[str, Any]:
    content = _json(_ref(schema_name))
    for media in extra_types or []:
        content[media] = {"schema": _ref(schema_name)}
    return {"required": True, "content": content}


def _paths(base_url: str) -> dict[str, Any]:
    meeting_id = _path_param("meeting_id", "The session's id (not its join code).")
    guide_id = _path_param("guide_id", "The guide's id.")
    comment_id = _path_param("comment_id", "The comment's id.", _integer(minimum=1))
    item_id = _path_param("item_id", "An item id of the session's guide.")
    everyone = (401, 429)
    mine = (401, 403, 404, 429)
    return {
        "/guides": {
            "get": _op("listGuides", "List guides", "guides",
                       _ok("Every guide, built-in ones first.", {"type": "array", "items": _ref("GuideSummary")}),
                       _errors(*everyone)),
            "post": _op("createGuide", "Import a guide document", "guides",
                        _ok("Imported.", _ref("GuideCreated"), 201),
                        _errors(401, 413, 422, 429, invalid="InvalidGuide"),
                        description="JSON, or YAML with a YAML content type. Every item gets a stable `id`.",
                        requestBody=_body("GuideDocument", extra_types=YAML_TYPES)),
        },
        "/guides/{guide_id}": {
            "parameters": [guide_id],
            "get": _op("getGuide", "Get a guide with its document", "guides",
                       _ok("The guide.", _ref("GuideDetail")), _errors(401, 404, 429), contract="additive"),
        },
        "/guides/{guide_id}/rollup": {
            "parameters": [guide_id],
            "get": _op(
                "getGuideRollup", "Roll up a guide across its sessions", "guides",
                {"200": {"description": "The roll-up (JSON), or a CSV or XLSX file of it.",
                         "headers": _download_headers(),
                         "content": {JSON_TYPE: {"schema": _ref("Rollup")},
                                     CSV_TYPE: {"schema": _string()},
                                     XLSX_TYPE: {"schema": _string(contentMediaType=XLSX_TYPE)}}}},
                _errors(401, 404, 422, 429),
                description="Every session of the guide the caller may see. `format=json` "
                "(the default), the `unit`, `from` and `to` filters and `tags` are additive.",
                parameters=[
                    _format_param(["json", "csv", "xlsx"], "json"),
                    {"name": "unit", "in": "query", "required": False, "schema": _string(),
                     "description": "Additive: only sessions of this unit."},
                    {"name": "from", "in": "query", "required": False, "schema": _string(format="date"),
                     "description": "Additive: only sessions started on or after this day (UTC)."},
                    {"name": "to", "in": "query", "required": False, "schema": _string(format="date"),
                     "description": "Additive: only sessions started on or before this day (UTC)."},
                ],
            ),
        },
        "/sessions": {
            "get": _op("listSessions", "List sessions", "sessions",
                       _ok("The caller's sessions (all of them for an organiser), newest first.",
                           {"type": "array", "items": _ref("Session")}),
                       _errors(*everyone), contract="additive"),
            "post": _op("createSession", "Create a session from a guide", "sessions",
                        _ok("The new, waiting session.", _ref("Session"), 201),
                        _errors(401, 404, 413, 422, 429),
                        description="The session keeps a snapshot of the guide: later edits of the guide "
                        "never change it. An unknown `guide_id` answers 404.",
                        requestBody=_body("SessionCreate")),
        },
        "/sessions/{meeting_id}": {
            "parameters": [meeting_id],
            "get": _op("getSession", "Get a session", "sessions", _ok("The session.", _ref("Session")),
                       _errors(*mine)),
            "delete": _op("deleteSession", "Delete a session for good", "sessions",
                          {"204": {"description": "Deleted with its participants, votes, comments and "
                                                  "conclusions."}},
                          _errors(*mine), contract="additive"),
        },
        "/sessions/{meeting_id}/state": {
            "parameters": [meeting_id],
            "get": _op("getSessionState", "Get a session's state", "sessions",
                       _ok("The state object (without `me`).", _ref("State")), _errors(*mine)),
        },
        "/sessions/{meeting_id}/control": {
            "parameters": [meeting_id],
            "post": _op("controlSession", "Apply a control action", "sessions",
                        _ok("The state after the action (also sent as `state` to every socket).",
                            _ref("State")),
                        _errors(401, 403, 404, 409, 413, 422, 429),
                        description="Moving to another item closes voting and hides results on the one left. "
                        "An action that does not fit the state (voting on a non-consideration, `next` past "
                        "the end, anything after `end`) answers 409; an unknown action or a missing `index` "
                        "with `goto` answers 422.",
                        requestBody=_body("ControlRequest")),
        },
        "/sessions/{meeting_id}/results": {
            "parameters": [meeting_id],
            "get": _op("getSessionResults", "Get a session's results", "sessions",
                       _ok("The JSON export.", _ref("Results")), _errors(*mine)),
        },
        "/sessions/{meeting_id}/export": {
            "parameters": [meeting_id],
            "get": _op(
                "exportSession", "Download a session's results", "sessions",
                {"200": {"description": "The file (as an attachment).",
                         "headers": _download_headers(),
                         "content": {CSV_TYPE: {"schema": _string()},
                                     XLSX_TYPE: {"schema": _string(contentMediaType=XLSX_TYPE)},
                                     JSON_TYPE: {"schema": _ref("Results")}}}},
                _errors(401, 403, 404, 422, 429),
                description="CSV is UTF-8 with a BOM: one table of items, a blank line, one table of comments. "
                "Without `format` the file is JSON (additive default).",
                parameters=[_format_param(EXPORT_FORMATS, "json")],
            ),
        },
        "/sessions/{meeting_id}/comments/{comment_id}": {
            "parameters": [meeting_id, comment_id],
            "post": _op("moderateComment", "Hide, unhide, pin or unpin a comment", "sessions",
                        _ok("The comment after the change (also sent to the room).", _ref("Comment")),
                        _errors(401, 403, 404, 413, 422, 429), contract="additive",
                        requestBody=_body("ModerateRequest")),
        },
        "/sessions/{meeting_id}/items/{item_id}/conclusion": {
            "parameters": [meeting_id, item_id],
            "put": _op("putConclusion", "Save the group's conclusion on an item", "sessions",
                       _ok("The saved conclusion.", _ref("Conclusion")),
                       _errors(401, 403, 404, 413, 422, 429), contract="additive",
                       requestBody=_body("ConclusionRequest")),
        },
        "/openapi.json": {
            "get": _op("getOpenApi", "This document", "meta",
                       _ok("The OpenAPI document.", {"type": "object"}), {}, security=[],
                       description="Public."),
        },
        "/healthz": {
            "servers": [{"url": base_url, "description": "Outside the /api/v1 prefix."}],
            "get": _op("getHealth", "Health check", "meta",
                       {"200": {"description": "The database answers.",
                                "content": _json(_ref("Health"))},
                        "503": {"description": "The database does not answer (`{\"status\": \"unavailable\"}`).",
                                "content": _json(_ref("Health"))}},
                       {}, security=[], description="Public."),
        },
    }


def document(base_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of REST API v1.

    `base_url` is the public root of the deployment (e.g. ``https://dialog.example.org``); the
    API's server is ``base_url + "/api/v1"`` and every path is relative to it, except `/healthz`,
    which overrides the server with ``base_url`` itself. Every call builds a fresh dict.
    """
    base_url = base_url.rstrip("/")
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Dialogrum REST API",
            "version": "1",
            "summary": "Guides, sessions, live control and results of Dialogrum meetings.",
            "description": "JSON in and out. Every operation needs `Authorization: Bearer <api token>` "
            "(create one with `dialogrum token create --email E`) except `/openapi.json` and `/healthz`. "
            "Errors answer `{\"error\", \"message\"}` with a 4xx status. Operations marked "
            "`x-dialogrum-contract: additive` extend the v1 contract. The realtime (Socket.IO) protocol "
            "is described in docs/api.md.",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": base_url + API_PREFIX}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "guides", "description": "The guide library and roll-ups."},
            {"name": "sessions", "description": "Sessions: create, control, results."},
            {"name": "meta", "description": "Public endpoints."},
        ],
        "paths": _paths(base_url),
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "An API token from `dialogrum token create --email E`."},
            },
            "schemas": _schemas(),
            "responses": _responses(),
        },
    }
