"""Room traffic (issue 14, item 5): what the projector and a phone receive in a busy meeting.

One `dialogrum serve` process on a fresh SQLite file, a live session on a consideration with
voting open and results shown. `--phones` (1,000) phones connect (in `--workers` load-generator
processes, websocket); then for `--seconds` (20) the phones vote and change their votes
(`--votes-per-s`, 50) and write comments (`--comments-per-s`, 10) spread over the hall. The
projector (a `projector_key` socket with `batch`, as the projector page) and `--sample` (3) phones
are observers in this process: every event they receive is counted with its size (the Socket.IO
payload as JSON, without the websocket frame's few bytes). Reported per observer: events per
second on average and in the busiest one-second window, the same by event name, and bytes per
second.

The issue's goal: the projector gets at most 10 updates a second, and a phone under 100 KB/s.

    .venv/bin/python bench/room_traffic.py                 # 1,000 phones, 20 s
    .venv/bin/python bench/room_traffic.py --phones 200 --seconds 5 --json

Flags: --phones N (1000), --seconds S (20), --votes-per-s V (50), --comments-per-s C (10),
--workers W (2), --sample K (3 observed phones), --timeout S (150: 1,000 phones and the load
generator saturate two cores, and 60 was too short there), --json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from load import PHONES_PER_ADDRESS, _raise_nofile, _recv, run_worker  # noqa: E402
from vote_burst import api, app_server  # noqa: E402

# -- the hall (load-generator processes) ----------------------------------------------------


async def _worker(conn, url: str, code: str, item_id: str, choices: list[str], n: int, seconds: float,
                  votes_per_s: float, comments_per_s: float, timeout: float, seed: int) -> None:
    import aiohttp
    import socketio

    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(50)
    errors: dict[str, int] = {}
    # A hall of several access points (as bench/load.py): at most PHONES_PER_ADDRESS phones per
    # loopback source address, so the per-address limit on new participants is not the subject.
    sessions: dict[str, aiohttp.ClientSession] = {}

    def session_for(i: int) -> aiohttp.ClientSession:
        addr = f"127.0.{seed + 1}.{10 + i // PHONES_PER_ADDRESS}"
        if addr not in sessions:
            sessions[addr] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, local_addr=(addr, 0)))
        return sessions[addr]

    async def connect_one(i: int) -> Any:
        sio = socketio.AsyncClient(reconnection=False, request_timeout=timeout, http_session=session_for(i))
        async with sem:
            try:
                await sio.connect(url, auth={"code": code}, transports=["websocket"], wait_timeout=timeout)
            except Exception as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return None
        return sio

    conn.send(("ready",))
    await loop.run_in_executor(None, conn.recv)
    phones = [p for p in await asyncio.gather(*(connect_one(i) for i in range(n))) if p is not None]
    conn.send(("connected", len(phones), errors))
    await loop.run_in_executor(None, conn.recv)  # go

    rnd = random.Random(seed)
    acks = {"vote_ok": 0, "vote_failed": 0, "comment_ok": 0, "comment_failed": 0}
    tasks: set[asyncio.Task] = set()
    # Each comment from a phone that has not written one yet: the per-phone limit never bites.
    writers = list(range(len(phones)))
    rnd.shuffle(writers)

    async def call(kind: str, sio: Any, data: dict) -> None:
        try:
            ack = await sio.call(kind, data, timeout=timeout)
            ok = isinstance(ack, dict) and ack.get("ok") is True
        except Exception:
            ok = False
        acks[f"{kind}_{'ok' if ok else 'failed'}"] += 1

    async def pace(rate: float, make) -> None:
        if rate <= 0 or not phones:
            return
        t0 = time.monotonic()
        k = 0
        while True:
            due = t0 + k / rate
            if due - t0 >= seconds:
                return
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            task = asyncio.create_task(make(k))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            k += 1

    def vote(_k: int):
        return call("vote", rnd.choice(phones), {"item_id": item_id, "choice": rnd.choice(choices)})

    def comment(k: int):
        sio = phones[writers[k % len(writers)]]
        return call("comment", sio, {"item_id": item_id, "text": f"Kommentar {k}: {'bla ' * rnd.randint(3, 25)}"})

    await asyncio.gather(pace(votes_per_s, vote), pace(comments_per_s, comment))
    if tasks:
        await asyncio.wait(tasks, timeout=timeout)
    conn.send(("done", acks))
    await loop.run_in_executor(None, conn.recv)
    await asyncio.gather(*(p.disconnect() for p in phones), return_exceptions=True)
    for session in sessions.values():
        await session.close()


def _worker_main(conn, *args: Any) -> None:
    run_worker(conn, _worker, *args)


# -- the observers --------------------------------------------------------------------------


class Observer:
    """Every event one socket receives: (monotonic time, name, payload bytes)."""

    def __init__(self, name: str) -> None:
        import socketio

        self.name = name
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[float, str, int]] = []
        self.sio.on("*", self._any)

    def _any(self, event: str, *args: Any) -> None:
        size = len(json.dumps([event, *args], separators=(",", ":"), ensure_ascii=False).encode())
        self.events.append((time.monotonic(), event, size))

    def figures(self, t0: float, t1: float) -> dict:
        """Events and bytes between t0 and t1: per second on average and in the busiest 1-s window."""
        inside = [e for e in self.events if t0 <= e[0] <= t1]
        span = max(t1 - t0, 1e-9)

        def busiest(items: list[tuple[float, str, int]], weight) -> float:
            best, j, acc = 0.0, 0, 0.0
            for i, e in enumerate(items):
                acc += weight(e)
                while items[j][0] < e[0] - 1.0:
                    acc -= weight(items[j])
                    j += 1
                best = max(best, acc)
                del i
            return best

        names = sorted({e[1] for e in inside})
        return {
            "events_per_s": round(len(inside) / span, 1),
            "events_busiest_s": int(busiest(inside, lambda e: 1)),
            "kb_per_s": round(sum(e[2] for e in inside) / span / 1024, 1),
            "kb_busiest_s": round(busiest(inside, lambda e: e[2]) / 1024, 1),
            "by_event_per_s": {nm: round(sum(1 for e in inside if e[1] == nm) / span, 1) for nm in names},
        }


def run(args: argparse.Namespace) -> dict:
    _raise_nofile()
    work = Path(tempfile.mkdtemp(prefix="room-traffic-"))
    try:
        with app_server("eventlet", None, work) as (server, target):
            token = target.facilitator_auth["api_token"]
            sid = target.facilitator_auth["session_id"]
            api(server.url, token, "POST", f"/api/v1/sessions/{sid}/control", {"action": "show_results"})
            session = api(server.url, token, "GET", f"/api/v1/sessions/{sid}")
            projector_key = session["projector_url"].rstrip("/").rsplit("/", 1)[-1]
            return asyncio.run(_coordinate(args, server.url, target, projector_key))
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def _coordinate(args: argparse.Namespace, url: str, target: Any, projector_key: str) -> dict:
    loop = asyncio.get_running_loop()
    code = target.phone_auth["code"]
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    share = [len(range(args.phones)[w::args.workers]) for w in range(args.workers)]
    for w in range(args.workers):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_worker_main, daemon=True,
                        args=(child, url, code, target.item_id, list(target.choices), share[w], args.seconds,
                              args.votes_per_s / args.workers, args.comments_per_s / args.workers, args.timeout,
                              w))
        p.start()
        pipes.append(parent)
        procs.append(p)

    try:
        for parent in pipes:
            await _recv(parent, 120)
        for parent in pipes:
            parent.send(("connect",))
        connected = 0
        for parent in pipes:
            connected += (await _recv(parent, args.timeout * 4))[1]
        projector = Observer("projector")
        # As the projector page connects: new comments together (`comments_added`).
        await projector.sio.connect(url, auth={"projector_key": projector_key, "batch": True},
                                    transports=["websocket"])
        sample = [Observer(f"phone{k}") for k in range(args.sample)]
        for ob in sample:
            await ob.sio.connect(url, auth={"code": code}, transports=["websocket"])
        await asyncio.sleep(2)  # the greetings and presence settle
        t0 = time.monotonic()
        for parent in pipes:
            parent.send(("go",))
        acks: dict[str, int] = {}
        for parent in pipes:
            for key, v in (await _recv(parent, args.seconds + args.timeout))[1].items():
                acks[key] = acks.get(key, 0) + v
        t1 = time.monotonic()
        await asyncio.sleep(1)
        for parent in pipes:
            parent.send(("stop",))
        res = {"phones": args.phones, "connected": connected + args.sample, "seconds": round(t1 - t0, 2),
               "votes_per_s_asked": args.votes_per_s, "comments_per_s_asked": args.comments_per_s, **acks,
               "projector": projector.figures(t0, t1)}
        phones = [ob.figures(t0, t1) for ob in sample]
        res["phone_worst"] = max(phones, key=lambda f: f["kb_busiest_s"]) if phones else None
        await projector.sio.disconnect()
        for ob in sample:
            await ob.sio.disconnect()
    finally:
        for p in procs:
            await loop.run_in_executor(None, p.join, 10)
            if p.is_alive():
                p.kill()
    pf, ph = res["projector"], res["phone_worst"] or {}
    res["goals"] = {
        "projector <= 10 updates/s (busiest second)": pf["events_busiest_s"] <= 10,
        "a phone < 100 KB/s (busiest second)": ph.get("kb_busiest_s", 0) < 100,
    }
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--phones", type=int, default=1000, help="phones in the hall (1000)")
    p.add_argument("--seconds", type=float, default=20.0, help="how long votes and comments flow (20)")
    p.add_argument("--votes-per-s", type=float, default=50.0, help="votes and changed votes a second (50)")
    p.add_argument("--comments-per-s", type=float, default=10.0, help="comments a second (10)")
    p.add_argument("--workers", type=int, default=2, help="load-generator processes (2)")
    p.add_argument("--sample", type=int, default=3, help="observed phones (3)")
    p.add_argument("--timeout", type=float, default=150, help="seconds per phase (150)")
    p.add_argument("--json", action="store_true", help="print JSON only")
    args = p.parse_args(argv)
    res = run(args)
    if args.json:
        print(json.dumps(res, indent=1))
    else:
        print(f"$ .venv/bin/python bench/room_traffic.py {' '.join(argv if argv is not None else sys.argv[1:])}")
        for key, value in res.items():
            if key != "goals":
                print(f"{key:22} {value}")
        for goal, ok in res["goals"].items():
            print(f"{'ok  ' if ok else 'MISS'} {goal}")
    return 0 if all(res["goals"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
