"""Cell values, CSV and XLSX writers, and download file names: the parts every export shares.

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
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from shared.numbers import percent

# --------------------------------------------------------------------------------------------------
# How a file speaks
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """How a file speaks: its words, its CSV separators and its time zone.

    The default (`PLAIN`) is the stable form for integrations: the English column names and values
    (`position`, `consideration`, `true`), comma-separated CSV with a decimal point, timestamps in
    UTC as ISO 8601. A spreadsheet style (`shared.downloads.style`) names every column and value in
    the reader's language, and for Swedish and Danish separates with semicolons and writes decimal
    commas, which is what Excel set to those locales reads from a CSV file; its timestamps are
    wall-clock times in `tz`. `words` maps a plain name to its text; a name it lacks stays as is.
    """

    words: Mapping[str, str] = field(default_factory=dict)
    delimiter: str = ","
    decimal: str = "."
    #: None: timestamps as the export states them (UTC); else wall-clock time in this zone
    tz: tzinfo | None = None

    def say(self, name: str) -> str:
        """The text of a column name or a value (`kind`, `status`, `true`, ...)."""
        return self.words.get(name, name)

    def number(self, text: str) -> str:
        """A decimal number written out (`66.7`) with this style's decimal sign."""
        return text.replace(".", self.decimal) if text else text

    def time_header(self, name: str) -> str:
        """The header of a column of times: in a spreadsheet style it names the zone the times are
        in (`Skriven (Europe/Stockholm)`); the plain style keeps its stable name."""
        if self.words and self.tz is not None:
            return f"{self.say(name)} ({self.tz})"
        return self.say(name)


PLAIN = Style()


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


def _sheet_datetime(value: Any, tz: tzinfo | None = None) -> datetime | str:
    """A timestamp for a spreadsheet cell.

    Excel has no time zones, so a cell holds a wall-clock time: in `tz` when given (the configured
    time zone, as the report shows it), else exactly as the string states it; anything unparseable
    stays as text rather than being lost.
    """
    moment = _parse_datetime(value)
    if moment is None:
        return _text(value)
    if tz is not None and moment.tzinfo is not None:
        try:
            moment = moment.astimezone(tz)
        except OverflowError:
            pass
    return moment.replace(tzinfo=None, microsecond=0) if tz is not None else moment.replace(tzinfo=None)


def _flag(value: Any, style: Style) -> bool | str:
    """A yes/no cell: a boolean in the plain style, the style's word for it otherwise."""
    return style.say("true" if value else "false") if style.words else bool(value)


def _csv_time(value: Any, style: Style) -> str:
    """A timestamp for a CSV cell: as stated (ISO 8601, UTC) in the plain style; in a spreadsheet
    style the wall-clock time in its zone, `2026-05-31 18:05:00`, which Excel reads as a time."""
    if style.tz is None:
        return _text(value)
    moment = _sheet_datetime(value, style.tz)
    return moment.isoformat(sep=" ") if isinstance(moment, datetime) else moment


def _percent_ratio(yes: int, no: int, unsure: int) -> float | None:
    total = yes + no + unsure
    return yes / total if total > 0 else None


def _percent_text(yes: int, no: int, unsure: int) -> str:
    """Percent yes with one decimal, rounded half up like Excel's 0.0% display; empty if no votes."""
    # Exact decimals (shared.numbers): 1/16 = 6.25 % must read 6.3 as it does in the XLSX.
    value = percent(yes, yes + no + unsure, places=1)
    return "" if value is None else str(value)


# --------------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------------


def _csv_cell(value: Any, style: Style = PLAIN) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return style.say("true" if value else "false")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return style.number(repr(value))
    return _neutralise(_text(value))


def _csv_bytes(rows: Iterable[list[Any]], style: Style = PLAIN) -> bytes:
    """Minimal quoting, CRLF, UTF-8 with a BOM so Excel reads æ, ø, å right; separated by the
    style's delimiter (a comma, or a semicolon for Excel in Swedish and Danish)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=style.delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_csv_cell(value, style) for value in row])
    return buffer.getvalue().encode("utf-8-sig", errors="replace")


def _csv_zip(tables: list[tuple[str, list[list[Any]]]], style: Style, stamp: datetime | None) -> bytes:
    """Several tables as a ZIP with one CSV file per table (Excel opens one table per file), each
    named in the style's language and written like `_csv_bytes`; fixed member times, so identical
    input gives identical bytes."""
    buffer = io.BytesIO()
    with _StableZipFile(buffer, stamp or _EPOCH) as archive:
        for number, (name, rows) in enumerate(tables, start=1):
            # Numbered, so the files sort in the order of the tables whatever their names.
            archive.writestr(f"{number}-{filename(style.say(name), 'csv')}", _csv_bytes(rows, style))
    return buffer.getvalue()


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
