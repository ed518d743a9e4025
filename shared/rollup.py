"""One guide across all its sessions: the contract's roll-up object."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from shared import access, guides
from shared import meeting as rules
from shared.models import Comment, Guide, Meeting, Participant, User


def rollup(db: so.Session, guide: Guide, user: User, *, unit: str | None = None,
           since: Any = None, until: Any = None) -> dict[str, Any]:
    """Every item of the guide against every session of it that `user` may see (`shared.access`;
    `access.EVERYONE` for a published roll-up).

    Items are the guide's current items followed by items that only older sessions had (their
    ids are stable, so a kept item lines up across edits of the guide). An item is counted only
    over the sessions whose snapshot had it. Where its wording, kind or choices differ between
    the versions in the roll-up (the sessions' snapshots and the current document), the item is
    `changed`, with the versions it changed in and each wording (`mark_changes`).
    """
    stmt = access.visible_meetings(user, guide.id)
    if unit:
        stmt = stmt.where(Meeting.unit == unit)
    if since is not None:
        stmt = stmt.where(Meeting.started_at >= since)
    if until is not None:
        stmt = stmt.where(Meeting.started_at < until)
    meetings = list(db.scalars(stmt.order_by(Meeting.started_at.is_(None), Meeting.started_at, Meeting.created_at)))
    ids = [m.id for m in meetings]
    participants = dict(db.execute(
        sa.select(Participant.meeting_id, sa.func.count()).where(Participant.meeting_id.in_(ids))
        .group_by(Participant.meeting_id)).all()) if ids else {}
    conn = db.connection()
    counts = {m.id: rules.counts(conn, m.id) for m in meetings}
    # The comments the room could see (neither hidden nor waiting for approval), with their texts,
    # so the board can read each unit's comments beside the others' (issue 12, gap 11).
    comment_texts: dict[tuple[str, str], list[dict[str, Any]]] = {}
    if ids:
        for cid, mid, iid, text, pinned, created in db.execute(
            sa.select(Comment.id, Comment.meeting_id, Comment.item_id, Comment.text, Comment.pinned,
                      Comment.created_at)
            .where(Comment.meeting_id.in_(ids), Comment.hidden.is_(False), Comment.approved.is_(True))
            .order_by(Comment.pinned.desc(), Comment.created_at, Comment.id)
        ):
            comment_texts.setdefault((mid, iid), []).append({
                "session_id": mid, "id": cid, "text": text, "pinned": bool(pinned),
                "created_at": _utc_iso(created)})
    comment_counts = {key: len(found) for key, found in comment_texts.items()}
    conclusions = {m.id: rules.conclusions(conn, m.id) for m in meetings}

    items: dict[str, dict[str, Any]] = {}
    for item in guides.flatten(guide.document):
        items[item["id"]] = _row(item)
    for m in meetings:
        for item in rules.snapshot(conn, m.id).items:
            items.setdefault(item["id"], _row(item))

    for m in meetings:
        snap_ids = set(rules.snapshot(conn, m.id).by_id)
        for item_id, row in items.items():
            if item_id not in snap_ids:
                continue
            c = counts[m.id].get(item_id, rules.empty_counts())
            # Phones and counted hands summed, the hands' part beside them (rules.counts).
            cell = {**c, "comments": comment_counts.get((m.id, item_id), 0)}
            row["per_session"][m.id] = cell
            for key, value in cell.items():
                row["total"][key] += value
            if conclusions[m.id].get(item_id):
                row["conclusions"][m.id] = conclusions[m.id][item_id]
            row["comment_texts"].extend(comment_texts.get((m.id, item_id), ()))
    mark_changes(items, guide, meetings, {m.id: rules.snapshot(conn, m.id).by_id for m in meetings})
    return {
        "guide": {"id": guide.id, "title": guide.title},
        "tags": by_tag(list(items.values())),
        "sessions": [{
            "id": m.id, "title": m.title, "unit": m.unit,
            "started_at": m.started_at.isoformat() if m.started_at else None,
            "participants": m.stated_participants if m.entered_by_hand and m.stated_participants is not None
            else participants.get(m.id, 0),
            "entered_by_hand": bool(m.entered_by_hand),
        } for m in meetings],
        "items": list(items.values()),
    }


def _row(item: dict) -> dict[str, Any]:
    return {"id": item["id"], "kind": item["kind"], "text": item["text"] or item["title"],
            "section": dict(item["section"]),
            "per_session": {}, "total": {**rules.empty_counts(), "comments": 0},
            # by session id, only where the session wrote one
            "conclusions": {},
            # the visible comments, in the sessions' order, pinned first within a session
            "comment_texts": []}


def _utc_iso(moment: Any) -> str | None:
    """A stored time as ISO 8601 UTC (SQLite hands back naive UTC datetimes)."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).isoformat()


def _wording(item: dict) -> tuple:
    """What makes two versions of an item different questions for the room."""
    return (item["kind"], item.get("title") or "", item.get("text") or "", tuple(guides.choices_for(item)))


def mark_changes(items: dict[str, dict[str, Any]], guide: Guide, meetings: list[Meeting],
                 snapshots: dict[str, dict[str, dict]]) -> None:
    """Mark each roll-up row whose item was worded differently in the versions rolled up.

    The versions are the sessions' snapshots (each with the guide version it was made from, or
    None for sessions older than versions) and the guide's current document. A row gets
    `changed`, `changed_in` (each known version whose wording differs from the version before it
    that had the item, ascending) and `variants`: one per wording, oldest first, with its
    versions, its sessions and whether it is the current one (empty when nothing changed). An
    item that some versions lack is not changed by that alone.
    """
    current = {item["id"]: item for item in guides.flatten(guide.document)}
    for item_id, row in items.items():
        # (the item as worded there, its version, the session or None for the current document)
        seen = [(snapshots[m.id][item_id], m.guide_version, m.id) for m in meetings if item_id in snapshots[m.id]]
        if item_id in current:
            seen.append((current[item_id], guide.version, None))
        variants: dict[tuple, dict[str, Any]] = {}
        by_version: dict[int, tuple] = {}
        for item, version, session in seen:
            key = _wording(item)
            variant = variants.setdefault(key, {"kind": item["kind"], "text": item["text"] or item["title"],
                                                "choices": guides.choices_for(item), "versions": [],
                                                "sessions": [], "current": False})
            if version is not None:
                by_version[version] = key
                if version not in variant["versions"]:
                    variant["versions"].append(version)
            if session is None:
                variant["current"] = True
            else:
                variant["sessions"].append(session)
        changed_in, before = [], None
        for version in sorted(by_version):
            if before is not None and by_version[version] != before:
                changed_in.append(version)
            before = by_version[version]
        ordered = sorted(variants.values(), key=lambda v: (min(v["versions"], default=0), v["current"]))
        for variant in ordered:
            variant["versions"].sort()
        row["changed"] = len(variants) > 1
        row["changed_in"] = changed_in
        row["variants"] = ordered if row["changed"] else []


def by_tag(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sum the considerations carrying each tag (AlmenKompas målepunkter), per session and in total."""
    groups: dict[str, dict[str, Any]] = {}
    for item in items:
        if item["kind"] != "consideration":
            continue
        for tag in item["section"].get("tags", []):
            group = groups.setdefault(tag, {"tag": tag, "items": [], "per_session": {},
                                            "total": rules.empty_counts()})
            group["items"].append(item["id"])
            for sid, cell in item["per_session"].items():
                target = group["per_session"].setdefault(sid, rules.empty_counts())
                for key in target:
                    target[key] += cell[key]
                    group["total"][key] += cell[key]
    return sorted(groups.values(), key=lambda g: g["tag"].lower())
