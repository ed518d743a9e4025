"""Accounts that end (issue 12, defect 1; issue 15, points 2 and 3): deactivation voids a user's
open password links and sign-ins, a link never reactivates an account, the users table warns about
open links, and API tokens are listed, last used and revoked on pages."""

from __future__ import annotations

import re

from shared.db import get_db
from shared.models import User

LINK_RE = re.compile(r'readonly value="http://dialogrum.test(/setup/[^"]+)"')


def _reset_link(client, csrf, user_id: int) -> str:
    page = client.get("/users")
    resp = client.post(f"/users/{user_id}/reset", data={"csrf_token": csrf(page.text)})
    assert resp.status_code == 200
    return LINK_RE.search(resp.text).group(1)


def _set_active(client, csrf, user_id: int, active: bool):
    page = client.get("/users")
    return client.post(f"/users/{user_id}/active",
                       data={"csrf_token": csrf(page.text), "active": "1" if active else "0", "confirmed": "1"})


def test_a_deactivated_users_open_link_does_not_reactivate_the_account(client, app, login, make, csrf):
    boss = make.user("organiser")
    fac = make.user("facilitator")
    login(boss)
    path = _reset_link(client, csrf, fac.id)
    assert _set_active(client, csrf, fac.id, False).status_code == 302
    # Opened logged out: the link no longer works, and posting to it changes nothing.
    stranger = app.test_client()
    assert stranger.get(path).status_code == 404
    page = stranger.get("/login")  # a valid CSRF token of the stranger's own
    resp = stranger.post(path, data={"csrf_token": csrf(page.text), "password": "a new password",
                                     "confirm": "a new password"})
    assert resp.status_code == 404
    with app.app_context():
        user = get_db().session.get(User, fac.id)
        assert user.active is False
        get_db().session.remove()
    assert stranger.get("/sessions").status_code == 302
    # Reactivating does not bring the voided link back.
    assert _set_active(client, csrf, fac.id, True).status_code == 302
    assert stranger.get(path).status_code == 404


def test_no_password_link_for_a_deactivated_user(client, login, make, csrf):
    boss = make.user("organiser")
    fac = make.user("facilitator")
    login(boss)
    _set_active(client, csrf, fac.id, False)
    page = client.get("/users", headers={"Accept-Language": "en"})
    resp = client.post(f"/users/{fac.id}/reset", data={"csrf_token": csrf(page.text)},
                       headers={"Accept-Language": "en"})
    assert resp.status_code == 409
    assert "/setup/" not in resp.text and "Reactivate" in resp.text


def test_the_users_table_warns_about_open_links(client, login, make, csrf):
    boss = make.user("organiser")
    fac = make.user("facilitator")
    login(boss)
    _reset_link(client, csrf, fac.id)
    page = client.get("/users", headers={"Accept-Language": "en"}).text
    assert "Open password link until" in _row(page, fac.email)
    assert "An open password link works for whoever has it" in page
    _set_active(client, csrf, fac.id, False)
    row = _row(client.get("/users", headers={"Accept-Language": "en"}).text, fac.email)
    assert "Open password link" not in row


def test_deactivation_ends_sign_ins_that_reactivation_does_not_bring_back(client, app, login, make, csrf):
    boss = make.user("organiser")
    fac = make.user("facilitator")
    browser = app.test_client()
    form = browser.get("/login")
    browser.post("/login", data={"csrf_token": csrf(form.text), "email": fac.email, "password": "correct horse"})
    assert browser.get("/sessions").status_code == 200
    login(boss)
    _set_active(client, csrf, fac.id, False)
    assert browser.get("/sessions").status_code == 302
    _set_active(client, csrf, fac.id, True)
    assert browser.get("/sessions").status_code == 302


def _row(html: str, email: str) -> str:
    for row in re.findall(r"<tr[ >].*?</tr>", html, re.S):
        if email in row:
            return row
    raise AssertionError(f"no row for {email}")


# -- API tokens on pages (issue 15, point 3) ------------------------------------------------------

TOKEN_RE = re.compile(r'id="new-token" type="text" readonly value="(dlg_[^"]+)"')


def _api(app, token: str) -> int:
    return app.test_client().get("/api/v1/guides", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_user_makes_lists_and_revokes_their_own_tokens(client, app, login, make, csrf):
    fac = make.user("facilitator")
    login(fac)
    page = client.get("/tokens", headers={"Accept-Language": "sv"})
    assert page.status_code == 200 and "API-nycklar" in page.text
    made = client.post("/tokens", data={"csrf_token": csrf(page.text), "label": "Mitt skript"},
                       headers={"Accept-Language": "sv"})
    assert made.status_code == 200
    token = TOKEN_RE.search(made.text).group(1)
    assert _api(app, token) == 200
    listing = client.get("/tokens", headers={"Accept-Language": "en"}).text
    assert token not in listing  # shown once, never again
    row = _row(listing, "Mitt skript")
    assert "never" not in row  # last used: just now
    token_id = re.search(r"/tokens/(\d+)/revoke", row).group(1)
    revoked = client.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf(listing)})
    assert revoked.status_code == 302 and revoked.headers["Location"] == "/tokens"
    assert _api(app, token) == 401
    assert "Revoked" in _row(client.get("/tokens", headers={"Accept-Language": "en"}).text, "Mitt skript")


def test_only_the_owner_or_an_organiser_revokes_a_token(client, app, login, make, csrf):
    fac, other, boss = make.user("facilitator"), make.user("facilitator"), make.user("organiser")
    theirs = make.token(other)
    mine = make.token(fac)
    login(fac)
    page = client.get("/tokens")
    assert other.email not in page.text
    assert client.get("/users/tokens").status_code == 403
    with app.app_context():
        from shared import accounts

        their_id = accounts.find_token(get_db().session, theirs).id
        get_db().session.remove()
    assert client.post(f"/tokens/{their_id}/revoke", data={"csrf_token": csrf(page.text)}).status_code == 404
    assert _api(app, theirs) == 200
    # The organiser's view lists everybody's tokens with their owners, and revokes any of them.
    boss_client = app.test_client()
    form = boss_client.get("/login")
    boss_client.post("/login", data={"csrf_token": csrf(form.text), "email": boss.email, "password": "correct horse"})
    everyone = boss_client.get("/users/tokens", headers={"Accept-Language": "en"})
    assert everyone.status_code == 200
    assert fac.email in everyone.text and other.email in everyone.text
    resp = boss_client.post(f"/tokens/{their_id}/revoke", data={"csrf_token": csrf(everyone.text), "back": "all"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/users/tokens"
    assert _api(app, theirs) == 401 and _api(app, mine) == 200
