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
* The language of a file (`style`): without one, the stable English column names and values that
  integrations read (comma-separated CSV, UTC timestamps). With one (the pages pass theirs, the
  API and the CLI take `language`), every column, sheet and value is in that language, Swedish
  and Danish CSV is separated by semicolons with decimal commas as Excel in those locales expects,
  and times are wall-clock times in the configured zone. XLSX times are always in that zone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
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

#: the formats every export comes in; `zip` holds one CSV file per table (issue 12, gap 12)
FORMATS = ("csv", "xlsx", "json", "zip")

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json; charset=utf-8",
    "zip": "application/zip",
}

_SESSION_RENDERERS = {"csv": export.session_csv, "xlsx": export.session_xlsx, "json": export.session_json,
                      "zip": export.session_zip}
# session_json is plain pretty-printed UTF-8 JSON of any dict, so the roll-up's JSON file uses it too.
_ROLLUP_RENDERERS = {"csv": export.rollup_csv, "xlsx": export.rollup_xlsx, "json": export.session_json,
                     "zip": export.rollup_zip}
#: the tables a CSV file can hold alone (`table=`)
SESSION_TABLES = export.SESSION_TABLES
ROLLUP_TABLES = export.ROLLUP_TABLES
#: the CSV separators one may ask for instead of the language's (`?dialect=`)
DIALECTS = ("comma", "semicolon")

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
        raise DialogrumError("invalid", "format must be csv, xlsx, json or zip")
    return str(fmt)


def check_table(table: object, tables: tuple[str, ...]) -> str | None:
    """`table` if it is None or one of `tables` (the export's tables), else a 422 `invalid`."""
    if table is not None and table not in tables:
        raise DialogrumError("invalid", "table must be one of " + ", ".join(tables))
    return table  # type: ignore[return-value]


def unicode_filename(base: str, ext: str) -> str:
    """A file name that keeps the title's letters (NFC) but nothing a file system refuses; falls
    back to the ASCII name when nothing is left."""
    stem = _NOT_IN_NAMES_RE.sub("-", unicodedata.normalize("NFC", base))
    stem = " ".join(stem.split()).strip(" .-")[: _MAX_NAME - len(ext) - 1].rstrip(" .-")
    return f"{stem}.{ext}" if stem else export.filename(base, ext)


def _download(body: bytes, base: str, fmt: str) -> Download:
    return Download(body=body, filename=export.filename(base, fmt), unicode_filename=unicode_filename(base, fmt),
                    content_type=CONTENT_TYPES[fmt])


#: the languages a file can speak; Excel in these locales reads CSV with semicolons and decimal commas
LANGUAGES = ("sv", "da", "en")
_SEMICOLON_LOCALES = ("sv", "da")


def style(language: str | None, tz: dt.tzinfo | None = None, dialect: str | None = None) -> export.Style:
    """How a file speaks: `export.PLAIN` (with `tz` for XLSX times) without a language, else every
    column, sheet and value in `language` (a request's translations: call it in an app context).

    `dialect` (`DIALECTS`) overrides the language's CSV separators: `comma` for a comma and a
    decimal point, `semicolon` for a semicolon and a decimal comma, whatever the language.
    """
    if language not in LANGUAGES:
        base = export.Style(tz=tz)
        return _with_dialect(base, dialect)
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from shared import guides, templating
    from shared.i18n import LANGUAGE_NAMES

    with force_locale(language):
        labels = guides.VOTE_LABELS[language]
        names = templating.names()
        words = {
            # columns of the items, the comments and the roll-up
            "position": _("No."), "section": _("Section"), "tags": _("Tags"), "kind": _("Kind"),
            "text": _("Text"), "yes": labels["yes"], "no": labels["no"], "unsure": labels["unsure"],
            "voters": _("Voters"), "percent_yes": _("%(yes)s (%%)", yes=labels["yes"]),
            "comments": _("Comments"), "conclusion": _("Conclusion"), "item_position": _("Item no."),
            "item_text": _("Item"), "comment_id": _("Comment no."), "created_at": _("Written at"),
            "pinned": _("Pinned"), "hidden": _("Hidden"), "item_id": _("Item id"), "likes": _("Thumbs-up"),
            "approved": _("Approved"),
            "session_id": _("Session id"), "session_title": _("Session"), "unit": _("Unit"),
            "started_at": _("Started at"), "title": _("Title"), "participants": _("Participants"),
            # sheets, and the session's facts
            "Items": _("Items"), "Comments": _("Comments"), "Session": _("Session"), "Sessions": _("Sessions"),
            "key": _("Fact"), "value": _("Value"), "code": _("Code"), "guide": _("Guide"),
            "language": _("Language"), "status": _("Status"), "started": _("Started at"),
            "ended": _("Ended at"), "facilitator": _("Facilitator"), "time_zone": _("Time zone"),
            "total": _("Total"),
            # the roll-up's tables and sheets (issue 12, gap 11)
            "tag": _("Tag"), "Conclusions": _("Conclusions"), "Tags": _("Tags"), "Chart": _("Chart"),
            "Chart data": _("Chart data"), "votes": _("Votes"),
            "chart_title": _("%(yes)s and %(no)s per consideration", yes=labels["yes"], no=labels["no"]),
            # the CSV files of a ZIP
            # (`comments` and `tags` are the column names above)
            "items": _("Items"), "sessions": _("Sessions"),
            # results entered by hand (issue 11): the hands within each count, and the session's mark
            "hands_yes": _("Hands: %(choice)s", choice=labels["yes"]),
            "hands_no": _("Hands: %(choice)s", choice=labels["no"]),
            "hands_unsure": _("Hands: %(choice)s", choice=labels["unsure"]),
            "entered_by_hand": _("Entered by hand"), "held_on": _("Held on"),
            # values
            "true": labels["yes"], "false": labels["no"],
            **names["kind_names"], **names["status_names"],
            **{f"language:{code}": name for code, name in LANGUAGE_NAMES.items()},
        }
    semicolons = language in _SEMICOLON_LOCALES
    return _with_dialect(export.Style(words={k: str(v) for k, v in words.items()}, delimiter=";" if semicolons else ",",
                                      decimal="," if semicolons else ".", tz=tz or dt.UTC), dialect)


def _with_dialect(base: export.Style, dialect: str | None) -> export.Style:
    if dialect == "comma":
        return dataclasses.replace(base, delimiter=",", decimal=".")
    if dialect == "semicolon":
        return dataclasses.replace(base, delimiter=";", decimal=",")
    return base


def session_file(db: so.Session, meeting: Meeting, fmt: str, *, language: str | None = None,
                 tz: dt.tzinfo | None = None, table: str | None = None, dialect: str | None = None) -> Download:
    """One session's results as a file (conclusions and every comment with its text, hidden ones
    flagged), in `language` if given (`style`); XLSX times in `tz`.

    A CSV holds one table when `table` names one (`export.SESSION_TABLES`; the file name says
    which), else the documented two tables; `zip` holds each table as a CSV file of its own.
    """
    fmt = check_format(fmt)
    table = check_table(table, export.SESSION_TABLES) if fmt == "csv" else None
    results = reports.session_results(db, meeting)
    st = _style_for(fmt, language, tz, dialect)
    if fmt == "json":
        body = export.session_json(results)
    elif table is not None:
        body = export.session_csv(results, st, table)
    else:
        body = _SESSION_RENDERERS[fmt](results, st)
    return _download(body, _with_table(f"{meeting.title} {meeting.code}", table, st), fmt)


def rollup_file(rollup: dict[str, Any], fmt: str, *, language: str | None = None,
                tz: dt.tzinfo | None = None, table: str | None = None, dialect: str | None = None) -> Download:
    """A guide's roll-up (`shared.rollup.rollup`) as a file, in `language` if given: a CSV holds
    one table (`table`, one of `export.ROLLUP_TABLES`; the items by default), `zip` all of them."""
    fmt = check_format(fmt)
    table = check_table(table, export.ROLLUP_TABLES) if fmt == "csv" else None
    st = _style_for(fmt, language, tz, dialect)
    if fmt == "json":
        body = export.session_json(rollup)
    elif fmt == "csv":
        body = export.rollup_csv(rollup, st, table)
    else:
        body = _ROLLUP_RENDERERS[fmt](rollup, st)
    return _download(body, _with_table(f"{rollup['guide']['title']} rollup", table, st), fmt)


def _with_table(base: str, table: str | None, st: export.Style) -> str:
    """The file's name, with the table's name when it holds one table of several."""
    return f"{base} {st.say(table)}" if table else base


def _style_for(fmt: str, language: str | None, tz: dt.tzinfo | None, dialect: str | None = None) -> export.Style:
    # The plain CSV keeps UTC timestamps (stable for integrations); a workbook has no zones, so
    # its cells hold the configured zone's wall-clock time, as the report shows them.
    plain_csv = fmt in ("csv", "zip") and language not in LANGUAGES
    return style(language, None if plain_csv else tz, dialect if dialect in DIALECTS else None)


def response(download: Download) -> Response:
    """The Flask response that hands `download` out as an attachment."""
    from flask import Response

    resp = Response(download.body, content_type=download.content_type)
    resp.headers["Content-Disposition"] = download.disposition
    # Results carry participants' comments: no shared cache keeps a copy.
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
