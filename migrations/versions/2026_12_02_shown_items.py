"""Which items a session ever showed (issue 12, defect 7).

Reviewed by hand. One nullable JSON column, added and dropped in place (never a batch rebuild:
rebuilding `meetings` with foreign keys on would cascade-delete its votes and comments):

* `meetings.shown_items`: the ids of the items that were ever the current one. Existing sessions
  keep null (nobody recorded it then): their reports fall back to `voting_opened_items`.

Revision ID: 8a3e5c7d9b14
Revises: 6d1b9e3f4a52
Create Date: 2026-12-02 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '8a3e5c7d9b14'
down_revision = '6d1b9e3f4a52'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('meetings', sa.Column('shown_items', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('meetings', 'shown_items')
