"""The limits the docs state are the ones the code keeps (issue 15, point 14: the code said 3,000
connections a minute per address, the docs 600)."""

from __future__ import annotations

from shared import joining
from shared.ratelimit import (
    API_LIMIT,
    COMMENT_LIMIT,
    IDEAS_LIMIT,
    LIKE_LIMIT,
    NEW_PARTICIPANT_LIMIT,
    VOTE_LIMIT,
    WRONG_CODE_LIMIT,
)
from tests.conftest import ROOT

# Words, not lines: the docs wrap their sentences anywhere.
API = " ".join((ROOT / "docs" / "api.md").read_text(encoding="utf-8").split())
DEPLOY = " ".join((ROOT / "docs" / "deploy.md").read_text(encoding="utf-8").split())


def test_every_limit_is_per_minute():
    for limit in (API_LIMIT, COMMENT_LIMIT, IDEAS_LIMIT, LIKE_LIMIT, NEW_PARTICIPANT_LIMIT, VOTE_LIMIT,
                  WRONG_CODE_LIMIT):
        assert limit.get_expiry() == 60, limit


def test_the_docs_state_the_limits_the_code_keeps():
    for text in (API, DEPLOY):
        assert f"{NEW_PARTICIPANT_LIMIT.amount} new participants a minute" in text
        assert f"{WRONG_CODE_LIMIT.amount} wrong join codes a minute" in text
        assert f"{VOTE_LIMIT.amount} votes and {COMMENT_LIMIT.amount} comments a minute" in text
        assert f"{LIKE_LIMIT.amount} thumbs-up given or taken back and {IDEAS_LIMIT.amount} asks for the list" in text
        assert f"{API_LIMIT.amount} REST requests a minute" in text
    assert f"`{NEW_PARTICIPANT_LIMIT.amount}/minute`" in DEPLOY
    assert f"more than {joining.WARN_AT_LEAST} participants" in API
    assert joining.WARN_FACTOR == 2 and "more than twice the phones connected" in API
