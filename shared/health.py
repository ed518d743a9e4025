"""`GET /healthz`: whether this process can do its work, asked of what it depends on.

The database answers `SELECT 1`, and, where one is configured, the message queue's Redis answers
`PING` (within `TIMEOUT` seconds each). A process that cannot reach Redis cannot pass events to the
other processes nor keep rate limits, so it says so: `503 {"status": "degraded", "failing":
["database" | "message_queue"]}` (contract v1.1), and a load balancer takes it out of rotation.
A queue that is not Redis (kombu's other brokers) is not asked.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask

log = logging.getLogger(__name__)

#: Seconds each check may take.
TIMEOUT = 1.0


def _redis(app: Flask):
    client = app.extensions.get("dialogrum.health_redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(app.config["MESSAGE_QUEUE"], socket_connect_timeout=TIMEOUT,
                                      socket_timeout=TIMEOUT)
        app.extensions["dialogrum.health_redis"] = client
    return client


def failing(app: Flask, database) -> list[str]:
    """What does not answer, in the contract's words; [] when all is well."""
    out = []
    try:
        with database.begin() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        log.warning("health: the database does not answer: %s", exc)
        out.append("database")
    queue = app.config.get("MESSAGE_QUEUE") or ""
    if queue.startswith(("redis://", "rediss://")):
        try:
            _redis(app).ping()
        except Exception as exc:
            log.warning("health: the message queue does not answer: %s", exc)
            out.append("message_queue")
    return out
