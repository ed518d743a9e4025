"""The start page and the phone page through the Flask test client."""

from __future__ import annotations

import json
import re

import pytest

from shared.app import CSP


def _scripts(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", html)


def test_start_page_has_the_code_field_sign_in_link_and_csp(client):
    resp = client.get("/", headers={"Accept-Language": "en"})
    assert resp.status_code == 200
    assert 'name="code"' in resp.text
    assert 'href="/login"' in resp.text
    csp = resp.headers["Content-Security-Policy"]
    assert csp == CSP
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "unsafe-inline" not in re.search(r"style-src ([^;]*)", csp).group(1)


@pytest.mark.parametrize(("header", "lang", "text"), [
    ("sv-SE,sv;q=0.9", "sv", "Delta i ett möte"),
    ("da-DK,da;q=0.9,en;q=0.5", "da", "Deltag i et møde"),
    ("en-GB", "en", "Join a meeting"),
    ("fr-FR", "en", "Join a meeting"),
])
def test_language_follows_accept_language(client, header, lang, text):
    resp = client.get("/", headers={"Accept-Language": header})
    assert f'<html lang="{lang}">' in resp.text
    assert text in resp.text


def test_language_switch_is_visible_and_remembered(client):
    resp = client.get("/?lang=da", headers={"Accept-Language": "sv"})
    assert "Deltag i et møde" in resp.text
    assert "dialogrum_lang=da" in resp.headers["Set-Cookie"]
    for code in ("sv", "da", "en"):
        assert f'href="/?lang={code}"' in resp.text
    again = client.get("/", headers={"Accept-Language": "sv"})
    assert "Deltag i et møde" in again.text


def test_a_post_without_csrf_token_is_refused(client):
    assert client.post("/", data={"code": "ABCDEF"}).status_code == 400


def test_a_wrong_code_says_so_in_the_users_language(client, csrf):
    page = client.get("/", headers={"Accept-Language": "sv"})
    resp = client.post("/", data={"csrf_token": csrf(page.text), "code": "<b>nope</b>"},
                       headers={"Accept-Language": "sv"})
    assert resp.status_code == 422
    assert "Det finns inget möte med den koden" in resp.text
    assert 'role="alert"' in resp.text
    assert "<b>nope</b>" not in resp.text and "&lt;b&gt;nope&lt;/b&gt;" in resp.text


def test_a_code_in_any_case_with_spaces_and_dashes_joins(client, make, csrf):
    make.meeting()
    with client.application.app_context():
        from shared.db import get_db
        from shared.models import Meeting

        code = get_db().session.query(Meeting).one().code
    page = client.get("/")
    messy = f" {code[:3].lower()}-{code[3:]} "
    resp = client.post("/", data={"csrf_token": csrf(page.text), "code": messy})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/j/{code}")
    assert client.get(f"/j/{code.lower()}").headers["Location"].endswith(f"/j/{code}")


@pytest.fixture
def phone_code(make):
    meeting_id = make.meeting(title='Møde <script>alert("x")</script>')
    with make.app.app_context():
        from shared.db import get_db
        from shared.models import Meeting

        return get_db().session.get(Meeting, meeting_id).code


def test_phone_page_escapes_and_runs_no_inline_script(client, phone_code):
    resp = client.get(f"/j/{phone_code}", headers={"Accept-Language": "da"})
    assert resp.status_code == 200
    assert '<script>alert("x")</script>' not in resp.text
    assert "&lt;script&gt;" in resp.text
    for tag in _scripts(resp.text):
        assert "src=" in tag or 'type="application/json"' in tag
    assert ' style="' not in resp.text and "<style" not in resp.text
    assert "onclick" not in resp.text


def test_phone_page_labels_follow_the_guide_and_texts_the_page_language(client, phone_code):
    # A phone that has not chosen a language follows the meeting's (the guide's: Danish), whatever
    # the browser asks for (contract v1.1) ...
    unchosen = client.get(f"/j/{phone_code}", headers={"Accept-Language": "sv"})
    assert '<html lang="da">' in unchosen.text and "Venter" in unchosen.text
    # ... and one that chose Swedish gets Swedish texts, with the Danish guide's vote labels.
    resp = client.get(f"/j/{phone_code}?lang=sv", headers={"Accept-Language": "sv"})
    assert '<html lang="sv">' in resp.text
    assert ">Ja</button>" in resp.text and ">Nej</button>" in resp.text and ">Ved ikke</button>" in resp.text
    config = json.loads(re.search(r'<script type="application/json" id="config">(.*?)</script>', resp.text, re.S)
                        .group(1))
    assert config["code"] == phone_code
    assert config["text"]["waiting"].startswith("Väntar")
    assert config["errors"]["voting_closed"] == "Röstningen är stängd för den här punkten."
    assert "anonym" in resp.text  # the note on what is stored
    assert 'aria-live="polite"' in resp.text


def test_unknown_code_is_a_404_in_the_users_language(client):
    resp = client.get("/j/ZZZZZZ", headers={"Accept-Language": "da"})
    assert resp.status_code == 404
    assert "Der findes intet møde med den kode" in resp.text


#: One dark module of the `qrcode` package's SvgPathFillImage: "M4,4H5V5H4z".
_MODULE = re.compile(r"M(\d+),(\d+)H(\d+)V(\d+)H(\d+)z")


def _raster(svg: bytes, scale: int = 8):
    """Draw an SVG QR code of square modules (one path of `M x,y H x+1 V y+1 H x z`) as a picture."""
    from xml.etree import ElementTree

    from PIL import Image, ImageDraw

    ns = {"svg": "http://www.w3.org/2000/svg"}
    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    x0, y0, width, height = (int(v) for v in root.get("viewBox").split())
    assert (x0, y0) == (0, 0) and width == height
    (path,) = root.findall("svg:path", ns)
    d = path.get("d")
    modules = [tuple(map(int, m.groups())) for m in _MODULE.finditer(d)]
    assert "".join(m.group(0) for m in _MODULE.finditer(d)) == d, "the path holds something other than modules"
    image = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, right, bottom, back in modules:
        assert (right, bottom, back) == (x + 1, y + 1, x)
        draw.rectangle((x * scale, y * scale, right * scale - 1, bottom * scale - 1), fill=0)
    return image


def test_qr_code_is_an_svg_of_the_join_url(client, phone_code):
    import zxingcpp

    resp = client.get(f"/j/{phone_code}/qr.svg")
    assert resp.status_code == 200
    assert resp.mimetype == "image/svg+xml"
    found = zxingcpp.read_barcodes(_raster(resp.data))
    assert [(r.format, r.text) for r in found] == [(zxingcpp.BarcodeFormat.QRCode,
                                                    f"http://dialogrum.test/j/{phone_code}")]


def test_static_files_are_served(client):
    for path in ("/static/css/dialogrum.css", "/static/js/dialogrum.js", "/static/participant/phone.js",
                 "/static/facilitator/console.js", "/static/facilitator/projector.js"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        resp.close()
