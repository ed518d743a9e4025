"""Dialogue campaigns (issue 12, gap 8): an organiser asks units to hold a guide by a deadline, and
facilitators belong to a unit.

Reviewed by hand.

* `campaigns`: the guide asked for, an optional title and message to the units, an optional first
  day, the deadline, who made it, when it was closed and when reminders were last sent.
* `campaign_units`: which units a campaign asks (both keys cascade: a deleted campaign or unit
  takes its rows along).
* `users.unit_id` (nullable; no ON DELETE, units are retired and never deleted, and SQLite's
  reflection would not read it back from a column constraint): the unit a facilitator belongs to. Added in place,
  never by a batch rebuild (rebuilding `users` with foreign keys on would cascade-delete its
  tokens and links). SQLite takes a named column constraint in `ALTER TABLE ADD COLUMN`, hence the
  plain SQL there. SQLite cannot drop a column that is in a foreign key, so the downgrade rebuilds
  `users` there, and refuses to while foreign keys are enforced (Alembic's own connection has them
  off; `dialogrum db upgrade` runs it so).

Revision ID: 4b6d8f0a2c31
Revises: 8a3e5c7d9b14
Create Date: 2026-12-03 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '4b6d8f0a2c31'
down_revision = '8a3e5c7d9b14'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'campaigns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('guide_id', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False, server_default=''),
        sa.Column('message', sa.Text(), nullable=False, server_default=''),
        sa.Column('starts_on', sa.Date(), nullable=True),
        sa.Column('deadline', sa.Date(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['guide_id'], ['guides.id'], name=op.f('fk_campaigns_guide_id_guides'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_campaigns_created_by_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    )
    op.create_index(op.f('ix_campaigns_guide_id'), 'campaigns', ['guide_id'], unique=False)
    op.create_table(
        'campaign_units',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_campaign_units_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_campaign_units_unit_id_units'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', 'unit_id', name=op.f('pk_campaign_units')),
    )
    op.create_index(op.f('ix_campaign_units_unit_id'), 'campaign_units', ['unit_id'], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users ADD COLUMN unit_id INTEGER CONSTRAINT fk_users_unit_id_units "
                   "REFERENCES units (id)")
    else:
        op.add_column('users', sa.Column('unit_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_users_unit_id_units'), 'users', 'units', ['unit_id'], ['id'])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
            raise RuntimeError("this downgrade rebuilds the SQLite table users; with PRAGMA foreign_keys=ON that "
                               "would delete every token and link of every user. Run it through Alembic's own "
                               "connection.")
        with op.batch_alter_table('users') as batch_op:
            batch_op.drop_column('unit_id')
    else:
        op.drop_constraint(op.f('fk_users_unit_id_units'), 'users', type_='foreignkey')
        op.drop_column('users', 'unit_id')
    op.drop_index(op.f('ix_campaign_units_unit_id'), table_name='campaign_units')
    op.drop_table('campaign_units')
    op.drop_index(op.f('ix_campaigns_guide_id'), table_name='campaigns')
    op.drop_table('campaigns')
