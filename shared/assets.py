"""Static files for a hall of phones: content-versioned URLs, long cache lifetimes, gzip.

A thousand phones that scan the QR code at once each load the phone page's stylesheet and three
scripts through one Wi-Fi and one Python process (issue 14). So:

- every `url_for` of a static file carries `?v=<hash of the file's bytes>`; a request with the
  current hash is cached for a year (`immutable`), anything else for an hour, and a new release
  changes the hash, so no phone keeps a stale script;
- a client that accepts gzip gets the file compressed (once per process and file version, kept in
  memory: the files are small and few), which brings a phone's first load from about 88 KB to
  under 40 KB over the wire.

Compressing here rather than in a build step keeps a wheel, a checkout and `make run` alike, and
costs each process a few milliseconds once. A proxy in front (docs/deploy.md) may compress too:
it passes the already compressed answer through.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
from functools import lru_cache
from typing import Any

from flask import Flask, Response, current_app, request

#: A year: the URL changes whenever the file does.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Static URLs without the current version (an old page, a hand-typed address).
SHORT = "public, max-age=3600"
#: Smaller files gain nothing from compression (the headers cost more).
MIN_SIZE = 512
COMPRESSIBLE = ("text/", "application/javascript", "image/svg+xml", "application/json")


def _is_static(endpoint: str) -> bool:
    return endpoint == "static" or endpoint.endswith(".static")


def _static_folder(app: Flask, endpoint: str) -> str | None:
    """The folder a static endpoint (`static` or `<blueprint>.static`) serves from."""
    if endpoint == "static":
        return app.static_folder
    name, _, rest = endpoint.rpartition(".")
    blueprint = app.blueprints.get(name) if rest == "static" else None
    return blueprint.static_folder if blueprint is not None else None


def _file_path(app: Flask, endpoint: str, filename: str) -> str | None:
    folder = _static_folder(app, endpoint)
    if not folder:
        return None
    from werkzeug.security import safe_join

    path = safe_join(folder, filename)
    return path if path and os.path.isfile(path) else None


@lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    # Keyed on the file's mtime and size too: `make run` picks up an edited script without a restart.
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()[:12]


@lru_cache(maxsize=256)
def _gzipped(path: str, mtime_ns: int, size: int) -> bytes:
    with open(path, "rb") as fh:
        # mtime=0: the same bytes on every process, so an ETag or a proxy cache agrees across them.
        return gzip.compress(fh.read(), compresslevel=9, mtime=0)


def version(app: Flask, endpoint: str, filename: str) -> str | None:
    """The content hash of a static file, or None when there is no such file."""
    path = _file_path(app, endpoint, filename)
    if path is None:
        return None
    stat = os.stat(path)
    return _digest(path, stat.st_mtime_ns, stat.st_size)


def _add_version(endpoint: str, values: dict[str, Any]) -> None:
    if _is_static(endpoint) and "v" not in values and "filename" in values:
        digest = version(current_app, endpoint, values["filename"])
        if digest:
            values["v"] = digest


def _compresses(size: int, mimetype: str, accept_encoding: str) -> bool:
    """Whether a static file is sent gzipped: big enough to gain, a text type, and gzip accepted."""
    return size >= MIN_SIZE and mimetype.startswith(COMPRESSIBLE) and _accepts(accept_encoding)


def _finish(response: Response) -> Response:
    """Cache headers and gzip for a static file's answer."""
    endpoint = request.endpoint or ""
    if not _is_static(endpoint):
        return response
    filename = (request.view_args or {}).get("filename", "")
    path = _file_path(current_app, endpoint, filename)
    if path is None or response.status_code not in (200, 304):
        return response
    stat = os.stat(path)
    current = request.args.get("v") == _digest(path, stat.st_mtime_ns, stat.st_size)
    response.headers["Cache-Control"] = IMMUTABLE if current else SHORT
    response.vary.add("Accept-Encoding")
    mimetype = response.mimetype or ""
    if (response.status_code != 200 or "Range" in request.headers
            or not _compresses(stat.st_size, mimetype, request.headers.get("Accept-Encoding", ""))):
        return response
    body = _gzipped(path, stat.st_mtime_ns, stat.st_size)
    response.close()  # the file send_file opened is not read now
    response.direct_passthrough = False
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Content-Length"] = str(len(body))
    etag, weak = response.get_etag()
    if etag:
        # A compressed representation is a different entity (RFC 9110 8.8.3).
        response.set_etag(f"{etag}-gz", weak=weak)
    return response


def init_app(app: Flask) -> None:
    """Version every static URL and compress static answers."""
    app.url_defaults(_add_version)
    app.after_request(_finish)


class StaticFiles:
    """WSGI middleware: a static file asked for at its current version answered from memory,
    before Flask.

    A hall of phones scanning the QR code at once makes five static requests per phone; through
    Flask each paid a request context, the session, the translations' set-up, the after-request
    hooks and a log line, and a first load cost the server several times the bare stack's CPU
    (issue 14, the page phase). A request here is only `GET`/`HEAD` of `/static/...?v=<the file's
    current hash>`, the URL every page names, whose answer never changes: the whole file (gzip when
    accepted), cached for a year, with the content hash as ETag (`If-None-Match` answers 304) and
    the headers every answer carries. Anything else, an old or missing version, a `Range`, goes to
    Flask as before. Answers are logged at DEBUG, like the health probes: a hall's five thousand
    file loads would drown the log's INFO lines.
    """

    def __init__(self, app: Flask, wsgi_app: Any, headers: Any) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        #: `headers(secure) -> [(name, value)]`: the security headers of every answer (shared/app.py)
        self.headers = headers
        self._endpoints: list[tuple[str, str]] | None = None

    def _prefixes(self) -> list[tuple[str, str]]:
        """(URL prefix, static endpoint) of the app and each blueprint with static files; built on
        first use, as the blueprints are registered after the middleware is."""
        if self._endpoints is None:
            found = [(self.app.static_url_path, "static")]
            found += [(bp.static_url_path, f"{name}.static") for name, bp in self.app.blueprints.items()
                      if bp.static_folder and bp.static_url_path]
            self._endpoints = [(url.rstrip("/") + "/", endpoint) for url, endpoint in found if url]
        return self._endpoints

    def _find(self, path: str) -> str | None:
        for prefix, endpoint in self._prefixes():
            if path.startswith(prefix):
                found = _file_path(self.app, endpoint, path[len(prefix):])
                if found is not None:
                    return found
        return None

    def __call__(self, environ: dict, start_response: Any) -> Any:
        method = environ.get("REQUEST_METHOD")
        query = environ.get("QUERY_STRING", "")
        if method not in ("GET", "HEAD") or not query.startswith("v=") or "HTTP_RANGE" in environ:
            return self.wsgi_app(environ, start_response)
        path = environ.get("PATH_INFO", "")
        found = self._find(path) if path.startswith("/static/") else None
        if found is None:
            return self.wsgi_app(environ, start_response)
        stat = os.stat(found)
        digest = _digest(found, stat.st_mtime_ns, stat.st_size)
        if query != f"v={digest}":
            return self.wsgi_app(environ, start_response)
        return self._answer(environ, start_response, (found, stat, digest))

    def _answer(self, environ: dict, start_response: Any, hit: tuple[str, os.stat_result, str]) -> list[bytes]:
        import mimetypes

        from werkzeug.http import parse_etags
        from werkzeug.utils import get_content_type

        found, stat, digest = hit
        method = environ["REQUEST_METHOD"]
        mimetype = mimetypes.guess_type(found)[0] or "application/octet-stream"
        packed = _compresses(stat.st_size, mimetype, environ.get("HTTP_ACCEPT_ENCODING", ""))
        etag = f"{digest}-gz" if packed else digest
        headers = [("Cache-Control", IMMUTABLE), ("Vary", "Accept-Encoding"), ("ETag", f'"{etag}"')]
        headers += self.headers(environ.get("wsgi.url_scheme") == "https")
        from shared.faults import new_request_id

        headers.append(("X-Request-ID", new_request_id(environ.get("HTTP_X_REQUEST_ID", ""),
                                                       bool(self.app.config.get("TRUST_PROXY")))))
        if parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains(etag):
            status, body = "304 Not Modified", b""
        else:
            if packed:
                body = _gzipped(found, stat.st_mtime_ns, stat.st_size)
                headers.append(("Content-Encoding", "gzip"))
            else:
                with open(found, "rb") as fh:
                    body = fh.read()
            status = "200 OK"
            headers += [("Content-Type", get_content_type(mimetype, "utf-8")), ("Content-Length", str(len(body)))]
        start_response(status, headers)
        self._count(status[:3], environ, method)
        return [b"" if method == "HEAD" else body]

    def _count(self, status: str, environ: dict, method: str) -> None:
        metrics = self.app.extensions.get("dialogrum.metrics")
        if metrics is not None:
            metrics.requests.labels(status).inc()
        from shared.logs import access_log as log

        if log.isEnabledFor(logging.DEBUG):
            path = f"{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}"
            log.debug("%s %s %s", method, path, status, extra={"event": "http_request", "method": method,
                                                              "path": path, "status": int(status)})


def _accepts(header: str) -> bool:
    """Whether an Accept-Encoding header takes gzip ("gzip;q=0" refuses it)."""
    for part in header.split(","):
        token, _, params = part.strip().partition(";")
        if token.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False
