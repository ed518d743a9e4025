"""The migration behind credentials that end (2026_12_01_credentials_that_end): it adds the session
version and the tokens' last use and revocation, voids the open password links of deactivated
users (issue 12, defect 1), and goes down again, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from shared.migrate import downgrade, upgrade

BEFORE = "7c74b94cb698"
REVISION = "c3e91d5a2b47"


def test_open_links_of_deactivated_users_are_voided_and_the_columns_come_and_go(empty_url):
    upgrade(empty_url, BEFORE)
    engine = sa.create_engine(empty_url)
    now = dt.datetime.now(dt.UTC)
    if engine.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    later = now + dt.timedelta(days=3)
    plain_now, plain_later = _naive(now), _naive(later)
    with engine.begin() as conn:
        for uid, active in ((1, True), (2, False)):
            conn.execute(sa.text("INSERT INTO users (id, email, name, role, active, created_at) "
                                 "VALUES (:id, :email, '', 'facilitator', :active, :now)"),
                         {"id": uid, "email": f"u{uid}@example.org", "active": active, "now": now})
            conn.execute(sa.text("INSERT INTO one_time_links (user_id, token_hash, purpose, expires_at) "
                                 "VALUES (:id, :hash, 'reset', :later)"),
                         {"id": uid, "hash": f"h{uid}", "later": later})
        conn.execute(sa.text("INSERT INTO api_tokens (user_id, token_hash, label, created_at) "
                             "VALUES (1, 't1', 'cli', :now)"), {"now": now})
    upgrade(empty_url, REVISION)
    with engine.connect() as conn:
        expires = dict(conn.execute(sa.text("SELECT user_id, expires_at FROM one_time_links")).all())
        versions = conn.execute(sa.text("SELECT session_version FROM users ORDER BY id")).scalars().all()
        token = conn.execute(sa.text("SELECT last_used_at, revoked_at FROM api_tokens")).one()
    assert _naive(expires[1]) == plain_later  # the active user's link is untouched
    assert _naive(expires[2]) <= plain_now + dt.timedelta(minutes=5)  # the deactivated user's is void
    assert versions == [0, 0] and tuple(token) == (None, None)
    downgrade(empty_url, BEFORE)
    columns = {t: {c["name"] for c in sa.inspect(engine).get_columns(t)} for t in ("users", "api_tokens")}
    assert "session_version" not in columns["users"]
    assert not {"last_used_at", "revoked_at"} & columns["api_tokens"]
    with engine.connect() as conn:  # nothing else lost on the way down
        assert conn.execute(sa.text("SELECT count(*) FROM api_tokens")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM one_time_links")).scalar() == 2
    engine.dispose()


def _naive(value) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
