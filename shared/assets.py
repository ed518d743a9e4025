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


def _accepts_gzip() -> bool:
    # "gzip;q=0" refuses it; anything else naming gzip accepts it.
    for part in request.headers.get("Accept-Encoding", "").split(","):
        token, _, params = part.strip().partition(";")
        if token.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


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
    if (response.status_code != 200 or "Range" in request.headers or stat.st_size < MIN_SIZE
            or not mimetype.startswith(COMPRESSIBLE) or not _accepts_gzip()):
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
