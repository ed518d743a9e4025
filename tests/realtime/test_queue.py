"""The message queue's publishing when Redis stops answering (shared/realtime/queue.py), without a
server: a publish that fails marks the queue down, later ones are skipped at once, a background
ping brings it back and runs the recovery callbacks. The real thing, with a paused redis-server
and two processes: tests/scale/test_paused_redis.py."""

from __future__ import annotations

import redis

from shared.realtime.queue import QueueManager


class FakeServer:
    """What the manager asks of python-socketio's server: background tasks and sleeping."""

    def __init__(self) -> None:
        self.tasks: list = []
        self.slept: list[float] = []

    def start_background_task(self, target, *args):
        self.tasks.append((target, args))

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


class Publisher:
    """A Redis client that times out until told otherwise."""

    def __init__(self) -> None:
        self.answering = False
        self.published: list[str] = []
        self.pings = 0

    def publish(self, channel: str, data: str) -> int:
        if not self.answering:
            raise redis.TimeoutError("Timeout reading from socket")
        self.published.append(data)
        return 1

    def ping(self) -> bool:
        self.pings += 1
        if not self.answering:
            raise redis.TimeoutError("Timeout reading from socket")
        return True


def manager() -> tuple[QueueManager, FakeServer, Publisher]:
    m = QueueManager("redis://127.0.0.1:1/0", channel="test")
    server, publisher = FakeServer(), Publisher()
    m.server = server
    m._publisher = publisher
    return m, server, publisher


def test_a_failed_publish_marks_the_queue_down_and_later_ones_are_skipped():
    m, server, publisher = manager()
    m._publish({"method": "emit", "event": "results"})
    assert m.up is False
    assert len(server.tasks) == 1  # the ping loop, started once
    m._publish({"method": "emit", "event": "presence"})
    m._publish({"method": "emit", "event": "presence"})
    assert len(server.tasks) == 1
    assert publisher.published == []
    assert m._skipped == 3


def test_the_queue_comes_back_when_redis_answers_and_says_so():
    m, server, publisher = manager()
    recovered: list[bool] = []
    m.on_recovered.append(lambda: recovered.append(True))
    m._publish({"method": "emit", "event": "results"})
    pings = iter([False, False, True])

    def sleep(_seconds: float) -> None:
        publisher.answering = next(pings)

    server.sleep = sleep
    target, args = server.tasks[0]
    target(*args)
    assert m.up is True and recovered == [True]
    assert publisher.pings == 3
    m._publish({"method": "emit", "event": "results"})
    assert len(publisher.published) == 1
