"""The one download service (shared.downloads): names, headers, and the same bytes through the
REST API, the pages and the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from shared import downloads, reports
from shared import meeting as rules
from shared.db import get_db
from shared.errors import DialogrumError
from shared.models import Guide, Meeting, User
from tests.conftest import ServerProcess, hold_meeting

TITLE = "Möte i Malmö: “vår” plan/2026"


def test_a_download_names_and_types():
    csv = downloads.Download(b"x", "Moete-i-Malmoe.csv", "Möte i Malmö.csv", downloads.CONTENT_TYPES["csv"])
    assert csv.content_type == "text/csv; charset=utf-8"
    assert csv.disposition == ("attachment; filename=\"Moete-i-Malmoe.csv\"; "
                               "filename*=UTF-8''M%C3%B6te%20i%20Malm%C3%B6.csv")
    assert downloads.CONTENT_TYPES["json"] == "application/json; charset=utf-8"
    assert "charset" not in downloads.CONTENT_TYPES["xlsx"]


@pytest.mark.parametrize(("base", "expected"), [
    (TITLE + " K7M2QX", "Möte i Malmö- “vår” plan-2026 K7M2QX.csv"),
    ("  a\x00b\tc  ", "a-b-c.csv"),
    ("///", "export.csv"),
    ("Å" * 200, "Å" * 76 + ".csv"),
])
def test_unicode_file_names_keep_the_letters_and_nothing_a_file_system_refuses(base, expected):
    assert downloads.unicode_filename(base, "csv") == expected


def test_unknown_formats_are_invalid():
    with pytest.raises(DialogrumError) as exc:
        downloads.check_format("pdf")
    assert exc.value.code == "invalid"


@pytest.fixture
def held(app, make):
    """A facilitator's ended session of a small guide, with votes, comments and a conclusion."""
    fac = make.user("facilitator")
    gid = make.guide()
    mid = make.meeting(fac, guide_id=gid, title=TITLE)
    with app.app_context():
        engine = get_db(app).engine
        with engine.connect() as conn:
            snap = rules.snapshot(conn, mid)
            code = rules.get_meeting(conn, mid).code
        considerations = [i["id"] for i in snap.items if i["kind"] == "consideration"]
        hold_meeting(engine, mid, {considerations[0]: ["yes", "no", "yes"]}, ["=1+1", "Godt møde"],
                     conclusions={considerations[0]: "Ja tak"})
    return {"user": fac, "meeting": mid, "guide": gid, "code": code}


def _file(app, fn, *args):
    with app.app_context():
        db = get_db().session
        try:
            return fn(db, *args)
        finally:
            db.remove()


@pytest.mark.parametrize("fmt", downloads.FORMATS)
def test_a_session_export_is_the_same_through_api_page_and_cli(app, client, make, login, held, tmp_path, fmt):
    # The stable English file (the pages offer it as "CSV for other programs"); XLSX times in the
    # configured zone, which is UTC for this app and the CLI below.
    expected = _file(app, lambda db: downloads.session_file(db, db.get(Meeting, held["meeting"]), fmt,
                                                            tz=dt.UTC))
    assert expected.filename.endswith(f"-{held['code']}.{fmt}") and expected.filename.isascii()

    token = make.token(held["user"])
    api = client.get(f"/api/v1/sessions/{held['meeting']}/export?format={fmt}",
                     headers={"Authorization": f"Bearer {token}"})
    login(held["user"])
    page = client.get(f"/sessions/{held['meeting']}/export.{fmt}?plain=1")
    for resp in (api, page):
        assert resp.status_code == 200
        assert resp.data == expected.body
        assert resp.headers["Content-Type"] == expected.content_type
        assert resp.headers["Content-Type"].count("charset") == (1 if fmt in ("csv", "json") else 0)
        assert resp.headers["Content-Disposition"] == expected.disposition
        assert resp.headers["Cache-Control"] == "private, no-store"
    name = resp.headers["Content-Disposition"].split("filename*=UTF-8''")[1]
    assert unquote(name) == f"{TITLE.replace(':', '-').replace('/', '-')} {held['code']}.{fmt}"

    (tmp_path / "cli").mkdir()
    (tmp_path / "out").mkdir()
    cli = ServerProcess(tmp_path / "cli", app.config["DATABASE_URL"], env={"DIALOGRUM_TIMEZONE": "UTC"})
    printed = cli.cli("export", held["code"], "--format", fmt, "--output", str(tmp_path / "out")).stdout.strip()
    assert Path(printed) == tmp_path / "out" / expected.filename
    assert Path(printed).read_bytes() == expected.body
    if fmt == "json":
        assert json.loads(expected.body)["items"][1]["conclusion"] == "Ja tak"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_rollup_export_is_the_same_through_api_and_page(app, client, make, login, held, fmt):
    def build(db):
        guide, user = db.get(Guide, held["guide"]), db.get(User, held["user"].id)
        return downloads.rollup_file(reports.guide_rollup(db, guide, user, reports.RollupFilters()), fmt, tz=dt.UTC)

    expected = _file(app, build)
    assert expected.filename == f"Testguide-rollup.{fmt}"
    token = make.token(held["user"])
    api = client.get(f"/api/v1/guides/{held['guide']}/rollup?format={fmt}",
                     headers={"Authorization": f"Bearer {token}"})
    login(held["user"])
    page = client.get(f"/guides/{held['guide']}/rollup.{fmt}?plain=1")
    for resp in (api, page):
        assert resp.status_code == 200
        assert resp.data == expected.body
        assert resp.headers["Content-Type"] == expected.content_type
        assert resp.headers["Content-Disposition"] == expected.disposition


# -- files for a spreadsheet in the reader's language (issue 9, point 11) ------------------------

SPREADSHEET = {
    "da": {"items": ["Nr.", "Afsnit", "Mærker", "Type", "Tekst", "Ja", "Nej", "Ved ikke", "Har stemt", "Ja (%)",
                     "Kommentarer", "Konklusion", "Hænder: Ja", "Hænder: Nej", "Hænder: Ved ikke"],
           "comments": ["Punkt nr.", "Kommentar nr.", "Skrevet", "Fastgjort", "Skjult", "Tekst", "Tommel op",
                        "Godkendt"],
           "kind": "Overvejelse", "no": "Nej", "sheets": ["Punkter", "Kommentarer", "Møde"], "total": "I alt"},
    "sv": {"items": ["Nr", "Avsnitt", "Taggar", "Typ", "Text", "Ja", "Nej", "Vet inte", "Har röstat", "Ja (%)",
                     "Kommentarer", "Slutsats", "Händer: Ja", "Händer: Nej", "Händer: Vet inte"],
           "comments": ["Punkt nr", "Kommentar nr", "Skriven", "Fäst", "Dold", "Text", "Tummen upp", "Godkänd"],
           "kind": "Ställningstagande", "no": "Nej", "sheets": ["Punkter", "Kommentarer", "Möte"], "total": "Totalt"},
}


def _tables(body: bytes, delimiter: str) -> list[list[list[str]]]:
    """The tables of a CSV file (separated by blank lines), as Excel splits them."""
    import csv
    import io

    tables: list[list[list[str]]] = [[]]
    for row in csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter):
        if row:
            tables[-1].append(row)
        else:
            tables.append([])
    return tables


@pytest.mark.parametrize("lang", ["da", "sv"])
def test_a_danish_or_swedish_page_hands_out_csv_that_excel_there_reads(client, login, held, lang):
    words = SPREADSHEET[lang]
    login(held["user"])
    resp = client.get(f"/sessions/{held['meeting']}/export.csv?lang={lang}")
    assert resp.status_code == 200 and resp.data.startswith(b"\xef\xbb\xbf")
    items, comments = _tables(resp.data, ";")
    assert items[0] == words["items"]
    assert {len(row) for row in items} == {15}  # semicolons split every row alike
    vote = next(row for row in items if row[3] == words["kind"] and row[5] == "2")
    assert vote[5:10] == ["2", "1", "0", "3", "66,7"]  # a decimal comma, not a point
    assert vote[11] == "Ja tak"
    assert {row[3] for row in items[1:]} <= {words["kind"], *(SPREADSHEET_KINDS[lang])}
    # The comments' texts, with every flag in words and times in the configured zone (UTC here).
    # The column of times names the zone they are in (the configured one, UTC for this app).
    assert comments[0] == [f"{h} (UTC)" if h in ("Skrevet", "Skriven") else h for h in words["comments"]]
    texts = {row[5] for row in comments[1:]}
    assert texts == {"'=1+1", "Godt møde"}
    assert {row[3] for row in comments[1:]} == {words["no"]}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[2]) for row in comments[1:])

    # The roll-up page's CSV likewise; the stable English file is one explicit choice away.
    rollup = client.get(f"/guides/{held['guide']}/rollup.csv?lang={lang}")
    rows = _tables(rollup.data, ";")[0]
    assert rows[0][:3] == ["Punktets id", "Type", "Tekst"] if lang == "da" else ["Punktens id", "Typ", "Text"]
    assert words["total"] in {row[4] for row in rows}
    plain = client.get(f"/sessions/{held['meeting']}/export.csv?lang={lang}&plain=1")
    assert _tables(plain.data, ",")[0][0][:2] == ["position", "section"]


SPREADSHEET_KINDS = {"da": ("Information", "Drøftelsesspørgsmål"), "sv": ("Information", "Diskussionsfråga")}


@pytest.mark.parametrize("lang", ["da", "sv"])
def test_xlsx_speaks_the_page_language_with_times_in_the_configured_zone(app, client, login, held, lang):
    import io
    from zoneinfo import ZoneInfo

    from openpyxl import load_workbook

    words = SPREADSHEET[lang]
    login(held["user"])
    book = load_workbook(io.BytesIO(client.get(f"/sessions/{held['meeting']}/export.xlsx?lang={lang}").data))
    assert book.sheetnames == words["sheets"]
    items, comments, _facts = (book[name] for name in words["sheets"])
    assert [c.value for c in items[1]] == words["items"]
    assert [c.value for c in comments[1]][-4:] == [words["comments"][-4], "Tekst" if lang == "da" else "Text",
                                                   words["comments"][-2], words["comments"][-1]]
    assert {row[6] for row in comments.iter_rows(min_row=2, values_only=True)} == {"'=1+1", "Godt møde"}
    assert {row[4] for row in comments.iter_rows(min_row=2, values_only=True)} == {words["no"]}

    # Times are wall-clock times in the configured zone, as the report shows them.
    copenhagen = ZoneInfo("Europe/Copenhagen")
    with app.app_context():
        db = get_db().session
        meeting = db.get(Meeting, held["meeting"])
        started = meeting.started_at
        local = downloads.session_file(db, meeting, "xlsx", language=lang, tz=copenhagen)
        db.remove()
    sheet = load_workbook(io.BytesIO(local.body)).worksheets[2]
    found = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert found["Tidszone" if lang == "da" else "Tidszon"] == "Europe/Copenhagen"
    assert found["Startede" if lang == "da" else "Startade"] == started.astimezone(copenhagen).replace(
        tzinfo=None, microsecond=0)
