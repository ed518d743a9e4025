"""Results pages: one session's printable report, deleting a session, a guide's roll-up across
sessions, and the public read-only roll-up ("följ kollegornas dialoger")."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_percent, get_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required

from facilitator.forms import ActionForm, PublishForm
from facilitator.views import _managed, bp
from shared import access, guides, organiser
from shared import export as export_module
from shared import meeting as rules
from shared.db import get_db
from shared.models import CHOICES, Comment, Guide, Meeting, Participant, PublicRollup, Vote, utcnow
from shared.overview import day_start
from shared.rollup import rollup as build_rollup


def share(counts: dict[str, int], choices: list[str] | tuple[str, ...] = CHOICES) -> dict[str, Any]:
    """Votes per choice with their share of all votes on the item: what a bar needs."""
    total = sum(counts.get(c, 0) for c in choices)
    rows = []
    for choice in choices:
        n = counts.get(choice, 0)
        ratio = n / total if total else 0.0
        rows.append({"choice": choice, "count": n, "ratio": ratio, "width": round(100 * ratio, 1),
                     "percent": format_percent(ratio) if total else "–"})
    return {"total": total, "rows": rows}


def percent_yes(cell: dict[str, int] | None) -> str:
    """'% Ja' of a roll-up cell, or a dash when nobody voted."""
    if not cell:
        return "–"
    total = sum(cell.get(c, 0) for c in CHOICES)
    return format_percent(cell.get("yes", 0) / total) if total else "–"


def yes_ratio(cell: dict[str, int] | None) -> float:
    """The share of Ja in a roll-up cell (0 when nobody voted)."""
    total = sum((cell or {}).get(c, 0) for c in CHOICES)
    return (cell or {}).get("yes", 0) / total if total else 0.0


def _parse_iso(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


@bp.app_context_processor
def _report_helpers() -> dict:
    return {"vote_share": share, "percent_yes": percent_yes, "yes_ratio": yes_ratio, "parse_iso": _parse_iso}


# -- one session -------------------------------------------------------------------------------


def _facilitator_name(meeting: Meeting) -> str | None:
    return (meeting.facilitator.name or meeting.facilitator.email) if meeting.facilitator else None


@bp.get("/sessions/<meeting_id>/report")
@login_required
def report(meeting_id: str):
    """One session, ready to print or save as PDF for the minutes; available while live too."""
    meeting = _managed(meeting_id)
    data = rules.results(get_db().session.connection(), meeting.id, facilitator_name=_facilitator_name(meeting))
    for item in data["items"]:
        # Hidden comments never reach a report; pinned ones come first, then in the order written.
        visible = [c for c in item["comments"] if not c["hidden"]]
        item["comments"] = sorted(visible, key=lambda c: not c["pinned"])
    language = data["session"]["language"]
    return render_template("facilitator/report.html", meeting=meeting, data=data, language=language,
                           labels=guides.VOTE_LABELS[language],
                           held_at=meeting.started_at or meeting.created_at, now=utcnow())


@bp.route("/sessions/<meeting_id>/delete", methods=["GET", "POST"])
@login_required
def delete_session(meeting_id: str):
    """Delete a session for good, after a confirmation step (organiser or the session's owner)."""
    meeting = _managed(meeting_id)
    db = get_db().session
    form = ActionForm()
    if form.validate_on_submit():
        title = meeting.title
        organiser.delete_meeting(db.connection(), meeting.id)
        db.commit()
        flash(_("The session “%(title)s” was deleted with its votes and comments.", title=title), "success")
        return redirect(url_for("facilitator.sessions"))
    counts = {name: db.scalar(sa.select(sa.func.count()).select_from(model).where(model.meeting_id == meeting.id))
              for name, model in (("participants", Participant), ("votes", Vote), ("comments", Comment))}
    return render_template("facilitator/delete.html", meeting=meeting, form=form, counts=counts)


# -- one guide across sessions -----------------------------------------------------------------


def _rollup_args() -> dict[str, Any]:
    """The roll-up filters from the query string (unit, from, to as YYYY-MM-DD)."""
    tz = get_timezone()

    def day(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(request.args.get(name, "")) if request.args.get(name) else None
        except ValueError:
            return None

    since, until = day("from"), day("to")
    return {"unit": request.args.get("unit", "")[:200] or None,
            "since": day_start(since, tz) if since else None,
            "until": day_start(until + dt.timedelta(days=1), tz) if until else None,
            "from": since, "to": until}


def _guide(guide_id: str) -> Guide:
    guide = get_db().session.get(Guide, guide_id)
    if guide is None:
        abort(404)
    return guide


def _rollup_for(guide: Guide, args: dict[str, Any]) -> dict[str, Any]:
    return build_rollup(get_db().session, guide, current_user, unit=args["unit"], since=args["since"],
                        until=args["until"])


@bp.get("/guides/<guide_id>/rollup")
@login_required
def rollup(guide_id: str):
    """Every item of a guide against every session of it the user may see, with totals, a chart
    per consideration comparing units, and the tag groups (målepunkter)."""
    db = get_db().session
    guide = _guide(guide_id)
    args = _rollup_args()
    data = _rollup_for(guide, args)
    by_unit = organiser.per_unit(data)
    units = [u["unit"] for u in by_unit["units"]]
    unit_items = {item["id"]: item["per_unit"] for item in by_unit["items"]}
    visible = access.visible(sa.select(Meeting.unit).where(Meeting.guide_id == guide.id, Meeting.unit != ""),
                             current_user)
    unit_choices = list(db.scalars(visible.distinct().order_by(Meeting.unit)))
    links = []
    if current_user.is_organiser:
        links = list(db.scalars(sa.select(PublicRollup).where(PublicRollup.guide_id == guide.id)
                                .order_by(PublicRollup.revoked_at.is_not(None), PublicRollup.created_at.desc())))
    query = {k: (v.isoformat() if isinstance(v, dt.date) else v)
             for k, v in (("unit", args["unit"]), ("from", args["from"]), ("to", args["to"])) if v}
    return render_template("facilitator/rollup.html", guide=guide, data=data, args=args, query=query,
                           units=units, unit_items=unit_items, unit_choices=unit_choices,
                           labels=guides.VOTE_LABELS[guide.language], links=links,
                           publish_form=PublishForm(), action_form=ActionForm())


@bp.get("/guides/<guide_id>/rollup.<fmt>")
@login_required
def rollup_download(guide_id: str, fmt: str):
    """The roll-up page's table as CSV, XLSX or JSON (the same filters)."""
    if fmt not in ("csv", "xlsx", "json"):
        abort(404)
    guide = _guide(guide_id)
    data = _rollup_for(guide, _rollup_args())
    if fmt == "json":
        body, mimetype = json.dumps(data, ensure_ascii=False, indent=2).encode(), "application/json"
    elif fmt == "csv":
        body, mimetype = export_module.rollup_csv(data), "text/csv; charset=utf-8"
    else:
        body = export_module.rollup_xlsx(data)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    resp = Response(body, mimetype=mimetype)
    name = export_module.filename(f"{guide.title} rollup", fmt)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


def _organiser_only() -> None:
    if not current_user.is_organiser:
        abort(403)


@bp.post("/guides/<guide_id>/public")
@login_required
def publish(guide_id: str):
    """Publish the guide's roll-up at a new public read-only link (organisers)."""
    _organiser_only()
    guide = _guide(guide_id)
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_db().session
    organiser.publish_rollup(db, guide.id, current_user, include_comments=form.include_comments.data)
    db.commit()
    flash(_("The public link is ready. Anyone with the link can see the results per unit."), "success")
    return redirect(url_for("facilitator.rollup", guide_id=guide.id, _anchor="public-links"))


@bp.post("/guides/<guide_id>/public/<int:link_id>/revoke")
@login_required
def revoke(guide_id: str, link_id: int):
    """Revoke a public link: it answers 404 from now on."""
    _organiser_only()
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db().session
    link = db.get(PublicRollup, link_id)
    if link is None or link.guide_id != guide_id:
        abort(404)
    organiser.revoke_rollup(db, link.id)
    db.commit()
    flash(_("The link was revoked. It no longer works."), "success")
    return redirect(url_for("facilitator.rollup", guide_id=guide_id, _anchor="public-links"))


# -- the public page ---------------------------------------------------------------------------


def _public_comments(db, guide_id: str, session_ids: list[str]) -> dict[str, list[dict[str, str]]]:
    """Visible comment texts per item, with the unit: no ids, no times, nothing about the writer."""
    out: dict[str, list[dict[str, str]]] = {}
    if not session_ids:
        return out
    rows = db.execute(
        sa.select(Comment.item_id, Comment.text, Meeting.unit)
        .join(Meeting, Meeting.id == Comment.meeting_id)
        .where(Comment.meeting_id.in_(session_ids), Comment.hidden.is_(False))
        .order_by(Meeting.started_at, Comment.pinned.desc(), Comment.created_at, Comment.id)
    )
    for item_id, text, unit in rows:
        out.setdefault(item_id, []).append({"text": text, "unit": unit or "—"})
    return out


@bp.get("/f/<key>")
def public_rollup(key: str):
    """A guide's results per unit at a published link: no login, no comment text unless chosen."""
    db = get_db().session
    link = organiser.find_public_rollup(db, key)
    if link is None:
        abort(404)
    guide = _guide(link.guide_id)
    data = build_rollup(db, guide, access.EVERYONE)
    # Only sessions that have ended: a meeting in progress is not shown to the world half-way.
    ended = set(db.scalars(sa.select(Meeting.id).where(Meeting.guide_id == guide.id, Meeting.status == "ended")))
    data["sessions"] = [s for s in data["sessions"] if s["id"] in ended]
    by_unit = organiser.per_unit(data)
    comments = _public_comments(db, guide.id, [s["id"] for s in data["sessions"]]) if link.include_comments else {}
    resp = Response(render_template("facilitator/public_rollup.html", guide=guide, by_unit=by_unit,
                                    comments=comments, include_comments=link.include_comments,
                                    labels=guides.VOTE_LABELS[guide.language]))
    resp.headers["X-Robots-Tag"] = "noindex"
    resp.headers["Cache-Control"] = "no-store"
    return resp

