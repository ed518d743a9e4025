"""Part of the facilitator's blueprint (issue 10, sections 2 and 3): "Run again" on a session, and
the check of the join link for a laptop in a hall. `facilitator.views` registers these routes on
its blueprint (`register`), so their endpoints are `facilitator.run_again` and
`facilitator.join_check`; the rules are `shared.meeting.again` and `shared.lan`.

- `POST /sessions/<id>/again` (CSRF): a new waiting session with the same guide (as it is now),
  unit, title and language, a new code and projector key; opens its console.
- `GET /console/<id>/join-check`: the server resolves the join link's host and tries its port,
  on loopback and on this machine's own addresses only, and says what it found.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shared import access, lan
from shared.db import get_db
from shared.errors import DialogrumError
from shared.meeting import again
from shared.models import Meeting
from shared.uow import unit_of_work
from shared.urls import base_url


def _managed(meeting_id: str) -> Meeting:
    try:
        return access.managed_meeting(get_db().session, current_user, meeting_id)
    except DialogrumError as exc:
        abort(exc.status)


@login_required
def run_again(meeting_id: str):
    """Run a session again: its console opens on the new, waiting session."""
    db = get_db().session
    old = _managed(meeting_id)
    title = old.title
    try:
        with unit_of_work(get_db(), session=db) as work:
            new_id = again.run_again(work, old.id, facilitator_id=current_user.id)
    except DialogrumError as exc:
        if exc.code == "not_found":
            flash(_("“%(title)s” cannot run again: its guide was deleted. Choose a guide for a new session below.",
                    title=title), "error")
        elif exc.code == "conflict":
            flash(_("“%(title)s” cannot run again: its guide is archived. Bring it back in the guide library, or "
                    "choose another guide below.", title=title), "error")
        else:
            raise
        return redirect(url_for("facilitator.sessions", _anchor="new-heading"))
    flash(_("A new session of “%(title)s”, with a new code and projector view. Start it when the room is ready.",
            title=title), "success")
    return redirect(url_for("facilitator.console", meeting_id=new_id))


@login_required
def join_check(meeting_id: str):
    """The join link as the server sees it: does its host resolve, does its port answer?"""
    meeting = _managed(meeting_id)
    check = lan.check_join_link(f"{base_url()}/j/{meeting.code}", lan.own_addresses())
    return render_template("facilitator/join_check.html", meeting=meeting, check=check)


def register(bp: Blueprint) -> None:
    """Add these routes to the facilitator's blueprint, and the template test the console and the
    projector use for their warning (`join_url is phone_unreachable`)."""
    bp.add_url_rule("/sessions/<meeting_id>/again", view_func=run_again, methods=["POST"])
    bp.add_url_rule("/console/<meeting_id>/join-check", view_func=join_check)
    bp.add_app_template_test(lan.unreachable_for_phones, "phone_unreachable")
