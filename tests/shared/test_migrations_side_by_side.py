"""Old and new processes serve one database during a rolling restart (docs/deploy.md#upgrade):
every migration after the first only adds, so the code of the release before keeps working on the
new schema. Checked step by step on the reflected schema, on SQLite and PostgreSQL: no table,
column or index the previous revision had is gone, and every column a step adds to an existing
table takes NULL or has a server default (the old code's INSERTs do not name it)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from shared.migrate import alembic_config, upgrade


def _schema(engine: sa.Engine) -> dict[str, dict]:
    inspector = sa.inspect(engine)
    return {
        table: {
            "columns": {c["name"]: c for c in inspector.get_columns(table)},
            "indexes": {i["name"] for i in inspector.get_indexes(table)},
        }
        for table in inspector.get_table_names()
        if table != "alembic_version"
    }


def _revisions(url: str) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(url))
    return [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]


def test_every_migration_after_the_first_only_adds(empty_url):
    revisions = _revisions(empty_url)
    assert len(revisions) > 10 and len(set(revisions)) == len(revisions)
    upgrade(empty_url, revisions[0])
    engine = sa.create_engine(empty_url)
    before = _schema(engine)
    problems = []
    for revision in revisions[1:]:
        upgrade(empty_url, revision)
        engine.dispose()  # SQLite's table rebuilds: reflect afresh
        after = _schema(engine)
        for table, old in before.items():
            new = after.get(table)
            if new is None:
                problems.append(f"{revision}: table {table} dropped")
                continue
            problems += [f"{revision}: column {table}.{c} dropped" for c in old["columns"] if c not in new["columns"]]
            problems += [f"{revision}: index {table}.{i} dropped" for i in old["indexes"] - new["indexes"]]
            for name, column in new["columns"].items():
                was = old["columns"].get(name)
                if was is None and not column["nullable"] and column.get("default") is None:
                    problems.append(f"{revision}: {table}.{name} added NOT NULL without a server default")
                if was is not None and was["nullable"] and not column["nullable"]:
                    problems.append(f"{revision}: {table}.{name} became NOT NULL")
        before = after
    engine.dispose()
    assert problems == []
