"""Remember the items voting was ever opened on, so screens tell "Voting opens soon" from "Voting
is closed" (issue 9, point 3).

Reviewed by hand. One new column, `meetings.voting_opened_items`: a JSON list of item ids, `[]` by
default, so existing rows and plain INSERTs that do not name it stay valid. It is added and dropped
with plain `ALTER TABLE` on both databases (SQLite 3.35+ drops a column in place), never with a
batch rebuild: rebuilding `meetings` with foreign keys on would cascade-delete its votes.

Sessions that already exist are filled in from the votes table: an item somebody voted on had
voting open at some time. The only ones missed are items opened and closed without a single vote,
which then read "opens soon" again; that is the best the old rows can say.

Revision ID: 653e0c6a8939
Revises: 5fbe7f8bbcbb
Create Date: 2026-11-30 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '653e0c6a8939'
down_revision = '5fbe7f8bbcbb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('meetings', sa.Column('voting_opened_items', sa.JSON(), server_default=sa.text("'[]'"),
                                        nullable=False))
    bind = op.get_bind()
    meetings = sa.table('meetings', sa.column('id', sa.String), sa.column('voting_opened_items', sa.JSON))
    votes = sa.table('votes', sa.column('meeting_id', sa.String), sa.column('item_id', sa.String))
    opened: dict[str, list[str]] = {}
    for meeting_id, item_id in bind.execute(
        sa.select(votes.c.meeting_id, votes.c.item_id).distinct().order_by(votes.c.meeting_id, votes.c.item_id)
    ):
        opened.setdefault(meeting_id, []).append(item_id)
    for meeting_id, item_ids in opened.items():
        bind.execute(meetings.update().where(meetings.c.id == meeting_id)
                     .values(voting_opened_items=item_ids))


def downgrade() -> None:
    op.drop_column('meetings', 'voting_opened_items')
