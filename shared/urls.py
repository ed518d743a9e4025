"""Public URLs: join links, QR codes, projector and one-time links all start from one base."""

from __future__ import annotations

from flask import current_app, request


def base_url() -> str:
    """The public base URL: `DIALOGRUM_BASE_URL`, else the one the request came in on."""
    return current_app.config.get("BASE_URL") or request.host_url.rstrip("/")
