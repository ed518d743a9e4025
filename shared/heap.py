"""The garbage collector while serving: short walks, and the long ones when the room is quiet.

A served process holds hundreds of thousands of objects that live until exit (the app, its
modules, templates and catalogues), and Python's collector walked them all at every full
collection: during a 1,000-phone vote burst those walks took about a quarter of the server's
time, and even a vote handler that did nothing ran at 0.73 x the bare stack (issue 14). So
`tune()`, called by `dialogrum serve` just before it serves:

- freezes what starting built out of the collector's reach (nothing leaks: it lives until exit);
- collects young objects per 7,000 new ones instead of 700, so the older generations, and the
  full collections with them, come ten times less often on their own. Each young pause stays a
  few milliseconds;
- and, because cycles then wait longer to be freed (the soak's memory grew 8 % in 10 minutes
  with that alone, against 2-3 % with Python's defaults), the hub's loop runs a full collection
  itself once the room has been quiet for a second (no vote, comment, connect or step in this
  process), at most every `FULL_EVERY` seconds: between questions, not in the middle of a vote.
  A room that is never quiet still gets one every `FULL_AT_LEAST_EVERY` seconds (a 6-minute soak
  then grew 1.4 %).

Garbage without cycles is freed at once as ever. `/metrics` shows `dialogrum_gc_frozen_objects`.
"""

from __future__ import annotations

import gc
import time

#: Young objects between collections (Python's default is 700), and the older generations' ratios.
THRESHOLDS = (7_000, 10, 10)
#: A full collection once the room has been quiet this long (seconds) ...
QUIET_SECONDS = 1.0
#: ... and at most this often (seconds).
FULL_EVERY = 20.0
#: A room that is never quiet (phones coming and going all the time) still gets one this often.
FULL_AT_LEAST_EVERY = 30.0


class _State:
    tuned = False
    last_busy = 0.0
    last_full = 0.0


def tune() -> None:
    """Freeze what starting built, raise the thresholds and let the hub collect when quiet."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    _State.tuned = True
    _State.last_full = _State.last_busy = time.monotonic()


def tick(busy: bool, now: float | None = None) -> bool:
    """Called by the hub's loop every tick: `busy` when this process had work since the last one.
    Runs a full collection when tuned and either quiet for `QUIET_SECONDS` with none run for
    `FULL_EVERY`, or none run for `FULL_AT_LEAST_EVERY`; returns whether it did."""
    if not _State.tuned:
        return False
    now = time.monotonic() if now is None else now
    if busy:
        _State.last_busy = now
    overdue = now - _State.last_full >= FULL_AT_LEAST_EVERY
    if not overdue and (now - _State.last_busy < QUIET_SECONDS or now - _State.last_full < FULL_EVERY):
        return False
    gc.collect()
    _State.last_full = now
    return True
