"""Fixtures of the shared rules' tests: one guide held in three regions."""

from __future__ import annotations

import pytest

from shared.db import get_db
from tests.conftest import REGIONS_GUIDE, hold_meeting

#: votes per unit: {item: [choices]}; Stockholm and Syd are the facilitator's, Norr the organiser's
REGION_VOTES = {
    "Region Stockholm": {"c1": ["yes", "yes", "no"], "c2": ["unsure", "yes"], "c3": ["no"]},
    "Region Syd": {"c1": ["no", "no"], "c2": ["yes"], "c3": ["yes", "yes"]},
    "Region Norr": {"c1": ["yes"], "c2": [], "c3": ["no", "yes"]},
}


@pytest.fixture
def regions(app, make):
    """REGIONS_GUIDE held and ended in three regions, one comment each: two sessions by a
    facilitator, one by an organiser."""
    boss = make.user("organiser")
    fac = make.user("facilitator")
    gid = make.guide(REGIONS_GUIDE)
    mids = {}
    for i, (unit, votes) in enumerate(REGION_VOTES.items()):
        mids[unit] = make.meeting(fac if i < 2 else boss, guide_id=gid, unit=unit, title=f"Dialog {unit}")
        with app.app_context():
            hold_meeting(get_db(app).engine, mids[unit], votes, [f"Kommentar från {unit}"])
    return {"guide": gid, "meetings": mids, "organiser": boss, "facilitator": fac}
