"""REST v1's campaigns (issue 12, gap 8): GET /campaigns and GET /campaigns/{id} with who has held
the guide, in order, and who has not yet; a held unit's session id only for whoever may see it.
The rules themselves: tests/shared/test_campaigns.py."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from shared import campaigns, organiser
from shared.db import get_db
from shared.models import Meeting, User
from tests.conftest import REGIONS_GUIDE


def test_campaigns_answer_held_in_order_and_not_yet(app, client, make):
    boss, kim = make.user("organiser"), make.user("facilitator")
    guide_id = make.guide(REGIONS_GUIDE)
    held_by_kim = make.meeting(kim, guide_id=guide_id, unit="Region Stockholm", title="Sthlm")
    held_by_boss = make.meeting(boss, guide_id=guide_id, unit="Region Väst", title="Väst")
    with app.app_context():
        db = get_db().session
        ids = [organiser.add_unit(db, name).id for name in ("Region Väst", "Region Stockholm", "Region Norr")]
        for meeting_id, day in ((held_by_kim, 3), (held_by_boss, 9)):
            started = dt.datetime(2026, 4, day, 18, tzinfo=dt.UTC)
            db.execute(sa.update(Meeting).where(Meeting.id == meeting_id).values(status="ended", started_at=started))
        campaign = campaigns.save_campaign(db, db.get(User, boss.id), guide_id=guide_id, unit_ids=ids,
                                           starts_on="2026-04-01", deadline="2026-04-30", title="Våren")
        db.commit()
        campaign_id = campaign.id
        db.remove()

    as_boss = {"Authorization": f"Bearer {make.token(boss)}"}
    as_kim = {"Authorization": f"Bearer {make.token(kim)}"}
    listed = client.get("/api/v1/campaigns", headers=as_boss)
    assert listed.status_code == 200 and [c["id"] for c in listed.get_json()] == [campaign_id]
    body = client.get(f"/api/v1/campaigns/{campaign_id}", headers=as_boss).get_json()
    assert body["title"] == "Våren" and body["guide"]["id"] == guide_id and body["status"] == "open"
    assert (body["starts_on"], body["deadline"]) == ("2026-04-01", "2026-04-30")
    assert [(h["unit"], h["first_held_on"], h["session_id"]) for h in body["held"]] == [
        ("Region Stockholm", "2026-04-03", held_by_kim), ("Region Väst", "2026-04-09", held_by_boss)]
    assert [n["unit"] for n in body["not_yet"]] == ["Region Norr"] and body["not_yet"][0]["overdue"]

    # A facilitator sees the progress, but the id only of a session that is theirs.
    mine = client.get(f"/api/v1/campaigns/{campaign_id}", headers=as_kim).get_json()
    assert [h["session_id"] for h in mine["held"]] == [held_by_kim, None]

    assert client.get("/api/v1/campaigns/99999", headers=as_boss).status_code == 404
    assert client.get("/api/v1/campaigns").status_code == 401


def test_the_openapi_document_has_the_campaigns(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert {"/campaigns", "/campaigns/{campaign_id}"} <= set(doc["paths"])
    schema = doc["components"]["schemas"]["Campaign"]
    assert {"held", "not_yet", "deadline", "units"} <= set(schema["properties"])
