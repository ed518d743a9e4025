"""The wheel's build step (run by `make wheel`, docs/architecture.md#the-wheel).

Everything else about the package is in pyproject.toml. This hook only makes the wheel whole:

- it copies the Alembic scripts from the repository's top-level `migrations/` into the package
  as `shared/migrations/`, where `shared.migrate` looks first;
- it refuses to build without the Socket.IO client (copied from npm by `make setup`) and the
  compiled catalogues (`make translations`), so a wheel never installs without them.

An editable install (`make setup`) skips both: it runs from the checkout, which has them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

ROOT = Path(__file__).resolve().parent
SOCKET_IO = Path("shared/static/vendor/socket.io.min.js")


class BuildPy(build_py):
    """build_py, plus the migrations and a check for the files `make setup` builds."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        missing = [] if (ROOT / SOCKET_IO).is_file() else [str(SOCKET_IO)]
        missing += [str(po.with_suffix(".mo").relative_to(ROOT))
                    for po in sorted(ROOT.glob("shared/translations/*/LC_MESSAGES/messages.po"))
                    if not po.with_suffix(".mo").is_file()]
        if missing:
            raise SetupError(f"missing {', '.join(missing)}: build the wheel with `make wheel` "
                             "(it copies the Socket.IO client from npm and compiles the translations)")
        target = Path(self.build_lib) / "shared" / "migrations"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(ROOT / "migrations", target, ignore=shutil.ignore_patterns("__pycache__", "*.py[co]"))


setup(cmdclass={"build_py": BuildPy})
