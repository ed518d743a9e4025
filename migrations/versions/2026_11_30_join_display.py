"""How the projector shows the way in once a session is live: the QR code, address and code in a
corner (the default), large, or hidden by the facilitator (issue 9, point 5).

Reviewed by hand. One new column, `meetings.join_display`, VARCHAR(10) NOT NULL DEFAULT 'corner',
a closed set with its CHECK constraint named `ck_meetings_join_display` like the others
(docs/architecture.md#closed-sets-of-values). Existing sessions get the default.

The column is added and dropped in place, never by a batch rebuild (rebuilding `meetings` with
foreign keys on would cascade-delete its votes). SQLite cannot add a table constraint to an existing
table, but it takes a named column constraint in `ALTER TABLE ADD COLUMN`, and it checks existing
rows against it; Alembic's `add_column` would silently leave the CHECK out there, hence the plain
SQL. SQLite 3.35+ drops the column, with its own constraint, in place. PostgreSQL adds the column
and then the named constraint; dropping the column drops the constraint.

Revision ID: 7c74b94cb698
Revises: 653e0c6a8939
Create Date: 2026-11-30 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '7c74b94cb698'
down_revision = '653e0c6a8939'
branch_labels = None
depends_on = None

#: written out, not imported from shared.enums, so the migration keeps meaning what it meant
VALUES = ("corner", "large", "hidden")
CONDITION = f"join_display IN ({', '.join(repr(v) for v in VALUES)})"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE meetings ADD COLUMN join_display VARCHAR(10) DEFAULT 'corner' NOT NULL "
                   f"CONSTRAINT ck_meetings_join_display CHECK ({CONDITION})")
    else:
        op.add_column('meetings', sa.Column('join_display', sa.String(length=10), server_default='corner',
                                            nullable=False))
        op.create_check_constraint(op.f('ck_meetings_join_display'), 'meetings', CONDITION)


def downgrade() -> None:
    op.drop_column('meetings', 'join_display')
