"""Ended sessions whose personal traces were removed but whose counts stay (issue 12, defect 2).

Reviewed by hand. One nullable column, added and dropped in place (never a batch rebuild:
rebuilding `meetings` with foreign keys on would cascade-delete its votes and comments):

* `meetings.anonymised_at` (nullable timestamp): when its comments were deleted and its phones'
  tokens voided, keeping the votes and conclusions that published roll-ups add up.

Revision ID: 6d1b9e3f4a52
Revises: 3f7a9c2e5d18
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '6d1b9e3f4a52'
down_revision = '3f7a9c2e5d18'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('meetings', sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('meetings', 'anonymised_at')
