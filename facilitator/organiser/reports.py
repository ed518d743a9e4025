"""The results pages: one session's printable report, deleting a session, a guide's roll-up across
sessions with its downloads, and publishing it at a public link ("följ kollegornas dialoger").

Facilitators see these for their own sessions (shared.access); publishing and revoking links is
for organisers. The reads are in shared/reports.py and the files in shared/downloads.py.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required

from facilitator.organiser import bp
from facilitator.organiser.forms import ActionForm, PublishForm
from shared import access, downloads, guides, library, organiser, reports
from shared.db import get_db
from shared.errors import DialogrumError
from shared.models import Guide, Meeting, utcnow
from shared.uow import unit_of_work
from shared.urls import base_url

# -- one session -------------------------------------------------------------------------------


def _managed(meeting_id: str) -> Meeting:
    """The session the signed-in user may manage, else 404 or 403."""
    try:
        return access.managed_meeting(get_db().session, current_user, meeting_id)
    except DialogrumError as exc:
        abort(exc.status)


@bp.get("/sessions/<meeting_id>/report")
@login_required
def report(meeting_id: str):
    """One session, ready to print or save as PDF for the minutes; available while live too."""
    meeting = _managed(meeting_id)
    data = reports.session_report(get_db().session, meeting)
    language = data["session"]["language"]
    # ?reached=only leaves out the considerations the session never reached (issue 12, defect 7).
    only_reached = request.args.get("reached") == "only"
    return render_template("organiser/report.html", meeting=meeting, data=data, language=language,
                           only_reached=only_reached,
                           unreached=sum(1 for item in data["items"] if not item["reached"]),
                           labels=guides.VOTE_LABELS[language],
                           held_at=meeting.started_at or meeting.created_at, now=utcnow())


@bp.route("/sessions/<meeting_id>/delete", methods=["GET", "POST"])
@login_required
def delete_session(meeting_id: str):
    """Delete a session after a confirmation step (organiser or the session's owner).

    An ended session is offered, as the default, to lose only its personal traces and keep its
    counts and conclusions (shared.organiser.anonymise_meeting); deleting it for good then takes a
    second confirmation, and the page names every published roll-up that would change and how
    (issue 12, defect 2).
    """
    meeting = _managed(meeting_id)
    db = get_db().session
    form = ActionForm()
    keepable = meeting.status == "ended" and meeting.anonymised_at is None
    pages = organiser.published_pages(db, meeting)
    stage = "choose"
    if form.validate_on_submit():
        mode = request.form.get("mode", "delete")
        title = meeting.title
        if mode == "keep_counts" and keepable:
            with unit_of_work(get_db(), session=db) as work:
                organiser.anonymise_meeting(work, meeting.id)
            flash(_("The comments of “%(title)s” were deleted and its phones can no longer come back; its counts "
                    "and conclusions stay.", title=title), "success")
            return redirect(url_for("facilitator.sessions"))
        if mode != "delete":
            abort(400)
        if (keepable or pages) and request.form.get("confirmed") != "1":
            stage = "confirm"  # for good, over counts a published page or the minutes may need
        else:
            with unit_of_work(get_db(), session=db) as work:
                organiser.delete_meeting(work, meeting.id)
            flash(_("The session “%(title)s” was deleted with its votes and comments.", title=title), "success")
            return redirect(url_for("facilitator.sessions"))
    return render_template("organiser/delete.html", meeting=meeting, form=form, stage=stage, keepable=keepable,
                           pages=pages, counts=reports.deletion_counts(db, meeting.id))


# -- one guide across sessions -----------------------------------------------------------------


def _guide(guide_id: str) -> Guide:
    guide = library.get_guide(get_db().session, guide_id)
    if guide is None:
        abort(404)
    return guide


def _rollup_for(guide: Guide, filters: reports.RollupFilters) -> dict:
    return reports.guide_rollup(get_db().session, guide, current_user, filters, get_timezone())


@bp.get("/rollups")
@login_required
def rollups():
    """Every guide with a link to its roll-up, from the main navigation, also before any session
    (issue 12, gap 10); a facilitator's counts are of their own sessions."""
    return render_template("organiser/rollups.html", rows=reports.rollup_index(get_db().session, current_user))


@bp.get("/guides/<guide_id>/rollup")
@login_required
def rollup(guide_id: str):
    """Every item of a guide against every session of it the user may see, with totals, a chart
    per consideration comparing units, and the tag groups (målepunkter)."""
    db = get_db().session
    guide = _guide(guide_id)
    filters = reports.parse_rollup_filters(request.args)
    data = _rollup_for(guide, filters)
    by_unit = organiser.per_unit(data)
    args = {"unit": filters.unit, "from": filters.date_from, "to": filters.date_to}
    links = reports.public_links(db, guide.id) if current_user.is_organiser else []
    return render_template("organiser/rollup.html", guide=guide, data=data, args=args, query=filters.query(),
                           units=[u["unit"] for u in by_unit["units"]],
                           unit_items={item["id"]: item["per_unit"] for item in by_unit["items"]},
                           unit_choices=reports.rollup_units(db, guide.id, current_user),
                           labels=guides.VOTE_LABELS[guide.language],
                           links=links, suspended=organiser.suspended_links(db, links),
                           publish_form=PublishForm(), action_form=ActionForm(),
                           published=request.args.get("published", type=int))


@bp.get("/guides/<guide_id>/rollup/report")
@login_required
def rollup_report(guide_id: str):
    """The roll-up for the board, ready to print or save as PDF like a session's report: the
    figures per unit, each unit's conclusions and comments per item side by side, and the tag
    groups (issue 12, gap 11). The same filters as the roll-up page."""
    guide = _guide(guide_id)
    filters = reports.parse_rollup_filters(request.args)
    data = _rollup_for(guide, filters)
    started = [s["started_at"] for s in data["sessions"] if s["started_at"]]
    return render_template("organiser/rollup_report.html", guide=guide, data=data, query=filters.query(),
                           filters=filters, labels=guides.VOTE_LABELS[guide.language],
                           units=sorted({s["unit"] or "—" for s in data["sessions"]}),
                           first=min(started, default=None), last=max(started, default=None), now=utcnow())


@bp.get("/guides/<guide_id>/rollup.<fmt>")
@login_required
def rollup_download(guide_id: str, fmt: str):
    """The roll-up page's table as CSV, XLSX or JSON (the same filters): the same file as the REST
    API's roll-up export."""
    if fmt not in downloads.FORMATS:
        abort(404)
    table = request.args.get("table") or None
    if table is not None and table not in downloads.ROLLUP_TABLES:
        abort(404)
    data = _rollup_for(_guide(guide_id), reports.parse_rollup_filters(request.args))
    # In the page's language, for a spreadsheet there (?plain=1: the stable English columns);
    # ?table= one table per CSV file, ?dialect=comma|semicolon other separators (issue 12, gap 12).
    language = None if request.args.get("plain") else str(get_locale())
    return downloads.response(downloads.rollup_file(data, fmt, language=language, tz=get_timezone(), table=table,
                                                    dialect=request.args.get("dialect")))


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
    with unit_of_work(get_db(), session=db):
        link = organiser.publish_rollup(db, guide.id, current_user, include_comments=form.include_comments.data)
    # Said beside the new link, which the page scrolls to, not in a flash at the top of a long page.
    return redirect(url_for("organiser.rollup", guide_id=guide.id, published=link.id, _anchor=f"link-{link.id}"))


@bp.post("/guides/<guide_id>/public/<int:link_id>/revoke")
@login_required
def revoke(guide_id: str, link_id: int):
    """Revoke a public link after a confirmation step: it answers 410 ("withdrawn") from now on."""
    _organiser_only()
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db().session
    link = reports.public_link(db, guide_id, link_id)
    if link is None:
        abort(404)
    if request.form.get("confirmed") != "1":
        url = base_url() + url_for("public.rollup", key=link.key)
        return render_template(
            "organiser/confirm.html", heading=_("Revoke the public link?"),
            lines=[url, _("Whoever opens it, from a members' page or a bookmark, is told that it was withdrawn. "
                          "This cannot be undone; a new link has a new address.")],
            action=url_for("organiser.revoke", guide_id=guide_id, link_id=link_id), fields={},
            button=_("Revoke the link"), cancel=url_for("organiser.rollup", guide_id=guide_id, _anchor="public-links"))
    with unit_of_work(get_db(), session=db):
        organiser.revoke_rollup(db, link.id)
    flash(_("The link was revoked. It no longer works."), "success")
    return redirect(url_for("organiser.rollup", guide_id=guide_id, _anchor="public-links"))
