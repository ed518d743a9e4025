"""`dialogrum campaign list` and `campaign show ID` (issue 12, gap 8): the campaign rules read from
the command line, run through the CLI in this process."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from shared import campaigns, organiser
from shared.models import Meeting, User
from shared.uow import Work
from tests.conftest import InProcessCli


@pytest.fixture
def cli(tmp_path, sqlite_url):
    srv = InProcessCli(tmp_path, sqlite_url)
    srv.cli("db", "upgrade")
    return srv


def test_campaigns_from_the_command_line(cli):
    from shared import meeting as rules

    gid = cli.cli("guide", "list").stdout.splitlines()[0].split("\t")[0]
    engine = sa.create_engine(cli.database_url)
    with so.Session(engine) as db:
        boss = User(email="boss@example.org", role="organiser", name="Boss")
        db.add(boss)
        units = [organiser.add_unit(db, name) for name in ("Region Väst", "Region Norr")]
        db.flush()
        meeting_id = rules.create_meeting(Work(db.connection()), guide_id=gid, title="Väst", unit="Region Väst",
                                          facilitator_id=None)
        db.execute(sa.update(Meeting).where(Meeting.id == meeting_id).values(
            status="ended", started_at=dt.datetime(2026, 5, 2, 18, tzinfo=dt.UTC)))
        campaign = campaigns.save_campaign(db, boss, guide_id=gid, unit_ids=[u.id for u in units],
                                           deadline="2026-05-01", title="Våren")
        db.commit()
        campaign_id = campaign.id
    engine.dispose()
    assert cli.cli("campaign", "list").stdout == f"{campaign_id}\topen\t2026-05-01\t1/2 held\tVåren\n"
    shown = cli.cli("campaign", "show", str(campaign_id)).stdout.splitlines()
    assert shown == ["Våren: deadline 2026-05-01, open",
                     f"1. Region Väst\theld 2026-05-02 (after the deadline)\t{meeting_id}",
                     "-  Region Norr\toverdue"]
    missing = cli.cli("campaign", "show", "999", check=False)
    assert missing.returncode == 1 and missing.stderr.strip() == "dialogrum: no campaign with the id 999"
