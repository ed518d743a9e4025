"""The countdown and approve first with two `dialogrum serve` processes on one PostgreSQL database
and one Redis (issue 11, points 2 and 4): a console on the other process, and a reload there, see
the time the first one started; a comment that waits reaches no projector or phone on either
process until a facilitator approves it."""

from __future__ import annotations

import pytest
import vote_burst

from tests.scale.test_multiprocess import Cluster, Peer, _facilitator, _meeting, _run, cluster, until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.server]

__all__ = ["cluster"]  # the module's own two-process cluster, as in test_multiprocess


class Watcher(Peer):
    EVENTS = (*Peer.EVENTS, "comment_update", "comment_hidden", "comments")


def test_the_countdown_and_a_waiting_comment_cross_processes(cluster: Cluster) -> None:
    meeting = _meeting(cluster)
    item = meeting["item_id"]
    session = vote_burst.api(cluster.a.url, cluster.token, "GET", f"/api/v1/sessions/{meeting['id']}")
    projector_key = session["projector_url"].rsplit("/", 1)[1]

    async def scenario() -> None:
        on_a = await _facilitator(cluster, meeting).connect()
        on_b = await Watcher(cluster.b.url, {"api_token": cluster.token, "session_id": meeting["id"]}).connect()
        projector = await Watcher(cluster.b.url, {"projector_key": projector_key}).connect()
        author = await Watcher(cluster.a.url, {"code": meeting["code"]}).connect()
        other = await Watcher(cluster.b.url, {"code": meeting["code"]}).connect()
        try:
            started = await on_a.call("control", {"action": "timer_start"})
            assert started["timer"]["running"], started
            await until(lambda: any(s["version"] == started["version"] for s in on_b.events["state"]),
                        "the console on B saw the timer start")
            seen = next(s for s in on_b.events["state"] if s["version"] == started["version"])["timer"]
            assert seen["running"] and 0 < seen["remaining"] <= started["timer"]["remaining"]
            # A reload on B: the time left now, from the row, never a fresh countdown.
            reload = await Peer(cluster.b.url, {"api_token": cluster.token, "session_id": meeting["id"]}).connect()
            await until(lambda: bool(reload.events["state"]), "the reload's state")
            assert 0 < reload.events["state"][-1]["timer"]["remaining"] < started["timer"]["remaining"]
            await reload.close()
            paused = (await on_b.call("control", {"action": "timer_pause"}))["timer"]
            reload = await Peer(cluster.a.url, {"api_token": cluster.token, "session_id": meeting["id"]}).connect()
            await until(lambda: bool(reload.events["state"]), "the reload's state")
            assert reload.events["state"][-1]["timer"]["remaining"] == paused["remaining"]
            await reload.close()

            assert (await on_b.call("control", {"action": "approval_on"}))["approve_comments"] is True
            ack = await author.call("comment", {"item_id": item, "text": "Vent på mig"})
            assert ack["ok"] and ack["pending"] is True
            await until(lambda: any(c["id"] == ack["id"] for c in on_b.events["comment"]),
                        "the waiting comment at the console on B")
            # Barrier: a comment that needs no approval reaches the room on B; the waiting one did not.
            await on_a.call("control", {"action": "approval_off"})
            direct = await author.call("comment", {"item_id": item, "text": "Straks"})
            await until(lambda: any(c["id"] == direct["id"] for c in projector.events["comment"])
                        and any(c["id"] == direct["id"] for c in other.events["comment"]),
                        "the direct comment on the projector and the other phone")
            assert [c["id"] for c in projector.events["comment"]] == [direct["id"]]
            assert [c["id"] for c in other.events["comment"]] == [direct["id"]]
            answer = await on_a.call("moderate", {"comment_id": ack["id"], "approved": True})
            assert answer["ok"], answer
            await until(lambda: any(c["id"] == ack["id"] for c in projector.events["comment"])
                        and any(c["id"] == ack["id"] for c in other.events["comment"]),
                        "the approved comment on the projector and the other phone on B")
        finally:
            for peer in (other, author, projector, on_b, on_a):
                await peer.close()

    _run(scenario())
