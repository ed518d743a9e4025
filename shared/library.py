"""The guide library in the database: the rules of creating, editing, versioning, archiving,
deleting and exporting guides, and the built-in guides (docs/guides.md#editing-guides).

Every client (the editor page, REST v1, the CLI) calls these functions, so the rights and the
version check are written once:

- Organisers edit every guide that is not built in; facilitators the guides they own (created,
  imported or duplicated); nobody edits a built-in guide, but anybody may duplicate it.
- Every saved change of a document adds 1 to `Guide.version`. A save names the version it was
  based on and is refused with `version_conflict` (409) when somebody saved in between, so two
  people saving at once never overwrite each other silently.
- Sessions keep their snapshot and the version they ran with (`Meeting.guide_version`).
- A guide is deleted only when no session ever used it; otherwise it can be archived, which hides
  it from the new-session form but keeps it in the library and its roll-up.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _gettext
from flask_babel import ngettext as _ngettext

from shared import campaigns, guides
from shared.errors import DialogrumError
from shared.ids import random_id
from shared.models import Guide, Meeting, utcnow
from shared.schemas.guide import MAX_TITLE
from shared.text import storable

#: The formats a guide is exported in.
EXPORT_FORMATS = ("yaml", "json")


def gettext(text: str, **values: Any) -> str:
    """`text` in the request's language; in English outside a request (the CLI, tests)."""
    return _gettext(text, **values) if has_request_context() else text % values


def ngettext(singular: str, plural: str, num: int) -> str:
    """The singular or plural of a count, in the request's language (English outside one)."""
    if has_request_context():
        return _ngettext(singular, plural, num)
    return (singular if num == 1 else plural) % {"num": num}


class GuideChangeError(DialogrumError):
    """A refused change to a guide. Its `message` is whole and already translated, so the REST
    API answers it as it is (`complete_message`) instead of after the code's general text."""

    complete_message = True

    def __init__(self, code: str, message: str, *, version: int | None = None) -> None:
        super().__init__(code, message)
        #: the guide's stored version, with `version_conflict`
        self.version = version


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
    """Replace a guide's document without a rights or version check (trusted callers only; users'
    edits go through `save_guide`); kept items keep their ids, so roll-ups stay comparable, and a
    changed document is the next version.

    Past sessions keep their own snapshot and are never changed by this.
    """
    doc = guides.assign_ids(_parse(document, filename), previous=guide.document)
    if doc == guide.document:
        return guide
    guide.document = doc
    guide.title, guide.language, guide.updated_at = doc["title"], doc["language"], utcnow()
    guide.version += 1
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


def list_guides(db: so.Session, *, include_archived: bool = False) -> list[Guide]:
    """The guides, built-in first, then by title; archived ones only with `include_archived`
    (the library lists them, marked; the new-session form offers only the others)."""
    stmt = sa.select(Guide).order_by(Guide.builtin_key.is_(None), Guide.title)
    if not include_archived:
        stmt = stmt.where(Guide.archived_at.is_(None))
    return list(db.scalars(stmt))


def summary(guide: Guide, user: Any = None) -> dict[str, Any]:
    """The contract's guide list entry (`items` is how many), with the version, whether it is
    archived, and whether the `user` asking (None: nobody) may edit it."""
    return {"id": guide.id, "title": guide.title, "language": guide.language,
            "items": len(guides.flatten(guide.document)), "builtin": guide.builtin_key is not None,
            "version": guide.version, "archived": guide.archived_at is not None, "editable": can_edit(user, guide)}


def session_count(db: so.Session, guide_id: str) -> int:
    """How many sessions used the guide."""
    return db.scalar(sa.select(sa.func.count()).select_from(Meeting).where(Meeting.guide_id == guide_id)) or 0


def get_guide(db: so.Session, guide_id: object) -> Guide | None:
    """The guide with this id, or None."""
    return db.get(Guide, guide_id) if storable(guide_id) and guide_id else None


# -- rights -----------------------------------------------------------------------------------


def _active(user: Any) -> bool:
    return user is not None and bool(getattr(user, "active", False)) and getattr(user, "id", None) is not None


class _Operator:
    """Whoever runs `dialogrum guide archive/delete` on the server: an organiser without an account."""

    id = 0  # no user has it (ids start at 1), so the operator owns no guide
    role = "organiser"
    active = True

    def __repr__(self) -> str:
        return "OPERATOR"


#: the command line's rights over guides: an organiser's
OPERATOR = _Operator()


def can_edit(user: Any, guide: Guide) -> bool:
    """Organisers edit every guide that is not built in, facilitators their own; nobody a
    built-in guide (it can be duplicated) and no inactive user anything."""
    if not _active(user) or guide.builtin_key is not None:
        return False
    return user.role == "organiser" or (guide.owner_id is not None and guide.owner_id == user.id)


def can_archive(user: Any, guide: Guide) -> bool:
    """Whoever may edit a guide may archive it; organisers may also archive a built-in guide, which
    hides it from the new-session form without changing it (a board that never holds it)."""
    if can_edit(user, guide):
        return True
    return _active(user) and user.role == "organiser" and guide.builtin_key is not None


def can_delete(db: so.Session, user: Any, guide: Guide) -> bool:
    """Whoever may edit a guide may delete it, as long as no session used it."""
    return can_edit(user, guide) and session_count(db, guide.id) == 0


def _refuse_edit(guide: Guide) -> GuideChangeError:
    if guide.builtin_key is not None:
        return GuideChangeError("forbidden", gettext(
            "Built-in guides cannot be changed. Duplicate the guide and edit the copy."))
    return GuideChangeError("forbidden", gettext(
        "Only an organiser or the facilitator who owns this guide may change it."))


# -- creating and editing ---------------------------------------------------------------------


def create_guide(db: so.Session, document: Any, *, owner_id: int | None, filename: str | None = None) -> Guide:
    """A new guide from a document (text, bytes or parsed), owned by `owner_id`, at version 1.

    Raises `guides.GuideError` naming every problem; nothing is stored then.
    """
    return import_guide(db, document, owner_id=owner_id, filename=filename)


def _without_ids(doc: dict) -> dict:
    return {**doc, "sections": [{**section, "items": [{**item, "id": None} for item in section["items"]]}
                                for section in doc["sections"]]}


def duplicate_guide(db: so.Session, guide: Guide, *, owner_id: int | None, title: str | None = None) -> Guide:
    """A new guide with the same content as `guide` (any guide, built-in ones too), owned by
    `owner_id`, at version 1, not archived.

    The copy's items get fresh ids: it is a guide of its own with a roll-up of its own, and no
    item id of it can be mistaken for one of the original's in an export. Without a `title` the
    copy is called "Copy of …" in the guide's own language.
    """
    doc = _without_ids(guides.validate(guide.document))
    if title is None:
        with force_locale(guide.language):  # the copy's title speaks the guide's language
            title = _gettext("Copy of %(title)s", title=guide.title)
    doc["title"] = title[:MAX_TITLE]
    return import_guide(db, doc, owner_id=owner_id)


def save_guide(db: so.Session, user: Any, guide: Guide, document: Any, *, version: int,
               filename: str | None = None) -> Guide:
    """Save an edited document, based on `version`, as the guide's next version.

    Refused, with nothing changed: `forbidden` (403) when `user` may not edit the guide;
    `version_conflict` (409, carrying the stored version) when `version` is not the stored one,
    because somebody saved in between; `guides.GuideError` when the document is not valid. Items
    that carry their id keep it, and new items that match an earlier one take its id, so the
    roll-up lines them up across versions. A document equal to the stored one changes nothing
    (the version stays). The check and the write are one guarded UPDATE, so of two saves of the
    same version at the same moment exactly one wins.
    """
    if not can_edit(user, guide):
        raise _refuse_edit(guide)
    if isinstance(version, bool) or not isinstance(version, int) or version != guide.version:
        raise _conflict(guide)
    doc = guides.assign_ids(_parse(document, filename), previous=guide.document)
    if doc == guide.document:
        return guide
    done = db.execute(
        sa.update(Guide).where(Guide.id == guide.id, Guide.version == version)
        .values(document=doc, title=doc["title"], language=doc["language"], version=version + 1,
                updated_at=utcnow())
        .execution_options(synchronize_session=False))
    db.refresh(guide)
    if done.rowcount != 1:
        raise _conflict(guide)
    return guide


def _conflict(guide: Guide) -> GuideChangeError:
    return GuideChangeError("version_conflict", gettext(
        "Somebody else saved this guide in the meantime (it is now version %(version)s), so your "
        "changes were not saved. Reload the guide and make them again.", version=guide.version),
        version=guide.version)


def archive_guide(db: so.Session, user: Any, guide: Guide, archived: bool = True) -> Guide:
    """Archive (or bring back) a guide: archived, it is left out of the new-session form but kept
    in the library, its sessions and its roll-up. The document and version do not change."""
    if not can_archive(user, guide):
        raise _refuse_edit(guide)
    if archived and guide.archived_at is None:
        guide.archived_at = utcnow()
    elif not archived:
        guide.archived_at = None
    db.flush()
    return guide


def guide_campaigns(db: so.Session, guide_id: str) -> tuple[list[Any], list[Any]]:
    """The campaigns of a guide as (open, closed): what deleting the guide would touch."""
    found = campaigns.for_guide(db, guide_id)
    return [c for c in found if c.closed_at is None], [c for c in found if c.closed_at is not None]


def campaign_names(found: list[Any]) -> str:
    """Campaigns named for a message: “title” (deadline YYYY-MM-DD), comma-separated."""
    return ", ".join(f"“{campaigns.name(c)}” ({c.deadline.isoformat()})" for c in found)


def delete_guide(db: so.Session, user: Any, guide: Guide) -> None:
    """Delete a guide for good; refused with `guide_in_use` (409) once any session used it
    (archive it then), `guide_in_campaign` (409, naming them) while an open campaign asks units to
    hold it (close the campaign first: its units were told to hold this guide), and `forbidden`
    (403) for whoever may not edit it. Closed campaigns of the guide go with it (the foreign key's
    cascade); the confirmation page names them first."""
    if not can_edit(user, guide):
        raise _refuse_edit(guide)
    used = session_count(db, guide.id)
    if used:
        raise GuideChangeError("guide_in_use", ngettext(
            "%(num)d session used this guide, so it cannot be deleted. Archive it instead.",
            "%(num)d sessions used this guide, so it cannot be deleted. Archive it instead.", used))
    open_campaigns, _closed = guide_campaigns(db, guide.id)
    if open_campaigns:
        raise GuideChangeError("guide_in_campaign", gettext(
            "An open campaign asks units to hold this guide, so it cannot be deleted: %(campaigns)s. "
            "Close the campaign first.", campaigns=campaign_names(open_campaigns)))
    db.delete(guide)
    db.flush()


def export_guide(guide: Guide, fmt: str = "yaml") -> str:
    """The guide's document as YAML or JSON text, with its item ids, ready to import again
    (`guides.validate(guides.load_document(text)) == guide.document`)."""
    if fmt not in EXPORT_FORMATS:
        raise DialogrumError("invalid", "format must be yaml or json")
    return guides.dump(guide.document, fmt)


def export_file(guide: Guide, fmt: str = "yaml") -> Any:
    """The exported guide as a `shared.downloads.Download`: `<title> <id>.yaml` or `.json`, UTF-8."""
    from shared import downloads, export

    body = export_guide(guide, fmt).encode("utf-8")
    base = f"{guide.title} {guide.id}"
    return downloads.Download(body=body, filename=export.filename(base, fmt),
                              unicode_filename=downloads.unicode_filename(base, fmt),
                              content_type=_EXPORT_TYPES[fmt])


_EXPORT_TYPES = {"yaml": "application/yaml; charset=utf-8", "json": "application/json; charset=utf-8"}
