"""Credentials that end (issue 15): where a sign-in may send the browser, what a login costs, the
login cookie behind an HTTPS proxy, sign-ins the server can end, and one-time links that die."""

from __future__ import annotations

import pytest

# -- ?next= after signing in (issue 15, point 5) -------------------------------------------------

OFF_SITE = [
    "/\t/evil.example/x",          # POST /login?next=/%09/evil.example/x: browsers drop the tab
    "/\r\n/evil.example/x",
    "/\\evil.example/x",           # browsers read a backslash as a slash
    "\\\\evil.example/x",
    "//evil.example/x",
    " //evil.example/x",
    "https://evil.example/x",
    "javascript:alert(1)",
    "/\x00/evil.example",
    "evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_never_redirects_off_site(client, make, csrf, target):
    user = make.user()
    page = client.get("/login")
    resp = client.post("/login", query_string={"next": target},
                       data={"csrf_token": csrf(page.text), "email": user.email, "password": "correct horse"})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/sessions"


@pytest.mark.parametrize(("target", "expected"), [
    ("/guides", "/guides"),
    ("/sessions?guide=abc&status=live", "/sessions?guide=abc&status=live"),
    ("/console/abc#top", "/console/abc#top"),
])
def test_login_follows_a_same_site_next(client, make, csrf, target, expected):
    user = make.user()
    page = client.get("/login")
    resp = client.post("/login", query_string={"next": target},
                       data={"csrf_token": csrf(page.text), "email": user.email, "password": "correct horse"})
    assert resp.status_code == 302
    assert resp.headers["Location"] == expected
