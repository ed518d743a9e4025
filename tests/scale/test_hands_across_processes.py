"""Counted hands with two `dialogrum serve` processes on one PostgreSQL database and one Redis
(issue 11, section 1): hands set on one process reach the consoles on the other, summed with the
phones' votes, whichever way they were sent (a socket on A, REST on B)."""

from __future__ import annotations

import pytest
import vote_burst

from tests.scale.test_multiprocess import Cluster, Peer, _facilitator, _meeting, _run, cluster, until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.server]

__all__ = ["cluster"]  # the module's own two-process cluster, as in test_multiprocess


def test_hands_cross_processes_summed_with_votes(cluster: Cluster) -> None:
    meeting = _meeting(cluster)
    item = meeting["item_id"]

    async def scenario() -> None:
        on_a = await _facilitator(cluster, meeting).connect()
        on_b = await Peer(cluster.b.url, {"api_token": cluster.token, "session_id": meeting["id"]}).connect()
        phone = await Peer(cluster.b.url, {"code": meeting["code"]}).connect()
        try:
            assert await phone.call("vote", {"item_id": item, "choice": "yes"}) == {"ok": True}
            ack = await on_a.call("set_hands", {"item_id": item, "counts": {"yes": 4, "no": 2}})
            assert ack["ok"] is True, ack

            def seen(peer: Peer, voters: int) -> bool:
                mine = [r for r in peer.events["results"] if r["item_id"] == item]
                return bool(mine) and mine[-1]["voters"] == voters

            await until(lambda: seen(on_b, 7), "results with the hands at the console on B")
            last = on_b.events["results"][-1]
            assert last["counts"]["yes"] == 5 and last["hands"] == {"yes": 4, "no": 2, "unsure": 0}
            # REST on B changes them; the console on A hears of it.
            vote_burst.api(cluster.b.url, cluster.token, "PUT", f"/api/v1/sessions/{meeting['id']}/hands/{item}",
                           {"counts": {"yes": 1}})
            await until(lambda: seen(on_a, 2), "results after the REST change at the console on A")
            assert on_a.events["results"][-1]["hands"] == {"yes": 1, "no": 0, "unsure": 0}
        finally:
            for peer in (phone, on_b, on_a):
                await peer.close()

    _run(scenario())
