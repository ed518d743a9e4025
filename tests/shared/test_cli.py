"""The `dialogrum` command line, run as the installed console script."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
import yaml

from shared.uow import Work
from tests.conftest import SMALL_GUIDE, InProcessCli, ServerProcess, create_pg_database, drop_pg_database


@pytest.fixture
def cli(tmp_path, sqlite_url):
    """A CLI bound to a fresh instance with a migrated SQLite database, run in this process
    (`db upgrade` then only adds the built-in guides to the migrated copy)."""
    srv = InProcessCli(tmp_path, sqlite_url)
    srv.cli("db", "upgrade")
    return srv


@pytest.fixture
def script(tmp_path):
    """The installed console script itself, as a subprocess (entry point, exit codes, stdin)."""
    srv = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")
    srv.cli("db", "upgrade")
    return srv


def test_user_and_token(script):
    cli = script
    result = cli.cli("user", "create", "--email", "Kim@Example.org", "--role", "organiser", "--name", "Kim",
                     stdin="a good password\n")
    assert result.returncode == 0
    again = cli.cli("user", "create", "--email", "kim@example.org", "--role", "facilitator",
                    stdin="another password\n", check=False)
    assert again.returncode != 0
    assert again.stderr.strip() == "dialogrum: a user with the e-mail kim@example.org exists already"
    assert "Traceback" not in again.stderr
    token = cli.cli("token", "create", "--email", "kim@example.org").stdout
    assert token.count("\n") == 1
    assert token.startswith("dlg_")
    missing = cli.cli("token", "create", "--email", "nobody@example.org", check=False)
    assert missing.returncode != 0
    assert "no user" in missing.stderr


@pytest.mark.parametrize(("stdin", "message"), [("\n", "no password"), ("short\n", "at least 8")])
def test_user_create_refuses_bad_passwords(cli, stdin, message):
    result = cli.cli("user", "create", "--email", "a@example.org", "--role", "facilitator", stdin=stdin, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_guides(cli, tmp_path):
    listed = cli.cli("guide", "list").stdout.strip().splitlines()
    assert len(listed) == 3
    path = tmp_path / "guide.yaml"
    path.write_text(yaml.safe_dump(SMALL_GUIDE, allow_unicode=True), encoding="utf-8")
    gid = cli.cli("guide", "import", str(path)).stdout.strip()
    assert gid.startswith("g")
    exported = yaml.safe_load(cli.cli("guide", "export", gid).stdout)
    assert exported["title"] == "Testguide"
    assert all(item["id"] for s in exported["sections"] for item in s["items"])
    as_json = json.loads(cli.cli("guide", "export", gid, "--format", "json").stdout)
    assert as_json["sections"][0]["tags"] == ["Beboerdemokrati", "Frivillighed"]
    # Re-importing an export keeps the item ids.
    again = tmp_path / "again.json"
    again.write_text(json.dumps(as_json), encoding="utf-8")
    gid2 = cli.cli("guide", "import", str(again)).stdout.strip()
    assert json.loads(cli.cli("guide", "export", gid2, "--format", "json").stdout)["sections"] == as_json["sections"]


def test_guide_import_errors_are_one_line(cli, tmp_path):
    missing = cli.cli("guide", "import", str(tmp_path / "nope.yaml"), check=False)
    assert missing.returncode != 0
    assert "cannot read" in missing.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\nlanguage: da\nsections:\n  - title: A\n    items:\n      - kind: poll\n        text: y\n")
    result = cli.cli("guide", "import", str(bad), check=False)
    assert result.returncode != 0
    assert "sections[0].items[0]: kind must be one of consideration, prompt, info" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: [unclosed\n")
    result = cli.cli("guide", "import", str(broken), check=False)
    assert result.returncode != 0
    assert "line" in result.stderr
    assert "Traceback" not in result.stderr
    assert cli.cli("guide", "export", "nope", check=False).returncode != 0


def test_export_of_a_session(cli, tmp_path):
    import requests  # noqa: F401 - only the server fixture below talks HTTP

    from shared import meeting as rules
    from shared.app import create_app
    from shared.db import get_db

    app = create_app({"SKIP_ENV": True, "DATABASE_URL": cli.database_url, "SECRET_KEY": "x",
                      "INSTANCE_DIR": str(tmp_path)})
    gid = cli.cli("guide", "list").stdout.splitlines()[0].split("\t")[0]
    with get_db(app).begin() as conn:
        mid = rules.create_meeting(Work(conn), guide_id=gid, title="Møde i Århus", unit="", facilitator_id=None)
        rules.control(Work(conn), mid, "start")
        code = rules.get_meeting(conn, mid).code
    get_db(app).dispose()
    out = tmp_path / "out.csv"
    cli.cli("export", code.lower(), "--format", "csv", "--output", str(out))
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert rows[0][0] == "position"
    data = json.loads(cli.cli("export", code, "--format", "json").stdout)
    assert data["session"]["title"] == "Møde i Århus"
    xlsx = tmp_path / "out.xlsx"
    cli.cli("export", code, "--format", "xlsx", "--output", str(xlsx))
    assert "Items" in openpyxl.load_workbook(xlsx).sheetnames
    result = cli.cli("export", "ZZZZZZ", "--format", "csv", check=False)
    assert result.returncode != 0
    assert "no session" in result.stderr
    result = cli.cli("export", code, "--format", "csv", "--output", str(tmp_path / "no" / "dir.csv"), check=False)
    assert result.returncode != 0
    assert "cannot write" in result.stderr


def test_an_unreachable_database_is_a_one_line_error(tmp_path):
    srv = ServerProcess(tmp_path, "postgresql://nobody@127.0.0.1:1/none")
    result = srv.cli("guide", "list", check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("dialogrum: ")


def test_first_run_link(cli):
    link = cli.cli("first-run-link").stdout.strip()
    assert "/setup/" in link
    cli.cli("user", "create", "--email", "kim@example.org", "--role", "organiser", stdin="a good password\n")
    assert cli.cli("first-run-link", check=False).returncode != 0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def cli_on_both(request, tmp_path):
    """A CLI bound to a fresh, migrated SQLite or PostgreSQL database."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}" if request.param == "sqlite" else create_pg_database()
    srv = InProcessCli(tmp_path, url)
    srv.cli("db", "upgrade")
    yield srv
    if request.param == "postgresql":
        drop_pg_database(url)


def test_purge_deletes_the_comments_of_sessions_ended_before_the_retention(cli_on_both):
    import datetime as dt

    import sqlalchemy as sa
    import sqlalchemy.orm as so

    from shared import organiser
    from shared.models import Comment, Meeting, MeetingStatus, Participant

    nothing = cli_on_both.cli("purge").stdout
    assert nothing == "0 comments deleted (no retention set: comments stay until their session is deleted)\n"
    now = dt.datetime.now(dt.UTC)
    engine = sa.create_engine(cli_on_both.database_url)
    with so.Session(engine) as db, db.begin():
        for mid, status, ended_days_ago, comments in (("old", MeetingStatus.ENDED, 40, 2),
                                                      ("recent", MeetingStatus.ENDED, 5, 1),
                                                      ("live", MeetingStatus.LIVE, None, 1)):
            ended = now - dt.timedelta(days=ended_days_ago) if ended_days_ago else None
            db.add(Meeting(id=mid, code=mid[:6].upper(), projector_key=mid, title=mid, guide_snapshot={},
                           status=status, ended_at=ended))
            db.add(Participant(id=f"p-{mid}", meeting_id=mid, token_hash=mid))
            db.flush()
            db.add_all(Comment(meeting_id=mid, participant_id=f"p-{mid}", item_id="p1", text=f"{mid} {n}")
                       for n in range(comments))
        organiser.set_retention_days(db.connection(), 30)
    assert cli_on_both.cli("purge").stdout == "2 comments deleted (retention 30 days)\n"
    with engine.connect() as conn:
        left = conn.execute(sa.select(Comment.meeting_id).order_by(Comment.meeting_id)).scalars().all()
    assert left == ["live", "recent"]
    assert cli_on_both.cli("purge").stdout == "0 comments deleted (retention 30 days)\n"
    engine.dispose()


def test_guides_are_archived_and_deleted_by_the_library_rules(cli, tmp_path):
    path = tmp_path / "guide.json"
    path.write_text(json.dumps(SMALL_GUIDE), encoding="utf-8")
    used, unused = (cli.cli("guide", "import", str(path)).stdout.strip() for _ in range(2))
    from shared import meeting as rules
    from shared.app import create_app
    from shared.db import get_db

    app = create_app({"SKIP_ENV": True, "DATABASE_URL": cli.database_url, "SECRET_KEY": "x",
                      "INSTANCE_DIR": str(tmp_path)})
    with get_db(app).begin() as conn:
        rules.create_meeting(Work(conn), guide_id=used, title="Møde", facilitator_id=None)
    get_db(app).dispose()
    assert cli.cli("guide", "archive", used).stdout.strip() == f"{used} archived"
    assert used not in cli.cli("guide", "list").stdout
    assert f"{used}\tda\t4 items\tTestguide\tarchived" in cli.cli("guide", "list", "--all").stdout
    assert cli.cli("guide", "archive", used, "--undo").stdout.strip() == f"{used} brought back"
    refused = cli.cli("guide", "delete", used, check=False)
    assert refused.returncode != 0
    assert refused.stderr.strip() == (f"dialogrum: {used}: 1 session used this guide, so it cannot be deleted. "
                                      "Archive it instead.")
    builtin = cli.cli("guide", "list").stdout.splitlines()[0].split("\t")[0]
    assert "Built-in guides cannot be changed" in cli.cli("guide", "delete", builtin, check=False).stderr
    assert cli.cli("guide", "delete", unused).stdout.strip() == f"{unused} deleted"
    assert unused not in cli.cli("guide", "list", "--all").stdout
