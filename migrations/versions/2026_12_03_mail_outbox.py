"""E-mail through SMTP (issue 12, gap 9): the outbox and the language of a user's e-mails.

Reviewed by hand.

* `mail_outbox`: one row per e-mail, added in the transaction of the change it tells about
  (shared/mail.py). `status` is a closed set with its CHECK constraint `ck_mail_outbox_status`,
  `language` one with `ck_mail_outbox_language` (docs/architecture.md#closed-sets-of-values).
  Senders look for due rows by (status, next_attempt_at).
* `users.language` (nullable): the language of the e-mails a user gets. Added in place, never by a
  batch rebuild (rebuilding `users` with foreign keys on would cascade-delete its tokens and
  links). SQLite takes a named column constraint in `ALTER TABLE ADD COLUMN` (Alembic's
  `add_column` would leave the CHECK out there, hence the plain SQL) and SQLite 3.35+ drops the
  column, with its constraint, in place.

Revision ID: 5e2a7c9d1f60
Revises: 4b6d8f0a2c31
Create Date: 2026-12-03 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '5e2a7c9d1f60'
down_revision = '4b6d8f0a2c31'
branch_labels = None
depends_on = None

#: written out, not imported from shared.enums, so the migration keeps meaning what it meant
LANGUAGES = "language IN ('sv', 'da', 'en')"
STATUSES = "status IN ('queued', 'sending', 'sent', 'failed')"


def upgrade() -> None:
    op.create_table(
        'mail_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('to_addr', sa.String(length=254), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('language', sa.String(length=5), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claim', sa.String(length=32), nullable=True),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(LANGUAGES, name=op.f('ck_mail_outbox_language')),
        sa.CheckConstraint(STATUSES, name=op.f('ck_mail_outbox_status')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mail_outbox_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox')),
    )
    op.create_index('ix_mail_outbox_status_next_attempt_at', 'mail_outbox', ['status', 'next_attempt_at'],
                    unique=False)
    op.create_index(op.f('ix_mail_outbox_user_id'), 'mail_outbox', ['user_id'], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE users ADD COLUMN language VARCHAR(5) CONSTRAINT ck_users_language CHECK ({LANGUAGES})")
    else:
        op.add_column('users', sa.Column('language', sa.String(length=5), nullable=True))
        op.create_check_constraint(op.f('ck_users_language'), 'users', LANGUAGES)


def downgrade() -> None:
    op.drop_column('users', 'language')
    op.drop_index(op.f('ix_mail_outbox_user_id'), table_name='mail_outbox')
    op.drop_index('ix_mail_outbox_status_next_attempt_at', table_name='mail_outbox')
    op.drop_table('mail_outbox')
