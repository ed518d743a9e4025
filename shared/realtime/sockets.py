"""Socket.IO handlers: authenticate a socket, and translate its commands to the meeting rules.

Every command has one shape: the sender's role is checked, the payload must be an object, the
rule runs in one unit of work (shared/uow.py) whose events reach the rooms only after the commit,
and the acknowledgement says what the rule returned. An `ok: true` ack means the row is committed.

The hot events (`vote`, `comment`) skip Flask-SocketIO's per-event app and request context: all
events are registered directly on python-socketio's server, and the participant and session were
resolved once, at connect (docs/architecture.md#the-vote-path).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, SocketIO
from limits import parse as parse_limit

from shared import joining, logs, presence
from shared import meeting as rules
from shared.access import lapsed_grants
from shared.accounts import token_for
from shared.db import Database
from shared.errors import DialogrumError
from shared.faults import new_request_id
from shared.meeting import likes
from shared.models import User
from shared.ratelimit import NEW_PARTICIPANT_LIMIT, Limiter
from shared.realtime.hub import Client, Hub
from shared.uow import Work, publish, unit_of_work

log = logging.getLogger(__name__)


class Sockets:
    """The socket side of one app: who may connect, and what each command does."""

    def __init__(self, hub: Hub, database: Database, limiter: Limiter, new_participant_limit: Any = None) -> None:
        self.hub = hub
        self.db = database
        self.limiter = limiter
        self.new_participant_limit = new_participant_limit or NEW_PARTICIPANT_LIMIT

    # -- connections ------------------------------------------------------------------------------

    def connect(self, sid: str, auth: object, *, remote_addr: str | None, user: User | None) -> Client:
        """Authenticate a new socket from its `auth` dict (or the login cookie's user); raise
        ConnectionRefusedError with the contract's code when it may not connect."""
        self.hub.start()
        auth = auth if isinstance(auth, dict) else {}
        greeting = None  # a phone's welcome and first state, read with who it is
        if "session_id" in auth and "api_token" in auth:
            token = token_for(self.db.session, auth.get("api_token"))
            user, token_id, version = (token.user, token.id, None) if token is not None else (None, None, None)
        else:  # the login cookie (already checked against the user's session version)
            token_id, version = None, (user.session_version if user is not None else None)
        # The ORM session (token or login cookie lookup) must give its pooled connection back
        # before the transaction below: SQLite has exactly one.
        self.db.session.remove()
        try:
            if "code" in auth:
                client, greeting = self._join(sid, auth, remote_addr)
            else:
                client = self._console(sid, auth, user, token_id, version)
        except DialogrumError as exc:
            raise ConnectionRefusedError(exc.code) from None
        except Exception:
            # Told at once (the client would otherwise wait for its own timeout): the database or
            # something else failed; logged with its traceback.
            log.exception("socket connect failed")
            raise ConnectionRefusedError("server_error") from None
        self.hub.attach(client)
        self.hub.socketio.start_background_task(self._greet, sid, greeting)
        return client

    def _join(self, sid: str, auth: dict, remote_addr: str | None) -> tuple[Client, dict]:
        """A phone: who it is and its greeting are read; its rows are committed together with
        those of the other phones connecting at the same moment (shared/presence.py `JoinCommit`)."""
        # Asked before a pooled connection is taken: with Redis it is a network round trip.
        allowed = joining.may_look_up(self.limiter, remote_addr or "?")
        sent = auth.get("token")
        made = 0
        with self.db.reads() as conn:  # nothing is written in this connection
            # Wrong codes count per address, the right one never (shared/joining.py).
            meeting = joining.find(conn, auth.get("code"), self.limiter, remote_addr, token=sent, allowed=allowed,
                                   narrow=True)
            if meeting is None:
                raise DialogrumError("unknown_session")
            participant_id, token, row = rules.admit(conn, meeting, sent)
            if row is not None:  # a new participant: a hall's pace per address; reconnects never count
                made = joining.new_participant(meeting.id, self.limiter, remote_addr, self.new_participant_limit)
            greeting = self._phone_greeting(conn, meeting, participant_id, token, fresh=row is not None)
        presence.store_join(self.db, row, sid=sid, process_id=self.hub.process_id, meeting_id=meeting.id,
                            participant_id=participant_id)
        if joining.may_warn(made):  # counted once stored: the phones stored with this one are in the room
            with self.db.reads() as conn:
                warning = joining.join_warning(conn, meeting.id, self.limiter, made, connected=self.hub.participants)
            if warning is not None:  # after the commit, like every event
                publish(self.db, [warning])
        return Client(sid, meeting.id, "participant", participant_id=participant_id), greeting

    def _console(self, sid: str, auth: dict, user: User | None, token_id: Any, version: Any) -> Client:
        """A projector (by its key) or a facilitator's console (by token or login cookie)."""
        with unit_of_work(self.db) as work:
            conn = work.conn
            if "projector_key" in auth:
                meeting = rules.find_by_projector_key(conn, auth.get("projector_key"))
                if meeting is None:
                    raise DialogrumError("unknown_session")
                client = Client(sid, meeting.id, "projector", batch=auth.get("batch") is True)
            elif "session_id" in auth:
                if user is None:
                    raise DialogrumError("unauthorized")
                try:
                    meeting = rules.get_meeting(conn, auth.get("session_id"))
                except DialogrumError:
                    raise DialogrumError("unknown_session") from None
                if not rules.may_manage(user, meeting):
                    raise DialogrumError("forbidden")
                client = Client(sid, meeting.id, "facilitator", user_id=user.id, token_id=token_id,
                                session_version=version)
            else:
                raise DialogrumError("unauthorized")
            presence.add_connection(conn, sid=sid, process_id=self.hub.process_id, meeting_id=client.meeting_id,
                                    role=client.role, participant_id=None)
        return client

    def _phone_greeting(self, conn: Any, meeting: Any, participant_id: str, token: str, *, fresh: bool) -> dict:
        """A phone's `welcome` and first `state`, read with who it is: a hall of phones
        connecting at once costs one connection each, not two (issue 14, item 1). Phones share a
        state computed once per tick; a participant this connect made has neither voted nor
        commented, so its `me` needs no query."""
        st = self.hub.recent_state(conn, meeting.id, meeting.state_version)
        item_id = st["item"]["id"] if st["item"] else None
        me = dict(rules.read.NOBODY) if fresh else rules.me(conn, meeting.id, participant_id, item_id)
        # Results the phone may see (shown by the facilitator) are sent by _greet, from the database.
        extras = st["session"]["status"] == "live" and item_id is not None and st["results_visible"]
        return {"welcome": {"token": token, "participant_id": participant_id}, "state": {**st, "me": me},
                "extras": extras}

    def _wait_connected(self, sid: str) -> bool:
        # The CONNECT packet goes out after the connect handler returns; wait for it so the
        # first events are never sent before the client knows it is connected.
        hub = self.hub
        manager = hub.socketio.server.manager
        for _ in range(200):
            if manager.is_connected(sid, "/"):
                break
            hub.socketio.sleep(0.005)
        return sid in hub.clients

    def _greet(self, sid: str, greeting: dict | None) -> None:
        if not self._wait_connected(sid):
            return
        hub = self.hub
        client = hub.clients[sid]
        if greeting is not None:
            hub._emit_local("welcome", greeting["welcome"], sid)
            st = greeting["state"]
            # This process already sent a newer state to the session's sockets (a step between the
            # connect and now): the phone's first state must not take it back.
            if hub.versions.get(client.meeting_id, -1) <= st["version"] and not greeting["extras"]:
                hub._emit_local("state", st, sid)
                hub.versions.setdefault(client.meeting_id, st["version"])
                return
        with self.db.begin() as conn:
            row = rules.get_meeting(conn, client.meeting_id)
            # A console or a projector, one at a time, gets the exact count of this moment.
            if client.role == "participant":
                st = hub.recent_state(conn, row.id, row.state_version, row)
                item_id = st["item"]["id"] if st["item"] else None
                st = {**st, "me": rules.me(conn, row.id, client.participant_id, item_id)}
            else:
                st = rules.state(conn, row)
            hub._emit_local("state", st, sid)
            if row.status == "live":
                hub.send_item_extras(conn, row, st, to_sid=sid, role=client.role)
            if client.role != "participant":
                hub._emit_local("presence", {"participants": st["participants"]}, sid)
            if client.role == "facilitator":
                self._warn(conn, client, sid)
        hub.versions.setdefault(client.meeting_id, row.state_version)

    def _warn(self, conn: Any, client: Client, sid: str) -> None:
        """A facilitator connecting sees a join warning raised before (shared/joining.py)."""
        try:
            warning = joining.warning_for(conn, client.meeting_id, self.limiter)
        except DialogrumError:  # the rate limits' store is down: nothing to show, nothing to break
            return
        if warning:
            self.hub._emit_local("join_warning", warning, sid)

    # -- commands -----------------------------------------------------------------------------

    def _client(self, sid: str, data: object, role: str) -> Client:
        client = self.hub.clients.get(sid)
        if client is None or client.role != role:
            raise DialogrumError("forbidden")
        if not isinstance(data, dict):
            raise DialogrumError("invalid")
        return client

    def _command(self, sid: str, data: object, role: str, rule: Callable[[Work, Client, dict], Any],
                 answer: Callable[[Any], dict]) -> dict:
        try:
            client = self._client(sid, data, role)
            with unit_of_work(self.db) as work:
                if client.role == "facilitator":
                    # Re-checked on every command, not only at connect: a deactivation, role
                    # change, revoked token or sign-out counts at once (issue 15, point 1).
                    lapsed = lapsed_grants(work.conn, {sid: client.grant()})
                    if lapsed:
                        self.hub.socketio.start_background_task(self.hub.socketio.server.disconnect, sid)
                        raise DialogrumError(lapsed[sid])
                result = rule(work, client, data)
        except DialogrumError as exc:
            return {"ok": False, "error": exc.code}
        return answer(result)

    def vote(self, sid: str, data: object) -> dict:
        """`vote {item_id, choice}` (participants) -> `{ok}` after commit."""
        try:
            client = self._client(sid, data, "participant")
            rules.cast_vote(self.db, client.meeting_id, client.participant_id, data.get("item_id"),
                            data.get("choice"), limiter=self.limiter)
        except DialogrumError as exc:
            return {"ok": False, "error": exc.code}
        return {"ok": True}

    def comment(self, sid: str, data: object) -> dict:
        """`comment {item_id, text}` (participants) -> `{ok, id}` after commit."""
        try:
            client = self._client(sid, data, "participant")
            comment = rules.post_comment(self.db, client.meeting_id, client.participant_id, data.get("item_id"),
                                         data.get("text"), limiter=self.limiter)
        except DialogrumError as exc:
            return {"ok": False, "error": exc.code}
        # Additive: `pending` says it waits for the facilitator's approval (the phone tells its author).
        return {"ok": True, "id": comment["id"], "pending": not comment["approved"]}

    def like(self, sid: str, data: object) -> dict:
        """Additive: `like {comment_id, liked}` (participants) -> `{ok, likes, liked}` after commit:
        a thumbs-up on another phone's comment on the current open question, or taken back."""
        try:
            client = self._client(sid, data, "participant")
            done = likes.post_like(self.db, client.meeting_id, client.participant_id, data.get("comment_id"),
                                   data.get("liked"), limiter=self.limiter)
        except DialogrumError as exc:
            return {"ok": False, "error": exc.code}
        return {"ok": True, "comment_id": done["comment_id"], "likes": done["likes"], "liked": done["liked"]}

    def comments(self, sid: str, data: object) -> dict:
        """Additive: `comments {}` (participants) -> `{ok, item_id, comments}`: the comments the
        phone sees on the current item, each with `likes`, `liked_by_me` and `mine`. Asked for by
        the phone (on a new item, after a reconnect) rather than pushed with every state, which
        would cost one query per phone at each step."""
        try:
            client = self._client(sid, data, "participant")
            item_id, shown = likes.comments_for_phone(self.db, client.meeting_id, client.participant_id,
                                                      limiter=self.limiter)
        except DialogrumError as exc:
            return {"ok": False, "error": exc.code}
        return {"ok": True, "item_id": item_id, "comments": shown}

    def control(self, sid: str, data: object) -> dict:
        """`control {action, index?}` (facilitators) -> the state after the action, or an error."""
        return self._command(
            sid, data, "facilitator",
            lambda work, client, data: rules.control(work, client.meeting_id, data.get("action"), data.get("index")),
            lambda state: state)

    def moderate(self, sid: str, data: object) -> dict:
        """`moderate {comment_id, hidden?, pinned?, approved?}` (facilitators) -> `{ok, comment}`."""
        return self._command(
            sid, data, "facilitator",
            lambda work, client, data: rules.moderate(work, client.meeting_id, data.get("comment_id"),
                                                      hidden=data.get("hidden"), pinned=data.get("pinned"),
                                                      approved=data.get("approved")),
            lambda comment: {"ok": True, "comment": comment})

    def conclude(self, sid: str, data: object) -> dict:
        """`conclude {item_id, text}` (facilitators) -> `{ok, conclusion}`."""
        return self._command(
            sid, data, "facilitator",
            lambda work, client, data: rules.set_conclusion(work, client.meeting_id, data.get("item_id"),
                                                            data.get("text")),
            lambda saved: {"ok": True, "conclusion": saved})

    def hands(self, sid: str, data: object) -> dict:
        """`set_hands {item_id, counts}` (facilitators) -> `{ok, item_id, hands}` after commit; the
        item's `results` follow. A refused count also names each wrong place and why (`errors`:
        `[{place, kind, ...}]`), for the console to say in its language."""
        places: list[dict] = []

        def rule(work: Work, client: Client, data: dict) -> dict:
            try:
                return rules.set_hands(work, client.meeting_id, data.get("item_id"), data.get("counts"))
            except rules.CountsError as exc:
                places.extend({"place": p, "kind": k, **v} for p, k, v in exc.errors)
                raise

        ack = self._command(sid, data, "facilitator", rule, lambda saved: {"ok": True, **saved})
        if places:
            ack["errors"] = places
        return ack


def _safe(handler: Callable[[str, object], dict]) -> Callable[..., dict]:
    """Wrap a raw handler so an unexpected error still answers the ack instead of hanging it."""

    def wrapped(sid: str, data: object = None, *_extra: object) -> dict:
        try:
            return handler(sid, data)
        except Exception:
            log.exception("socket handler failed")
            return {"ok": False, "error": "server_error"}

    wrapped.__name__ = handler.__name__
    return wrapped


def _role_asked(auth: object) -> str | None:
    """Who a refused socket tried to be, from the kind of credential it sent (never its value)."""
    if not isinstance(auth, dict):
        return None
    for key, role in (("code", "participant"), ("projector_key", "projector"), ("session_id", "facilitator")):
        if key in auth:
            return role
    return None


def _measured(event: str, handler: Callable[..., dict], metrics: Any) -> Callable[..., dict]:
    """A vote's or comment's answer counted and its latency observed (shared/metrics.py)."""

    def measured(sid: str, data: object = None, *_extra: object) -> dict:
        started = time.perf_counter()
        return metrics.acknowledged(event, started, handler(sid, data))

    return measured


def init_app(app: Flask, socketio: SocketIO, database: Database, limiter: Limiter) -> Hub:
    """Create the hub of this app and register the Socket.IO handlers."""
    hub = Hub(socketio, database, limiter)
    limit = app.config.get("NEW_PARTICIPANT_LIMIT")
    sockets = Sockets(hub, database, limiter, parse_limit(limit) if limit else None)
    app.extensions["dialogrum.hub"] = hub
    app.extensions["dialogrum.sockets"] = sockets

    metrics = app.extensions["dialogrum.metrics"]
    # The request id of each open socket's connect, so that its disconnect line carries it too.
    request_ids: dict[str, str] = {}

    trust_proxy = bool(app.config.get("TRUST_PROXY"))

    def _on_connect(sid: str, environ: dict, auth: object = None) -> None:
        # Registered on python-socketio's server like the commands, not through Flask-SocketIO,
        # which would copy the Flask session and push an app and a request context for every
        # connect: a tenth of a hall's connect storm (issue 14, item 1). Only a console signed in
        # by its login cookie needs the request (for `current_user`); the client's address is the
        # environ's, ProxyFix having run.
        if isinstance(auth, dict) and "code" not in auth and "projector_key" not in auth and "api_token" not in auth:
            with app.request_context(environ):
                user = current_user._get_current_object() if current_user.is_authenticated else None
        else:
            user = None
        rid = new_request_id(environ.get("HTTP_X_REQUEST_ID", ""), trust_proxy)
        try:
            client = sockets.connect(sid, auth, remote_addr=environ.get("REMOTE_ADDR"), user=user)
        except ConnectionRefusedError as exc:
            reason = exc.error_args["message"]
            metrics.refusals.labels(reason).inc()
            logs.socket_event("socket_refused", request_id=rid, sid=sid, role=_role_asked(auth), reason=reason)
            raise
        request_ids[sid] = rid
        metrics.connects.labels(client.role).inc()
        logs.socket_event("socket_connect", request_id=rid, sid=sid, role=client.role, meeting=client.meeting_id)

    def _on_disconnect(sid: str, *reason: object) -> None:
        client = hub.clients.get(sid)
        hub.detach(sid)
        rid = request_ids.pop(sid, None)
        if client is not None:
            logs.socket_event("socket_disconnect", request_id=rid, sid=sid, role=client.role,
                              meeting=client.meeting_id, reason=str(reason[0]) if reason else None)

    def _on_unknown(event: str, _sid: str, *_args: object) -> dict:
        # Contract v1.1: an event the server does not know is answered, never left hanging.
        return {"ok": False, "error": "unknown_event"}

    server = socketio.server
    server.on("connect", _on_connect)
    server.on("disconnect", _on_disconnect)
    server.on("*", _on_unknown)
    for event, handler in (("vote", sockets.vote), ("comment", sockets.comment), ("control", sockets.control),
                           ("moderate", sockets.moderate), ("conclude", sockets.conclude), ("like", sockets.like),
                           ("comments", sockets.comments), ("set_hands", sockets.hands)):
        wrapped = _safe(handler)
        server.on(event, _measured(event, wrapped, metrics) if event in ("vote", "comment") else wrapped)
    return hub
