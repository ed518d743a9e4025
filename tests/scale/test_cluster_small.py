"""bench/cluster.py at N = 40 (issue 14, item 4): correctness only, never time.

Four processes behind the distribution's nginx (the recipe's upstream and locations) on a
PostgreSQL database and a redis-server the bench starts: every phone connects through nginx and
ip_hash spreads them, every vote is acknowledged and counted once in the database, every console
sees the exact count, every phone gets the state of close_voting, no result reaches a phone.
"""

from __future__ import annotations

import argparse
import os
import shutil

import cluster
import pytest

from tests.conftest import PG_ADMIN_URL

pytestmark = [pytest.mark.postgres, pytest.mark.server]

N = 40


def test_a_small_hall_on_four_processes_behind_nginx() -> None:
    if not os.path.exists(cluster.NGINX) or not shutil.which("redis-server"):
        pytest.skip("nginx or redis-server is not installed (make nginx)")
    import sqlalchemy as sa

    url = sa.make_url(PG_ADMIN_URL).set(database="dialogrum_cluster_test").render_as_string(hide_password=False)
    args = argparse.Namespace(
        phones=N, processes=4, workers=2, connect_concurrency=40, per_address=2, timeout=60.0, database_url=url,
        redis_url=None, db_pool=5, nginx_workers=1, keep=False, json=True, log_level="WARNING")
    res = cluster.run(args)
    assert res["connected"] == N, res
    assert all(k > 0 for k in res["sockets_per_process"]), f"ip_hash sent no phone to a process: {res}"
    assert res["acked_ok"] == N and res["vote_errors"] == {}, res
    assert res["db_votes"] == res["db_distinct_voters"] == res["db_participants"] == N, res
    assert all(t is not None for t in res["exact_count_after_go_s"]), res
    assert res["state_reached"] == N, res
    assert res["results_leaked_to_phones"] == 0, res
    assert res["server_exits"] == [None] * 4, res
