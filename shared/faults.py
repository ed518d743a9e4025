"""How the app answers what goes wrong: a request id per request, input that cannot be used
refused as a 4xx naming the field, error pages, and the one log line of a real 500.

- Every request gets an id (`X-Request-ID`: the proxy's when it trusts the proxy and the value is
  sane, else a fresh one), sent back in the same header.
- A path value no query can carry (NUL, a lone surrogate, a control character) or an integer the
  databases cannot store is 404: nothing can live there. A form or query field holding NUL or a
  lone surrogate is 400 naming the field (PostgreSQL refuses NUL outright, UTF-8 the surrogate).
  The REST API does the same through its models (422 naming the field, 404 for paths).
- A real 500 is logged once, with the request id, and answers `{"error": "server_error",
  "message", "request_id"}` under /api/, a styled page in the reader's language that shows the id
  elsewhere. Other HTTP errors get the same page (or the API's JSON body), keeping their headers
  (`Allow` on a 405).
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, MethodNotAllowed, NotFound

from shared.errors import STATUS, DialogrumError
from shared.ids import MAX_INT
from shared.logs import safe_path
from shared.messages import message_for
from shared.text import DROPPED, unstorable_character

log = logging.getLogger("dialogrum.errors")

#: An id a proxy may hand us (nginx's $request_id is 32 hex digits).
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
#: The API's error code for each HTTP status it can answer outside its own rules.
API_CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "invalid",
             413: "too_large", 429: "rate_limited"}


class UnusableInput(BadRequest):
    """A form or query field holds a character no database can take."""

    def __init__(self, field: str, character: str) -> None:
        super().__init__(f"{field}: {character}")
        self.field = field
        self.character = character


class App(Flask):
    """Flask, logging an unhandled exception once, with the request id."""

    def log_exception(self, exc_info: Any) -> None:  # Flask calls this once per unhandled exception
        # The path without its secrets (a projector's key, a one-time link): shared/logs.py.
        self.logger.error("server_error request_id=%s %s %s", request_id(), request.method, safe_path(),
                          exc_info=exc_info)


def request_id() -> str:
    """This request's id (made on first use)."""
    if not has_request_context():
        return "-"
    rid = g.get("request_id")
    if rid is None:
        rid = g.request_id = new_request_id(request.headers.get("X-Request-ID", ""),
                                            bool(current_app.config.get("TRUST_PROXY")))
    return rid


def new_request_id(incoming: str, trust_proxy: bool) -> str:
    """A request's id: the proxy's `X-Request-ID` when the proxy is trusted and the id is sane,
    else a new random one (also for a socket's connect, which has no request context)."""
    return incoming if trust_proxy and _INCOMING_ID.match(incoming) else secrets.token_hex(8)


def _field_name(name: str) -> str:
    return DROPPED.sub("?", name)[:60] or "?"


def server_error_body(message: str | None = None) -> dict[str, str]:
    """The contract's 5xx body."""
    return {"error": "server_error", "message": message or message_for("server_error"), "request_id": request_id()}


def api_error(exc: HTTPException) -> Response:
    """An HTTP error under /api/ as the contract's JSON body, with the exception's headers."""
    from shared.schemas import rest

    status = exc.code or 500
    if status >= 500:
        body = server_error_body()
    else:
        code = API_CODES.get(status, "invalid")
        detail = f"{exc.field}: {exc.character}" if isinstance(exc, UnusableInput) else None
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            detail = "allowed: " + ", ".join(sorted(exc.valid_methods))
        body = {"error": code, "message": message_for(code, detail)}
    resp = jsonify(rest.dump(rest.Error, body))
    resp.status_code = status
    _copy_headers(exc, resp)
    return resp


def _copy_headers(exc: HTTPException, resp: Response) -> None:
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            resp.headers[name] = value


#: Page titles and texts per status (translated when shown).
def _page_text(status: int) -> tuple[str, str]:
    texts = {
        400: (_("The request cannot be used"), message_for("invalid")),
        403: (_("Not allowed"), message_for("forbidden")),
        404: (_("Not found"), message_for("not_found")),
        405: (_("Not possible here"), _("This address does not take this kind of request.")),
        # A public link its publisher withdrew (participant/public.py): gone on purpose, not lost.
        410: (_("Withdrawn"), _("This page was withdrawn by its publisher.")),
        413: (_("Too large"), message_for("too_large")),
        429: (_("Too many requests"), message_for("rate_limited")),
        503: (_("Temporarily unavailable"), _("The server cannot answer right now. Try again in a moment.")),
    }
    if status in texts:
        return texts[status]
    if status >= 500:
        return _("Something went wrong"), message_for("server_error")
    return _("The request cannot be used"), message_for("invalid")


def error_page(status: int, *, field: str | None = None, character: str | None = None,
               message: str | None = None, headers: HTTPException | None = None) -> Response:
    """The styled error page, in the reader's language; shows the request id on a 5xx."""
    title, text = _page_text(status)
    if message:
        text = message
    if field:
        text = _("The field “%(field)s” contains %(character)s, a character that cannot be stored.",
                 field=field, character=character)
    rid = request_id() if status >= 500 else None
    try:
        html = render_template("error.html", title=title, message=text, request_id=rid, status=status)
    except Exception:  # the page itself failed (templates, translations): plain text still tells the id
        log.exception("error page failed request_id=%s", request_id())
        html = f"{title}\n\n{text}\n" + (f"\nrequest id: {rid}\n" if rid else "")
        resp = Response(html, status=status, mimetype="text/plain")
    else:
        resp = Response(html, status=status, mimetype="text/html")
    if headers is not None:
        _copy_headers(headers, resp)
    return resp


def init_app(app: Flask) -> None:
    """Request ids, the input guards and the error handlers."""

    @app.url_value_preprocessor
    def _unusable_path_values(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        if request.blueprint == "api":  # the API names what was not found itself (shared/api.py)
            return
        for value in (values or {}).values():
            if isinstance(value, str) and DROPPED.search(value):
                raise NotFound()
            if isinstance(value, int) and not -MAX_INT <= value <= MAX_INT:
                raise NotFound()

    @app.before_request
    def _unusable_fields() -> None:
        if request.blueprint == "api":  # the API's models name the field (422)
            return
        for source in (request.args, request.form):
            for name, value in source.items(multi=True):
                for text in (name, value):
                    character = unstorable_character(text)
                    if character:
                        raise UnusableInput(_field_name(name), character)

    @app.after_request
    def _send_request_id(response: Response) -> Response:
        response.headers.setdefault("X-Request-ID", request_id())
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        if request.path.startswith("/api/"):
            return api_error(exc)
        if isinstance(exc, UnusableInput):
            return error_page(400, field=exc.field, character=exc.character, headers=exc)
        if isinstance(exc, CSRFError):
            # Flask-WTF's reason is English and technical; what the reader can do is not (issue 12, defect 4).
            return error_page(400, headers=exc, message=_(
                "The form could not be sent: the page may have been open for a long time or in another browser. "
                "Go back, reload the page and try again."))
        return error_page(exc.code, headers=exc)

    @app.errorhandler(InternalServerError)
    def _server_error(exc: InternalServerError):
        # Flask has logged it once already (App.log_exception) when it was unhandled.
        if request.path.startswith("/api/"):
            return api_error(exc)
        return error_page(500)

    @app.errorhandler(DialogrumError)
    def _refused(exc: DialogrumError):
        # Pages let a rule's refusal through only when nothing more specific fits (a store that is
        # down: "unavailable"); the API answers its own (shared/api.py).
        status = STATUS.get(exc.code, 400)
        if status >= 500:
            log.error("%s request_id=%s %s %s: %s", exc.code, request_id(), request.method, safe_path(),
                      exc.message)
        if request.path.startswith("/api/"):
            from shared.schemas import rest

            body = server_error_body(message_for(exc.code)) if status >= 500 else \
                {"error": exc.code, "message": message_for(exc.code)}
            return jsonify(rest.dump(rest.Error, body)), status
        return error_page(status, message=message_for(exc.code) if exc.code in STATUS else None)
