"""The one download service (shared.downloads): names, headers, and the same bytes through the
REST API, the pages and the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
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
    expected = _file(app, lambda db: downloads.session_file(db, db.get(Meeting, held["meeting"]), fmt))
    assert expected.filename.endswith(f"-{held['code']}.{fmt}") and expected.filename.isascii()

    token = make.token(held["user"])
    api = client.get(f"/api/v1/sessions/{held['meeting']}/export?format={fmt}",
                     headers={"Authorization": f"Bearer {token}"})
    login(held["user"])
    page = client.get(f"/sessions/{held['meeting']}/export.{fmt}")
    for resp in (api, page):
        assert resp.status_code == 200
        assert resp.data == expected.body
        assert resp.headers["Content-Type"] == expected.content_type
        assert resp.headers["Content-Type"].count("charset") == (0 if fmt == "xlsx" else 1)
        assert resp.headers["Content-Disposition"] == expected.disposition
        assert resp.headers["Cache-Control"] == "private, no-store"
    name = resp.headers["Content-Disposition"].split("filename*=UTF-8''")[1]
    assert unquote(name) == f"{TITLE.replace(':', '-').replace('/', '-')} {held['code']}.{fmt}"

    (tmp_path / "cli").mkdir()
    (tmp_path / "out").mkdir()
    cli = ServerProcess(tmp_path / "cli", app.config["DATABASE_URL"])
    printed = cli.cli("export", held["code"], "--format", fmt, "--output", str(tmp_path / "out")).stdout.strip()
    assert Path(printed) == tmp_path / "out" / expected.filename
    assert Path(printed).read_bytes() == expected.body
    if fmt == "json":
        assert json.loads(expected.body)["items"][1]["conclusion"] == "Ja tak"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_rollup_export_is_the_same_through_api_and_page(app, client, make, login, held, fmt):
    def build(db):
        guide, user = db.get(Guide, held["guide"]), db.get(User, held["user"].id)
        return downloads.rollup_file(reports.guide_rollup(db, guide, user, reports.RollupFilters()), fmt)

    expected = _file(app, build)
    assert expected.filename == f"Testguide-rollup.{fmt}"
    token = make.token(held["user"])
    api = client.get(f"/api/v1/guides/{held['guide']}/rollup?format={fmt}",
                     headers={"Authorization": f"Bearer {token}"})
    login(held["user"])
    page = client.get(f"/guides/{held['guide']}/rollup.{fmt}")
    for resp in (api, page):
        assert resp.status_code == 200
        assert resp.data == expected.body
        assert resp.headers["Content-Type"] == expected.content_type
        assert resp.headers["Content-Disposition"] == expected.disposition
