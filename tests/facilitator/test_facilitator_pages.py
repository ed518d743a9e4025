"""Sign-in, set-up, sessions, guides, console, projector and export pages through the test client."""

from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
import pytest

from shared.app import CSP
from shared.uow import Work

BAD_GUIDE = b"""title: Broken
language: da
sections:
  - title: S
    items:
      - kind: vote
        text: Hvad?
"""
GOOD_GUIDE = b"""title: "Ny guide <i>kursiv</i>"
language: sv
sections:
  - title: "Avsnitt ett"
    statement: "Vi vill"
    items:
      - kind: consideration
        text: "Fungerar det?"
        allow_unsure: true
      - kind: prompt
        text: "Vad saknas?"
"""


@pytest.mark.parametrize("path", ["/sessions", "/guides", "/console/abc", "/guides/abc", "/sessions/x/export.csv"])
def test_pages_need_a_login(client, path):
    resp = client.get(path)
    assert resp.status_code == 302
    assert "/login?next=" in resp.headers["Location"]


def test_login_page_in_the_users_language_with_csp(client):
    resp = client.get("/login", headers={"Accept-Language": "da"})
    assert resp.status_code == 200
    assert "Log ind" in resp.text and 'autocomplete="current-password"' in resp.text
    assert resp.headers["Content-Security-Policy"] == CSP
    assert "Logga in" in client.get("/login?lang=sv").text


def test_login_without_csrf_token_is_refused(client, make):
    user = make.user()
    resp = client.post("/login", data={"email": user.email, "password": "correct horse"})
    assert resp.status_code == 400
    assert client.get("/sessions").status_code == 302


def test_wrong_password_says_so(client, make, csrf):
    user = make.user()
    page = client.get("/login", headers={"Accept-Language": "sv"})
    resp = client.post("/login", data={"csrf_token": csrf(page.text), "email": user.email, "password": "nope nope"},
                       headers={"Accept-Language": "sv"})
    assert resp.status_code == 401
    assert "E-postadressen eller lösenordet är fel." in resp.text


def test_login_then_logout(client, make, login, csrf):
    user = make.user()
    resp = login(user)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/sessions")
    page = client.get("/sessions")
    assert page.status_code == 200
    assert client.post("/logout").status_code == 400  # no CSRF token
    assert client.post("/logout", data={"csrf_token": csrf(page.text)}).status_code == 302
    assert client.get("/sessions").status_code == 302


def test_first_run_setup_asks_the_email_and_signs_in(client, app, csrf):
    from shared import accounts
    from shared.db import get_db

    with app.app_context():
        secret = accounts.first_run_link(get_db().session)
        get_db().session.commit()
    page = client.get(f"/setup/{secret}", headers={"Accept-Language": "da"})
    assert page.status_code == 200
    assert 'name="email"' in page.text and "første arrangør" in page.text
    resp = client.post(f"/setup/{secret}", data={"csrf_token": csrf(page.text), "email": "Boss@Example.org",
                                                  "name": "Boss", "password": "long enough", "confirm": "long enough"})
    assert resp.status_code == 302
    assert client.get("/sessions").status_code == 200
    assert client.get(f"/setup/{secret}").status_code == 404  # one time only


def test_setup_shows_field_errors_next_to_the_fields(client, app, csrf):
    from shared import accounts
    from shared.db import get_db

    with app.app_context():
        secret = accounts.first_run_link(get_db().session)
        get_db().session.commit()
    page = client.get(f"/setup/{secret}", headers={"Accept-Language": "en"})
    resp = client.post(f"/setup/{secret}", data={"csrf_token": csrf(page.text), "email": "a@b.org",
                                                  "password": "long enough", "confirm": "different!"})
    assert resp.status_code == 200
    assert 'id="confirm-errors"' in resp.text and "The passwords differ." in resp.text
    assert 'aria-invalid="true"' in resp.text


@pytest.fixture
def signed_in(make, login):
    user = make.user()
    login(user)
    return user


def test_create_a_session_and_open_its_console(client, signed_in, make, csrf):
    guide_id = make.guide()
    page = client.get(f"/sessions?guide={guide_id}", headers={"Accept-Language": "da"})
    assert "Nyt møde" in page.text
    resp = client.post("/sessions", data={"csrf_token": csrf(page.text), "guide_id": guide_id,
                                          "title": "Møde <script>x</script>", "unit": "Afd. 7"})
    assert resp.status_code == 302
    console = client.get(resp.headers["Location"], headers={"Accept-Language": "da"})
    assert console.status_code == 200
    assert "<script>x</script>" not in console.text and "&lt;script&gt;x&lt;/script&gt;" in console.text
    code = re.search(r'class="join-code"[^>]*>(\w{6})<', console.text).group(1)
    assert f'src="/j/{code}/qr.svg"' in console.text
    # The projector follows the meeting's language, not the console's (contract v1.1): no ?lang=.
    assert re.search(r'id="open-projector" href="/p/[^"?]+"', console.text)
    for key in ("ArrowRight", "ArrowLeft", "Space", '"R"'):
        assert key in console.text
    config = json.loads(re.search(r'id="config">(.*?)</script>', console.text, re.S).group(1))
    assert config["labels"] == {"yes": "Ja", "no": "Nej", "unsure": "Ved ikke"}
    assert config["text"]["open_voting"] == "Åbn afstemningen"
    assert len(config["items"]) == 4
    listing = client.get("/sessions")
    assert code in listing.text and "&lt;script&gt;x" in listing.text


def test_session_form_without_csrf_is_refused(client, signed_in, make):
    resp = client.post("/sessions", data={"guide_id": make.guide(), "title": "x"})
    assert resp.status_code == 400


def test_a_facilitator_cannot_open_another_ones_console(client, signed_in, make):
    other = make.user()
    meeting_id = make.meeting(user=other)
    assert client.get(f"/console/{meeting_id}").status_code == 403
    assert client.get(f"/sessions/{meeting_id}/export.json").status_code == 403
    assert client.get("/console/nothing").status_code == 404


def test_guide_library_previews_every_item(client, signed_in, make):
    guide_id = make.guide()
    library = client.get("/guides", headers={"Accept-Language": "sv"})
    assert library.status_code == 200 and "Testguide" in library.text and "Importera en guide" in library.text
    detail = client.get(f"/guides/{guide_id}", headers={"Accept-Language": "da"})
    for text in ("Demokrati", "Vi vil styrke demokratiet", "Beboerdemokrati", "Derfor mødes vi.",
                 "Er der tillid til os?", "Er rollerne tydelige?", "Ja / Nej / Ved ikke",
                 "Hvordan styrker vi deltagelsen?"):
        assert text in detail.text
    assert client.get("/guides/nope").status_code == 404


def test_import_shows_the_validators_messages_next_to_the_form(client, signed_in, csrf):
    page = client.get("/guides", headers={"Accept-Language": "en"})
    resp = client.post("/guides", data={"csrf_token": csrf(page.text),
                                        "document": (io.BytesIO(BAD_GUIDE), "broken.yaml")},
                       content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert resp.status_code == 422
    assert 'id="import-errors"' in resp.text and "sections[0].items[0]" in resp.text
    assert "The guide was not imported" in resp.text


def test_import_a_good_guide(client, signed_in, csrf):
    page = client.get("/guides")
    resp = client.post("/guides", data={"csrf_token": csrf(page.text),
                                        "document": (io.BytesIO(GOOD_GUIDE), "ny.yaml")},
                       content_type="multipart/form-data", headers={"Accept-Language": "sv"})
    assert resp.status_code == 302
    detail = client.get(resp.headers["Location"], headers={"Accept-Language": "sv"})
    assert "Ny guide &lt;i&gt;kursiv&lt;/i&gt;" in detail.text
    assert "Ja / Nej / Vet inte" in detail.text
    assert "importerades" in detail.text


def test_import_without_csrf_is_refused(client, signed_in):
    resp = client.post("/guides", data={"document": (io.BytesIO(GOOD_GUIDE), "ny.yaml")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400


def test_projector_needs_no_login_but_its_key(client, make, app):
    from shared.db import get_db
    from shared.models import Meeting

    meeting_id = make.meeting(title="Storsal <b>1</b>")
    with app.app_context():
        meeting = get_db().session.get(Meeting, meeting_id)
        key, code = meeting.projector_key, meeting.code
    resp = client.get(f"/p/{key}", headers={"Accept-Language": "sv"})
    assert resp.status_code == 200
    assert f'src="/j/{code}/qr.svg"' in resp.text
    assert f"{code[:3]}" in resp.text and "dialogrum.test" in resp.text
    assert "Storsal &lt;b&gt;1&lt;/b&gt;" in resp.text
    # A Danish meeting projects Danish whatever the browser asks for (contract v1.1), unless ?lang= says so.
    assert '<html lang="da">' in resp.text and "telefoner forbundet" in resp.text
    assert "telefoner anslutna" in client.get(f"/p/{key}?lang=sv").text
    for tag in re.findall(r"<script\b[^>]*>", resp.text):
        assert "src=" in tag or 'type="application/json"' in tag
    assert client.get("/p/not-the-key").status_code == 404


def test_export_includes_the_conclusion(client, signed_in, make, app):
    from shared import meeting as rules
    from shared.db import get_db

    meeting_id = make.meeting(user=signed_in)
    with app.app_context(), get_db().engine.begin() as conn:
        item_id = rules.snapshot(conn, meeting_id).items[1]["id"]
        rules.set_conclusion(Work(conn), meeting_id, item_id, "Vi er enige.")
    resp = client.get(f"/sessions/{meeting_id}/export.json")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    data = json.loads(resp.data)
    assert data["items"][1]["conclusion"] == "Vi er enige."
    english = {"Accept-Language": "en"}

    def conclusions(rows) -> dict:
        """{item text: conclusion} from the items table (its header row first)."""
        rows = iter(rows)
        header = list(next(rows))
        text, conclusion = header.index("Text"), header.index("Conclusion")
        return {row[text]: row[conclusion] or "" for row in rows}

    resp = client.get(f"/sessions/{meeting_id}/export.csv", headers=english)
    assert resp.status_code == 200
    items_block = resp.data.decode("utf-8-sig").split("\r\n\r\n")[0]  # the items, before the comments
    in_csv = conclusions(csv.reader(io.StringIO(items_block)))
    assert in_csv["Er der tillid til os?"] == "Vi er enige."
    assert [text for text, said in in_csv.items() if said] == ["Er der tillid til os?"]

    resp = client.get(f"/sessions/{meeting_id}/export.xlsx", headers=english)
    assert resp.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(resp.data), read_only=True)
    in_xlsx = conclusions(book.worksheets[0].iter_rows(values_only=True))
    assert in_xlsx["Er der tillid til os?"] == "Vi er enige."
    assert [text for text, said in in_xlsx.items() if said] == ["Er der tillid til os?"]
    assert client.get(f"/sessions/{meeting_id}/export.pdf").status_code == 404
