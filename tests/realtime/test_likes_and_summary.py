"""Idea votes and the closing summary over a real `dialogrum serve` (issue 11, sections 3 and 5):
two phones, a facilitator and a projector as python-socketio clients."""

from __future__ import annotations

import pytest
import requests

from tests.realtime.test_server import Meeting

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def token(server):
    return server.facilitator_token()


@pytest.fixture
def clients():
    made = []
    yield made
    for c in made:
        c.close()


def test_two_phones_like_each_others_ideas_and_the_room_sees_the_counts(server, token, clients):
    meeting = Meeting(server, token)
    alice, bob, facilitator, projector = (meeting.phone(), meeting.phone(), meeting.facilitator(),
                                          meeting.projector())
    clients.extend((alice, bob, facilitator, projector))
    prompt = meeting.to_kind("prompt")["item"]
    bob.wait_for("state", lambda s: s["item"] and s["item"]["id"] == prompt["id"])
    assert alice.call("comment", {"item_id": prompt["id"], "text": "Flere pauser"})["ok"]
    idea = bob.wait_for("comment", lambda c: c["text"] == "Flere pauser")
    assert idea["likes"] == 0

    assert alice.call("like", {"comment_id": idea["id"], "liked": True}) == {"ok": False, "error": "own_comment"}
    assert bob.call("like", {"comment_id": idea["id"], "liked": True}) == {
        "ok": True, "comment_id": idea["id"], "likes": 1, "liked": True}
    for audience in (alice, facilitator, projector):
        audience.wait_for("likes", lambda d: d == {"item_id": prompt["id"], "likes": {str(idea["id"]): 1}})
    seen = bob.call("comments", {})
    assert seen["ok"] and seen["item_id"] == prompt["id"]
    assert [(c["text"], c["likes"], c["liked_by_me"], c["mine"]) for c in seen["comments"]] == [
        ("Flere pauser", 1, True, False)]
    assert alice.call("comments", {})["comments"][0]["mine"] is True
    # Bad input: a clear code, nothing changed; facilitators and projectors cannot like.
    assert bob.call("like", {"comment_id": "1", "liked": True})["error"] == "invalid"
    assert bob.call("like", {"comment_id": idea["id"]})["error"] == "invalid"
    assert bob.call("like", "garbage")["error"] == "invalid"
    assert facilitator.call("like", {"comment_id": idea["id"], "liked": True})["error"] == "forbidden"
    assert projector.call("comments", {})["error"] == "forbidden"
    # The export carries the count; taking it back lowers it.
    exported = next(i for i in meeting.results()["items"] if i["id"] == prompt["id"])
    assert exported["comments"][0]["likes"] == 1
    assert bob.call("like", {"comment_id": idea["id"], "liked": False})["likes"] == 0
    projector.wait_for("likes", lambda d: d == {"item_id": prompt["id"], "likes": {}})

    # Top ideas: shared state that every screen follows.
    assert meeting.control("sort_comments_by_likes")["comment_order"] == "likes"
    projector.wait_for("state", lambda s: s["comment_order"] == "likes")

    # The closing summary reaches the projector, never the phones.
    section = prompt["section"]["index"]
    state = meeting.control("show_summary", index=section)
    assert state["summary"] == {"section": section}
    shown = projector.wait_for("summary", lambda d: d["section"] == section)
    assert shown["title"] == prompt["section"]["title"]
    assert [s["index"] for s in shown["sections"]] == [section]
    alice.wait_for("state", lambda s: s["summary"] == {"section": section})
    assert alice.of("summary") == [] and bob.of("summary") == []
    # A wrong index is refused with the contract's code over REST too, and nothing changes.
    bad = requests.post(f"{server.url}/api/v1/sessions/{meeting.id}/control", headers=meeting.headers,
                        json={"action": "show_summary", "index": 99}, timeout=10)
    assert bad.status_code == 409 and bad.json()["error"] == "wrong_state"
    assert meeting.state()["summary"] == {"section": section}
    # A conclusion written while the summary is up reaches it at once.
    assert facilitator.call("conclude", {"item_id": prompt["id"], "text": "Flere pauser i mødet."})["ok"]
    projector.wait_for("summary", lambda d: any(i["conclusion"] == "Flere pauser i mødet."
                                                for s in d["sections"] for i in s["items"]))
    assert meeting.control("hide_summary")["summary"] is None
    # Over REST: every section's summary, the same shape as the event.
    whole = requests.get(f"{server.url}/api/v1/sessions/{meeting.id}/summary", headers=meeting.headers, timeout=10)
    assert whole.status_code == 200 and whole.json()["section"] is None
    part = next(s for s in whole.json()["sections"] if s["index"] == section)
    assert part == shown["sections"][0] | {"items": part["items"]}
    assert any(i["conclusion"] == "Flere pauser i mødet." for i in part["items"])
    assert requests.get(f"{server.url}/api/v1/sessions/nope/summary", headers=meeting.headers,
                        timeout=10).status_code == 404
