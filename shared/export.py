"""Render session results and guide roll-ups as CSV, XLSX and JSON files.

Everything here is a pure function of plain dicts (the contract's JSON export and Roll-up objects,
see docs / contract): no database access, no clock, no globals. The caller builds the dicts, so the
same code serves the REST export, the CLI and the facilitator's download buttons.

Two rules run through every spreadsheet cell written here:

* Comments come from anonymous participants, so any text that a spreadsheet could read as a formula
  (starting with ``=``, ``+``, ``-``, ``@``, tab or CR) gets a leading apostrophe, in CSV and XLSX
  alike, and XLSX strings are always stored with the string type, never as formulas.
* XML 1.0 cannot carry most C0 control characters; openpyxl refuses them, so they are stripped from
  XLSX text (CSV keeps the text verbatim).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

__all__ = [
    "filename",
    "rollup_csv",
    "rollup_xlsx",
    "session_csv",
    "session_json",
    "session_xlsx",
]

# --------------------------------------------------------------------------------------------------
# Cell values
# --------------------------------------------------------------------------------------------------

# OWASP "CSV injection": these leading characters make Excel/LibreOffice/Sheets evaluate a cell.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# A fixed, valid timestamp for workbooks without a start time: keeps the bytes reproducible.
# (ZIP timestamps cannot go below 1980.)
_EPOCH = datetime(1980, 1, 1)
_ZIP_LAST = datetime(2107, 12, 31, 23, 59, 58)

# openpyxl's ILLEGAL_CHARACTERS_RE misses these, and the XML serialiser or UTF-8 encoder rejects them.
_NOT_XML_RE = re.compile("[\ud800-\udfff\ufffe\uffff]")

_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_PERCENT_FORMAT = "0.0%"
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")


def _neutralise(text: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would otherwise treat as a formula."""
    return "'" + text if text.startswith(_FORMULA_TRIGGERS) else text


def _text(value: Any) -> str:
    """Best-effort plain text of a loosely typed export value (missing -> empty)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        # e.g. a facilitator given as {"name", "email"} instead of a display string.
        for key in ("name", "title", "email", "id"):
            if value.get(key):
                return _text(value[key])
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value if v is not None)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _int(value: Any) -> int:
    """Counts are integers; a missing or malformed one counts as zero."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _parse_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _utc_naive(value: Any) -> datetime | None:
    """An instant as naive UTC (what OOXML document properties expect), or None."""
    moment = _parse_datetime(value)
    if moment is None:
        return None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # e.g. 0001-01-01T00:00+01:00 has no UTC equivalent
            return None
    return moment.replace(microsecond=0)


def _sheet_datetime(value: Any) -> datetime | str:
    """A timestamp for a spreadsheet cell.

    Excel has no time zones, so the wall-clock time is kept exactly as the string states it (the
    caller chose the zone); anything unparseable stays as text rather than being lost.
    """
    moment = _parse_datetime(value)
    if moment is None:
        return _text(value)
    return moment.replace(tzinfo=None)


def _percent_ratio(yes: int, no: int, unsure: int) -> float | None:
    total = yes + no + unsure
    return yes / total if total > 0 else None


def _percent_text(yes: int, no: int, unsure: int) -> str:
    """Percent yes with one decimal, rounded half up like Excel's 0.0% display; empty if no votes."""
    total = yes + no + unsure
    if total <= 0:
        return ""
    # Decimal avoids binary-float ties (1/16 = 6.25 % must read 6.3 as it does in the XLSX).
    exact = Decimal(yes * 100) / Decimal(total)
    return str(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------------


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    return _neutralise(_text(value))


def _csv_bytes(rows: Iterable[list[Any]]) -> bytes:
    """Comma separated, minimal quoting, CRLF, UTF-8 with a BOM so Excel reads æ, ø, å right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=",", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig", errors="replace")


def _xml_safe(text: str) -> str:
    """Text XML 1.0 can carry: C0 controls stripped, lone surrogates and non-characters replaced."""
    return _NOT_XML_RE.sub("\ufffd", ILLEGAL_CHARACTERS_RE.sub("", text))


def _xlsx_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, datetime)):
        return value
    # Strip first, then neutralise: "\x01=cmd" must not turn into a bare "=cmd".
    text = _neutralise(_xml_safe(_text(value)))
    return text or None  # a truly empty cell, not an empty string record


def _put(ws: Worksheet, row: int, column: int, value: Any):
    """Write one cell; strings are forced to the string type whatever they look like."""
    cell = ws.cell(row=row, column=column, value=_xlsx_value(value))
    if isinstance(cell.value, str):
        # openpyxl turns "=..." into a formula and "#N/A" into an error value; participant text
        # must stay inert text.
        cell.data_type = "s"
    elif isinstance(cell.value, datetime):
        cell.number_format = _DATETIME_FORMAT
    return cell


@dataclass(frozen=True)
class _Column:
    header: str
    width: float
    wrap: bool = False
    number_format: str | None = None


def _write_table(
    ws: Worksheet,
    columns: list[_Column],
    rows: Iterable[list[Any]],
    *,
    header_row: int = 1,
) -> None:
    """A header line plus rows, formatted for reading: bold frozen header, widths, wrapping."""
    for col, column in enumerate(columns, start=1):
        _put(ws, header_row, col, column.header).font = _BOLD
        ws.column_dimensions[get_column_letter(col)].width = column.width
    last_row = header_row
    for last_row, row in enumerate(rows, start=header_row + 1):
        for col, (column, value) in enumerate(zip(columns, row, strict=False), start=1):
            cell = _put(ws, last_row, col, value)
            cell.alignment = _WRAP if column.wrap else _TOP
            if column.number_format and isinstance(value, (int, float)):
                cell.number_format = column.number_format
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1).coordinate
    if last_row > header_row:
        last = f"{get_column_letter(len(columns))}{last_row}"
        ws.auto_filter.ref = f"A{header_row}:{last}"


class _StableZipFile(zipfile.ZipFile):
    """A ZipFile whose members carry a fixed timestamp instead of "now".

    openpyxl writes members by name, which stamps them with the current local time; pinning the
    time (and the document properties) makes identical input give identical bytes, so exports can
    be cached, compared and tested byte for byte.
    """

    def __init__(self, file: io.BytesIO, stamp: datetime):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        moment = min(max(stamp, _EPOCH), _ZIP_LAST)
        self._stamp = (moment.year, moment.month, moment.day, moment.hour, moment.minute,
                       moment.second)

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=self._stamp)
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16  # what ZipFile.writestr gives a named member
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        # openpyxl writes each worksheet to a temporary file and adds it with write(), which would
        # stamp the member with that file's mtime: the clock again.
        with open(filename, "rb") as fh:
            self.writestr(arcname or os.path.basename(filename), fh.read(), compress_type, compresslevel)


def _xlsx_bytes(wb: Workbook, title: str, stamp: datetime | None) -> bytes:
    """Serialise a workbook reproducibly (fixed document dates, fixed ZIP member times)."""
    stamp = stamp or _EPOCH
    props = wb.properties
    props.creator = "Dialogrum"
    props.title = _xml_safe(title) or None
    props.created = stamp
    props.modified = stamp
    buffer = io.BytesIO()
    # Workbook.save() would overwrite `modified` with the current time, hence the writer directly.
    ExcelWriter(wb, _StableZipFile(buffer, stamp)).save()
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------
# Session results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ItemRow:
    position: int
    section: str
    tags: str
    kind: str
    text: str
    yes: int
    no: int
    unsure: int
    voters: int
    visible_comments: int
    conclusion: str
    comments: list[dict]

    @property
    def ratio(self) -> float | None:
        return _percent_ratio(self.yes, self.no, self.unsure)

    @property
    def percent_text(self) -> str:
        return _percent_text(self.yes, self.no, self.unsure)


def _item_rows(results: dict) -> list[_ItemRow]:
    """Normalise the export's items once, so CSV and XLSX cannot drift apart.

    Position is the 1-based place in the export's item list (the order of the session's guide).
    """
    rows = []
    for position, raw in enumerate(_list(_dict(results).get("items")), start=1):
        item = _dict(raw)
        section = _dict(item.get("section"))
        counts = _dict(item.get("counts"))
        comments = [_dict(c) for c in _list(item.get("comments"))]
        raw_tags = section.get("tags")
        tags = [raw_tags] if isinstance(raw_tags, str) else [_text(t) for t in _list(raw_tags)]
        rows.append(
            _ItemRow(
                position=position,
                section=_text(section.get("title")),
                tags=", ".join(t for t in tags if t),
                kind=_text(item.get("kind")),
                # Info slides often carry only a title; an empty text cell would hide the row's topic.
                text=_text(item.get("text")) or _text(item.get("title")),
                yes=_int(counts.get("yes")),
                no=_int(counts.get("no")),
                unsure=_int(counts.get("unsure")),
                voters=_int(item.get("voters")),
                visible_comments=sum(1 for c in comments if not c.get("hidden")),
                conclusion=_text(item.get("conclusion")),
                comments=comments,
            )
        )
    return rows


_ITEM_HEADERS = [
    "position", "section", "tags", "kind", "text", "yes", "no", "unsure", "voters", "percent_yes",
    "comments", "conclusion",
]
_COMMENT_HEADERS = ["item_position", "comment_id", "created_at", "pinned", "hidden", "text"]


def session_csv(results: dict) -> bytes:
    """One session's results as CSV (UTF-8 with BOM, comma, CRLF).

    The file holds two tables separated by a blank line: first one row per item (``position,
    section, tags, kind, text, yes, no, unsure, voters, percent_yes, comments, conclusion``;
    ``comments`` counts the visible ones, ``percent_yes`` is of yes+no+unsure with one decimal and
    empty without votes), then every comment including hidden ones (``item_position, comment_id,
    created_at, pinned, hidden, text``). Header labels are English and stable for integrations.
    """
    items = _item_rows(results)
    rows: list[list[Any]] = [list(_ITEM_HEADERS)]
    for it in items:
        rows.append([
            it.position, it.section, it.tags, it.kind, it.text, it.yes, it.no, it.unsure, it.voters,
            it.percent_text, it.visible_comments, it.conclusion,
        ])
    rows.append([])
    rows.append(list(_COMMENT_HEADERS))
    for it in items:
        for comment in it.comments:
            rows.append([
                it.position, _text(comment.get("id")), _text(comment.get("created_at")),
                bool(comment.get("pinned")), bool(comment.get("hidden")), _text(comment.get("text")),
            ])
    return _csv_bytes(rows)


_ITEM_COLUMNS = [
    _Column("position", 9),
    _Column("section", 30, wrap=True),
    _Column("tags", 24, wrap=True),
    _Column("kind", 14),
    _Column("text", 60, wrap=True),
    _Column("yes", 8),
    _Column("no", 8),
    _Column("unsure", 8),
    _Column("voters", 8),
    _Column("percent_yes", 12, number_format=_PERCENT_FORMAT),
    _Column("comments", 10),
    _Column("conclusion", 50, wrap=True),
]

_COMMENT_COLUMNS = [
    _Column("item_position", 13),
    _Column("section", 30, wrap=True),
    _Column("item_text", 40, wrap=True),
    _Column("created_at", 20),
    _Column("pinned", 8),
    _Column("hidden", 8),
    _Column("text", 70, wrap=True),
]


def session_xlsx(results: dict) -> bytes:
    """One session's results as an Excel workbook.

    Sheets: ``Items`` (the CSV's item columns, ``percent_yes`` as a number shown as 0.0%),
    ``Comments`` (item position, section, item text, created_at, pinned, hidden, text; hidden
    comments included and flagged) and ``Session`` (key/value facts). Identical input gives
    identical bytes: the document dates come from the session's start, not the clock.
    """
    session = _dict(_dict(results).get("session"))
    items = _item_rows(results)

    wb = Workbook()
    ws = wb.active
    ws.title = "Items"
    _write_table(ws, _ITEM_COLUMNS, (
        [it.position, it.section, it.tags, it.kind, it.text, it.yes, it.no, it.unsure, it.voters,
         it.ratio, it.visible_comments, it.conclusion]
        for it in items
    ))

    ws = wb.create_sheet("Comments")
    _write_table(ws, _COMMENT_COLUMNS, (
        [it.position, it.section, it.text, _sheet_datetime(c.get("created_at")),
         bool(c.get("pinned")), bool(c.get("hidden")), _text(c.get("text"))]
        for it in items
        for c in it.comments
    ))

    ws = wb.create_sheet("Session")
    facts = [
        ("title", _text(session.get("title"))),
        ("code", _text(session.get("code"))),
        ("unit", _text(session.get("unit"))),
        ("guide", _text(session.get("guide_title"))),
        ("language", _text(session.get("language"))),
        ("status", _text(session.get("status"))),
        ("started", _sheet_datetime(session.get("started_at"))),
        ("ended", _sheet_datetime(session.get("ended_at"))),
        ("facilitator", _text(session.get("facilitator"))),
        ("participants", _participants(session.get("participants"))),
    ]
    _write_table(ws, [_Column("key", 16), _Column("value", 60, wrap=True)],
                 ([key, value] for key, value in facts))

    stamp = _utc_naive(session.get("started_at"))
    return _xlsx_bytes(wb, _text(session.get("title")), stamp)


def _participants(value: Any) -> int | str:
    """Participants may be a count or (in richer exports) a list of participants."""
    if isinstance(value, list):
        return len(value)
    if value is None or value == "":
        return ""
    return _int(value)


def session_json(results: dict) -> bytes:
    """The results dict as pretty-printed UTF-8 JSON (letters like æ, ø, å kept literally)."""
    # "replace" only matters for lone surrogates, which UTF-8 cannot carry; one odd comment must
    # not make the whole export fail.
    return json.dumps(results, ensure_ascii=False, indent=2).encode(errors="replace")


# --------------------------------------------------------------------------------------------------
# Roll-up across the sessions of one guide
# --------------------------------------------------------------------------------------------------


def _rollup_sessions(rollup: dict) -> list[dict]:
    return [_dict(s) for s in _list(_dict(rollup).get("sessions"))]


def _per_session(item: dict, session_id: Any) -> dict | None:
    """The item's figures in one session, or None when the item was not in that session's guide."""
    per_session = _dict(item.get("per_session"))
    found = per_session.get(session_id)
    if found is None:
        # JSON object keys are strings even when the caller's ids are not.
        found = per_session.get(_text(session_id))
    return _dict(found) if found is not None else None


def _item_total(item: dict) -> dict:
    total = item.get("total")
    if isinstance(total, dict):
        return total
    # Sum what is there rather than report nothing when a caller leaves out the contract's total.
    summed = dict.fromkeys(("yes", "no", "unsure", "voters", "comments"), 0)
    for figures in _dict(item.get("per_session")).values():
        for key in summed:
            summed[key] += _int(_dict(figures).get(key))
    return summed


def _counts(figures: dict) -> tuple[int, int, int, int, int]:
    return (_int(figures.get("yes")), _int(figures.get("no")), _int(figures.get("unsure")),
            _int(figures.get("voters")), _int(figures.get("comments")))


_ROLLUP_HEADERS = [
    "item_id", "kind", "text", "session_id", "session_title", "unit", "started_at", "yes", "no",
    "unsure", "voters", "comments", "percent_yes",
]


def rollup_csv(rollup: dict) -> bytes:
    """A guide's roll-up as CSV (UTF-8 with BOM, comma, CRLF).

    One row per item and session in which the item was asked (sessions in the roll-up's order),
    followed by that item's total row, which has an empty ``session_id`` and ``session_title``
    ``total``. Columns: item_id, kind, text, session_id, session_title, unit, started_at, yes, no,
    unsure, voters, comments, percent_yes.
    """
    sessions = _rollup_sessions(rollup)
    rows: list[list[Any]] = [list(_ROLLUP_HEADERS)]
    for raw in _list(_dict(rollup).get("items")):
        item = _dict(raw)
        head = [_text(item.get("id")), _text(item.get("kind")), _text(item.get("text"))]
        for session in sessions:
            figures = _per_session(item, session.get("id"))
            if figures is None:
                continue
            yes, no, unsure, voters, comments = _counts(figures)
            rows.append([
                *head, _text(session.get("id")), _text(session.get("title")), _text(session.get("unit")),
                _text(session.get("started_at")), yes, no, unsure, voters, comments, _percent_text(yes, no, unsure),
            ])
        yes, no, unsure, voters, comments = _counts(_item_total(item))
        rows.append([*head, "", "total", "", "", yes, no, unsure, voters, comments, _percent_text(yes, no, unsure)])
    return _csv_bytes(rows)


_GROUP = ["yes", "no", "unsure", "percent_yes"]
_TOTAL_GROUP = ["yes", "no", "unsure", "percent_yes", "voters", "comments"]


def _session_label(session: dict) -> str:
    label = _text(session.get("title")) or _text(session.get("id"))
    details = [d for d in (_text(session.get("unit")), _text(session.get("started_at"))[:10]) if d]
    return f"{label} ({', '.join(details)})" if details else label


def rollup_xlsx(rollup: dict) -> bytes:
    """A guide's roll-up as an Excel workbook.

    Sheet ``Items``: one row per item. Row 1 names the column groups (one per session, labelled
    with its title, unit and date, then ``total``); row 2 holds the column labels: item_id, kind,
    text, then yes/no/unsure/percent_yes per session and yes/no/unsure/percent_yes/voters/comments
    for the total. Cells stay empty for a session that did not include the item. Sheet
    ``Sessions``: session_id, title, unit, started_at, participants.
    """
    data = _dict(rollup)
    guide = _dict(data.get("guide"))
    sessions = _rollup_sessions(data)
    items = [_dict(i) for i in _list(data.get("items"))]

    wb = Workbook()
    ws = wb.active
    ws.title = "Items"
    fixed = [_Column("item_id", 14), _Column("kind", 14), _Column("text", 60, wrap=True)]
    columns = list(fixed)
    group_starts = []
    for label, group in [(_session_label(s), _GROUP) for s in sessions] + [("total", _TOTAL_GROUP)]:
        group_starts.append((label, len(columns) + 1, len(group)))
        columns += [_Column(name, 12 if name == "percent_yes" else 9,
                            number_format=_PERCENT_FORMAT if name == "percent_yes" else None)
                    for name in group]

    def figures_cells(figures: dict | None, group: list[str]) -> list[Any]:
        if figures is None:
            return [None] * len(group)
        yes, no, unsure, voters, comments = _counts(figures)
        values = {"yes": yes, "no": no, "unsure": unsure, "voters": voters,
                  "comments": comments, "percent_yes": _percent_ratio(yes, no, unsure)}
        return [values[name] for name in group]

    rows = []
    for item in items:
        row = [_text(item.get("id")), _text(item.get("kind")), _text(item.get("text"))]
        for session in sessions:
            row += figures_cells(_per_session(item, session.get("id")), _GROUP)
        row += figures_cells(_item_total(item), _TOTAL_GROUP)
        rows.append(row)
    _write_table(ws, columns, rows, header_row=2)
    # Group titles above the column labels, one merged cell per session.
    for label, start, width in group_starts:
        cell = _put(ws, 1, start, label)
        cell.font = _BOLD
        cell.alignment = Alignment(horizontal="center", vertical="top", wrap_text=True)
        if width > 1:
            ws.merge_cells(start_row=1, start_column=start, end_row=1, end_column=start + width - 1)
    ws.freeze_panes = "D3"

    ws = wb.create_sheet("Sessions")
    _write_table(
        ws,
        [_Column("session_id", 14), _Column("title", 40, wrap=True), _Column("unit", 24, wrap=True),
         _Column("started_at", 20), _Column("participants", 12)],
        ([_text(s.get("id")), _text(s.get("title")), _text(s.get("unit")),
          _sheet_datetime(s.get("started_at")), _participants(s.get("participants"))]
         for s in sessions),
    )

    starts = [d for d in (_utc_naive(s.get("started_at")) for s in sessions) if d is not None]
    return _xlsx_bytes(wb, _text(guide.get("title")), max(starts) if starts else None)


# --------------------------------------------------------------------------------------------------
# File names
# --------------------------------------------------------------------------------------------------

_TRANSLITERATION = str.maketrans({
    "å": "aa", "ä": "ae", "ö": "oe", "ø": "oe", "æ": "ae",
    "Å": "Aa", "Ä": "Ae", "Ö": "Oe", "Ø": "Oe", "Æ": "Ae",
    "ß": "ss",
})
# Word separators become dashes so "Tema 3: Demokrati/fællesskab" stays readable; other
# punctuation (quotes, ?, !) simply disappears.
_SEPARATORS_RE = re.compile(r"[\s/\\:;,|+&\u2013\u2014]+")
_UNSAFE_RE = re.compile(r"[^A-Za-z0-9._-]")
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT")
                                                     for n in range(1, 10)}
_MAX_FILENAME = 80


def _ascii(text: str) -> str:
    text = text.translate(_TRANSLITERATION)
    # é -> e, ü -> u ...: drop the accents rather than the letters.
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def filename(base: str, ext: str) -> str:
    """A safe ASCII download file name, e.g. ``filename("Möte i Malmö K7M2QX", "csv")`` ->
    ``"Moete-i-Malmoe-K7M2QX.csv"``.

    å/ä/ö/ø/æ are transliterated (aa, ae, oe, oe, ae), other accents dropped, whitespace and
    separators become dashes, everything outside ``[A-Za-z0-9._-]`` is removed, runs of dashes
    collapse, and the whole name is at most 80 characters. An empty result falls back to
    ``export``.
    """
    stem = _SEPARATORS_RE.sub("-", _ascii(_text(base)))
    stem = _UNSAFE_RE.sub("", stem)
    stem = re.sub(r"-{2,}", "-", stem)
    stem = re.sub(r"\.{2,}", ".", stem).strip("-._")

    extension = _UNSAFE_RE.sub("", _ascii(_text(ext)).replace("-", ""))
    extension = re.sub(r"\.{2,}", ".", extension).strip(".")[:16]
    suffix = f".{extension}" if extension else ""

    # Truncate before the fallback checks, as cutting can leave a trailing dash or dot.
    stem = stem[: _MAX_FILENAME - len(suffix)].rstrip("-._")
    if not stem:
        stem = "export"
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        # "CON.csv" cannot be saved on Windows.
        stem = f"{stem}-export"[: _MAX_FILENAME - len(suffix)]
    return stem + suffix
