"""Apply the Alembic migrations (used by `dialogrum db upgrade` and `serve`).

The scripts live in the repository's top-level `migrations/`; a wheel carries them as package data
in `shared/migrations/` (copied by setup.py). The installed copy is looked for first, so an
installed package never picks up an unrelated `site-packages/migrations`
(docs/architecture.md#the-wheel).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

_PACKAGED = Path(__file__).resolve().parent / "migrations"
_CHECKOUT = Path(__file__).resolve().parent.parent / "migrations"
MIGRATIONS = _PACKAGED if (_PACKAGED / "env.py").is_file() else _CHECKOUT


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the project's migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(slug)s")
    # ConfigParser interpolation would choke on a % in a password.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Take the database at `url` down to `revision` (`base` empties it)."""
    command.downgrade(alembic_config(url), revision)
