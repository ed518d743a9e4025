"""The report's closing summary per section and the comments' thumbs-up (issue 11, sections 3 and 5)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from shared.db import get_db
from shared.models import CommentLike, Participant, utcnow
from tests.conftest import REGIONS_GUIDE, hold_meeting


def test_the_report_sums_up_each_section_and_counts_the_thumbs_up(client, login, make, app):
    fac = make.user("facilitator")
    mid = make.meeting(fac, guide_id=make.guide(REGIONS_GUIDE))
    engine = get_db(app).engine
    ids = hold_meeting(engine, mid, {"c1": ["yes", "yes", "yes", "yes", "yes", "no", "no", "no"]},
                       ["Värva på jobbet", "Fler möten"],
                       conclusions={"c1": "Vi når målet.", "p1": "Värva i trapphusen."})
    with engine.begin() as conn:
        fans = conn.execute(sa.select(Participant.id).where(Participant.meeting_id == mid).limit(2)).scalars().all()
        conn.execute(sa.insert(CommentLike), [{"comment_id": ids["Fler möten"], "participant_id": p,
                                               "created_at": utcnow()} for p in fans])
    login(fac)
    html = client.get(f"/sessions/{mid}/report", headers={"Accept-Language": "sv"}).text
    summaries = re.findall(r'<section class="report-summary".*?</section>', html, re.S)
    assert len(summaries) == 2  # one after each section, in guide order
    first, second = summaries
    assert "Samlad reflektion" in first and "Medlemmar" in first
    # 5 of 8 is 63 % half up (never 62 %), as every screen rounds it.
    assert "Ja 63 % · Nej 38 %" in first and "Röster: 8" in first
    assert "Vi når målet." in first and "Värva i trapphusen." in first
    assert "Ingen slutsats skriven." in first  # c2 has none
    assert "Påverkan" in second and "Vi når målet." not in second
    assert "(Tummen upp: 2)" in html
