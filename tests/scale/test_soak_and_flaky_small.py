"""The soak and flaky-network benches, tiny: correctness only, never time or memory.

`bench/soak.py` for 9 seconds with 10 phones and `bench/flaky.py` with 10 phones and one cut of
the network, each against its own `dialogrum serve`, so the benches keep working and their
checks keep meaning something. The figures in the README come from full runs.
"""

from __future__ import annotations

import json

import flaky
import pytest
import soak

pytestmark = pytest.mark.server


def _figures(main, argv: list[str], capsys) -> dict:
    main([*argv, "--json"])
    return json.loads(capsys.readouterr().out)


def test_soak_counts_are_exact_and_nothing_fails(capsys) -> None:
    figures = _figures(soak.main, ["--minutes", "0.15", "--phones", "10", "--step-seconds", "3",
                                   "--workers", "1"], capsys)
    targets = figures["targets"]
    assert figures["errors"] == {}, figures
    assert figures["connects"] >= 10 and figures["acked_votes"] > 0, figures
    for name in ("every acknowledged vote in the database, none more", "comments exact", "participants exact",
                 "facilitator's last results exact", "no errors"):
        assert targets[name], (name, figures)


def test_flaky_phones_come_back_as_themselves_and_no_vote_is_lost(capsys) -> None:
    figures = _figures(flaky.main, ["--phones", "10", "--cuts", "1", "--down", "1", "--up", "1"], capsys)
    assert figures["returns_measured"] == 10 and figures["not_back_in_time"] == 0, figures
    assert figures["came_back_as_someone_else"] == 0, figures
    assert figures["me_vote_wrong_after_return"] == 0, figures
    assert figures["votes_lost_at_end"] == 0 and figures["votes_counted_twice"] == 0, figures
    assert figures["participants_in_database"] == 10, figures
    assert figures["targets"]["facilitator's last results exact"], figures
