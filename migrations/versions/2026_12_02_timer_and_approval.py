"""A countdown per session and comments that wait for approval (issue 11, points 2 and 4).

Reviewed by hand. New columns, all added and dropped in place (never a batch rebuild: rebuilding
`meetings` with foreign keys on would cascade-delete its votes and comments):

* `meetings.timer_duration_s`, `timer_remaining_ms` (integers, 0 for existing rows),
  `timer_started_at` (nullable timestamp), `timer_visible` (boolean, false): the current item's
  countdown, kept in the row so every process and a reload see the same time.
* `meetings.approve_comments` (boolean, false): new comments wait for the facilitator.
* `comments.approved` (boolean, true): every existing comment counts as approved.

Each NOT NULL column has a server default, which both SQLite's `ALTER TABLE ADD COLUMN` and
PostgreSQL need for existing rows. SQLite 3.35+ drops the columns in place.

Revision ID: e5b2c8d4a017
Revises: a4c7e2d91f35
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e5b2c8d4a017'
down_revision = 'a4c7e2d91f35'
branch_labels = None
depends_on = None

MEETING_COLUMNS = (
    ('timer_duration_s', sa.Integer(), '0'),
    ('timer_remaining_ms', sa.Integer(), '0'),
    ('timer_visible', sa.Boolean(), sa.false()),
    ('approve_comments', sa.Boolean(), sa.false()),
)


def upgrade() -> None:
    for name, type_, default in MEETING_COLUMNS:
        op.add_column('meetings', sa.Column(name, type_, nullable=False, server_default=default))
    op.add_column('meetings', sa.Column('timer_started_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('comments', sa.Column('approved', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    op.drop_column('comments', 'approved')
    op.drop_column('meetings', 'timer_started_at')
    for name, _type, _default in reversed(MEETING_COLUMNS):
        op.drop_column('meetings', name)
