"""The bare stack: the least a correct vote server must do, as the benchmark's floor.

python-socketio on eventlet's WSGI server, no Flask. A phone joins the participants' room; a
`vote` commits one SQLite row (an upsert) before its acknowledgement; a background task recounts
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
import sqlite3  # noqa: E402
from pathlib import Path  # noqa: E402

import eventlet.wsgi  # noqa: E402
import socketio  # noqa: E402

MAX_CONNECTIONS = 10_000
BACKLOG = 2048
TICK_SECONDS = 0.1
ROOT = Path(__file__).resolve().parent.parent
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
    dirty: set[str] = set()

    @sio.on("connect")
    def _connect(sid, _environ, auth=None):
        role = auth.get("role") if isinstance(auth, dict) else None
        sio.enter_room(sid, "f" if role == "facilitator" else "a")

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
