"""What happened, as the meeting rules report it: the events a committed unit of work publishes.

Events are plain values. The realtime hub turns them into Socket.IO messages for each audience;
nothing else needs to know how a room is told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StateChanged:
    """The session's status, position, voting or visibility changed; `state` is the new state
    object, computed once inside the transaction that changed it."""

    meeting_id: str
    version: int
    state: dict[str, Any]


@dataclass(frozen=True)
class VotesChanged:
    """A vote on an item was stored or replaced: its counts must be sent again (coalesced)."""

    meeting_id: str
    item_id: str


@dataclass(frozen=True)
class CommentAdded:
    """A participant's comment was stored; `comment` is its wire form."""

    meeting_id: str
    comment: dict[str, Any]


@dataclass(frozen=True)
class CommentModerated:
    """A comment was hidden, shown, pinned or unpinned; `comment` is its wire form after it."""

    meeting_id: str
    comment: dict[str, Any]


@dataclass(frozen=True)
class CommentApproved:
    """A comment that waited for approval was approved: the room hears of it as a new comment
    (shared/meeting/moderation.py); `comment` is its wire form after it."""

    meeting_id: str
    comment: dict[str, Any]


@dataclass(frozen=True)
class ConclusionSaved:
    """The group's conclusion on an item was saved or cleared."""

    meeting_id: str
    conclusion: dict[str, Any]


@dataclass(frozen=True)
class LikesChanged:
    """A thumbs-up on a comment of an item was given or taken back: the item's like counts must be
    sent again (coalesced, like votes)."""

    meeting_id: str
    item_id: str


@dataclass(frozen=True)
class SessionDeleted:
    """A session and its rows were deleted: its sockets must be let go."""

    meeting_id: str


@dataclass(frozen=True)
class JoinWarning:
    """One client address has made far more participants than the room holds (shared/joining.py):
    `warning` is `{"from_one_address", "participants"}`, for the facilitators."""

    meeting_id: str
    warning: dict[str, int]


Event = (StateChanged | VotesChanged | CommentAdded | CommentModerated | ConclusionSaved | SessionDeleted
         | JoinWarning | CommentApproved | LikesChanged)
