"""Public URLs: join links, QR codes, projector and one-time links all start from one base."""

from __future__ import annotations

from flask import current_app, request


def base_url() -> str:
    """The public base URL: `DIALOGRUM_BASE_URL`, else the one the request came in on."""
    return current_app.config.get("BASE_URL") or request.host_url.rstrip("/")


#: What browsers drop from a URL before reading it (WHATWG URL: tab and newlines anywhere, and
#: C0 controls and spaces at either end), so a check must drop them too before judging a target.
_DROPPED = str.maketrans("", "", "\t\r\n")


def same_site_path(target: object) -> str | None:
    """`target` as a path on this site (with its query and fragment), or None when a browser could
    read it as another site's address: `//host`, `/\\host`, `/<tab>/host`, `https://…`,
    `javascript:…`. The normalised form is returned, so what was checked is what is sent."""
    from urllib.parse import urlsplit

    if not isinstance(target, str) or not target or len(target) > 2000:
        return None
    cleaned = target.translate(_DROPPED).strip("".join(map(chr, range(0x21))))
    cleaned = cleaned.replace("\\", "/")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in cleaned):
        return None
    if not cleaned.startswith("/") or cleaned.startswith("//"):
        return None
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc:
        return None
    return cleaned
