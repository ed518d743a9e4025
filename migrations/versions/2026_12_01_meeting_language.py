"""A meeting has a language, by default its guide's (issue 9, point 9; contract v1.1): the projector
and the phones that have not chosen a language follow it.

Reviewed by hand. One new column, `meetings.language`, VARCHAR(5), a closed set with its CHECK
constraint named `ck_meetings_language` like the others (docs/architecture.md#closed-sets-of-values).
It is nullable so that SQLite can add it in place; every session made from now on has one, and the
existing ones are filled in from their guide snapshot's `language` (a snapshot is a validated guide
document, so it always has one; a value outside the set is left null, and readers then fall back to
the snapshot, as they would anyway).

The column is added and dropped in place, never by a batch rebuild (rebuilding `meetings` with
foreign keys on would cascade-delete its votes). SQLite takes a named column constraint in `ALTER
TABLE ADD COLUMN` (Alembic's `add_column` would leave the CHECK out there, hence the plain SQL) and
SQLite 3.35+ drops the column, with its constraint, in place. PostgreSQL adds the column and then
the named constraint; dropping the column drops the constraint. The snapshot's language is read
with each database's own JSON operator: `json_extract` on SQLite, `->>` on PostgreSQL (the column
is `json` there).

Revision ID: 9d2f4a61c0b8
Revises: c3e91d5a2b47
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '9d2f4a61c0b8'
down_revision = 'c3e91d5a2b47'
branch_labels = None
depends_on = None

#: written out, not imported from shared.enums, so the migration keeps meaning what it meant
VALUES = ("sv", "da", "en")
IN_SET = ", ".join(repr(v) for v in VALUES)
CONDITION = f"language IN ({IN_SET})"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("ALTER TABLE meetings ADD COLUMN language VARCHAR(5) "
                   f"CONSTRAINT ck_meetings_language CHECK ({CONDITION})")
        of_snapshot = "json_extract(guide_snapshot, '$.language')"
    else:
        op.add_column('meetings', sa.Column('language', sa.String(length=5), nullable=True))
        op.create_check_constraint(op.f('ck_meetings_language'), 'meetings', CONDITION)
        of_snapshot = "(guide_snapshot ->> 'language')"
    # Only constants of this file go into the statement.
    op.execute(f"UPDATE meetings SET language = {of_snapshot} WHERE {of_snapshot} IN ({IN_SET})")  # noqa: S608


def downgrade() -> None:
    op.drop_column('meetings', 'language')
