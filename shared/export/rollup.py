"""A guide's roll-up across its sessions as CSV and XLSX files."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment

from shared.export.cells import (
    _BOLD,
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
    _put,
    _sheet_datetime,
    _text,
    _utc_naive,
    _write_table,
    _xlsx_bytes,
    _xml_safe,
)
from shared.export.session import (
    _columns,
    _participants,
)

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
    summed = dict.fromkeys(("yes", "no", "unsure", "voters", "comments", *_HAND_KEYS), 0)
    for figures in _dict(item.get("per_session")).values():
        for key in summed:
            summed[key] += _int(_dict(figures).get(key))
    return summed


def _counts(figures: dict) -> tuple[int, int, int, int, int]:
    return (_int(figures.get("yes")), _int(figures.get("no")), _int(figures.get("unsure")),
            _int(figures.get("voters")), _int(figures.get("comments")))


_ROLLUP_HEADERS = [
    "item_id", "kind", "text", "session_id", "session_title", "unit", "started_at", "yes", "no",
    "unsure", "voters", "comments", "percent_yes", "hands_yes", "hands_no", "hands_unsure", "entered_by_hand",
    # added last (issue 12, gap 11): the session's conclusion on the item
    "conclusion",
]
_HAND_KEYS = ("hands_yes", "hands_no", "hands_unsure")


def _hands(figures: dict) -> list[int]:
    """The counted hands within yes, no and unsure (issue 11); 0 where none were counted."""
    return [_int(figures.get(key)) for key in _HAND_KEYS]


def rollup_csv(rollup: dict, style: Style = PLAIN, table: str | None = None) -> bytes:
    """A guide's roll-up as CSV (UTF-8 with BOM, CRLF; comma-separated in the plain style,
    semicolons and decimal commas in a Swedish or Danish spreadsheet style): one table per file.

    The default table (``items``): one row per item and session in which the item was asked
    (sessions in the roll-up's order), followed by that item's total row, which has an empty
    ``session_id`` and ``session_title`` ``total``. Columns: item_id, kind, text, session_id,
    session_title, unit, started_at, yes, no, unsure, voters, comments, percent_yes, hands_yes,
    hands_no, hands_unsure (the counted hands within yes/no/unsure), entered_by_hand (the session
    was a dialogue held on paper; empty on a total row), conclusion (the session's conclusion on
    the item; empty on a total row), named in the style's language. `table` picks another of
    `ROLLUP_TABLES` (`rollup_tables`).
    """
    return _csv_bytes(dict(rollup_tables(rollup, style))[table or "items"], style)


#: the roll-up's tables: one CSV file each (`table=`), or the members of the ZIP
ROLLUP_TABLES = ("items", "comments", "tags", "sessions")

_COMMENT_HEADERS = ["item_id", "item_text", "session_id", "session_title", "unit", "created_at", "pinned", "text"]
_TAG_HEADERS = ["tag", "session_id", "session_title", "unit", "yes", "no", "unsure", "voters", "percent_yes"]
_SESSION_HEADERS = ["session_id", "title", "unit", "started_at", "participants", "entered_by_hand"]


def _headers(names: list[str], style: Style) -> list[str]:
    return [style.time_header(n) if n in ("started_at", "created_at") else style.say(n) for n in names]


def rollup_tables(rollup: dict, style: Style = PLAIN) -> list[tuple[str, list[list[Any]]]]:
    """The roll-up's tables by name (`ROLLUP_TABLES`), each with its header row.

    ``items`` is `rollup_csv`'s default table; ``comments`` every comment the rooms saw (hidden
    ones and those waiting for approval are not in the roll-up) with its item, session and unit;
    ``tags`` the considerations summed per tag and session, then the tag's total row; ``sessions``
    the sessions rolled up.
    """
    sessions = _rollup_sessions(rollup)
    by_id = {_text(s.get("id")): s for s in sessions}
    items = [_dict(raw) for raw in _list(_dict(rollup).get("items"))]
    rows: list[list[Any]] = [_headers(_ROLLUP_HEADERS, style)]
    for item in items:
        head = [_text(item.get("id")), style.say(_text(item.get("kind"))), _text(item.get("text"))]
        conclusions = _dict(item.get("conclusions"))
        for session in sessions:
            figures = _per_session(item, session.get("id"))
            if figures is None:
                continue
            yes, no, unsure, voters, comments = _counts(figures)
            rows.append([
                *head, _text(session.get("id")), _text(session.get("title")), _text(session.get("unit")),
                _csv_time(session.get("started_at"), style), yes, no, unsure, voters, comments,
                style.number(_percent_text(yes, no, unsure)), *_hands(figures),
                _flag(session.get("entered_by_hand"), style), _text(conclusions.get(_text(session.get("id")))),
            ])
        yes, no, unsure, voters, comments = _counts(_item_total(item))
        rows.append([*head, "", style.say("total"), "", "", yes, no, unsure, voters, comments,
                     style.number(_percent_text(yes, no, unsure)), *_hands(_item_total(item)), "", ""])

    comments_rows: list[list[Any]] = [_headers(_COMMENT_HEADERS, style)]
    for item in items:
        for comment in (_dict(c) for c in _list(item.get("comment_texts"))):
            session = by_id.get(_text(comment.get("session_id")), {})
            comments_rows.append([
                _text(item.get("id")), _text(item.get("text")), _text(comment.get("session_id")),
                _text(session.get("title")), _text(session.get("unit")),
                _csv_time(comment.get("created_at"), style), _flag(comment.get("pinned"), style),
                _text(comment.get("text")),
            ])

    tag_rows: list[list[Any]] = [_headers(_TAG_HEADERS, style)]
    for group in (_dict(g) for g in _list(_dict(rollup).get("tags"))):
        for session in sessions:
            figures = _per_session(group, session.get("id"))
            if figures is None:
                continue
            yes, no, unsure, voters, _comments = _counts(figures)
            tag_rows.append([_text(group.get("tag")), _text(session.get("id")), _text(session.get("title")),
                             _text(session.get("unit")), yes, no, unsure, voters,
                             style.number(_percent_text(yes, no, unsure))])
        yes, no, unsure, voters, _comments = _counts(_dict(group.get("total")))
        tag_rows.append([_text(group.get("tag")), "", style.say("total"), "", yes, no, unsure, voters,
                         style.number(_percent_text(yes, no, unsure))])

    session_rows: list[list[Any]] = [_headers(_SESSION_HEADERS, style)]
    for s in sessions:
        session_rows.append([_text(s.get("id")), _text(s.get("title")), _text(s.get("unit")),
                             _csv_time(s.get("started_at"), style), _participants(s.get("participants")),
                             _flag(s.get("entered_by_hand"), style)])
    return [("items", rows), ("comments", comments_rows), ("tags", tag_rows), ("sessions", session_rows)]


def rollup_zip(rollup: dict, style: Style = PLAIN) -> bytes:
    """The roll-up's tables as a ZIP of CSV files, one table per file (`rollup_tables`)."""
    return _csv_zip(rollup_tables(rollup, style), style, _latest_start(_rollup_sessions(rollup)))


def _latest_start(sessions: list[dict]) -> Any:
    starts = [d for d in (_utc_naive(s.get("started_at")) for s in sessions) if d is not None]
    return max(starts) if starts else None


_GROUP = ["yes", "no", "unsure", "percent_yes"]
_TOTAL_GROUP = ["yes", "no", "unsure", "percent_yes", "voters", "comments"]


def _session_label(session: dict, style: Style = PLAIN) -> str:
    label = _text(session.get("title")) or _text(session.get("id"))
    started = _sheet_datetime(session.get("started_at"), style.tz)
    day = started.date().isoformat() if hasattr(started, "date") else _text(started)[:10]
    details = [d for d in (_text(session.get("unit")), day) if d]
    return f"{label} ({', '.join(details)})" if details else label


def rollup_xlsx(rollup: dict, style: Style = PLAIN) -> bytes:
    """A guide's roll-up as an Excel workbook.

    Sheet ``Items``: one row per item. Row 1 names the column groups (one per session, labelled
    with its title, unit and date, then ``total``); row 2 holds the column labels: item_id, kind,
    text, then yes/no/unsure/percent_yes per session and yes/no/unsure/percent_yes/voters/comments
    for the total. Cells stay empty for a session that did not include the item. Sheet
    ``Conclusions``: the sessions' conclusions side by side, one row per item that has any, one
    column per session. Sheet ``Comments``: every comment the rooms saw with its item, session and
    unit. Sheet ``Tags``: the per-tag results per session and in total. Sheet ``Sessions``:
    session_id, title, unit, started_at, participants, entered_by_hand. Then ``Chart data`` and the
    chart sheet ``Chart``: Ja and Nej (and Ved ikke where any) in total per consideration, as bars.
    Times and days are in the style's zone; a spreadsheet style names the sheets, columns and
    values in its language.
    """
    data = _dict(rollup)
    guide = _dict(data.get("guide"))
    sessions = _rollup_sessions(data)
    items = [_dict(i) for i in _list(data.get("items"))]

    wb = Workbook()
    ws = wb.active
    ws.title = style.say("Items")
    fixed = _columns([_Column("item_id", 14), _Column("kind", 14), _Column("text", 60, wrap=True)], style)
    columns = list(fixed)
    group_starts = []
    for label, group in [(_session_label(s, style), _GROUP) for s in sessions] + [(style.say("total"), _TOTAL_GROUP)]:
        group_starts.append((label, len(columns) + 1, len(group)))
        columns += [_Column(style.say(name), 12 if name == "percent_yes" else 9,
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
        row = [_text(item.get("id")), style.say(_text(item.get("kind"))), _text(item.get("text"))]
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

    _conclusions_sheet(wb, sessions, items, style)
    _comments_sheet(wb, sessions, items, style)
    _tags_sheet(wb, sessions, _list(data.get("tags")), style)

    ws = wb.create_sheet(style.say("Sessions"))
    _write_table(
        ws,
        _columns([_Column("session_id", 14), _Column("title", 40, wrap=True), _Column("unit", 24, wrap=True),
                  _Column("started_at", 20), _Column("participants", 12), _Column("entered_by_hand", 14)], style),
        ([_text(s.get("id")), _text(s.get("title")), _text(s.get("unit")),
          _sheet_datetime(s.get("started_at"), style.tz), _participants(s.get("participants")),
          _flag(s.get("entered_by_hand"), style)]
         for s in sessions),
    )

    _chart_sheet(wb, items, style)
    return _xlsx_bytes(wb, _text(guide.get("title")), _latest_start(sessions))


def _conclusions_sheet(wb: Workbook, sessions: list[dict], items: list[dict], style: Style) -> None:
    """The units' conclusions side by side: one row per item that has a conclusion anywhere, one
    column per session (labelled like the Items sheet's groups), for the board to read across."""
    ws = wb.create_sheet(style.say("Conclusions"))
    columns = _columns([_Column("item_id", 14), _Column("kind", 14), _Column("text", 50, wrap=True)], style)
    columns += [_Column(_session_label(s, style), 40, wrap=True) for s in sessions]
    rows = []
    for item in items:
        found = _dict(item.get("conclusions"))
        if not any(_text(found.get(_text(s.get("id")))) for s in sessions):
            continue
        rows.append([_text(item.get("id")), style.say(_text(item.get("kind"))), _text(item.get("text")),
                     *(_text(found.get(_text(s.get("id")))) or None for s in sessions)])
    _write_table(ws, columns, rows)
    ws.freeze_panes = "D2"


def _comments_sheet(wb: Workbook, sessions: list[dict], items: list[dict], style: Style) -> None:
    """Every comment the rooms saw, with its item, session and unit (the CSV's comments table);
    times are wall-clock times in the style's zone."""
    ws = wb.create_sheet(style.say("Comments"))
    by_id = {_text(s.get("id")): s for s in sessions}
    columns = _columns([_Column("item_id", 14), _Column("item_text", 40, wrap=True), _Column("session_title", 30,
                        wrap=True), _Column("unit", 20, wrap=True), _Column("created_at", 20),
                        _Column("pinned", 10), _Column("text", 70, wrap=True)], style)
    rows = []
    for item in items:
        for comment in (_dict(c) for c in _list(item.get("comment_texts"))):
            session = by_id.get(_text(comment.get("session_id")), {})
            rows.append([_text(item.get("id")), _text(item.get("text")), _text(session.get("title")),
                         _text(session.get("unit")), _sheet_datetime(comment.get("created_at"), style.tz),
                         _flag(comment.get("pinned"), style), _text(comment.get("text"))])
    _write_table(ws, columns, rows)


def _tags_sheet(wb: Workbook, sessions: list[dict], tags: list, style: Style) -> None:
    """The per-tag results (målepunkter): one row per tag and session, then the tag's total."""
    ws = wb.create_sheet(style.say("Tags"))
    columns = _columns([_Column("tag", 30, wrap=True), _Column("session_title", 30, wrap=True),
                        _Column("unit", 20, wrap=True), _Column("yes", 8), _Column("no", 8), _Column("unsure", 8),
                        _Column("voters", 8), _Column("percent_yes", 12, number_format=_PERCENT_FORMAT)], style)
    rows = []
    for group in (_dict(g) for g in tags):
        cells = [(s, _per_session(group, s.get("id"))) for s in sessions]
        cells = [(_text(s.get("title")), _text(s.get("unit")), f) for s, f in cells if f is not None]
        for title, unit, figures in [*cells, (style.say("total"), "", _dict(group.get("total")))]:
            yes, no, unsure, voters, _comments = _counts(figures)
            rows.append([_text(group.get("tag")), title, unit, yes, no, unsure, voters,
                         _percent_ratio(yes, no, unsure)])
    _write_table(ws, columns, rows)


#: the chart's category labels: long statements are cut, the full text is on the Items sheet
_CHART_LABEL = 60


def _chart_sheet(wb: Workbook, items: list[dict], style: Style) -> None:
    """A chart sheet: the totals of Ja and Nej (and Ved ikke where any) per consideration as bars,
    drawn from a small data sheet beside it, so the board can paste it into a presentation."""
    considerations = [i for i in items if _text(i.get("kind")) == "consideration"]
    if not considerations:
        return
    totals = [_counts(_item_total(i)) for i in considerations]
    choices = ["yes", "no"] + (["unsure"] if any(t[2] for t in totals) else [])
    data = wb.create_sheet(style.say("Chart data"))
    _write_table(data, _columns([_Column("position", 9), _Column("text", 60, wrap=True)]
                                + [_Column(c, 10) for c in choices], style),
                 ([n, _chart_label(_text(i.get("text"))), *t[:len(choices)]]
                  for n, (i, t) in enumerate(zip(considerations, totals, strict=True), start=1)))
    chart = BarChart()
    chart.type = "bar"  # horizontal: the statements are long, read them along the bars
    chart.grouping = "clustered"
    # The plain style has no words: its chart speaks the stable English of its columns.
    chart.title = _xml_safe(style.words.get("chart_title", "yes and no per consideration"))
    chart.y_axis.title = _xml_safe(style.say("votes"))
    chart.y_axis.majorGridlines = None
    chart.x_axis.scaling.orientation = "maxMin"  # the first item at the top, as in the guide
    # openpyxl 3.1 hides axes unless told otherwise, which leaves the bars without their labels.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    last = len(considerations) + 1
    chart.add_data(Reference(data, min_col=3, max_col=2 + len(choices), min_row=1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(data, min_col=2, min_row=2, max_row=last))
    sheet = wb.create_chartsheet(style.say("Chart"))
    sheet.add_chart(chart)


def _chart_label(text: str) -> str:
    return text if len(text) <= _CHART_LABEL else text[: _CHART_LABEL - 1].rstrip() + "…"
