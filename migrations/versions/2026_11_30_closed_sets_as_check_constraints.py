"""Closed sets of values as CHECK constraints: meeting status, user and connection roles, vote
choice, unit kind, one-time link purpose and guide language (docs/architecture.md#closed-sets-of-values).

Reviewed by hand. The columns stay VARCHAR of the same length; each gains a CHECK constraint named
by the models' naming convention (`ck_<table>_<column>`), so SQLite and PostgreSQL carry the same
names and `downgrade()` can drop them. The value lists are written out here, not imported from
`shared.models`, so this migration keeps meaning what it meant when the models change.

Rows with a value outside the set make the upgrade FAIL, naming the table, column and values,
before anything is changed: there is no safe guess (turning an unknown status into `ended` or
`live`, or an unknown role into `facilitator`, would change who sees or does what). The app
never wrote such values; fix or delete the rows by hand, then upgrade again.

SQLite cannot add a constraint to a table, so batch mode rebuilds each table (copy, drop, rename).
With foreign keys enforced, dropping `meetings` or `users` would cascade-delete their votes,
comments and tokens, so on SQLite the upgrade and downgrade refuse to run on a connection with
`PRAGMA foreign_keys=ON` (Alembic's own connection has it off).

Revision ID: 5fbe7f8bbcbb
Revises: 7ac8d365c010
Create Date: 2026-11-30 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '5fbe7f8bbcbb'
down_revision = '7ac8d365c010'
branch_labels = None
depends_on = None

#: (table, column, allowed values); the constraint is `ck_<table>_<column>`.
CLOSED_SETS = (
    ("users", "role", ("organiser", "facilitator")),
    ("one_time_links", "purpose", ("first_run", "invite", "reset")),
    ("guides", "language", ("sv", "da", "en")),
    ("meetings", "status", ("waiting", "live", "ended")),
    ("votes", "choice", ("yes", "no", "unsure")),
    ("connections", "role", ("participant", "facilitator", "projector")),
    ("units", "kind", ("region", "kreds", "forening", "other")),
)


def _condition(column: str, values: tuple[str, ...]) -> str:
    # The same text SQLAlchemy renders for the models' sa.Enum(create_constraint=True).
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _refuse_cascading_rebuild() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "this migration rebuilds SQLite tables; with PRAGMA foreign_keys=ON that would delete "
            "every row that refers to them (ON DELETE CASCADE). Run it through `dialogrum db upgrade`."
        )


def _refuse_unknown_values() -> None:
    bind = op.get_bind()
    problems = []
    for table, column, values in CLOSED_SETS:
        col = sa.column(column)
        rows = bind.execute(
            sa.select(col, sa.func.count()).select_from(sa.table(table, col))
            .where(sa.or_(col.is_(None), col.not_in(values))).group_by(col)
        ).all()
        problems += [f"{table}.{column} = {value!r} in {n} row(s)" for value, n in rows]
    if problems:
        raise RuntimeError(
            "cannot add the CHECK constraints, these rows hold values outside their set: "
            + "; ".join(problems) + ". Correct or delete them by hand, then upgrade again."
        )


def upgrade() -> None:
    _refuse_cascading_rebuild()
    _refuse_unknown_values()
    for table, column, values in CLOSED_SETS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(op.f(f"ck_{table}_{column}"), _condition(column, values))


def downgrade() -> None:
    _refuse_cascading_rebuild()
    for table, column, _values in reversed(CLOSED_SETS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
