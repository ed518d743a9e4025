"""The organiser's rules: units, inviting and deactivating users, deleting sessions, comment
retention and public roll-up links. Pages, REST and the CLI call these; nothing else changes
these rows."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from shared import accounts, mail
from shared import meeting as rules
from shared.errors import DialogrumError
from shared.events import SessionDeleted
from shared.models import (
    Comment,
    CommentLike,
    Conclusion,
    Connection,
    Guide,
    MailOutbox,
    Meeting,
    OneTimeLink,
    Participant,
    PublicRollup,
    Setting,
    Unit,
    UnitKind,
    User,
    UserRole,
    Vote,
    utcnow,
)
from shared.text import clean, storable
from shared.uow import Work

UNIT_KINDS = tuple(kind.value for kind in UnitKind)
RETENTION_KEY = "comment_retention_days"
#: 0 means "keep comments until the session is deleted"
DEFAULT_RETENTION_DAYS = 0


# -- units -------------------------------------------------------------------------------------


def list_units(db: so.Session, *, active_only: bool = False) -> list[Unit]:
    """Units by name."""
    stmt = sa.select(Unit).order_by(Unit.name)
    if active_only:
        stmt = stmt.where(Unit.active.is_(True))
    return list(db.scalars(stmt))


def add_unit(db: so.Session, name: object, kind: object = "region") -> Unit:
    """Add a unit; names are unique."""
    name = clean(name) if isinstance(name, str) else ""
    if not name or len(name) > 200:
        raise DialogrumError("invalid", "a unit needs a name of at most 200 characters")
    if kind not in UNIT_KINDS:
        raise DialogrumError("invalid", "kind must be one of " + ", ".join(UNIT_KINDS))
    if db.scalar(sa.select(Unit).where(sa.func.lower(Unit.name) == name.lower())) is not None:
        raise DialogrumError("conflict", f"the unit {name} exists already")
    unit = Unit(name=name, kind=kind)
    db.add(unit)
    db.flush()
    return unit


def set_unit_active(db: so.Session, unit_id: int, active: bool) -> Unit:
    """Retire or restore a unit (its past sessions keep its name)."""
    unit = db.get(Unit, unit_id)
    if unit is None:
        raise DialogrumError("not_found")
    unit.active = active
    db.flush()
    return unit


# -- users -------------------------------------------------------------------------------------


def list_users(db: so.Session) -> list[User]:
    """Everyone who can sign in, active ones first, by e-mail (not the first-run placeholder,
    which is nobody yet)."""
    placeholder = sa.and_(User.email == accounts.PLACEHOLDER_EMAIL, User.password_hash.is_(None))
    return list(db.scalars(sa.select(User).where(~placeholder)
                           .order_by(User.active.desc(), sa.func.lower(User.email))))


def nobody_can_sign_in(db: so.Session) -> bool:
    """No user has chosen a password yet (`accounts.first_run_link` would make a link): the start
    page and the sign-in page then say how to get the first-run link, never the secret itself."""
    return not db.scalar(sa.select(sa.func.count()).select_from(User).where(User.password_hash.is_not(None)))


def invited_user_ids(db: so.Session) -> set[int]:
    """The users with an open (unused, unexpired) invitation or reset link: one query for all."""
    return set(db.scalars(sa.select(OneTimeLink.user_id).where(OneTimeLink.used_at.is_(None),
                                                               OneTimeLink.expires_at > utcnow())))


def open_links(db: so.Session) -> dict[int, dt.datetime]:
    """Until when each user's open password link works (the newest one; at most one is open)."""
    rows = db.execute(sa.select(OneTimeLink.user_id, sa.func.max(OneTimeLink.expires_at))
                      .where(OneTimeLink.used_at.is_(None), OneTimeLink.expires_at > utcnow(),
                             OneTimeLink.purpose != "first_run")
                      .group_by(OneTimeLink.user_id))
    return {row[0]: row[1] for row in rows.all()}


def set_user_language(db: so.Session, user_id: int, language: object) -> User:
    """Change the language of a user's e-mails (sv, da, en) after the invitation: later resets and
    campaign reminders are written in it. None or "" clears it (the organiser's page language,
    or the one the user chose their password in, is used then). Mails already queued keep theirs."""
    if language == "":
        language = None
    if language is not None and language not in mail.LANGUAGES:
        raise DialogrumError("invalid", "language must be one of " + ", ".join(mail.LANGUAGES))
    user = db.get(User, user_id)
    if user is None:
        raise DialogrumError("not_found")
    user.language = language
    db.flush()
    return user


def invite(db: so.Session, *, email: object, role: object, name: object = "",
           language: object = None) -> tuple[User, str]:
    """Create a user without a password and a one-time link secret to choose one. `language`
    (sv, da, en) is the language of the e-mails they get; None leaves it to whoever invites."""
    if language is not None and language not in mail.LANGUAGES:
        raise DialogrumError("invalid", "language must be one of " + ", ".join(mail.LANGUAGES))
    user = accounts.create_user(db, email=email, role=role, name=name)
    user.language = language
    db.flush()
    return user, accounts.create_link(db, user, "invite")


def mail_password_link(db: so.Session, user: User, *, url: str, purpose: str, inviter: str,
                       fallback_language: str) -> MailOutbox | None:
    """When e-mail is configured: queue the invitation or new password link `url` to the user, in
    the same transaction as the link, in the user's language (else `fallback_language`, the
    inviting organiser's). None without e-mail: the page's link to copy is then the only way."""
    if not mail.enabled():
        return None
    language = mail.language_of(user, fallback_language)
    days = accounts.LINK_LIFETIME.days
    subject, body = mail.password_link_mail(purpose, url=url, lang=language, name=user.name, inviter=inviter,
                                            days=days)
    return mail.queue(db, to=user.email, lang=language, subject=subject, body=body, kind=purpose, user_id=user.id)


def resend_mail(db: so.Session, user_id: int, mail_id: int) -> MailOutbox:
    """"Send again": a user's queued or failed mail is tried again now, while the password link in
    it still works (a used or voided link is not worth sending: make a new one instead)."""
    row = db.get(MailOutbox, mail_id)
    if row is None or row.user_id != user_id:
        raise DialogrumError("not_found", "no such e-mail")
    if user_id not in open_links(db):
        raise DialogrumError("wrong_state", "the link in this e-mail no longer works: make a new one")
    return mail.retry(db, mail_id)


def reset_password(db: so.Session, user_id: int) -> str:
    """A one-time link secret with which the user chooses a new password."""
    user = db.get(User, user_id)
    if user is None:
        raise DialogrumError("not_found")
    if not user.active:
        # It could not be used anyway: a link never reactivates an account (issue 12, defect 1).
        raise DialogrumError("wrong_state", "reactivate the user first")
    return accounts.create_link(db, user, "reset")


def set_user_active(db: so.Session, actor: User, user_id: int, active: bool) -> User:
    """Deactivate (or reactivate) a user: they can no longer sign in nor use their tokens, and
    their sign-ins, open password links and sockets end (`accounts.set_active`)."""
    user = db.get(User, user_id)
    if user is None:
        raise DialogrumError("not_found")
    if user.id == actor.id and not active:
        raise DialogrumError("wrong_state", "you cannot deactivate yourself")
    return accounts.set_active(db, user, active)


# -- deletion and retention --------------------------------------------------------------------


def delete_meeting(work: Work, meeting_id: str, *, keep_counts: bool = False) -> None:
    """Delete a session with its participants, votes, comments and conclusions, for good; its
    open sockets are let go after the commit. With `keep_counts` only its personal traces go
    (`anonymise_meeting`): the REST API's `?keep_counts=true` and the page's default for an
    ended session.

    Explicit deletes (children first) rather than relying on ON DELETE CASCADE alone, so the
    result is the same whether or not a connection enforces foreign keys.
    """
    if keep_counts:
        anonymise_meeting(work, meeting_id)
        return
    conn = work.conn
    if conn.execute(sa.select(Meeting.id).where(Meeting.id == meeting_id)).first() is None:
        raise DialogrumError("unknown_session")
    for model in (Connection, Vote, Comment, Conclusion, Participant):
        conn.execute(sa.delete(model).where(model.meeting_id == meeting_id))
    conn.execute(sa.delete(Meeting).where(Meeting.id == meeting_id))
    work.emit(SessionDeleted(meeting_id))


def anonymise_meeting(work: Work, meeting_id: str) -> None:
    """Delete an ended session's personal traces but keep what published roll-ups add up (issue
    12, defect 2): its comments (and their thumbs-up) and open sockets go, and every phone's token
    is voided so no phone can come back as its participant; the participant rows stay, without
    anything personal, only so that their votes keep counting, and the conclusions stay. The
    session is marked `anonymised_at`. A live or waiting session has no counts worth keeping.
    """
    conn = work.conn
    status = conn.execute(sa.select(Meeting.status).where(Meeting.id == meeting_id)).scalar()
    if status is None:
        raise DialogrumError("unknown_session")
    if status != "ended":
        raise DialogrumError("wrong_state", "only an ended session keeps its counts without its personal traces")
    comments = sa.select(Comment.id).where(Comment.meeting_id == meeting_id)
    conn.execute(sa.delete(CommentLike).where(CommentLike.comment_id.in_(comments)))
    for model in (Connection, Comment):
        conn.execute(sa.delete(model).where(model.meeting_id == meeting_id))
    # Unique and never a SHA-256 hex digest, so no token a phone holds matches it again.
    conn.execute(sa.update(Participant).where(Participant.meeting_id == meeting_id)
                 .values(token_hash=sa.literal("void:") + Participant.id))
    conn.execute(sa.update(Meeting).where(Meeting.id == meeting_id).values(anonymised_at=utcnow()))


def published_pages(db: so.Session, meeting: Meeting) -> list[dict[str, Any]]:
    """The live public links whose page shows this session, and what deleting it would change there:
    `{link, unit, votes, unit_vanishes}` (its unit, the votes that would leave the page's figures,
    and whether the unit would vanish from it, having no other ended session of the guide)."""
    if meeting.status != "ended" or meeting.guide_id is None:
        return []
    links = list(db.scalars(sa.select(PublicRollup).where(PublicRollup.guide_id == meeting.guide_id,
                                                          PublicRollup.revoked_at.is_(None))
                            .order_by(PublicRollup.created_at)))
    links = [link for link in links if link.id not in suspended_links(db, links)]
    if not links:
        return []
    votes = sum(c["yes"] + c["no"] + c["unsure"] for c in rules.counts(db.connection(), meeting.id).values())
    unit = meeting.unit or "—"
    others = db.scalar(sa.select(sa.func.count()).select_from(Meeting).where(
        Meeting.guide_id == meeting.guide_id, Meeting.status == "ended", Meeting.id != meeting.id,
        Meeting.unit == meeting.unit))
    return [{"link": link, "unit": unit, "votes": votes, "unit_vanishes": not others} for link in links]


def retention_days(conn: sa.Connection) -> int:
    """How many days ended sessions keep their comments (0: until deleted)."""
    value = conn.execute(sa.select(Setting.value).where(Setting.key == RETENTION_KEY)).scalar()
    return int(value.get("days", DEFAULT_RETENTION_DAYS)) if isinstance(value, dict) else DEFAULT_RETENTION_DAYS


def set_retention_days(conn: sa.Connection, days: object) -> int:
    """Set the retention (0 to 3650 days)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 3650:
        raise DialogrumError("invalid", "days must be a whole number from 0 to 3650")
    conn.execute(sa.delete(Setting).where(Setting.key == RETENTION_KEY))
    conn.execute(sa.insert(Setting).values(key=RETENTION_KEY, value={"days": days}))
    return days


def purge_expired_comments(conn: sa.Connection, now: dt.datetime | None = None) -> int:
    """Delete the comments of sessions that ended longer ago than the retention; returns how many."""
    days = retention_days(conn)
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    expired = sa.select(Meeting.id).where(Meeting.status == "ended", Meeting.ended_at < cutoff)
    return conn.execute(sa.delete(Comment).where(Comment.meeting_id.in_(expired))).rowcount or 0


# -- public roll-up links ----------------------------------------------------------------------


def publish_rollup(db: so.Session, guide_id: str, actor: User, *, include_comments: bool = False) -> PublicRollup:
    """Publish a guide's roll-up at an unguessable link."""
    if db.get(Guide, guide_id) is None:
        raise DialogrumError("not_found")
    link = PublicRollup(guide_id=guide_id, key=secrets.token_urlsafe(24), include_comments=bool(include_comments),
                        created_by=actor.id)
    db.add(link)
    db.flush()
    return link


def revoke_rollup(db: so.Session, link_id: int) -> None:
    """Revoke a public link; it answers 410 ("withdrawn by its publisher") from now on."""
    link = db.get(PublicRollup, link_id)
    if link is None:
        raise DialogrumError("not_found")
    link.revoked_at = link.revoked_at or utcnow()
    db.flush()


def find_public_rollup(db: so.Session, key: object) -> PublicRollup | None:
    """The live public link with this key: not revoked, and its publisher still an active organiser.

    A link is a grant its publisher made, and ends with their right to make it: deactivating the
    publisher (or making them a facilitator) suspends their links, which answer 404 like a revoked
    one; reactivating them brings the links back. Another organiser who wants the page to stay
    public publishes a link of their own (README.md#public-links).
    """
    if not storable(key) or not key or len(key) > 64:
        return None
    return db.scalar(sa.select(PublicRollup).join(User, User.id == PublicRollup.created_by)
                     .where(PublicRollup.key == key, PublicRollup.revoked_at.is_(None), User.active.is_(True),
                            User.role == UserRole.ORGANISER))


def revoked_rollup(db: so.Session, key: object) -> bool:
    """Whether `key` is a public link its publisher revoked (the page then says it was withdrawn)."""
    if not storable(key) or not key or len(key) > 64:
        return False
    return db.scalar(sa.select(PublicRollup.id).where(PublicRollup.key == key,
                                                      PublicRollup.revoked_at.is_not(None))) is not None


def suspended_links(db: so.Session, links: list[PublicRollup]) -> set[int]:
    """The ids of the unrevoked links among `links` whose publisher is no longer an active organiser."""
    publishers = {link.created_by for link in links if link.created_by is not None}
    able = set(db.scalars(sa.select(User.id).where(User.id.in_(publishers), User.active.is_(True),
                                                   User.role == UserRole.ORGANISER))) if publishers else set()
    return {link.id for link in links if link.revoked_at is None and link.created_by not in able}


def per_unit(rollup: dict[str, Any]) -> dict[str, Any]:
    """Aggregate a roll-up by unit: which units held the dialogue and when, and their results.

    Carries no participant data and no comment texts.
    """
    units: dict[str, dict[str, Any]] = {}
    session_unit = {}
    for s in rollup["sessions"]:
        if not s["started_at"]:
            continue
        name = s["unit"] or "—"
        session_unit[s["id"]] = name
        u = units.setdefault(name, {"unit": name, "sessions": 0, "by_hand": 0, "first": s["started_at"],
                                    "last": s["started_at"]})
        u["sessions"] += 1
        u["by_hand"] += bool(s.get("entered_by_hand"))  # a dialogue held on paper, shown as such
        u["first"], u["last"] = min(u["first"], s["started_at"]), max(u["last"], s["started_at"])
    order = sorted(units.values(), key=lambda u: u["first"])
    items = []
    for item in rollup["items"]:
        cells: dict[str, dict[str, int]] = {}
        for sid, c in item["per_session"].items():
            if sid not in session_unit:
                continue
            cell = cells.setdefault(session_unit[sid], {"yes": 0, "no": 0, "unsure": 0, "voters": 0, "comments": 0})
            for key in cell:
                cell[key] += c[key]
        items.append({"id": item["id"], "kind": item["kind"], "text": item["text"], "section": item["section"],
                      "per_unit": cells})
    return {"guide": rollup["guide"], "units": order, "items": items}
