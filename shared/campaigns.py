"""Dialogue campaigns (issue 12, gap 8): an organiser asks units to hold a guide by a deadline,
and everyone can follow who has held it ("Först ut var Region Stockholm", seed 000) and who has
not yet.

The rules, written once; pages, the REST API and the public page only translate:

- A campaign names a guide, the units asked, an optional first day and a deadline, and a message
  to the units. It can be edited, closed and reopened.
- A unit *has held* the campaign when an ended session of the guide (any version of it: every
  version keeps the guide's id) with that unit exists, dated on or after the first day, and, once
  the campaign is closed, no later than the day it was closed. A session is dated by the day it was
  held on paper, else the day it started, in the organisation's time zone. Held after the deadline
  still counts, marked as late: the dialogue took place.
- Held units come in the order of their first such session; the others are listed as *not yet*,
  never left out, and as overdue once the deadline has passed.
- A facilitator belongs to a unit (`User.unit_id`, set by an organiser) and is shown the open
  campaigns that ask it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from shared.errors import DialogrumError
from shared.models import Campaign, CampaignUnit, Guide, Meeting, MeetingStatus, Unit, User, UserRole, utcnow
from shared.text import clean

MAX_TITLE = 300
MAX_MESSAGE = 5000


# -- who belongs to which unit -----------------------------------------------------------------


def set_user_unit(db: so.Session, user_id: int, unit_id: int | None) -> User:
    """Put a user in a unit (None: in none). A retired unit keeps its members but takes no new ones."""
    user = db.get(User, user_id)
    if user is None:
        raise DialogrumError("not_found")
    if unit_id is not None:
        unit = db.get(Unit, unit_id)
        if unit is None:
            raise DialogrumError("invalid", "unknown unit")
        if not unit.active and user.unit_id != unit.id:
            raise DialogrumError("invalid", "the unit is retired")
    user.unit_id = unit_id
    db.flush()
    return user


def unit_of(db: so.Session, user: Any) -> Unit | None:
    """The unit `user` belongs to, or None."""
    unit_id = getattr(user, "unit_id", None)
    return db.get(Unit, unit_id) if unit_id is not None else None


# -- writing -----------------------------------------------------------------------------------


def _day(value: object, name: str, *, required: bool) -> dt.date | None:
    if value is None or value == "":
        if required:
            raise DialogrumError("invalid", f"{name} is required")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise DialogrumError("invalid", f"{name} must be a day (YYYY-MM-DD)")


def save_campaign(db: so.Session, actor: User, *, guide_id: object, unit_ids: object, deadline: object,
                  starts_on: object = None, title: object = "", message: object = "",
                  campaign_id: int | None = None) -> Campaign:
    """Create a campaign, or replace what an existing one (`campaign_id`) asks.

    Refused with `invalid` (naming the field) when the guide or a unit is unknown, no unit is
    asked, the deadline is missing or comes before the first day, or a text is too long.
    """
    campaign = None
    if campaign_id is not None:
        campaign = db.get(Campaign, campaign_id)
        if campaign is None:
            raise DialogrumError("not_found")
    if not isinstance(guide_id, str) or not guide_id or db.get(Guide, guide_id) is None:
        raise DialogrumError("invalid", "guide_id: unknown guide")
    try:
        wanted = {int(u) for u in (unit_ids or ())}  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise DialogrumError("invalid", "unit_ids: whole numbers") from None
    if not wanted:
        raise DialogrumError("invalid", "unit_ids: ask at least one unit")
    units = list(db.scalars(sa.select(Unit).where(Unit.id.in_(wanted))))
    if len(units) != len(wanted):
        raise DialogrumError("invalid", "unit_ids: unknown unit")
    end = _day(deadline, "deadline", required=True)
    start = _day(starts_on, "starts_on", required=False)
    if start is not None and end is not None and start > end:
        raise DialogrumError("invalid", "starts_on: the first day comes after the deadline")
    title = clean(title) if isinstance(title, str) else ""
    message = clean(message) if isinstance(message, str) else ""
    if len(title) > MAX_TITLE:
        raise DialogrumError("invalid", f"title: at most {MAX_TITLE} characters")
    if len(message) > MAX_MESSAGE:
        raise DialogrumError("invalid", f"message: at most {MAX_MESSAGE} characters")
    if campaign is None:
        campaign = Campaign(created_by=actor.id)
        db.add(campaign)
    campaign.guide_id = guide_id
    campaign.title = title
    campaign.message = message
    campaign.starts_on = start
    campaign.deadline = end
    campaign.updated_at = utcnow()
    campaign.units = sorted(units, key=lambda u: u.name.lower())
    db.flush()
    return campaign


def close_campaign(db: so.Session, campaign_id: int, *, closed: bool = True) -> Campaign:
    """Close a campaign (facilitators no longer see it; later sessions no longer count) or reopen it."""
    campaign = get_campaign(db, campaign_id)
    campaign.closed_at = (campaign.closed_at or utcnow()) if closed else None
    campaign.updated_at = utcnow()
    db.flush()
    return campaign


# -- reading -----------------------------------------------------------------------------------


def get_campaign(db: so.Session, campaign_id: object) -> Campaign:
    """One campaign, or `not_found`."""
    campaign = db.get(Campaign, campaign_id) if isinstance(campaign_id, int) else None
    if campaign is None:
        raise DialogrumError("not_found")
    return campaign


def list_campaigns(db: so.Session) -> list[Campaign]:
    """Every campaign: open ones first, by deadline, then closed ones, newest first."""
    return list(db.scalars(sa.select(Campaign).order_by(Campaign.closed_at.is_not(None), Campaign.deadline,
                                                        Campaign.id)))


def for_guide(db: so.Session, guide_id: str) -> list[Campaign]:
    """The campaigns of one guide, open ones first (the roll-up and the public page list them)."""
    return list(db.scalars(sa.select(Campaign).where(Campaign.guide_id == guide_id)
                           .order_by(Campaign.closed_at.is_not(None), Campaign.deadline.desc(), Campaign.id)))


def for_user(db: so.Session, user: Any) -> list[Campaign]:
    """The open campaigns that ask the unit `user` belongs to, the nearest deadline first."""
    unit_id = getattr(user, "unit_id", None)
    if unit_id is None:
        return []
    return list(db.scalars(sa.select(Campaign).join(CampaignUnit, CampaignUnit.campaign_id == Campaign.id)
                           .where(CampaignUnit.unit_id == unit_id, Campaign.closed_at.is_(None))
                           .order_by(Campaign.deadline, Campaign.id)))


def asked_guide(db: so.Session, user: Any, tz: dt.tzinfo = dt.UTC, *, today: dt.date | None = None) -> str | None:
    """The guide the new-session form starts with for `user` because of a campaign: that of the
    open campaign, nearest deadline first, that asks the user's unit and that the unit has not held
    yet (issue 12 polish, point 5). None when there is none: the facilitator's habit decides then.
    A campaign the unit has held no longer steers the form, so its next session is its own choice."""
    unit_id = getattr(user, "unit_id", None)
    for campaign in for_user(db, user):
        if any(n.unit.id == unit_id for n in progress(db, campaign, tz, today=today).not_yet):
            return campaign.guide_id
    return None


def name(campaign: Campaign) -> str:
    """What a campaign is called: its own title, else its guide's."""
    return campaign.title or (campaign.guide.title if campaign.guide else "")


def held_on(meeting: Meeting, tz: dt.tzinfo = dt.UTC) -> dt.date:
    """The day a session took place in `tz`: the day entered for a paper session, else the day it
    started (ended, made: for sessions that never started)."""
    if meeting.held_on is not None:
        return meeting.held_on
    when = meeting.started_at or meeting.ended_at or meeting.created_at
    return when.astimezone(tz).date()


@dataclass
class Held:
    """A unit that has held the campaign: its first counting session, and how many there were."""

    unit: Unit
    first_on: dt.date
    meeting: Meeting
    sessions: int
    late: bool


@dataclass
class NotYet:
    """A unit asked that has not held the campaign yet."""

    unit: Unit
    overdue: bool


@dataclass
class Progress:
    """Where a campaign stands: held (in order of their first session) and not yet."""

    campaign: Campaign
    today: dt.date
    held: list[Held] = field(default_factory=list)
    not_yet: list[NotYet] = field(default_factory=list)

    @property
    def overdue(self) -> list[NotYet]:
        """The units not yet held whose deadline has passed."""
        return [n for n in self.not_yet if n.overdue]

    @property
    def past_deadline(self) -> bool:
        """The deadline was yesterday or before."""
        return self.today > self.campaign.deadline


def progress(db: so.Session, campaign: Campaign, tz: dt.tzinfo = dt.UTC, *, today: dt.date | None = None) -> Progress:
    """Which units asked have held the campaign, in order of their first session, and which have
    not yet (overdue after the deadline). Units are matched by name, the way sessions record
    them (`Meeting.unit`), ignoring case."""
    today = today or utcnow().astimezone(tz).date()
    units = list(campaign.units)
    by_name = {u.name.strip().lower(): u for u in units}
    result = Progress(campaign=campaign, today=today)
    if not by_name:
        return result
    closed_on = campaign.closed_at.astimezone(tz).date() if campaign.closed_at else None
    meetings = db.scalars(sa.select(Meeting).where(
        Meeting.guide_id == campaign.guide_id, Meeting.status == MeetingStatus.ENDED,
        sa.func.lower(sa.func.trim(Meeting.unit)).in_(list(by_name))))
    firsts: dict[int, tuple[dt.date, dt.datetime, Meeting]] = {}
    counted: dict[int, int] = {}
    for meeting in meetings:
        day = held_on(meeting, tz)
        if campaign.starts_on is not None and day < campaign.starts_on:
            continue
        if closed_on is not None and day > closed_on:
            continue
        unit = by_name[meeting.unit.strip().lower()]
        counted[unit.id] = counted.get(unit.id, 0) + 1
        # Same day: the one that started first (a paper session counts from the start of its day).
        key = (day, meeting.started_at or meeting.created_at, meeting)
        if unit.id not in firsts or key[:2] < firsts[unit.id][:2]:
            firsts[unit.id] = key
    for unit_id, (day, _when, meeting) in sorted(firsts.items(), key=lambda kv: (kv[1][0], kv[1][1])):
        unit = next(u for u in units if u.id == unit_id)
        result.held.append(Held(unit=unit, first_on=day, meeting=meeting, sessions=counted[unit_id],
                                late=day > campaign.deadline))
    for unit in sorted(units, key=lambda u: u.name.lower()):
        if unit.id not in firsts:
            result.not_yet.append(NotYet(unit=unit, overdue=today > campaign.deadline))
    return result


def facilitators_not_yet(db: so.Session, prog: Progress) -> list[User]:
    """The active users who belong to a unit that has not held the campaign yet: whom a reminder
    goes to."""
    ids = [n.unit.id for n in prog.not_yet]
    if not ids:
        return []
    return list(db.scalars(sa.select(User).where(User.unit_id.in_(ids), User.active.is_(True),
                                                 User.role.in_([UserRole.FACILITATOR, UserRole.ORGANISER]))
                           .order_by(User.email)))


def as_json(prog: Progress, *, may_see: Any = None) -> dict[str, Any]:
    """The REST API's campaign object with its progress. `may_see(meeting)` says whether the caller
    may see a held unit's first session; its id is given only then."""
    c = prog.campaign
    return {
        "id": c.id, "title": name(c), "guide": {"id": c.guide_id, "title": c.guide.title if c.guide else ""},
        "message": c.message, "starts_on": c.starts_on.isoformat() if c.starts_on else None,
        "deadline": c.deadline.isoformat(), "status": "closed" if c.closed_at else "open",
        "units": [u.name for u in c.units],
        "held": [{"unit": h.unit.name, "first_held_on": h.first_on.isoformat(), "sessions": h.sessions,
                  "late": h.late,
                  "session_id": h.meeting.id if may_see is None or may_see(h.meeting) else None}
                 for h in prog.held],
        "not_yet": [{"unit": n.unit.name, "overdue": n.overdue} for n in prog.not_yet],
    }


# -- reminders (issue 12, gap 9) -----------------------------------------------------------------


def reminder_mail(campaign: Campaign, *, unit: str, lang: str, url: str, overdue: bool,
                  recipient: str = "") -> tuple[str, str]:
    """Subject and body of a reminder to a unit that has not held the campaign yet, in `lang`:
    what it is asked, by when, the organiser's message, and the link to start a session."""
    from flask_babel import force_locale, format_date
    from flask_babel import gettext as _

    with force_locale(lang):
        deadline = format_date(campaign.deadline, "long")
        title = name(campaign)
        subject = _("Reminder: %(campaign)s by %(deadline)s", campaign=title, deadline=deadline)
        greeting = _("Hello %(name)s,", name=recipient) if recipient else _("Hello,")
        asked = _("%(unit)s is asked to hold the dialogue “%(campaign)s” by %(deadline)s, and has not held it yet.",
                  unit=unit, campaign=title, deadline=deadline)
        if overdue:
            asked += " " + _("The deadline has passed: hold it as soon as you can.")
        action = _("Start a session with the guide here, when you are signed in:")
    parts = [greeting, asked]
    if campaign.message:
        parts.append(campaign.message)
    return subject, "\n\n".join(parts) + f"\n\n{action}\n{url}\n\n-- \nDialogrum\n"


@dataclass
class Reminded:
    """Who a reminder went to: (user, unit name, language) per facilitator, and the units with
    nobody to write to."""

    sent: list[tuple[User, str, str]] = field(default_factory=list)
    nobody: list[str] = field(default_factory=list)


def send_reminders(db: so.Session, prog: Progress, *, url_for_unit: Any, fallback_language: str) -> Reminded:
    """Queue one e-mail per active user of each unit that has not held the campaign yet, in the
    user's language (`mail.language_of`), in the caller's transaction: they go after it commits.
    `url_for_unit(unit_name)` is the link that starts a session with the guide for that unit.
    Refused with `wrong_state` for a closed campaign or one every unit has held."""
    from shared import mail

    campaign = prog.campaign
    if campaign.closed_at is not None or not prog.not_yet:
        raise DialogrumError("wrong_state", "nobody is left to remind")
    users = facilitators_not_yet(db, prog)
    result = Reminded()
    for n in prog.not_yet:
        members = [u for u in users if u.unit_id == n.unit.id]
        if not members:
            result.nobody.append(n.unit.name)
        for user in members:
            lang = mail.language_of(user, fallback_language)
            subject, body = reminder_mail(campaign, unit=n.unit.name, lang=lang, url=url_for_unit(n.unit.name),
                                          overdue=n.overdue, recipient=user.name)
            mail.queue(db, to=user.email, lang=lang, subject=subject, body=body, kind="reminder", user_id=user.id)
            result.sent.append((user, n.unit.name, lang))
    if result.sent:
        campaign.reminded_at = utcnow()
        db.flush()
    return result
