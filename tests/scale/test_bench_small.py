"""The vote-burst benchmark's load generator at N = 100: correctness only, never time.

Against `dialogrum serve` (SQLite, eventlet) and the bare stack: every phone connects, every
vote is acknowledged ok, the facilitator sees the exact count, and no `results` reaches a phone
while results are hidden.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
import vote_burst
from load import PAGE_TRANSPORTS, TRANSPORTS, run_burst

pytestmark = pytest.mark.server

N = 100


def _check(res: dict, n: int = N) -> None:
    assert res["connected"] == n, res
    assert res["acked_ok"] == n, res
    assert res["vote_errors"] == {}, res
    assert res["last_voters_seen"] == n, res
    assert res["exact_count_s"] is not None, res
    assert res["results_leaked_to_phones"] == 0, res


def test_the_benchmark_phones_use_the_phone_pages_transports() -> None:
    """The benchmark's phones open their sockets as participant/static/phone.js does."""
    js = (Path(vote_burst.ROOT) / "participant/static/phone.js").read_text()
    found = re.search(r"transports:\s*(\[[^\]]*\])", js)
    assert found is not None
    assert json.loads(found.group(1))[0] == TRANSPORTS[PAGE_TRANSPORTS][0]


def test_app_burst_is_correct(tmp_path: Path) -> None:
    with vote_burst.app_server("eventlet", None, tmp_path) as (server, target):
        res = run_burst(target, N, timeout=60, pages=True)
        # Then, in a second session of the same server, phones that start on long-polling and
        # upgrade (what a page does after its websocket failed).
        m = vote_burst.prepare_meeting(server.url, target.facilitator_auth["api_token"])
        polling = replace(target, phone_auth={"code": m["code"]}, item_id=m["item_id"],
                          facilitator_auth={**target.facilitator_auth, "session_id": m["id"]})
        res_polling = run_burst(polling, 30, timeout=60, transports="polling")
        assert server.proc.poll() is None, server.log.read_text()[-3000:]
    _check(res)
    # The page phase: every phone loaded the page and its static files, compressed.
    assert res["pages_ok"] == N and res["page_errors"] == {}, res
    assert res["page_kb"] < 40, res
    _check(res_polling, 30)


def test_bare_burst_is_correct(tmp_path: Path) -> None:
    with vote_burst.bare_server(tmp_path) as (server, target):
        res = run_burst(target, N, timeout=60)
        assert server.proc.poll() is None, server.log.read_text()[-3000:]
    _check(res)
