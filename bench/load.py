"""The load generator of the vote-burst benchmark (shared by `vote_burst.py` and the scale tests).

N phones (python-socketio asyncio clients) are split over worker processes so that the client's
own CPU does not sit in the measured server's process. Each phone opens its socket with the
transports the phone page uses (`PAGE_TRANSPORTS`, kept equal to participant/static/phone.js by
tests/scale/test_bench_small.py), so the server faces what a hall of real phones sends. The
coordinator (the calling process) runs the facilitator client and tells the workers when to go:

0. with `pages=True`, every phone first loads the phone page (`Target.page_path`) and the static
   files it names, asking for gzip like a browser, without cookies (a first visit); this page
   phase is timed and reported apart from the socket phase;
1. every worker connects its phones, at most `connect_concurrency` at a time over all workers;
2. when all are connected (and the server has settled), the coordinator sends `go` and every
   phone votes at once (`asyncio.gather`), each timing its own acknowledgement;
3. the facilitator client notes when a `results` with `voters == N` arrives;
4. after a grace period the workers report how many `results` reached the phones (results are
   hidden in this benchmark, so that must be 0), and disconnect.

`run_burst` returns a plain dict of measurements; `marks` callbacks let the caller sample the
server process (CPU, RSS) at the phase boundaries. Only loopback addresses are used. Phones are
spread over several loopback source addresses (127.0.0.10, .11, ...; at most 200 per address)
so that a per-address connection limit sees a hall of several access points, not one client.
"""

from __future__ import annotations

import asyncio
import gzip
import html
import multiprocessing as mp
import re
import statistics
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PHONES_PER_ADDRESS = 200

#: The Socket.IO transports of each phone, by name (`--transports` of vote_burst.py):
#: "polling" is the client's default (HTTP long-polling first, then an upgrade to websocket);
#: "websocket" opens a websocket at once (what a page with websocket first does when it works).
TRANSPORTS = {"polling": ["polling", "websocket"], "websocket": ["websocket"]}
#: What participant/static/phone.js asks for (checked by tests/scale/test_bench_small.py).
PAGE_TRANSPORTS = "websocket"

#: The static files a page names (stylesheet and scripts), as a browser would fetch them.
_ASSET = re.compile(r'(?:src|href)="(/static/[^"]+)"')


@dataclass
class Target:
    """Where and how to connect: the server's URL, the auth dicts and the vote payload."""

    url: str
    phone_auth: dict
    facilitator_auth: dict
    item_id: str
    choices: tuple[str, ...] = ("yes", "no", "unsure")
    extra: dict = field(default_factory=dict)
    #: the phone page (e.g. "/j/ABC123"), loaded in the page phase
    page_path: str | None = None


def _raise_nofile() -> tuple[int, int] | None:
    """Raise this process's (and so its children's) open-file limit to the hard limit; returns the
    limits now in force (None where the platform has none)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, ValueError, OSError):  # pragma: no cover - platform dependent
        return None


def print_figures(title: str, figures: dict) -> int:
    """Print a bench's figures under `title`, then its targets as a checklist; returns the exit
    status (0 when every target is met)."""
    print(f"\n{title}")
    for key, value in figures.items():
        if key != "targets":
            print(f"  {key}: {value}")
    for name, ok in figures["targets"].items():
        print(f"  [{'x' if ok else ' '}] {name}")
    return 0 if all(figures["targets"].values()) else 1


def run_worker(conn, worker: Callable[..., Any], *args: Any) -> None:
    """The body of a load-generator process: run the coroutine `worker(conn, *args)` with the
    open-file limit raised; a failure goes to the coordinator as ("error", traceback)."""
    _raise_nofile()
    try:
        asyncio.run(worker(conn, *args))
    except Exception:  # pragma: no cover - reported to the coordinator
        conn.send(("error", traceback.format_exc()))


# -- the worker process ---------------------------------------------------------------------


async def _load_pages(target: Target, indices: list[int], concurrency: int, timeout: float,
                      spread: bool) -> dict:
    """Each phone loads the page and its static files (in parallel, like a browser), gzip asked
    for and not decoded, so that the bytes counted are the bytes over the wire."""
    import aiohttp

    sessions: dict[str, aiohttp.ClientSession] = {}
    sem = asyncio.Semaphore(concurrency)
    headers = {"Accept-Encoding": "gzip, deflate", "Accept-Language": "da"}
    errors: dict[str, int] = {}

    def session_for(i: int) -> aiohttp.ClientSession:
        addr = f"127.0.0.{10 + i // PHONES_PER_ADDRESS}" if spread else "127.0.0.1"
        if addr not in sessions:
            connector = aiohttp.TCPConnector(limit=0, local_addr=(addr, 0) if spread else None)
            sessions[addr] = aiohttp.ClientSession(connector=connector, auto_decompress=False,
                                                   cookie_jar=aiohttp.DummyCookieJar(),
                                                   timeout=aiohttp.ClientTimeout(total=timeout))
        return sessions[addr]

    async def get(s: aiohttp.ClientSession, path: str) -> tuple[bytes, bytes]:
        """(the body as it came over the wire, the body decoded)."""
        async with s.get(target.url + path, headers=headers) as r:
            body = await r.read()
            if r.status != 200:
                raise RuntimeError(f"{path.split('?', maxsplit=1)[0]} answered {r.status}")
            return body, gzip.decompress(body) if r.headers.get("Content-Encoding") == "gzip" else body

    async def one(i: int) -> tuple[float, int] | None:
        s = session_for(i)
        async with sem:
            t = time.monotonic()
            try:
                page, text = await get(s, target.page_path or "/")
                assets = [html.unescape(a) for a in _ASSET.findall(text.decode("utf-8", "replace"))]
                bodies = await asyncio.gather(*(get(s, a) for a in assets))
            except Exception as exc:
                key = f"{type(exc).__name__}: {str(exc)[:80]}"
                errors[key] = errors.get(key, 0) + 1
                return None
            return time.monotonic() - t, len(page) + sum(len(b[0]) for b in bodies)

    done = [r for r in await asyncio.gather(*(one(i) for i in indices)) if r is not None]
    for s in sessions.values():
        await s.close()
    return {"ok": len(done), "latencies": [d[0] for d in done], "bytes": [d[1] for d in done], "errors": errors}


async def _worker(conn, target: Target, indices: list[int], concurrency: int, timeout: float,
                  spread: bool, transports: str, pages: bool) -> None:
    import aiohttp
    import socketio

    loop = asyncio.get_running_loop()
    # Imported and ready: the coordinator starts its clocks only when every worker is.
    conn.send(("ready",))
    msg = await loop.run_in_executor(None, conn.recv)
    if msg[0] == "pages":
        conn.send(("pages", await _load_pages(target, indices, concurrency, timeout, spread)))
        msg = await loop.run_in_executor(None, conn.recv)
    assert msg[0] == "connect", msg
    sessions: dict[str, aiohttp.ClientSession] = {}

    def session_for(i: int) -> aiohttp.ClientSession:
        addr = f"127.0.0.{10 + i // PHONES_PER_ADDRESS}" if spread else "127.0.0.1"
        if addr not in sessions:
            connector = aiohttp.TCPConnector(limit=0, local_addr=(addr, 0) if spread else None)
            sessions[addr] = aiohttp.ClientSession(connector=connector)
        return sessions[addr]

    leaked = 0
    clients: list[Any] = []
    errors: dict[str, int] = {}
    sem = asyncio.Semaphore(concurrency)

    def on_results(_data: Any = None) -> None:
        nonlocal leaked
        leaked += 1

    async def connect_one(i: int) -> Any:
        sio = socketio.AsyncClient(reconnection=False, http_session=session_for(i), request_timeout=timeout)
        sio.on("results", on_results)
        async with sem:
            try:
                await asyncio.wait_for(
                    sio.connect(target.url, auth=dict(target.phone_auth), transports=TRANSPORTS[transports],
                                wait_timeout=timeout),
                    timeout)
            except Exception as exc:
                key = f"{type(exc).__name__}: {str(exc)[:80]}"
                errors[key] = errors.get(key, 0) + 1
                return None
        return sio

    connected = [c for c in await asyncio.gather(*(connect_one(i) for i in indices)) if c is not None]
    clients.extend(connected)
    conn.send(("connected", len(connected), errors))

    msg = await loop.run_in_executor(None, conn.recv)
    assert msg[0] == "go", msg

    async def vote(k: int, sio: Any) -> tuple[bool, float, float, str | None]:
        data = {"item_id": target.item_id, "choice": target.choices[(indices[0] + k) % len(target.choices)]}
        t = time.monotonic()
        try:
            ack = await sio.call("vote", data, timeout=timeout)
        except Exception as exc:
            return False, time.monotonic() - t, time.monotonic(), type(exc).__name__
        done = time.monotonic()
        ok = isinstance(ack, dict) and ack.get("ok") is True
        return ok, done - t, done, None if ok else str(ack.get("error") if isinstance(ack, dict) else ack)

    results = await asyncio.gather(*(vote(k, c) for k, c in enumerate(clients)))
    vote_errors: dict[str, int] = {}
    for ok, _lat, _done, err in results:
        if not ok:
            vote_errors[err or "?"] = vote_errors.get(err or "?", 0) + 1
    conn.send(("voted", {
        "ok": sum(1 for r in results if r[0]),
        "latencies": [r[1] for r in results if r[0]],
        "last_ack": max((r[2] for r in results), default=time.monotonic()),
        "errors": vote_errors,
    }))

    msg = await loop.run_in_executor(None, conn.recv)
    assert msg[0] == "collect", msg
    conn.send(("leaked", leaked))
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
    for s in sessions.values():
        await s.close()


def _worker_main(conn, target: Target, indices: list[int], concurrency: int, timeout: float, spread: bool,
                 transports: str, pages: bool) -> None:
    run_worker(conn, _worker, target, indices, concurrency, timeout, spread, transports, pages)


# -- the coordinator ------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[k]


async def _recv(conn, timeout: float) -> tuple:
    loop = asyncio.get_running_loop()
    ready = await loop.run_in_executor(None, conn.poll, timeout)
    if not ready:
        raise TimeoutError("a load worker did not answer in time")
    msg = conn.recv()
    if msg[0] == "error":
        raise RuntimeError("load worker failed:\n" + msg[1])
    return msg


async def _coordinate(target: Target, n: int, workers: int, concurrency: int, timeout: float,
                      settle: float, grace: float, spread: bool, transports: str, pages: bool,
                      mark: Callable[[str], None]) -> dict:
    import socketio

    if not pages:
        mark("start")
    seen: list[tuple[float, int]] = []
    exact = asyncio.Event()
    fac = socketio.AsyncClient(reconnection=False)

    @fac.on("results")
    def _results(data: Any) -> None:
        voters = data.get("voters") if isinstance(data, dict) else None
        if isinstance(voters, int) and data.get("item_id") == target.item_id:
            seen.append((time.monotonic(), voters))
            if voters == n:
                exact.set()

    await fac.connect(target.url, auth=dict(target.facilitator_auth), transports=["websocket"],
                      wait_timeout=timeout)

    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    share = [list(range(n))[w::workers] for w in range(workers)]
    per_worker = max(1, concurrency // workers)
    try:
        for w in range(workers):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=_worker_main, args=(child, target, share[w], per_worker, timeout, spread,
                                                           transports, pages),
                            daemon=True)
            p.start()
            pipes.append(parent)
            procs.append(p)
        for parent in pipes:  # the workers' start-up (imports) is not part of any phase
            await _recv(parent, 120)
        page_stats: dict = {}
        if pages:
            mark("pages")
            t_pages = time.monotonic()
            for parent in pipes:
                parent.send(("pages",))
            loaded = [(await _recv(parent, timeout * 4 + 60))[1] for parent in pipes]
            page_stats = _page_figures(loaded, time.monotonic() - t_pages)
            mark("start")  # the socket phase starts here: memory per phone is the sockets'
        connected, connect_errors = 0, {}
        t_connect = time.monotonic()
        for parent in pipes:
            parent.send(("connect",))
        for parent in pipes:
            _tag, k, errs = await _recv(parent, timeout * 4 + 60)
            connected += k
            for key, v in errs.items():
                connect_errors[key] = connect_errors.get(key, 0) + v
        connect_seconds = time.monotonic() - t_connect
        mark("connected")
        await asyncio.sleep(settle)
        mark("burst")
        t0 = time.monotonic()
        for parent in pipes:
            parent.send(("go",))
        voted = [(await _recv(parent, timeout + 30))[1] for parent in pipes]
        try:
            await asyncio.wait_for(exact.wait(), timeout)
        except TimeoutError:
            pass
        t_exact = next((t for t, v in seen if v == n), None)
        mark("burst_end")
        await asyncio.sleep(grace)
        leaked = 0
        for parent in pipes:
            parent.send(("collect",))
        for parent in pipes:
            leaked += (await _recv(parent, timeout))[1]
        for p in procs:
            await asyncio.get_running_loop().run_in_executor(None, p.join, timeout)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        await fac.disconnect()
    latencies = [x for v in voted for x in v["latencies"]]
    ok = sum(v["ok"] for v in voted)
    last_ack = max(v["last_ack"] for v in voted)
    vote_errors: dict[str, int] = {}
    for v in voted:
        for key, c in v["errors"].items():
            vote_errors[key] = vote_errors.get(key, 0) + c
    wall = max(last_ack - t0, 1e-9)
    return {
        "n": n,
        "connected": connected,
        "connect_seconds": round(connect_seconds, 3),
        "connect_errors": connect_errors,
        "acked_ok": ok,
        "vote_errors": vote_errors,
        "burst_seconds": round(wall, 4),
        "votes_per_s": round(ok / wall, 1),
        "ack_p50_ms": None if not latencies else round(1000 * statistics.median(latencies), 1),
        "ack_p95_ms": None if not latencies else round(1000 * _percentile(latencies, 0.95), 1),
        "exact_count_s": None if t_exact is None else round(t_exact - t0, 3),
        "results_to_facilitator": len(seen),
        "last_voters_seen": seen[-1][1] if seen else None,
        "results_leaked_to_phones": leaked,
        "transports": transports,
        **page_stats,
    }


def _page_figures(loaded: list[dict], wall: float) -> dict:
    """The page phase's figures from the workers' reports."""
    lat = [x for w in loaded for x in w["latencies"]]
    sizes = [x for w in loaded for x in w["bytes"]]
    errors: dict[str, int] = {}
    for w in loaded:
        for key, c in w["errors"].items():
            errors[key] = errors.get(key, 0) + c
    ok = sum(w["ok"] for w in loaded)
    return {
        "pages_ok": ok,
        "pages_seconds": round(wall, 3),
        "pages_per_s": round(ok / max(wall, 1e-9), 1),
        "page_p95_ms": None if not lat else round(1000 * _percentile(lat, 0.95), 1),
        "page_kb": None if not sizes else round(statistics.median(sizes) / 1024, 1),
        "page_errors": errors,
    }


def run_burst(target: Target, n: int, *, workers: int = 2, connect_concurrency: int = 100,
              timeout: float = 30.0, settle: float = 1.0, grace: float = 0.5, spread_addresses: bool = True,
              transports: str = PAGE_TRANSPORTS, pages: bool = False,
              mark: Callable[[str], None] | None = None) -> dict:
    """Connect N phones, burst one vote each, and measure (see the module docstring).

    `transports` names the phones' Socket.IO transports (`TRANSPORTS`); `pages` loads the phone
    page first (`target.page_path`). `mark(name)` is called at "pages" (before the page phase,
    when there is one), "start" (before any socket connects), "connected", "burst" (just before
    the go) and "burst_end" (all acknowledged and the exact count seen, or timed out).
    """
    _raise_nofile()
    workers = max(1, min(workers, n))
    if transports not in TRANSPORTS:
        raise ValueError(f"transports must be one of {sorted(TRANSPORTS)}")
    return asyncio.run(_coordinate(target, n, workers, connect_concurrency, timeout, settle, grace,
                                   spread_addresses, transports, pages, mark or (lambda _name: None)))
