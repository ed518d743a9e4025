"""The page for a dialogue held on paper (issue 11, section 1) through the test client: reachable
from the sessions and guide pages, errors next to their fields in the page's language with
everything typed kept and nothing saved, then the report with the mark and the summed counts."""

from __future__ import annotations

import datetime as dt
import re

from shared.db import get_db
from shared.models import Meeting
from tests.conftest import REGIONS_GUIDE, csrf_token

SV = {"Accept-Language": "sv"}


def _paper_sessions(app) -> int:
    with app.app_context():
        n = get_db().session.query(Meeting).filter_by(entered_by_hand=True).count()
        get_db().session.remove()
        return n


def test_a_paper_dialogue_is_recorded_with_errors_next_to_the_fields_first(app, client, login, make):
    user = make.user()
    gid = make.guide(REGIONS_GUIDE)
    login(user)
    assert '/sessions/paper"' in client.get("/sessions", headers=SV).text
    assert f"/sessions/paper?guide={gid}" in client.get(f"/guides/{gid}", headers=SV).text
    chooser = client.get("/sessions/paper", headers=SV).text
    assert "Registrera en dialog på papper" in chooser and f'value="{gid}"' in chooser

    page = client.get(f"/sessions/paper?guide={gid}", headers=SV).text
    assert '<label for="yes-c1">Händer: Ja</label>' in page
    assert 'id="unsure-c1"' not in page  # c1 offers yes and no only
    assert 'id="comments-p1"' in page
    form = {"csrf_token": csrf_token(page), "guide": gid, "held_on": "2099-01-01", "participants": "5",
            "unit": "Region Gotland", "yes-c1": "4", "no-c1": "2", "unsure-c2": "-1", "conclusion-c2": "Oklart",
            "comments-p1": "Fler möten\nRing runt"}
    refused = client.post(f"/sessions/paper?guide={gid}", data=form, headers=SV)
    assert refused.status_code == 422
    html = refused.text
    assert "Inget sparades." in html
    assert 'id="held_on" name="held_on" required value="2099-01-01" aria-invalid="true"' in html
    assert "Skriv dagen då dialogen hölls (inte i framtiden)." in html
    assert 'id="item-c1-errors"' in html and "Händerna på den här punkten blir 6 sammanlagt" in html
    assert re.search(r'name="unsure-c2"[^>]*value="-1" aria-invalid="true"', html)
    assert "Oklart</textarea>" in html and "Fler möten\nRing runt</textarea>" in html
    assert 'value="Region Gotland"' in html
    assert _paper_sessions(app) == 0

    today = dt.datetime.now(dt.UTC).date().isoformat()
    form.update({"csrf_token": csrf_token(html), "held_on": today, "no-c1": "1", "unsure-c2": "1"})
    done = client.post(f"/sessions/paper?guide={gid}", data=form, headers=SV)
    assert done.status_code == 302
    report = client.get(done.headers["Location"], headers=SV).text
    assert "inmatat för hand" in report
    assert "Fler möten" in report and "Oklart" in report
    assert "varav 5 räknade genom handuppräckning" in report
    assert _paper_sessions(app) == 1
    listing = client.get("/sessions", headers=SV).text
    assert 'class="badge by-hand">inmatat för hand</span>' in listing
