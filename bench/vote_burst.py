"""Vote burst: N phones vote at the same second, against `dialogrum serve` and the bare stack.

Both servers run in the same invocation, in alternating order, each a fresh subprocess on a fresh
database, and are driven by the same load generator (`bench/load.py`, in worker processes). The
figures are medians over `--rounds` runs of each, with the spread (lowest-highest) and the worst
round beside them; ratios app / bare are taken round by round (a round is one app run and one
bare run back to back), so a slow minute of a busy machine weighs on both sides of one ratio.
Each phone first loads the phone page and its static files (the page phase, reported apart),
then opens its socket with the page's transports. See docs/deploy.md ("Benchmark").

    .venv/bin/python bench/vote_burst.py                  # N=1000, eventlet, SQLite, 3 rounds
    .venv/bin/python bench/vote_burst.py --transports websocket   # phones open a websocket at once
    .venv/bin/python bench/vote_burst.py --mode both      # eventlet and gevent vs. the bare stack
    .venv/bin/python bench/vote_burst.py --n 300 --rounds 1 --json
    .venv/bin/python bench/vote_burst.py --database-url postgresql://postgres@127.0.0.1/bench --with-sqlite
    .venv/bin/python bench/vote_burst.py --only app --profile /tmp/prof   # py-spy, burst phase
    .venv/bin/python bench/vote_burst.py --only app --profile /tmp/prof --profile-phase connect
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from load import PAGE_TRANSPORTS, TRANSPORTS, Target, run_burst  # noqa: E402


def _bin(name: str) -> str:
    """A console script of the running interpreter's environment (the venv), else from PATH."""
    cand = Path(sys.executable).parent / name
    return str(cand) if cand.exists() else (shutil.which(name) or name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def api(base: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


# -- the app --------------------------------------------------------------------------------


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def app_env(instance: Path, database_url: str, *, mode: str = "eventlet", extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALOGRUM_")}
    env.update(DIALOGRUM_INSTANCE=str(instance), DIALOGRUM_DATABASE_URL=database_url,
               DIALOGRUM_SECRET_KEY=secrets.token_urlsafe(32), DIALOGRUM_ASYNC_MODE=mode)
    env.update(extra or {})
    return env


def start_app(env: dict, port: int, log: Path) -> Server:
    """`dialogrum serve` on 127.0.0.1:port as a subprocess; returns once /healthz answers."""
    fh = open(log, "ab")  # noqa: SIM115 - owned by the subprocess for its lifetime
    proc = subprocess.Popen([_bin("dialogrum"), "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
    fh.close()
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    try:
        wait_http(server.url + "/healthz", 60, proc)
    except Exception:
        server.stop()
        raise RuntimeError(f"dialogrum serve did not start; log:\n{log.read_text()[-3000:]}") from None
    return server


def _cli(env: dict, *args: str, stdin: str | None = None) -> str:
    out = subprocess.run([_bin("dialogrum"), *args], check=False, input=stdin, text=True, env=env, cwd=ROOT,
                         capture_output=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"dialogrum {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    return out.stdout


def facilitator_token(env: dict, email: str) -> str:
    """Create a facilitator (password on stdin) and an API token with the CLI."""
    _cli(env, "db", "upgrade")
    _cli(env, "user", "create", "--email", email, "--role", "facilitator", stdin=secrets.token_urlsafe(16) + "\n")
    return _cli(env, "token", "create", "--email", email).strip().splitlines()[-1]


def prepare_meeting(base: str, token: str, *, language: str = "da", open_voting: bool = True) -> dict:
    """A live session of the built-in guide in `language`, on its first consideration.

    Returns {"id", "code", "item_id", "state"}.
    """
    guides = api(base, token, "GET", "/api/v1/guides")
    guide = next(g for g in guides if g["language"] == language)
    session = api(base, token, "POST", "/api/v1/sessions", {"guide_id": guide["id"], "title": "Vote burst"})
    sid = session["id"]
    st = api(base, token, "POST", f"/api/v1/sessions/{sid}/control", {"action": "start"})
    while st["item"]["kind"] != "consideration":
        st = api(base, token, "POST", f"/api/v1/sessions/{sid}/control", {"action": "next"})
    if open_voting:
        st = api(base, token, "POST", f"/api/v1/sessions/{sid}/control", {"action": "open_voting"})
    st = api(base, token, "GET", f"/api/v1/sessions/{sid}/state")
    return {"id": sid, "code": session["code"], "item_id": st["item"]["id"], "state": st}


@contextlib.contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A PostgreSQL `url` stands for a server: each run gets a database of its own, created here
    (named after the URL's, with a random suffix) and dropped after the run."""
    if not url.startswith("postgresql"):
        yield url
        return
    import sqlalchemy as sa

    base = sa.engine.make_url(url)
    name = f"{base.database or 'bench'}_{secrets.token_hex(4)}"
    admin = sa.create_engine(base.set(drivername="postgresql+psycopg2", database="postgres"),
                             isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextlib.contextmanager
def app_server(mode: str, database_url: str | None, workdir: Path) -> Iterator[tuple[Server, Target]]:
    instance = Path(tempfile.mkdtemp(prefix="app-", dir=workdir))
    with (fresh_database(database_url or f"sqlite:///{instance / 'bench.db'}") as url,
          _app_server(mode, url, instance) as served):
        yield served


@contextlib.contextmanager
def _app_server(mode: str, url: str, instance: Path) -> Iterator[tuple[Server, Target]]:
    env = app_env(instance, url, mode=mode)
    token = facilitator_token(env, f"bench-{secrets.token_hex(4)}@example.org")
    server = start_app(env, free_port(), instance / "serve.log")
    try:
        m = prepare_meeting(server.url, token)
        target = Target(url=server.url, phone_auth={"code": m["code"]},
                        facilitator_auth={"api_token": token, "session_id": m["id"]}, item_id=m["item_id"],
                        choices=tuple(m["state"]["item"]["choices"]), page_path=f"/j/{m['code']}")
        yield server, target
    finally:
        server.stop()


@contextlib.contextmanager
def bare_server(workdir: Path) -> Iterator[tuple[Server, Target]]:
    d = Path(tempfile.mkdtemp(prefix="bare-", dir=workdir))
    port = free_port()
    log = d / "bare.log"
    fh = open(log, "ab")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, str(HERE / "bare_server.py"), "--port", str(port), "--db",
                             str(d / "bare.db")], stdout=fh, stderr=subprocess.STDOUT)
    fh.close()
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    try:
        wait_http(server.url + "/socket.io/?EIO=4&transport=polling", 30, proc)
        yield server, Target(url=server.url, phone_auth={"role": "phone"}, facilitator_auth={"role": "facilitator"},
                             item_id="item-1", page_path="/j/bare")
    finally:
        server.stop()


# -- measuring ------------------------------------------------------------------------------


class Probe:
    """CPU and RSS of the server process at the load generator's marks, plus a peak-RSS sampler."""

    #: the marks between which `--profile-phase` records: (start, end)
    PHASES: ClassVar[dict[str, tuple[str, str]]] = {
        "pages": ("pages", "start"), "connect": ("start", "connected"), "burst": ("connected", "burst_end")}

    def __init__(self, pid: int, profile: Path | None = None, phase: str = "burst") -> None:
        import psutil

        self.p = psutil.Process(pid)
        self.marks: dict[str, tuple[float, int]] = {}
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self.profile = profile
        self.phase = self.PHASES[phase]
        self._spy: subprocess.Popen | None = None

    def _sample(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                self.peak = max(self.peak, self.p.memory_info().rss)
            self._stop.wait(0.05)

    def mark(self, name: str) -> None:
        t = self.p.cpu_times()
        rss = self.p.memory_info().rss
        self.peak = max(self.peak, rss)
        self.marks[name] = (t.user + t.system, rss)
        if self.profile is not None and name == self.phase[0]:
            # Blocking samples (the process is paused for each): `--nonblocking` read the stacks
            # of a running eventlet process torn and charged time to the wrong functions.
            self._spy = subprocess.Popen([_bin("py-spy"), "record", "--pid", str(self.p.pid), "--rate", "250",
                                          "--format", "raw", "-o", str(self.profile.with_suffix(".txt"))],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)  # let py-spy attach before the phase
        if self._spy is not None and name == self.phase[1]:
            self._spy.send_signal(signal.SIGINT)
            self._spy.wait(30)
            self._spy = None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)

    def figures(self, n: int) -> dict:
        cpu0, rss0 = self.marks["start"]
        c1, rss1 = self.marks["connected"]
        b0, _ = self.marks["burst"]
        b1, _ = self.marks.get("burst_end", self.marks["burst"])
        pages = {}
        if "pages" in self.marks:
            pages["pages_cpu_s"] = round(cpu0 - self.marks["pages"][0], 3)
        return {
            **pages,
            "connect_cpu_s": round(c1 - cpu0, 3),
            "server_cpu_s": round(b1 - b0, 3),
            "peak_rss_mb": round(self.peak / 2**20, 1),
            "rss_per_phone_kb": round((rss1 - rss0) / max(n, 1) / 1024, 1),
        }


def one_run(kind: str, args: argparse.Namespace, workdir: Path, profile_dir: Path | None) -> dict:
    # "app-sqlite" is the app on eventlet and a fresh SQLite file, beside a --database-url run.
    mode = "eventlet" if kind in ("bare", "app-sqlite") else kind.split("-", 1)[1]
    url = None if kind == "app-sqlite" else args.database_url
    cm = bare_server(workdir) if kind == "bare" else app_server(mode, url, workdir)
    with cm as (server, target):
        profile = None
        if profile_dir is not None and kind != "bare":
            profile_dir.mkdir(parents=True, exist_ok=True)
            profile = profile_dir / f"{kind}-{int(time.time())}"
        probe = Probe(server.proc.pid, profile, args.profile_phase)
        try:
            res = run_burst(target, args.n, workers=args.workers, connect_concurrency=args.connect_concurrency,
                            timeout=args.timeout, mark=probe.mark,
                            spread_addresses=not args.single_address, transports=args.transports,
                            pages=not args.no_pages)
        finally:
            probe.close()
        res.update(probe.figures(args.n))
        if server.proc.poll() is not None:
            res["server_exit"] = server.proc.returncode
    res["kind"] = kind
    return res


NUMERIC = ("connected", "acked_ok", "votes_per_s", "ack_p50_ms", "ack_p95_ms", "exact_count_s",
           "results_leaked_to_phones", "server_cpu_s", "peak_rss_mb", "rss_per_phone_kb", "connect_seconds",
           "connect_cpu_s", "pages_ok", "pages_seconds", "pages_per_s", "page_p95_ms", "page_kb", "pages_cpu_s")
#: Figures whose spread (lowest-highest over the rounds) is shown beside the median.
SPREAD = ("votes_per_s", "connect_seconds", "exact_count_s", "pages_seconds")


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return None if not values else round(statistics.median(values), 3)


def summarise(runs: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for kind in dict.fromkeys(r["kind"] for r in runs):
        mine = [r for r in runs if r["kind"] == kind]
        med = {k: _median([r.get(k) for r in mine]) for k in NUMERIC}
        # Correctness is judged on the worst run, not the median.
        med["min_connected"] = min(r["connected"] for r in mine)
        med["min_acked_ok"] = min(r["acked_ok"] for r in mine)
        med["min_pages_ok"] = min((r["pages_ok"] for r in mine if "pages_ok" in r), default=None)
        med["transports"] = mine[0].get("transports")
        med["max_exact_count_s"] = max((r["exact_count_s"] if r["exact_count_s"] is not None else float("inf"))
                                       for r in mine)
        med["max_leaked"] = max(r["results_leaked_to_phones"] for r in mine)
        med["runs"] = len(mine)
        med["cpu_ms_per_vote"] = _median([r["server_cpu_s"] * 1000 / r["acked_ok"] for r in mine
                                          if r.get("server_cpu_s") is not None and r.get("acked_ok")])
        for k in SPREAD:
            vals = [r[k] for r in mine if r.get(k) is not None]
            med[f"{k}_range"] = None if not vals else (min(vals), max(vals))
        out[kind] = med
    return out


#: Per-round ratios app / bare: (figure, higher is better?).
ROUND_RATIOS = {"throughput": ("votes_per_s", True), "cpu": ("server_cpu_s", False),
                "connect": ("connect_seconds", False), "connect_cpu": ("connect_cpu_s", False),
                "pages": ("pages_seconds", False)}


def round_ratios(runs: list[dict]) -> dict[str, dict]:
    """App / bare within each round (and, with --with-sqlite, the --database-url app / the SQLite
    app), then the median, the spread and the worst round of each ratio ("worst" is the lowest
    throughput ratio and the highest time or CPU ratio)."""
    kinds = list(dict.fromkeys(r["kind"] for r in runs))
    pairs = [(k, "bare") for k in kinds if k != "bare" and "bare" in kinds]
    if "app-sqlite" in kinds and "app-eventlet" in kinds:
        pairs.append(("app-eventlet", "app-sqlite"))
    out: dict[str, dict] = {}
    for kind, ref in pairs:
        base = {r["round"]: r for r in runs if r["kind"] == ref}
        per: dict[str, list[float]] = {name: [] for name in ROUND_RATIOS}
        for r in runs:
            b = base.get(r["round"])
            if r["kind"] != kind or b is None:
                continue
            for name, (key, _) in ROUND_RATIOS.items():
                x = _ratio(r.get(key), b.get(key))
                if x is not None:
                    per[name].append(x)
        out[f"{kind}/{ref}"] = {
            name: {"median": _median(vals), "range": (min(vals), max(vals)),
                   "worst": min(vals) if ROUND_RATIOS[name][1] else max(vals), "rounds": vals}
            for name, vals in per.items() if vals}
    return out


def ratios(summary: dict[str, dict]) -> dict[str, dict]:
    bare = summary.get("bare")
    out = {}
    for kind, s in summary.items():
        if kind == "bare" or bare is None:
            continue
        out[f"{kind}/bare"] = {
            "throughput": _ratio(s["votes_per_s"], bare["votes_per_s"]),
            "rss_per_phone": _ratio(s["rss_per_phone_kb"], bare["rss_per_phone_kb"]),
            "cpu": _ratio(s["server_cpu_s"], bare["server_cpu_s"]),
        }
    if "app-sqlite" in summary and "app-eventlet" in summary:
        d, q = summary["app-eventlet"], summary["app-sqlite"]
        out["database-url/sqlite"] = {"throughput": _ratio(d["votes_per_s"], q["votes_per_s"]),
                                      "rss_per_phone": _ratio(d["rss_per_phone_kb"], q["rss_per_phone_kb"]),
                                      "cpu": _ratio(d["server_cpu_s"], q["server_cpu_s"])}
    if "app-eventlet" in summary and "app-gevent" in summary:
        e, g = summary["app-eventlet"], summary["app-gevent"]
        out["gevent/eventlet"] = {"throughput": _ratio(g["votes_per_s"], e["votes_per_s"]),
                                  "rss_per_phone": _ratio(g["rss_per_phone_kb"], e["rss_per_phone_kb"]),
                                  "cpu": _ratio(g["server_cpu_s"], e["server_cpu_s"])}
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 2)


def targets(n: int, summary: dict, rat: dict, per_round: dict | None = None) -> dict[str, bool]:
    """The goals of issue 14 (items 1 and 2), each judged on this run's own figures: correctness
    on the worst round, the ratios to the bare stack round by round (median and worst)."""
    app = summary.get("app-eventlet") or next((v for k, v in summary.items() if k.startswith("app")), None)
    if app is None:
        return {}
    out = {
        "every phone connects": app["min_connected"] == n,
        "no vote lost": app["min_acked_ok"] == n,
        "exact count within 0.5 s, every round": app["max_exact_count_s"] <= 0.5,
        "no hidden results leaked": app["max_leaked"] == 0,
    }
    r = rat.get("app-eventlet/bare") or next(iter(rat.values()), None)
    rounds = (per_round or {}).get("app-eventlet/bare") or {}
    if r is not None and "bare" in summary:
        if "throughput" in rounds:
            out["votes/s >= 0.9 x bare (median of rounds)"] = rounds["throughput"]["median"] >= 0.9
            out["votes/s >= 0.8 x bare (worst round)"] = rounds["throughput"]["worst"] >= 0.8
        if "connect" in rounds:
            out["time to connect <= 1.3 x bare (median of rounds)"] = rounds["connect"]["median"] <= 1.3
        out["memory/phone <= 1.2 x bare"] = r["rss_per_phone"] is not None and r["rss_per_phone"] <= 1.2
    return out


def print_table(summary: dict[str, dict], rat: dict, tg: dict, n: int, per_round: dict | None = None) -> None:
    rows = [("phones connected (worst)", "min_connected"), ("votes acked ok (worst)", "min_acked_ok"),
            ("votes/s", "votes_per_s"), ("ack p50 ms", "ack_p50_ms"), ("ack p95 ms", "ack_p95_ms"),
            ("exact count s", "exact_count_s"), ("exact count s (worst)", "max_exact_count_s"),
            ("results leaked to phones (worst)", "max_leaked"), ("server CPU s (burst)", "server_cpu_s"),
            ("server CPU ms per vote", "cpu_ms_per_vote"),
            ("peak RSS MB", "peak_rss_mb"), ("RSS per phone KB", "rss_per_phone_kb"),
            ("connect phase s", "connect_seconds"), ("server CPU s (connect)", "connect_cpu_s"),
            ("page loads ok (worst)", "min_pages_ok"), ("page phase s", "pages_seconds"),
            ("page loads/s", "pages_per_s"), ("page load p95 ms", "page_p95_ms"),
            ("page over the wire KB", "page_kb"), ("server CPU s (pages)", "pages_cpu_s")]
    rows += [(f"{label} (range)", f"{key}_range") for label, key in
             (("votes/s", "votes_per_s"), ("connect phase s", "connect_seconds"),
              ("exact count s", "exact_count_s"), ("page phase s", "pages_seconds"))]
    kinds = list(summary)
    w = max(len(r[0]) for r in rows) + 2
    print(f"\nVote burst, N={n}, medians of {summary[kinds[0]]['runs']} alternating run(s), "
          f"phones on {summary[kinds[0]].get('transports')}")
    print("".ljust(w) + "".join(k.rjust(14) for k in kinds))
    for label, key in rows:
        print(label.ljust(w) + "".join(str(summary[k].get(key)).rjust(14) for k in kinds))
    for name, r in rat.items():
        print(f"{name}: throughput {r['throughput']}, memory per phone {r['rss_per_phone']}, CPU {r['cpu']}")
    for name, per in (per_round or {}).items():
        print(f"{name}, round by round (median, range, worst round):")
        for figure, v in per.items():
            print(f"  {figure:12} {v['median']}  ({v['range'][0]}-{v['range'][1]}), worst {v['worst']}")
    for name, ok in tg.items():
        print(f"  [{'x' if ok else ' '}] {name}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="N phones vote at once: dialogrum serve vs. the bare stack.")
    p.add_argument("--n", type=int, default=1000, help="phones (default 1000)")
    p.add_argument("--mode", choices=("eventlet", "gevent", "both"), default="eventlet",
                   help="async mode of the app (the bare stack is always eventlet)")
    p.add_argument("--database-url", help="the app's database (default: a fresh SQLite file per run); for "
                   "PostgreSQL, a fresh database on that server per run, named after the URL's and dropped after")
    p.add_argument("--rounds", type=int, default=3, help="alternating runs of each server (medians)")
    p.add_argument("--only", choices=("app", "bare"), help="run one server only")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON only")
    p.add_argument("--workers", type=int, default=2, help="load-generator processes (default 2)")
    p.add_argument("--connect-concurrency", type=int, default=100, help="connects in flight (all workers)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per phase")
    p.add_argument("--single-address", action="store_true",
                   help="connect every phone from 127.0.0.1 (default: 200 phones per loopback address)")
    p.add_argument("--profile", type=Path, help="record the app with py-spy into DIR (pip install -e '.[bench]')")
    p.add_argument("--profile-phase", choices=sorted(Probe.PHASES), default="burst",
                   help="the phase --profile records (default: the burst)")
    p.add_argument("--transports", choices=sorted(TRANSPORTS), default=PAGE_TRANSPORTS,
                   help=f"the phones' Socket.IO transports (default: the phone page's, {PAGE_TRANSPORTS!r})")
    p.add_argument("--no-pages", action="store_true", help="skip the page phase (phones connect at once)")
    p.add_argument("--with-sqlite", action="store_true",
                   help="with --database-url: also run the app on SQLite in the same rounds (app-sqlite)")
    args = p.parse_args(argv)

    kinds = []
    if args.only != "bare":
        kinds += ["app-eventlet", "app-gevent"] if args.mode == "both" else [f"app-{args.mode}"]
    if args.with_sqlite and args.only != "bare":
        kinds.append("app-sqlite")
    if args.only != "app":
        kinds.append("bare")
    workdir = Path(tempfile.mkdtemp(prefix="dialogrum-bench-"))
    runs: list[dict] = []
    try:
        for r in range(args.rounds):
            order = kinds[r % len(kinds):] + kinds[: r % len(kinds)]  # rotate: alternating starts
            for kind in order:
                if not args.json:
                    print(f"round {r + 1}/{args.rounds}: {kind} ...", flush=True)
                res = one_run(kind, args, workdir, args.profile)
                res["round"] = r + 1
                runs.append(res)
                if not args.json:
                    print("   " + ", ".join(f"{k}={res.get(k)}" for k in ("connected", "acked_ok", "votes_per_s",
                                                                          "ack_p95_ms", "exact_count_s",
                                                                          "results_leaked_to_phones", "server_cpu_s",
                                                                          "rss_per_phone_kb", "connect_seconds",
                                                                          "connect_cpu_s", "connect_errors",
                                                                          "vote_errors", "pages_seconds",
                                                                          "page_kb", "page_errors")), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    summary = summarise(runs)
    rat = ratios(summary)
    per_round = round_ratios(runs)
    tg = targets(args.n, summary, rat, per_round)
    if args.json:
        print(json.dumps({"n": args.n, "runs": runs, "median": summary, "ratios": rat, "per_round": per_round,
                          "targets": tg}, indent=2))
    else:
        print_table(summary, rat, tg, args.n, per_round)
    return 0 if all(tg.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
