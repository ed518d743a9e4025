"""A guide's roll-up across its sessions as CSV and XLSX files."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment

from shared.export.cells import (
    _BOLD,
    _PERCENT_FORMAT,
    PLAIN,
    Style,
    _Column,
    _csv_bytes,
    _csv_time,
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
]
_HAND_KEYS = ("hands_yes", "hands_no", "hands_unsure")


def _hands(figures: dict) -> list[int]:
    """The counted hands within yes, no and unsure (issue 11); 0 where none were counted."""
    return [_int(figures.get(key)) for key in _HAND_KEYS]


def rollup_csv(rollup: dict, style: Style = PLAIN) -> bytes:
    """A guide's roll-up as CSV (UTF-8 with BOM, CRLF; comma-separated in the plain style,
    semicolons and decimal commas in a Swedish or Danish spreadsheet style).

    One row per item and session in which the item was asked (sessions in the roll-up's order),
    followed by that item's total row, which has an empty ``session_id`` and ``session_title``
    ``total``. Columns: item_id, kind, text, session_id, session_title, unit, started_at, yes, no,
    unsure, voters, comments, percent_yes, hands_yes, hands_no, hands_unsure (the counted hands
    within yes/no/unsure), entered_by_hand (the session was a dialogue held on paper; empty on a
    total row), named in the style's language.
    """
    sessions = _rollup_sessions(rollup)
    rows: list[list[Any]] = [[style.say(h) for h in _ROLLUP_HEADERS]]
    for raw in _list(_dict(rollup).get("items")):
        item = _dict(raw)
        head = [_text(item.get("id")), style.say(_text(item.get("kind"))), _text(item.get("text"))]
        for session in sessions:
            figures = _per_session(item, session.get("id"))
            if figures is None:
                continue
            yes, no, unsure, voters, comments = _counts(figures)
            rows.append([
                *head, _text(session.get("id")), _text(session.get("title")), _text(session.get("unit")),
                _csv_time(session.get("started_at"), style), yes, no, unsure, voters, comments,
                style.number(_percent_text(yes, no, unsure)), *_hands(figures),
                _flag(session.get("entered_by_hand"), style),
            ])
        yes, no, unsure, voters, comments = _counts(_item_total(item))
        rows.append([*head, "", style.say("total"), "", "", yes, no, unsure, voters, comments,
                     style.number(_percent_text(yes, no, unsure)), *_hands(_item_total(item)), ""])
    return _csv_bytes(rows, style)


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
    ``Sessions``: session_id, title, unit, started_at, participants, entered_by_hand. Times and days are in the
    style's zone; a spreadsheet style names the sheets, columns and values in its language.
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

    starts = [d for d in (_utc_naive(s.get("started_at")) for s in sessions) if d is not None]
    return _xlsx_bytes(wb, _text(guide.get("title")), max(starts) if starts else None)
