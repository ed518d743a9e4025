"""The realtime hub: Socket.IO authentication, rooms, and coalesced broadcasts.

Handlers only translate between the wire and `shared.meeting`. Three rules shape this module:

* Emit after commit. A handler commits, then announces; an `ok: true` ack means the row is in
  the database.
* Coalesce. A vote only marks its item dirty; one background task per process, every 100 ms,
  recounts the dirty items with one GROUP BY and emits one `results` per item. Presence is
  coalesced the same way, so a room filling up does not send N x N messages.
* Nothing that matters lives in one process. Participant counts come from the `connections`
  table (with a heartbeat per process); a change of state bumps `meetings.state_version`, which
  every process polls for the sessions it has sockets for, and then sends `state` to its own
  sockets (participants' states carry their own `me`, so they cannot be one room message).
  `results`, `presence` and `comment` go through the message queue when there is one.

The hot events (`vote`, `comment`) are registered directly on python-socketio's server so they
skip Flask-SocketIO's per-event app and request context (stack-notes.md: that alone was worth
up to 2x on the vote path); the participant and session are resolved once, at connect.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, SocketIO

from shared import meeting as rules
from shared.accounts import user_for_token
from shared.db import Database
from shared.errors import DialogrumError
from shared.models import CHOICES, Connection, Meeting, ServerProcess, User, utcnow
from shared.ratelimit import COMMENT_LIMIT, CONNECT_LIMIT, VOTE_LIMIT, Limiter

log = logging.getLogger(__name__)

TICK_SECONDS = 0.1
HEARTBEAT_SECONDS = 5.0
#: How often expired comments are deleted (the retention is counted in days).
PURGE_SECONDS = 600.0
_connections = Connection.__table__
_processes = ServerProcess.__table__
_meetings = Meeting.__table__


@dataclass
class Client:
    """One local socket: who it is and which session it watches."""

    sid: str
    meeting_id: str
    role: str  # participant | facilitator | projector
    participant_id: str | None = None
    user_id: int | None = None


def results_payload(item_id: str, counts: dict[str, int], participants: int) -> dict:
    """The `results` event: one serializer for the per-item recount and the coalesced one."""
    return {"item_id": item_id, "counts": {k: counts[k] for k in CHOICES}, "voters": counts["voters"],
            "participants": participants}


def room(meeting_id: str, audience: str) -> str:
    """The room of one audience of a session: `f` facilitators, `p` projector, `a` participants."""
    return f"{meeting_id}:{audience}"


class Hub:
    """Per-process realtime state: local sockets, dirty marks, and the broadcast loop."""

    def __init__(self, socketio: SocketIO, database: Database, limiter: Limiter) -> None:
        self.socketio = socketio
        self.db = database
        self.limiter = limiter
        self.process_id = secrets.token_hex(8)
        self.clients: dict[str, Client] = {}
        self.by_meeting: dict[str, set[str]] = {}
        self.versions: dict[str, int] = {}
        self.dirty_results: set[tuple[str, str]] = set()
        self.dirty_presence: set[str] = set()
        self._lock = threading.Lock()
        self._registered = False
        self._running = False
        self._last_heartbeat = 0.0
        self._next_purge = time.monotonic() + 60

    # -- process registry ---------------------------------------------------------------------

    def register_process(self) -> None:
        """Record this process (its heartbeat decides whether its connections count)."""
        with self.db.begin() as conn:
            conn.execute(_processes.insert().values(id=self.process_id, started_at=utcnow(), heartbeat_at=utcnow()))
            # Processes silent for a long time (killed, crashed) leave rows behind; drop them and,
            # through the cascade, their connections.
            stale = utcnow() - 4 * rules._timeout()
            dead = sa.select(_processes.c.id).where(_processes.c.heartbeat_at < stale)
            conn.execute(_connections.delete().where(_connections.c.process_id.in_(dead)))
            conn.execute(_processes.delete().where(_processes.c.heartbeat_at < stale))
        self._registered = True
        self._last_heartbeat = time.monotonic()

    def unregister_process(self) -> None:
        """Forget this process and its connections (clean shutdown)."""
        if not self._registered:
            return
        with self.db.begin() as conn:
            conn.execute(_connections.delete().where(_connections.c.process_id == self.process_id))
            conn.execute(_processes.delete().where(_processes.c.id == self.process_id))
        self._registered = False

    def _ensure_registered(self) -> None:
        if not self._registered:
            self.register_process()

    # -- the loop -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the broadcast loop (one per process)."""
        self._ensure_registered()
        if not self._running:
            self._running = True
            self.socketio.start_background_task(self._run)

    def stop(self) -> None:
        """Stop the loop and unregister."""
        self._running = False
        try:
            self.unregister_process()
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
        if self._registered and time.monotonic() - self._last_heartbeat >= HEARTBEAT_SECONDS:
            self._last_heartbeat = time.monotonic()
            with self.db.begin() as conn:
                conn.execute(_processes.update().where(_processes.c.id == self.process_id)
                             .values(heartbeat_at=utcnow()))
        self.poll_states()
        self.flush_results()
        self.flush_presence()
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + PURGE_SECONDS
            from shared.organiser import purge_expired_comments

            with self.db.begin() as conn:
                purge_expired_comments(conn)

    # -- state ----------------------------------------------------------------------------------

    def poll_states(self) -> None:
        """Send `state` to this process's sockets of every session whose version moved."""
        meeting_ids = [m for m, sids in self.by_meeting.items() if sids]
        if not meeting_ids:
            return
        with self.db.begin() as conn:
            rows = conn.execute(sa.select(*rules.MEETING_COLUMNS).where(_meetings.c.id.in_(meeting_ids))).all()
            for row in rows:
                if self.versions.get(row.id) != row.state_version:
                    self._send_state(conn, row)

    def state_changed(self, meeting_id: str) -> None:
        """Called after a committed change of state: this process tells its sockets at once."""
        with self.db.begin() as conn:
            row = conn.execute(sa.select(*rules.MEETING_COLUMNS).where(_meetings.c.id == meeting_id)).first()
            if row is not None and self.versions.get(meeting_id, -1) < row.state_version:
                self._send_state(conn, row)

    def _emit_local(self, event: str, data: Any, to: str) -> None:
        self.socketio.emit(event, data, to=to, ignore_queue=True)

    def _send_state(self, conn: sa.Connection, row: sa.Row) -> None:
        self.versions[row.id] = row.state_version
        st = rules.state(conn, row)
        self._emit_local("state", st, room(row.id, "f"))
        self._emit_local("state", st, room(row.id, "p"))
        item_id = row.current_item_id if row.status != "waiting" else None
        mine = rules.me_for_all(conn, row.id, item_id)
        nobody = {"vote": None, "comments": 0}
        for sid in list(self.by_meeting.get(row.id, ())):
            client = self.clients.get(sid)
            if client is not None and client.role == "participant":
                self._emit_local("state", {**st, "me": mine.get(client.participant_id, nobody)}, sid)
        if item_id is not None and row.status == "live":
            self._send_item_extras(conn, row, st)

    def _send_item_extras(self, conn: sa.Connection, row: sa.Row, st: dict, *,
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
            if who == "facilitator" or row.results_visible:
                if payload is None:
                    payload = self._results_payload(conn, row.id, item["id"], st["participants"])
                self._emit_local("results", payload, target)
            if who in ("facilitator", "projector") and item["kind"] != "info":
                if everyone is None:
                    everyone = rules.comments_for(conn, row.id, item["id"], include_hidden=True)
                shown = everyone if who == "facilitator" else [c for c in everyone if not c["hidden"]]
                self._emit_local("comments", {"item_id": item["id"], "comments": shown}, target)

    # -- results and presence -----------------------------------------------------------------

    def _emit_queue(self, event: str, data: Any, to: str) -> None:
        self.socketio.emit(event, data, to=to)

    def _results_payload(self, conn: sa.Connection, meeting_id: str, item_id: str, participants: int) -> dict:
        return results_payload(item_id, rules.counts(conn, meeting_id, [item_id])[item_id], participants)

    def flush_results(self) -> None:
        """Recount every dirty item with one query per session and emit one `results` per item."""
        with self._lock:
            dirty, self.dirty_results = self.dirty_results, set()
        if not dirty:
            return
        per_meeting: dict[str, list[str]] = {}
        for meeting_id, item_id in dirty:
            per_meeting.setdefault(meeting_id, []).append(item_id)
        with self.db.begin() as conn:
            for meeting_id, item_ids in per_meeting.items():
                row = conn.execute(sa.select(_meetings.c.results_visible, _meetings.c.current_item_id)
                                   .where(_meetings.c.id == meeting_id)).first()
                if row is None:
                    continue
                participants = rules.participant_count(conn, meeting_id)
                all_counts = rules.counts(conn, meeting_id, item_ids)
                for item_id in item_ids:
                    payload = results_payload(item_id, all_counts[item_id], participants)
                    self._emit_queue("results", payload, room(meeting_id, "f"))
                    if row.results_visible and row.current_item_id == item_id:
                        self._emit_queue("results", payload, room(meeting_id, "p"))
                        self._emit_queue("results", payload, room(meeting_id, "a"))

    def flush_presence(self) -> None:
        """Emit the participant count of every session whose phones came or went."""
        with self._lock:
            dirty, self.dirty_presence = self.dirty_presence, set()
        if not dirty:
            return
        with self.db.begin() as conn:
            for meeting_id in dirty:
                payload = {"participants": rules.participant_count(conn, meeting_id)}
                self._emit_queue("presence", payload, room(meeting_id, "f"))
                self._emit_queue("presence", payload, room(meeting_id, "p"))

    def mark_results(self, meeting_id: str, item_id: str) -> None:
        """A vote changed: recount this item on the next tick."""
        with self._lock:
            self.dirty_results.add((meeting_id, item_id))

    # -- comments -----------------------------------------------------------------------------

    def comment_added(self, meeting_id: str, comment: dict) -> None:
        """Announce a committed comment: to facilitators always, to the room (it is not hidden)."""
        for audience in ("f", "p", "a"):
            self._emit_queue("comment", comment, room(meeting_id, audience))

    def comment_moderated(self, meeting_id: str, comment: dict) -> None:
        """Announce a committed hide/pin: the room only learns what it may see."""
        self._emit_queue("comment_update", comment, room(meeting_id, "f"))
        for audience in ("p", "a"):
            if comment["hidden"]:
                self._emit_queue("comment_hidden", {"id": comment["id"], "item_id": comment["item_id"]},
                                 room(meeting_id, audience))
            else:
                self._emit_queue("comment_update", comment, room(meeting_id, audience))

    def conclusion_saved(self, meeting_id: str, saved: dict) -> None:
        """Announce a committed conclusion to every facilitator's console."""
        self._emit_queue("conclusion", saved, room(meeting_id, "f"))

    # -- connections --------------------------------------------------------------------------

    def _attach(self, sid: str, client: Client) -> None:
        self.clients[sid] = client
        self.by_meeting.setdefault(client.meeting_id, set()).add(sid)
        audience = {"participant": "a", "facilitator": "f", "projector": "p"}[client.role]
        self.socketio.server.enter_room(sid, room(client.meeting_id, audience))

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
        try:
            with self.db.begin() as conn:
                conn.execute(_connections.delete().where(_connections.c.sid == sid))
        except Exception:  # pragma: no cover - the heartbeat cleans up after a dead database
            log.exception("could not delete connection %s", sid)
        if client.role == "participant":
            with self._lock:
                self.dirty_presence.add(client.meeting_id)

    def connect(self, sid: str, auth: object, *, remote_addr: str | None, user: User | None) -> Client:
        """Authenticate a new socket from its `auth` dict (or the login cookie's user); raise
        ConnectionRefusedError with the contract's code when it may not connect."""
        self._ensure_registered()
        auth = auth if isinstance(auth, dict) else {}
        welcome = None
        if "session_id" in auth and "api_token" in auth:
            user = user_for_token(self.db.session, auth.get("api_token"))
        # The ORM session (token or login cookie lookup) must give its pooled connection back
        # before the transaction below: SQLite has exactly one.
        self.db.session.remove()
        try:
            with self.db.begin() as conn:
                if "code" in auth:
                    if not self.limiter.hit(CONNECT_LIMIT, "connect", remote_addr or "?"):
                        raise DialogrumError("rate_limited")
                    meeting = rules.find_by_code(conn, auth.get("code"))
                    if meeting is None:
                        raise DialogrumError("unknown_session")
                    participant_id, token = rules.join(conn, meeting, auth.get("token"))
                    client = Client(sid, meeting.id, "participant", participant_id=participant_id)
                    welcome = {"token": token, "participant_id": participant_id}
                elif "projector_key" in auth:
                    meeting = rules.find_by_projector_key(conn, auth.get("projector_key"))
                    if meeting is None:
                        raise DialogrumError("unknown_session")
                    client = Client(sid, meeting.id, "projector")
                elif "session_id" in auth:
                    if user is None:
                        raise DialogrumError("unauthorized")
                    try:
                        meeting = rules.get_meeting(conn, auth.get("session_id"))
                    except DialogrumError:
                        raise DialogrumError("unknown_session") from None
                    if not rules.may_manage(user, meeting):
                        raise DialogrumError("forbidden")
                    client = Client(sid, meeting.id, "facilitator", user_id=user.id)
                else:
                    raise DialogrumError("unauthorized")
                conn.execute(_connections.insert().values(
                    sid=sid, process_id=self.process_id, meeting_id=client.meeting_id, role=client.role,
                    participant_id=client.participant_id, connected_at=utcnow()))
        except DialogrumError as exc:
            raise ConnectionRefusedError(exc.code) from None
        self._attach(sid, client)
        if client.role == "participant":
            with self._lock:
                self.dirty_presence.add(client.meeting_id)
        self.socketio.start_background_task(self._greet, sid, welcome)
        return client

    def _greet(self, sid: str, welcome: dict | None) -> None:
        # The CONNECT packet goes out after the connect handler returns; wait for it so the
        # first events are never sent before the client knows it is connected.
        manager = self.socketio.server.manager
        for _ in range(200):
            if manager.is_connected(sid, "/"):
                break
            self.socketio.sleep(0.005)
        client = self.clients.get(sid)
        if client is None:
            return
        if welcome is not None:
            self._emit_local("welcome", welcome, sid)
        with self.db.begin() as conn:
            row = conn.execute(sa.select(*rules.MEETING_COLUMNS).where(_meetings.c.id == client.meeting_id)).one()
            st = rules.state(conn, row)
            if client.role == "participant":
                item_id = st["item"]["id"] if st["item"] else None
                st = {**st, "me": rules.me(conn, row.id, client.participant_id, item_id)}
            self._emit_local("state", st, sid)
            if row.status == "live":
                self._send_item_extras(conn, row, st, to_sid=sid, role=client.role)
            if client.role != "participant":
                self._emit_local("presence", {"participants": st["participants"]}, sid)
        self.versions.setdefault(client.meeting_id, row.state_version)

    # -- commands -----------------------------------------------------------------------------
    #
    # Every command has the same shape: the sender's role is checked, the payload must be an
    # object, the rule runs in its own transaction, and only after the commit is it announced.

    def _command(self, sid: str, data: object, role: str, rule, announce=None, *, rate=None,
                 own_transaction: bool = False) -> dict:
        client = self.clients.get(sid)
        if client is None or client.role != role:
            return {"ok": False, "error": "forbidden"}
        if not isinstance(data, dict):
            return {"ok": False, "error": "invalid"}
        try:
            if rate is not None:
                # Checked before the transaction: with Redis it is a network round trip, which
                # must not hold one of the pooled database connections.
                rules.check_rate(self.limiter, rate[0], rate[1], client.participant_id)
            if own_transaction:
                result = rule(client, data)
            else:
                with self.db.begin() as conn:
                    result = rule(conn, client, data)
        except DialogrumError as exc:
            return {"ok": False, "error": exc.code}
        return announce(client, data, result) if announce else result

    def vote(self, sid: str, data: object) -> dict:
        """`vote {item_id, choice}` (participants) -> `{ok}` after commit."""

        def rule(client, data):
            rules.cast_vote_fast(self.db, client.meeting_id, client.participant_id, data.get("item_id"),
                                 data.get("choice"))

        def announce(client, data, _result):
            self.mark_results(client.meeting_id, data["item_id"])
            return {"ok": True}

        return self._command(sid, data, "participant", rule, announce, rate=(VOTE_LIMIT, "vote"),
                             own_transaction=True)

    def comment(self, sid: str, data: object) -> dict:
        """`comment {item_id, text}` (participants) -> `{ok, id}` after commit."""

        def rule(conn, client, data):
            return rules.add_comment(conn, client.meeting_id, client.participant_id, data.get("item_id"),
                                     data.get("text"))

        def announce(client, _data, comment):
            self.comment_added(client.meeting_id, comment)
            return {"ok": True, "id": comment["id"]}

        return self._command(sid, data, "participant", rule, announce, rate=(COMMENT_LIMIT, "comment"))

    def control(self, sid: str, data: object) -> dict:
        """`control {action, index?}` (facilitators) -> the state after the action, or an error."""

        def rule(conn, client, data):
            return rules.control(conn, client.meeting_id, data.get("action"), data.get("index"))

        def announce(client, _data, _row):
            self.state_changed(client.meeting_id)
            with self.db.begin() as conn:
                return rules.state(conn, rules.get_meeting(conn, client.meeting_id))

        return self._command(sid, data, "facilitator", rule, announce)

    def moderate(self, sid: str, data: object) -> dict:
        """`moderate {comment_id, hidden?, pinned?}` (facilitators) -> `{ok, comment}`."""

        def rule(conn, client, data):
            return rules.moderate(conn, client.meeting_id, data.get("comment_id"),
                                  hidden=data.get("hidden"), pinned=data.get("pinned"))

        def announce(client, _data, comment):
            self.comment_moderated(client.meeting_id, comment)
            return {"ok": True, "comment": comment}

        return self._command(sid, data, "facilitator", rule, announce)

    def conclude(self, sid: str, data: object) -> dict:
        """`conclude {item_id, text}` (facilitators) -> `{ok, conclusion}`."""

        def rule(conn, client, data):
            return rules.set_conclusion(conn, client.meeting_id, data.get("item_id"), data.get("text"))

        def announce(client, _data, saved):
            self.conclusion_saved(client.meeting_id, saved)
            return {"ok": True, "conclusion": saved}

        return self._command(sid, data, "facilitator", rule, announce)


def _safe(handler):
    """Wrap a raw handler so an unexpected error still answers the ack instead of hanging it."""

    def wrapped(sid: str, data: object = None) -> dict:
        try:
            return handler(sid, data)
        except Exception:
            log.exception("socket handler failed")
            return {"ok": False, "error": "server_error"}

    wrapped.__name__ = handler.__name__
    return wrapped


def init_app(app: Flask, socketio: SocketIO, database: Database, limiter: Limiter) -> Hub:
    """Create the hub of this app and register the Socket.IO handlers."""
    hub = Hub(socketio, database, limiter)
    app.extensions["dialogrum.hub"] = hub

    @socketio.on("connect")
    def _on_connect(auth=None):
        user = current_user._get_current_object() if current_user and current_user.is_authenticated else None
        hub.connect(request.sid, auth, remote_addr=request.remote_addr, user=user)

    def _on_disconnect(sid: str, *_reason: object) -> None:
        hub.detach(sid)

    server = socketio.server
    server.on("disconnect", _on_disconnect)
    for event, handler in (("vote", hub.vote), ("comment", hub.comment), ("control", hub.control),
                           ("moderate", hub.moderate), ("conclude", hub.conclude)):
        server.on(event, _safe(handler))
    return hub
