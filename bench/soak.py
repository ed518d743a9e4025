"""Soak: phones join, vote, comment and leave for minutes; memory stays flat, nothing is lost.

The bench starts `dialogrum serve` itself on 127.0.0.1 (a fresh SQLite file unless
`--database-url`), makes a live session of a built-in guide, and runs:

- a facilitator who steps through the guide every `--step-seconds` (opening voting on every
  consideration, going back to the start after the last item);
- `--phones` phones (python-socketio clients in `--workers` processes, spread over loopback
  addresses like bench/load.py) that each, over and over: join (with their participant token, or,
  one time in ten, as a new phone), vote on the current consideration, change their mind, comment
  now and then, stay a while, and leave.

It reports the server's RSS (median of the samples in the `--window` seconds after the warm-up,
and in the last `--window` seconds), how many commands failed (timeouts, refusals other than
"voting is closed"/"not the current item", connects refused), and compares with the database at
the end: every phone's last acknowledged vote per item, the number of comments acknowledged, the
participants seen, and the facilitator's last `results`. Exit status 1 when the memory grew by 5 %
or more, any error happened or a count is off. See README ("Benchmark").

    .venv/bin/python bench/soak.py                           # 300 phones, 10 minutes, SQLite
    .venv/bin/python bench/soak.py --minutes 1 --phones 50   # a quick look
    .venv/bin/python bench/soak.py --database-url postgresql://postgres@127.0.0.1:5432/soak --json
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
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import vote_burst  # noqa: E402
from load import PHONES_PER_ADDRESS, _percentile, _raise_nofile, _recv, print_figures, run_worker  # noqa: E402

#: Refusals that are part of a meeting, not failures: the facilitator moved on or closed voting
#: between the phone seeing the state and its vote arriving.
EXPECTED_REFUSALS = {"voting_closed", "not_current_item", "comments_closed"}
#: Growth of the server's memory from after the warm-up to the end that fails the bench.
MAX_GROWTH = 0.05


# -- the phones (worker processes) -------------------------------------------------------------


class Phone:
    """One phone: a participant token kept between visits, and what the server acknowledged."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.token: str | None = None
        self.participant_id: str | None = None
        self.state: dict | None = None


async def _phone_loop(phone: Phone, url: str, code: str, stop_at: float, tally: dict, rnd: random.Random,
                      session_for, timeout: float) -> None:
    import socketio

    while time.monotonic() < stop_at:
        if phone.token is not None and rnd.random() < 0.1:
            phone.token = None  # one time in ten a new phone joins (a participant more in the session)
        sio = socketio.AsyncClient(reconnection=False, http_session=session_for(phone.index),
                                   request_timeout=timeout)
        welcome: dict = {}
        welcomed = asyncio.Event()
        refused: list = []
        states: asyncio.Queue = asyncio.Queue()

        def on_welcome(data: dict, welcome: dict = welcome, welcomed: asyncio.Event = welcomed) -> None:
            welcome.update(data)
            welcomed.set()

        sio.on("welcome", on_welcome)
        sio.on("state", states.put_nowait)
        sio.on("connect_error", refused.append)
        auth = {"code": code} if phone.token is None else {"code": code, "token": phone.token}
        started = time.monotonic()
        try:
            await asyncio.wait_for(sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=timeout),
                                   timeout)
            # Both: a step of the facilitator can send a state before the welcome.
            await asyncio.wait_for(welcomed.wait(), timeout)
            state = await asyncio.wait_for(states.get(), timeout)
        except Exception as exc:
            why = (refused[0] or {}).get("message") if refused and isinstance(refused[0], dict) else type(exc).__name__
            tally["errors"][f"connect: {why}"] = tally["errors"].get(f"connect: {why}", 0) + 1
            await sio.disconnect()
            await asyncio.sleep(min(rnd.uniform(1, 3), max(0.0, stop_at - time.monotonic())))
            continue
        tally["connects"] += 1
        tally["connect_seconds"].append(time.monotonic() - started)
        if welcome.get("token"):
            if phone.token is not None and welcome.get("participant_id") != phone.participant_id:
                tally["errors"]["came back as someone else"] = tally["errors"].get("came back as someone else", 0) + 1
            phone.token, phone.participant_id = welcome["token"], welcome["participant_id"]
            tally["participants"].add(phone.participant_id)
        stay_until = min(stop_at, time.monotonic() + rnd.uniform(5, 20))
        try:
            while time.monotonic() < stay_until:
                while not states.empty():  # the newest state the server sent
                    state = states.get_nowait()
                item = state.get("item") or {}
                if item.get("kind") == "consideration" and state.get("voting_open"):
                    await _call(sio, tally, "vote", {"item_id": item["id"], "choice": rnd.choice(item["choices"])},
                                phone, timeout)
                if item.get("kind") in ("consideration", "prompt") and rnd.random() < 0.05:
                    await _call(sio, tally, "comment", {"item_id": item["id"],
                                                        "text": f"Soak {phone.index}: {secrets.token_hex(4)}"},
                                phone, timeout)
                await asyncio.sleep(min(rnd.uniform(2, 6), max(0.0, stay_until - time.monotonic())))
        finally:
            await sio.disconnect()
        await asyncio.sleep(min(rnd.uniform(1, 5), max(0.0, stop_at - time.monotonic())))


async def _call(sio, tally: dict, event: str, data: dict, phone: Phone, timeout: float) -> None:
    try:
        ack = await sio.call(event, data, timeout=timeout)
    except Exception as exc:
        key = f"{event}: {type(exc).__name__}"
        tally["errors"][key] = tally["errors"].get(key, 0) + 1
        if event == "vote":  # an unanswered vote may or may not be stored: this pair cannot be checked
            tally["uncertain"].add((phone.participant_id, data["item_id"]))
        return
    if isinstance(ack, dict) and ack.get("ok") is True:
        if event == "vote":
            tally["votes"][(phone.participant_id, data["item_id"])] = data["choice"]
            tally["acked_votes"] += 1
        else:
            tally["acked_comments"] += 1
        return
    code = ack.get("error") if isinstance(ack, dict) else str(ack)
    bucket = tally["refused"] if code in EXPECTED_REFUSALS else tally["errors"]
    key = f"{event}: {code}"
    bucket[key] = bucket.get(key, 0) + 1


async def _worker(conn, url: str, code: str, indices: list[int], seconds: float, timeout: float, seed: int) -> None:
    import aiohttp

    loop = asyncio.get_running_loop()
    sessions: dict[str, aiohttp.ClientSession] = {}

    def session_for(i: int) -> aiohttp.ClientSession:
        addr = f"127.0.0.{10 + i // PHONES_PER_ADDRESS}"
        if addr not in sessions:
            sessions[addr] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, local_addr=(addr, 0)))
        return sessions[addr]

    tally: dict[str, Any] = {"connects": 0, "connect_seconds": [], "acked_votes": 0, "acked_comments": 0,
                             "errors": {}, "refused": {}, "votes": {}, "uncertain": set(), "participants": set()}
    rnd = random.Random(seed)
    stop_at = time.monotonic() + seconds
    # Phones arrive over the first tenth of the run, not all in one second.
    ramp = min(30.0, seconds / 10)

    async def one(i: int) -> None:
        await asyncio.sleep(rnd.uniform(0, ramp))
        await _phone_loop(Phone(i), url, code, stop_at, tally, random.Random(rnd.random()), session_for, timeout)

    await asyncio.gather(*(one(i) for i in indices))
    for s in sessions.values():
        await s.close()
    tally["votes"] = {f"{p}|{i}": c for (p, i), c in tally["votes"].items()}
    tally["uncertain"] = sorted(f"{p}|{i}" for p, i in tally["uncertain"])
    tally["participants"] = sorted(tally["participants"])
    await loop.run_in_executor(None, conn.send, ("done", tally))


def _worker_main(conn, url: str, code: str, indices: list[int], seconds: float, timeout: float, seed: int) -> None:
    run_worker(conn, _worker, url, code, indices, seconds, timeout, seed)


# -- the coordinator ------------------------------------------------------------------------------


class Memory:
    """The server's RSS, sampled every second."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.p = psutil.Process(pid)
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic(), self.p.memory_info().rss))
            except Exception:  # the server exited: the run reports it
                return
            self._stop.wait(1.0)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def median_between(self, t0: float, t1: float) -> float | None:
        values = [rss for t, rss in self.samples if t0 <= t <= t1]
        return statistics.median(values) if values else None


async def _facilitate(url: str, token: str, meeting: dict, stop_at: float, step: float, seen: list,
                      done: asyncio.Event) -> int:
    """Step through the guide until `stop_at`, stay until `done` (the phones have left); returns the
    number of steps. `seen` gets every `results`."""
    import socketio

    fac = socketio.AsyncClient(reconnection=True)
    fac.on("results", seen.append)
    await fac.connect(url, auth={"api_token": token, "session_id": meeting["id"]}, transports=["websocket"],
                      wait_timeout=30)

    async def control(**data: Any) -> dict:
        state = await fac.call("control", data, timeout=30)
        if "position" not in state:
            raise RuntimeError(f"the facilitator's {data} was refused: {state}")
        return state

    state, steps = meeting["state"], 0
    try:
        while time.monotonic() + step < stop_at:
            await asyncio.sleep(step)
            if state.get("voting_open"):
                state = await control(action="close_voting")
            pos = state["position"]
            state = await (control(action="goto", index=0) if pos["index"] + 1 >= pos["count"]
                           else control(action="next"))
            if (state.get("item") or {}).get("kind") == "consideration":
                state = await control(action="open_voting")
            steps += 1
        await done.wait()
        await asyncio.sleep(1.0)  # the last votes' coalesced results (sent every 100 ms)
    finally:
        await fac.disconnect()
    return steps


def _database_counts(database_url: str, meeting_id: str) -> dict:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            votes = {f"{p}|{i}": c for p, i, c in conn.execute(
                sa.text("SELECT participant_id, item_id, choice FROM votes WHERE meeting_id = :m"), {"m": meeting_id})}
            comments = conn.execute(sa.text("SELECT count(*) FROM comments WHERE meeting_id = :m"),
                                    {"m": meeting_id}).scalar_one()
            participants = conn.execute(sa.text("SELECT count(*) FROM participants WHERE meeting_id = :m"),
                                        {"m": meeting_id}).scalar_one()
    finally:
        engine.dispose()
    return {"votes": votes, "comments": comments, "participants": participants}


def run(args: argparse.Namespace) -> dict:
    """Start the server, soak it, and return the figures."""
    _raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="dialogrum-soak-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'soak.db'}"
    env = vote_burst.app_env(workdir, database_url)
    token = vote_burst.facilitator_token(env, f"soak-{secrets.token_hex(4)}@example.org")
    server = vote_burst.start_app(env, vote_burst.free_port(), workdir / "serve.log")
    try:
        meeting = vote_burst.prepare_meeting(server.url, token)
        memory = Memory(server.proc.pid)
        seconds = args.minutes * 60
        t0 = time.monotonic()
        ctx = mp.get_context("spawn")
        pipes, procs = [], []
        for w in range(args.workers):
            parent, child = ctx.Pipe()
            indices = list(range(args.phones))[w::args.workers]
            p = ctx.Process(target=_worker_main, args=(child, server.url, meeting["code"], indices, seconds,
                                                       args.timeout, args.seed + w), daemon=True)
            p.start()
            pipes.append(parent)
            procs.append(p)
        seen: list[dict] = []

        async def coordinate() -> tuple[int, list[dict]]:
            done = asyncio.Event()
            facilitator = asyncio.create_task(_facilitate(server.url, token, meeting, t0 + seconds,
                                                          args.step_seconds, seen, done))
            try:
                tallies = [(await _recv(parent, seconds + args.timeout * 4 + 120))[1] for parent in pipes]
            finally:
                done.set()
            return await facilitator, tallies

        try:
            steps, tallies = asyncio.run(coordinate())
        finally:
            for p in procs:
                p.join(30)
                if p.is_alive():
                    p.kill()
        t_end = time.monotonic()
        time.sleep(1.0)  # the last disconnects and the last coalesced results
        memory.close()
        warm = t0 + args.warmup
        rss_warm = memory.median_between(warm, warm + args.window)
        rss_end = memory.median_between(t_end - args.window, t_end)
        db = _database_counts(database_url, meeting["id"])
        final_state = vote_burst.api(server.url, token, "GET", f"/api/v1/sessions/{meeting['id']}/state")
        exited = server.proc.poll()
    finally:
        server.stop()
        log_text = (workdir / "serve.log").read_text(errors="replace") if (workdir / "serve.log").exists() else ""
        shutil.rmtree(workdir, ignore_errors=True)

    acked: dict[str, str] = {}
    uncertain: set[str] = set()
    errors: dict[str, int] = {}
    refused: dict[str, int] = {}
    participants: set[str] = set()
    for t in tallies:
        acked.update(t["votes"])
        uncertain.update(t["uncertain"])
        participants.update(t["participants"])
        for key, n in t["errors"].items():
            errors[key] = errors.get(key, 0) + n
        for key, n in t["refused"].items():
            refused[key] = refused.get(key, 0) + n
    connect_seconds = [x for t in tallies for x in t["connect_seconds"]]
    checked = {k: v for k, v in acked.items() if k not in uncertain}
    vote_mismatches = sum(1 for k, v in checked.items() if db["votes"].get(k) != v)
    # Votes in the database that no phone had acknowledged (and that were not in flight when a
    # call failed): counted twice or made up.
    unexplained = sum(1 for k in db["votes"] if k not in acked and k not in uncertain)
    acked_comments = sum(t["acked_comments"] for t in tallies)
    item_id = (final_state.get("item") or {}).get("id")
    last = next((r for r in reversed(seen) if r.get("item_id") == item_id), None)
    db_item = {c: sum(1 for k, v in db["votes"].items() if k.endswith(f"|{item_id}") and v == c)
               for c in ("yes", "no", "unsure")}
    growth = None if not rss_warm or not rss_end else (rss_end - rss_warm) / rss_warm
    figures = {
        "phones": args.phones,
        "minutes": args.minutes,
        "facilitator_steps": steps,
        "connects": sum(t["connects"] for t in tallies),
        "connect_p50_s": _rounded(_percentile(connect_seconds, 0.5)),
        "connect_p95_s": _rounded(_percentile(connect_seconds, 0.95)),
        "connect_max_s": _rounded(max(connect_seconds, default=None)),
        "acked_votes": sum(t["acked_votes"] for t in tallies),
        "acked_comments": acked_comments,
        "errors": errors,
        "expected_refusals": refused,
        "rss_after_warmup_mb": None if rss_warm is None else round(rss_warm / 2**20, 1),
        "rss_end_mb": None if rss_end is None else round(rss_end / 2**20, 1),
        "rss_max_mb": round(max((r for _t, r in memory.samples), default=0) / 2**20, 1),
        "rss_p95_mb": round((_percentile([r for _t, r in memory.samples], 0.95) or 0) / 2**20, 1),
        "memory_growth_pct": None if growth is None else round(100 * growth, 2),
        "votes_checked": len(checked),
        "votes_uncertain": len(uncertain),
        "vote_mismatches": vote_mismatches,
        "votes_unexplained": unexplained,
        "comments_in_database": db["comments"],
        "participants_seen": len(participants),
        "participants_in_database": db["participants"],
        "last_results_match_database": None if last is None or item_id is None else
        {c: last["counts"][c] - last["hands"][c] for c in db_item} == db_item,
        "server_exit": exited,
    }
    figures["targets"] = {
        f"memory growth < {round(100 * MAX_GROWTH)} %": growth is not None and growth < MAX_GROWTH,
        "no errors": not errors and exited is None,
        "every acknowledged vote in the database, none more": vote_mismatches == 0 and unexplained == 0,
        "comments exact": db["comments"] == acked_comments,
        "participants exact": db["participants"] == len(participants),
        "facilitator's last results exact": figures["last_results_match_database"] is not False,
    }
    if args.keep_log and not all(figures["targets"].values()):
        args.keep_log.write_text(log_text)
    figures["server_log_lines_with_error"] = sum(1 for line in log_text.splitlines()
                                                 if " ERROR " in line or "Traceback" in line)
    return figures


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Phones join, vote, comment and leave for minutes: memory and counts.")
    p.add_argument("--phones", type=int, default=300, help="phones (default 300)")
    p.add_argument("--minutes", type=float, default=10.0, help="length of the run (default 10)")
    p.add_argument("--warmup", type=float, default=None,
                   help="seconds before the first memory figure (default: a fifth of the run, at most 120)")
    p.add_argument("--window", type=float, default=None,
                   help="seconds of RSS samples behind each memory figure (default: a tenth of the run, at most 30)")
    p.add_argument("--step-seconds", type=float, default=20.0, help="the facilitator's pace (default 20)")
    p.add_argument("--workers", type=int, default=2, help="phone processes (default 2)")
    p.add_argument("--database-url", help="the server's database (default: a fresh SQLite file)")
    p.add_argument("--timeout", type=float, default=15.0, help="seconds a phone waits for an answer")
    p.add_argument("--seed", type=int, default=1, help="random seed of the phones")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON only")
    p.add_argument("--keep-log", type=Path, help="write the server's log to this file when a target is missed")
    args = p.parse_args(argv)
    seconds = args.minutes * 60
    args.warmup = min(120.0, seconds / 5) if args.warmup is None else args.warmup
    args.window = min(30.0, seconds / 10) if args.window is None else args.window
    figures = run(args)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0 if all(figures["targets"].values()) else 1
    return print_figures(f"Soak: {args.phones} phones for {args.minutes:g} min", figures)


if __name__ == "__main__":
    sys.exit(main())
