"""Part of the facilitator's blueprint (issue 11, section 1): record a dialogue held on paper.

`GET /sessions/paper` lets the facilitator or organiser pick a guide; `GET /sessions/paper?guide=<id>`
shows one form for the whole dialogue: the day, unit, number of participants, and per item the
counted hands (considerations), the group's conclusion and the comments from the paper (one a
line). `POST` stores it as an ended session marked "entered by hand" through
`shared.meeting.create_paper_session` (the rules and their checks live there) and opens its report.
A refusal shows every error next to its field and keeps everything typed. `facilitator.views`
registers the routes on its blueprint (`register`), so the endpoint is `facilitator.paper`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shared import guides, library, organiser
from shared import meeting as rules
from shared.db import get_db
from shared.uow import unit_of_work


def register(bp: Blueprint) -> None:
    """Add the paper form to the facilitator's blueprint."""
    bp.add_url_rule("/sessions/paper", "paper", paper, methods=["GET", "POST"])


def field_name(item_id: str, part: str) -> str:
    """The form field of one item's part (`yes`, `no`, `unsure`, `conclusion`, `comments`)."""
    return f"{part}-{item_id}"


def _items_from(form: Any, items: list[dict]) -> dict[str, dict]:
    """The rules' `items` from the posted form: only what was filled in."""
    out: dict[str, dict] = {}
    for item in items:
        entry: dict[str, Any] = {}
        counts = {c: form.get(field_name(item["id"], c), "") for c in item["choices"]}
        if any(v.strip() for v in counts.values()):
            entry["counts"] = counts
        conclusion = form.get(field_name(item["id"], "conclusion"), "")
        if conclusion.strip():
            entry["conclusion"] = conclusion
        comments = form.get(field_name(item["id"], "comments"), "")
        if comments.strip():
            entry["comments"] = comments.splitlines()
        if entry:
            out[item["id"]] = entry
    return out


def _field_errors(exc: rules.CountsError) -> dict[str, list[str]]:
    """The rules' places (`items.<id>.counts.yes`) as form field ids (`yes-<id>`), each with its
    messages in the page's language; an item's own place (its hands summed) is `item-<id>`."""
    out: dict[str, list[str]] = {}
    for place, message in ((e["place"], e["message"]) for e in exc.messages()):
        parts = place.split(".")
        if parts[0] == "items" and len(parts) >= 3:
            key = field_name(parts[1], parts[3]) if len(parts) >= 4 else (
                f"item-{parts[1]}" if parts[2] == "counts" else field_name(parts[1], parts[2]))
        else:
            key = parts[0]
        out.setdefault(key, []).append(message)
    return out


@login_required
def paper():
    """Choose a guide, then fill in the whole dialogue from the paper in one form."""
    db = get_db().session
    guide = library.get_guide(db, request.values.get("guide", ""))
    if guide is None:
        return render_template("facilitator/paper.html", guide=None, choices=library.list_guides(db))
    items = guides.flatten(guide.document)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            with unit_of_work(get_db(), session=db) as work:
                meeting_id = rules.create_paper_session(
                    work, guide_id=guide.id, held_on=request.form.get("held_on", ""),
                    unit=request.form.get("unit", ""), participants=request.form.get("participants", ""),
                    title=request.form.get("title", ""), facilitator_id=current_user.id,
                    items=_items_from(request.form, items))
        except rules.CountsError as exc:
            errors = _field_errors(exc)
        else:
            flash(_("The dialogue held on paper was recorded. It counts in the reports and roll-ups, marked as "
                    "entered by hand."), "success")
            return redirect(url_for("organiser.report", meeting_id=meeting_id))
    units = [u.name for u in organiser.list_units(db, active_only=True)]
    labels = guides.VOTE_LABELS.get(guide.language, guides.VOTE_LABELS["en"])
    return render_template("facilitator/paper.html", guide=guide, items=items, errors=errors, values=request.form,
                           units=units, labels=labels, field_name=field_name), (422 if errors else 200)
