"""Initial schema: users, tokens, guides, sessions (meetings), participants, votes, comments,
conclusions, and the connection registry that makes participant counts right across processes.

Reviewed by hand: timestamps are plain timezone-aware DateTime (the model's UTCDateTime only
normalises values in Python), constraint names come from the models' naming convention.

Revision ID: 35bcee55fca4
Revises: (none)
Create Date: 2026-11-23 16:03:13.934782
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '35bcee55fca4'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('server_processes',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_server_processes'))
    )
    with op.batch_alter_table('server_processes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_server_processes_heartbeat_at'), ['heartbeat_at'], unique=False)

    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('guides',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('builtin_key', sa.String(length=100), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_guides_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guides')),
    sa.UniqueConstraint('builtin_key', name=op.f('uq_guides_builtin_key'))
    )
    op.create_table('one_time_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_one_time_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_one_time_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_one_time_links_token_hash'))
    )
    with op.batch_alter_table('one_time_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_one_time_links_user_id'), ['user_id'], unique=False)

    op.create_table('meetings',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('projector_key', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('guide_id', sa.String(length=16), nullable=True),
    sa.Column('guide_snapshot', sa.JSON(), nullable=False),
    sa.Column('facilitator_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('current_item_id', sa.String(length=40), nullable=True),
    sa.Column('voting_open', sa.Boolean(), nullable=False),
    sa.Column('results_visible', sa.Boolean(), nullable=False),
    sa.Column('state_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['facilitator_id'], ['users.id'], name=op.f('fk_meetings_facilitator_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['guide_id'], ['guides.id'], name=op.f('fk_meetings_guide_id_guides'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings')),
    sa.UniqueConstraint('code', name=op.f('uq_meetings_code')),
    sa.UniqueConstraint('projector_key', name=op.f('uq_meetings_projector_key'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meetings_facilitator_id'), ['facilitator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meetings_guide_id'), ['guide_id'], unique=False)

    op.create_table('conclusions',
    sa.Column('meeting_id', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_conclusions_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', 'item_id', name=op.f('pk_conclusions'))
    )
    op.create_table('participants',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('meeting_id', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_participants_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participants')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_participants_token_hash'))
    )
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participants_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.String(length=16), nullable=False),
    sa.Column('participant_id', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_comments_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_comments_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_meeting_item', ['meeting_id', 'item_id'], unique=False)
        batch_op.create_index('ix_comments_participant_created', ['participant_id', 'created_at'], unique=False)

    op.create_table('connections',
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('process_id', sa.String(length=32), nullable=False),
    sa.Column('meeting_id', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('participant_id', sa.String(length=16), nullable=True),
    sa.Column('connected_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_connections_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_connections_participant_id_participants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['process_id'], ['server_processes.id'], name=op.f('fk_connections_process_id_server_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sid', name=op.f('pk_connections'))
    )
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.create_index('ix_connections_meeting_role', ['meeting_id', 'role'], unique=False)
        batch_op.create_index(batch_op.f('ix_connections_process_id'), ['process_id'], unique=False)

    op.create_table('votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.String(length=16), nullable=False),
    sa.Column('participant_id', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.String(length=40), nullable=False),
    sa.Column('choice', sa.String(length=10), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_votes_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_votes_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_votes')),
    sa.UniqueConstraint('participant_id', 'item_id', name='uq_votes_participant_item')
    )
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.create_index('ix_votes_meeting_item', ['meeting_id', 'item_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index('ix_votes_meeting_item')

    op.drop_table('votes')
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connections_process_id'))
        batch_op.drop_index('ix_connections_meeting_role')

    op.drop_table('connections')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_participant_created')
        batch_op.drop_index('ix_comments_meeting_item')

    op.drop_table('comments')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participants_meeting_id'))

    op.drop_table('participants')
    op.drop_table('conclusions')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meetings_guide_id'))
        batch_op.drop_index(batch_op.f('ix_meetings_facilitator_id'))

    op.drop_table('meetings')
    with op.batch_alter_table('one_time_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_one_time_links_user_id'))

    op.drop_table('one_time_links')
    op.drop_table('guides')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('settings')
    with op.batch_alter_table('server_processes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_server_processes_heartbeat_at'))

    op.drop_table('server_processes')
