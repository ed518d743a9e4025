"""Input no database can take is a 4xx naming the field, on pages as in the API, and a real 500
says `server_error`, is logged once with a request id and shows that id (issue 15, point 9).

On both databases: PostgreSQL refuses NUL in a query parameter outright, both refuse a lone
surrogate (UTF-8), and SQLite refuses an integer beyond 64 bits.
"""

from __future__ import annotations

import logging

import pytest

from tests.conftest import csrf_token, make_app

NUL = "%00"
SURROGATE = "%ED%A0%80"  # U+D800 as (invalid) UTF-8


@pytest.fixture
def organiser(make):
    return make.user("organiser")


@pytest.fixture
def signed_in(client, login, organiser):
    assert login(organiser).status_code == 302
    return client


def test_a_nul_in_a_form_field_is_400_naming_the_field(client):
    page = client.get("/login")
    resp = client.post("/login", data={"csrf_token": csrf_token(page.text), "email": "a\x00@example.org",
                                       "password": "correct horse"})
    assert resp.status_code == 400
    assert "“email”" in resp.text and "U+0000" in resp.text
    assert resp.mimetype == "text/html"


def test_a_nul_in_a_query_field_is_400_naming_the_field(signed_in):
    resp = signed_in.get(f"/sessions?unit=a{NUL}")
    assert resp.status_code == 400
    assert "“unit”" in resp.text


def test_a_nul_in_the_new_session_form_is_400_naming_the_title(signed_in, make):
    gid = make.guide()
    page = signed_in.get("/sessions")
    resp = signed_in.post("/sessions", data={"csrf_token": csrf_token(page.text), "guide_id": gid,
                                             "title": "Mø\x00de"})
    assert resp.status_code == 400
    assert "“title”" in resp.text


@pytest.mark.parametrize("path", [f"/f/a{NUL}b", f"/p/a{NUL}b", f"/j/A{NUL}B", f"/guides/a{NUL}/rollup",
                                  f"/console/a{SURROGATE}b", f"/sessions/a{NUL}/report"])
def test_path_values_no_query_can_carry_are_404(signed_in, path):
    resp = signed_in.get(path)
    assert resp.status_code == 404
    assert "Dialogrum" in resp.text  # the styled page, not werkzeug's


def test_ids_beyond_64_bits_are_404(signed_in):
    page = signed_in.get("/users")
    token = csrf_token(page.text)
    for path in (f"/users/{2**70}/active", f"/units/{2**64}/active", f"/users/{2**63}/reset"):
        assert signed_in.post(path, data={"csrf_token": token, "active": "0"}).status_code == 404, path


def test_socket_commands_refuse_ids_no_database_can_take(app, make):
    """The socket side reaches the rules directly: they refuse what no query can carry."""
    from shared import meeting as rules
    from shared.db import get_db
    from shared.errors import DialogrumError
    from shared.ids import hash_token
    from shared.uow import unit_of_work

    mid = make.meeting()
    with app.app_context():
        with unit_of_work(get_db()) as work:
            with pytest.raises(DialogrumError) as refused:
                rules.moderate(work, mid, 2**70, hidden=True)
            assert refused.value.code == "unknown_comment"
            for bad in ("a\x00b", "a\ud800b"):
                with pytest.raises(DialogrumError) as refused:
                    rules.get_meeting(work.conn, bad)
                assert refused.value.code == "unknown_session"
                assert rules.find_by_projector_key(work.conn, bad) is None
                with pytest.raises(DialogrumError):
                    rules.create_meeting(work, guide_id=bad, title="x", facilitator_id=None)
        assert len(hash_token("tok\ud800en")) == 64  # a socket's JSON token never crashes the lookup
        get_db().session.remove()


# -- a real 500 ----------------------------------------------------------------------------------


@pytest.fixture
def fragile(db_url, tmp_path, monkeypatch):
    """An app whose guide list fails, with exceptions handled as in production."""
    from shared import library

    application = make_app(db_url, tmp_path, PROPAGATE_EXCEPTIONS=False)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(library, "list_guides", broken)
    return application


def _logged(caplog, rid: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR and rid in r.getMessage()]


def test_a_server_error_under_the_api_says_server_error_with_its_request_id(fragile, make, caplog):
    from tests.conftest import Builders

    build = Builders(fragile)
    token = build.token(build.user())
    caplog.set_level(logging.ERROR)
    resp = fragile.test_client().get("/api/v1/guides", headers={"Authorization": f"Bearer {token}",
                                                              "Accept-Language": "da"})
    assert resp.status_code == 500
    body = resp.get_json()
    rid = resp.headers["X-Request-ID"]
    assert body == {"error": "server_error", "message": "Noget gik galt på serveren. Prøv igen.",
                    "request_id": rid}
    records = _logged(caplog, rid)
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    assert records[0].exc_info and "the disk is on fire" in str(records[0].exc_info[1])


def test_a_server_error_on_a_page_is_a_translated_page_with_its_request_id(fragile, caplog):
    from tests.conftest import Builders

    user = Builders(fragile).user("organiser")
    client = fragile.test_client()
    page = client.get("/login")
    client.post("/login", data={"csrf_token": csrf_token(page.text), "email": user.email,
                                "password": "correct horse"})
    caplog.set_level(logging.ERROR)
    resp = client.get("/guides?lang=sv")
    assert resp.status_code == 500
    rid = resp.headers["X-Request-ID"]
    assert resp.mimetype == "text/html"
    assert "Något gick fel" in resp.text and rid in resp.text
    assert len(_logged(caplog, rid)) == 1


def test_every_answer_carries_a_request_id(client):
    first, second = client.get("/healthz"), client.get("/")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    # An id from an untrusted client is not taken over (it would let anyone forge log lines).
    assert client.get("/", headers={"X-Request-ID": "forged-id-123"}).headers["X-Request-ID"] != "forged-id-123"
