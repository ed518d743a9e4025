"""The guide editor's routes (facilitator/editor.py) with the Flask client: create, save with the
version check, validation as you type, the rights, and a lapsed sign-in answering 401. The page in
Chromium is tests/e2e/test_editor.py."""

from __future__ import annotations

import json
import re

DOC = {"title": "Bestyrelsesmøde", "language": "da", "description": "",
       "sections": [{"title": "Fællesskab", "statement": "Vi vil styrke fællesskabet",
                     "tags": "Frivillighed, Demokrati",
                     "items": [{"kind": "consideration", "text": "Skal vi holde flere fester?", "allow_unsure": True},
                               {"kind": "prompt", "text": "Hvad savner du?"}]}]}


def _config(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="config">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def _post(client, url: str, token: str, body: dict):
    return client.post(url, json=body, headers={"X-CSRFToken": token})


def _create(client, login, user) -> tuple[str, str]:
    login(user)
    config = _config(client.get("/guides/new?lang=da").text)
    answer = _post(client, config["save_url"], config["csrf"], {"document": DOC})
    assert answer.status_code == 201, answer.text
    return answer.json["id"], config["csrf"]


def test_create_save_and_a_stale_version_is_refused_with_nothing_changed(client, login, make):
    guide_id, token = _create(client, login, make.user())
    config = _config(client.get(f"/guides/{guide_id}/edit?lang=da").text)
    assert config["version"] == 1
    assert config["document"]["sections"][0]["tags"] == ["Frivillighed", "Demokrati"]
    doc = config["document"]
    doc["sections"][0]["items"][0]["text"] = "Skal vi holde to fester?"
    saved = _post(client, config["save_url"], token, {"version": 1, "document": doc})
    assert saved.status_code == 200 and saved.json["version"] == 2
    # The item keeps its id across versions: the roll-up lines it up.
    assert saved.json["document"]["sections"][0]["items"][0]["id"] == doc["sections"][0]["items"][0]["id"]

    doc["sections"][0]["items"][0]["text"] = "Ingen fester"
    stale = _post(client, config["save_url"], token, {"version": 1, "document": doc})
    assert stale.status_code == 409
    assert "Din tekst er bevaret" in stale.json["message"]
    after = _config(client.get(f"/guides/{guide_id}/edit").text)
    assert after["version"] == 2
    assert after["document"]["sections"][0]["items"][0]["text"] == "Skal vi holde to fester?"


def test_invalid_documents_name_the_place_in_danish_and_nothing_is_saved(client, login, make):
    guide_id, token = _create(client, login, make.user())
    bad = json.loads(json.dumps(DOC))
    bad["sections"][0]["items"][1]["text"] = ""
    bad["sections"][0]["items"][0]["allow_unsure"] = True
    bad["sections"][0]["items"][0]["kind"] = "prompt"
    checked = _post(client, "/guides/validate?lang=da", token, {"document": bad})
    places = [e["place"] for e in checked.json["errors"]]
    assert "sections[0].items[1].text" in places
    assert "sections[0].items[0].allow_unsure" in places
    assert all(not re.search(r"\b(required|must|field)\b", e["message"]) for e in checked.json["errors"])
    refused = _post(client, f"/guides/{guide_id}/edit?lang=da", token, {"version": 1, "document": bad})
    assert refused.status_code == 422
    assert [e["place"] for e in refused.json["errors"]] == places
    assert _config(client.get(f"/guides/{guide_id}/edit").text)["version"] == 1
    assert _post(client, "/guides/validate", token, {"document": DOC}).json == {"errors": []}


def test_rights_owner_and_organiser_edit_others_duplicate_built_in_only_duplicates(client, login, make, csrf):
    guide_id, _ = _create(client, login, make.user())
    client.post("/logout", data={"csrf_token": csrf(client.get("/guides").text)})

    login(make.user())  # another facilitator
    assert client.get(f"/guides/{guide_id}/edit").status_code == 403
    token = csrf(client.get("/guides").text)
    refused = _post(client, f"/guides/{guide_id}/edit?lang=da", token, {"version": 1, "document": DOC})
    assert refused.status_code == 403
    detail = client.get(f"/guides/{guide_id}?lang=da").text
    assert "Redigér" not in detail and "Duplikér" in detail
    copy = client.post(f"/guides/{guide_id}/duplicate", data={"csrf_token": token})
    assert copy.status_code == 302 and copy.location.endswith("/edit")
    assert client.get(copy.location).status_code == 200  # the copy is the facilitator's own

    library = client.get("/guides?lang=da").text
    builtin = re.search(r'href="/guides/(g\w+)" lang="da">Almene Mål', library).group(1)
    assert client.get(f"/guides/{builtin}/edit").status_code == 403
    page = client.get(f"/guides/{builtin}?lang=da").text
    assert "Redigér" not in page and "Duplikér" in page and "indbygget guide kan ikke ændres" in page
    client.post("/logout", data={"csrf_token": token})

    login(make.user(role="organiser"))
    assert client.get(f"/guides/{guide_id}/edit").status_code == 200
    assert "Redigér" in client.get(f"/guides/{guide_id}?lang=da").text
    assert client.get(f"/guides/{builtin}/edit").status_code == 403


def test_a_lapsed_sign_in_answers_401_not_the_sign_in_page(client, login, make, csrf):
    guide_id, token = _create(client, login, make.user())
    client.post("/logout", data={"csrf_token": token})
    for url in (f"/guides/{guide_id}/edit?lang=da", "/guides/validate?lang=da", "/guides/new?lang=da"):
        answer = _post(client, url, token, {"version": 1, "document": DOC})
        assert answer.status_code == 401, url
        assert "Din tekst er bevaret" in answer.json["message"]


def test_export_archive_and_delete_from_the_guide_page(client, login, make, csrf):
    """The guide page's buttons: a file that imports again, archive and back (the new-session form
    follows), and delete behind a confirmation page, refused once a session used the guide."""
    from shared import guides

    owner = make.user()
    guide_id, _token = _create(client, login, owner)
    page = client.get(f"/guides/{guide_id}?lang=da").text
    for label in ("Hent som YAML", "Hent som JSON", "Arkivér", "Slet"):
        assert label in page, label
    exported = client.get(f"/guides/{guide_id}/export.yaml")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    assert guides.validate(guides.load_document(exported.data))["title"] == DOC["title"]
    assert client.get(f"/guides/{guide_id}/export.pdf").status_code == 404

    token = csrf(page)
    archived = client.post(f"/guides/{guide_id}/archive", data={"csrf_token": token, "archived": "1"},
                           follow_redirects=True)
    assert "er arkiveret" in archived.text and "Tilbyd til nye møder igen" in archived.text
    assert f'value="{guide_id}"' not in client.get("/sessions?lang=da").text
    client.post(f"/guides/{guide_id}/archive", data={"csrf_token": token, "archived": "0"})
    assert f'value="{guide_id}"' in client.get("/sessions?lang=da").text

    # Another facilitator may neither archive nor delete it.
    client.post("/logout", data={"csrf_token": token})
    login(make.user())
    other = client.get(f"/guides/{guide_id}?lang=da").text
    assert "Arkivér" not in other and ">Slet<" not in other
    assert client.post(f"/guides/{guide_id}/archive", data={"csrf_token": csrf(other), "archived": "1"},
                       follow_redirects=True).text.count("er arkiveret") == 0
    assert client.get(f"/guides/{guide_id}/delete").status_code == 403

    client.post("/logout", data={"csrf_token": csrf(other)})
    login(owner)
    make.meeting(owner, guide_id=guide_id)
    used = client.get(f"/guides/{guide_id}/delete?lang=da")
    assert used.status_code == 409 and "Arkivér den i stedet" in used.text
    assert client.post(f"/guides/{guide_id}/delete", data={"csrf_token": csrf(page)}).status_code == 409

    fresh, _ = _create(client, login, owner)
    confirm = client.get(f"/guides/{fresh}/delete?lang=da")
    assert confirm.status_code == 200 and "Ja, slet guiden" in confirm.text
    done = client.post(f"/guides/{fresh}/delete", data={"csrf_token": csrf(confirm.text)}, follow_redirects=True)
    assert "er slettet" in done.text
    assert client.get(f"/guides/{fresh}").status_code == 404
