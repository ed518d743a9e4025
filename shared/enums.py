"""The closed sets of values: statuses, roles, choices, kinds and languages.

Stored as VARCHAR with a CHECK constraint named `ck_<table>_<column>` on SQLite and PostgreSQL alike
(docs/architecture.md#closed-sets-of-values). A StrEnum member equals its string, so comparisons
with "live" keep working; new code uses the members. Adding a value needs a migration.
"""

from __future__ import annotations

import enum


class MeetingStatus(enum.StrEnum):
    """Where a session is in its life."""

    WAITING = "waiting"
    LIVE = "live"
    ENDED = "ended"


class UserRole(enum.StrEnum):
    """What a user may see and do."""

    ORGANISER = "organiser"
    FACILITATOR = "facilitator"


class ConnectionRole(enum.StrEnum):
    """Who is behind an open socket."""

    PARTICIPANT = "participant"
    FACILITATOR = "facilitator"
    PROJECTOR = "projector"


class VoteChoice(enum.StrEnum):
    """A participant's answer to a consideration."""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


class UnitKind(enum.StrEnum):
    """What sort of unit holds sessions."""

    REGION = "region"
    KREDS = "kreds"
    FORENING = "forening"
    OTHER = "other"


class LinkPurpose(enum.StrEnum):
    """Why a one-time link was made."""

    FIRST_RUN = "first_run"
    INVITE = "invite"
    RESET = "reset"


class MailStatus(enum.StrEnum):
    """Where an e-mail in the outbox is (shared/mail.py)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class JoinDisplay(enum.StrEnum):
    """How the projector shows the way in (QR code, address, code) once the session is live."""

    CORNER = "corner"
    LARGE = "large"
    HIDDEN = "hidden"


class Language(enum.StrEnum):
    """The languages of guides, labels and pages."""

    SV = "sv"
    DA = "da"
    EN = "en"


#: The values as plain strings, in the contract's order (for payloads and loops).
ROLES = tuple(r.value for r in UserRole)
CHOICES = tuple(c.value for c in VoteChoice)
