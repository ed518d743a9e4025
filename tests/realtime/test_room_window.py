"""The window that bounds the counts sent to the projector and the phones is shared by every
process (issue 14, item 5): two hubs on one limiter (as two processes on one Redis) send at most
`AUDIENCE_COUNTS_LIMIT` rounds a second to the room between them, the consoles get every round,
and a round the window refused is sent once it has room, so the last value arrives."""

from __future__ import annotations

import pytest

from shared import meeting as rules
from shared import ratelimit
from shared.db import get_db
from shared.ratelimit import Limiter
from shared.realtime import hub as hub_module
from shared.realtime.hub import AUDIENCE_COUNTS_LIMIT, Hub
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
