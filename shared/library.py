"""The guide library in the database: import, update, list, export, and the built-in guides."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from shared import guides
from shared.ids import random_id
from shared.models import Guide, Meeting, utcnow
from shared.text import storable


def _new_id(db: so.Session) -> str:
    while True:
        gid = "g" + random_id(9)
        if db.get(Guide, gid) is None:
            return gid


def _parse(document: Any, filename: str | None) -> dict:
    if isinstance(document, (str, bytes)):
        return guides.load_document(document, filename)
    return guides.validate(document)


def import_guide(db: so.Session, document: Any, *, owner_id: int | None = None,
                 filename: str | None = None) -> Guide:
    """Validate a document (text, bytes or parsed) and store it as a new guide.

    Raises `guides.GuideError` naming the place of every problem; nothing is stored then.
    """
    doc = guides.assign_ids(_parse(document, filename))
    guide = Guide(id=_new_id(db), title=doc["title"], language=doc["language"], document=doc, owner_id=owner_id)
    db.add(guide)
    db.flush()
    return guide


def update_guide(db: so.Session, guide: Guide, document: Any, *, filename: str | None = None) -> Guide:
    """Replace a guide's document; kept items keep their ids, so roll-ups stay comparable.

    Past sessions keep their own snapshot and are never changed by this.
    """
    doc = _parse(document, filename)
    guide.document = guides.assign_ids(doc, previous=guide.document)
    guide.title, guide.language, guide.updated_at = doc["title"], doc["language"], utcnow()
    db.flush()
    return guide


def install_builtins(db: so.Session) -> int:
    """Install each built-in guide once (by file name); returns how many were added.

    `dialogrum db upgrade` and `serve` call it under the installation lock (shared.migrate); each
    guide is also added in a savepoint of its own, so a process that installs the same guide at
    the same moment without the lock costs a skipped guide, not a unique-key error.
    """
    added = 0
    for path in sorted(guides.BUILTIN_DIR.glob("*.yaml")):
        if db.scalar(sa.select(Guide.id).where(Guide.builtin_key == path.name)) is not None:
            continue
        doc = guides.assign_ids(guides.load_document(path.read_bytes(), path.name))
        try:
            with db.begin_nested():
                db.add(Guide(id=_new_id(db), title=doc["title"], language=doc["language"], document=doc,
                             builtin_key=path.name))
        except sa.exc.IntegrityError:  # installed by another process just now
            continue
        added += 1
    db.flush()
    return added


def list_guides(db: so.Session) -> list[Guide]:
    """All guides, built-in first, then by title."""
    return list(db.scalars(sa.select(Guide).order_by(Guide.builtin_key.is_(None), Guide.title)))


def summary(guide: Guide) -> dict[str, Any]:
    """The contract's guide list entry (`items` is how many)."""
    return {"id": guide.id, "title": guide.title, "language": guide.language,
            "items": len(guides.flatten(guide.document)), "builtin": guide.builtin_key is not None}


def session_count(db: so.Session, guide_id: str) -> int:
    """How many sessions used the guide."""
    return db.scalar(sa.select(sa.func.count()).select_from(Meeting).where(Meeting.guide_id == guide_id)) or 0


def get_guide(db: so.Session, guide_id: object) -> Guide | None:
    """The guide with this id, or None."""
    return db.get(Guide, guide_id) if storable(guide_id) and guide_id else None
