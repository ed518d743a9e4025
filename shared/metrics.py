"""`GET /metrics`: this process's numbers in Prometheus' text format (docs/deploy.md#metrics).

- **Off unless asked for.** Without `DIALOGRUM_METRICS_TOKEN` the path is not routed (404, like
  any unknown path: a server says nothing about itself). With it, a scrape must send
  `Authorization: Bearer <token>`; anything else answers 401.
- **Per process.** Each `dialogrum serve` process holds its own sockets, so each serves its own
  numbers and Prometheus scrapes every process on its own address (through the proxy a scrape would
  reach whichever process it was routed to). prometheus_client's multiprocess mode is for workers
  forked from one parent sharing a directory; these are independent servers.
- **Cheap to scrape.** Connections and sessions are read from the hub's memory; the database and
  message-queue checks of `/healthz` (shared/health.py) and the count of live sessions are cached
  for `HEALTH_SECONDS`, so a scrape every second costs them no more than one every five.
- **Cheap on the vote path.** A vote adds one counter increment and one histogram observation,
  each a lock and an addition in this process's memory.
"""

from __future__ import annotations

import gc
import hmac
import logging
import time
from collections import Counter as Tally
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, request
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

#: Seconds the health checks and the count of live sessions are kept between scrapes.
HEALTH_SECONDS = 5.0
#: Acknowledgement latency buckets (seconds): a phone's tap should be answered well under 100 ms.
ACK_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: The roles a socket can have (always reported, 0 when none is open).
ROLES = ("participant", "facilitator", "projector")


class Metrics:
    """The instruments of one app, in a registry of its own (tests build many apps per process)."""

    def __init__(self, app: Flask, database: Any) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)  # CPU seconds, memory, open files of this process
        r = self.registry
        self.votes = Counter("dialogrum_votes", "Votes stored and acknowledged ok.", registry=r)
        self.comments = Counter("dialogrum_comments", "Comments stored and acknowledged ok.", registry=r)
        self.refused = Counter("dialogrum_commands_refused", "Votes and comments refused, by event and error code.",
                               ["event", "error"], registry=r)
        self.ack_seconds = Histogram("dialogrum_ack_seconds",
                                     "Seconds from receiving a vote or comment to its acknowledgement.",
                                     ["event"], buckets=ACK_BUCKETS, registry=r)
        self.connects = Counter("dialogrum_socket_connects", "Sockets let in, by role.", ["role"], registry=r)
        self.refusals = Counter("dialogrum_socket_refusals", "Sockets refused at connect, by reason.", ["reason"],
                                registry=r)
        self.requests = Counter("dialogrum_http_requests", "HTTP requests answered, by status.", ["status"],
                                registry=r)
        # Bound once: `labels()` on every vote would cost a dictionary look-up under a lock.
        self.ack = {event: self.ack_seconds.labels(event) for event in ("vote", "comment")}
        self.registry.register(_Live(app, database))

    def acknowledged(self, event: str, started: float, answer: dict) -> dict:
        """Count a vote's or comment's answer and its latency since `started` (perf_counter)."""
        self.ack[event].observe(time.perf_counter() - started)
        if answer.get("ok"):
            (self.votes if event == "vote" else self.comments).inc()
        else:
            self.refused.labels(event, str(answer.get("error"))).inc()
        return answer


class _Live(Collector):
    """What is true at the moment of the scrape: sockets, sessions, and the health checks."""

    def __init__(self, app: Flask, database: Any) -> None:
        self.app = app
        self.database = database
        self._checked = 0.0
        self._failing: list[str] = []
        self._live: int | None = None

    def _check(self) -> None:
        if time.monotonic() - self._checked < HEALTH_SECONDS:
            return
        from shared import health
        from shared.enums import MeetingStatus
        from shared.models import Meeting

        failing = health.failing(self.app, self.database)
        live = None
        if "database" not in failing:
            try:
                with self.database.begin() as conn:
                    live = conn.scalar(sa.select(sa.func.count()).select_from(Meeting)
                                       .where(Meeting.status == MeetingStatus.LIVE))
            except Exception as exc:  # the check above just passed; a failure now is reported as down
                log.warning("metrics: counting live sessions failed: %s", exc)
                failing.append("database")
        self._failing, self._live, self._checked = failing, live, time.monotonic()

    def describe(self) -> list:
        """Nothing: without it the registry would collect once on registering, at app build time,
        before the database may even exist."""
        return []

    def collect(self):
        """Yield the gauges (called by the registry on every scrape)."""
        hub = self.app.extensions.get("dialogrum.hub")
        clients = list(hub.clients.values()) if hub is not None else []
        by_role = Tally(c.role for c in clients)
        sockets = GaugeMetricFamily("dialogrum_socket_connections", "Sockets open on this process, by role.",
                                    labels=["role"])
        for role in ROLES:
            sockets.add_metric([role], by_role.get(role, 0))
        yield sockets
        yield GaugeMetricFamily("dialogrum_sessions_with_sockets", "Sessions this process has sockets open for.",
                                value=len({c.meeting_id for c in clients}))
        yield GaugeMetricFamily("dialogrum_gc_frozen_objects",
                                "Objects made while starting that the garbage collector no longer walks "
                                "(shared/heap.py; 0 outside `dialogrum serve`).",
                                value=gc.get_freeze_count())
        self._check()
        if self._live is not None:
            yield GaugeMetricFamily("dialogrum_sessions_live",
                                    "Sessions live in the database (the same on every process: take the max).",
                                    value=self._live)
        yield GaugeMetricFamily("dialogrum_database_up", "1 when the database answered the last check.",
                                value=0 if "database" in self._failing else 1)
        queue = self.app.config.get("MESSAGE_QUEUE") or ""
        if queue.startswith(("redis://", "rediss://")):
            yield GaugeMetricFamily("dialogrum_message_queue_up",
                                    "1 when the message queue's Redis answered the last check.",
                                    value=0 if "message_queue" in self._failing else 1)


def init_app(app: Flask, database: Any) -> Metrics:
    """The app's instruments (always kept: a counter costs little), and `/metrics` when enabled."""
    metrics = Metrics(app, database)
    app.extensions["dialogrum.metrics"] = metrics

    @app.after_request
    def _count(response: Response) -> Response:
        metrics.requests.labels(str(response.status_code)).inc()
        return response

    token = app.config.get("METRICS_TOKEN")
    if token:
        expected = f"Bearer {token}".encode()

        @app.get("/metrics", endpoint="metrics")
        def _metrics() -> Response:
            sent = request.headers.get("Authorization", "").encode("utf-8", "replace")
            if not hmac.compare_digest(sent, expected):
                return Response("unauthorized\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'},
                                mimetype="text/plain")
            encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
            return Response(encoder(metrics.registry), headers={"Content-Type": content_type,
                                                               "Cache-Control": "no-store"})
    return metrics
