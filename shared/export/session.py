"""One session's results (the contract's JSON export) as CSV, XLSX and JSON files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook

from shared.export.cells import (
    _PERCENT_FORMAT,
    PLAIN,
    Style,
    _Column,
    _csv_bytes,
    _csv_time,
    _csv_zip,
    _dict,
    _flag,
    _int,
    _list,
    _percent_ratio,
    _percent_text,
    _sheet_datetime,
    _text,
    _utc_naive,
    _write_table,
    _xlsx_bytes,
)

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
    #: the counted hands within yes, no and unsure (results entered by hand, issue 11)
    hands: tuple[int, int, int] = (0, 0, 0)

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
                visible_comments=sum(1 for c in comments if not c.get("hidden") and c.get("approved", True)),
                conclusion=_text(item.get("conclusion")),
                comments=comments,
                hands=tuple(_int(_dict(item.get("hands")).get(k)) for k in ("yes", "no", "unsure")),
            )
        )
    return rows


_ITEM_HEADERS = [
    "position", "section", "tags", "kind", "text", "yes", "no", "unsure", "voters", "percent_yes",
    "comments", "conclusion", "hands_yes", "hands_no", "hands_unsure",
]
#: `likes` (issue 11, section 3: the thumbs-up the phones gave) and `approved` (point 4: false while
#: it waits for the facilitator) come last: added, nothing moved
_COMMENT_HEADERS = ["item_position", "comment_id", "created_at", "pinned", "hidden", "text", "likes", "approved"]


def session_csv(results: dict, style: Style = PLAIN, table: str | None = None) -> bytes:
    """One session's results as CSV (UTF-8 with BOM, CRLF; comma-separated in the plain style,
    semicolons and decimal commas in a Swedish or Danish spreadsheet style).

    The file holds two tables separated by a blank line: first one row per item (``position,
    section, tags, kind, text, yes, no, unsure, voters, percent_yes, comments, conclusion,
    hands_yes, hands_no, hands_unsure``; ``comments`` counts the visible ones, ``hands_*`` the
    counted hands included in ``yes``/``no``/``unsure`` (the phones' part is the difference),
    ``percent_yes`` is of yes+no+unsure with one decimal and empty without votes), then every
    comment with its text, hidden ones included and flagged
    (``item_position, comment_id, created_at, pinned, hidden, text, likes, approved``). In the plain style the
    header labels and values are English and stable for integrations; a spreadsheet style says
    them in its language (`Style`), and names the time zone in the header of the times.

    `table` (one of `SESSION_TABLES`) writes that one table alone, for a spreadsheet that opens one
    table per file.
    """
    tables = dict(session_tables(results, style))
    if table is not None:
        return _csv_bytes(tables[table], style)
    # The documented default: both tables in one file, a blank line between them.
    return _csv_bytes([*tables["items"], [], *tables["comments"]], style)


#: the tables of a session's results, each a CSV file of its own (`table=`) or a member of the ZIP
SESSION_TABLES = ("items", "comments")


def session_tables(results: dict, style: Style = PLAIN) -> list[tuple[str, list[list[Any]]]]:
    """The session's tables by name (`SESSION_TABLES`), each with its header row: the rows
    `session_csv` writes."""
    items = _item_rows(results)
    rows: list[list[Any]] = [[style.say(h) for h in _ITEM_HEADERS]]
    for it in items:
        rows.append([
            it.position, it.section, it.tags, style.say(it.kind), it.text, it.yes, it.no, it.unsure, it.voters,
            style.number(it.percent_text), it.visible_comments, it.conclusion, *it.hands,
        ])
    comments: list[list[Any]] = [[style.time_header(h) if h == "created_at" else style.say(h)
                                  for h in _COMMENT_HEADERS]]
    for it in items:
        for comment in it.comments:
            comments.append([
                it.position, _text(comment.get("id")), _csv_time(comment.get("created_at"), style),
                bool(comment.get("pinned")), bool(comment.get("hidden")), _text(comment.get("text")),
                _int(comment.get("likes") or 0), comment.get("approved", True) is not False,
            ])
    return [("items", rows), ("comments", comments)]


def session_zip(results: dict, style: Style = PLAIN) -> bytes:
    """The session's tables as a ZIP of CSV files, one table per file (`session_tables`)."""
    return _csv_zip(session_tables(results, style), style,
                    _utc_naive(_dict(_dict(results).get("session")).get("started_at")))


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
    _Column("hands_yes", 10),
    _Column("hands_no", 10),
    _Column("hands_unsure", 10),
]

_COMMENT_COLUMNS = [
    _Column("item_position", 13),
    _Column("section", 30, wrap=True),
    _Column("item_text", 40, wrap=True),
    _Column("created_at", 20),
    _Column("pinned", 8),
    _Column("hidden", 8),
    _Column("text", 70, wrap=True),
    _Column("likes", 10),
    _Column("approved", 10),
]


#: columns of times, whose header names the zone in a spreadsheet style (`Style.time_header`)
_TIME_COLUMNS = ("created_at", "started_at")


def _columns(columns: list[_Column], style: Style) -> list[_Column]:
    return [_Column(style.time_header(c.header) if c.header in _TIME_COLUMNS else style.say(c.header),
                    c.width, c.wrap, c.number_format) for c in columns]


def session_xlsx(results: dict, style: Style = PLAIN) -> bytes:
    """One session's results as an Excel workbook.

    Sheets: ``Items`` (the CSV's item columns, ``percent_yes`` as a number shown as 0.0%),
    ``Comments`` (item position, section, item text, created_at, pinned, hidden, text, likes, approved; hidden
    comments included and flagged) and ``Session`` (key/value facts). Times are wall-clock times in
    the style's zone (the configured one, named in the facts as ``time_zone``). A spreadsheet
    style names the sheets, columns and values in its language. Identical input gives identical
    bytes: the document dates come from the session's start, not the clock.
    """
    session = _dict(_dict(results).get("session"))
    items = _item_rows(results)
    tz = style.tz

    wb = Workbook()
    ws = wb.active
    ws.title = style.say("Items")
    _write_table(ws, _columns(_ITEM_COLUMNS, style), (
        [it.position, it.section, it.tags, style.say(it.kind), it.text, it.yes, it.no, it.unsure, it.voters,
         it.ratio, it.visible_comments, it.conclusion, *it.hands]
        for it in items
    ))

    ws = wb.create_sheet(style.say("Comments"))
    _write_table(ws, _columns(_COMMENT_COLUMNS, style), (
        [it.position, it.section, it.text, _sheet_datetime(c.get("created_at"), tz),
         _flag(c.get("pinned"), style), _flag(c.get("hidden"), style), _text(c.get("text")),
         _int(c.get("likes") or 0), _flag(c.get("approved", True) is not False, style)]
        for it in items
        for c in it.comments
    ))

    ws = wb.create_sheet(style.say("Session"))
    facts = [
        ("title", _text(session.get("title"))),
        ("code", _text(session.get("code"))),
        ("unit", _text(session.get("unit"))),
        ("guide", _text(session.get("guide_title"))),
        ("language", style.say("language:" + _text(session.get("language"))) if style.words
         else _text(session.get("language"))),
        ("status", style.say(_text(session.get("status")))),
        ("started", _sheet_datetime(session.get("started_at"), tz)),
        ("ended", _sheet_datetime(session.get("ended_at"), tz)),
        ("facilitator", _text(session.get("facilitator"))),
        ("participants", _participants(session.get("participants"))),
        ("entered_by_hand", _flag(session.get("entered_by_hand"), style)),
        ("held_on", _text(session.get("held_on"))),
    ]
    if tz is not None:
        facts.append(("time_zone", str(tz)))
    _write_table(ws, [_Column(style.say("key"), 16), _Column(style.say("value"), 60, wrap=True)],
                 ([style.say(key), value] for key, value in facts))

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
