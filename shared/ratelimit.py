"""Per-participant and per-client rate limits that hold across processes.

The storage is the `limits` library's: Redis when the deployment has one (several processes
share it), in-process memory for the embedded single-process default. When Redis does not answer,
every call raises `DialogrumError("unavailable")` within `STORE_TIMEOUT` seconds: a request or a
socket is told so at once instead of waiting (docs/deploy.md#rate-limits).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Iterator

from limits import parse, storage, strategies
from limits.errors import StorageError

from shared.errors import DialogrumError

#: The contract: a participant can always send 5 comments a minute; more than 30 are refused.
COMMENT_LIMIT = parse("30/minute")
#: Changing one's mind is fine; hammering the vote button is not.
VOTE_LIMIT = parse("60/minute")
#: Thumbs-up given or taken back on others' comments (issue 11, section 3): a phone reading the
#: wall likes a handful a minute; toggling one to and fro is not a vote of many.
LIKE_LIMIT = parse("60/minute")
#: A phone asks for the list of others' ideas on a new open question and after a reconnect; a
#: phone asking all the time is not reading them.
IDEAS_LIMIT = parse("60/minute")
#: New participants (a join without a valid participant token) per client address: a hall's pace.
#: A hall of 1,000 phones behind one NAT address joins 600 in the first minute and the rest as the
#: window moves (the phone retries by itself). Reconnects that bring their token never count.
#: `DIALOGRUM_NEW_PARTICIPANT_LIMIT` overrides it (docs/deploy.md#rate-limits).
NEW_PARTICIPANT_LIMIT = parse("600/minute")
#: Wrong join codes per client address (pages and sockets): typos are fine, guessing is not. The
#: right code never counts. Past it the address may not look codes up until the window moves
#: (`rate_limited`), except phones that bring their participant token.
WRONG_CODE_LIMIT = parse("60/minute")
#: REST calls per token.
API_LIMIT = parse("600/minute")


#: Seconds to wait for the rate limits' Redis before saying `unavailable`.
STORE_TIMEOUT = 2.0


class Limiter:
    """A moving-window limiter over one storage URI (`memory://` or `redis://…`), and plain
    counters with an expiry (how many participants one address made in a session)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        # In-process memory gets its own moving window: limits' MemoryStorage starts a
        # threading.Timer every 10 ms that scans every key, and under eventlet Timer.start()
        # yields inside the caller -- in the middle of the vote's database transaction.
        self._local = _LocalWindows() if uri.startswith("memory://") else None
        if self._local is None:
            options = {}
            if uri.startswith(("redis://", "rediss://")):
                options = {"socket_connect_timeout": STORE_TIMEOUT, "socket_timeout": STORE_TIMEOUT}
            self._storage = storage.storage_from_string(uri, wrap_exceptions=True, **options)
            self._strategy = strategies.MovingWindowRateLimiter(self._storage)

    def hit(self, limit, *keys: str) -> bool:
        """Count one event under `keys`; False when the limit is exceeded."""
        if self._local is not None:
            return self._local.hit(limit, keys)
        with _told():
            return self._strategy.hit(limit, *keys)

    def test(self, limit, *keys: str) -> bool:
        """Whether one more event under `keys` would pass, without counting it."""
        if self._local is not None:
            return self._local.test(limit, keys)
        with _told():
            return self._strategy.test(limit, *keys)

    def count(self, window: int, *keys: str) -> int:
        """Add one to the counter under `keys` (kept `window` seconds after it starts); its value."""
        if self._local is not None:
            return self._local.count(window, keys)
        with _told():
            return self._storage.incr(_key("count", *keys), window)

    def raise_to(self, value: int, window: int, *keys: str) -> None:
        """Make the counter under `keys` at least `value` (a high-water mark)."""
        if self._local is not None:
            self._local.raise_to(value, window, keys)
            return
        with _told():
            current = self._storage.get(_key("count", *keys))
            if value > current:
                self._storage.incr(_key("count", *keys), window, amount=value - current)

    def get(self, *keys: str) -> int:
        """The counter under `keys` (0 when there is none)."""
        if self._local is not None:
            return self._local.get(keys)
        with _told():
            return self._storage.get(_key("count", *keys))

    def ping(self) -> None:
        """Raise `DialogrumError("unavailable")` unless the storage answers."""
        if self._local is None:
            with _told():
                if not self._storage.check():
                    raise StorageError(ConnectionError("the rate limits' storage does not answer"))

    def reset(self) -> None:
        """Forget every counter (tests)."""
        if self._local is not None:
            self._local.reset()
        else:
            self._storage.reset()


def _key(*parts: str) -> str:
    return "/".join(parts)


@contextlib.contextmanager
def _told() -> Iterator[None]:
    """Turn a storage failure into `DialogrumError("unavailable")`."""
    try:
        yield
    except (StorageError, ConnectionError, TimeoutError, OSError) as exc:
        raise DialogrumError("unavailable", f"the rate limits' storage does not answer: {exc}") from exc


class _LocalWindows:
    """Moving windows kept in this process: a deque of hit times per key, pruned as it is used."""

    def __init__(self) -> None:
        self._hits: dict[tuple, deque[float]] = {}
        self._counts: dict[tuple, tuple[int, float]] = {}
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

    def test(self, limit, keys: tuple[str, ...]) -> bool:
        window = limit.get_expiry()
        now = time.monotonic()
        with self._lock:
            q = self._hits.get((limit.amount, window, *keys))
            return q is None or sum(1 for t in q if t > now - window) < limit.amount

    def count(self, window: int, keys: tuple[str, ...]) -> int:
        now = time.monotonic()
        with self._lock:
            value, until = self._counts.get(keys, (0, 0.0))
            if until <= now:
                value, until = 0, now + window
            self._counts[keys] = (value + 1, until)
            if len(self._counts) > 100_000:  # bounded: drop the expired ones
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            return value + 1

    def raise_to(self, value: int, window: int, keys: tuple[str, ...]) -> None:
        now = time.monotonic()
        with self._lock:
            current, until = self._counts.get(keys, (0, 0.0))
            if until <= now:
                current, until = 0, now + window
            self._counts[keys] = (max(current, value), until)

    def get(self, keys: tuple[str, ...]) -> int:
        with self._lock:
            value, until = self._counts.get(keys, (0, 0.0))
            return value if until > time.monotonic() else 0

    def _sweep(self, now: float) -> None:
        # Drop keys whose window has passed (bounded memory; amortised over 10,000 hits).
        self._since_sweep = 0
        for key in [k for k, q in self._hits.items() if not q or q[-1] <= now - k[1]]:
            del self._hits[key]

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self._counts.clear()
