"""A small mutation check: break one rule at a time and make sure the suite notices.

Issue 15 found two rules whose removal left the whole suite green (the socket vote's rate limit and
the organiser-only check on publishing). Each mutation below removes or weakens one rule that
protects a meeting; the tests named beside it must then fail. The check runs on a copy of the
working tree, so the checkout is never touched, and exits non-zero if a mutation survives (or
no longer applies because the code moved: then update its snippet here).

    make mutation            # or: .venv/bin/python scripts/mutation_check.py [NAME ...]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    """Replace `before` (which must occur exactly once in `path`) with `after`, then run `tests`."""

    name: str
    path: str
    before: str
    after: str
    tests: tuple[str, ...]


MUTATIONS = (
    Mutation("socket vote without rate limit", "shared/realtime/sockets.py",
             'data.get("choice"), limiter=self.limiter)', 'data.get("choice"), limiter=None)',
             ("tests/realtime/test_server.py", "-k", "vote_rate_limit")),
    Mutation("anyone may publish a roll-up", "facilitator/organiser/reports.py",
             "    _organiser_only()\n    guide = _guide(guide_id)\n", "    guide = _guide(guide_id)\n",
             ("tests/organiser/test_results_pages.py", "-k", "facilitator_sees_only")),
    Mutation("votes while voting is closed", "shared/meeting/votes.py",
             "            _meetings.c.voting_open.is_(True),\n", "",
             ("tests/shared/test_meeting.py", "-k", "vote")),
    Mutation("votes on an item that is not current", "shared/meeting/votes.py",
             '            _meetings.c.current_item_id == sa.bindparam("i"),\n', "",
             ("tests/shared/test_meeting.py", "-k", "vote")),
    Mutation("facilitators manage every session", "shared/access.py",
             'return user.role == "organiser" or meeting.facilitator_id == user.id',
             "return True", ("tests/shared/test_access.py",)),
    Mutation("inactive users manage sessions", "shared/access.py",
             ' or not getattr(user, "active", False):', ":", ("tests/shared/test_access.py",)),
    Mutation("comments of any length", "shared/meeting/commands.py",
             "    if len(text) > MAX_COMMENT:", "    if False:",
             ("tests/shared/test_meeting.py", "-k", "comment")),
    Mutation("comment rate limit removed", "shared/meeting/commands.py",
             '    check_rate(limiter, COMMENT_LIMIT, "comment", participant_id)\n', "",
             ("tests/shared/test_meeting.py", "-k", "comment")),
    Mutation("hidden comments are listed as visible", "shared/meeting/read.py",
             "        stmt = stmt.where(_comments.c.hidden.is_(False), _comments.c.approved.is_(True))\n",
             "        pass\n", ("tests/shared/test_meeting.py", "-k", "moderation")),
    Mutation("hidden comments reach the projector", "shared/meeting/moderation.py",
             'return bool(comment.get("approved", True)) and not comment["hidden"]',
             'return bool(comment.get("approved", True))', ("tests/realtime/test_server.py", "-k", "hidden")),
    Mutation("comments waiting for approval reach the room", "shared/meeting/moderation.py",
             'return bool(comment.get("approved", True)) and not comment["hidden"]',
             'return not comment["hidden"]',
             ("tests/realtime/test_timer_and_approval.py", "-k", "waits")),
    Mutation("a phone likes its own comment", "shared/meeting/likes.py",
             "    if comment.participant_id == participant_id:\n", "    if False:\n",
             ("tests/shared/test_likes_and_summary.py", "-k", "not_own")),
)


def _copy_tree(target: Path) -> None:
    """The working tree without the venv, node_modules and .git (the venv is linked instead)."""
    ignore = shutil.ignore_patterns(".venv", "node_modules", ".git", "__pycache__", ".pytest_cache", "*.sqlite*")
    shutil.copytree(ROOT, target, ignore=ignore, dirs_exist_ok=True)
    (target / ".venv").symlink_to(ROOT / ".venv")


def run(mutation: Mutation, tree: Path) -> str:
    """`caught`, `SURVIVED` or `does not apply`, after restoring the file."""
    path = tree / mutation.path
    original = path.read_text(encoding="utf-8")
    if original.count(mutation.before) != 1:
        return "does not apply"
    path.write_text(original.replace(mutation.before, mutation.after), encoding="utf-8")
    try:
        # PYTHONPATH first: the venv's editable install points at the checkout, and the servers the
        # tests start as subprocesses must run the mutated copy too.
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tree)}
        result = subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                 *mutation.tests], check=False, cwd=tree, env=env, capture_output=True, text=True)
        if result.returncode == 5:  # no test collected: the selection is wrong, not the code
            return "does not apply"
        return "caught" if result.returncode != 0 else "SURVIVED"
    finally:
        path.write_text(original, encoding="utf-8")


def main(names: list[str]) -> int:
    """Run the mutations (all, or those whose name contains one of `names`)."""
    chosen = [m for m in MUTATIONS if not names or any(n in m.name for n in names)]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="dialogrum-mutation-") as tmp:
        tree = Path(tmp) / "tree"
        _copy_tree(tree)
        for mutation in chosen:
            started = time.monotonic()
            verdict = run(mutation, tree)
            failures += verdict != "caught"
            print(f"{verdict:>15}  {mutation.name}  ({time.monotonic() - started:.0f} s)", flush=True)
    print(f"{len(chosen) - failures} of {len(chosen)} mutations caught")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
