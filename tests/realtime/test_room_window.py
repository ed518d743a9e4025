"""The window that bounds the counts sent to the projector and the phones is shared by every
process (issue 14, item 5): two hubs on one limiter (as two processes on one Redis) send at most
`AUDIENCE_COUNTS_LIMIT` rounds a second to the room between them, the consoles get every round,
and a round the window refused is sent once it has room, so the last value arrives."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared import meeting as rules
from shared import ratelimit
from shared.db import get_db
from shared.events import CommentAdded
from shared.ratelimit import Limiter
from shared.realtime import hub as hub_module
from shared.realtime.hub import AUDIENCE_COMMENTS_LIMIT, AUDIENCE_COUNTS_LIMIT, Hub
from shared.uow import Work


class Recorder:
    """Stands in for Flask-SocketIO: every emit, by room."""

    def __init__(self, sent: list) -> None:
        self.sent = sent
        self.server = None

    def emit(self, event, data, to=None, ignore_queue=False):
        self.sent.append((event, to, data))


@pytest.fixture
def live(app, make):
    """A live session on its first consideration, results shown: (meeting id, item id)."""
    meeting_id = make.meeting()
    with app.app_context(), get_db(app).engine.begin() as conn:
        st = rules.control(Work(conn), meeting_id, "start")
        while st["item"]["kind"] != "consideration":
            st = rules.control(Work(conn), meeting_id, "next")
        rules.control(Work(conn), meeting_id, "show_results")
    return meeting_id, st["item"]["id"]


def test_two_processes_share_the_rooms_window_and_the_last_round_arrives(app, live, monkeypatch):
    meeting_id, item_id = live
    now = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: now[0])  # one frozen second
    sent: list = []
    limiter = Limiter("memory://")
    database = get_db(app)
    hubs = [Hub(Recorder(sent), database, limiter) for _ in range(2)]
    rounds = 3 * AUDIENCE_COUNTS_LIMIT.amount
    for _ in range(rounds):  # both "processes" had votes in every tick
        for hub in hubs:
            hub.dirty_results.add((meeting_id, item_id))
            hub.flush_results()
    to_room = [s for s in sent if s[0] == "results" and s[1] == hub_module.room(meeting_id, "p")]
    to_phones = [s for s in sent if s[0] == "results" and s[1] == hub_module.room(meeting_id, "a")]
    to_console = [s for s in sent if s[0] == "results" and s[1] == hub_module.room(meeting_id, "f")]
    assert len(to_console) == 2 * rounds, "the consoles get every round"
    assert len(to_room) == len(to_phones) == AUDIENCE_COUNTS_LIMIT.amount
    assert all(hub.dirty_room_results == {(meeting_id, item_id)} for hub in hubs), "refused rounds wait"

    # No more votes: once the window moves, the waiting rounds go out (a recount at that moment,
    # so whatever was counted last reaches the room) and nothing is left waiting.
    now[0] += AUDIENCE_COUNTS_LIMIT.get_expiry() + 0.01
    sent.clear()
    for hub in hubs:
        hub.flush_results()
    assert [s[0] for s in sent if s[1] == hub_module.room(meeting_id, "p")] == ["results", "results"]
    assert all(not hub.dirty_room_results for hub in hubs)


def test_while_hidden_the_projector_gets_the_number_of_voters_only(app, live, monkeypatch):
    meeting_id, item_id = live
    with app.app_context(), get_db(app).engine.begin() as conn:
        rules.control(Work(conn), meeting_id, "hide_results")
    sent: list = []
    hub = Hub(Recorder(sent), get_db(app), Limiter("memory://"))
    hub.dirty_results.add((meeting_id, item_id))
    hub.flush_results()
    assert [(e, to) for e, to, _ in sent] == [("results", hub_module.room(meeting_id, "f")),
                                               ("voters", hub_module.room(meeting_id, "p"))]
    assert "counts" not in sent[1][2]


def test_presence_waits_for_the_window_on_the_projector_only(app, live, monkeypatch):
    meeting_id, _item_id = live
    now = [2000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: now[0])
    sent: list = []
    hub = Hub(Recorder(sent), get_db(app), Limiter("memory://"))
    for _ in range(AUDIENCE_COUNTS_LIMIT.amount + 3):
        hub.dirty_presence.add(meeting_id)
        hub.flush_presence()
    hub.flush_presence()  # nothing new: the consoles get nothing more
    rooms = [to for event, to, _ in sent if event == "presence"]
    assert rooms.count(hub_module.room(meeting_id, "f")) == AUDIENCE_COUNTS_LIMIT.amount + 3
    assert rooms.count(hub_module.room(meeting_id, "p")) == AUDIENCE_COUNTS_LIMIT.amount
    assert hub.dirty_room_presence == {meeting_id}
    now[0] += AUDIENCE_COUNTS_LIMIT.get_expiry() + 0.01
    sent.clear()
    hub.flush_presence()
    assert [to for _e, to, _d in sent] == [hub_module.room(meeting_id, "p")], "the last count reaches the projector"


def _comment(app, meeting_id: str, item_id: str, participant: str, text: str) -> CommentAdded:
    """A committed comment and the event its unit of work published."""
    with app.app_context(), get_db(app).engine.begin() as conn:
        work = Work(conn)
        pid, _token = rules.join(work, rules.get_meeting(conn, meeting_id), None) if participant == "new" else (
            participant, None)
        rules.add_comment(work, meeting_id, pid, item_id, text)
    return next(e for e in work.events if isinstance(e, CommentAdded))


def test_batching_projectors_get_new_comments_together_within_the_shared_window(app, live, monkeypatch):
    """Two processes, comments committed in both: the phones and the one-by-one projectors get
    each at once; the batching projectors (`pn`) get them in at most AUDIENCE_COMMENTS_LIMIT
    rounds a second over both processes, every comment exactly once, in the end."""
    meeting_id, item_id = live
    now = [3000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: now[0])
    sent: list = []
    limiter = Limiter("memory://")
    hubs = [Hub(Recorder(sent), get_db(app), limiter) for _ in range(2)]
    author = _comment(app, meeting_id, item_id, "new", "first").comment
    with app.app_context(), get_db(app).engine.begin() as conn:
        pid = conn.execute(sa.text("SELECT participant_id FROM comments WHERE id = :i"), {"i": author["id"]}).scalar()
    hubs[0].publish([CommentAdded(meeting_id, author)])
    written = [author["id"]]
    rounds = 3 * AUDIENCE_COMMENTS_LIMIT.amount
    for n in range(rounds):  # a comment committed on each process in every tick
        for hub in hubs:
            event = _comment(app, meeting_id, item_id, pid, f"comment {n}")
            written.append(event.comment["id"])
            hub.publish([event])
            hub.flush_comments()
    batches = [d for e, to, d in sent if e == "comments_added"]
    assert {to for e, to, _ in sent if e == "comments_added"} == {hub_module.room(meeting_id, "pn")}
    assert len(batches) == AUDIENCE_COMMENTS_LIMIT.amount, "one window over both processes"
    one_by_one = [d["id"] for e, to, d in sent if e == "comment" and to == hub_module.room(meeting_id, "p1")]
    phones = [d["id"] for e, to, d in sent if e == "comment" and to == hub_module.room(meeting_id, "a")]
    assert one_by_one == phones == written, "each at once to the phones and the one-by-one projectors"
    assert not any(e == "comment" and to == hub_module.room(meeting_id, "p") for e, to, _ in sent)
    assert any(hub.pending_comments for hub in hubs), "what the window refused waits"

    now[0] += AUDIENCE_COMMENTS_LIMIT.get_expiry() + 0.01
    for hub in hubs:
        hub.flush_comments()
    batches = [d for e, _to, d in sent if e == "comments_added"]
    delivered = [c["id"] for b in batches for c in b["comments"]]
    assert sorted(delivered) == sorted(written), "every comment once, none lost, none twice"
    assert all(not hub.pending_comments for hub in hubs)
    assert all(c["item_id"] == item_id and c["text"] for b in batches for c in b["comments"])


def test_a_comment_hidden_before_its_round_never_reaches_the_batching_projector(app, live):
    meeting_id, item_id = live
    sent: list = []
    hub = Hub(Recorder(sent), get_db(app), Limiter("memory://"))
    shown, hidden = (_comment(app, meeting_id, item_id, "new", text) for text in ("kept", "taken back"))
    hub.publish([shown, hidden])
    with app.app_context(), get_db(app).engine.begin() as conn:  # hidden on some process meanwhile
        rules.moderate(Work(conn), meeting_id, hidden.comment["id"], hidden=True)
    hub.flush_comments()
    batches = [d["comments"] for e, _to, d in sent if e == "comments_added"]
    assert [[(c["id"], c["text"], c["hidden"]) for c in b] for b in batches] == [[(shown.comment["id"], "kept", False)]]


def test_nothing_pending_sends_nothing(app, live):
    sent: list = []
    hub = Hub(Recorder(sent), get_db(app), Limiter("memory://"))
    hub.flush_comments()
    assert sent == []
