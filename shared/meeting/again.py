"""Meetings run again (issue 10, section 2) and what the new-session form starts with (issue 12,
defect 5).

"Run again" makes a new waiting session from an old one: the same guide (its current version),
unit, title and language, with a new join code and projector key, through `create_meeting`, the
one rule that creates sessions. The form's defaults are the facilitator's own habit: the guide
and unit of their last session, else a guide in their language.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from shared.errors import DialogrumError
from shared.meeting.commands import create_meeting
from shared.meeting.read import get_meeting
from shared.models import Guide, Meeting
from shared.uow import Work

_meetings = Meeting.__table__
_guides = Guide.__table__

#: The messages of the refusals when the old session's guide is gone or archived (pages say it
#: in the reader's language, by the code).
GUIDE_GONE = "the guide of this session was deleted"
GUIDE_ARCHIVED = "the guide of this session is archived; bring it back in the guide library first"


def run_again(work: Work, meeting_id: object, *, facilitator_id: int | None) -> str:
    """A new waiting session like `meeting_id` (same guide, unit, title and language; new code and
    projector key), run by `facilitator_id`; returns its id. Refused with `not_found` (GUIDE_GONE)
    when the guide was deleted and `conflict` (GUIDE_ARCHIVED) when it is archived, as the
    new-session form no longer offers it: the old snapshot is not copied, because "again" means
    the guide as it is now."""
    old = get_meeting(work.conn, meeting_id)
    guide = None if old.guide_id is None else work.conn.execute(
        sa.select(_guides.c.archived_at).where(_guides.c.id == old.guide_id)).first()
    if guide is None:
        raise DialogrumError("not_found", GUIDE_GONE)
    if guide.archived_at is not None:
        raise DialogrumError("conflict", GUIDE_ARCHIVED)
    return create_meeting(work, guide_id=old.guide_id, title=old.title, unit=old.unit,
                          facilitator_id=facilitator_id, language=old.language)


def form_defaults(conn: sa.Connection, *, facilitator_id: int, language: str,
                  guides: Sequence[tuple[str, str]], units: Sequence[str] | None,
                  own_unit: str | None = None, asked_guide: str | None = None) -> tuple[str | None, str]:
    """The guide and unit the new-session form starts with.

    `guides` are the offered (id, language) pairs in the form's order; `units` the offered unit
    names, or None when the unit is free text. The guide: the one a campaign asks the facilitator's
    unit to hold and it has not held yet (`asked_guide`, from `campaigns.asked_guide`) when it is
    offered, else the one of this facilitator's latest
    session that is still offered, else the first offered guide in `language` (the page's), else
    None (the form's first). The unit: the one the facilitator belongs to (`own_unit`, issue 12,
    gap 8) when offered, else the latest session's, when still offered, else the only unit there
    is, else none."""
    offered = {gid for gid, _lang in guides}
    latest = conn.execute(
        sa.select(_meetings.c.guide_id, _meetings.c.unit)
        .where(_meetings.c.facilitator_id == facilitator_id)
        .order_by(_meetings.c.created_at.desc(), _meetings.c.id)
        .limit(20)
    ).all()
    guide = asked_guide if asked_guide in offered else None
    if guide is None:  # no campaign waiting for this unit: the facilitator's habit
        guide = next((row.guide_id for row in latest if row.guide_id in offered), None)
    if guide is None:
        guide = next((gid for gid, lang in guides if lang == language), None)
    if own_unit and (units is None or own_unit in units):
        return guide, own_unit
    unit = latest[0].unit if latest else None
    # A last session without a unit is a habit too; a unit no longer offered is not.
    if unit is None or (unit and units is not None and unit not in units):
        unit = units[0] if units and len(units) == 1 else ""
    return guide, unit
