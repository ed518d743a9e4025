"""Per-participant and per-client rate limits that hold across processes.

The storage is the `limits` library's: Redis when the deployment has one (several processes
share it), in-process memory for the embedded single-process default.
"""

from __future__ import annotations

import threading
import time
from collections import deque

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
        # In-process memory gets its own moving window: limits' MemoryStorage starts a
        # threading.Timer every 10 ms that scans every key, and under eventlet Timer.start()
        # yields inside the caller -- in the middle of the vote's database transaction.
        self._local = _LocalWindows() if uri.startswith("memory://") else None
        if self._local is None:
            self._storage = storage.storage_from_string(uri)
            self._strategy = strategies.MovingWindowRateLimiter(self._storage)

    def hit(self, limit, *keys: str) -> bool:
        """Count one event under `keys`; False when the limit is exceeded."""
        if self._local is not None:
            return self._local.hit(limit, keys)
        return self._strategy.hit(limit, *keys)

    def reset(self) -> None:
        """Forget every counter (tests)."""
        if self._local is not None:
            self._local.reset()
        else:
            self._storage.reset()


class _LocalWindows:
    """Moving windows kept in this process: a deque of hit times per key, pruned as it is used."""

    def __init__(self) -> None:
        self._hits: dict[tuple, deque[float]] = {}
        self._lock = threading.Lock()
        self._since_sweep = 0

    def hit(self, limit, keys: tuple[str, ...]) -> bool:
        window = limit.get_expiry()
        now = time.monotonic()
        key = (limit.amount, window, *keys)
        with self._lock:
            q = self._hits.get(key)
            if q is None:
                q = self._hits[key] = deque()
            while q and q[0] <= now - window:
                q.popleft()
            if len(q) >= limit.amount:
                return False
            q.append(now)
            self._since_sweep += 1
            if self._since_sweep >= 10_000:
                self._sweep(now)
            return True

    def _sweep(self, now: float) -> None:
        # Drop keys whose window has passed (bounded memory; amortised over 10,000 hits).
        self._since_sweep = 0
        for key in [k for k, q in self._hits.items() if not q or q[-1] <= now - k[1]]:
            del self._hits[key]

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
