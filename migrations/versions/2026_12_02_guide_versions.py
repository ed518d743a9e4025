"""Guide versions and archiving (issue 10, section 1).

Reviewed by hand. Three columns, added and dropped in place (never a batch rebuild: rebuilding
`meetings` with foreign keys on would cascade-delete its votes and comments):

* `guides.version` (integer, 1 for every existing guide): +1 on every saved change; a save is
  refused when the version it was based on is no longer the stored one.
* `guides.archived_at` (nullable timestamp): archived guides are left out of the new-session form.
* `meetings.guide_version` (nullable integer): the guide version a session ran with. An existing
  session whose snapshot is still its guide's document ran with version 1; the others ran with a
  version from before versions were counted, so theirs stays null.

Revision ID: 3f7a9c2e5d18
Revises: b8e41f0c7d25
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '3f7a9c2e5d18'
down_revision = 'b8e41f0c7d25'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('guides', sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    op.add_column('guides', sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('meetings', sa.Column('guide_version', sa.Integer(), nullable=True))
    guides = sa.table('guides', sa.column('id', sa.String()), sa.column('document', sa.JSON()))
    meetings = sa.table('meetings', sa.column('id', sa.String()), sa.column('guide_id', sa.String()),
                        sa.column('guide_snapshot', sa.JSON()), sa.column('guide_version', sa.Integer()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(meetings.c.id, meetings.c.guide_snapshot, guides.c.document)
                        .join(guides, guides.c.id == meetings.c.guide_id)).all()
    same = [row.id for row in rows if row.guide_snapshot == row.document]
    for start in range(0, len(same), 500):
        conn.execute(meetings.update().where(meetings.c.id.in_(same[start:start + 500])).values(guide_version=1))


def downgrade() -> None:
    op.drop_column('meetings', 'guide_version')
    op.drop_column('guides', 'archived_at')
    op.drop_column('guides', 'version')
