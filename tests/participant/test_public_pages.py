"""The public blueprint: a guide's roll-up published by an organiser at a link anyone may open,
with units and results of ended sessions only, comments only when chosen, gone once revoked."""

from __future__ import annotations

import re

from shared import meeting as rules
from shared.db import get_db
from shared.uow import unit_of_work
from tests.conftest import REGION_VOTES as ROOMS
from tests.conftest import hold_meeting


def hold(app, meeting_id, votes, comments=(), **kwargs):
    """Hold a session on the app's database (see tests.conftest.hold_meeting)."""
    with app.app_context():
        return hold_meeting(get_db(app).engine, meeting_id, votes, comments, **kwargs)


def _publish(client, regions, csrf, include_comments=False):
    page = client.get(f"/guides/{regions['guide']}/rollup")
    data = {"csrf_token": csrf(page.text)}
    if include_comments:
        data["include_comments"] = "y"
    resp = client.post(f"/guides/{regions['guide']}/public", data=data)
    assert resp.status_code == 302
    page = client.get(f"/guides/{regions['guide']}/rollup").text
    return re.findall(r'href="http://dialogrum.test(/f/[\w-]+)"', page)[0]


def test_public_page_shows_units_and_results_without_comments(client, app, login, regions, csrf):
    login(regions["organiser"])
    assert client.post(f"/guides/{regions['guide']}/public", data={}).status_code == 400  # no CSRF token
    path = _publish(client, regions, csrf)
    anonymous = app.test_client()
    resp = anonymous.get(path, headers={"Accept-Language": "sv"})
    assert resp.status_code == 200
    html = resp.text
    assert '<meta name="robots" content="noindex">' in html
    assert "Förtroendemannadialogen" in html and "Först ut var Region Stockholm" in html
    for unit in ROOMS:
        assert unit in html
    assert "Kommentar från" not in html and "Dialog Region" not in html
    assert html.count('<ul class="unit-chart"') == 3
    # The count beside the share (issue 12, defect 6).
    assert re.search(r'67\xa0% Ja <span class="uc-count">\(2 av 3\)</span>', html)
    assert "Logga ut" not in html


def test_public_page_with_comments_and_revoking(client, app, login, regions, csrf, make):
    login(regions["organiser"])
    path = _publish(client, regions, csrf, include_comments=True)
    anonymous = app.test_client()
    html = anonymous.get(path).text
    assert "Kommentar från Region Syd" in html
    # A hidden comment never shows.
    with app.app_context(), unit_of_work(get_db(app)) as work:
        rules.moderate(work, regions["meetings"]["Region Syd"], regions["comments"]["Kommentar från Region Syd"],
                       hidden=True)
    assert "Kommentar från Region Syd" not in anonymous.get(path).text
    page = client.get(f"/guides/{regions['guide']}/rollup").text
    revoke = re.search(r'action="(/guides/\w+/public/\d+/revoke)"', page).group(1)
    ask = client.post(revoke, data={"csrf_token": csrf(page)})  # a step to confirm it first (issue 12, defect 3)
    assert ask.status_code == 200 and 'name="confirmed" value="1"' in ask.text
    assert anonymous.get(path).status_code == 200
    assert client.post(revoke, data={"csrf_token": csrf(page), "confirmed": "1"}).status_code == 302
    assert anonymous.get(path).status_code == 410  # withdrawn on purpose, and says so
    assert anonymous.get("/f/not-a-key").status_code == 404


def test_public_page_shows_ended_sessions_only(client, app, login, regions, csrf, make):
    live = make.meeting(regions["organiser"], guide_id=regions["guide"], unit="Region Väst", title="Pågår")
    hold(app, live, {"c1": ["yes"]}, end=False)
    login(regions["organiser"])
    html = app.test_client().get(_publish(client, regions, csrf)).text
    assert "Region Väst" not in html and "Region Norr" in html


def _link(app, regions, guide_id=None) -> tuple[int, str]:
    """A public link of the guide (the regions' one unless told), published by the regions' organiser: (id, key)."""
    from shared import organiser
    from shared.models import User

    with app.app_context():
        db = get_db().session
        link = organiser.publish_rollup(db, guide_id or regions["guide"], db.get(User, regions["organiser"].id))
        db.commit()
        found = (link.id, link.key)
        db.remove()
    return found


def test_a_facilitator_cannot_revoke_a_public_link(client, app, login, regions, csrf):
    link_id, key = _link(app, regions)
    anonymous = app.test_client()
    assert anonymous.get(f"/f/{key}").status_code == 200
    login(regions["facilitator"])
    token = csrf(client.get("/tokens").text)  # a valid CSRF token of the facilitator's own session
    resp = client.post(f"/guides/{regions['guide']}/public/{link_id}/revoke",
                       data={"csrf_token": token, "confirmed": "1"})
    assert resp.status_code == 403
    assert anonymous.get(f"/f/{key}").status_code == 200


def test_revoking_a_link_through_another_guide_is_404(client, app, login, regions, csrf, make):
    other_guide = make.guide()
    link_id, key = _link(app, regions)  # the regions' guide's link
    anonymous = app.test_client()
    login(regions["organiser"])
    token = csrf(client.get(f"/guides/{other_guide}/rollup").text)
    resp = client.post(f"/guides/{other_guide}/public/{link_id}/revoke", data={"csrf_token": token, "confirmed": "1"})
    assert resp.status_code == 404
    assert anonymous.get(f"/f/{key}").status_code == 200
    # Through its own guide the same request revokes it: the 404 was the guide's, not the form's.
    resp = client.post(f"/guides/{regions['guide']}/public/{link_id}/revoke",
                       data={"csrf_token": token, "confirmed": "1"})
    assert resp.status_code == 302
    assert anonymous.get(f"/f/{key}").status_code == 410
