"""Helpers of the scale tests: the benchmark's modules, PostgreSQL and Redis for the cluster test.

With CI=true an unreachable PostgreSQL or Redis fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The benchmark is a script directory, not a package: its modules are imported by name.
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("DIALOGRUM_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("DIALOGRUM_TEST_REDIS", "redis://127.0.0.1:6379")


def unavailable(what: str, exc: BaseException) -> None:
    """Skip locally, fail in CI: CI must exercise PostgreSQL and Redis."""
    message = f"{what} is not reachable: {exc}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)
