"""REST v1's guide editing (save with a version, duplicate, archive, delete, export) through the
Flask test client, on SQLite and PostgreSQL. The rules themselves: tests/shared/test_guide_library.py."""

from __future__ import annotations

import copy
import json

import pytest

from shared import guides
from tests.conftest import SMALL_GUIDE


@pytest.fixture
def who(make):
    """Bearer headers of an organiser, a facilitator and another facilitator."""
    users = {"boss": make.user("organiser"), "mine": make.user("facilitator"), "other": make.user("facilitator")}
    return {name: {"Authorization": f"Bearer {make.token(user)}"} for name, user in users.items()}


def _create(client, auth, document=SMALL_GUIDE) -> dict:
    resp = client.post("/api/v1/guides", json=document, headers=auth)
    assert resp.status_code == 201, resp.get_json()
    return client.get(f"/api/v1/guides/{resp.get_json()['id']}", headers=auth).get_json()


def _put(client, auth, gid, version, document):
    return client.put(f"/api/v1/guides/{gid}", json={"version": version, "document": document}, headers=auth)


def test_save_follows_the_rights_and_the_version(client, who):
    guide = _create(client, who["mine"])
    gid = guide["id"]
    assert (guide["version"], guide["archived"], guide["editable"], guide["builtin"]) == (1, False, True, False)
    doc = copy.deepcopy(guide["document"])
    doc["sections"][0]["items"][1]["text"] = "Er der tillid til bestyrelsen?"

    refused = _put(client, who["other"], gid, 1, doc)
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    assert client.get(f"/api/v1/guides/{gid}", headers=who["other"]).get_json()["editable"] is False

    saved = _put(client, who["mine"], gid, 1, doc)
    assert saved.status_code == 200
    body = saved.get_json()
    assert body["version"] == 2
    assert body["document"]["sections"][0]["items"][1] == {**guide["document"]["sections"][0]["items"][1],
                                                           "text": "Er der tillid til bestyrelsen?"}

    # The organiser's edit started from version 1 too: refused, in Danish, with the stored version.
    theirs = copy.deepcopy(guide["document"])
    theirs["title"] = "Arrangørens titel"
    conflict = _put(client, {**who["boss"], "Accept-Language": "da"}, gid, 1, theirs)
    assert conflict.status_code == 409
    assert conflict.get_json() == {
        "error": "version_conflict", "version": 2,
        "message": "En anden har gemt guiden i mellemtiden (den er nu version 2), så dine ændringer blev ikke "
                   "gemt. Indlæs guiden igen, og foretag dem på ny."}
    stored = client.get(f"/api/v1/guides/{gid}", headers=who["boss"]).get_json()
    assert stored["title"] == "Testguide" and stored["version"] == 2
    assert _put(client, who["boss"], gid, 2, theirs).get_json()["version"] == 3

    broken = copy.deepcopy(theirs)
    broken["sections"][0]["items"][0]["kind"] = "poll"
    invalid = _put(client, who["boss"], gid, 3, broken)
    assert invalid.status_code == 422 and invalid.get_json()["error"] == "invalid_guide"
    assert invalid.get_json()["errors"][0]["place"] == "sections[0].items[0]"
    bad_version = client.put(f"/api/v1/guides/{gid}", json={"version": "3", "document": theirs}, headers=who["boss"])
    assert bad_version.status_code == 422 and bad_version.get_json()["errors"][0]["place"] == "version"
    assert client.get(f"/api/v1/guides/{gid}", headers=who["boss"]).get_json()["version"] == 3
    assert _put(client, who["boss"], "nosuchguide", 1, theirs).status_code == 404

    builtin = next(g for g in client.get("/api/v1/guides", headers=who["boss"]).get_json() if g["builtin"])
    assert builtin["editable"] is False
    full = client.get(f"/api/v1/guides/{builtin['id']}", headers=who["boss"]).get_json()
    assert _put(client, who["boss"], builtin["id"], 1, full["document"]).status_code == 403


def test_duplicate_archive_delete_and_sessions(client, who):
    builtin = next(g for g in client.get("/api/v1/guides", headers=who["mine"]).get_json() if g["builtin"])
    resp = client.post(f"/api/v1/guides/{builtin['id']}/duplicate", headers=who["mine"])
    assert resp.status_code == 201
    copy_id = resp.get_json()["id"]
    duplicate = client.get(f"/api/v1/guides/{copy_id}", headers=who["mine"]).get_json()
    assert duplicate["editable"] and duplicate["version"] == 1 and duplicate["items"] == builtin["items"]

    session = client.post("/api/v1/sessions", json={"guide_id": copy_id, "title": "Møde"}, headers=who["mine"])
    assert session.get_json()["guide_version"] == 1
    in_use = client.delete(f"/api/v1/guides/{copy_id}", headers={**who["mine"], "Accept-Language": "sv"})
    assert in_use.status_code == 409
    assert in_use.get_json() == {"error": "guide_in_use", "message": "1 möte har använt guiden, så den kan inte "
                                 "tas bort. Arkivera den i stället."}

    assert client.post(f"/api/v1/guides/{copy_id}/archive", json={"archived": True},
                       headers=who["other"]).status_code == 403
    archived = client.post(f"/api/v1/guides/{copy_id}/archive", json={"archived": True}, headers=who["mine"])
    assert archived.status_code == 200 and archived.get_json()["archived"] is True
    assert copy_id not in {g["id"] for g in client.get("/api/v1/guides", headers=who["mine"]).get_json()}
    listed = client.get("/api/v1/guides?archived=true", headers=who["mine"]).get_json()
    assert next(g for g in listed if g["id"] == copy_id)["archived"] is True
    assert client.post(f"/api/v1/guides/{copy_id}/archive", json={"archived": "yes"},
                       headers=who["mine"]).status_code == 422
    back = client.post(f"/api/v1/guides/{copy_id}/archive", json={"archived": False}, headers=who["mine"])
    assert back.get_json()["archived"] is False

    unused = _create(client, who["mine"])["id"]
    assert client.delete(f"/api/v1/guides/{unused}", headers=who["other"]).status_code == 403
    assert client.delete(f"/api/v1/guides/{unused}", headers=who["mine"]).status_code == 204
    assert client.get(f"/api/v1/guides/{unused}", headers=who["mine"]).status_code == 404
    assert client.delete(f"/api/v1/guides/{builtin['id']}", headers=who["boss"]).status_code == 403


def test_export_downloads_a_document_that_imports_again(client, who):
    guide = _create(client, who["mine"])
    gid = guide["id"]
    yaml_file = client.get(f"/api/v1/guides/{gid}/export", headers=who["other"])
    assert yaml_file.status_code == 200
    assert yaml_file.headers["Content-Type"] == "application/yaml; charset=utf-8"
    assert yaml_file.headers["Content-Disposition"].startswith(f'attachment; filename="Testguide-{gid}.yaml"')
    json_file = client.get(f"/api/v1/guides/{gid}/export?format=json", headers=who["other"])
    assert json_file.headers["Content-Type"] == "application/json; charset=utf-8"
    for body, name in ((yaml_file.data, "g.yaml"), (json_file.data, "g.json")):
        assert guides.validate(guides.load_document(body, name)) == guide["document"]
    first_id = guide["document"]["sections"][0]["items"][0]["id"]
    assert json.loads(json_file.data)["sections"][0]["items"][0]["id"] == first_id
    assert client.get(f"/api/v1/guides/{gid}/export?format=xml", headers=who["other"]).status_code == 422
