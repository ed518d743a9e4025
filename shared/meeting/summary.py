"""The closing summary ("Samlet refleksion", issue 11, section 5), and the order of the comments.

At the end of a section, or of the guide, the facilitator puts a summary on the projector: each
section's goal statement, the result of each consideration that was voted on (an item never put to
the vote says so), and the group's conclusions. Which summary is shown is shared state
(`meetings.summary_shown`, `summary_section`) so every projector on every process follows, and
moving to another item ends it. The same read model feeds the projector and the report.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shared.errors import DialogrumError
from shared.meeting.read import conclusions, counts, empty_counts, get_meeting
from shared.meeting.snapshot import Snapshot, snapshot
from shared.models import CHOICES
from shared.numbers import percent

#: Additive control actions: the closing summary on the projector (`index`: a section's index, or
#: none for the whole guide), and the order of an open question's comments ("top ideas").
SUMMARY_ACTIONS = ("show_summary", "hide_summary")
ORDER_ACTIONS = {"sort_comments_by_likes": True, "sort_comments_by_time": False}


def sections_of(snap: Snapshot) -> list[dict[str, Any]]:
    """The sections of a snapshot in guide order: `{index, title, statement, items}`."""
    out: list[dict[str, Any]] = []
    for item in snap.items:
        section = item["section"]
        if not out or out[-1]["index"] != section["index"]:
            out.append({"index": section["index"], "title": section["title"], "statement": section["statement"],
                        "items": []})
        out[-1]["items"].append(item)
    return out


def control_values(meeting: Any, snap: Snapshot, action: str, index: object) -> dict[str, Any]:
    """The meeting columns a summary or comment-order action sets (`control` writes them), or
    `invalid`/`wrong_state` when the action does not fit."""
    if action in ORDER_ACTIONS:
        wanted = ORDER_ACTIONS[action]
        if bool(meeting.comments_by_likes) == wanted:
            raise DialogrumError("wrong_state", "the comments are already in that order")
        return {"comments_by_likes": wanted}
    if action == "hide_summary":
        if not meeting.summary_shown:
            raise DialogrumError("wrong_state", "no summary is shown")
        return {"summary_shown": False, "summary_section": None}
    if index is not None:
        if isinstance(index, bool) or not isinstance(index, int):
            raise DialogrumError("invalid", "index must be a section's index, or null for the whole guide")
        if not 0 <= index < len(sections_of(snap)):
            raise DialogrumError("wrong_state", "index is outside the guide's sections")
    if meeting.summary_shown and meeting.summary_section == index:
        raise DialogrumError("wrong_state", "that summary is already shown")
    return {"summary_shown": True, "summary_section": index}


def percentages(item_counts: dict[str, int]) -> dict[str, int]:
    """Whole percentages of the voters per choice, rounded half up as every screen rounds them
    (shared/numbers.py); 0 when nobody voted."""
    voters = item_counts["voters"]
    return {k: int(percent(item_counts[k], voters) or 0) for k in CHOICES}


def summary(conn: sa.Connection, meeting_id: str, section: int | None = None) -> dict[str, Any]:
    """The closing summary of one section (its index) or of the whole guide (None):
    `{section, title, sections: [{index, title, statement, items: [...]}]}`. Each item has its
    `conclusion` (None when none was written) and `reached` (the session came to it); a
    consideration also `voted` (voting was opened on it or somebody voted) and, when voted, its
    `counts`, `voters` and `percent`. Information
    slides appear only when the group wrote a conclusion on them."""
    meeting = get_meeting(conn, meeting_id)
    snap = snapshot(conn, meeting.id)
    all_counts = counts(conn, meeting.id)
    texts = conclusions(conn, meeting.id)
    opened = set(meeting.voting_opened_items or ())
    shown = getattr(meeting, "shown_items", None)
    by_hand = bool(getattr(meeting, "entered_by_hand", False))
    sections = []
    for part in sections_of(snap):
        if section is not None and part["index"] != section:
            continue
        items = []
        for item in part["items"]:
            entry: dict[str, Any] = {"id": item["id"], "index": item["index"], "kind": item["kind"],
                                     "title": item["title"], "text": item["text"],
                                     "conclusion": texts.get(item["id"]) or None}
            c = all_counts.get(item["id"], empty_counts())
            # Reached as the report says it (shared/reports.py): shown while live, or with votes or a
            # conclusion; before `shown_items` was recorded, considerations go by voting opened.
            entry["reached"] = (by_hand or c["voters"] > 0 or entry["conclusion"] is not None
                                or (item["id"] in shown if shown is not None
                                    else item["kind"] != "consideration" or item["id"] in opened))
            if item["kind"] == "consideration":
                entry["voted"] = item["id"] in opened or c["voters"] > 0
                if entry["voted"]:
                    entry.update(choices=list(item["choices"]), counts={k: c[k] for k in CHOICES},
                                 voters=c["voters"], percent=percentages(c))
            elif item["kind"] == "info" and entry["conclusion"] is None:
                continue
            items.append(entry)
        sections.append({**part, "items": items})
    title = sections[0]["title"] if section is not None and sections else snap.title
    return {"section": section, "title": title, "sections": sections}

