"""Units (the managed list of regions, kredse and foreninger) and public roll-up links.

Reviewed by hand: plain timezone-aware DateTime columns; names from the naming convention.

Revision ID: 7ac8d365c010
Revises: 35bcee55fca4
Create Date: 2026-11-23 16:19:03.310172
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '7ac8d365c010'
down_revision = '35bcee55fca4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('name', name=op.f('uq_units_name'))
    )
    op.create_table('public_rollups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guide_id', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('include_comments', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_public_rollups_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['guide_id'], ['guides.id'], name=op.f('fk_public_rollups_guide_id_guides'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_rollups')),
    sa.UniqueConstraint('key', name=op.f('uq_public_rollups_key'))
    )
    with op.batch_alter_table('public_rollups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_rollups_guide_id'), ['guide_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('public_rollups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_rollups_guide_id'))

    op.drop_table('public_rollups')
    op.drop_table('units')
