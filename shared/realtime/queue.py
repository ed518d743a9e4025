"""Socket.IO's message queue over Redis, bounded in time: a paused or stalled Redis never holds a
command's acknowledgement or the broadcast loop (issue 15, leftovers: a paused Redis).

python-socketio's `RedisManager` publishes every emit on a Redis client without a read timeout,
so a Redis that keeps its connections open but does not answer (`kill -STOP`, a stalled VM, a
long fork) held the publishing greenlet until Redis came back: a facilitator's conclusion was
committed but never acknowledged, and the hub's loop stopped sending states and results.

`QueueManager` keeps the library's listener (its subscription waits without a timeout by design)
and publishes on a client of its own with `PUBLISH_TIMEOUT`. Every emit reaches this process's own
sockets first (the library delivers locally before publishing), so a failed publish only costs
the other processes the event. After a failure the queue counts as down: publishing is skipped at
once, a background task pings Redis every `RETRY_SECONDS`, and when it answers again the
`on_recovered` callbacks run (the hub re-sends its counts through the queue: shared/realtime/hub.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import socketio

log = logging.getLogger(__name__)

#: Seconds one publish may wait for Redis before the queue counts as down.
PUBLISH_TIMEOUT = 1.0
#: Seconds to connect to Redis (a host that drops packets).
CONNECT_TIMEOUT = 2.0
#: Seconds between pings while the queue is down.
RETRY_SECONDS = 1.0


class QueueManager(socketio.RedisManager):
    """A Redis client manager whose publishing is bounded in time and skipped while Redis is down."""

    def __init__(self, url: str, channel: str, *, publish_timeout: float = PUBLISH_TIMEOUT,
                 retry_seconds: float = RETRY_SECONDS) -> None:
        # The listener's client: a connect timeout only (its subscription waits for messages).
        super().__init__(url, channel=channel, redis_options={"socket_connect_timeout": CONNECT_TIMEOUT})
        self.publish_timeout = publish_timeout
        self.retry_seconds = retry_seconds
        self.up = True
        #: Called (in a background task) when Redis answers again after being down.
        self.on_recovered: list[Callable[[], None]] = []
        self._publisher = None
        self._skipped = 0

    def _publishing_client(self):
        if self._publisher is None:
            module = self._get_redis_module()
            self._publisher = module.Redis.from_url(self.redis_url, socket_connect_timeout=CONNECT_TIMEOUT,
                                                    socket_timeout=self.publish_timeout)
        return self._publisher

    def _publish(self, data) -> None:
        """Tell the other processes, waiting at most `publish_timeout`; while down, not at all."""
        if not self.up:
            self._skipped += 1
            return
        try:
            self._publishing_client().publish(self.channel, self.json.dumps(data))
        except Exception as exc:
            self._went_down(exc)

    def _went_down(self, exc: Exception) -> None:
        if not self.up:
            return
        self.up = False
        self._skipped = 1
        log.error("the message queue does not answer (%s): events reach this process's sockets only "
                  "until it does", exc)
        self.server.start_background_task(self._wait_for_redis)

    def _wait_for_redis(self) -> None:
        """Ping until Redis answers, then run the recovery callbacks."""
        while True:
            self.server.sleep(self.retry_seconds)
            try:
                self._publishing_client().ping()
                break
            except Exception as exc:  # still down: try again (the ping waits at most publish_timeout)
                log.debug("the message queue still does not answer: %s", exc)
        skipped, self._skipped = self._skipped, 0
        self.up = True
        log.warning("the message queue answers again (%d event(s) could not reach the other processes)", skipped)
        for callback in list(self.on_recovered):
            try:
                callback()
            except Exception:  # pragma: no cover - one callback must not stop the others
                log.exception("message queue recovery callback failed")

