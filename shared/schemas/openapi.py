"""The OpenAPI 3.1 document of REST API v1, generated from the app's URL map and the models.

Each API view carries an `operation(...)`: its summary, the models of its body, query and answers,
and the error statuses beyond those the code implies. The same decorator parses the body and query
through their models and hands them to the view, so what is documented is what is checked. The
document is built from `app.url_map`: a route is documented once it exists, and nothing is
documented that is not routed. Security comes from the code too (`token_required` marks a view).

Operations and fields beyond the v1 contract carry `x-dialogrum-contract: additive`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from shared.errors import STATUS
from shared.schemas.errors import RequestError
from shared.schemas.fields import MAX_INT
from shared.schemas.rest import Error, Health

OPENAPI_VERSION = "3.1.0"
API_PREFIX = "/api/v1"
JSON = "application/json"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")

#: The error responses, by status: component name and what it means.
ERROR_RESPONSES = {
    401: ("Unauthorized", "No `Authorization: Bearer <token>` header, or the token is unknown or revoked."),
    403: ("Forbidden", "The session is not yours (a facilitator manages only their own sessions), or the guide is "
                       "not one you may change (built in, or another facilitator's)."),
    404: ("NotFound", "Unknown guide, session, item or comment."),
    409: ("Conflict", "The action does not fit the session's state (or the session changed concurrently); a guide "
                      "saved on top of a version somebody replaced, or deleted after a session used it."),
    413: ("TooLarge", "The request body is larger than 1 MB."),
    422: ("Invalid", "The request is not valid: malformed JSON, a missing or wrongly typed field, a text over "
                     "its limit, an unknown `format`. `errors` names every place."),
    429: ("RateLimited", "More than 600 API requests a minute with this user's tokens."),
    500: ("ServerError", "A fault of the server: it is logged with the `request_id` the body carries (also in the "
                         "`X-Request-ID` header)."),
    503: ("Unavailable", "A store the request needs (the rate limits' Redis) does not answer: try again shortly. "
                         "Sockets say `unavailable` for the same."),
}

PATH_PARAMS = {
    "meeting_id": "The session's id (not its join code).",
    "guide_id": "The guide's id.",
    "comment_id": "The comment's id.",
    "item_id": "An item id of the session's guide.",
}


@dataclass(frozen=True)
class Reply:
    """A successful answer: a model (or `list[Model]`), or files of other media types."""

    description: str
    model: Any = None
    files: tuple[str, ...] = ()  # media types of downloads (CSV, XLSX)
    schema: dict[str, Any] | None = None  # a JSON answer no model describes (this document)
    #: "validation": the answer is a document the API also accepts, described as input (an exported
    #: guide leaves out the optional fields a stored one fills in)
    mode: str = "serialization"

    @property
    def download(self) -> bool:
        """An attachment with a `Content-Disposition` header."""
        return bool(self.files)


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one view."""

    operation_id: str
    summary: str
    tag: str
    replies: dict[int, Reply]
    errors: tuple[int, ...] = ()
    body: type[BaseModel] | None = None
    body_types: tuple[str, ...] = ()
    query: type[BaseModel] | None = None
    contract: str = "v1"
    description: str | None = None
    servers: tuple[str, ...] = field(default=())  # "base": served outside the /api/v1 prefix


def read_json() -> object:
    """The request's JSON body; refuses a missing, malformed or absurdly nested one with 422."""
    if not request.is_json:
        raise RequestError.one("body", "not_json")
    try:
        return json.loads(request.get_data())
    except RecursionError:
        raise RequestError.one("body", "too_deep") from None
    except ValueError:  # also invalid UTF-8
        raise RequestError.one("body", "not_json") from None


def parse(model: type[BaseModel], data: object, *, root: str) -> BaseModel:
    """`data` validated by `model`, or a 422 naming every place."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestError.from_validation(exc, model, root=root) from None


def operation(operation_id: str, summary: str, tag: str, replies: dict[int, Reply], *, parse_body: bool = True,
              **details: Any) -> Callable:
    """Document a view and validate its input: the view gets `body=` and `query=` as models.

    `errors` lists the statuses the view itself answers (403, 404, 409); those the code implies
    (401 and 429 with a token, 413 and 422 with a body, 422 with a query) are added. With
    `parse_body=False` the body is documented but the view reads it itself (a guide document).
    """
    op = Operation(operation_id, summary, tag, replies, **details)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if op.body is not None and parse_body:
                kwargs["body"] = parse(op.body, read_json(), root="body")
            if op.query is not None:
                kwargs["query"] = parse(op.query, request.args.to_dict(), root="query")
            return view(*args, **kwargs)

        wrapper.openapi = op  # type: ignore[attr-defined]
        return wrapper

    return decorate


#: Operations of routes outside the API blueprint, by endpoint.
OUTSIDE = {
    "healthz": Operation(
        "getHealth", "Health check", "meta",
        {200: Reply("The database (and, where configured, the message queue) answers.", Health),
         503: Reply("Something does not answer.", Health)},
        description="Public.", servers=("base",),
    ),
}


# ---------------------------------------------------------------------------------------------
# The document


class _Schemas(GenerateJsonSchema):
    """pydantic's JSON Schema without a `title` on every property (the name says it), and without
    `default: null` where null is not allowed (an absent field is not a null one)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> dict[str, Any]:
        out = super().default_schema(schema)
        kinds = out.get("type")
        if out.get("default", 0) is None and kinds is not None and "null" not in (
                kinds if isinstance(kinds, list) else [kinds]):
            del out["default"]
        return out


_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _path(rule: str) -> tuple[str, list[tuple[str, str]]]:
    """`/a/<int:x>/<y>` -> (`/a/{x}/{y}`, [("x", "int"), ("y", "default")])."""
    params = [(name, converter or "default") for converter, name in _PARAM.findall(rule)]
    return _PARAM.sub(r"{\2}", rule), params


def _codes(status: int) -> list[str]:
    if status >= 500:  # contract v1.1: every 5xx body says server_error, with a request_id
        return ["server_error"]
    return sorted(code for code, st in STATUS.items() if st == status)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


class _Builder:
    """Collects the models an app's operations use and builds their document."""

    def __init__(self, operations: list[tuple[str, str, Operation, bool, list[tuple[str, str]]]]) -> None:
        self.operations = operations
        wanted: list[tuple[type[BaseModel], str]] = [(Error, "serialization")]
        for entry in operations:
            op = entry[2]
            if op.body is not None:
                wanted.append((op.body, "validation"))
            wanted += [(self._model(reply.model), reply.mode) for reply in op.replies.values() if reply.model]
        unique = list(dict.fromkeys(wanted))
        self.refs, defs = models_json_schema(unique, ref_template="#/components/schemas/{model}",
                                             schema_generator=_Schemas)
        self.schemas = defs.get("$defs", {})
        self.schemas["Error"]["description"] += " Codes by status: " + "; ".join(
            f"{st}: {', '.join(_codes(st))}" for st in sorted(ERROR_RESPONSES)) + \
            " (a 503 when a store the request needs is unavailable)."

    @staticmethod
    def _model(shape: Any) -> type[BaseModel]:
        return shape.__args__[0] if getattr(shape, "__origin__", None) is list else shape

    def schema_of(self, shape: Any, mode: str) -> dict[str, Any]:
        ref = self.refs[(self._model(shape), mode)]
        return {"type": "array", "items": ref} if shape is not self._model(shape) else ref

    def query_parameters(self, query: type[BaseModel]) -> list[dict[str, Any]]:
        schema = query.model_json_schema(mode="validation", schema_generator=_Schemas)
        out = []
        for name, declared in schema["properties"].items():
            prop = dict(declared)
            description = prop.pop("description", None)
            param = {"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop}
            if description:
                param["description"] = description
            out.append(param)
        return out

    def operation(self, op: Operation, bearer: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
        if op.description:
            out["description"] = op.description
        if not bearer:
            out["security"] = []
        if op.query is not None:
            out["parameters"] = self.query_parameters(op.query)
        if op.body is not None:
            schema = self.schema_of(op.body, "validation")
            out["requestBody"] = {"required": True,
                                  "content": {media: {"schema": schema} for media in (JSON, *op.body_types)}}
        responses: dict[str, Any] = {}
        for status, reply in sorted(op.replies.items()):
            entry: dict[str, Any] = {"description": reply.description}
            content = {}
            if reply.model is not None:
                content[JSON] = {"schema": self.schema_of(reply.model, reply.mode)}
            elif reply.schema is not None:
                content[JSON] = {"schema": reply.schema}
            for media in reply.files:
                # A YAML file of a model (an exported guide) is that model written as YAML: clients parse it.
                shaped = media in YAML_TYPES and JSON in content
                content[media] = {"schema": content[JSON]["schema"] if shaped else {"type": "string",
                                                                                  "contentMediaType": media}}
            if content:
                entry["content"] = content
            if reply.download:
                entry["headers"] = {"Content-Disposition": {
                    "description": '`attachment; filename="..."`', "schema": {"type": "string"}}}
            responses[str(status)] = entry
        statuses = set(op.errors) | {500}  # any operation can meet a fault, told with its request id
        if bearer:
            statuses |= {401, 429, 503}  # 503: the rate limits' store does not answer
        if op.body is not None:
            statuses |= {413, 422}
        if op.query is not None:
            statuses.add(422)
        for status in sorted(statuses):
            responses[str(status)] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}
        out["responses"] = responses
        out["x-dialogrum-contract"] = op.contract
        return out

    def responses(self) -> dict[str, Any]:
        return {name: {"description": f"{text} Codes: {', '.join(f'`{c}`' for c in _codes(status))}.",
                       "content": {JSON: {"schema": _ref("Error")}}}
                for status, (name, text) in ERROR_RESPONSES.items()}


def operations(app: Flask) -> list[tuple[str, str, Operation, bool, list[tuple[str, str]]]]:
    """`(path, method, operation, needs a token, path parameters)` of every documented route.

    Every route under /api/v1 is listed; one without an `operation` gets a bare one (the tests
    make sure none is left so).
    """
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        op = getattr(view, "openapi", None) or OUTSIDE.get(rule.endpoint)
        if op is None and not rule.rule.startswith(API_PREFIX + "/"):
            continue
        if op is None:
            op = Operation(rule.endpoint, (view.__doc__ or rule.endpoint).strip().splitlines()[0], "undocumented",
                           {200: Reply("Undocumented.")})
        path, params = _path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((path, method.lower(), op, bool(getattr(view, "bearer", False)), params))
    return sorted(found, key=lambda entry: (entry[0], entry[1]))


def _path_parameter(name: str, converter: str) -> dict[str, Any]:
    schema: dict[str, Any] = ({"type": "integer", "minimum": 0, "maximum": MAX_INT} if converter == "int"
                              else {"type": "string", "minLength": 1})
    return {"name": name, "in": "path", "required": True, "description": PATH_PARAMS.get(name, name),
            "schema": schema}


def document(app: Flask, base_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the app's REST API.

    `base_url` is the public root of the deployment (e.g. ``https://dialog.example.org``); the
    API's server is ``base_url + "/api/v1"`` and every path is relative to it, except `/healthz`,
    which overrides the server with ``base_url`` itself. Every call builds a fresh dict.
    """
    base_url = base_url.rstrip("/")
    found = operations(app)
    builder = _Builder(found)
    paths: dict[str, Any] = {}
    for path, method, op, bearer, params in found:
        outside = "base" in op.servers
        key = path if outside else path.removeprefix(API_PREFIX)
        item = paths.setdefault(key, {})
        if outside:
            item["servers"] = [{"url": base_url, "description": "Outside the /api/v1 prefix."}]
        if params:
            item["parameters"] = [_path_parameter(name, converter) for name, converter in params]
        item[method] = builder.operation(op, bearer)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Dialogrum REST API",
            "version": "1",
            "summary": "Guides, sessions, live control and results of Dialogrum meetings.",
            "description": "JSON in and out. Every operation needs `Authorization: Bearer <api token>` "
            "(create one with `dialogrum token create --email E`) except `/openapi.json` and `/healthz`. "
            "Errors answer `{\"error\", \"message\"}` with a 4xx status; a refused body or query also lists "
            "`errors: [{\"place\", \"message\"}]`. Operations marked `x-dialogrum-contract: additive` extend "
            "the v1 contract. The realtime (Socket.IO) protocol is described in docs/api.md. This document "
            "is generated from the code's models (shared/schemas).",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": base_url + API_PREFIX}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "guides", "description": "The guide library and roll-ups."},
            {"name": "sessions", "description": "Sessions: create, control, results."},
            {"name": "campaigns", "description": "Dialogue campaigns: units asked to hold a guide by a deadline."},
            {"name": "meta", "description": "Public endpoints."},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "An API token from `dialogrum token create --email E`."},
            },
            "schemas": builder.schemas,
            "responses": builder.responses(),
        },
    }
