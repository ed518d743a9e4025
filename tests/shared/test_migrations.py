"""The Alembic history: upgrades an empty database, downgrades to nothing, and matches the models."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.migrate import downgrade, upgrade
from shared.models import Base
from tests.conftest import create_pg_database, drop_pg_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = create_pg_database()
        yield url
        drop_pg_database(url)


def test_upgrade_downgrade_upgrade(empty_url):
    upgrade(empty_url)
    engine = sa.create_engine(empty_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    # Timestamps are plain DateTime(timezone=True) in the migrations; the model's UTCDateTime
    # only normalises values in Python, so it is not a difference worth a migration.
    assert [d for d in diff if not _is_timestamp_decorator(d)] == []
    downgrade(empty_url, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_url)
    assert {"meetings", "votes", "comments", "units", "public_rollups"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def _is_timestamp_decorator(d) -> bool:
    return isinstance(d, list) and all(x[0] == "modify_type" and "UTCDateTime" in repr(x[-1]) for x in d)
