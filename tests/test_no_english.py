"""No English on Danish and Swedish pages and files (issue 9, point 10).

Renders every page (in every state that shows other texts: a form's errors, the guide import's
refusals, a console waiting, live and ended) and every export in Danish and in Swedish, collects
what a reader sees (text, the texts the page's script shows, alt texts, labels, titles, cells), and
fails on English: words that are English and neither Danish nor Swedish, and plural crutches like
"kommentar(er)". Text in another language on purpose is skipped where the page says so (`lang`
on the element, as guide content and the language switch have it), and so is code
(`<code>`, `translate="no"`). It also fails when a page is added without being rendered here.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from html.parser import HTMLParser

import pytest

from tests.conftest import REGIONS_GUIDE, SMALL_GUIDE, hold_meeting

LANGS = ("da", "sv")

#: Words that are English and neither Danish nor Swedish (checked against both languages: "in",
#: "at", "for", "be", "om", "guide", "status", "total", "text" are theirs too, so they are not here).
_ENGLISH = """
the and of to is are was were been being must should would could will shall can cannot may
this that these those with without your you yours our we they them their there here when where
which what who whom how why not only also than then into onto from about above below between
after before while during field fields required characters character long short valid invalid
input please true false none null yes session sessions comment comments item items vote votes
voters voted voting phone phones connected waiting ended started join joined sign signed
organiser organizer facilitator consideration considerations prompt prompts position percent
pinned hidden created updated kind choose chosen choice file files download downloads show shown
hide results result meeting meetings number numbers between least most exactly equal first last
next previous back close open opened closed save saved delete deleted user users
"""
ENGLISH = frozenset(_ENGLISH.split())

#: The words of the guide document format (its keys and kinds), which the import page's messages
#: name as the author wrote them: `kind skal være en af consideration, prompt, info`.
_GUIDE_FORMAT = ("title language description sections items kind text consideration prompt info true false "
                 "allow_unsure statement tags id")
GUIDE_FORMAT = frozenset(_GUIDE_FORMAT.split())

#: "kommentar(er)", "telefon(er)", "comment(s)": a plural that was not made.
PLURAL_CRUTCH = re.compile(r"\w\((?:s|e|er|ar|r|n|en|na)\)", re.IGNORECASE)
WORD = re.compile(r"\b[^\W\d_]+\b")  # whole words: not the letters of a join code like WE3X9C
#: `%(voters)s`: a place the script fills in, not a word
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


class Reader(HTMLParser):
    """The texts a reader of a page meets, except those marked as another language or as code."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                      "wbr"})
    SEEN_ATTRS = ("alt", "title", "aria-label", "placeholder")

    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = lang
        self.stack: list[tuple[str, bool, bool]] = []  # tag, skipped, JSON config
        self.texts: list[str] = []

    def _skipped(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skip = (self._skipped() or tag in ("style", "code", "kbd")
                or (tag == "script" and attrs.get("type") != "application/json")
                or attrs.get("translate") == "no"
                or ("lang" in attrs and attrs["lang"] != self.lang and tag != "html"))
        if not skip:
            self.texts += [attrs[a] for a in self.SEEN_ATTRS if attrs.get(a)]
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.texts.append(attrs["value"])
        if tag not in self.VOID:
            self.stack.append((tag, skip, tag == "script"))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not data.strip() or self._skipped():
            return
        if self.stack and self.stack[-1][2]:  # the page script's texts, from its JSON config
            self.texts += list(_strings(json.loads(data), key=""))
        else:
            self.texts.append(data)


#: Keys of a page's JSON config whose values are data, not texts for people.
DATA_KEYS = {"session_id", "projector_key", "code", "id", "kind", "language", "index", "status_keys",
             # the guide editor's: the guide itself (in its own language), the vote words of every
             # language a guide may be written in, and a CSRF token
             "document", "vote_labels", "csrf"}


def _strings(value, key: str):
    if key in DATA_KEYS or key.endswith("_url"):  # data all the way down; addresses are no text
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)


def english_in(texts, *, allowed: frozenset = frozenset()) -> list[str]:
    """The texts that hold an English word or a plural crutch."""
    found = []
    for text in texts:
        words = {w.lower() for w in WORD.findall(PLACEHOLDER.sub(" ", text))} - set(allowed)
        if words & ENGLISH or PLURAL_CRUTCH.search(text):
            found.append(text.strip()[:160])
    return sorted(set(found))


def page_texts(html: str, lang: str) -> list[str]:
    reader = Reader(lang)
    reader.feed(html)
    assert f'<html lang="{lang}"' in html, "the page says the language in use"
    return reader.texts


def csv_texts(body: bytes) -> list[str]:
    text = body.decode("utf-8-sig")
    delimiter = ";" if text.split("\r\n")[0].count(";") > text.split("\r\n")[0].count(",") else ","
    return [cell for row in csv.reader(io.StringIO(text), delimiter=delimiter) for cell in row]


def xlsx_texts(body: bytes) -> list[str]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(body))
    cells = list(book.sheetnames)
    for sheet in book.worksheets:
        cells += [str(v) for row in sheet.iter_rows(values_only=True) for v in row if isinstance(v, str)]
    return cells


# -- the rooms: every kind of page with something on it ------------------------------------------


@pytest.fixture
def db_url(sqlite_url):
    """SQLite only: the texts do not depend on the database."""
    return sqlite_url


#: Participant texts in the page's own language, so that nothing English is there to be found.
COMMENTS = {"da": ["Godt møde", "Vi mangler tid"], "sv": ["Bra möte", "Vi saknar tid"]}


@pytest.fixture
def rooms(app, make):
    """For each language: an organiser, a guide in it, an ended session with votes, comments (one
    hidden, one pinned) and a conclusion, a live and a waiting one, a public roll-up link and an
    open invitation link."""
    from shared import meeting as rules
    from shared import organiser
    from shared.db import get_db
    from shared.models import User

    boss = make.user("organiser", email="boss@example.org")
    out = {"boss": boss}
    with app.app_context():
        db = get_db().session
        db.get(User, boss.id).name = "Kim"  # a name, not the role's English word
        # The organiser belongs to the unit, so the sessions page shows what it is asked to hold.
        db.get(User, boss.id).unit_id = organiser.add_unit(db, "Afdeling 12", "forening").id
        organiser.add_unit(db, "Afdeling 7", "forening")
        db.commit()
        db.remove()
    for lang, doc in (("da", SMALL_GUIDE), ("sv", REGIONS_GUIDE)):
        gid = make.guide(doc)
        ended = make.meeting(boss, guide_id=gid, title={"da": "Beboermøde", "sv": "Medlemsmöte"}[lang],
                             unit="Afdeling 12")
        live = make.meeting(boss, guide_id=gid, title="Live")
        waiting = make.meeting(boss, guide_id=gid, title="Venter")
        with app.app_context():
            engine = get_db(app).engine
            with engine.connect() as conn:
                snap = rules.snapshot(conn, ended)
            votes = {i["id"]: ["yes", "no", "unsure"][: 2 + i["allow_unsure"]] for i in snap.items
                     if i["kind"] == "consideration"}
            texts = COMMENTS[lang]
            hold_meeting(engine, ended, votes, texts, hide=texts[:1], pin=texts[1:],
                         conclusions={next(iter(votes)): {"da": "Enige", "sv": "Eniga"}[lang]})
            hold_meeting(engine, live, votes, texts, end=False)
            db = get_db().session
            link = organiser.publish_rollup(db, gid, db.get(User, boss.id), include_comments=True)
            withdrawn = organiser.publish_rollup(db, gid, db.get(User, boss.id))
            organiser.revoke_rollup(db, withdrawn.id)
            invited, secret = organiser.invite(db, email=f"ny-{lang}@example.org", role="facilitator", name="Ny")
            keys = {m: rules.get_meeting(db.connection(), m) for m in (ended, live, waiting)}
            # A campaign that one unit has held and one has not, past its deadline (issue 12, gap 8).
            from shared import campaigns
            from shared.models import Unit
            campaign = campaigns.save_campaign(db, db.get(User, boss.id), guide_id=gid,
                                               unit_ids=[u.id for u in db.query(Unit)], deadline="2020-01-01",
                                               message={"da": "Husk fristen", "sv": "Glöm inte"}[lang])
            db.commit()
            out[lang] = {"guide": gid, "ended": ended, "live": live, "waiting": waiting, "public": link.key,
                         "withdrawn": withdrawn.key, "link_id": link.id, "invited": invited.id,
                         "secret": secret, "code": keys[live].code, "projector": keys[live].projector_key,
                         "ended_projector": keys[ended].projector_key, "waiting_code": keys[waiting].code,
                         "campaign": campaign.id}
            db.remove()
    return out


BAD_GUIDE = b"""title: Forkert
language: da
sections:
  - title: Et afsnit
    items:
      - kind: question
        text: Hvad nu?
      - kind: consideration
        text: ""
        allow_unsure: maybe
"""
BROKEN_YAML = b"title: [unclosed\nlanguage: da\n"


def forms(client, rooms, lang):
    """Every form sent wrong, so that its errors show (WTForms' own messages included)."""
    from tests.conftest import csrf_token

    def post(path, data, files=None):
        page = client.get(f"{path}?lang={lang}")
        body = {"csrf_token": csrf_token(page.text), **data}
        if files:
            body.update(files)
            return client.post(f"{path}?lang={lang}", data=body, content_type="multipart/form-data")
        return client.post(f"{path}?lang={lang}", data=body)

    room = rooms[lang]
    yield "new session, nothing filled in", post("/sessions", {"guide_id": "", "title": ""}), ()
    yield "new session, a title too long", post("/sessions", {"guide_id": room["guide"], "title": "x" * 400}), ()
    yield "guide import, no file", post("/guides", {}), ()
    yield "guide import, refused", post("/guides", {}, {"document": (io.BytesIO(BAD_GUIDE), "g.yaml")}), GUIDE_FORMAT
    yield "guide import, not YAML", post("/guides", {}, {"document": (io.BytesIO(BROKEN_YAML), "g.yaml")}), GUIDE_FORMAT
    yield "invite, no e-mail", post("/users", {"email": "", "role": "facilitator"}), ()
    yield "invite, not an e-mail", post("/users", {"email": "nope", "role": "boss"}), ()
    yield "unit, no name", post("/units", {"name": "", "kind": "region"}), ()
    yield "unit, name too long", post("/units", {"name": "x" * 300, "kind": "nope"}), ()
    # The steps that ask first (issue 12, defect 3)
    yield "deactivate, asked first", client.post(
        f"/users/{room['invited']}/active?lang={lang}", data={"csrf_token": csrf_token(client.get("/users").text),
                                                               "active": "0"}), ()
    yield "revoke, asked first", client.post(
        f"/guides/{room['guide']}/public/{room['link_id']}/revoke?lang={lang}",
        data={"csrf_token": csrf_token(client.get("/users").text)}), ()
    yield "settings, not a number", post("/settings", {"days": "many"}), ()
    yield "paper, refused", post("/sessions/paper", {"guide": room["guide"], "held_on": "igår", "participants": "-1",
                                                     "unit": "x" * 300}), ()
    yield "settings, out of range", post("/settings", {"days": "-3"}), ()
    yield "campaign, nothing filled in", post("/campaigns/new", {"guide_id": room["guide"], "deadline": "igår"}), ()
    yield "campaign reminder to copy", client.post(
        f"/campaigns/{room['campaign']}/remind?lang={lang}",
        data={"csrf_token": csrf_token(client.get(f"/campaigns/{room['campaign']}").text)}), \
        ("sessions",)  # the link's path in the text to copy (/sessions?guide=...), an address, not a word
    yield "first password, too short and different", post(f"/setup/{room['secret']}", {
        "email": "nope", "password": "kort", "confirm": "andet"}), ()


def pages(client, rooms, lang):
    """Every page, signed out and in (the client is signed in as the organiser half-way)."""
    room = rooms[lang]
    yield "start", client.get("/"), ()
    yield "start, a wrong code", client.post("/", data={"code": "ZZZZZZ"}), ()
    yield "phone", client.get(f"/j/{room['code']}"), ()
    yield "phone, waiting", client.get(f"/j/{room['waiting_code']}"), ()
    yield "phone, unknown code", client.get("/j/ZZZZZZ"), ()
    yield "projector", client.get(f"/p/{room['projector']}"), ()
    yield "projector, ended", client.get(f"/p/{room['ended_projector']}"), ()
    yield "public roll-up", client.get(f"/f/{room['public']}"), ()
    yield "first password", client.get(f"/setup/{room['secret']}"), ()
    yield "a spent link", client.get("/setup/not-a-secret"), ()
    yield "sign in", client.get("/login"), ()
    yield "sign in, empty", _post_login(client, lang, "", ""), ()
    yield "sign in, wrong", _post_login(client, lang, "boss@example.org", "wrong horse"), ()
    yield "a page that is not there", client.get("/nowhere"), ()
    yield "a withdrawn public link", client.get(f"/f/{room['withdrawn']}"), ()
    yield "a form sent without its CSRF token", client.post("/", data={"code": "ZZZZZZ"}), ()
    # Flask-Login's own message, flashed on the sign-in page it sends a signed-out reader to.
    yield "sign in first", client.get("/sessions", follow_redirects=True), ()
    _post_login(client, lang, "boss@example.org", "correct horse")
    yield "sessions", client.get("/sessions"), ()
    yield "sessions, run again", client.get(f"/sessions?again={room['ended']}"), ()
    for state in ("waiting", "live", "ended"):
        yield f"console, {state}", client.get(f"/console/{room[state]}"), ()
    yield "guides", client.get("/guides"), ()
    yield "guide", client.get(f"/guides/{room['guide']}"), ()
    yield "new guide", client.get("/guides/new"), ()
    yield "edit a guide", client.get(f"/guides/{room['guide']}/edit"), ()
    yield "delete a guide that sessions used", client.get(f"/guides/{room['guide']}/delete"), ()
    yield "report", client.get(f"/sessions/{room['ended']}/report"), ()
    yield "report, live", client.get(f"/sessions/{room['live']}/report"), ()
    yield "paper, choose a guide", client.get("/sessions/paper"), ()
    yield "paper", client.get(f"/sessions/paper?guide={room['guide']}"), ()
    yield "delete a session", client.get(f"/sessions/{room['ended']}/delete"), ()
    yield "a deleted session's report", client.get("/sessions/gone0000/report"), ()
    yield "roll-up", client.get(f"/guides/{room['guide']}/rollup"), ()
    yield "roll-up for the board", client.get(f"/guides/{room['guide']}/rollup/report"), ()
    yield "roll-ups", client.get("/rollups"), ()
    yield "users", client.get("/users"), ()
    yield "units", client.get("/units"), ()
    yield "settings", client.get("/settings"), ()
    yield "campaigns", client.get("/campaigns"), ()
    yield "new campaign", client.get("/campaigns/new"), ()
    yield "campaign", client.get(f"/campaigns/{room['campaign']}"), ()
    yield "edit a campaign", client.get(f"/campaigns/{room['campaign']}/edit"), ()
    for endpoint, path in (("organiser.tokens", "/tokens"), ("organiser.all_tokens", "/users/tokens")):
        if endpoint in client.application.view_functions:
            yield endpoint, client.get(path), ()
    # Last, as it changes the join links: on this computer itself (127.0.0.1, so that the check
    # connects nowhere else), the console warns and the check page says what it found.
    client.application.config["BASE_URL"] = "http://127.0.0.1:9"
    yield "console, join link on this computer", client.get(f"/console/{room['waiting']}"), ()
    if "facilitator.join_check" in client.application.view_functions:
        yield "join-link check", client.get(f"/console/{room['waiting']}/join-check"), ()


def _post_login(client, lang, email, password):
    from tests.conftest import csrf_token

    page = client.get(f"/login?lang={lang}")
    return client.post(f"/login?lang={lang}", data={"csrf_token": csrf_token(page.text), "email": email,
                                                      "password": password})


#: The pages rendered above, by endpoint: a page added later fails the coverage test until it is.
COVERED = {
    "participant.index", "participant.join", "facilitator.projector", "public.rollup", "facilitator.setup",
    "facilitator.login", "facilitator.sessions", "facilitator.console", "facilitator.guide_library",
    "facilitator.guide_detail", "organiser.report", "organiser.delete_session", "organiser.rollup", "organiser.rollups",
    "organiser.rollup_report",
    "editor.new_guide", "editor.edit_guide", "editor.delete", "editor.export", "facilitator.paper",
    "facilitator.join_check",
    "organiser.users", "organiser.units", "organiser.settings", "organiser.tokens", "organiser.all_tokens",
    "organiser.campaign_list", "organiser.new_campaign", "organiser.campaign", "organiser.edit_campaign",
    # files and redirects, checked below or with no text of their own
    "facilitator.export", "organiser.rollup_download", "participant.qr_svg", "facilitator.logout",
    "organiser.set_active", "organiser.reset", "organiser.set_unit_active", "organiser.publish",
    "organiser.revoke", "organiser.revoke_token", "static", "facilitator.static", "participant.static",
    "favicon", "healthz", "metrics",
}


@pytest.mark.parametrize("lang", LANGS)
def test_no_page_shows_english(app, rooms, lang):
    client = app.test_client()
    client.get(f"/?lang={lang}")  # the switch, remembered in the cookie as a reader's choice is
    leaks = {}
    for name, resp, allowed in [*pages(client, rooms, lang), *forms(client, rooms, lang)]:
        assert resp.status_code < 500, name
        assert resp.status_code not in (302, 303), (name, resp.headers.get("Location"))
        found = english_in(page_texts(resp.text, lang), allowed=allowed)
        if found:
            leaks[name] = found
    assert leaks == {}, json.dumps(leaks, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("lang", LANGS)
def test_no_file_shows_english(app, rooms, lang):
    client = app.test_client()
    _post_login(client, lang, "boss@example.org", "correct horse")
    room = rooms[lang]
    leaks = {}
    for name, path in (("session csv", f"/sessions/{room['ended']}/export.csv"),
                       ("session xlsx", f"/sessions/{room['ended']}/export.xlsx"),
                       ("roll-up csv", f"/guides/{room['guide']}/rollup.csv"),
                       ("roll-up xlsx", f"/guides/{room['guide']}/rollup.xlsx"),
                       ("session zip", f"/sessions/{room['ended']}/export.zip"),
                       ("roll-up zip", f"/guides/{room['guide']}/rollup.zip")):
        resp = client.get(f"{path}?lang={lang}")
        assert resp.status_code == 200, name
        if path.endswith(".zip"):  # one CSV file per table, each named in the language
            archive = zipfile.ZipFile(io.BytesIO(resp.data))
            texts = [text for member in archive.namelist()
                     for text in [member.split("-", 1)[1].removesuffix(".csv"), *csv_texts(archive.read(member))]]
        else:
            texts = csv_texts(resp.data) if path.endswith(".csv") else xlsx_texts(resp.data)
        found = english_in(texts)
        if found:
            leaks[name] = found
    assert leaks == {}, json.dumps(leaks, ensure_ascii=False, indent=1)


@pytest.mark.parametrize(("lang", "withdrawn", "sign_in_first"),
                         [("da", "trukket tilbage", "Log ind for at se siden"),
                          ("sv", "drogs tillbaka", "Logga in för att se sidan")])
def test_withdrawn_links_and_signing_in_first_say_so(app, rooms, lang, withdrawn, sign_in_first):
    """A revoked public link is gone on purpose (410, said in the reader's language), unlike an
    unknown key (404); a signed-out reader sent to sign in is told why in their language."""
    client = app.test_client()
    client.get(f"/?lang={lang}")
    gone = client.get(f"/f/{rooms[lang]['withdrawn']}")
    assert gone.status_code == 410 and withdrawn in gone.text
    assert client.get("/f/no-such-key").status_code == 404
    assert sign_in_first in client.get("/sessions", follow_redirects=True).text
    expired = client.post("/login", data={"email": "x@example.org", "password": "y"})  # no CSRF token
    assert expired.status_code == 400 and {"da": "genindlæs siden", "sv": "ladda om sidan"}[lang] in expired.text


def test_every_page_is_rendered_here(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if not rule.endpoint.startswith("api.") and "GET" in (rule.methods or ())}
    assert endpoints - COVERED == set(), "render the new pages in tests/test_no_english.py"


def test_the_detector_finds_what_it_should():
    assert english_in(["Field must be between 8 and 1000 characters long."])
    assert english_in(["Du har sendt 1 kommentar(er)."])
    assert english_in(["kind=consideration"]) and not english_in(["kind=consideration"], allowed=GUIDE_FORMAT)
    assert not english_in(["Log ind for at lede et møde", "Logga in för att leda ett möte", "Status: Afsluttet"])


@pytest.mark.parametrize(("lang", "word", "not_this"),
                         [("da", "arrangør", "organisator"), ("sv", "arrangör", "organisatör")])
def test_every_text_is_translated_and_an_organiser_has_one_name(lang, word, not_this):
    from pathlib import Path

    from babel.messages.pofile import read_po

    path = Path(__file__).parents[1] / "shared" / "translations" / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh)
    untranslated, other_word = [], []
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(forms):
            untranslated.append(message.id)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if any(not_this in f.lower() for f in forms) or (
                any("organiser" in i.lower() for i in ids) and not all(word in f.lower() for f in forms)):
            other_word.append(forms[0])
    assert untranslated == []
    assert other_word == [], f"an organiser is an {word} everywhere"
