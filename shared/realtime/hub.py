"""The hub: this process's sockets, and how committed events reach each audience.

Three rules shape it (docs/architecture.md#realtime):

* Emit after commit. The hub subscribes to the events of committed units of work
  (shared/uow.py); it never learns of a change that could still be rolled back.
* Coalesce. A vote only marks its item dirty; the loop recounts dirty items every 100 ms with
  one GROUP BY and emits one `results` per item. Presence is coalesced the same way, so a room
  filling up does not send N x N messages. What reaches the projector and the phones is also
  bounded over all processes together (`AUDIENCE_COUNTS_LIMIT`, a window in the rate limits'
  storage), since every process recounts every tick.
* Nothing that matters lives in one process. Participant counts come from shared.presence; a
  change of state bumps `meetings.state_version`, which every process polls for the sessions it
  has sockets for, then sends `state` to its own sockets (participants' states carry their own
  `me`, so they cannot be one room message). `results`, `voters`, `presence` and `comment` go
  through the message queue when there is one.
* The projector never gets the split of the votes while results are hidden: it gets `voters`
  (how many voted, coalesced with `results`), and `results` only while they are visible.
* A message queue that was down (shared/realtime/queue.py) gets this process's counts again
  once it answers (`resync`), for the other processes' sockets.

The module is long because one object holds a process's whole realtime state (its sockets, dirty
marks and state versions) and the loop that acts on it; split up, the parts would reach into each
other's fields.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_socketio import SocketIO
from limits import parse

from shared import access, heap, presence
from shared import meeting as rules
from shared.db import Database
from shared.errors import DialogrumError
from shared.events import (
    CommentAdded,
    CommentApproved,
    CommentModerated,
    ConclusionSaved,
    Event,
    JoinWarning,
    LikesChanged,
    SessionDeleted,
    StateChanged,
    VotesChanged,
)
from shared.meeting.likes import likes_payload
from shared.meeting.moderation import room_may_see
from shared.meeting.summary import summary

log = logging.getLogger(__name__)

TICK_SECONDS = 0.1
#: How often each process re-checks its facilitator sockets' credentials in the database, so a
#: deactivation, a role change, a revoked token or a sign-out made anywhere (another process, the
#: CLI) closes them within about this long (issue 15, point 1).
CREDENTIAL_CHECK_SECONDS = 1.0
AUDIENCE = {"participant": "a", "facilitator": "f", "projector": "p"}
#: Counts (`results`, `voters`, `presence`) to the projector and the phones of one session, over
#: all processes together (issue 14, item 5). Each process recounts every tick, so without a
#: shared window four processes sent up to 40 `results` a second to every phone; and the room
#: also gets every comment, so the counts leave room for them. A refused round keeps its dirty
#: mark and a later tick sends it, so the last value always arrives, at most about a second late.
#: The consoles (a few sockets) get every tick's count: the exact count as soon as it is known.
AUDIENCE_COUNTS_LIMIT = parse("4/second")
#: Counts of the connected phones of one session (`presence`), over all processes together: a
#: tick's worth. Each process whose phones came or went counted every tick, and each count is a
#: `COUNT(DISTINCT)` over the session's connection rows, the same number whichever process takes
#: it: four processes in a 5,000-phone connect storm ran forty a second (issue 14, item 4). A
#: process refused the window keeps its mark and counts at a later tick, so the last count
#: always arrives; one process alone is never held back by more than a tick.
PRESENCE_COUNTS_LIMIT = parse("10/second")
#: How long the count of connected phones in a phone's first `state` may be shared (see
#: `Hub.participants`): the presence flush renews it whenever it counts.
SHARED_COUNT_SECONDS = 0.5
#: New comments to a projector that asked for them together (`auth.batch`, the projector page):
#: one `comments_added` per round, at most this many rounds a second over all processes, so a
#: room writing 10 comments a second costs the projector 4 updates, not 10. With the counts'
#: window that is 8 a second at the server; 4 + 4 rather than 5 + 5 because the network bunches
#: them, and a phone or projector counting any one second received 11 with 5 + 5 (issue 14,
#: item 5: at most 10). Other projectors get one `comment` per comment, as the v1 contract says.
AUDIENCE_COMMENTS_LIMIT = parse("4/second")


@dataclass
class Client:
    """One local socket: who it is and which session it watches."""

    sid: str
    meeting_id: str
    role: str  # participant | facilitator | projector
    participant_id: str | None = None
    user_id: int | None = None
    #: what let a facilitator in: the API token's id, or the login's session version
    token_id: int | None = None
    session_version: int | None = None
    #: a projector that takes new comments together (`comments_added`) instead of one by one
    batch: bool = False

    def grant(self) -> tuple[int, int | None, int | None, str]:
        """What `access.lapsed_grants` re-checks for a facilitator's socket."""
        return (self.user_id, self.token_id, self.session_version, self.meeting_id)


def room(meeting_id: str, audience: str) -> str:
    """The room of one audience of a session: `f` facilitators, `p` projector, `a` participants."""
    return f"{meeting_id}:{audience}"


class Hub:
    """Per-process realtime state: local sockets, dirty marks, and the broadcast loop."""

    def __init__(self, socketio: SocketIO, database: Database, limiter: Any = None) -> None:
        self.socketio = socketio
        self.db = database
        #: the app's shared.ratelimit.Limiter (Redis when several processes share a queue): the
        #: windows that bound the counts' emits over all processes; None sends every tick
        self.limiter = limiter
        self.process_id = secrets.token_hex(8)
        self.clients: dict[str, Client] = {}
        self.by_meeting: dict[str, set[str]] = {}
        self.versions: dict[str, int] = {}
        self.dirty_results: set[tuple[str, str]] = set()
        #: items whose counts the projector and phones still wait for (their window was full)
        self.dirty_room_results: set[tuple[str, str]] = set()
        self.dirty_presence: set[str] = set()
        #: sessions whose projector still waits for the participant count (its window was full)
        self.dirty_room_presence: set[str] = set()
        self.dirty_likes: set[tuple[str, str]] = set()
        #: {session id: comment ids} committed here that the batching projectors still wait for
        self.pending_comments: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._registered = False
        self._running = False
        self._last_heartbeat = 0.0
        self._last_credential_check = 0.0
        self._resync = False
        #: {meeting id: (state_version, monotonic time, state)}: the state a connecting socket is
        #: greeted with, shared by the sockets that connect within one tick (see recent_state)
        self._recent_states: dict[str, tuple[int, float, dict]] = {}
        #: {session id: (monotonic time, connected phones)}: `participants`' count of this tick
        self._counts: dict[str, tuple[float, int]] = {}
        database.subscribers.append(self.publish)
        # A queue that was down (shared/realtime/queue.py) says when it answers again.
        callbacks = getattr(getattr(socketio.server, "manager", None), "on_recovered", None)
        if callbacks is not None:
            callbacks.append(self._queue_recovered)

    # -- process registry and the loop -----------------------------------------------------------

    def start(self) -> None:
        """Register this process and start its broadcast loop (once; called on the first socket)."""
        if not self._registered:
            with self.db.begin() as conn:
                presence.register_process(conn, self.process_id)
            self._registered = True
            self._last_heartbeat = time.monotonic()
        if not self._running:
            self._running = True
            self.socketio.start_background_task(self._run)

    def stop(self) -> None:
        """Stop the loop and forget this process's sockets (clean shutdown)."""
        self._running = False
        if not self._registered:
            return
        try:
            with self.db.begin() as conn:
                presence.unregister_process(conn, self.process_id)
            self._registered = False
        except Exception:  # pragma: no cover - shutdown is best effort
            log.exception("could not unregister the process")

    def _run(self) -> None:
        while self._running:
            self.socketio.sleep(TICK_SECONDS)
            try:
                self.tick()
            except Exception:  # pragma: no cover - keep the loop alive whatever happens
                log.exception("realtime tick failed")

    def tick(self) -> None:
        """One round: heartbeat, changed states, dirty results, dirty presence."""
        if self._registered and time.monotonic() - self._last_heartbeat >= presence.HEARTBEAT_SECONDS:
            self._last_heartbeat = time.monotonic()
            with self.db.begin() as conn:
                presence.heartbeat(conn, self.process_id)
        self.poll_states()
        if self._resync:
            self._resync = False
            self.resync()
        if time.monotonic() - self._last_credential_check >= CREDENTIAL_CHECK_SECONDS:
            self._last_credential_check = time.monotonic()
            self.check_credentials()
        # Work since the last tick (votes, connects and leaves, thumbs-up, comments): the garbage
        # collector's full walk waits for a quiet room (shared/heap.py).
        busy = bool(self.dirty_results or self.dirty_room_results or self.dirty_presence
                    or self.dirty_room_presence or self.dirty_likes or self.pending_comments)
        self.flush_results()
        self.flush_presence()
        self.flush_likes()
        self.flush_comments()
        heap.tick(busy)

    def _queue_recovered(self) -> None:
        self._resync = True  # done by the loop, in its own order

    def resync(self) -> None:
        """After the message queue was down: send the counts of this process's sessions through it
        again, so that the other processes' sockets catch up on what could not cross meanwhile
        (votes and hands counted here, phones come and gone). States need nothing: every process
        reads them from the database."""
        meeting_ids = [m for m, sids in self.by_meeting.items() if sids]
        if not meeting_ids:
            return
        with self.db.begin() as conn:
            rows = rules.meeting_rows(conn, meeting_ids)
        with self._lock:
            for row in rows:
                self.dirty_presence.add(row.id)
                if row.status == "live" and row.current_item_id:
                    self.dirty_results.add((row.id, row.current_item_id))

    # -- committed events -----------------------------------------------------------------------

    def publish(self, events: list[Event]) -> None:
        """Tell the rooms about committed events (the database's subscriber)."""
        for event in events:
            if isinstance(event, VotesChanged):
                with self._lock:
                    self.dirty_results.add((event.meeting_id, event.item_id))
            elif isinstance(event, LikesChanged):  # coalesced like votes: counts at most 10 times a second
                with self._lock:
                    self.dirty_likes.add((event.meeting_id, event.item_id))
            elif isinstance(event, StateChanged):
                self._state_changed(event)
            elif isinstance(event, CommentAdded):
                self._emit_queue("comment", event.comment, room(event.meeting_id, "f"))
                # One waiting for approval reaches only the facilitators (its author has the ack).
                if room_may_see(event.comment):
                    self._new_to_room(event.meeting_id, event.comment)
            elif isinstance(event, CommentApproved):  # new to the room, an update to the facilitators
                self._emit_queue("comment_update", event.comment, room(event.meeting_id, "f"))
                self._new_to_room(event.meeting_id, event.comment)
            elif isinstance(event, CommentModerated):
                self._comment_moderated(event.meeting_id, event.comment)
            elif isinstance(event, ConclusionSaved):
                self._emit_queue("conclusion", event.conclusion, room(event.meeting_id, "f"))
                self._resend_summary(event.meeting_id)
            elif isinstance(event, SessionDeleted):
                self._let_go(event.meeting_id)
            elif isinstance(event, JoinWarning):
                self._emit_queue("join_warning", event.warning, room(event.meeting_id, "f"))

    def _new_to_room(self, meeting_id: str, comment: dict) -> None:
        """A comment the room may now see: at once to the phones and to the projectors that take
        comments one by one; to the batching projectors with the next round (flush_comments)."""
        self._emit_queue("comment", comment, room(meeting_id, "a"))
        self._emit_queue("comment", comment, room(meeting_id, "p1"))
        with self._lock:
            self.pending_comments.setdefault(meeting_id, []).append(comment["id"])

    def _resend_summary(self, meeting_id: str) -> None:
        """A conclusion saved while a closing summary is on the projector: the summary again, to the
        projectors of every process (issue 11, section 5). One read per saved conclusion."""
        with self.db.begin() as conn:
            rows = rules.meeting_rows(conn, [meeting_id])
            if rows and rows[0].summary_shown and rows[0].status == "live":
                self._emit_queue("summary", summary(conn, meeting_id, rows[0].summary_section),
                                 room(meeting_id, "p"))

    def _comment_moderated(self, meeting_id: str, comment: dict) -> None:
        """A committed hide/pin: the room only learns what it may see."""
        self._emit_queue("comment_update", comment, room(meeting_id, "f"))
        for audience in ("p", "a"):
            if not room_may_see(comment):
                self._emit_queue("comment_hidden", {"id": comment["id"], "item_id": comment["item_id"]},
                                 room(meeting_id, audience))
            else:
                self._emit_queue("comment_update", comment, room(meeting_id, audience))

    def _state_changed(self, event: StateChanged) -> None:
        """This process tells its own sockets at once; the others notice the new version."""
        if not self.by_meeting.get(event.meeting_id) or self.versions.get(event.meeting_id, -1) >= event.version:
            return
        with self.db.begin() as conn:
            rows = rules.meeting_rows(conn, [event.meeting_id])
            row = rows[0] if rows else None
            if row is not None and row.state_version == event.version:
                self._send_state(conn, row, event.state)
            elif row is not None:  # changed again meanwhile: send the newest
                self._send_state(conn, row)

    def check_credentials(self) -> list[str]:
        """Close this process's facilitator sockets whose user was deactivated or lost the right to
        manage the session, whose token was revoked or whose sign-in ended. Every process does
        this for its own sockets from the database, so a change made anywhere reaches them all."""
        grants = {sid: c.grant() for sid, c in list(self.clients.items()) if c.role == "facilitator"}
        if not grants:
            return []
        with self.db.begin() as conn:
            lapsed = access.lapsed_grants(conn, grants)
        for sid in lapsed:
            self.socketio.server.disconnect(sid)
        return list(lapsed)

    def _let_go(self, meeting_id: str) -> None:
        """Disconnect this process's sockets of a session that no longer exists."""
        for sid in list(self.by_meeting.get(meeting_id, ())):
            self.socketio.server.disconnect(sid)

    # -- state ----------------------------------------------------------------------------------

    def poll_states(self) -> None:
        """Send `state` to this process's sockets of every session whose version moved."""
        meeting_ids = [m for m, sids in self.by_meeting.items() if sids]
        if not meeting_ids:
            return
        with self.db.begin() as conn:
            versions = rules.state_versions(conn, meeting_ids)
            moved = [m for m, v in versions.items() if self.versions.get(m) != v]
            for row in rules.meeting_rows(conn, moved) if moved else ():
                self._send_state(conn, row)
        for gone in set(meeting_ids) - set(versions):
            self._let_go(gone)

    def recent_state(self, conn: sa.Connection, meeting_id: str, version: int, row: Any = None) -> dict:
        """The state of a session at `version` for a phone that just connected, computed at most
        once per tick and state version (from `row`, or the session's row read now). A hall
        connecting at once would otherwise count the connected phones (a query over every
        connection row) once per phone, a thousand times in a few seconds. What the reuse may
        miss is bounded like presence itself: a `participants` up to `SHARED_COUNT_SECONDS` old,
        and a countdown read up to 100 ms earlier; any change of state bumps the version, so nothing
        else can be stale."""
        now = time.monotonic()
        hit = self._recent_states.get(meeting_id)
        if hit is not None and hit[0] == version and now - hit[1] < TICK_SECONDS:
            return hit[2]
        if row is None:
            row = rules.get_meeting(conn, meeting_id)
        st = rules.state(conn, row, participants=self.participants(conn, row.id))
        self._recent_states[row.id] = (row.state_version, now, st)
        return st

    def participants(self, conn: sa.Connection, meeting_id: str, *, fresh: bool = False) -> int:
        """The session's connected phones (a query over its connection rows), counted at most
        every `SHARED_COUNT_SECONDS` for the phones that connect meanwhile; `fresh` counts now
        (the presence flush, whose count is the last word after a change, and which renews the
        shared one)."""
        now = time.monotonic()
        hit = self._counts.get(meeting_id)
        if not fresh and hit is not None and now - hit[0] < SHARED_COUNT_SECONDS:
            return hit[1]
        count = rules.participant_count(conn, meeting_id)
        self._counts[meeting_id] = (now, count)
        return count

    def _emit_local(self, event: str, data: Any, to: str) -> None:
        self.socketio.emit(event, data, to=to, ignore_queue=True)

    def _emit_queue(self, event: str, data: Any, to: str) -> None:
        self.socketio.emit(event, data, to=to)

    def _send_state(self, conn: sa.Connection, row: Any, st: dict | None = None) -> None:
        self.versions[row.id] = row.state_version
        if st is None:
            st = rules.state(conn, row)
        self._emit_local("state", st, room(row.id, "f"))
        self._emit_local("state", st, room(row.id, "p"))
        item_id = row.current_item_id if row.status != "waiting" else None
        mine = rules.me_for_all(conn, row.id, item_id)
        for sid in list(self.by_meeting.get(row.id, ())):
            client = self.clients.get(sid)
            if client is not None and client.role == "participant":
                self._emit_local("state", {**st, "me": mine.get(client.participant_id, rules.read.NOBODY)}, sid)
        if item_id is not None and row.status == "live":
            self.send_item_extras(conn, row, st)

    def send_item_extras(self, conn: sa.Connection, row: Any, st: dict, *,
                         to_sid: str | None = None, role: str | None = None) -> None:
        """Results and the comment list of the current item, to this process's sockets allowed to
        see them (all of a session's audiences, or one socket that just connected)."""
        item = st["item"]
        if item is None:
            return
        targets = [(room(row.id, "f"), "facilitator"), (room(row.id, "p"), "projector"),
                   (room(row.id, "a"), "participant")] if to_sid is None else [(to_sid, role)]
        payload = everyone = None
        for target, who in targets:
            # The projector while results are hidden: how many voted, never the split.
            count_only = who == "projector" and not row.results_visible and item["kind"] == "consideration"
            if who == "facilitator" or row.results_visible or count_only:
                if payload is None:
                    payload = rules.results_payload(item["id"], rules.counts(conn, row.id, [item["id"]])[item["id"]],
                                                    st["participants"])
                if count_only:
                    self._emit_local("voters", rules.voters_payload(payload), target)
                else:
                    self._emit_local("results", payload, target)
            if who in ("facilitator", "projector") and item["kind"] != "info":
                if everyone is None:
                    everyone = rules.comments_for(conn, row.id, item["id"], include_hidden=True)
                shown = everyone if who == "facilitator" else [c for c in everyone if room_may_see(c)]
                self._emit_local("comments", {"item_id": item["id"], "comments": shown}, target)
            # The closing summary (issue 11, section 5) is the projector's; phones never get it.
            if who == "projector" and st.get("summary") is not None:
                self._emit_local("summary", summary(conn, row.id, st["summary"]["section"]), target)

    # -- results and presence -----------------------------------------------------------------

    def _slot(self, limit: Any, *keys: str) -> bool:
        """Whether an emit under `keys` fits `limit`'s window shared by all processes. Without a
        limiter, or when its storage does not answer, it does: counts are never held back for
        want of a window."""
        if self.limiter is None:
            return True
        try:
            return self.limiter.hit(limit, *keys)
        except DialogrumError:
            return True

    def flush_results(self) -> None:
        """Recount every dirty item with one query per session and emit one `results` per item:
        to the consoles every time, to the projector and phones within the room's window for
        counts (a full window keeps the item dirty for them)."""
        with self._lock:
            dirty, self.dirty_results = self.dirty_results, set()
            waiting, self.dirty_room_results = self.dirty_room_results, set()
        if not dirty and not waiting:
            return
        per_meeting: dict[str, set[str]] = {}
        for meeting_id, item_id in dirty | waiting:
            per_meeting.setdefault(meeting_id, set()).add(item_id)
        room_later: set[tuple[str, str]] = set()
        with self.db.begin() as conn:
            for row in rules.meeting_rows(conn, list(per_meeting)):
                item_ids = sorted(per_meeting[row.id])
                participants = rules.participant_count(conn, row.id)
                all_counts = rules.counts(conn, row.id, item_ids)
                for item_id in item_ids:
                    key = (row.id, item_id)
                    payload = rules.results_payload(item_id, all_counts[item_id], participants)
                    if key in dirty:
                        self._emit_queue("results", payload, room(row.id, "f"))
                    if row.current_item_id != item_id:
                        continue
                    if not self._slot(AUDIENCE_COUNTS_LIMIT, "room-counts", row.id):
                        room_later.add(key)
                        continue
                    if row.results_visible:
                        self._emit_queue("results", payload, room(row.id, "p"))
                        self._emit_queue("results", payload, room(row.id, "a"))
                    else:  # "N of M have voted" on the projector: the count only, never the split
                        self._emit_queue("voters", rules.voters_payload(payload), room(row.id, "p"))
        if room_later:
            with self._lock:
                self.dirty_room_results |= room_later

    def flush_likes(self) -> None:
        """Emit the thumbs-up counts of every item whose comments were liked or unliked since the
        last tick (`likes`, to every audience: counts only, never who)."""
        with self._lock:
            dirty, self.dirty_likes = self.dirty_likes, set()
        if not dirty:
            return
        with self.db.begin() as conn:
            for meeting_id, item_id in dirty:
                payload = likes_payload(conn, meeting_id, item_id)
                for audience in ("f", "p", "a"):
                    self._emit_queue("likes", payload, room(meeting_id, audience))

    def flush_comments(self) -> None:
        """Send the batching projectors the comments committed here since the last round, one
        `comments_added {"comments": [...]}` per session, within the session's window shared by
        all processes (a full window keeps them for a later tick). They are read again from the
        database first, so a comment hidden in the meantime (on any process) is not shown."""
        with self._lock:
            pending, self.pending_comments = self.pending_comments, {}
        if not pending:
            return
        later: dict[str, list[int]] = {}
        with self.db.begin() as conn:
            for meeting_id, ids in pending.items():
                if not self._slot(AUDIENCE_COMMENTS_LIMIT, "room-comments", meeting_id):
                    later[meeting_id] = ids
                    continue
                shown = [c for c in rules.comments_by_id(conn, meeting_id, ids) if room_may_see(c)]
                if shown:
                    self._emit_queue("comments_added", {"comments": shown}, room(meeting_id, "pn"))
        if later:
            with self._lock:
                for meeting_id, ids in later.items():
                    self.pending_comments[meeting_id] = ids + self.pending_comments.get(meeting_id, [])

    def flush_presence(self) -> None:
        """Emit the participant count of every session whose phones came or went: to the
        consoles every time, to the projector within the room's window for counts (a full
        window keeps it waiting for the projector only)."""
        with self._lock:
            dirty, self.dirty_presence = self.dirty_presence, set()
            waiting, self.dirty_room_presence = self.dirty_room_presence, set()
        if not dirty and not waiting:
            return
        # The windows and the emits (with Redis each a round trip) hold no pooled connection; a
        # session another process counted this tick is counted at a later one.
        not_yet = {m for m in dirty | waiting if not self._slot(PRESENCE_COUNTS_LIMIT, "presence-count", m)}
        counted, counts = (dirty | waiting) - not_yet, {}
        if counted:
            with self.db.begin() as conn:
                counts = {m: self.participants(conn, m, fresh=True) for m in counted}
        later: set[str] = set()
        for meeting_id, count in counts.items():
            payload = {"participants": count}
            if meeting_id in dirty:
                self._emit_queue("presence", payload, room(meeting_id, "f"))
            if self._slot(AUDIENCE_COUNTS_LIMIT, "room-counts", meeting_id):
                self._emit_queue("presence", payload, room(meeting_id, "p"))
            else:
                later.add(meeting_id)
        if later or not_yet:
            with self._lock:
                self.dirty_room_presence |= later | (not_yet & waiting)
                self.dirty_presence |= not_yet & dirty

    # -- local sockets ----------------------------------------------------------------------------

    def attach(self, client: Client) -> None:
        """Remember a socket that was let in, and put it in its audience's room."""
        self.clients[client.sid] = client
        self.by_meeting.setdefault(client.meeting_id, set()).add(client.sid)
        self.socketio.server.enter_room(client.sid, room(client.meeting_id, AUDIENCE[client.role]))
        if client.role == "projector":  # how it takes new comments: `pn` together, `p1` one by one
            self.socketio.server.enter_room(client.sid, room(client.meeting_id, "pn" if client.batch else "p1"))
        if client.role == "participant":
            with self._lock:
                self.dirty_presence.add(client.meeting_id)

    def detach(self, sid: str) -> None:
        """Forget a socket that went away."""
        client = self.clients.pop(sid, None)
        if client is None:
            return
        sids = self.by_meeting.get(client.meeting_id)
        if sids is not None:
            sids.discard(sid)
            if not sids:
                self.by_meeting.pop(client.meeting_id, None)
                self.versions.pop(client.meeting_id, None)
                self._recent_states.pop(client.meeting_id, None)
                self._counts.pop(client.meeting_id, None)
        try:
            with self.db.begin() as conn:
                presence.remove_connection(conn, sid)
        except Exception:  # pragma: no cover - the heartbeat cleans up after a dead database
            log.exception("could not delete connection %s", sid)
        if client.role == "participant":
            with self._lock:
                self.dirty_presence.add(client.meeting_id)
