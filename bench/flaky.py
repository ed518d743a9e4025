"""Flaky phones: the network between the phones and the server drops and returns while they vote.

The bench starts `dialogrum serve` on 127.0.0.1 (a fresh SQLite file unless `--database-url`)
and a TCP proxy on another loopback port (in a process of its own). `--phones` phones
(python-socketio clients that reconnect by themselves and bring their participant token, as the
phone page does) connect through the proxy and vote over and over, changing their minds. The
facilitator is connected to the server directly. `--cuts` times, the bench cuts the network: the
proxy resets every connection and refuses new ones for `--down` seconds, then accepts again.

It reports how long each phone took to be back after the network returned (its `welcome` as the
same participant and its `state`): p50, p95, max and how many within `--within` seconds. And it
checks what the server kept: after every reconnect the phone's `me.vote` must be its last
acknowledged vote (or the one that was on its way when the network went); at the end every phone
votes once more, and the database must hold exactly one vote per phone, the one acknowledged,
one participant per phone, and the facilitator's last `results` the same counts. Exit status 1
when a phone came back late or as someone else, or a vote was lost or counted twice. See README
("Benchmark").

    .venv/bin/python bench/flaky.py                    # 100 phones, 5 cuts of 2 s, SQLite
    .venv/bin/python bench/flaky.py --cuts 10 --down 5 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import vote_burst  # noqa: E402
from load import _percentile, _raise_nofile, print_figures  # noqa: E402

# -- the network: a TCP proxy that can be cut (its own process) -----------------------------------


async def _proxy(conn, listen_port: int, target_port: int) -> None:
    loop = asyncio.get_running_loop()
    links: set[asyncio.StreamWriter] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def link(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_writer.transport.abort()
            return
        pair = (client_writer, server_writer)
        links.update(pair)
        try:
            await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))
        finally:
            links.difference_update(pair)

    async def listen() -> asyncio.Server:
        return await asyncio.start_server(link, "127.0.0.1", listen_port, reuse_address=True, backlog=1024)

    server = await listen()
    conn.send(("ready", time.monotonic()))
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command == "cut":
            # New connections are refused, and every open one is reset: the phones see the
            # network go, as when a hall's Wi-Fi drops.
            server.close()
            for writer in list(links):
                writer.transport.abort()
            links.clear()
            conn.send(("cut", time.monotonic()))
        elif command == "restore":
            server = await listen()
            conn.send(("restored", time.monotonic()))
        else:
            server.close()
            conn.send(("stopped", time.monotonic()))
            return


def _proxy_main(conn, listen_port: int, target_port: int) -> None:
    asyncio.run(_proxy(conn, listen_port, target_port))


class Network:
    """The proxy process, cut and restored from here. `time.monotonic` is the same clock in both."""

    def __init__(self, target_port: int) -> None:
        self.port = vote_burst.free_port()
        ctx = mp.get_context("spawn")
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=_proxy_main, args=(child, self.port, target_port), daemon=True)
        self.proc.start()
        self._ask(None)

    def _ask(self, command: str | None) -> float:
        if command is not None:
            self.pipe.send(command)
        if not self.pipe.poll(30):
            raise TimeoutError(f"the proxy did not answer {command or 'ready'}")
        return self.pipe.recv()[1]

    def cut(self) -> float:
        """Reset every connection and refuse new ones; when it happened."""
        return self._ask("cut")

    def restore(self) -> float:
        """Accept connections again; when it happened."""
        return self._ask("restore")

    def close(self) -> None:
        """Stop the proxy."""
        try:
            self._ask("stop")
        finally:
            self.proc.join(5)
            if self.proc.is_alive():
                self.proc.kill()


# -- the phones ---------------------------------------------------------------------------------------


class FlakyPhone:
    """A phone that reconnects by itself with its token, votes, and checks what the server kept."""

    def __init__(self, index: int, url: str, code: str, item_id: str, choices: list[str], args: argparse.Namespace,
                 session: Any) -> None:
        import socketio

        self.index, self.url, self.code, self.item_id, self.choices = index, url, code, item_id, choices
        self.sio = socketio.AsyncClient(reconnection=True, reconnection_delay=args.reconnection_delay,
                                        reconnection_delay_max=args.reconnection_delay_max,
                                        randomization_factor=0.5, http_session=session)
        self.token: str | None = None
        self.participant_id: str | None = None
        self.ready = asyncio.Event()
        self.back_at = 0.0
        self.acked: str | None = None  # the last vote the server acknowledged (or showed on return)
        self.in_flight: str | None = None  # a vote sent and not answered yet
        self.fresh = True  # the next state is the first after a (re)connect
        self.counts = {"acked": 0, "unanswered": 0, "refused": 0, "lost": 0, "as_someone_else": 0, "returns": 0}
        self.sio.on("welcome", self._welcome)
        self.sio.on("state", self._state)
        self.sio.on("disconnect", self._gone)
        self.sio.on("connect", self._connected)
        self.connected_at = 0.0

    def _auth(self) -> dict:
        return {"code": self.code} if self.token is None else {"code": self.code, "token": self.token}

    async def connect(self) -> None:
        """The first connect (through the network); later ones are the client's own reconnects."""
        await self.sio.connect(self.url, auth=self._auth, transports=["websocket"], wait_timeout=30)

    def _connected(self) -> None:
        self.connected_at = time.monotonic()

    def _welcome(self, data: dict) -> None:
        if self.participant_id is not None and data.get("participant_id") != self.participant_id:
            self.counts["as_someone_else"] += 1
        self.token, self.participant_id = data["token"], data["participant_id"]

    def _state(self, data: dict) -> None:
        if not self.fresh:
            return
        self.fresh = False
        shown = (data.get("me") or {}).get("vote")
        # The server keeps the last acknowledged vote, or the one on its way when the network went.
        allowed = {self.acked} | ({self.in_flight} if self.in_flight is not None else set())
        if shown not in allowed:
            self.counts["lost"] += 1
        self.acked, self.in_flight = shown, None
        self.back_at = time.monotonic()
        self.counts["returns"] += 1
        self.ready.set()

    def _gone(self, *_reason: Any) -> None:
        self.ready.clear()
        self.fresh = True

    async def vote_once(self, choice: str, timeout: float) -> bool:
        """One vote; True when acknowledged."""
        self.in_flight = choice
        try:
            ack = await self.sio.call("vote", {"item_id": self.item_id, "choice": choice}, timeout=timeout)
        except Exception:  # the network went with the vote on its way: the next state says what counts
            self.counts["unanswered"] += 1
            return False
        if isinstance(ack, dict) and ack.get("ok") is True:
            if self.in_flight == choice:  # not already settled by a state after a reconnect
                self.acked, self.in_flight = choice, None
            self.counts["acked"] += 1
            return True
        self.counts["refused"] += 1
        self.in_flight = None
        return False

    async def vote_on(self, stop: asyncio.Event, rnd: random.Random) -> None:
        """Vote, change one's mind, vote again, until `stop`; only while connected and shown the state."""
        while not stop.is_set():
            await self.ready.wait()
            if stop.is_set():
                return
            await self.vote_once(rnd.choice(self.choices), 5.0)
            await asyncio.sleep(rnd.uniform(0.5, 2.0))  # about 45 a minute: under the vote limit (60)


async def _cut_and_restore(args: argparse.Namespace, network: Network, server_url: str, token: str,
                           meeting: dict) -> dict:
    import aiohttp
    import socketio

    item_id, choices = meeting["item_id"], list(meeting["state"]["item"]["choices"])
    seen: list[dict] = []
    fac = socketio.AsyncClient(reconnection=False)
    fac.on("results", seen.append)
    await fac.connect(server_url, auth={"api_token": token, "session_id": meeting["id"]}, transports=["websocket"],
                      wait_timeout=30)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    proxy_url = f"http://127.0.0.1:{network.port}"
    phones = [FlakyPhone(i, proxy_url, meeting["code"], item_id, choices, args, session) for i in range(args.phones)]
    rnd = random.Random(args.seed)
    stop = asyncio.Event()
    back: list[float] = []
    connected: list[float] = []  # the socket's connect alone, before the state arrived
    late = 0
    try:
        await asyncio.gather(*(p.connect() for p in phones))
        await asyncio.wait_for(asyncio.gather(*(p.ready.wait() for p in phones)), 30)
        voters = [asyncio.create_task(p.vote_on(stop, random.Random(rnd.random()))) for p in phones]
        for _cut in range(args.cuts):
            await asyncio.sleep(args.up)
            network.cut()
            await asyncio.sleep(args.down)
            restored = network.restore()
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline and not all(p.ready.is_set() and p.back_at >= restored for p in phones):
                await asyncio.sleep(0.05)
            for p in phones:
                if p.ready.is_set() and p.back_at >= restored:
                    back.append(p.back_at - restored)
                    connected.append(p.connected_at - restored)
                else:
                    late += 1
        stop.set()
        for p in phones:
            p.ready.set()  # let a waiting voter see the stop
        await asyncio.gather(*voters)
        # Settled: one more acknowledged vote each, then the database and the facilitator.
        finals = await asyncio.gather(*(p.vote_once(rnd.choice(choices), args.timeout) for p in phones))
        await asyncio.sleep(1.0)  # the coalesced results (every 100 ms)
    finally:
        await asyncio.gather(*(p.sio.disconnect() for p in phones), return_exceptions=True)
        await session.close()
        await fac.disconnect()
    expected = {p.participant_id: p.acked for p in phones}
    last = next((r for r in reversed(seen) if r.get("item_id") == item_id), None)
    totals: dict[str, int] = {}
    for p in phones:
        for key, n in p.counts.items():
            totals[key] = totals.get(key, 0) + n
    return {"back": back, "connected": connected, "late": late, "finals_acked": sum(finals), "expected": expected,
            "last_results": last,
            "phone_counts": totals}


def run(args: argparse.Namespace) -> dict:
    """Start the server and the network, cut it `--cuts` times, and return the figures."""
    import sqlalchemy as sa

    _raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="dialogrum-flaky-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'flaky.db'}"
    env = vote_burst.app_env(workdir, database_url)
    token = vote_burst.facilitator_token(env, f"flaky-{secrets.token_hex(4)}@example.org")
    server = vote_burst.start_app(env, vote_burst.free_port(), workdir / "serve.log")
    network = None
    try:
        meeting = vote_burst.prepare_meeting(server.url, token)
        network = Network(int(server.url.rsplit(":", 1)[1]))
        res = asyncio.run(_cut_and_restore(args, network, server.url, token, meeting))
        engine = sa.create_engine(database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT participant_id, choice FROM votes WHERE meeting_id = :m AND "
                                            "item_id = :i"), {"m": meeting["id"], "i": meeting["item_id"]}).all()
                participants = conn.execute(sa.text("SELECT count(*) FROM participants WHERE meeting_id = :m"),
                                            {"m": meeting["id"]}).scalar_one()
        finally:
            engine.dispose()
        exited = server.proc.poll()
    finally:
        if network is not None:
            network.close()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    stored: dict[str, list[str]] = {}
    for pid, choice in rows:
        stored.setdefault(pid, []).append(choice)
    expected = res["expected"]
    lost = sum(1 for pid, choice in expected.items() if stored.get(pid, [None])[-1] != choice)
    twice = sum(len(v) - 1 for v in stored.values()) + sum(1 for pid in stored if pid not in expected)
    tally = {c: sum(1 for v in expected.values() if v == c) for c in ("yes", "no", "unsure")}
    last = res["last_results"]
    back = res["back"]
    pc = res["phone_counts"]
    figures = {
        "phones": args.phones,
        "cuts": args.cuts,
        "down_s": args.down,
        "returns_measured": len(back),
        "back_p50_s": None if not back else round(statistics.median(back), 3),
        "back_p95_s": None if not back else round(_percentile(back, 0.95), 3),
        "back_max_s": None if not back else round(max(back), 3),
        f"back_within_{args.within:g}_s": sum(1 for b in back if b <= args.within),
        "socket_connected_p50_s": None if not back else round(statistics.median(res["connected"]), 3),
        "socket_connected_p95_s": None if not back else round(_percentile(res["connected"], 0.95), 3),
        "not_back_in_time": res["late"],
        "came_back_as_someone_else": pc["as_someone_else"],
        "votes_acked": pc["acked"],
        "votes_unanswered_at_a_cut": pc["unanswered"],
        "votes_refused": pc["refused"],
        "me_vote_wrong_after_return": pc["lost"],
        "final_votes_acked": res["finals_acked"],
        "votes_lost_at_end": lost,
        "votes_counted_twice": twice,
        "participants_in_database": participants,
        "last_results": None if last is None else {"counts": last["counts"], "voters": last["voters"]},
        "server_exit": exited,
    }
    n = args.phones
    figures["targets"] = {
        f"every phone back as itself within {args.within:g} s":
            res["late"] == 0 and pc["as_someone_else"] == 0 and all(b <= args.within for b in back)
            and len(back) == n * args.cuts,
        "the server showed every phone its last vote": pc["lost"] == 0,
        "no vote lost, none counted twice": lost == 0 and twice == 0 and res["finals_acked"] == n
        and participants == n and pc["refused"] == 0,
        "facilitator's last results exact": last is not None and last["counts"] == tally and last["voters"] == n,
        "server alive": exited is None,
    }
    return figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Phones vote while their network drops and returns.")
    p.add_argument("--phones", type=int, default=100, help="phones (default 100)")
    p.add_argument("--cuts", type=int, default=5, help="how many times the network drops (default 5)")
    p.add_argument("--down", type=float, default=2.0, help="seconds the network stays down (default 2)")
    p.add_argument("--up", type=float, default=5.0, help="seconds of voting between cuts (default 5)")
    p.add_argument("--within", type=float, default=3.0, help="seconds a phone may take to be back (default 3)")
    p.add_argument("--reconnection-delay", type=float, default=0.5,
                   help="the phones' first reconnect delay in seconds (doubling, randomised by half)")
    p.add_argument("--reconnection-delay-max", type=float, default=1.0,
                   help="the phones' longest reconnect delay in seconds (default 1)")
    p.add_argument("--database-url", help="the server's database (default: a fresh SQLite file)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the phones after a cut")
    p.add_argument("--seed", type=int, default=1, help="random seed of the phones")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON only")
    args = p.parse_args(argv)
    figures = run(args)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0 if all(figures["targets"].values()) else 1
    return print_figures(f"Flaky network: {args.phones} phones, {args.cuts} cuts of {args.down:g} s", figures)


if __name__ == "__main__":
    sys.exit(main())
