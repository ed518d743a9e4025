"""One download service: a session's results and a guide's roll-up as CSV, XLSX or JSON files.

The REST API, the pages and the `dialogrum export` command all call this module, so the same
export has the same bytes, the same file name and the same headers wherever it is fetched
(`shared.export` renders the bytes; this module names, types and wraps them).

* File names: `<session title> <code>.<ext>` for a session, `<guide title> rollup.<ext>` for a
  roll-up. The ASCII name (`shared.export.filename`) is the `filename=` fallback; the name with its
  letters kept (Møde i Århus) goes in RFC 5987's `filename*=UTF-8''…`, which every current browser
  prefers.
* Content types: `text/csv; charset=utf-8` and `application/json; charset=utf-8` (exactly one
  charset each, as docs/api.md documents them), and the OOXML type for XLSX.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from shared import export, reports
from shared.errors import DialogrumError

if TYPE_CHECKING:
    import sqlalchemy.orm as so
    from flask import Response

    from shared.models import Meeting

#: the formats every export comes in
FORMATS = ("csv", "xlsx", "json")

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json; charset=utf-8",
}

_SESSION_RENDERERS = {"csv": export.session_csv, "xlsx": export.session_xlsx, "json": export.session_json}
# session_json is plain pretty-printed UTF-8 JSON of any dict, so the roll-up's JSON file uses it too.
_ROLLUP_RENDERERS = {"csv": export.rollup_csv, "xlsx": export.rollup_xlsx, "json": export.session_json}

# Characters no file system or browser keeps in a name: controls, path separators, Windows' reserved.
_NOT_IN_NAMES_RE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
_MAX_NAME = 80


@dataclass(frozen=True)
class Download:
    """A file to hand out: its bytes, its names and its content type."""

    body: bytes
    #: ASCII-only, safe on every file system (`shared.export.filename`)
    filename: str
    #: the same name with its letters kept, for `filename*`
    unicode_filename: str
    content_type: str

    @property
    def disposition(self) -> str:
        """`Content-Disposition`: an attachment, ASCII fallback plus the RFC 5987 UTF-8 name."""
        encoded = quote(self.unicode_filename, safe="")
        return f"attachment; filename=\"{self.filename}\"; filename*=UTF-8''{encoded}"


def check_format(fmt: object) -> str:
    """`fmt` if it is one of FORMATS, else a 422 `invalid` naming the choices."""
    if fmt not in FORMATS:
        raise DialogrumError("invalid", "format must be csv, xlsx or json")
    return str(fmt)


def unicode_filename(base: str, ext: str) -> str:
    """A file name that keeps the title's letters (NFC) but nothing a file system refuses; falls
    back to the ASCII name when nothing is left."""
    stem = _NOT_IN_NAMES_RE.sub("-", unicodedata.normalize("NFC", base))
    stem = " ".join(stem.split()).strip(" .-")[: _MAX_NAME - len(ext) - 1].rstrip(" .-")
    return f"{stem}.{ext}" if stem else export.filename(base, ext)


def _download(body: bytes, base: str, fmt: str) -> Download:
    return Download(body=body, filename=export.filename(base, fmt), unicode_filename=unicode_filename(base, fmt),
                    content_type=CONTENT_TYPES[fmt])


def session_file(db: so.Session, meeting: Meeting, fmt: str) -> Download:
    """One session's results as a file (conclusions and every comment, hidden ones flagged)."""
    fmt = check_format(fmt)
    body = _SESSION_RENDERERS[fmt](reports.session_results(db, meeting))
    return _download(body, f"{meeting.title} {meeting.code}", fmt)


def rollup_file(rollup: dict[str, Any], fmt: str) -> Download:
    """A guide's roll-up (`shared.rollup.rollup`) as a file."""
    fmt = check_format(fmt)
    return _download(_ROLLUP_RENDERERS[fmt](rollup), f"{rollup['guide']['title']} rollup", fmt)


def response(download: Download) -> Response:
    """The Flask response that hands `download` out as an attachment."""
    from flask import Response

    resp = Response(download.body, content_type=download.content_type)
    resp.headers["Content-Disposition"] = download.disposition
    # Results carry participants' comments: no shared cache keeps a copy.
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
