"""Idea votes on comments and the closing summary (issue 11, sections 3 and 5).

Reviewed by hand. A new table, `comment_likes`: one row per phone per comment it gave a thumbs-up
(the primary key keeps it to one), deleted with its comment or its phone (ON DELETE CASCADE). Three
new columns on `meetings`, all shared state the projector follows: `comments_by_likes` (the "top
ideas" order), `summary_shown` and `summary_section` (which closing summary is on the projector;
no section with `summary_shown` is the whole guide's). The booleans default to false on the server,
so existing rows and plain INSERTs that do not name them stay valid.

The columns are added and dropped with plain `ALTER TABLE` on both databases (SQLite 3.35+ drops a
column in place), never with a batch rebuild: rebuilding `meetings` with foreign keys on would
cascade-delete its votes.

Revision ID: a4c7e2d91f35
Revises: 9d2f4a61c0b8
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a4c7e2d91f35'
down_revision = '9d2f4a61c0b8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'comment_likes',
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('participant_id', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_likes_comment_id_comments'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['participant_id'], ['participants.id'],
                                name=op.f('fk_comment_likes_participant_id_participants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('comment_id', 'participant_id', name=op.f('pk_comment_likes')),
    )
    op.create_index('ix_comment_likes_participant', 'comment_likes', ['participant_id'])
    op.add_column('meetings', sa.Column('comments_by_likes', sa.Boolean(), server_default=sa.false(),
                                        nullable=False))
    op.add_column('meetings', sa.Column('summary_shown', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('meetings', sa.Column('summary_section', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('meetings', 'summary_section')
    op.drop_column('meetings', 'summary_shown')
    op.drop_column('meetings', 'comments_by_likes')
    op.drop_index('ix_comment_likes_participant', table_name='comment_likes')
    op.drop_table('comment_likes')
