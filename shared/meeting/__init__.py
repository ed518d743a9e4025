"""The meeting rules: the one place that changes and reads meeting data.

Sockets, REST, pages and the CLI call these functions and only translate between their wire
format and this package (`from shared import meeting as rules`). It is split by job:

* `commands`: every change of a session (create, control, join, comments, moderation,
  conclusions). Commands take the `Work` of a unit of work (shared/uow.py) and record the events
  they cause; the unit of work commits once and publishes them after the commit.
* `votes`: the one vote function, lean because it runs a thousand times a second.
* `read`: the read models and the serialisers of the wire payloads.
* `snapshot`: the guide snapshot a session runs with (immutable, cached per process).
* `ids`: ids, join codes and token hashes.

Who may manage a session is `shared.access`; who is connected is `shared.presence`.
"""

from shared.access import may_manage
from shared.ids import CODE_ALPHABET, CODE_LENGTH, hash_token, new_code, normalise_code
from shared.meeting.commands import (
    ACTIONS,
    MAX_COMMENT,
    MAX_CONCLUSION,
    add_comment,
    admit,
    control,
    create_meeting,
    join,
    moderate,
    post_comment,
    set_conclusion,
)
from shared.meeting.hands import CountsError, create_paper_session, hand_counts, set_hands
from shared.meeting.read import (
    MEETING_COLUMNS,
    comment_payload,
    comments_by_id,
    comments_for,
    conclusions,
    counts,
    empty_counts,
    find_by_code,
    find_by_projector_key,
    get_meeting,
    me,
    me_for_all,
    meeting_language,
    meeting_rows,
    public_item,
    results,
    results_payload,
    state,
    state_versions,
    voters_payload,
)
from shared.meeting.snapshot import Snapshot, snapshot
from shared.meeting.votes import cast_vote, check_rate, check_vote
from shared.presence import participant_count

__all__ = [
    "ACTIONS",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "MAX_COMMENT",
    "MAX_CONCLUSION",
    "MEETING_COLUMNS",
    "CountsError",
    "Snapshot",
    "add_comment",
    "admit",
    "cast_vote",
    "check_rate",
    "check_vote",
    "comment_payload",
    "comments_by_id",
    "comments_for",
    "conclusions",
    "control",
    "counts",
    "create_meeting",
    "create_paper_session",
    "empty_counts",
    "find_by_code",
    "find_by_projector_key",
    "get_meeting",
    "hand_counts",
    "hash_token",
    "join",
    "may_manage",
    "me",
    "me_for_all",
    "meeting_language",
    "meeting_rows",
    "moderate",
    "new_code",
    "normalise_code",
    "participant_count",
    "post_comment",
    "public_item",
    "results",
    "results_payload",
    "set_conclusion",
    "set_hands",
    "snapshot",
    "state",
    "state_versions",
    "voters_payload",
]
