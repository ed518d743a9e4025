"""The garbage collector while serving (shared/heap.py): what starting built is frozen, young
objects are collected in larger rounds, and the full walk waits for a quiet room."""

from __future__ import annotations

import gc

import pytest

from shared import heap


@pytest.fixture
def tuned(monkeypatch):
    """`heap.tune()` as `dialogrum serve` calls it, undone afterwards (the test process is shared)."""
    thresholds = gc.get_threshold()
    monkeypatch.setattr(heap._State, "tuned", False)
    heap.tune()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    heap._State.tuned = False


def test_tune_freezes_what_starting_built_and_raises_the_thresholds(tuned):
    assert gc.get_freeze_count() > 10_000  # this process's modules: far more than a few objects
    assert gc.get_threshold() == heap.THRESHOLDS


def test_a_full_collection_runs_only_once_the_room_is_quiet_and_not_too_often(tuned, monkeypatch):
    runs: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: runs.append(generation) or 0)
    t = heap._State.last_full + heap.FULL_EVERY + 5  # long after the last full collection
    heap._State.last_full = t - heap.FULL_EVERY - 1  # not yet overdue
    t = heap._State.last_full + heap.FULL_EVERY + 1
    assert heap.tick(busy=True, now=t) is False  # votes arrive: not in the middle of them
    assert heap.tick(busy=False, now=t + heap.QUIET_SECONDS / 2) is False  # quiet, not long enough
    assert heap.tick(busy=False, now=t + heap.QUIET_SECONDS + 0.1) is True
    assert runs == [2]
    # Quiet on: the next one no sooner than FULL_EVERY later.
    assert heap.tick(busy=False, now=t + heap.QUIET_SECONDS + 1) is False
    assert heap.tick(busy=False, now=t + heap.QUIET_SECONDS + 0.1 + heap.FULL_EVERY) is True
    assert runs == [2, 2]


def test_a_room_that_is_never_quiet_still_gets_a_full_collection_now_and_then(tuned, monkeypatch):
    runs: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: runs.append(generation) or 0)
    start = heap._State.last_full
    busy_ticks = [start + k * 0.1 for k in range(int(heap.FULL_AT_LEAST_EVERY * 10) + 5)]
    done = [t for t in busy_ticks if heap.tick(busy=True, now=t)]
    assert len(done) == 1 and done[0] >= start + heap.FULL_AT_LEAST_EVERY and runs == [2]


def test_nothing_happens_in_a_process_that_did_not_tune(monkeypatch):
    monkeypatch.setattr(heap._State, "tuned", False)
    monkeypatch.setattr(gc, "collect", lambda generation=2: pytest.fail("collected"))
    assert heap.tick(busy=False, now=1e9) is False
