"""Fixtures for the operator's view: the wheel built once per session by `make wheel`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built by the project's own build step into a temporary directory."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(["make", "--no-print-directory", "wheel", f"DIST={out}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, f"make wheel failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    (found,) = out.glob("dialogrum-*.whl")
    return found
