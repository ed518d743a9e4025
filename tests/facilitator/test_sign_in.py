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
    "evil.example",
]


@pytest.mark.parametrize("target", [*OFF_SITE, "/\x00/evil.example", "/\x7f/x", "", None, "/" + "a" * 3000])
def test_same_site_path_refuses_what_a_browser_could_read_as_another_site(target):
    from shared.urls import same_site_path

    assert same_site_path(target) is None


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


# -- equal cost for unknown and known e-mails (issue 15, point 7) ---------------------------------


def _hash_calls(app, monkeypatch, email: str, password: str) -> list[str]:
    """The password-hash computations (their methods) that one sign-in attempt costs."""
    import werkzeug.security

    from shared import accounts
    from shared.db import get_db

    calls: list[str] = []
    real = werkzeug.security._hash_internal

    def counting(method, salt, password):
        calls.append(method)
        return real(method, salt, password)

    with app.app_context():
        accounts.authenticate(get_db().session, "warm-up@example.org", "x")  # a one-time set-up may cost
        monkeypatch.setattr(werkzeug.security, "_hash_internal", counting)
        accounts.authenticate(get_db().session, email, password)
        monkeypatch.setattr(werkzeug.security, "_hash_internal", real)
        get_db().session.remove()
    return calls


def test_unknown_and_known_emails_cost_the_same(app, make, monkeypatch):
    from shared import accounts
    from shared.db import get_db
    from shared.models import User

    known = make.user()
    sleeper = make.user()
    with app.app_context():
        get_db().session.get(User, sleeper.id).active = False
        invited = accounts.create_user(get_db().session, email="invited@example.org", role="facilitator")
        get_db().session.commit()
        stored = get_db().session.get(User, known.id).password_hash.split("$", 1)[0]
        assert invited.password_hash is None
        get_db().session.remove()
    attempts = {
        "known, wrong password": (known.email, "wrong password"),
        "known, right password": (known.email, "correct horse"),
        "unknown": ("nobody@example.org", "wrong password"),
        "not an e-mail": ("nobody", "wrong password"),
        "deactivated": (sleeper.email, "correct horse"),
        "no password yet": ("invited@example.org", "whatever it is"),
    }
    costs = {what: _hash_calls(app, monkeypatch, *args) for what, args in attempts.items()}
    assert costs == {what: [stored] for what in attempts}, costs


# -- the login cookie behind an HTTPS proxy, and HSTS (issue 15, point 8) -------------------------


def _sign_in_cookie(client, user, csrf, headers: dict) -> str:
    page = client.get("/login", headers=headers)
    resp = client.post("/login", data={"csrf_token": csrf(page.text), "email": user.email,
                                       "password": "correct horse"}, headers=headers)
    assert resp.status_code == 302
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, resp.headers
    return cookies[-1]


@pytest.fixture
def proxied(sqlite_url, tmp_path):
    """An app behind a trusted reverse proxy, with HSTS switched on."""
    from shared import library
    from shared.db import get_db
    from tests.conftest import make_app

    application = make_app(sqlite_url, tmp_path, TRUST_PROXY=True, HSTS_SECONDS=31536000)
    with application.app_context():
        library.install_builtins(get_db().session)
        get_db().session.commit()
        get_db().session.remove()
    yield application
    get_db(application).dispose()


def test_login_cookie_is_secure_when_the_proxy_says_https(proxied, csrf):
    from tests.conftest import Builders

    user = Builders(proxied).user()
    # (Flask-WTF checks the Referer on HTTPS: a browser sends it for a same-origin form.)
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", "Referer": "https://localhost/login"}
    cookie = _sign_in_cookie(proxied.test_client(), user, csrf, https)
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The same app reached over plain HTTP (a health check, a LAN test) keeps a cookie that works.
    plain = _sign_in_cookie(proxied.test_client(), user, csrf, {})
    assert "; Secure" not in plain


def test_hsts_is_sent_over_https_when_switched_on(proxied, client):
    https = proxied.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert https.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in proxied.test_client().get("/login").headers
    # Off unless chosen: an installation on plain HTTP in a hall must not be told to insist on HTTPS.
    assert "Strict-Transport-Security" not in client.get("/login", base_url="https://localhost").headers


# -- sign-ins the server can end (issue 15, point 2) ---------------------------------------------


def _signed_in_cookie(app, user, csrf) -> tuple:
    """A browser signed in as `user`, and a copy of its login cookie (what a thief would keep)."""
    browser = app.test_client()
    page = browser.get("/login")
    assert browser.post("/login", data={"csrf_token": csrf(page.text), "email": user.email,
                                         "password": "correct horse"}).status_code == 302
    assert browser.get("/sessions").status_code == 200
    return browser, browser.get_cookie("session").value


def _replay(app, cookie: str) -> int:
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/sessions").status_code


def test_logout_ends_a_captured_cookie(app, make, csrf):
    user = make.user()
    browser, captured = _signed_in_cookie(app, user, csrf)
    _other_browser, other = _signed_in_cookie(app, user, csrf)
    assert _replay(app, captured) == 200
    page = browser.get("/sessions")
    assert browser.post("/logout", data={"csrf_token": csrf(page.text)}).status_code == 302
    assert _replay(app, captured) == 302
    # Signing out ends every sign-in of that user (one version per user, kept in the database).
    assert _replay(app, other) == 302


def test_a_password_reset_ends_older_sign_ins_and_older_links(app, make, csrf):
    from shared import organiser
    from shared.db import get_db

    user = make.user()
    _browser, captured = _signed_in_cookie(app, user, csrf)
    with app.app_context():
        first = organiser.reset_password(get_db().session, user.id)
        second = organiser.reset_password(get_db().session, user.id)
        get_db().session.commit()
        get_db().session.remove()
    newcomer = app.test_client()
    assert newcomer.get(f"/setup/{first}").status_code == 404  # a newer link voids it
    page = newcomer.get(f"/setup/{second}")
    assert page.status_code == 200
    done = newcomer.post(f"/setup/{second}", data={"csrf_token": csrf(page.text), "password": "a new password",
                                                    "confirm": "a new password"})
    assert done.status_code == 302 and newcomer.get("/sessions").status_code == 200
    assert _replay(app, captured) == 302  # the reset ended the older sign-in
    assert newcomer.get(f"/setup/{second}").status_code == 404  # used once


# -- one first-run link that ends (issue 15, point 9a) --------------------------------------------


def _first_run(app) -> str | None:
    """What `dialogrum serve` (or `dialogrum first-run-link`) of one process prints."""
    from shared import accounts
    from shared.db import get_db

    with app.app_context():
        secret = accounts.first_run_link(get_db().session)
        get_db().session.commit()
        get_db().session.remove()
    return secret


def _setup(app, secret: str, csrf, **form) -> object:
    browser = app.test_client()
    page = browser.get(f"/setup/{secret}")
    if page.status_code != 200:
        return page
    return browser.post(f"/setup/{secret}", data={"csrf_token": csrf(page.text), "password": "long enough",
                                                   "confirm": "long enough", **form})


@pytest.fixture
def second_process(app, db_url, tmp_path):
    """Another process of the same deployment: the same database and secret key."""
    from shared.db import get_db
    from tests.conftest import make_app

    other = make_app(db_url, tmp_path, SECRET_KEY=app.config["SECRET_KEY"])
    yield other
    get_db(other).dispose()


def _users(app) -> list[tuple]:
    import sqlalchemy as sa

    from shared.db import get_db
    from shared.models import User

    with app.app_context():
        rows = get_db().session.execute(sa.select(User.email, User.role, User.password_hash).order_by(User.id)).all()
        get_db().session.remove()
    return [tuple(r) for r in rows]


def test_every_process_prints_the_same_single_first_run_link(app, second_process, csrf):
    first, second = _first_run(app), _first_run(second_process)
    assert first and first == second  # one link, whichever process printed it
    assert _first_run(app) == first  # and again after a restart
    assert _setup(app, first, csrf, email="boss@example.org").status_code == 302
    before = _users(app)
    # Posting to the link "the other process" printed neither creates nor changes an account.
    assert _setup(second_process, second, csrf, email="mallory@example.org").status_code == 404
    assert _users(app) == before
    assert [(email, role) for email, role, _ in before] == [("boss@example.org", "organiser")]
    assert _first_run(app) is None and _first_run(second_process) is None


def test_the_first_run_link_dies_once_anybody_can_sign_in(app, make, csrf):
    secret = _first_run(app)
    make.user("facilitator", email="early@example.org")  # e.g. `dialogrum user create`
    resp = _setup(app, secret, csrf, email="mallory@example.org")
    assert resp.status_code == 404
    assert {email for email, *_ in _users(app)} <= {"early@example.org", "organiser@dialogrum.invalid"}


def test_the_first_run_link_never_modifies_an_existing_account(app, csrf):
    from shared import organiser
    from shared.db import get_db

    with app.app_context():
        organiser.invite(get_db().session, email="real@example.org", role="organiser")
        get_db().session.commit()
        get_db().session.remove()
    secret = _first_run(app)
    taken = _setup(app, secret, csrf, email="Real@Example.org")
    assert taken.status_code == 200 and "exists already" in taken.text
    assert ("real@example.org", "organiser", None) in _users(app)
    assert _setup(app, secret, csrf, email="boss@example.org").status_code == 302
    assert ("real@example.org", "organiser", None) in _users(app)  # the invited organiser is untouched
    assert [e for e, _r, pw in _users(app) if pw] == ["boss@example.org"]


def test_an_invitation_dies_on_use_and_when_a_newer_one_is_issued(app, csrf):
    from shared import accounts, organiser
    from shared.db import get_db
    from shared.models import User

    with app.app_context():
        user, first = organiser.invite(get_db().session, email="new@example.org", role="facilitator")
        second = accounts.create_link(get_db().session, get_db().session.get(User, user.id), "invite")
        get_db().session.commit()
        get_db().session.remove()
    assert _setup(app, first, csrf).status_code == 404
    assert _setup(app, second, csrf).status_code == 302
    assert _setup(app, second, csrf).status_code == 404


# -- a login limit that slows guessing but locks nobody out (issue 15, point 6) ------------------


def _attempt(client, csrf, email: str, password: str = "a wrong guess", address: str = "198.51.100.7"):
    page = client.get("/login", environ_base={"REMOTE_ADDR": address})
    return client.post("/login", data={"csrf_token": csrf(page.text), "email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers={"Accept-Language": "en"})


def test_the_login_limit_keys_on_the_address_as_normalised(client, make, csrf):
    victim = make.user(email="victim@example.org")
    for _ in range(10):
        assert _attempt(client, csrf, victim.email).status_code == 401
    # Spaces and capitals are the same account: no fresh budget (they used to be).
    for variant in (" victim@example.org", "Victim@Example.org ", "VICTIM@EXAMPLE.ORG"):
        resp = _attempt(client, csrf, variant, address="198.51.100.8")
        assert resp.status_code == 429 and "Too many attempts" in resp.text


def test_a_stranger_cannot_lock_the_owner_out(app, make, csrf):
    owner = make.user(email="owner@example.org")
    laptop = app.test_client()
    assert _attempt(laptop, csrf, owner.email, "correct horse", address="192.0.2.10").status_code == 302
    laptop.post("/logout", data={"csrf_token": csrf(laptop.get("/sessions").text)})
    # Guesses from many addresses use up the account's budget for browsers it never signed in on...
    stranger = app.test_client()
    codes = [_attempt(stranger, csrf, owner.email, address=f"203.0.113.{i}").status_code for i in range(1, 40)]
    assert 429 in codes
    assert _attempt(stranger, csrf, owner.email, "correct horse", address="203.0.113.99").status_code == 429
    # ...while the owner's own browser, where they signed in before, still gets in at once.
    assert _attempt(laptop, csrf, owner.email, "correct horse", address="192.0.2.10").status_code == 302
    assert laptop.get("/sessions").status_code == 200


def test_one_address_cannot_spray_many_accounts(client, make, csrf):
    codes = [_attempt(client, csrf, f"user{i}@example.org").status_code for i in range(31)]
    assert codes[:30] == [401] * 30 and codes[30] == 429


def test_the_docs_state_the_login_limits_the_code_keeps():
    from shared import signin
    from tests.conftest import ROOT

    text = " ".join((ROOT / "docs" / "security.md").read_text(encoding="utf-8").split())
    minute, hour = signin.ACCOUNT_LIMITS
    assert f"| {signin.ADDRESS_LIMIT.amount} attempts a minute |" in text
    assert f"| {minute.amount} attempts a minute and {hour.amount} an hour |" in text
    assert f"| {signin.DEVICE_LIMIT.amount} attempts a minute for that browser alone |" in text
    assert signin.ADDRESS_LIMIT.get_expiry() == minute.get_expiry() == 60 and hour.get_expiry() == 3600
    assert f"kept for {signin.DEVICE_MAX_AGE // 86400} days" in text


def test_the_placeholder_goes_once_somebody_can_sign_in(app, make):
    from shared import accounts, organiser
    from shared.db import get_db

    assert _first_run(app)
    make.user("organiser", email="boss@example.org")
    assert _first_run(app) is None
    assert [email for email, *_ in _users(app)] == ["boss@example.org"]
    with app.app_context():
        assert organiser.open_links(get_db().session) == {}
        assert accounts.find_user(get_db().session, accounts.PLACEHOLDER_EMAIL) is None
        get_db().session.remove()
