"""Exports people open in Excel, and regions side by side for the board (issue 12, gaps 11 and 12).

Two regions hold the Swedish guide; each writes a conclusion and comments on a Ja/Nej item, and
one comment per region is hidden. The files are opened as Excel would (csv with the file's
dialect, openpyxl) and read cell by cell, in Swedish and Danish, with the times in a configured
zone; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from shared import downloads, reports
from shared import meeting as rules
from shared.db import Database, get_db
from shared.models import Guide, User
from shared.uow import unit_of_work
from tests.conftest import REGIONS_GUIDE, hold_meeting

STOCKHOLM = ZoneInfo("Europe/Stockholm")
UNITS = {"Region Stockholm": {"c1": ["yes", "yes", "no"], "c2": ["unsure", "yes"]},
         "Region Syd": {"c1": ["no", "no"], "c3": ["yes", "yes"]}}


@pytest.fixture
def board(app, make) -> dict:
    """Two regions' ended sessions of REGIONS_GUIDE, each with a conclusion on c1 and p1, a visible
    and a hidden comment on the consideration c1, and a comment on the prompt p1."""
    boss = make.user("organiser")
    gid = make.guide(REGIONS_GUIDE)
    mids, hidden_ids = {}, []
    with app.app_context():
        engine = get_db(app).engine
        database = Database.for_engine(engine)
        for unit, votes in UNITS.items():
            mid = make.meeting(boss, guide_id=gid, unit=unit, title=f"Dialog {unit}")
            mids[unit] = mid
            hold_meeting(engine, mid, votes, [f"Fler möten i {unit}"], comment_on="p1", end=False,
                         conclusions={"c1": f"Slutsats från {unit}", "p1": f"Vi värvar i {unit}"})
            with unit_of_work(database) as work:
                index = next(i["index"] for i in rules.snapshot(work.conn, mid).items if i["id"] == "c1")
                rules.control(work, mid, "goto", index)
                meeting = rules.get_meeting(work.conn, mid)
                pid = rules.join(work, meeting)[0]
                rules.add_comment(work, mid, pid, "c1", f"=Synpunkt från {unit}")
                hidden_ids.append(rules.add_comment(work, mid, pid, "c1", f"Hemligt i {unit}")["id"])
            with unit_of_work(database) as work:
                rules.moderate(work, mid, hidden_ids[-1], hidden=True)
                rules.control(work, mid, "end")
    return {"guide": gid, "meetings": mids, "organiser": boss}


def _rollup(app, board, fmt, **kwargs):
    with app.app_context():
        db = get_db().session
        try:
            data = reports.guide_rollup(db, db.get(Guide, board["guide"]), db.get(User, board["organiser"].id),
                                        reports.RollupFilters())
            return data, downloads.rollup_file(data, fmt, **kwargs)
        finally:
            db.remove()


def _read(body: bytes, delimiter: str) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so Excel reads å, ä, ö right"
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter))
    assert [] not in rows, "one table per CSV file: no blank line between tables"
    return rows


def test_the_rollup_carries_conclusions_and_visible_comments_per_session(app, board):
    data, _file = _rollup(app, board, "json")
    c1 = next(i for i in data["items"] if i["id"] == "c1")
    sthlm, syd = board["meetings"]["Region Stockholm"], board["meetings"]["Region Syd"]
    assert c1["conclusions"] == {sthlm: "Slutsats från Region Stockholm", syd: "Slutsats från Region Syd"}
    # Comments on a Ja/Nej item too; the hidden ones are not there at all.
    assert [(c["session_id"], c["text"]) for c in c1["comment_texts"]] == [
        (sthlm, "=Synpunkt från Region Stockholm"), (syd, "=Synpunkt från Region Syd")]
    assert c1["per_session"][sthlm]["comments"] == 1 and c1["total"]["comments"] == 2


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_rollup_zip_holds_one_csv_per_table_in_the_language_and_zone(app, board, lang):
    _data, file = _rollup(app, board, "zip", language=lang, tz=STOCKHOLM)
    assert file.content_type == "application/zip" and file.filename.endswith("rollup.zip")
    archive = zipfile.ZipFile(io.BytesIO(file.body))
    names = archive.namelist()
    expected = {"sv": ["1-Punkter.csv", "2-Kommentarer.csv", "3-Taggar.csv", "4-Moeten.csv"],
                "da": ["1-Punkter.csv", "2-Kommentarer.csv", "3-Maerker.csv", "4-Moeder.csv"]}[lang]
    assert names == expected
    items, comments, tags, sessions = (_read(archive.read(n), ";") for n in names)

    yes, no, total, item_id = {"sv": ("Ja", "Nej", "Totalt", "Punktens id"),
                               "da": ("Ja", "Nej", "I alt", "Punktets id")}[lang]
    zone = " (Europe/Stockholm)"
    assert items[0][0] == item_id and items[0][6].endswith(zone) and items[0][5 + 2] == yes
    header = items[0]
    c1 = [dict(zip(header, row, strict=True)) for row in items[1:] if row[0] == "c1"]
    conclusion = {"sv": "Slutsats", "da": "Konklusion"}[lang]
    assert [(r[header[4]], r[yes], r[no], r[conclusion]) for r in c1] == [
        ("Dialog Region Stockholm", "2", "1", "Slutsats från Region Stockholm"),
        ("Dialog Region Syd", "0", "2", "Slutsats från Region Syd"),
        (total, "2", "3", "")]
    assert c1[0][header[12]] == "66,7"  # a decimal comma
    kind = {"sv": "Ställningstagande", "da": "Overvejelse"}[lang]
    assert {r[header[1]] for r in c1} == {kind}
    # Started at: wall-clock time in Stockholm, as Excel reads a time.
    assert dt.datetime.fromisoformat(c1[0][header[6]]).tzinfo is None

    # Comments: the visible ones with their unit, formula-looking text neutralised, times local.
    assert comments[0][5].endswith(zone)
    c1_comments = [row for row in comments[1:] if row[0] == "c1"]
    assert [(row[4], row[7]) for row in c1_comments] == [
        ("Region Stockholm", "'=Synpunkt från Region Stockholm"), ("Region Syd", "'=Synpunkt från Region Syd")]
    assert not any("Hemligt" in cell for row in comments for cell in row)
    assert {row[6] for row in comments[1:]} == {no}  # pinned: Nej, not False

    # Per-tag results: Engagemang sums c1, c2 and c3 per session, then the total.
    engagemang = [row for row in tags[1:] if row[0] == "Engagemang"]
    assert [(row[2], row[4], row[5], row[6], row[8]) for row in engagemang] == [
        ("Dialog Region Stockholm", "3", "1", "1", "60,0"), ("Dialog Region Syd", "2", "2", "0", "50,0"),
        (total, "5", "3", "1", "55,6")]
    assert [row[2] for row in sessions[1:]] == ["Region Stockholm", "Region Syd"]
    assert {row[5] for row in sessions[1:]} == {no}


def test_english_keeps_commas_and_points_and_a_dialect_overrides(app, board):
    _data, en = _rollup(app, board, "csv", language="en", tz=STOCKHOLM, table="tags")
    rows = _read(en.body, ",")
    assert rows[0][0] == "Tag" and rows[0][2] == "Session"
    assert [row[8] for row in rows if row[0] == "Engagemang"] == ["60.0", "50.0", "55.6"]  # a decimal point
    assert en.filename == "Foertroendemannadialogen-rollup-Tags.csv"
    _data, da = _rollup(app, board, "csv", language="da", tz=STOCKHOLM, table="tags", dialect="comma")
    rows = _read(da.body, ",")
    assert rows[0][0] == "Målepunkt" and [row[8] for row in rows if row[0] == "Engagemang"][-1] == "55.6"


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_rollup_xlsx_for_the_board(app, board, lang):
    _data, file = _rollup(app, board, "xlsx", language=lang, tz=STOCKHOLM)
    book = load_workbook(io.BytesIO(file.body))
    sheets = {"sv": ["Punkter", "Slutsatser", "Kommentarer", "Taggar", "Möten", "Diagramdata", "Diagram"],
              "da": ["Punkter", "Konklusioner", "Kommentarer", "Mærker", "Møder", "Diagramdata", "Diagram"]}[lang]
    assert book.sheetnames == sheets
    conclusions, comments, tags, _sessions, chart_data = (book[name] for name in sheets[1:6])

    # The units' conclusions next to each other: one row per item, one column per session.
    rows = list(conclusions.iter_rows(values_only=True))
    assert rows[0][3].startswith("Dialog Region Stockholm (Region Stockholm, ")
    assert rows[0][4].startswith("Dialog Region Syd (Region Syd, ")
    assert [r[0] for r in rows[1:]] == ["c1", "p1"]
    assert rows[1][3:] == ("Slutsats från Region Stockholm", "Slutsats från Region Syd")
    assert rows[2][1] == {"sv": "Diskussionsfråga", "da": "Drøftelsesspørgsmål"}[lang]

    # Comments: visible only, a time in Stockholm's wall clock under a header naming the zone.
    header = [c.value for c in comments[1]]
    assert header[4].endswith("(Europe/Stockholm)")
    found = list(comments.iter_rows(min_row=2, values_only=True))
    assert sorted(r[6] for r in found) == ["'=Synpunkt från Region Stockholm", "'=Synpunkt från Region Syd",
                                           "Fler möten i Region Stockholm", "Fler möten i Region Syd"]
    assert all(isinstance(r[4], dt.datetime) for r in found)
    assert comments.cell(row=2, column=7).data_type == "s"

    tag_rows = [r for r in tags.iter_rows(min_row=2, values_only=True) if r[0] == "Engagemang"]
    assert [r[3:7] for r in tag_rows] == [(3, 1, 1, 5), (2, 2, 0, 4), (5, 3, 1, 9)]
    assert tag_rows[-1][7] == pytest.approx(5 / 9)

    # The chart: Ja and Nej (and the one Vet inte / Ved ikke) in total per consideration as bars.
    data_rows = list(chart_data.iter_rows(values_only=True))
    assert data_rows[0][2:] == ("Ja", "Nej", {"sv": "Vet inte", "da": "Ved ikke"}[lang])
    assert [r[2:] for r in data_rows[1:]] == [(2, 3, 0), (1, 0, 1), (2, 0, 0)]
    chart = book.chartsheets[0]._charts[0]
    assert chart.tagname == "barChart" and len(chart.series) == 3
    title = "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))
    assert title == {"sv": "Ja och Nej per ställningstagande", "da": "Ja og Nej pr. overvejelse"}[lang]


def test_the_plain_workbook_names_its_chart_in_english(app, board):
    _data, file = _rollup(app, board, "xlsx", tz=dt.UTC)
    chart = load_workbook(io.BytesIO(file.body)).chartsheets[0]._charts[0]
    assert "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or [])) == "yes and no per consideration"


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_pages_hand_out_one_table_per_file_and_a_zip(client, login, board, lang):
    login(board["organiser"])
    mid = board["meetings"]["Region Syd"]
    comments = client.get(f"/sessions/{mid}/export.csv?lang={lang}&table=comments")
    assert comments.status_code == 200
    rows = _read(comments.data, ";")
    assert rows[0][0] == {"sv": "Punkt nr", "da": "Punkt nr."}[lang] and rows[0][2].endswith("(UTC)")
    hidden = [row for row in rows[1:] if row[5] == "Hemligt i Region Syd"]
    assert [row[4] for row in hidden] == [{"sv": "Ja", "da": "Ja"}[lang]]  # hidden: flagged in words
    items = _read(client.get(f"/sessions/{mid}/export.csv?lang={lang}&table=items").data, ";")
    assert len(items) == 1 + len(REGIONS_GUIDE["sections"][0]["items"]) + 1
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/sessions/{mid}/export.zip?lang={lang}").data))
    assert [n.split("-", 1)[1] for n in archive.namelist()] == ["Punkter.csv", "Kommentarer.csv"]
    assert _read(archive.read(archive.namelist()[1]), ";") == rows
    assert client.get(f"/sessions/{mid}/export.csv?table=nope").status_code == 404

    rollup = client.get(f"/guides/{board['guide']}/rollup.csv?lang={lang}&table=comments")
    assert "Hemligt" not in rollup.data.decode("utf-8-sig")
    assert client.get(f"/guides/{board['guide']}/rollup.zip?lang={lang}").headers["Content-Type"] == "application/zip"


def test_the_api_takes_table_zip_and_dialect(client, make, board):
    token = make.token(board["organiser"])
    auth = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/guides/{board['guide']}/rollup"
    tags = client.get(base + "?format=csv&table=tags", headers=auth)
    assert tags.status_code == 200
    assert tags.data.decode("utf-8-sig").splitlines()[0].split(",")[:2] == ["tag", "session_id"]
    zipped = client.get(base + "?format=zip&language=da&dialect=comma", headers=auth)
    archive = zipfile.ZipFile(io.BytesIO(zipped.data))
    assert _read(archive.read(archive.namelist()[0]), ",")[0][0] == "Punktets id"
    bad = client.get(base + "?format=csv&table=votes", headers=auth)
    assert bad.status_code == 422 and "table" in bad.get_json()["message"]
    # The JSON roll-up carries the conclusions and the visible comments (additive).
    item = next(i for i in client.get(base, headers=auth).get_json()["items"] if i["id"] == "c1")
    assert len(item["conclusions"]) == 2 and len(item["comment_texts"]) == 2
    mid = board["meetings"]["Region Stockholm"]
    one = client.get(f"/api/v1/sessions/{mid}/export?format=csv&table=comments", headers=auth)
    assert one.data.decode("utf-8-sig").splitlines()[0].startswith("item_position,comment_id,created_at")
    # The documented default stays: both tables in one file.
    assert "" in client.get(f"/api/v1/sessions/{mid}/export?format=csv", headers=auth).data.decode(
        "utf-8-sig").splitlines()


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_rollup_page_and_its_board_report_put_the_units_side_by_side(client, login, board, lang):
    login(board["organiser"])
    for path, kicker in ((f"/guides/{board['guide']}/rollup", None),
                         (f"/guides/{board['guide']}/rollup/report",
                          {"sv": "Sammanställning för styrelsen", "da": "Sammenstilling til bestyrelsen"}[lang])):
        html = client.get(f"{path}?lang={lang}").text
        side = html[html.index('id="side-heading"'):]
        c1 = side[side.index('id="side-c1"'):].split("</article>")[0]
        # One box per region, in the sessions' order, each with its conclusion and visible comment.
        assert c1.count('class="side-unit"') == 2
        assert c1.index("Slutsats från Region Stockholm") < c1.index("Slutsats från Region Syd")
        assert "=Synpunkt från Region Syd" in c1 and "Hemligt" not in html
        # c2 was voted on in Stockholm only; Syd's guide had it too, so Syd shows its empty box.
        c2 = side[side.index('id="side-c2"'):].split("</article>")[0]
        assert c2.count('class="side-unit"') == 2
        assert {"sv": "Ingen slutsats skriven.", "da": "Ingen konklusion skrevet."}[lang] in c2
        if kicker:
            assert kicker in html and "data-print" in html
            # Both sessions were held today: the period is that one day, not "today – today".
            period = html[html.index({"sv": "Period", "da": "Periode"}[lang] + "</dt>"):].split("</dd>")[0]
            assert "–" not in period and re.search(r"\d{4}", period)
