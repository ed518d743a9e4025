"""`dialogrum serve`: the production server entry point (eventlet by default, gevent as the way out).

This is the only module that monkey-patches, and it does so before anything else is imported.
"""

from __future__ import annotations

import os
import signal
import sys
import warnings

#: eventlet's WSGI server accepts 1,024 concurrent connections by default; one national assembly
#: is 1,000 phones plus facilitators and projectors. Raise the open-files limit to match.
MAX_CONNECTIONS = 10_000
#: A burst of phones joining at once must not overflow the listen queue.
BACKLOG = 2048
#: On SIGTERM a process drains (docs/deploy.md#upgrade): it stops accepting, closes its sockets so
#: that their clients reconnect to another process, lets the requests in progress end, and exits
#: after at most this many seconds (systemd waits 90 s before SIGKILL, Procfile platforms 30 s).
DRAIN_SECONDS = 10.0


def _patch(mode: str) -> None:
    if mode == "eventlet":
        # eventlet announces its deprecation on import; it is the server the project chose, and
        # the code stays async-mode agnostic so that gevent is one setting away.
        # (EventletDeprecationWarning derives from Warning, not DeprecationWarning.)
        warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()
    elif mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
        # psycopg2 needs an explicit wait callback to cooperate with gevent.
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()
    else:
        raise SystemExit(f"dialogrum: DIALOGRUM_ASYNC_MODE must be eventlet or gevent, not {mode!r}")


def _raise_open_files_limit() -> None:
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = min(hard, MAX_CONNECTIONS + 256) if hard != resource.RLIM_INFINITY else MAX_CONNECTIONS + 256
        if soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - platform dependent
        pass


def serve(host: str, port: int, *, lan: bool = False) -> int:
    """Patch, migrate, install the built-in guides, then serve until SIGTERM/SIGINT.

    `lan` (a laptop in a hall): listen on every interface and put this machine's address on the
    local network in join links and QR codes, unless `DIALOGRUM_BASE_URL` says otherwise."""
    mode = os.environ.get("DIALOGRUM_ASYNC_MODE", "eventlet")
    _patch(mode)
    _raise_open_files_limit()

    import logging

    from shared import accounts, heap, logs, migrate
    from shared.app import create_app, get_hub
    from shared.db import get_db

    # After the patching (shared.logs imports Flask): DIALOGRUM_LOG_LEVEL and DIALOGRUM_LOG_FORMAT.
    logs.configure(*logs.settings())
    log = logging.getLogger("dialogrum.server")
    app = create_app({"SOCKETIO_ASYNC_MODE": mode})
    lan_lines = _lan_setup(app, port) if lan else []
    if lan:
        # Every interface, on purpose: the phones come over Wi-Fi, the laptop's browser over loopback.
        host = "0.0.0.0"  # noqa: S104
    try:
        # Waits while another process installs (docs/architecture.md#installing-under-concurrency).
        migrate.install(app.config["DATABASE_URL"])
    except Exception as exc:  # a database that cannot be reached is a user error here
        print(f"dialogrum: cannot migrate the database: {exc}", file=sys.stderr)
        return 1
    # Under the same lock, so processes started at once find one first-run link, not one each.
    with migrate.install_lock(app.config["DATABASE_URL"]), app.app_context():
        db = get_db().session
        secret = accounts.first_run_link(db)
        db.commit()
        db.remove()
    # Bind before announcing anything: a port in use is a one-line error, not a traceback.
    try:
        serve_forever, stop_accepting = _listen(mode, app, host, port)
    except OSError as exc:
        print(f"dialogrum: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        get_db(app).dispose()
        return 1
    base = app.config.get("BASE_URL") or f"http://{host}:{port}"
    log.info("Dialogrum serves on http://%s:%s (%s).", host, port, mode)
    for line in lan_lines:
        print(line, flush=True)
    if secret:
        print(f"No one can sign in yet. Open this one-time link to choose the first organiser's password:\n"
              f"  {base}/setup/{secret}", flush=True)

    hub = get_hub(app)
    hub.start()
    socketio = app.extensions["dialogrum.socketio"]
    socketio.start_background_task(_purge_periodically, app, socketio)
    if app.config.get("SMTP_URL"):
        # The outbox's sender (shared/mail.py): every process runs one; the guarded claim lets
        # each mail go out once however many there are.
        from shared import mail

        socketio.start_background_task(mail.run_sender, app, socketio.sleep)
        log.info("E-mail goes out through %s.", mail.settings_description(app))
    def stopped() -> None:
        hub.stop()
        get_db(app).dispose()
        log.info("Dialogrum stopped.")

    draining: list[int] = []

    def _on_signal(signum: int, _frame: object) -> None:
        # Only a flag and a task here: raising in a signal handler would interrupt whichever
        # greenlet happens to run (a vote's commit), not the server's loop.
        if draining:  # a second signal (Ctrl-C twice): no more waiting
            os._exit(1)
        draining.append(signum)
        socketio.start_background_task(_drain, socketio, stop_accepting, stopped)

    # SIGTERM (systemd, Procfile platforms, a rolling restart) and Ctrl-C drain the process.
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    heap.tune()  # just before serving: what starting built is frozen (shared/heap.py)
    try:
        serve_forever()
    except KeyboardInterrupt:
        pass
    except OSError:
        if not draining:  # the listening socket shut down by the drain ends eventlet's loop so
            raise
    finally:
        stopped()
    return 0


def _drain(socketio, stop_accepting, stopped) -> None:
    """Stop accepting (a proxy's next connect is refused at once and goes to another process),
    then drop every socket's transport: its client reconnects, through the proxy, to a process that
    is still serving (a Socket.IO disconnect would tell it not to). The server's loop returns once
    the requests in progress have ended; past DRAIN_SECONDS the process exits anyway."""
    import logging

    log = logging.getLogger("dialogrum.server")
    log.info("Dialogrum drains: no new connections, %d socket(s) told to reconnect elsewhere.",
             len(socketio.server.eio.sockets))
    stop_accepting()
    eio = socketio.server.eio
    for sock in list(eio.sockets.values()):
        # abort: no Engine.IO close packet, which python-socketio's client takes as "do not
        # reconnect"; a dropped transport makes every client reconnect.
        sock.close(wait=False, abort=True, reason=eio.reason.SERVER_DISCONNECT)
    socketio.sleep(DRAIN_SECONDS)
    log.warning("Requests still running after %s s of draining: stopping anyway.", DRAIN_SECONDS)
    stopped()
    os._exit(0)


def _lan_setup(app, port: int) -> list[str]:
    """Find this machine's address on the local network and make it the base of join links (a
    base URL from the environment wins); the lines to print."""
    from shared import lan

    configured = app.config.get("BASE_URL")
    choice = lan.pick(lan.interfaces())
    if not configured and choice.address:
        app.config["BASE_URL"] = f"http://{choice.address}:{port}"
    return lan.lan_report(choice, port, base_url=configured)


#: How often a serving process deletes comments past the retention (it is counted in days).
PURGE_SECONDS = 600.0


def _purge_periodically(app, socketio) -> None:
    """The server's one scheduled job: `dialogrum purge` every ten minutes, so retention holds
    on an installation without cron. Several processes may run it at once: it is idempotent."""
    import logging

    from shared.db import get_db
    from shared.organiser import purge_expired_comments

    socketio.sleep(60)
    while True:
        try:
            with get_db(app).begin() as conn:
                purge_expired_comments(conn)
        except Exception:  # a database hiccup must not end the job; the next round retries
            logging.getLogger(__name__).exception("purging expired comments failed")
        socketio.sleep(PURGE_SECONDS)


def _listen(mode: str, app, host: str, port: int):
    """Bind the listening socket now; return the function that serves until the listening socket
    is closed (then returns once the requests in progress have ended), and the one that closes it."""
    if mode == "eventlet":
        import socket

        import eventlet
        import eventlet.wsgi

        # No SO_REUSEPORT (eventlet's default): a second `serve` on the same port would silently
        # share it, splitting one meeting's sockets over two processes without a message queue.
        sock = eventlet.listen((host, port), backlog=BACKLOG, reuse_addr=True, reuse_port=False)
        # Draining: close() would leave eventlet's accept() waiting forever; shutdown() wakes it
        # (EINVAL, which ends the server's loop once the requests in progress have ended) and
        # refuses new connections at once.
        return (lambda: eventlet.wsgi.server(sock, app, log_output=False, max_size=MAX_CONNECTIONS,
                                             socket_timeout=None, keepalive=True),
                lambda: sock.shutdown(socket.SHUT_RDWR))
    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    # gevent-websocket's handler: with plain pywsgi a client's websocket close waits for a
    # timeout instead of completing at once.
    server = pywsgi.WSGIServer((host, port), app, log=None, backlog=BACKLOG, handler_class=WebSocketHandler)
    server.init_socket()
    return server.serve_forever, server.close
