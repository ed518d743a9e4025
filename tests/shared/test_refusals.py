"""Refusals that say what is wrong (issue 15, point 12): a 405 names the methods that work (the
`Allow` header), an empty date bound is refused naming it, an info item needs a title or a text
(the validator and the published JSON Schema agree), and an empty `guide_id` is named as empty.
SQLite only: nothing here reaches the database."""

from __future__ import annotations

import jsonschema
import pytest

from shared.app import create_app
from shared.schemas.openapi import document


@pytest.fixture
def db_url(sqlite_url) -> str:
    return sqlite_url


@pytest.fixture
def auth(make):
    return {"Authorization": f"Bearer {make.token(make.user())}"}


def test_a_405_under_the_api_names_the_allowed_methods(client, auth):
    resp = client.delete("/api/v1/guides", headers=auth)
    assert resp.status_code == 405
    assert set(resp.headers["Allow"].split(", ")) >= {"GET", "POST"}
    body = resp.get_json()
    assert body["error"] == "invalid"
    assert "GET" in body["message"] and "POST" in body["message"]
    unrouted = client.post("/api/v1/sessions/abc/state", headers=auth)
    assert unrouted.status_code == 405 and "GET" in unrouted.headers["Allow"]


def test_a_405_on_a_page_keeps_its_allow_header(client):
    resp = client.put("/login")
    assert resp.status_code == 405
    assert set(resp.headers["Allow"].split(", ")) >= {"GET", "POST"}


@pytest.mark.parametrize("name", ["to", "from"])
def test_an_empty_date_bound_is_refused_naming_it(client, auth, make, name):
    gid = make.guide()
    resp = client.get(f"/api/v1/guides/{gid}/rollup?{name}=", headers=auth)
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == [{"place": name, "message": "must be a date like 2026-05-31"}]
    assert client.get(f"/api/v1/guides/{gid}/rollup?{name}=2026-05-31", headers=auth).status_code == 200


def test_an_empty_guide_id_is_named_as_empty(client, auth):
    resp = client.post("/api/v1/sessions", json={"guide_id": "", "title": "Møde"}, headers=auth)
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == [{"place": "guide_id", "message": "must not be empty"}]


INFO_WITHOUT_WORDS = [{"kind": "info"}, {"kind": "info", "title": "", "text": ""}, {"kind": "info", "title": None},
                      {"kind": "info", "title": "  \n"}, {"kind": "info", "title": "\u202e"}]


@pytest.mark.parametrize("item", INFO_WITHOUT_WORDS)
def test_an_info_item_needs_a_title_or_a_text(client, auth, item, tmp_path):
    doc = {"title": "Guide", "language": "da", "sections": [{"title": "Del", "items": [item]}]}
    resp = client.post("/api/v1/guides", json=doc, headers=auth)
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == [{"place": "sections[0].items[0]", "message": "info needs a title or a text"}]
    # The published schema refuses it too (what schemathesis and API clients read).
    app = create_app({"SKIP_ENV": True, "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", "SECRET_KEY": "x",
                      "TESTING": True})
    schemas = document(app, "http://dialogrum.test")["components"]["schemas"]
    item_schema = {**schemas["GuideItem-Input"], "components": {"schemas": schemas}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(item, item_schema)
    jsonschema.validate({"kind": "info", "title": "Formål"}, item_schema)
