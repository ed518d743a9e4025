"""The bare stack: the least a correct vote server must do, as the benchmark's floor.

python-socketio on eventlet's WSGI server, no Flask. A phone's connect does what any server must
for a phone to resume as itself and see the meeting at once: it commits one participant row (a new
token's hash) and, once the client knows it is connected, sends `welcome` and a first `state` of
the app's shape and size, whose participant count is one COUNT shared by the connects of 100 ms.
It joins the participants' room; a `vote` commits one SQLite row (an upsert) before its
acknowledgement; a background task recounts
with one GROUP BY every 100 ms when something changed and emits `results` to the facilitators'
room only. The same connection cap and listen backlog as `dialogrum serve`, the same SQLite
settings as the app (WAL, synchronous=NORMAL). For the page phase it serves a phone page at
`/j/<anything>` naming the same stylesheet and scripts as the app's phone page, each gzipped once
in memory when the client accepts gzip (the least a server of that page must do).

    python bench/bare_server.py --port 5099 --db /tmp/bare.db
"""

from __future__ import annotations

import argparse
import warnings

# Patch first, like `dialogrum serve` (and silence eventlet's deprecation notice, as it does).
warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import gzip  # noqa: E402
import hashlib  # noqa: E402
import secrets  # noqa: E402
import sqlite3  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import eventlet.wsgi  # noqa: E402
import socketio  # noqa: E402

MAX_CONNECTIONS = 10_000
BACKLOG = 2048
TICK_SECONDS = 0.1
ROOT = Path(__file__).resolve().parent.parent
#: A first `state` of the app's shape and size (the built-in Danish guide's first consideration).
STATE = {
    "session": {"id": "5f0c9d6e8a7b4c3d2e1f0a9b8c7d6e5f", "code": "K7QX2M", "title": "Vote burst", "status": "live"},
    "position": {"index": 2, "count": 31},
    "item": {"id": "item-1", "kind": "consideration",
             "text": "Skal afdelingsbestyrelsen invitere alle beboere til et fælles møde om husordenen, "
                     "før der stemmes om ændringer på afdelingsmødet?",
             "section": {"index": 0, "title": "Fællesskab og husorden", "statement":
                         "Vi vil have en husorden, som alle beboere kender og kan se sig selv i."},
             "choices": ["yes", "no"]},
    "voting_open": True, "results_visible": False, "participants": 0, "voting_opened": True,
    "join_display": "corner", "comment_order": "newest", "summary": None, "language": "da",
    "labels": {"yes": "Ja", "no": "Nej", "unsure": "Ved ikke"}, "version": 4,
    "timer": {"duration": None, "remaining": None, "running": False, "shown": False}, "approve_comments": False,
}
#: The phone page's static files (participant/templates/participant/phone.html and base.html).
PAGE_FILES = {
    "/static/css/dialogrum.css": ROOT / "shared/static/css/dialogrum.css",
    "/static/vendor/socket.io.min.js": ROOT / "shared/static/vendor/socket.io.min.js",
    "/static/js/dialogrum.js": ROOT / "shared/static/js/dialogrum.js",
    "/static/participant/ideas.js": ROOT / "participant/static/ideas.js",
    "/static/participant/phone_pending.js": ROOT / "participant/static/phone_pending.js",
    "/static/participant/phone.js": ROOT / "participant/static/phone.js",
}


def pages_app():
    """A WSGI app for the page phase: the phone page and its static files, gzip when accepted."""
    files = {}
    for url, path in PAGE_FILES.items():
        if path.exists():
            raw = path.read_bytes()
            kind = "text/css" if url.endswith(".css") else "application/javascript"
            files[url] = (kind, raw, gzip.compress(raw, compresslevel=9, mtime=0))
    head = "".join(f'<link rel="stylesheet" href="{u}?v=1">' if u.endswith(".css") else
                   f'<script src="{u}?v=1" defer></script>' for u in files)
    page = f'<!doctype html><html lang="da"><head><meta charset="utf-8">{head}</head><body></body></html>'.encode()
    files["/j/"] = ("text/html; charset=utf-8", page, gzip.compress(page, mtime=0))

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        hit = files.get("/j/" if path.startswith("/j/") else path)
        if hit is None:
            start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
            return [b""]
        kind, raw, packed = hit
        zipped = "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "")
        body = packed if zipped else raw
        headers = [("Content-Type", kind), ("Content-Length", str(len(body))), ("Vary", "Accept-Encoding"),
                   ("Cache-Control", "public, max-age=31536000, immutable")]
        if zipped:
            headers.append(("Content-Encoding", "gzip"))
        start_response("200 OK", headers)
        return [body]

    return app


def build(db_path: str) -> tuple[socketio.Server, socketio.WSGIApp]:
    sio = socketio.Server(async_mode="eventlet", cors_allowed_origins=None, max_http_buffer_size=64_000)
    db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS votes (participant TEXT NOT NULL, item TEXT NOT NULL, "
               "choice TEXT NOT NULL, PRIMARY KEY (participant, item))")
    db.execute("CREATE TABLE IF NOT EXISTS participants (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, "
               "created_at REAL NOT NULL)")
    dirty: set[str] = set()
    shared_state: list = [0.0, None]  # (when, state): one count per 100 ms, as the app's hub shares it

    def _state() -> dict:
        now = time.monotonic()
        if shared_state[1] is None or now - shared_state[0] >= TICK_SECONDS:
            count = db.execute("SELECT COUNT(*) FROM participants").fetchone()[0]
            shared_state[:] = [now, {**STATE, "participants": count}]
        return shared_state[1]

    def _greet(sid: str, welcome: dict) -> None:
        # Like the app: the first events wait until the client knows it is connected.
        for _ in range(200):
            if sio.manager.is_connected(sid, "/"):
                break
            sio.sleep(0.005)
        sio.emit("welcome", welcome, to=sid)
        sio.emit("state", {**_state(), "me": {"vote": None, "comments": 0}}, to=sid)

    @sio.on("connect")
    def _connect(sid, _environ, auth=None):
        role = auth.get("role") if isinstance(auth, dict) else None
        if role == "facilitator":
            sio.enter_room(sid, "f")
            return
        token, pid = secrets.token_urlsafe(24), secrets.token_hex(16)
        db.execute("BEGIN")
        db.execute("INSERT INTO participants (id, token_hash, created_at) VALUES (?, ?, ?)",
                   (pid, hashlib.sha256(token.encode()).hexdigest(), time.time()))
        db.execute("COMMIT")
        sio.enter_room(sid, "a")
        sio.start_background_task(_greet, sid, {"token": token, "participant_id": pid})

    @sio.on("vote")
    def _vote(sid, data):
        if not isinstance(data, dict) or data.get("choice") not in ("yes", "no", "unsure"):
            return {"ok": False, "error": "invalid_choice"}
        item = str(data.get("item_id"))
        # One transaction, committed before the acknowledgement.
        db.execute("BEGIN")
        db.execute("INSERT INTO votes (participant, item, choice) VALUES (?, ?, ?) "
                   "ON CONFLICT (participant, item) DO UPDATE SET choice = excluded.choice",
                   (sid, item, data["choice"]))
        db.execute("COMMIT")
        dirty.add(item)
        return {"ok": True}

    def _recount():
        while True:
            sio.sleep(TICK_SECONDS)
            if not dirty:
                continue
            items = list(dirty)
            dirty.clear()
            for item in items:
                counts = {"yes": 0, "no": 0, "unsure": 0}
                for choice, n in db.execute("SELECT choice, COUNT(*) FROM votes WHERE item = ? GROUP BY choice",
                                            (item,)):
                    counts[choice] = n
                sio.emit("results", {"item_id": item, "counts": counts, "voters": sum(counts.values())}, to="f")

    sio.start_background_task(_recount)
    return sio, socketio.WSGIApp(sio, pages_app())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--db", required=True, help="SQLite file")
    args = p.parse_args()
    _sio, app = build(args.db)
    sock = eventlet.listen((args.host, args.port), backlog=BACKLOG, reuse_addr=True)
    print(f"bare server on http://{args.host}:{args.port}", flush=True)
    try:
        eventlet.wsgi.server(sock, app, log_output=False, max_size=MAX_CONNECTIONS, socket_timeout=None,
                             keepalive=True)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
