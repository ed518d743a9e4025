"""The meeting rules: the one place that changes meeting data.

Sockets, REST and the CLI call these functions and only translate between their wire format and
this module. Every function works on a SQLAlchemy `Connection` inside the caller's transaction
and never commits: the caller commits once, and announces (emits) only after the commit
succeeded. Refusals raise `DialogrumError` with the contract's code.

The vote path is deliberately lean (stack-notes.md): one guarded `INSERT … ON CONFLICT`
statement through SQLAlchemy Core, no ORM objects, and the participant resolved at connect.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from shared import guides
from shared.errors import DialogrumError
from shared.models import (
    CHOICES,
    Comment,
    Conclusion,
    Connection,
    Guide,
    Meeting,
    Participant,
    ServerProcess,
    Vote,
    utcnow,
)
from shared.ratelimit import COMMENT_LIMIT, VOTE_LIMIT

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
MAX_COMMENT = 1000
MAX_CONCLUSION = 10000
ACTIONS = ("start", "next", "prev", "goto", "open_voting", "close_voting", "show_results", "hide_results", "end")
#: a process whose heartbeat is older than this no longer counts its connections
PROCESS_TIMEOUT_SECONDS = 30

_meetings = Meeting.__table__
_votes = Vote.__table__
_comments = Comment.__table__
_participants = Participant.__table__
_connections = Connection.__table__
_processes = ServerProcess.__table__
_conclusions = Conclusion.__table__
#: A meeting row without its guide snapshot: rows are read on every connect and every state
#: change, and the snapshot (parsed JSON) is only ever needed through the `snapshot()` cache.
MEETING_COLUMNS = tuple(c for c in _meetings.c if c.name != "guide_snapshot")


def _random_id(n: int = 12) -> str:
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(n))


def hash_token(token: str) -> str:
    """SHA-256 of a random token; tokens are never stored in clear."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_code(raw: object) -> str | None:
    """Upper-case a join code and drop spaces and dashes; None when it cannot be a code."""
    if not isinstance(raw, str):
        return None
    code = "".join(ch for ch in raw.upper() if ch not in " -\t")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


# ---------------------------------------------------------------------------------------------
# Guide snapshots: immutable per meeting, so a per-process cache is safe (it never goes stale).


@dataclass(frozen=True)
class Snapshot:
    """The flattened items of one meeting's guide snapshot."""

    title: str
    language: str
    items: tuple[dict[str, Any], ...]
    by_id: dict[str, dict[str, Any]]


_snapshot_cache: OrderedDict[str, Snapshot] = OrderedDict()
_snapshot_lock = threading.Lock()


def snapshot(conn: sa.Connection, meeting_id: str) -> Snapshot:
    """The items of a meeting in guide order (cached: a snapshot never changes)."""
    with _snapshot_lock:
        cached = _snapshot_cache.get(meeting_id)
        if cached is not None:
            _snapshot_cache.move_to_end(meeting_id)
            return cached
    doc = conn.execute(sa.select(_meetings.c.guide_snapshot).where(_meetings.c.id == meeting_id)).scalar()
    if doc is None:
        raise DialogrumError("unknown_session")
    items = tuple(guides.flatten(doc))
    snap = Snapshot(doc["title"], doc["language"], items, {item["id"]: item for item in items})
    with _snapshot_lock:
        _snapshot_cache[meeting_id] = snap
        while len(_snapshot_cache) > 256:
            _snapshot_cache.popitem(last=False)
    return snap


# ---------------------------------------------------------------------------------------------
# Sessions


def _unique_value(conn: sa.Connection, column: sa.Column, make) -> str:
    for _ in range(50):
        value = make()
        if conn.execute(sa.select(column).where(column == value)).first() is None:
            return value
    raise RuntimeError("could not find a free value")  # pragma: no cover - 31^6 codes


def new_code() -> str:
    """A random join code from the unambiguous alphabet."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def create_meeting(
    conn: sa.Connection, *, guide_id: object, title: object, unit: object = "", facilitator_id: int | None
) -> str:
    """Create a waiting session from a guide, snapshotting the guide; returns the session id."""
    if not isinstance(guide_id, str) or not guide_id:
        raise DialogrumError("invalid", "guide_id must be a string")
    if not isinstance(title, str) or not title.strip():
        raise DialogrumError("invalid", "title must be a non-empty string")
    if unit is None:
        unit = ""
    if not isinstance(unit, str):
        raise DialogrumError("invalid", "unit must be a string")
    title, unit = title.strip(), unit.strip()
    if len(title) > 300 or len(unit) > 200:
        raise DialogrumError("invalid", "title or unit is too long")
    guide = conn.execute(sa.select(Guide.__table__).where(Guide.__table__.c.id == guide_id)).first()
    if guide is None:
        raise DialogrumError("not_found", "unknown guide")
    meeting_id = _unique_value(conn, _meetings.c.id, _random_id)
    conn.execute(
        _meetings.insert().values(
            id=meeting_id,
            code=_unique_value(conn, _meetings.c.code, new_code),
            projector_key=secrets.token_urlsafe(24),
            title=title,
            unit=unit,
            guide_id=guide.id,
            guide_snapshot=guide.document,
            facilitator_id=facilitator_id,
            status="waiting",
            voting_open=False,
            results_visible=False,
            state_version=0,
            created_at=utcnow(),
        )
    )
    return meeting_id


def get_meeting(conn: sa.Connection, meeting_id: object) -> sa.Row:
    """The meeting row, or `unknown_session`."""
    if not isinstance(meeting_id, str):
        raise DialogrumError("unknown_session")
    row = conn.execute(sa.select(*MEETING_COLUMNS).where(_meetings.c.id == meeting_id)).first()
    if row is None:
        raise DialogrumError("unknown_session")
    return row


def find_by_code(conn: sa.Connection, raw_code: object) -> sa.Row | None:
    """The meeting with this join code (any case, spaces and dashes ignored)."""
    code = normalise_code(raw_code)
    if code is None:
        return None
    return conn.execute(sa.select(*MEETING_COLUMNS).where(_meetings.c.code == code)).first()


def find_by_projector_key(conn: sa.Connection, key: object) -> sa.Row | None:
    """The meeting whose projector key this is."""
    if not isinstance(key, str) or not key or len(key) > 64:
        return None
    return conn.execute(sa.select(*MEETING_COLUMNS).where(_meetings.c.projector_key == key)).first()


def may_manage(user: Any, meeting: sa.Row) -> bool:
    """Organisers manage every session, facilitators their own."""
    if user is None or not getattr(user, "active", False):
        return False
    return user.role == "organiser" or meeting.facilitator_id == user.id


# ---------------------------------------------------------------------------------------------
# State


def participant_count(conn: sa.Connection, meeting_id: str) -> int:
    """Phones connected to the session right now, across all live server processes."""
    cutoff = utcnow() - _timeout()
    return conn.execute(
        sa.select(sa.func.count(sa.distinct(_connections.c.participant_id)))
        .select_from(_connections.join(_processes, _processes.c.id == _connections.c.process_id))
        .where(
            _connections.c.meeting_id == meeting_id,
            _connections.c.role == "participant",
            _processes.c.heartbeat_at > cutoff,
        )
    ).scalar_one()


def _timeout():
    import datetime as dt

    return dt.timedelta(seconds=PROCESS_TIMEOUT_SECONDS)


def public_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """The contract's `item` of the state object."""
    if item is None:
        return None
    return {
        "id": item["id"],
        "kind": item["kind"],
        "title": item["title"],
        "text": item["text"],
        "choices": list(item["choices"]),
        "section": dict(item["section"]),
    }


def state(conn: sa.Connection, meeting: sa.Row, *, participants: int | None = None) -> dict[str, Any]:
    """The contract's state object for a meeting row."""
    snap = snapshot(conn, meeting.id)
    item = snap.items[meeting.position] if meeting.position is not None and meeting.status != "waiting" else None
    if participants is None:
        participants = participant_count(conn, meeting.id)
    return {
        "session": {"id": meeting.id, "code": meeting.code, "title": meeting.title, "status": meeting.status},
        # The index stays an integer (0) while waiting, as in the contract's example; `item` is null.
        "position": {"index": meeting.position if item is not None else 0, "count": len(snap.items)},
        "item": public_item(item),
        "voting_open": bool(meeting.voting_open),
        "results_visible": bool(meeting.results_visible),
        "participants": participants,
        # Additive fields: the vote labels in the guide's language, and the state's version.
        "language": snap.language,
        "labels": dict(guides.VOTE_LABELS.get(snap.language, guides.VOTE_LABELS["en"])),
        "version": meeting.state_version,
    }


def control(conn: sa.Connection, meeting_id: object, action: object, index: object = None) -> sa.Row:
    """Apply a facilitator's action and return the meeting row after it.

    Moving to another item closes voting and hides results. An action that does not fit the
    state is refused with `wrong_state` (or `session_ended` after the end).
    """
    if action not in ACTIONS:
        raise DialogrumError("invalid", "action must be one of " + ", ".join(ACTIONS))
    meeting = get_meeting(conn, meeting_id)
    snap = snapshot(conn, meeting.id)
    if meeting.status == "ended":
        raise DialogrumError("session_ended")
    live = meeting.status == "live"
    current = snap.items[meeting.position] if live and meeting.position is not None else None
    values: dict[str, Any] = {}

    def move_to(pos: int) -> None:
        values.update(position=pos, current_item_id=snap.items[pos]["id"], voting_open=False, results_visible=False)

    if action == "start":
        if meeting.status != "waiting":
            raise DialogrumError("wrong_state", "the session has already started")
        move_to(0)
        values.update(status="live", started_at=utcnow())
    elif action == "end":
        values.update(status="ended", voting_open=False, ended_at=utcnow())
    elif not live:
        raise DialogrumError("wrong_state", "the session has not started")
    elif action == "next":
        if meeting.position + 1 >= len(snap.items):
            raise DialogrumError("wrong_state", "already at the last item")
        move_to(meeting.position + 1)
    elif action == "prev":
        if meeting.position == 0:
            raise DialogrumError("wrong_state", "already at the first item")
        move_to(meeting.position - 1)
    elif action == "goto":
        if isinstance(index, bool) or not isinstance(index, int):
            raise DialogrumError("invalid", "index must be an integer")
        if not 0 <= index < len(snap.items):
            raise DialogrumError("wrong_state", "index is outside the guide")
        if index == meeting.position:
            raise DialogrumError("wrong_state", "already at that item")
        move_to(index)
    elif action in ("open_voting", "close_voting", "show_results", "hide_results"):
        if current is None or current["kind"] != "consideration":
            raise DialogrumError("wrong_state", "only considerations are voted on")
        flag, wanted = {
            "open_voting": ("voting_open", True),
            "close_voting": ("voting_open", False),
            "show_results": ("results_visible", True),
            "hide_results": ("results_visible", False),
        }[action]
        if bool(getattr(meeting, flag)) == wanted:
            raise DialogrumError("wrong_state", f"{flag} is already {str(wanted).lower()}")
        values[flag] = wanted
    # The version guard makes two concurrent actions on the same state serialise: the loser
    # sees no row updated and is told to retry instead of silently overwriting.
    result = conn.execute(
        _meetings.update()
        .where(_meetings.c.id == meeting.id, _meetings.c.state_version == meeting.state_version)
        .values(state_version=meeting.state_version + 1, **values)
    )
    if result.rowcount != 1:
        raise DialogrumError("conflict", "the session changed at the same time; try again")
    return get_meeting(conn, meeting.id)


# ---------------------------------------------------------------------------------------------
# Participants


def join(conn: sa.Connection, meeting: sa.Row, token: object = None) -> tuple[str, str]:
    """Return (participant_id, token): the same participant when the phone sends its token back."""
    if meeting.status == "ended":
        raise DialogrumError("session_ended")
    if isinstance(token, str) and 16 <= len(token) <= 128:
        pid = conn.execute(
            sa.select(_participants.c.id).where(
                _participants.c.token_hash == hash_token(token), _participants.c.meeting_id == meeting.id
            )
        ).scalar()
        if pid is not None:
            return pid, token
    token = secrets.token_urlsafe(24)
    pid = _random_id()
    conn.execute(
        _participants.insert().values(id=pid, meeting_id=meeting.id, token_hash=hash_token(token), created_at=utcnow())
    )
    return pid, token


def me(conn: sa.Connection, meeting_id: str, participant_id: str, item_id: str | None) -> dict[str, Any]:
    """The participant's own vote and comment count on an item (the `me` of a state)."""
    if item_id is None:
        return {"vote": None, "comments": 0}
    vote = conn.execute(
        sa.select(_votes.c.choice).where(_votes.c.participant_id == participant_id, _votes.c.item_id == item_id)
    ).scalar()
    comments = conn.execute(
        sa.select(sa.func.count())
        .select_from(_comments)
        .where(_comments.c.participant_id == participant_id, _comments.c.item_id == item_id)
    ).scalar_one()
    return {"vote": vote, "comments": comments}


def me_for_all(conn: sa.Connection, meeting_id: str, item_id: str | None) -> dict[str, dict[str, Any]]:
    """`me` for every participant of a session that voted or commented on the item (two queries)."""
    out: dict[str, dict[str, Any]] = {}
    if item_id is None:
        return out
    for pid, choice in conn.execute(
        sa.select(_votes.c.participant_id, _votes.c.choice).where(
            _votes.c.meeting_id == meeting_id, _votes.c.item_id == item_id
        )
    ):
        out[pid] = {"vote": choice, "comments": 0}
    for pid, n in conn.execute(
        sa.select(_comments.c.participant_id, sa.func.count())
        .where(_comments.c.meeting_id == meeting_id, _comments.c.item_id == item_id)
        .group_by(_comments.c.participant_id)
    ):
        out.setdefault(pid, {"vote": None, "comments": 0})["comments"] = n
    return out


# ---------------------------------------------------------------------------------------------
# Votes


def _insert_for(dialect: str):
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


_vote_statements: dict[str, sa.Insert] = {}


def _vote_statement(dialect: str) -> sa.Insert:
    """One guarded upsert, built once per dialect so SQLAlchemy's compiled cache always hits."""
    stmt = _vote_statements.get(dialect)
    if stmt is None:
        guard = sa.exists().where(
            _meetings.c.id == sa.bindparam("m"),
            _meetings.c.status == "live",
            _meetings.c.voting_open.is_(True),
            _meetings.c.current_item_id == sa.bindparam("i"),
        )
        source = sa.select(
            sa.bindparam("m", type_=sa.String),
            sa.bindparam("p", type_=sa.String),
            sa.bindparam("i", type_=sa.String),
            sa.bindparam("c", type_=sa.String),
            sa.bindparam("t", type_=_votes.c.updated_at.type),
        ).where(guard)
        insert = _insert_for(dialect)(_votes).from_select(
            ["meeting_id", "participant_id", "item_id", "choice", "updated_at"], source
        )
        stmt = insert.on_conflict_do_update(
            index_elements=["participant_id", "item_id"],
            set_={"choice": insert.excluded.choice, "updated_at": insert.excluded.updated_at},
        )
        _vote_statements[dialect] = stmt
    return stmt


def check_rate(limiter: Any, limit: Any, kind: str, participant_id: str) -> None:
    """Refuse with `rate_limited` when a participant exceeds a limit (shared across processes)."""
    if limiter is not None and not limiter.hit(limit, kind, participant_id):
        raise DialogrumError("rate_limited")


_compiled: dict[tuple[int, str], tuple[str, tuple[str, ...] | None, dict, dict]] = {}


def _driver_statement(dialect: sa.Dialect, stmt: sa.Executable, params: dict[str, Any]) -> tuple[str, Any]:
    """A statement compiled once per dialect, as SQL text and driver parameters.

    The vote is the one statement that runs a thousand times a second; skipping SQLAlchemy's
    per-execution cache-key walk and its Connection machinery halves its cost (bench/,
    stack-notes.md). Bind processors are applied from the compiled statement, so types (UTC
    timestamps) are handled exactly as SQLAlchemy would.
    """
    key = (id(stmt), dialect.name)
    entry = _compiled.get(key)
    if entry is None:
        compiled = stmt.compile(dialect=dialect)
        processors = {name: proc for name, proc in compiled._bind_processors.items() if proc is not None}
        # Literal values of the statement (e.g. status = 'live') are bound parameters too.
        defaults = {name: value for name, value in compiled.params.items() if name not in params}
        entry = (str(compiled), compiled.positiontup, processors, defaults)
        _compiled[key] = entry
    sql, order, processors, defaults = entry
    merged = {**defaults, **params}
    values = {name: (processors[name](value) if name in processors else value) for name, value in merged.items()}
    return sql, (tuple(values[name] for name in order) if order else values)


def check_vote(snap: Snapshot, item_id: object, choice: object) -> None:
    """Refuse a vote that cannot be right whatever the state: unknown item or choice."""
    if not isinstance(item_id, str) or not isinstance(choice, str):
        raise DialogrumError("invalid_choice" if isinstance(item_id, str) else "not_current_item")
    item = snap.by_id.get(item_id)
    if item is None:
        raise DialogrumError("not_current_item")
    if choice not in item["choices"]:
        raise DialogrumError("invalid_choice")


def _vote_params(meeting_id: str, participant_id: str, item_id: str, choice: str) -> dict[str, Any]:
    return {"m": meeting_id, "p": participant_id, "i": item_id, "c": choice, "t": utcnow()}


def vote_refusal(conn: sa.Connection, meeting_id: str, item_id: str) -> DialogrumError:
    """Why the guarded upsert stored nothing: the item is no longer current, or voting is closed."""
    row = conn.execute(
        sa.select(_meetings.c.current_item_id, _meetings.c.status).where(_meetings.c.id == meeting_id)
    ).first()
    if row is not None and row.status == "live" and row.current_item_id != item_id:
        return DialogrumError("not_current_item")
    return DialogrumError("voting_closed")


def cast_vote(conn: sa.Connection, meeting_id: str, participant_id: str, item_id: object, choice: object,
              *, limiter: Any = None) -> None:
    """Record (or replace) a participant's vote on the current item while voting is open.

    One guarded upsert: it stores the vote only if the session is live, voting is open and the
    item is the current one, so a vote can never land on a closed or left item.
    """
    check_rate(limiter, VOTE_LIMIT, "vote", participant_id)
    check_vote(snapshot(conn, meeting_id), item_id, choice)
    sql, params = _driver_statement(conn.dialect, _vote_statement(conn.dialect.name),
                                    _vote_params(meeting_id, participant_id, item_id, choice))
    if conn.exec_driver_sql(sql, params).rowcount == 0:
        raise vote_refusal(conn, meeting_id, item_id)


def cast_vote_fast(db: Any, meeting_id: str, participant_id: str, item_id: object, choice: object) -> None:
    """`cast_vote` for the socket hot path: the same checks and the same statement, run on a
    pooled DB-API connection in its own committed transaction (no SQLAlchemy Connection).

    Returns only after the commit. The refusal path, rare, takes an ordinary transaction.
    """
    snap = _snapshot_cache.get(meeting_id)
    if snap is None:
        with db.begin() as conn:
            snap = snapshot(conn, meeting_id)
    check_vote(snap, item_id, choice)
    dialect = db.engine.dialect
    sql, params = _driver_statement(dialect, _vote_statement(dialect.name),
                                    _vote_params(meeting_id, participant_id, item_id, choice))
    with db.driver_transaction() as raw:
        cursor = raw.cursor()
        try:
            cursor.execute(sql, params)
            stored = cursor.rowcount != 0
        finally:
            cursor.close()
    if not stored:
        with db.begin() as conn:
            raise vote_refusal(conn, meeting_id, item_id)


def counts(conn: sa.Connection, meeting_id: str, item_ids: list[str] | None = None) -> dict[str, dict[str, int]]:
    """Vote counts per item with one GROUP BY: {item_id: {"yes", "no", "unsure", "voters"}}."""
    stmt = sa.select(_votes.c.item_id, _votes.c.choice, sa.func.count()).where(_votes.c.meeting_id == meeting_id)
    if item_ids is not None:
        stmt = stmt.where(_votes.c.item_id.in_(item_ids))
    out: dict[str, dict[str, int]] = {i: empty_counts() for i in item_ids or ()}
    for item_id, choice, n in conn.execute(stmt.group_by(_votes.c.item_id, _votes.c.choice)):
        c = out.setdefault(item_id, empty_counts())
        c[choice] = n
        c["voters"] += n
    return out


def empty_counts() -> dict[str, int]:
    """Counts of an item nobody voted on."""
    return {**dict.fromkeys(CHOICES, 0), "voters": 0}


# ---------------------------------------------------------------------------------------------
# Comments, moderation, conclusions


def comment_payload(row: Any) -> dict[str, Any]:
    """The wire form of a comment (the contract's fields plus `pinned` and `hidden`)."""
    return {
        "id": row.id,
        "item_id": row.item_id,
        "text": row.text,
        "created_at": row.created_at.isoformat(),
        "pinned": bool(row.pinned),
        "hidden": bool(row.hidden),
    }


def add_comment(conn: sa.Connection, meeting_id: str, participant_id: str, item_id: object, text: object,
                *, limiter: Any = None) -> dict:
    """Store a participant's comment on the current item; returns its wire form."""
    check_rate(limiter, COMMENT_LIMIT, "comment", participant_id)
    if not isinstance(text, str) or not text.strip():
        raise DialogrumError("empty")
    text = text.strip()
    if len(text) > MAX_COMMENT:
        raise DialogrumError("too_long")
    if not isinstance(item_id, str):
        raise DialogrumError("not_current_item")
    meeting = get_meeting(conn, meeting_id)
    if meeting.status != "live":
        raise DialogrumError("comments_closed" if meeting.status == "ended" else "not_current_item")
    if meeting.current_item_id != item_id:
        raise DialogrumError("not_current_item")
    if snapshot(conn, meeting_id).by_id[item_id]["kind"] == "info":
        raise DialogrumError("comments_closed")
    # Drop control characters that would garble a projector or a spreadsheet, keep line breaks.
    text = "".join(ch for ch in text if ch in "\n\t" or ch >= " ")
    now = utcnow()
    comment_id = conn.execute(
        _comments.insert()
        .values(meeting_id=meeting_id, participant_id=participant_id, item_id=item_id, text=text, created_at=now)
        .returning(_comments.c.id)
    ).scalar_one()
    return {"id": comment_id, "item_id": item_id, "text": text, "created_at": now.isoformat(),
            "pinned": False, "hidden": False}


def comments_for(conn: sa.Connection, meeting_id: str, item_id: str | None, *, include_hidden: bool) -> list[dict]:
    """Comments on an item, pinned first then newest first."""
    if item_id is None:
        return []
    stmt = sa.select(_comments).where(_comments.c.meeting_id == meeting_id, _comments.c.item_id == item_id)
    if not include_hidden:
        stmt = stmt.where(_comments.c.hidden.is_(False))
    stmt = stmt.order_by(_comments.c.pinned.desc(), _comments.c.created_at.desc(), _comments.c.id.desc())
    return [comment_payload(r) for r in conn.execute(stmt)]


def moderate(conn: sa.Connection, meeting_id: str, comment_id: object, *, hidden: object = None,
             pinned: object = None) -> dict:
    """Hide/unhide or pin/unpin a comment; returns the comment after the change."""
    if isinstance(comment_id, bool) or not isinstance(comment_id, int):
        raise DialogrumError("invalid", "comment_id must be an integer")
    values = {}
    for name, value in (("hidden", hidden), ("pinned", pinned)):
        if value is not None:
            if not isinstance(value, bool):
                raise DialogrumError("invalid", f"{name} must be true or false")
            values[name] = value
    if not values:
        raise DialogrumError("invalid", "nothing to change: give hidden or pinned")
    get_meeting(conn, meeting_id)
    result = conn.execute(
        _comments.update().where(_comments.c.id == comment_id, _comments.c.meeting_id == meeting_id).values(**values)
    )
    if result.rowcount != 1:
        raise DialogrumError("unknown_comment")
    row = conn.execute(sa.select(_comments).where(_comments.c.id == comment_id)).one()
    return comment_payload(row)


def set_conclusion(conn: sa.Connection, meeting_id: str, item_id: object, text: object) -> dict:
    """Save (or clear, with an empty text) the group's conclusion on an item."""
    get_meeting(conn, meeting_id)
    if not isinstance(item_id, str) or item_id not in snapshot(conn, meeting_id).by_id:
        raise DialogrumError("unknown_item")
    if not isinstance(text, str):
        raise DialogrumError("invalid", "text must be a string")
    text = text.strip()
    if len(text) > MAX_CONCLUSION:
        raise DialogrumError("too_long")
    where = (_conclusions.c.meeting_id == meeting_id, _conclusions.c.item_id == item_id)
    conn.execute(_conclusions.delete().where(*where))
    if text:
        conn.execute(_conclusions.insert().values(meeting_id=meeting_id, item_id=item_id, text=text,
                                                  updated_at=utcnow()))
    return {"item_id": item_id, "text": text}


def conclusions(conn: sa.Connection, meeting_id: str) -> dict[str, str]:
    """The conclusions of a session by item id."""
    return dict(conn.execute(sa.select(_conclusions.c.item_id, _conclusions.c.text)
                             .where(_conclusions.c.meeting_id == meeting_id)).all())


# ---------------------------------------------------------------------------------------------
# Results


def results(conn: sa.Connection, meeting_id: str, *, facilitator_name: str | None = None) -> dict[str, Any]:
    """The contract's JSON export of one session, with a few additive fields for reports."""
    meeting = get_meeting(conn, meeting_id)
    snap = snapshot(conn, meeting_id)
    all_counts = counts(conn, meeting_id)
    texts = conclusions(conn, meeting_id)
    by_item: dict[str, list[dict]] = {}
    for row in conn.execute(
        sa.select(_comments).where(_comments.c.meeting_id == meeting_id)
        .order_by(_comments.c.created_at, _comments.c.id)
    ):
        by_item.setdefault(row.item_id, []).append(comment_payload(row))
    participants_total = conn.execute(
        sa.select(sa.func.count()).select_from(_participants).where(_participants.c.meeting_id == meeting_id)
    ).scalar_one()
    items = []
    for item in snap.items:
        c = all_counts.get(item["id"], empty_counts())
        items.append({
            "id": item["id"],
            "index": item["index"],
            "kind": item["kind"],
            "title": item["title"],
            "section": dict(item["section"]),
            "text": item["text"],
            "choices": list(item["choices"]),
            "counts": {k: c[k] for k in CHOICES},
            "voters": c["voters"],
            "comments": by_item.get(item["id"], []),
            "conclusion": texts.get(item["id"]),
        })
    return {
        "session": {
            "id": meeting.id,
            "code": meeting.code,
            "title": meeting.title,
            "unit": meeting.unit,
            "status": meeting.status,
            "guide_id": meeting.guide_id,
            "guide_title": snap.title,
            "language": snap.language,
            "created_at": meeting.created_at.isoformat(),
            "started_at": meeting.started_at.isoformat() if meeting.started_at else None,
            "ended_at": meeting.ended_at.isoformat() if meeting.ended_at else None,
            "facilitator": facilitator_name,
            "participants": participants_total,
        },
        "items": items,
    }
