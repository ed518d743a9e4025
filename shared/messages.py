"""Human texts for the error codes, translated at the moment they are shown."""

from __future__ import annotations

from flask import has_request_context
from flask_babel import lazy_gettext as _l

MESSAGES = {
    "unauthorized": _l("Sign in or send a valid API token."),
    "forbidden": _l("You may not do this with this session."),
    "not_found": _l("Nothing was found at this address."),
    "unknown_session": _l("There is no session with this code. Check the code and try again."),
    "unknown_item": _l("This item is not part of the session's guide."),
    "unknown_comment": _l("This comment does not exist in this session."),
    "wrong_state": _l("This action does not fit the session's current state."),
    "session_ended": _l("This session has ended."),
    "voting_closed": _l("Voting is closed for this item."),
    "not_current_item": _l("This item is no longer on screen."),
    "comments_closed": _l("Comments are not taken on this item."),
    "conflict": _l("The session changed at the same moment. Try again."),
    "own_comment": _l("You cannot give a thumbs-up to your own comment."),
    "too_large": _l("The request is too large."),
    "invalid": _l("The request is not valid."),
    "invalid_choice": _l("This is not one of the choices."),
    "empty": _l("Write something first."),
    # The limit differs by field (comments 1,000, conclusions 10,000): the detail names it.
    "too_long": _l("The text is too long."),
    "invalid_guide": _l("The guide document is not valid."),
    "invalid_count": _l("The counts are not valid."),
    "no_choices": _l("This item has nothing to vote on, so no hands are counted."),
    "version_conflict": _l("Somebody else saved this guide in the meantime. Reload it and make your changes again."),
    "guide_in_use": _l("Sessions used this guide, so it cannot be deleted. Archive it instead."),
    "rate_limited": _l("Too many requests. Wait a moment and try again."),
    "server_error": _l("Something went wrong on the server. Try again."),
    "unavailable": _l("The server cannot take this right now. Try again in a moment."),
}


def message_for(code: str, detail: str | None = None) -> str:
    """The translated text for an error code, with a detail (e.g. the validator's place) appended."""
    base = MESSAGES.get(code)
    text = str(base) if base is not None and has_request_context() else (detail or code)
    if detail and detail != code and base is not None and has_request_context():
        text = f"{text} ({detail})"
    return text
