"""The facilitator's countdown for the current item (issue 11, point 2): rules and read model.

The countdown is shared state in the `meetings` row, never in a process or a browser, so every
process, a reload and a second console see the same time: `timer_remaining_ms` is what was left
when it last started or stopped, and `timer_started_at` says since when it runs (null: paused).
The time left is computed with the server's clock only; the state object carries `remaining`
(seconds, at the moment it was computed), so a client counts down from when it received it and its
own clock's offset does not matter.

`control` (shared/meeting/commands.py) calls `timer_action` for the `timer_*` actions and
`timer_for_item` whenever it moves to another item.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.errors import DialogrumError

#: the countdown of an item whose guide suggests no duration
DEFAULT_SECONDS = 5 * 60
#: one press of "+1 min"
MINUTE_MS = 60_000
#: the most a countdown may hold: far above any meeting, far below what an integer column holds
MAX_MS = 24 * 60 * MINUTE_MS
TIMER_ACTIONS = ("timer_start", "timer_pause", "timer_add_minute", "timer_reset", "timer_show", "timer_hide")


def item_seconds(item: dict[str, Any]) -> int:
    """The countdown an item starts with: its suggested duration (whole minutes), else the default."""
    minutes = item.get("duration")
    return int(minutes) * 60 if minutes else DEFAULT_SECONDS


def timer_for_item(item: dict[str, Any]) -> dict[str, Any]:
    """The columns that reset the countdown to a (new) item: full time, paused. Whether the
    projector shows it is the facilitator's choice and stays."""
    seconds = item_seconds(item)
    return {"timer_duration_s": seconds, "timer_remaining_ms": seconds * 1000, "timer_started_at": None}


def remaining_ms(meeting: Any, now: dt.datetime) -> int:
    """Milliseconds left at `now` (never below 0)."""
    left = int(getattr(meeting, "timer_remaining_ms", 0) or 0)
    started = getattr(meeting, "timer_started_at", None)
    if started is not None:
        left -= int((now - started).total_seconds() * 1000)
    return max(0, left)


def timer_action(meeting: Any, action: str, now: dt.datetime) -> dict[str, Any]:
    """The columns a `timer_*` action sets; refuses with `wrong_state` what does not fit.

    The session must be live (there is no item to time otherwise)."""
    if meeting.status != "live":
        raise DialogrumError("wrong_state", "the session has not started")
    started = meeting.timer_started_at is not None
    left = remaining_ms(meeting, now)
    running = started and left > 0  # a countdown that reached 0 has stopped, whatever the row says
    if action == "timer_start":
        if running:
            raise DialogrumError("wrong_state", "the timer is already running")
        if left <= 0:
            raise DialogrumError("wrong_state", "the time is up: reset the timer or add a minute")
        return {"timer_started_at": now, "timer_remaining_ms": left}
    if action == "timer_pause":
        if not running:
            raise DialogrumError("wrong_state", "the timer is not running")
        return {"timer_started_at": None, "timer_remaining_ms": left}
    if action == "timer_add_minute":
        if left + MINUTE_MS > MAX_MS:
            raise DialogrumError("wrong_state", "the timer cannot hold more time")
        # Restarted from now when running, so a minute added after the time ran out is a full minute.
        return {"timer_remaining_ms": left + MINUTE_MS, "timer_started_at": now if started else None}
    if action == "timer_reset":
        return {"timer_remaining_ms": int(meeting.timer_duration_s or 0) * 1000, "timer_started_at": None}
    wanted = action == "timer_show"  # timer_show, timer_hide
    if bool(meeting.timer_visible) == wanted:
        raise DialogrumError("wrong_state", f"the timer is already {'shown' if wanted else 'hidden'}")
    return {"timer_visible": wanted}


def timer_state(meeting: Any, now: dt.datetime) -> dict[str, Any]:
    """The state object's additive `timer`: `duration` (s), `remaining` (s, to the millisecond, at
    the server's `now`), `running`, `visible` and `ends_at` (UTC, ISO 8601; null when paused)."""
    left = remaining_ms(meeting, now)
    running = getattr(meeting, "timer_started_at", None) is not None and left > 0
    return {
        "duration": int(getattr(meeting, "timer_duration_s", 0) or 0),
        "remaining": left / 1000,
        "running": running,
        "visible": bool(getattr(meeting, "timer_visible", False)),
        "ends_at": (now + dt.timedelta(milliseconds=left)).isoformat() if running else None,
    }
