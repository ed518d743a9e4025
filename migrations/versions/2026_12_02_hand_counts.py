"""Results entered by hand (issue 11, section 1): counted hands per choice, and paper sessions.

Reviewed by hand. A new table `hand_counts` (meeting, item, choice; one row per choice) holds both a
live show of hands and a paper session's tally, apart from the phones' votes. Its `choice` is the
votes' closed set with its CHECK constraint named `ck_hand_counts_choice`
(docs/architecture.md#closed-sets-of-values). Three columns on `meetings`: `entered_by_hand`
(false for every existing session), `held_on` (the day a paper dialogue took place) and
`stated_participants`.

The columns are added and dropped in place, never by a batch rebuild (rebuilding `meetings` with
foreign keys on would cascade-delete its votes); SQLite 3.35+ drops a column in place.

Revision ID: b8e41f0c7d25
Revises: e5b2c8d4a017
Create Date: 2026-12-02 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'b8e41f0c7d25'
down_revision = 'e5b2c8d4a017'
branch_labels = None
depends_on = None

#: written out, not imported from shared.enums, so the migration keeps meaning what it meant
CHOICES = ("yes", "no", "unsure")


def upgrade() -> None:
    op.add_column('meetings', sa.Column('entered_by_hand', sa.Boolean(), server_default=sa.false(),
                                        nullable=False))
    op.add_column('meetings', sa.Column('held_on', sa.Date(), nullable=True))
    op.add_column('meetings', sa.Column('stated_participants', sa.Integer(), nullable=True))
    op.create_table(
        'hand_counts',
        sa.Column('meeting_id', sa.String(length=16), nullable=False),
        sa.Column('item_id', sa.String(length=40), nullable=False),
        sa.Column('choice', sa.String(length=10), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"choice IN ({', '.join(repr(c) for c in CHOICES)})",
                           name=op.f('ck_hand_counts_choice')),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_hand_counts_meeting_id_meetings'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('meeting_id', 'item_id', 'choice', name=op.f('pk_hand_counts')),
    )


def downgrade() -> None:
    op.drop_table('hand_counts')
    op.drop_column('meetings', 'stated_participants')
    op.drop_column('meetings', 'held_on')
    op.drop_column('meetings', 'entered_by_hand')
