"""The vote-burst benchmark's load generator at N = 100: correctness only, never time.

Against `dialogrum serve` (SQLite, eventlet) and the bare stack: every phone connects, every
vote is acknowledged ok, the facilitator sees the exact count, and no `results` reaches a phone
while results are hidden.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import vote_burst
from load import run_burst

pytestmark = pytest.mark.server

N = 100


def _check(res: dict) -> None:
    assert res["connected"] == N, res
    assert res["acked_ok"] == N, res
    assert res["vote_errors"] == {}, res
    assert res["last_voters_seen"] == N, res
    assert res["exact_count_s"] is not None, res
    assert res["results_leaked_to_phones"] == 0, res


def test_app_burst_is_correct(tmp_path: Path) -> None:
    with vote_burst.app_server("eventlet", None, tmp_path) as (server, target):
        res = run_burst(target, N, timeout=60)
        assert server.proc.poll() is None, server.log.read_text()[-3000:]
    _check(res)


def test_bare_burst_is_correct(tmp_path: Path) -> None:
    with vote_burst.bare_server(tmp_path) as (server, target):
        res = run_burst(target, N, timeout=60)
        assert server.proc.poll() is None, server.log.read_text()[-3000:]
    _check(res)
