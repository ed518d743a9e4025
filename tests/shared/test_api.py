"""REST API v1 through the Flask test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest

from shared.uow import Work
from tests.conftest import SMALL_GUIDE


@pytest.fixture
def facilitator(make):
    return make.user("facilitator")


@pytest.fixture
def auth(make, facilitator):
    return {"Authorization": f"Bearer {make.token(facilitator)}"}


def create_session(client, auth, guide_id, **extra):
    resp = client.post("/api/v1/sessions", json={"guide_id": guide_id, "title": "Møde", **extra}, headers=auth)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def control(client, auth, sid, action, **extra):
    return client.post(f"/api/v1/sessions/{sid}/control", json={"action": action, **extra}, headers=auth)


def test_healthz_is_public(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}


@pytest.mark.parametrize("header", [None, "Bearer nope-nope-nope", "Basic abc", "Bearer "])
def test_a_missing_or_bad_token_is_401(client, header):
    headers = {"Authorization": header} if header else {}
    resp = client.get("/api/v1/guides", headers=headers)
    assert resp.status_code == 401
    body = resp.get_json()
    assert body["error"] == "unauthorized"
    assert body["message"]


def test_errors_speak_the_users_language(client):
    danish = client.get("/api/v1/guides", headers={"Accept-Language": "da"}).get_json()
    swedish = client.get("/api/v1/guides", headers={"Accept-Language": "sv-SE,sv;q=0.9"}).get_json()
    english = client.get("/api/v1/guides", headers={"Accept-Language": "en"}).get_json()
    assert danish["error"] == swedish["error"] == english["error"] == "unauthorized"
    assert danish["message"] == "Log ind eller send en gyldig API-token."
    assert swedish["message"] == "Logga in eller skicka en giltig API-token."
    assert english["message"] == "Sign in or send a valid API token."


def test_a_deactivated_users_token_stops_working(client, make, app):
    from shared.db import get_db
    from shared.models import User

    user = make.user()
    token = make.token(user)
    assert client.get("/api/v1/guides", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with app.app_context():
        get_db().session.get(User, user.id).active = False
        get_db().session.commit()
    assert client.get("/api/v1/guides", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_guides_list_and_import(client, auth):
    listed = client.get("/api/v1/guides", headers=auth).get_json()
    assert {g["language"] for g in listed} == {"sv", "da", "en"}
    assert all(set(g) >= {"id", "title", "language", "items"} for g in listed)
    danish = next(g for g in listed if g["language"] == "da")
    assert danish["title"] == "Almene Mål – Tema 3: Demokrati og levende fællesskaber"
    resp = client.post("/api/v1/guides", json=SMALL_GUIDE, headers=auth)
    assert resp.status_code == 201
    gid = resp.get_json()["id"]
    doc = client.get(f"/api/v1/guides/{gid}", headers=auth).get_json()
    assert doc["items"] == 4
    assert all(item["id"] for s in doc["document"]["sections"] for item in s["items"])


def test_a_malformed_guide_is_refused_whole_naming_the_place(client, auth):
    bad = json.loads(json.dumps(SMALL_GUIDE))
    bad["sections"].append({"title": "To", "items": [{"kind": "poll", "text": "?"}]})
    before = client.get("/api/v1/guides", headers=auth).get_json()
    resp = client.post("/api/v1/guides", json=bad, headers=auth)
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"] == "invalid_guide"
    assert "sections[1].items[0]: kind must be one of consideration, prompt, info" in body["message"]
    assert body["errors"][0]["place"] == "sections[1].items[0]"
    assert client.get("/api/v1/guides", headers=auth).get_json() == before


def test_a_yaml_guide_can_be_posted(client, auth):
    body = ("title: Kort\nlanguage: sv\nsections:\n  - title: Ett\n    items:\n"
            "      - kind: prompt\n        text: Hur?\n")
    resp = client.post("/api/v1/guides", data=body.encode(), headers={**auth, "Content-Type": "application/yaml"})
    assert resp.status_code == 201


def test_request_body_limit_is_413(client, auth):
    resp = client.post("/api/v1/guides", data=b"{" + b" " * 1_100_000 + b"}",
                       headers={**auth, "Content-Type": "application/json"})
    assert resp.status_code == 413
    assert resp.get_json()["error"] == "too_large"


def test_unknown_paths_answer_json(client, auth):
    resp = client.get("/api/v1/nothing-here", headers=auth)
    assert resp.status_code == 404
    assert resp.get_json()["error"] == "not_found"
    resp = client.delete("/api/v1/guides", headers=auth)
    assert resp.status_code == 405
    assert resp.get_json()["error"] == "invalid"


def test_session_lifecycle(client, auth, make):
    gid = make.guide()
    session = create_session(client, auth, gid, unit="Region Syd")
    assert set(session) >= {"id", "code", "title", "unit", "status", "join_url", "facilitator_url",
                            "projector_url", "qr_svg_url"}
    assert session["join_url"] == f"http://dialogrum.test/j/{session['code']}"
    assert session["projector_url"].startswith("http://dialogrum.test/p/")
    assert session["unit"] == "Region Syd"
    assert len(session["code"]) == 6
    sid = session["id"]
    assert client.get(f"/api/v1/sessions/{sid}", headers=auth).get_json() == session

    state = client.get(f"/api/v1/sessions/{sid}/state", headers=auth).get_json()
    assert state["session"]["status"] == "waiting"
    assert state["item"] is None
    assert control(client, auth, sid, "next").status_code == 409
    state = control(client, auth, sid, "start").get_json()
    assert state["item"]["kind"] == "info"
    assert control(client, auth, sid, "open_voting").status_code == 409
    state = control(client, auth, sid, "goto", index=1).get_json()
    assert state["item"]["kind"] == "consideration"
    assert control(client, auth, sid, "open_voting").get_json()["voting_open"] is True
    assert control(client, auth, sid, "show_results").get_json()["results_visible"] is True
    state = control(client, auth, sid, "next").get_json()
    assert (state["voting_open"], state["results_visible"]) == (False, False)
    resp = control(client, auth, sid, "goto", index="x")
    assert resp.status_code == 422
    assert control(client, auth, sid, "fly").status_code == 422
    assert control(client, auth, sid, "end").get_json()["session"]["status"] == "ended"
    resp = control(client, auth, sid, "start")
    assert resp.status_code == 409
    assert resp.get_json()["error"] == "session_ended"


@pytest.mark.parametrize(("body", "status", "error"), [
    (None, 422, "invalid"), ([], 422, "invalid"), ("x", 422, "invalid"),
    ({"guide_id": 1, "title": "x"}, 422, "invalid"),
    ({"title": "x"}, 422, "invalid"), ({"guide_id": "g"}, 422, "invalid"),
    # Well-formed, but no such guide.
    ({"guide_id": "gnosuchguide", "title": "x"}, 404, "not_found"),
])
def test_bad_session_bodies_are_422_or_404(client, auth, body, status, error):
    resp = client.post("/api/v1/sessions", json=body, headers=auth)
    assert (resp.status_code, resp.get_json()["error"]) == (status, error)


def test_a_facilitator_cannot_touch_another_facilitators_session(client, auth, make):
    gid = make.guide()
    sid = create_session(client, auth, gid)["id"]
    other = {"Authorization": f"Bearer {make.token(make.user())}"}
    for method, path in [("get", ""), ("get", "/state"), ("get", "/results"), ("get", "/export?format=csv")]:
        resp = getattr(client, method)(f"/api/v1/sessions/{sid}{path}", headers=other)
        assert resp.status_code == 403, path
        assert resp.get_json()["error"] == "forbidden"
    assert control(client, other, sid, "start").status_code == 403
    assert client.get(f"/api/v1/sessions/{sid}/state", headers=auth).get_json()["session"]["status"] == "waiting"
    organiser = {"Authorization": f"Bearer {make.token(make.user('organiser'))}"}
    assert client.get(f"/api/v1/sessions/{sid}", headers=organiser).status_code == 200
    assert client.get("/api/v1/sessions/nope", headers=auth).status_code == 404
    mine = client.get("/api/v1/sessions", headers=other).get_json()
    assert mine == []


def _vote(app, sid, choices_by_item):
    """Votes through the same rules the sockets use."""
    from shared import meeting as rules
    from shared.db import get_db

    engine = get_db(app).engine
    with engine.begin() as conn:
        meeting = rules.get_meeting(conn, sid)
        pids = [rules.join(Work(conn), meeting)[0] for _ in choices_by_item]
        item_id = rules.get_meeting(conn, sid).current_item_id
    for pid, choice in zip(pids, choices_by_item, strict=True):
        rules.cast_vote(get_db(app), sid, pid, item_id, choice)
    return pids


def test_results_and_exports(client, auth, make, app):
    gid = make.guide()
    sid = create_session(client, auth, gid, title="Møde på Nørrebro")["id"]
    control(client, auth, sid, "start")
    control(client, auth, sid, "next")
    control(client, auth, sid, "open_voting")
    _vote(app, sid, ["yes", "yes", "no"])
    item_id = client.get(f"/api/v1/sessions/{sid}/state", headers=auth).get_json()["item"]["id"]
    resp = client.put(f"/api/v1/sessions/{sid}/items/{item_id}/conclusion", json={"text": "Flertal for"},
                      headers=auth)
    assert resp.status_code == 200
    results = client.get(f"/api/v1/sessions/{sid}/results", headers=auth).get_json()
    item = results["items"][1]
    assert item["counts"] == {"yes": 2, "no": 1, "unsure": 0}
    assert item["voters"] == 3
    assert item["conclusion"] == "Flertal for"
    assert set(item) >= {"id", "kind", "section", "text", "counts", "voters", "comments"}

    resp = client.get(f"/api/v1/sessions/{sid}/export?format=csv", headers=auth)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert resp.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[2][5:8] == ["2", "1", "0"]

    resp = client.get(f"/api/v1/sessions/{sid}/export?format=xlsx", headers=auth)
    book = openpyxl.load_workbook(io.BytesIO(resp.data))
    assert book["Items"].cell(row=3, column=6).value == 2

    resp = client.get(f"/api/v1/sessions/{sid}/export?format=json", headers=auth)
    assert json.loads(resp.data) == results
    assert client.get(f"/api/v1/sessions/{sid}/export?format=pdf", headers=auth).status_code == 422


def test_moderation_over_rest(client, auth, make, app):
    from shared import meeting as rules
    from shared.db import get_db

    sid = create_session(client, auth, make.guide())["id"]
    control(client, auth, sid, "start")
    state = control(client, auth, sid, "goto", index=3).get_json()
    with get_db(app).engine.begin() as conn:
        pid, _ = rules.join(Work(conn), rules.get_meeting(conn, sid))
        comment = rules.add_comment(Work(conn), sid, pid, state["item"]["id"], "Hej")
    resp = client.post(f"/api/v1/sessions/{sid}/comments/{comment['id']}", json={"hidden": True}, headers=auth)
    assert resp.get_json()["hidden"] is True
    resp = client.post(f"/api/v1/sessions/{sid}/comments/999999", json={"hidden": True}, headers=auth)
    assert resp.status_code == 404
    resp = client.post(f"/api/v1/sessions/{sid}/comments/{comment['id']}", json={"hidden": "no"}, headers=auth)
    assert resp.status_code == 422


def test_rollup_across_sessions(client, auth, make, app):
    gid = make.guide()
    sids = []
    for unit, votes in (("Region Nord", ["yes", "no"]), ("Region Syd", ["yes", "yes", "yes"])):
        sid = create_session(client, auth, gid, unit=unit)["id"]
        control(client, auth, sid, "start")
        control(client, auth, sid, "next")
        control(client, auth, sid, "open_voting")
        _vote(app, sid, votes)
        sids.append(sid)
    data = client.get(f"/api/v1/guides/{gid}/rollup", headers=auth).get_json()
    assert data["guide"]["id"] == gid
    assert [s["unit"] for s in data["sessions"]] == ["Region Nord", "Region Syd"]
    assert [s["participants"] for s in data["sessions"]] == [2, 3]
    item = data["items"][1]
    assert item["per_session"][sids[0]] == {"yes": 1, "no": 1, "unsure": 0, "voters": 2, "comments": 0,
        "hands_yes": 0, "hands_no": 0, "hands_unsure": 0}
    assert item["per_session"][sids[1]]["yes"] == 3
    assert item["total"] == {"yes": 4, "no": 1, "unsure": 0, "voters": 5, "comments": 0,
        "hands_yes": 0, "hands_no": 0, "hands_unsure": 0}
    other = {"Authorization": f"Bearer {make.token(make.user())}"}
    assert client.get(f"/api/v1/guides/{gid}/rollup", headers=other).get_json()["sessions"] == []
    resp = client.get(f"/api/v1/guides/{gid}/rollup?format=csv", headers=auth)
    assert resp.data.startswith(b"\xef\xbb\xbf")
    assert client.get(f"/api/v1/guides/{gid}/rollup?format=xlsx", headers=auth).status_code == 200
    assert client.get("/api/v1/guides/nope/rollup", headers=auth).status_code == 404


def test_openapi_is_public(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert resp.get_json()["openapi"].startswith("3.")


def test_security_headers(client):
    resp = client.get("/healthz")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("path", "code"), [
    ("/sessions/a%00b", "unknown_session"), ("/sessions/a%00b/state", "unknown_session"),
    ("/guides/a%00b", "not_found"), ("/guides/a%07/rollup", "not_found"),
])
def test_an_id_with_a_control_character_is_unknown_not_a_server_error(client, auth, path, code):
    # PostgreSQL refuses a NUL in a query parameter; such an id cannot exist anyway.
    resp = client.get("/api/v1" + path, headers=auth)
    assert resp.status_code == 404
    assert resp.get_json()["error"] == code


@pytest.mark.parametrize("query", ["unit=a%00", "from=2026-13-01", "format=pdf"])
def test_a_malformed_rollup_query_is_422_naming_the_parameter(client, auth, make, query):
    resp = client.get(f"/api/v1/guides/{make.guide()}/rollup?{query}", headers=auth)
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["place"] == query.split("=")[0]


def test_run_a_session_again(client, auth, make, facilitator):
    """POST /sessions/{id}/again: same guide, unit, title and language, new code and key; only for
    whoever may manage the old one; an archived guide is refused (issue 10, section 2)."""
    gid = make.guide()
    old = create_session(client, auth, gid, unit="Afdeling 12", language="sv")
    resp = client.post(f"/api/v1/sessions/{old['id']}/again", headers=auth)
    assert resp.status_code == 201, resp.get_json()
    new = resp.get_json()
    assert (new["guide_id"], new["unit"], new["title"], new["language"], new["status"]) == (
        gid, "Afdeling 12", "Møde", "sv", "waiting")
    assert new["id"] != old["id"] and new["code"] != old["code"] and new["projector_url"] != old["projector_url"]

    other = {"Authorization": f"Bearer {make.token(make.user())}"}
    assert client.post(f"/api/v1/sessions/{old['id']}/again", headers=other).status_code == 403
    assert client.post("/api/v1/sessions/nosuchsession/again", headers=auth).status_code == 404

    organiser = {"Authorization": f"Bearer {make.token(make.user('organiser'))}"}
    assert client.post(f"/api/v1/guides/{gid}/archive", json={"archived": True}, headers=organiser).status_code == 200
    refused = client.post(f"/api/v1/sessions/{old['id']}/again", headers=auth)
    assert (refused.status_code, refused.get_json()["error"]) == (409, "conflict")
