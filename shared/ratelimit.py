"""Per-participant and per-client rate limits that hold across processes.

The storage is the `limits` library's: Redis when the deployment has one (several processes
share it), in-process memory for the embedded single-process default.
"""

from __future__ import annotations

from limits import parse, storage, strategies

#: The contract: a participant can always send 5 comments a minute; more than 30 are refused.
COMMENT_LIMIT = parse("30/minute")
#: Changing one's mind is fine; hammering the vote button is not.
VOTE_LIMIT = parse("60/minute")
#: Socket connections from one address: a hall of 1,000 phones can sit behind one NAT address.
CONNECT_LIMIT = parse("3000/minute")
#: Password guesses per e-mail address and per client address.
LOGIN_LIMIT = parse("10/minute")
#: REST calls per token.
API_LIMIT = parse("600/minute")


class Limiter:
    """A moving-window limiter over one storage URI (`memory://` or `redis://…`)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._storage = storage.storage_from_string(uri)
        self._strategy = strategies.MovingWindowRateLimiter(self._storage)

    def hit(self, limit, *keys: str) -> bool:
        """Count one event under `keys`; False when the limit is exceeded."""
        return self._strategy.hit(limit, *keys)

    def reset(self) -> None:
        """Forget every counter (tests)."""
        self._storage.reset()
