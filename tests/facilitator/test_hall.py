"""Pages of issue 10, sections 2 and 3, and issue 12, defect 5, through the test client: "Run
again" (a POST with CSRF), the new-session form's defaults for a Swedish facilitator, the warning
when the join link names this computer itself, and the join-link check. Join links here are
loopback or documentation addresses (RFC 5737), and the check must not connect to the latter."""

from __future__ import annotations

import re
import socket

import sqlalchemy as sa

from shared.models import Guide, Meeting
from tests.conftest import csrf_token

SV = {"Accept-Language": "sv"}


def _run(app, statement):
    """Run one statement in a transaction of its own (not through the `db` fixture: its app
    context would be the test client's too, and keep the first request's language)."""
    from shared.db import get_db

    with app.app_context(), get_db(app).engine.begin() as conn:
        result = conn.execute(statement)
        return result.all() if result.returns_rows else None


def _selected(html: str, name: str) -> str | None:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    found = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*selected', select)
    return (found.group(1) or found.group(2)) if found else None


def test_run_again_opens_a_new_session_and_says_so_when_the_guide_is_gone(app, client, login, make):
    user = make.user()
    old_id = make.meeting(user, title="Höstmöte", unit="Region Syd")
    login(user)
    page = client.get("/sessions", headers=SV).text
    form = re.search(rf'<form method="post" action="/sessions/{old_id}/again"[^>]*>.*?</form>', page, re.S)
    assert form and "Kör igen" in form.group(0)
    assert client.post(f"/sessions/{old_id}/again").status_code == 400  # no CSRF token
    resp = client.post(f"/sessions/{old_id}/again", data={"csrf_token": csrf_token(page)}, headers=SV)
    new_id = resp.headers["Location"].rsplit("/", 1)[-1]
    assert resp.status_code == 302 and resp.headers["Location"] == f"/console/{new_id}" and new_id != old_id
    console = client.get(resp.headers["Location"], headers=SV).text
    assert "Ett nytt möte av ”Höstmöte”" in console
    (new,) = _run(app, sa.select(Meeting.title, Meeting.unit, Meeting.status, Meeting.facilitator_id)
                  .where(Meeting.id == new_id))
    assert tuple(new) == ("Höstmöte", "Region Syd", "waiting", user.id)

    # The guide deleted: said plainly in Swedish, and nothing is created.
    _run(app, sa.update(Meeting).where(Meeting.id == old_id).values(guide_id=None))
    resp = client.post(f"/sessions/{old_id}/again", data={"csrf_token": csrf_token(page)}, headers=SV,
                       follow_redirects=True)
    assert "”Höstmöte” kan inte köras igen: dess guide har raderats." in resp.text
    assert _run(app, sa.select(sa.func.count()).select_from(Meeting)) == [(2,)]

    # Somebody else's session is not theirs to run again.
    others = make.meeting(make.user())
    assert client.post(f"/sessions/{others}/again", data={"csrf_token": csrf_token(page)}).status_code == 403


def test_a_swedish_facilitator_starts_with_a_swedish_guide_then_with_their_last_guide_and_unit(app, client, login,
                                                                                               make):
    user = make.user()
    login(user)
    guides = {language: gid for gid, language in _run(app, sa.select(Guide.id, Guide.language)
                                                        .where(Guide.builtin_key.is_not(None)))}
    page = client.get("/sessions", headers=SV).text
    assert _selected(page, "guide_id") == guides["sv"]  # not the Danish guide first in the list
    make.meeting(user, guide_id=guides["en"], unit="Kreds 7")
    page = client.get("/sessions", headers=SV).text
    assert _selected(page, "guide_id") == guides["en"]
    assert re.search(r'name="unit"[^>]*value="Kreds 7"', page)
    # ?guide= from the guide library still chooses the guide.
    assert _selected(client.get(f"/sessions?guide={guides['da']}", headers=SV).text, "guide_id") == guides["da"]


def test_the_loopback_warning_shows_on_console_and_projector_only_when_it_should(app, client, login, make):
    user = make.user()
    meeting_id = make.meeting(user)
    ((key,),) = _run(app, sa.select(Meeting.projector_key).where(Meeting.id == meeting_id))
    login(user)
    # None: the request's own host, the test client's "localhost"
    for base, warned in (("http://127.0.0.1:5000", True), ("http://localhost:5000", True),
                         ("http://203.0.113.10:5000", False), (None, True)):
        app.config["BASE_URL"] = base
        console = client.get(f"/console/{meeting_id}", headers=SV).text
        projector = client.get(f"/p/{key}?lang=sv").text
        for html in (console, projector):
            assert ('id="lan-warning"' in html) is warned, (base, html[:200])
            assert ("Telefonerna kan inte nå den här deltagarlänken" in html) is warned
        assert f'href="/console/{meeting_id}/join-check"' in console


def test_the_join_link_check_tries_this_machine_only(app, client, login, make, monkeypatch):
    user = make.user()
    meeting_id = make.meeting(user)
    login(user)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        app.config["BASE_URL"] = f"http://127.0.0.1:{port}"
        page = client.get(f"/console/{meeting_id}/join-check", headers=SV).text
        assert 'data-outcome="answers"' in page and f"127.0.0.1, port {port}" in page.replace("porten", "port")
        assert 'id="lan-warning"' in page
    page = client.get(f"/console/{meeting_id}/join-check", headers=SV).text
    assert 'data-outcome="refused"' in page and "inget svarar" in page

    def refuse(*args, **kwargs):
        raise AssertionError(f"the check connected to {args}")

    # A documentation address that is not this machine's: resolved, never connected to.
    monkeypatch.setattr(socket, "create_connection", refuse)
    app.config["BASE_URL"] = "http://203.0.113.10:5000"
    page = client.get(f"/console/{meeting_id}/join-check", headers=SV).text
    assert 'data-outcome="not_tried"' in page and 'id="lan-warning"' not in page
    assert "203.0.113.10 är inte en adress till den här datorn" in page
    other = make.meeting(make.user())
    assert client.get(f"/console/{other}/join-check").status_code == 403


def test_a_campaign_the_unit_has_not_held_yet_chooses_the_guide_over_habit(app, client, login, make):
    """Issue 12 polish, point 5: a facilitator in a unit asked by an open campaign starts the form
    with the campaign's guide, not the last guide they used; once the unit has held it, or the
    campaign is closed, their habit chooses again."""
    import datetime as dt

    from shared import campaigns, organiser
    from shared.db import get_db
    from shared.models import Campaign, User

    boss, kim = make.user("organiser"), make.user()
    guides = {language: gid for gid, language in _run(app, sa.select(Guide.id, Guide.language)
                                                        .where(Guide.builtin_key.is_not(None)))}
    with app.app_context():
        db = get_db(app).session
        unit = organiser.add_unit(db, "Region Syd")
        db.flush()
        db.get(User, kim.id).unit_id = unit.id
        campaign_id = campaigns.save_campaign(db, db.get(User, boss.id), guide_id=guides["sv"], unit_ids=[unit.id],
                                              deadline="2099-06-30").id
        db.commit()
        db.remove()
    make.meeting(kim, guide_id=guides["en"], unit="Region Syd")  # the habit: the English guide
    login(kim)
    assert _selected(client.get("/sessions", headers=SV).text, "guide_id") == guides["sv"]
    # ?guide= still wins.
    assert _selected(client.get(f"/sessions?guide={guides['da']}", headers=SV).text, "guide_id") == guides["da"]

    # Closed: the habit again.
    _run(app, sa.update(Campaign).where(Campaign.id == campaign_id).values(closed_at=sa.func.now()))
    assert _selected(client.get("/sessions", headers=SV).text, "guide_id") == guides["en"]
    # Open again, and the unit has held it: the habit too.
    _run(app, sa.update(Campaign).where(Campaign.id == campaign_id).values(closed_at=None))
    assert _selected(client.get("/sessions", headers=SV).text, "guide_id") == guides["sv"]
    held = make.meeting(kim, guide_id=guides["sv"], unit="Region Syd")
    started = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    _run(app, sa.update(Meeting).where(Meeting.id == held).values(status="ended", started_at=started,
                                                                   ended_at=started + dt.timedelta(hours=1)))
    make.meeting(kim, guide_id=guides["da"], unit="Region Syd")  # the latest habit now
    assert _selected(client.get("/sessions", headers=SV).text, "guide_id") == guides["da"]
