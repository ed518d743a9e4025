"""Typed SQLAlchemy 2 models.

Names follow the users' words: guide, session (the model is `Meeting`, so that it never collides
with Flask's or SQLAlchemy's `session`), participant, vote, comment, conclusion. Every column has
a `#:` line saying what it holds. The naming convention keeps constraint names identical on
SQLite and PostgreSQL, so migrations can refer to them.

The module is long on purpose: it is the whole schema in one place, every column with its line
saying what it holds, which reads better than the tables split over several modules.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, ClassVar, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from shared.enums import (  # noqa: F401 - re-exported: the models module is where callers look
    CHOICES,
    ROLES,
    ConnectionRole,
    JoinDisplay,
    Language,
    LinkPurpose,
    MailStatus,
    MeetingStatus,
    UnitKind,
    UserRole,
    VoteChoice,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}




def _closed_set(values: type[enum.StrEnum], name: str, length: int) -> sa.Enum:
    """A VARCHAR(length) column type with a CHECK constraint named `ck_<table>_<name>`."""
    return sa.Enum(
        values,
        name=name,
        length=length,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


def utcnow() -> dt.datetime:
    """The current time in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


class Base(so.DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar = {dt.datetime: UTCDateTime(), dict[str, Any]: sa.JSON()}


class User(Base):
    """An organiser or a facilitator; participants never have accounts."""

    __tablename__ = "users"

    #: surrogate key
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: login name, stored lower-case
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    #: shown in lists and reports
    name: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    #: `organiser` (sees everything) or `facilitator` (sees their own sessions)
    role: so.Mapped[UserRole] = so.mapped_column(_closed_set(UserRole, "role", 20))
    #: werkzeug password hash; null until the user has chosen a password
    password_hash: so.Mapped[Optional[str]] = so.mapped_column(sa.String(300))
    #: deactivated users cannot sign in or use their tokens
    active: so.Mapped[bool] = so.mapped_column(default=True)
    #: part of every sign-in's cookie; bumping it (sign-out, a new password, deactivation) ends
    #: every sign-in made before, on every process (issue 15, point 2)
    session_version: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    #: the unit (region, kreds, forening) the user belongs to: what campaigns ask of them, and the
    #: new-session form's default unit; set by an organiser on the users page (issue 12, gap 8).
    #: No ON DELETE: units are retired, never deleted, and SQLite adds the column in place only
    #: with a constraint its reflection reads back (tests/shared/test_migrations.py)
    unit_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("units.id"))
    #: when the account was made
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    #: `sv`, `da` or `en`: the language of the e-mails the user gets (null: the inviting
    #: organiser's page language is used)
    language: so.Mapped[Optional[Language]] = so.mapped_column(_closed_set(Language, "language", 5))

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # What the login cookie holds: the user loader accepts it only while the version is current.
        return f"{self.id}:{self.session_version}"

    @property
    def is_organiser(self) -> bool:
        """Organisers see and manage every session."""
        return self.role == UserRole.ORGANISER


class ApiToken(Base):
    """A bearer token for REST and Socket.IO; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    #: surrogate key
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: the owner; the token acts with the owner's role
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: hex SHA-256 of the token (tokens are random, so a plain hash is enough)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    #: free text to tell tokens apart
    label: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    #: when it was made
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    #: when it last authenticated a request or a socket, to the minute (null: never)
    last_used_at: so.Mapped[Optional[dt.datetime]] = so.mapped_column()
    #: set when revoked; a revoked token answers 401 from then on
    revoked_at: so.Mapped[Optional[dt.datetime]] = so.mapped_column()

    user: so.Mapped[User] = so.relationship()


class OneTimeLink(Base):
    """A link that lets a user choose a password once (first run, invitation, reset)."""

    __tablename__ = "one_time_links"

    #: surrogate key
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: whose password the link sets
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: hex SHA-256 of the secret in the link
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    #: `first_run`, `invite` or `reset`
    purpose: so.Mapped[LinkPurpose] = so.mapped_column(_closed_set(LinkPurpose, "purpose", 20))
    #: the link stops working after this
    expires_at: so.Mapped[dt.datetime] = so.mapped_column()
    #: set when the link has been used; a used link never works again
    used_at: so.Mapped[Optional[dt.datetime]] = so.mapped_column()

    user: so.Mapped[User] = so.relationship()


class Guide(Base):
    """A discussion guide: the normalised document (see shared.guides) with stable item ids."""

    __tablename__ = "guides"

    #: short random public id
    id: so.Mapped[str] = so.mapped_column(sa.String(16), primary_key=True)
    #: the document's title, kept as a column for lists
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    #: `sv`, `da` or `en`
    language: so.Mapped[Language] = so.mapped_column(_closed_set(Language, "language", 5))
    #: the normalised document, items carrying their ids
    document: so.Mapped[dict[str, Any]] = so.mapped_column()
    #: file name of a built-in guide, so start-up installs each one once
    builtin_key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100), unique=True)
    #: who imported it; null for built-in guides
    owner_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: when it was imported
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    #: when its document last changed
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    #: 1 when created, +1 on every saved change of the document; a save names the version it was
    #: based on and is refused when another was saved in between (shared/library.py)
    version: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    #: when it was archived: left out of the new-session form, kept in the library; null while in use
    archived_at: so.Mapped[Optional[dt.datetime]] = so.mapped_column()


class Meeting(Base):
    """One live session of a guide. The row says what is on screen now (Claper's habit)."""

    __tablename__ = "meetings"

    #: short random public id
    id: so.Mapped[str] = so.mapped_column(sa.String(16), primary_key=True)
    #: the 6-character join code
    code: so.Mapped[str] = so.mapped_column(sa.String(6), unique=True)
    #: the unguessable key of the projector view and its socket credential
    projector_key: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    #: shown on every screen and in reports
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    #: region, kreds or forening that held the meeting
    unit: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    #: the guide it was made from; null once that guide is deleted
    guide_id: so.Mapped[Optional[str]] = so.mapped_column(
        sa.ForeignKey("guides.id", ondelete="SET NULL"), index=True
    )
    #: the guide document as it was when the session was made; later edits never change it
    guide_snapshot: so.Mapped[dict[str, Any]] = so.mapped_column()
    #: the guide's version the snapshot is of; null for sessions made before guides had versions
    #: whose snapshot was no longer the guide's document then
    guide_version: so.Mapped[Optional[int]] = so.mapped_column()
    #: `sv`, `da` or `en`: the meeting's language, which the projector and phones that have not
    #: chosen one follow; its guide's unless chosen when made (null only for rows a migration could
    #: not read, which then follow the snapshot's language)
    language: so.Mapped[Optional[Language]] = so.mapped_column(_closed_set(Language, "language", 5))
    #: who runs it
    facilitator_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: `waiting`, `live` or `ended`
    status: so.Mapped[MeetingStatus] = so.mapped_column(
        _closed_set(MeetingStatus, "status", 10), default=MeetingStatus.WAITING
    )
    #: index of the current item; null while waiting
    position: so.Mapped[Optional[int]] = so.mapped_column()
    #: id of the current item, so the vote guard needs no snapshot lookup
    current_item_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(40))
    #: phones may vote on the current item
    voting_open: so.Mapped[bool] = so.mapped_column(default=False)
    #: ids of the items voting was ever opened on: screens say "opens soon" before, "closed" after
    voting_opened_items: so.Mapped[list[str]] = so.mapped_column(sa.JSON(), default=list,
                                                                server_default=sa.text("'[]'"))
    #: ids of the items that were ever the current one, so a report can tell an item never reached
    #: from one the room passed without a vote (issue 12, defect 7); null for sessions held before
    #: it was recorded, whose report falls back to `voting_opened_items`
    shown_items: so.Mapped[Optional[list[str]]] = so.mapped_column(sa.JSON())
    #: the room may see the counts of the current item
    results_visible: so.Mapped[bool] = so.mapped_column(default=False)
    #: the projector's QR code, address and code while live: in a corner, large, or hidden
    join_display: so.Mapped[JoinDisplay] = so.mapped_column(
        _closed_set(JoinDisplay, "join_display", 10), default=JoinDisplay.CORNER, server_default="corner"
    )
    #: the console and the projector list an open question's comments by thumbs-up ("top ideas")
    #: rather than newest first; shared, so the projector follows the console (issue 11, section 3)
    comments_by_likes: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    #: the projector shows a closing summary ("Samlet refleksion") over the item (issue 11, section 5)
    summary_shown: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    #: the index of the section the summary is of; None while `summary_shown` means the whole guide
    summary_section: so.Mapped[Optional[int]] = so.mapped_column()
    #: bumped by every change of status, position, voting or visibility; processes poll it
    state_version: so.Mapped[int] = so.mapped_column(default=0)
    #: the current item's countdown in whole seconds: the item's suggested duration, else a default
    #: (shared/meeting/timer.py); reset whenever the item changes
    timer_duration_s: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    #: milliseconds left on the countdown when it last stopped or started (every process computes
    #: the time left from this and `timer_started_at`, so a reload or a second console agree)
    timer_remaining_ms: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    #: when the countdown was last started; null while it is paused or reset
    timer_started_at: so.Mapped[Optional[dt.datetime]] = so.mapped_column()
    #: the projector shows the countdown
    timer_visible: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    #: new comments wait for the facilitator's approval before the room sees them (issue 11, point 4);
    #: the default comes from the organiser's settings
    approve_comments: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    #: when it was made
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    #: when it went live
    started_at: so.Mapped[Optional[dt.datetime]] = so.mapped_column()
    #: when it ended
    ended_at: so.Mapped[Optional[dt.datetime]] = so.mapped_column()
    #: when its personal traces were removed (comments, the phones' tokens) keeping its counts and
    #: conclusions, so that published roll-ups still add it up (issue 12, defect 2); null: never
    anonymised_at: so.Mapped[Optional[dt.datetime]] = so.mapped_column()
    #: recorded after the fact from a dialogue held on paper (issue 11): created ended, never live
    entered_by_hand: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    #: the day a dialogue held on paper took place; reports date such a session by it
    held_on: so.Mapped[Optional[dt.date]] = so.mapped_column()
    #: how many took part as stated by whoever entered a paper session; hands may not exceed it
    stated_participants: so.Mapped[Optional[int]] = so.mapped_column()

    facilitator: so.Mapped[Optional[User]] = so.relationship()
    guide: so.Mapped[Optional[Guide]] = so.relationship()


class Participant(Base):
    """An anonymous phone in one session: a random token, nothing personal."""

    __tablename__ = "participants"

    #: short random public id
    id: so.Mapped[str] = so.mapped_column(sa.String(16), primary_key=True)
    #: the session joined
    meeting_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    #: hex SHA-256 of the token the phone keeps to come back as the same participant
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    #: when the phone first joined
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class Vote(Base):
    """One participant's choice on one item; a second vote replaces the first."""

    __tablename__ = "votes"
    __table_args__ = (
        sa.UniqueConstraint("participant_id", "item_id", name="uq_votes_participant_item"),
        sa.Index("ix_votes_meeting_item", "meeting_id", "item_id"),
    )

    #: surrogate key
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: the session (denormalised so counts need no join)
    meeting_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    #: who voted
    participant_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("participants.id", ondelete="CASCADE"))
    #: the item's stable id from the guide snapshot
    item_id: so.Mapped[str] = so.mapped_column(sa.String(40))
    #: `yes`, `no` or `unsure`
    choice: so.Mapped[VoteChoice] = so.mapped_column(_closed_set(VoteChoice, "choice", 10))
    #: when the vote was last cast or changed
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class HandCount(Base):
    """Counted hands for one choice on one item: a paper session's tally or a live show of hands.

    Kept apart from the phone votes so reports can show the split; every reader sums both through
    `shared.meeting.read.counts`."""

    __tablename__ = "hand_counts"

    #: the session
    meeting_id: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    #: the item's stable id from the guide snapshot
    item_id: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    #: `yes`, `no` or `unsure`
    choice: so.Mapped[VoteChoice] = so.mapped_column(_closed_set(VoteChoice, "choice", 10), primary_key=True)
    #: how many hands; a row with 0 is kept as said, so "nobody" differs from "not counted"
    count: so.Mapped[int] = so.mapped_column()
    #: when it was last set
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class Comment(Base):
    """A participant's answer to a prompt, stored as plain text and escaped wherever shown."""

    __tablename__ = "comments"
    __table_args__ = (
        sa.Index("ix_comments_meeting_item", "meeting_id", "item_id"),
        sa.Index("ix_comments_participant_created", "participant_id", "created_at"),
    )

    #: surrogate key, also the public comment id
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: the session
    meeting_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    #: who wrote it
    participant_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("participants.id", ondelete="CASCADE"))
    #: the item's stable id
    item_id: so.Mapped[str] = so.mapped_column(sa.String(40))
    #: the text, at most 1,000 characters, never HTML
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    #: hidden by the facilitator: gone from the projector, phones and reports
    hidden: so.Mapped[bool] = so.mapped_column(default=False)
    #: pinned by the facilitator: shown first
    pinned: so.Mapped[bool] = so.mapped_column(default=False)
    #: false while it waits for the facilitator's approval (sessions that approve first): only the
    #: facilitators and its author see it then; comments written without approval are approved
    approved: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    #: when it was written
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class CommentLike(Base):
    """One phone's thumbs-up on another phone's comment (issue 11, section 3): at most one per
    comment per phone (the key), taken back by deleting the row."""

    __tablename__ = "comment_likes"
    __table_args__ = (sa.Index("ix_comment_likes_participant", "participant_id"),)

    #: the comment liked
    comment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"),
                                                  primary_key=True)
    #: the phone that liked it
    participant_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("participants.id", ondelete="CASCADE"),
                                                      primary_key=True)
    #: when
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class Conclusion(Base):
    """The group's conclusion on one item, written by the facilitator."""

    __tablename__ = "conclusions"

    #: the session
    meeting_id: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    #: the item's stable id
    item_id: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    #: the conclusion as written
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    #: when it was last saved
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class ServerProcess(Base):
    """A running `dialogrum serve` process; its heartbeat tells which connections are live."""

    __tablename__ = "server_processes"

    #: random id chosen at start-up
    id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    #: when it started
    started_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    #: refreshed every few seconds; a process silent for longer is dead
    heartbeat_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow, index=True)


class Connection(Base):
    """One open Socket.IO connection, so participant counts are right across processes."""

    __tablename__ = "connections"
    __table_args__ = (sa.Index("ix_connections_meeting_role", "meeting_id", "role"),)

    #: the Socket.IO session id
    sid: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    #: the process holding the socket
    process_id: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("server_processes.id", ondelete="CASCADE"), index=True
    )
    #: the session it watches
    meeting_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    #: `participant`, `facilitator` or `projector`
    role: so.Mapped[ConnectionRole] = so.mapped_column(_closed_set(ConnectionRole, "role", 12))
    #: the participant behind a phone's socket
    participant_id: so.Mapped[Optional[str]] = so.mapped_column(
        sa.ForeignKey("participants.id", ondelete="CASCADE")
    )
    #: when it connected
    connected_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class Setting(Base):
    """A deployment-wide setting chosen by an organiser (e.g. comment retention)."""

    __tablename__ = "settings"

    #: setting name
    key: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    #: JSON value
    value: so.Mapped[dict[str, Any]] = so.mapped_column()


class Unit(Base):
    """A region, kreds or forening that holds sessions; organisers keep the list."""

    __tablename__ = "units"

    #: surrogate key
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: the unit's name as shown in lists and written on its sessions
    name: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    #: `region`, `kreds`, `forening` or `other`
    kind: so.Mapped[UnitKind] = so.mapped_column(_closed_set(UnitKind, "kind", 20), default=UnitKind.REGION)
    #: retired units stay on old sessions but are no longer offered
    active: so.Mapped[bool] = so.mapped_column(default=True)
    #: when it was added
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class PublicRollup(Base):
    """A revocable public read-only link to a guide's roll-up ("följ kollegornas dialoger")."""

    __tablename__ = "public_rollups"

    #: surrogate key
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: the guide whose roll-up is shown
    guide_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("guides.id", ondelete="CASCADE"), index=True)
    #: the unguessable key in the link (shown to organisers again, so kept in clear like the projector key)
    key: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    #: whether visible comment texts are shown (off unless the organiser chooses it)
    include_comments: so.Mapped[bool] = so.mapped_column(default=False)
    #: the organiser who published it
    created_by: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: when it was published
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    #: set when revoked; a revoked link answers 404
    revoked_at: so.Mapped[Optional[dt.datetime]] = so.mapped_column()


class MailOutbox(Base):
    """An e-mail to send (shared/mail.py): added in the transaction of the change it tells about,
    so it exists exactly when that change committed; each server process (and `dialogrum mail
    send-pending`) claims due rows with a guarded UPDATE and sends them."""

    __tablename__ = "mail_outbox"
    __table_args__ = (sa.Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    #: surrogate key
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: what the mail is about: `invite`, `reset`, `reminder`, ...
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    #: the recipient's address
    to_addr: so.Mapped[str] = so.mapped_column(sa.String(254))
    #: the user it was written for, if any (the users page shows their mail's status)
    user_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"),
                                                         index=True)
    #: the language it is written in
    language: so.Mapped[Language] = so.mapped_column(_closed_set(Language, "language", 5))
    #: the subject line
    subject: so.Mapped[str] = so.mapped_column(sa.String(300))
    #: the plain-text body; emptied once sent (it may carry a one-time link's secret)
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    #: `queued` (waiting for its next attempt), `sending` (claimed), `sent` or `failed` (gave up)
    status: so.Mapped[MailStatus] = so.mapped_column(_closed_set(MailStatus, "status", 10),
                                                     default=MailStatus.QUEUED)
    #: attempts made so far
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    #: a queued mail is due from then on
    next_attempt_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    #: the claim of the sender sending it (random)
    claim: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    #: until when that claim holds; a sender that died mid-send leaves the row to another after it
    claimed_until: so.Mapped[Optional[dt.datetime]] = so.mapped_column()
    #: what the SMTP server (or the connection to it) said at the last failed attempt
    last_error: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    #: when it was queued
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    #: when the SMTP server accepted it
    sent_at: so.Mapped[Optional[dt.datetime]] = so.mapped_column()


class Campaign(Base):
    """A dialogue campaign (issue 12, gap 8): an organiser asks units to hold a guide by a deadline
    ("every region runs the same dialogue"); the rules are in shared/campaigns.py."""

    __tablename__ = "campaigns"

    #: surrogate key
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: the guide asked for; a session of any version of it counts
    guide_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("guides.id", ondelete="CASCADE"), index=True)
    #: a name of its own ("Förtroendemannadialogen 2027"); empty: the guide's title is shown
    title: so.Mapped[str] = so.mapped_column(sa.String(300), default="", server_default="")
    #: what the organiser tells the units asked, shown to their facilitators
    message: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    #: the first day a session counts; null: every session of the guide counts
    starts_on: so.Mapped[Optional[dt.date]] = so.mapped_column()
    #: the last day asked for; a unit that has not held it after this day is overdue
    deadline: so.Mapped[dt.date] = so.mapped_column()
    #: the organiser who made it
    created_by: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: when it was made
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    #: when it was last changed
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    #: when it was closed: no longer shown to facilitators, and sessions after it no longer count
    closed_at: so.Mapped[Optional[dt.datetime]] = so.mapped_column()
    #: when reminders were last sent to the units that had not held it yet
    reminded_at: so.Mapped[Optional[dt.datetime]] = so.mapped_column()

    guide: so.Mapped[Guide] = so.relationship()
    units: so.Mapped[list[Unit]] = so.relationship(secondary="campaign_units", order_by="Unit.name")


class CampaignUnit(Base):
    """One unit a campaign asks to hold its guide."""

    __tablename__ = "campaign_units"

    #: the campaign
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
                                                   primary_key=True)
    #: the unit asked
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), primary_key=True,
                                               index=True)
