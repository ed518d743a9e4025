"""The shared countdown and approve-first comments over a real `dialogrum serve` (issue 11, points 2
and 4), with python-socketio clients: a second console and a reload see the same time; a comment
that waits reaches neither the projector nor another phone until a facilitator approves it."""

from __future__ import annotations

import pytest

from tests.realtime.test_server import Meeting

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def token(server):
    return server.facilitator_token("timer@example.org")


def test_every_console_and_a_reload_see_the_same_countdown(server, token):
    meeting = Meeting(server, token)
    meeting.control("start")
    first, second = meeting.facilitator(), meeting.facilitator()
    try:
        started = first.call("control", {"action": "timer_start"})
        assert started["timer"]["running"] and started["timer"]["remaining"] > 0
        # The other console hears of it, with the time left as the server computed it then.
        seen = second.wait_for("state", lambda s: s["version"] == started["version"])
        assert seen["timer"]["running"] and seen["timer"]["remaining"] <= started["timer"]["remaining"]
        # A reload (a new socket) gets the time left now: less than before, never reset.
        reload = meeting.facilitator()
        later = reload.wait_for("state")["timer"]
        reload.close()
        assert later["running"] and 0 < later["remaining"] < started["timer"]["remaining"]
        paused = second.call("control", {"action": "timer_pause"})["timer"]
        assert not paused["running"]
        first.wait_for("state", lambda s: not s["timer"]["running"])
        # Paused, the time stands still for everybody, REST included.
        reload = meeting.facilitator()
        assert reload.wait_for("state")["timer"]["remaining"] == paused["remaining"]
        reload.close()
        assert meeting.state()["timer"]["remaining"] == paused["remaining"]
        shown = meeting.control("timer_show")
        assert shown["timer"]["visible"] is True
        # Bad input: refused in the socket's words, nothing changed.
        assert first.call("control", {"action": "timer_show"}) == {"ok": False, "error": "wrong_state"}
        assert first.call("control", {"action": "timer_warp"}) == {"ok": False, "error": "invalid"}
        assert meeting.state()["version"] == shown["version"]
        # Only a facilitator controls it.
        projector = meeting.projector()
        assert projector.call("control", {"action": "timer_hide"}) == {"ok": False, "error": "forbidden"}
        assert projector.wait_for("state")["timer"]["visible"] is True
        projector.close()
    finally:
        first.close()
        second.close()


def test_a_comment_that_waits_reaches_nobody_but_the_facilitators(server, token):
    meeting = Meeting(server, token)
    meeting.to_kind("prompt")
    assert meeting.control("approval_on")["approve_comments"] is True
    facilitator, projector = meeting.facilitator(), meeting.projector()
    author, other = meeting.phone(), meeting.phone()
    try:
        item_id = author.wait_for("state")["item"]["id"]
        ack = author.call("comment", {"item_id": item_id, "text": "Vent på mig"})
        assert ack["ok"] and ack["pending"] is True
        waiting = facilitator.wait_for("comment", lambda c: c["id"] == ack["id"])
        assert waiting["approved"] is False
        # A barrier instead of a sleep: a later comment that needs no approval reaches everybody,
        # and the waiting one still has reached neither the projector nor the other phone.
        assert meeting.control("approval_off")["approve_comments"] is False
        shown = author.call("comment", {"item_id": item_id, "text": "Straks"})
        assert shown["pending"] is False
        projector.wait_for("comment", lambda c: c["id"] == shown["id"])
        other.wait_for("comment", lambda c: c["id"] == shown["id"])
        assert [c["id"] for c in projector.of("comment")] == [shown["id"]]
        assert [c["id"] for c in other.of("comment")] == [shown["id"]]
        assert ack["id"] not in [c["id"] for c in meeting.results()["items"][item_index(meeting, item_id)]["comments"]
                                 if c["approved"]]
        # Approving it (REST here; the console uses the moderate event) sends it to the room as new.
        assert facilitator.call("moderate", {"comment_id": ack["id"], "approved": "ja"}) == {"ok": False,
                                                                                          "error": "invalid"}
        answer = facilitator.call("moderate", {"comment_id": ack["id"], "approved": True})
        assert answer["ok"] and answer["comment"]["approved"] is True
        assert projector.wait_for("comment", lambda c: c["id"] == ack["id"])["text"] == "Vent på mig"
        assert other.wait_for("comment", lambda c: c["id"] == ack["id"])["approved"] is True
        author.wait_for("comment", lambda c: c["id"] == ack["id"])
        # A participant cannot approve.
        assert other.call("moderate", {"comment_id": ack["id"], "approved": True}) == {"ok": False,
                                                                                      "error": "forbidden"}
    finally:
        for client in (facilitator, projector, author, other):
            client.close()


def item_index(meeting: Meeting, item_id: str) -> int:
    return next(i for i, item in enumerate(meeting.results()["items"]) if item["id"] == item_id)
