"""The public blueprint: a guide's roll-up published at an unguessable link (`/f/<key>`).

It lives beside the phone view rather than under facilitator/ because it belongs to the same
audience: people without an account who reach Dialogrum through a link, not through a sign-in.
Like the phone and the projector it needs no login, carries nothing about who wrote what, and must
keep working with the signed-in side's code out of sight; it shares only shared/ (the reads in
shared/reports.py, the chart macros in shared/templates/_charts.html) and imports no other
blueprint. Its template is `templates/public/rollup.html`.
"""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template
from flask_babel import get_timezone

from shared import campaigns, guides, organiser, reports
from shared.db import get_db

bp = Blueprint("public", __name__, template_folder="templates")


@bp.get("/f/<key>")
def rollup(key: str):
    """A guide's results per unit at a published link: no login, no comment text unless chosen."""
    db = get_db().session
    link = organiser.find_public_rollup(db, key)
    if link is None:
        # A link its publisher revoked says so (410, "withdrawn"); an unknown key is a plain 404.
        abort(410 if organiser.revoked_rollup(db, key) else 404)
    page = reports.published_rollup(db, link)
    # Who was asked to hold it, who has (in order) and who has not yet (issue 12, gap 8).
    page["campaigns"] = [campaigns.progress(db, c, get_timezone()) for c in campaigns.for_guide(db, link.guide_id)]
    # With a campaign its block is the one list of who has held it; the units that held the guide
    # without being asked are named beside it, not in a second "who has held it" list.
    asked = {u.unit.name.strip().lower() for p in page["campaigns"] for u in [*p.held, *p.not_yet]}
    page["held_unasked"] = [u for u in page["by_unit"]["units"]
                            if u["unit"] != "—" and u["unit"].strip().lower() not in asked]
    resp = make_response(render_template("public/rollup.html", labels=guides.VOTE_LABELS[page["guide"].language],
                                         **page))
    resp.headers["X-Robots-Tag"] = "noindex"
    resp.headers["Cache-Control"] = "no-store"
    return resp
