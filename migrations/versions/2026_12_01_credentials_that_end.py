"""Credentials that end (issue 15, points 2 and 3; issue 12, defect 1).

Reviewed by hand. Three new columns, each added and dropped in place on both databases (SQLite
3.35+ drops a column in place), never with a batch rebuild: rebuilding `users` with foreign keys
on would cascade-delete its tokens and links (see 2026_11_30_closed_sets_as_check_constraints.py).

- `users.session_version` INTEGER NOT NULL DEFAULT 0: part of every login cookie; bumping it ends
  every sign-in made before. Existing rows get 0. Cookies issued before this migration name no
  version and are refused, so everybody signs in once more after the upgrade.
- `api_tokens.last_used_at`, `api_tokens.revoked_at`: nullable timestamps; existing tokens were
  never seen used since and are not revoked.

Data: open one-time links of deactivated users are voided (they expire now), since a deactivated
user's link must not set a password or reactivate the account. The downgrade keeps them void:
which links were open cannot be told afterwards, and a void link is the safe side.

Revision ID: c3e91d5a2b47
Revises: 7c74b94cb698
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = 'c3e91d5a2b47'
down_revision = '7c74b94cb698'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    op.add_column('api_tokens', sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('api_tokens', sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('active', sa.Boolean))
    links = sa.table('one_time_links', sa.column('user_id', sa.Integer), sa.column('used_at', sa.DateTime),
                     sa.column('expires_at', sa.DateTime))
    now = dt.datetime.now(dt.UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # the app stores naive UTC on SQLite (models.UTCDateTime)
    inactive = sa.select(users.c.id).where(users.c.active == sa.false())
    op.get_bind().execute(links.update().where(links.c.used_at.is_(None), links.c.expires_at > now,
                                               links.c.user_id.in_(inactive)).values(expires_at=now))


def downgrade() -> None:
    op.drop_column('api_tokens', 'revoked_at')
    op.drop_column('api_tokens', 'last_used_at')
    op.drop_column('users', 'session_version')
