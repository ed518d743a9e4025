"""The one exception type of the meeting rules, carrying the contract's error codes."""

from __future__ import annotations

#: HTTP status of each error code (REST answers with it; sockets send only the code).
STATUS = {
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "unknown_session": 404,
    "unknown_item": 404,
    "unknown_comment": 404,
    "wrong_state": 409,
    "session_ended": 409,
    "voting_closed": 409,
    "not_current_item": 409,
    "comments_closed": 409,
    "conflict": 409,
    # A thumbs-up on one's own comment (issue 11, section 3).
    "own_comment": 409,
    "too_large": 413,
    "invalid": 422,
    "invalid_choice": 422,
    "empty": 422,
    "too_long": 422,
    "invalid_guide": 422,
    # Counted hands or a paper session's figures that are no whole number, too large, or more
    # hands than the stated participants (shared/meeting/hands.py).
    "invalid_count": 422,
    # Hands counted on an item that has nothing to vote on.
    "no_choices": 409,
    # A guide saved on top of a version somebody else replaced in the meantime (shared/library.py).
    "version_conflict": 409,
    # A guide that sessions used is archived, never deleted.
    "guide_in_use": 409,
    # A guide an open campaign asks units to hold is not deleted: close the campaign first.
    "guide_in_campaign": 409,
    "rate_limited": 429,
    # A store the request needs does not answer (the rate limits' Redis): told, never a hang.
    "unavailable": 503,
}


class DialogrumError(Exception):
    """A refusal with a stable machine `code` and a human `message` (already translated or plain)."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message or code

    @property
    def status(self) -> int:
        """The HTTP status the REST API answers with."""
        return STATUS.get(self.code, 400)
