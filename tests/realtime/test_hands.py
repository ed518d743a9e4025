"""Counted hands over a real server (issue 11, section 1): the `set_hands` command, its ack after
the commit, and the `results` that follow to the console and, when shown, the projector."""

from __future__ import annotations

import pytest

from tests.realtime.test_server import Meeting

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def token(server):
    return server.facilitator_token()


def test_hands_are_acked_after_commit_summed_in_results_and_closed_by_the_end(server, token):
    meeting = Meeting(server, token)
    facilitator, projector, phone = meeting.facilitator(), meeting.projector(), meeting.phone()
    try:
        item = meeting.to_kind("consideration")["item"]
        meeting.control("open_voting")
        phone.wait_for("state", lambda s: s["voting_open"])
        assert phone.call("vote", {"item_id": item["id"], "choice": "yes"}) == {"ok": True}

        ack = facilitator.call("set_hands", {"item_id": item["id"], "counts": {"yes": 2, "no": 3}})
        assert ack == {"ok": True, "item_id": item["id"], "hands": {"yes": 2, "no": 3}}
        # Acknowledged means committed: REST sees it at once, and the console's results follow.
        index = [i["id"] for i in meeting.results()["items"]].index(item["id"])
        assert meeting.results()["items"][index]["hands"] == {"yes": 2, "no": 3, "unsure": 0}
        shown = facilitator.wait_for("results", lambda r: r["item_id"] == item["id"] and r["voters"] == 6)
        assert shown["counts"] == {"yes": 3, "no": 3, "unsure": 0}
        assert shown["hands"] == {"yes": 2, "no": 3, "unsure": 0}
        assert projector.of("results") == []  # results hidden: the room learns only how many voted
        # The projector's "N of M phones have voted" counts the phones, not the hands.
        projector.wait_for("voters", lambda r: r["voters"] == 1)
        assert facilitator.call("set_hands", {"item_id": item["id"], "counts": {"yes": 2, "no": 3}})["ok"]
        assert projector.of("voters")[-1] == {"item_id": item["id"], "voters": 1, "participants": 1}
        meeting.control("show_results")
        assert projector.wait_for("results", lambda r: r["voters"] == 6)["hands"]["no"] == 3

        # Refusals change nothing and say why, place by place.
        refused = facilitator.call("set_hands", {"item_id": item["id"], "counts": {"yes": -1, "no": "x"}})
        assert refused["ok"] is False and refused["error"] == "invalid_count"
        assert [(e["place"], e["kind"]) for e in refused["errors"]] == [("counts.yes", "whole_number"),
                                                                        ("counts.no", "whole_number")]
        assert phone.call("set_hands", {"item_id": item["id"], "counts": {"yes": 9}}) == {
            "ok": False, "error": "forbidden"}
        assert facilitator.call("set_hands", "garbage") == {"ok": False, "error": "invalid"}
        meeting.control("end")
        assert facilitator.call("set_hands", {"item_id": item["id"], "counts": {"yes": 9}}) == {
            "ok": False, "error": "session_ended"}
        assert meeting.results()["items"][index]["counts"] == {"yes": 3, "no": 3, "unsure": 0}
    finally:
        for client in (facilitator, projector, phone):
            client.close()
