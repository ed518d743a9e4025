"""Four processes behind nginx (issue 14, item 4): a hall of phones on PostgreSQL + Redis.

The bench starts everything itself and tears it down afterwards:

* a PostgreSQL database of its own on `--database-url`'s server (created, then dropped);
* its own `redis-server` on a free loopback port (`--redis-url` uses an existing Redis instead:
  give it a database number nobody else uses; the bench never flushes anything);
* `--processes` (4) `dialogrum serve` processes sharing both (DIALOGRUM_MESSAGE_QUEUE,
  DIALOGRUM_TRUST_PROXY=1);
* nginx from the distribution's package (/usr/sbin/nginx) with the shipped recipe's `upstream`
  (ip_hash, max_fails=0, keepalive) and its `/socket.io/` and `/` locations copied verbatim from
  deploy/nginx.conf; only the listening socket differs: plain HTTP on a free loopback port, so
  the two cores are not spent on TLS (the recipe's TLS would add nginx CPU per connect only).

Phones are python-socketio asyncio clients in `--workers` load-generator processes, connecting
through nginx with the page's transports. nginx's ip_hash keys on the first three octets of an
IPv4 address, so each phone binds a source address 127.0.G.1 with G = its group of
`--per-address` phones: the hall looks like many access points and ip_hash spreads it over the
processes (the per-process socket counts are reported). Then:

1. every phone connects (at most `--connect-concurrency` in flight over all workers);
2. `go`: every phone votes at once, each timing its acknowledgement; results are hidden, so a
   phone must get no `results` (counted as leaked);
3. one facilitator console per process (a socket straight to each process's port) notes when a
   `results` with the exact count arrives; reported after the burst began and after its end
   (the last acknowledgement);
4. the database is read: votes for the item, distinct participants, duplicates;
5. a control action (`close_voting`, REST through nginx): the time until every phone has a
   `state` with voting closed;
6. CPU seconds per phase and peak RSS of every process (each app process, nginx, redis,
   PostgreSQL's backends, the load generators), and the machine's CPU use per phase.

The file-descriptor limit (RLIMIT_NOFILE) of this process and of its children is raised to the
hard limit (`ulimit -Hn`); nginx gets `worker_rlimit_nofile` and `worker_connections` sized for
four connections per phone (within that limit). Everything listens on and connects to loopback addresses only.

    .venv/bin/python bench/cluster.py                       # 2,000 phones, 4 processes
    .venv/bin/python bench/cluster.py --phones 5000 --workers 6 --timeout 180
    .venv/bin/python bench/cluster.py --phones 200 --json   # a quick check
    .venv/bin/python bench/cluster.py --database-url postgresql://postgres@127.0.0.1:5432/cluster

Flags: --phones N (2000), --processes P (4), --workers W (load generators, 4),
--connect-concurrency C (200), --per-address K (50 phones per source address), --timeout S
(120 s per phase), --database-url URL (postgresql://postgres@127.0.0.1:5432/dialogrum_cluster),
--redis-url URL (default: own redis-server), --db-pool N (15 PostgreSQL connections per
process, DIALOGRUM_DATABASE_POOL), --nginx-workers N (1), --keep (leave the
work directory with the logs), --log-level L (the processes', WARNING), --json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from load import PAGE_TRANSPORTS, TRANSPORTS, _raise_nofile, _recv, run_worker  # noqa: E402
from vote_burst import (  # noqa: E402
    api,
    app_env,
    facilitator_token,
    free_port,
    fresh_database,
    prepare_meeting,
    start_app,
    wait_http,
)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RECIPE = ROOT / "deploy" / "nginx.conf"


def source_address(i: int, per_address: int) -> str:
    """Phone i's loopback source address: its group in the third octet, which ip_hash keys on."""
    g = i // per_address
    return f"127.{g // 250}.{g % 250 + 1}.1"


# -- nginx ----------------------------------------------------------------------------------


def _block(text: str, head: str) -> str:
    """The last block of deploy/nginx.conf that starts with `head` (to its matching brace): the
    HTTPS server's, where a location is in both servers."""
    start = text.rindex(head)
    depth, i = 0, text.index("{", start)
    while True:
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
        i += 1


def nginx_conf(work: Path, port: int, upstreams: list[int], workers: int, connections: int, nofile: int) -> Path:
    """The recipe's upstream, map and locations, unchanged but for the processes' ports, in a
    plain-HTTP server on 127.0.0.1:port."""
    recipe = RECIPE.read_text(encoding="utf-8")
    upstream = _block(recipe, "upstream dialogrum")
    servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+ max_fails=0;\n", upstream, flags=re.M)
    assert servers, "deploy/nginx.conf has no upstream servers any more (update bench/cluster.py)"
    upstream = upstream.replace("".join(servers), "".join(
        f"    server 127.0.0.1:{p} max_fails=0;\n" for p in upstreams))
    assert "ip_hash;" in upstream
    mapping = _block(recipe, "map $http_upgrade")
    locations = _block(recipe, "location / {") + "\n" + _block(recipe, "location /socket.io/ {")
    temp = "\n".join(f"    {k}_temp_path {work / k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = work / "nginx.conf"
    conf.write_text(f"""daemon off;
worker_processes {workers};
worker_rlimit_nofile {nofile};
pid {work / 'nginx.pid'};
error_log {work / 'nginx-error.log'} warn;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
{temp}
{upstream}
{mapping}
server {{
    listen 127.0.0.1:{port} backlog=4096;
    server_name _;
    client_max_body_size 2m;
{locations}
}}
}}
""", encoding="utf-8")
    return conf


@contextlib.contextmanager
def nginx(work: Path, port: int, upstreams: list[int], workers: int, phones: int,
          nofile: int) -> Iterator[tuple[str, Any]]:
    """nginx on 127.0.0.1:port in front of the processes (started after them)."""
    # Four connections per phone while it joins with the page's transports (its long-poll request
    # and its websocket, each with nginx's own to a process), and headroom, within the open files
    # nginx may have. With two per phone, 5,000 phones ran nginx out ("worker_connections are not
    # enough, reusing connections") at the end of the connect storm, and 45-48 connects failed.
    connections = min(max(1024, 4 * phones + 512), nofile - 64)
    conf = nginx_conf(work, port, upstreams, workers, connections, nofile)
    log = work / "nginx-error.log"
    checked = subprocess.run([NGINX, "-t", "-p", str(work), "-c", str(conf), "-e", str(log)],
                             capture_output=True, text=True, timeout=30, check=False)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t failed: {checked.stderr}")
    proc = subprocess.Popen([NGINX, "-p", str(work), "-c", str(conf), "-e", str(log)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", 30, proc)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def redis(url: str | None, work: Path) -> Iterator[tuple[str, int | None]]:
    """An existing Redis (`url`, used as given) or a redis-server of our own on a free port;
    yields (its URL, the pid of our own server or None)."""
    if url:
        yield url, None
        return
    port = free_port()
    proc = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port",
                             str(port), "--save", "", "--appendonly", "no", "--maxclients", "10000",
                             "--dir", str(work)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                import socket

                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0", proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


# -- measuring ------------------------------------------------------------------------------


class Meter:
    """CPU seconds and peak RSS of named groups of processes, at the bench's marks."""

    def __init__(self, groups: dict[str, list[int]], postgres: bool = True) -> None:
        import psutil

        self.psutil = psutil
        self.groups = {name: [psutil.Process(pid) for pid in pids] for name, pids in groups.items()}
        self.postgres = postgres
        self.marks: list[tuple[str, float, dict[str, float], float]] = []
        self.peak: dict[str, int] = {}
        #: RSS of each group at each mark (memory per phone: "connected" minus "start")
        self.rss: dict[str, dict[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _members(self, name: str) -> list:
        procs = []
        for p in self.groups[name]:
            with contextlib.suppress(self.psutil.Error):
                procs.append(p)
                procs.extend(p.children(recursive=True))
        return procs

    def _all(self) -> dict[str, list]:
        out = {name: self._members(name) for name in self.groups}
        if self.postgres:
            out["postgresql"] = [p for p in self.psutil.process_iter(["name"]) if p.info["name"] in ("postgres",)]
        return out

    def _sample(self) -> None:
        while not self._stop.is_set():
            for name, procs in self._all().items():
                rss = 0
                for p in procs:
                    with contextlib.suppress(self.psutil.Error):
                        # PostgreSQL's backends share their buffers: PSS counts them once.
                        rss += p.memory_full_info().pss if name == "postgresql" else p.memory_info().rss
                self.peak[name] = max(self.peak.get(name, 0), rss)
            self._stop.wait(0.25)

    def mark(self, label: str) -> None:
        cpu = {}
        self.rss[label] = {}
        for name, procs in self._all().items():
            total, rss = 0.0, 0
            for p in procs:
                with contextlib.suppress(self.psutil.Error):
                    t = p.cpu_times()
                    total += t.user + t.system
                    if name != "postgresql":
                        rss += p.memory_info().rss
            cpu[name] = total
            self.rss[label][name] = rss
        t = self.psutil.cpu_times()
        self.marks.append((label, time.monotonic(), cpu, t.user + t.system + getattr(t, "nice", 0)))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def figures(self) -> dict:
        """Per phase (between consecutive marks): wall seconds, each group's CPU seconds, and the
        machine's CPU use in cores; peak RSS of each group in MB."""
        phases = {}
        for (a, ta, ca, ma), (b, tb, cb, mb) in zip(self.marks, self.marks[1:], strict=False):
            wall = max(tb - ta, 1e-9)
            ours = sum(cb.get(k, 0) - ca.get(k, 0) for k in cb)
            phases[f"{a}->{b}"] = {
                "wall_s": round(wall, 3),
                "machine_cores_busy": round((mb - ma) / wall, 2),
                # what the rest of the machine took meanwhile (other work on a shared machine)
                "others_cores_busy": round(max(0.0, (mb - ma) - ours) / wall, 2),
                "cpu_s": {k: round(cb.get(k, 0) - ca.get(k, 0), 2) for k in cb},
            }
        grown = {k: round((self.rss["connected"][k] - self.rss["start"][k]) / 2**20, 1)
                 for k in self.rss.get("connected", {}) if k != "postgresql" and k in self.rss.get("start", {})}
        peak = {k: round(v / 2**20, 1) for k, v in self.peak.items()}
        return {"phases": phases, "rss_growth_while_connecting_mb": grown, "peak_memory_mb": peak}


def socket_counts(pids: list[int], ports: list[int]) -> list[int]:
    """Established connections on each app process's listening port (its phones and consoles)."""
    import psutil

    out = []
    for pid, port in zip(pids, ports, strict=True):
        try:
            conns = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.Error:
            out.append(-1)
            continue
        out.append(sum(1 for c in conns if c.status == "ESTABLISHED" and c.laddr and c.laddr.port == port))
    return out


def database_check(url: str, meeting_id: str, item_id: str) -> dict:
    """What the database holds for the item: votes, distinct voters, participants of the session."""
    import sqlalchemy as sa

    engine = sa.create_engine(sa.engine.make_url(url).set(drivername="postgresql+psycopg2"))
    try:
        with engine.connect() as c:
            votes, voters = c.execute(sa.text(
                "SELECT count(*), count(DISTINCT participant_id) FROM votes WHERE meeting_id = :m AND item_id = :i"),
                {"m": meeting_id, "i": item_id}).one()
            participants = c.execute(sa.text("SELECT count(*) FROM participants WHERE meeting_id = :m"),
                                     {"m": meeting_id}).scalar_one()
    finally:
        engine.dispose()
    return {"db_votes": votes, "db_distinct_voters": voters, "db_participants": participants}


# -- the load generator ---------------------------------------------------------------------


async def _worker(conn, url: str, code: str, item_id: str, choices: list[str], indices: list[int],
                  concurrency: int, timeout: float, per_address: int) -> None:
    import aiohttp
    import socketio

    loop = asyncio.get_running_loop()
    sessions: dict[str, aiohttp.ClientSession] = {}

    def session_for(i: int) -> aiohttp.ClientSession:
        addr = source_address(i, per_address)
        if addr not in sessions:
            sessions[addr] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, local_addr=(addr, 0)))
        return sessions[addr]

    leaked = 0
    closed_at: dict[int, float] = {}
    errors: dict[str, int] = {}
    sem = asyncio.Semaphore(concurrency)

    def on_results(_data: Any = None) -> None:
        nonlocal leaked
        leaked += 1

    async def connect_one(k: int, i: int) -> tuple[int, Any] | None:
        sio = socketio.AsyncClient(reconnection=False, http_session=session_for(i), request_timeout=timeout)
        sio.on("results", on_results)
        refused: list[Any] = []
        sio.on("connect_error", refused.append)

        def on_state(st: Any, k: int = k) -> None:
            if isinstance(st, dict) and st.get("voting_open") is False and k not in closed_at:
                closed_at[k] = time.monotonic()
        sio.on("state", on_state)
        async with sem:
            try:
                await asyncio.wait_for(sio.connect(url, auth={"code": code}, transports=TRANSPORTS[PAGE_TRANSPORTS],
                                                   wait_timeout=timeout), timeout)
            except Exception as exc:
                key = f"{type(exc).__name__}: {str(exc)[:60]} {str(refused[:1])[:60]}"
                errors[key] = errors.get(key, 0) + 1
                return None
        return k, sio

    conn.send(("ready",))
    msg = await loop.run_in_executor(None, conn.recv)
    assert msg[0] == "connect", msg
    t = time.monotonic()
    pairs = [c for c in await asyncio.gather(*(connect_one(k, i) for k, i in enumerate(indices))) if c is not None]
    clients = [sio for _k, sio in pairs]
    conn.send(("connected", len(clients), errors, time.monotonic() - t))

    msg = await loop.run_in_executor(None, conn.recv)
    assert msg[0] == "go", msg

    async def vote(k: int, sio: Any) -> tuple[bool, float, float, str | None]:
        data = {"item_id": item_id, "choice": choices[(indices[0] + k) % len(choices)]}
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
    conn.send(("voted", {"ok": sum(1 for r in results if r[0]), "latencies": [r[1] for r in results if r[0]],
                         "last_ack": max((r[2] for r in results), default=time.monotonic()),
                         "errors": vote_errors}))

    # The coordinator closes voting; wait until every connected phone has that state.
    msg = await loop.run_in_executor(None, conn.recv)
    assert msg[0] == "watch", msg
    keys = {k for k, _sio in pairs}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not keys <= set(closed_at):
        await asyncio.sleep(0.05)
    got = [closed_at[k] for k in keys if k in closed_at]
    conn.send(("state", {"got": len(got), "of": len(keys), "last": max(got, default=None)}))

    msg = await loop.run_in_executor(None, conn.recv)
    assert msg[0] == "collect", msg
    conn.send(("leaked", leaked))
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
    for s in sessions.values():
        await s.close()


def _worker_main(conn, *args: Any) -> None:
    run_worker(conn, _worker, *args)


# -- the run --------------------------------------------------------------------------------


async def _consoles(ports: list[int], token: str, meeting_id: str, item_id: str,
                    seen: dict[int, list[tuple[float, int]]], ready: asyncio.Event, stop: asyncio.Event) -> None:
    """One facilitator console per process (straight to its port), noting each `results`'s time
    and count of voters: when does each see the exact count?"""
    import socketio

    clients = []
    for port in ports:
        fac = socketio.AsyncClient(reconnection=False)

        def on_results(data: Any, port: int = port) -> None:
            if isinstance(data, dict) and data.get("item_id") == item_id:
                seen.setdefault(port, []).append((time.monotonic(), data.get("voters")))
        fac.on("results", on_results)
        await fac.connect(f"http://127.0.0.1:{port}", auth={"api_token": token, "session_id": meeting_id},
                          transports=["websocket"], wait_timeout=30)
        clients.append(fac)
    ready.set()
    await stop.wait()
    for fac in clients:
        await fac.disconnect()


def run(args: argparse.Namespace) -> dict:
    nofile = _raise_nofile()
    work = Path(tempfile.mkdtemp(prefix="cluster-"))
    out: dict[str, Any] = {"phones": args.phones, "processes": args.processes, "workers": args.workers,
                           "nofile": nofile[0], "cores": os.cpu_count()}
    servers = []
    try:
        with fresh_database(args.database_url) as db_url, redis(args.redis_url, work) as (redis_url, redis_pid):
            base_env = {"DIALOGRUM_MESSAGE_QUEUE": redis_url, "DIALOGRUM_TRUST_PROXY": "1",
                        "DIALOGRUM_LOG_LEVEL": args.log_level, "DIALOGRUM_DATABASE_POOL": str(args.db_pool)}
            env = app_env(work, db_url, extra=base_env)
            token = facilitator_token(env, f"cluster-{secrets.token_hex(4)}@example.org")
            ports = [free_port() for _ in range(args.processes)]
            front = free_port()
            env = app_env(work, db_url, extra={**base_env, "DIALOGRUM_BASE_URL": f"http://127.0.0.1:{front}"})
            for k, port in enumerate(ports):
                inst = work / f"p{k}"
                inst.mkdir()
                servers.append(start_app({**env, "DIALOGRUM_INSTANCE": str(inst)}, port, inst / "serve.log"))
            with nginx(work, front, ports, args.nginx_workers, args.phones, nofile[0]) as (url, nginx_proc):
                m = prepare_meeting(url, token)
                out.update(_drive(args, url, token, m, servers, ports, nginx_proc, db_url, redis_pid))
    finally:
        for s in servers:
            s.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            out["work"] = str(work)
    return out


def _drive(args: argparse.Namespace, url: str, token: str, m: dict, servers: list, ports: list[int],
           nginx_proc: subprocess.Popen, db_url: str, redis_pid: int | None) -> dict:
    n = args.phones
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    share = [list(range(n))[w::args.workers] for w in range(args.workers)]
    per_worker = max(1, args.connect_concurrency // args.workers)
    choices = list(m["state"]["item"]["choices"])
    for w in range(args.workers):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_worker_main, daemon=True,
                        args=(child, url, m["code"], m["item_id"], choices, share[w], per_worker, args.timeout,
                              args.per_address))
        p.start()
        pipes.append(parent)
        procs.append(p)
    groups = {f"app{k}": [s.proc.pid] for k, s in enumerate(servers)}
    groups["nginx"] = [nginx_proc.pid]
    groups["load"] = [p.pid for p in procs]
    if redis_pid is not None:
        groups["redis"] = [redis_pid]
    meter = Meter(groups)
    seen: dict[int, list[tuple[float, int]]] = {}

    async def coordinate() -> dict:
        loop = asyncio.get_running_loop()
        ready, stop = asyncio.Event(), asyncio.Event()
        consoles = asyncio.create_task(_consoles(ports, token, m["id"], m["item_id"], seen, ready, stop))
        await ready.wait()

        for parent in pipes:
            await _recv(parent, 120)
        meter.mark("start")
        t = time.monotonic()
        for parent in pipes:
            parent.send(("connect",))
        connected, errors = 0, {}
        for parent in pipes:
            _tag, k, errs, _secs = await _recv(parent, args.timeout * 4 + 60)
            connected += k
            for key, v in errs.items():
                errors[key] = errors.get(key, 0) + v
        res: dict[str, Any] = {"connected": connected, "connect_seconds": round(time.monotonic() - t, 2),
                               "connect_errors": errors}
        meter.mark("connected")
        res["sockets_per_process"] = socket_counts([s.proc.pid for s in servers], ports)
        await asyncio.sleep(2)  # presence settles
        meter.mark("burst")
        t0 = time.monotonic()
        for parent in pipes:
            parent.send(("go",))
        voted = [(await _recv(parent, args.timeout + 30))[1] for parent in pipes]
        last_ack = max(v["last_ack"] for v in voted)
        ok = sum(v["ok"] for v in voted)

        def exact(port: int) -> float | None:
            return next((t for t, voters in seen.get(port, ()) if voters == ok), None)
        deadline = time.monotonic() + args.timeout
        while any(exact(p) is None for p in ports) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        meter.mark("counted")
        lat = sorted(x for v in voted for x in v["latencies"])
        vote_errors: dict[str, int] = {}
        for v in voted:
            for key, c in v["errors"].items():
                vote_errors[key] = vote_errors.get(key, 0) + c
        res.update({
            "acked_ok": ok, "vote_errors": vote_errors,
            "burst_seconds": round(last_ack - t0, 3),
            "votes_per_s": round(ok / max(last_ack - t0, 1e-9), 1),
            "ack_p50_ms": round(1000 * statistics.median(lat), 1) if lat else None,
            "ack_max_ms": round(1000 * lat[-1], 1) if lat else None,
            # per process (console on that port): exact count after the burst began / after the last ack
            # (the exact count is the number of acknowledged votes; the database check below says
            # whether that is every phone)
            "exact_count_after_go_s": [None if exact(p) is None else round(exact(p) - t0, 3) for p in ports],
            "exact_count_after_last_ack_s": [None if exact(p) is None else round(exact(p) - last_ack, 3)
                                             for p in ports],
        })
        res.update(database_check(db_url, m["id"], m["item_id"]))
        await asyncio.sleep(0.5)
        meter.mark("control")
        t_ctrl = time.monotonic()
        for parent in pipes:
            parent.send(("watch",))
        await loop.run_in_executor(None, lambda: api(url, token, "POST", f"/api/v1/sessions/{m['id']}/control",
                                                     {"action": "close_voting"}))
        states = [(await _recv(parent, args.timeout + 30))[1] for parent in pipes]
        meter.mark("state_everywhere")
        lasts = [s["last"] for s in states if s["last"] is not None]
        res["state_reached"] = sum(s["got"] for s in states)
        res["state_every_phone_s"] = round(max(lasts) - t_ctrl, 3) if lasts else None
        leaked = 0
        for parent in pipes:
            parent.send(("collect",))
        for parent in pipes:
            leaked += (await _recv(parent, args.timeout))[1]
        res["results_leaked_to_phones"] = leaked
        stop.set()
        await consoles
        return res

    try:
        res = asyncio.run(coordinate())
    finally:
        meter.close()
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
    res.update(meter.figures())
    res["server_exits"] = [s.proc.poll() for s in servers]
    return res


def verdict(r: dict) -> dict[str, bool]:
    """The issue's goals for this run."""
    n = r["phones"]
    after_end = r.get("exact_count_after_last_ack_s") or []
    return {
        "all connected": r.get("connected") == n,
        "every vote acknowledged": r.get("acked_ok") == n,
        "counted once (database)": r.get("db_votes") == n == r.get("db_distinct_voters"),
        "exact count on every console <= 1 s after the burst's end": bool(after_end) and all(
            v is not None and v <= 1.0 for v in after_end),
        "state to every phone <= 1 s": r.get("state_reached") == n and (r.get("state_every_phone_s") or 99) <= 1.0,
        "no result leaked": r.get("results_leaked_to_phones") == 0,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--phones", type=int, default=2000, help="phones (default 2000)")
    p.add_argument("--processes", type=int, default=4, help="dialogrum serve processes behind nginx (4)")
    p.add_argument("--workers", type=int, default=4, help="load-generator processes (4)")
    p.add_argument("--connect-concurrency", type=int, default=200, help="connects in flight over all workers")
    p.add_argument("--per-address", type=int, default=50, help="phones per loopback source address (50)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per phase (120)")
    p.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/dialogrum_cluster",
                   help="a PostgreSQL server; the bench creates a database of its own there and drops it")
    p.add_argument("--redis-url", help="use this Redis (a database number of its own) instead of starting one")
    p.add_argument("--db-pool", type=int, default=15,
                   help="DIALOGRUM_DATABASE_POOL of each process (15: 4 x 15 under PostgreSQL's 100)")
    p.add_argument("--nginx-workers", type=int, default=1, help="nginx worker_processes (1)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    p.add_argument("--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                   help="DIALOGRUM_LOG_LEVEL of the processes (WARNING; INFO logs every socket's "
                        "connect and disconnect with its reason, at a cost in CPU)")
    p.add_argument("--json", action="store_true", help="print JSON only")
    args = p.parse_args(argv)
    if not os.path.exists(NGINX):
        print(f"nginx not found ({NGINX}): make nginx", file=sys.stderr)
        return 2
    res = run(args)
    res["goals"] = verdict(res)
    if args.json:
        print(json.dumps(res, indent=1))
    else:
        print(f"$ .venv/bin/python bench/cluster.py {' '.join(argv if argv is not None else sys.argv[1:])}")
        for key, value in res.items():
            if key not in ("phases", "goals", "peak_memory_mb", "rss_growth_while_connecting_mb"):
                print(f"{key:32} {value}")
        print("peak memory MB (RSS; PostgreSQL: PSS of all its processes): "
              + ", ".join(f"{k} {v}" for k, v in res["peak_memory_mb"].items()))
        print("RSS growth while the phones connected, MB: "
              + ", ".join(f"{k} {v}" for k, v in res["rss_growth_while_connecting_mb"].items()))
        for phase, f in res["phases"].items():
            cpu = ", ".join(f"{k} {v}" for k, v in f["cpu_s"].items())
            print(f"{phase:28} {f['wall_s']:7.2f} s, machine {f['machine_cores_busy']:.2f} cores busy "
                  f"(not the bench's: {f['others_cores_busy']:.2f}); CPU s: {cpu}")
        for goal, ok in res["goals"].items():
            print(f"{'ok  ' if ok else 'MISS'} {goal}")
    return 0 if all(res["goals"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
