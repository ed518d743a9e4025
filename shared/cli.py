"""The `dialogrum` command line.

`serve` monkey-patches for its async mode *first*, before Flask, SQLAlchemy or the database
drivers are imported; no other command patches anything (patching on import hangs pytest and
Playwright: docs/architecture.md#the-eventlet-facts). So this module imports nothing heavy at
module level.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


class UserError(Exception):
    """A mistake of the user's: printed as one line, exit status 1, no traceback."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dialogrum", description="Live dialogue meetings.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="apply migrations, then serve HTTP and websockets")
    s.add_argument("--host", default=os.environ.get("DIALOGRUM_HOST", "127.0.0.1"))
    s.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    s.add_argument("--lan", action="store_true",
                   help="a laptop in a hall: listen on every interface and put this machine's address on the "
                        "local network in join links and QR codes (DIALOGRUM_BASE_URL still wins)")

    db = sub.add_parser("db", help="database migrations").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply pending migrations and install the built-in guides (waits for "
                                  "another process doing the same)")
    down = db.add_parser("downgrade", help="revert migrations (e.g. to `base`)")
    down.add_argument("revision")

    user = sub.add_parser("user", help="users").add_subparsers(dest="user_command", required=True)
    uc = user.add_parser("create", help="create a user; reads the password from stdin (one line)")
    uc.add_argument("--email", required=True)
    uc.add_argument("--role", required=True, choices=("organiser", "facilitator"))
    uc.add_argument("--name", default="")
    user.add_parser("list", help="list users")
    for verb, text in (("deactivate", "deactivate a user: no sign-in, no API token, every open socket and "
                                      "sign-in ends, open password links stop working"),
                       ("activate", "reactivate a deactivated user")):
        ua = user.add_parser(verb, help=text)
        ua.add_argument("--email", required=True)

    tok = sub.add_parser("token", help="API tokens").add_subparsers(dest="token_command", required=True)
    tc = tok.add_parser("create", help="print a new API token for a user")
    tc.add_argument("--email", required=True)
    tc.add_argument("--label", default="cli")
    tl = tok.add_parser("list", help="a user's tokens: id, created, last used, status, label (never the secret)")
    tl.add_argument("--email", required=True)
    tr = tok.add_parser("revoke", help="revoke a token, given as the token itself or its id: 401 at once, "
                                       "and its sockets close within seconds, on every process")
    tr.add_argument("token", metavar="TOKEN")

    g = sub.add_parser("guide", help="discussion guides").add_subparsers(dest="guide_command", required=True)
    gl = g.add_parser("list", help="list guides (id, language, items, title; archived ones only with --all)")
    gl.add_argument("--all", action="store_true", help="archived guides too, marked 'archived'")
    gi = g.add_parser("import", help="import a YAML or JSON guide; prints the new id")
    gi.add_argument("file")
    ge = g.add_parser("export", help="print a guide as YAML (or JSON)")
    ge.add_argument("id")
    ge.add_argument("--format", choices=("yaml", "json"), default="yaml")
    ga = g.add_parser("archive", help="leave a guide out of the new-session form (its sessions and roll-up stay)")
    ga.add_argument("id")
    ga.add_argument("--undo", action="store_true", help="bring an archived guide back")
    gd = g.add_parser("delete", help="delete a guide that no session used")
    gd.add_argument("id")

    ex = sub.add_parser("export", help="export one session's results")
    ex.add_argument("code", help="the join code (or the session id)")
    ex.add_argument("--format", choices=("csv", "xlsx", "json", "zip"), required=True,
                    help="zip: one CSV file per table")
    ex.add_argument("--language", choices=("sv", "da", "en"),
                    help="CSV and XLSX for a spreadsheet in this language (columns and values in it; sv and da "
                         "CSV with semicolons and decimal commas); default: the stable English columns")
    ex.add_argument("--output", help="file to write, or a directory to write it in under the download's "
                                     "file name (printed); default: standard output")

    bk = sub.add_parser("backup", help="write a consistent copy of the database to FILE, safe while serving "
                                       "(SQLite: online backup; PostgreSQL: pg_dump --format=custom)")
    bk.add_argument("file")

    sub.add_parser("first-run-link", help="print the one-time link for the first organiser, if none can sign in")
    ml = sub.add_parser("mail", help="e-mail through DIALOGRUM_SMTP_URL").add_subparsers(dest="mail_command",
                                                                                        required=True)
    ml.add_parser("send-pending", help="send the e-mails that are due now (every serving process does this by "
                                       "itself; this is for cron or a check by hand); prints what happened")
    ml.add_parser("list", help="the outbox: id, status, attempts, kind, recipient, last error (never the body)")
    sub.add_parser("purge", help="delete the comments of sessions that ended longer ago than the retention "
                                 "(run it daily from cron or a systemd timer)")
    cp = sub.add_parser("campaign", help="dialogue campaigns: units asked to hold a guide by a deadline")
    cps = cp.add_subparsers(dest="campaign_command", required=True)
    cps.add_parser("list", help="every campaign: id, open or closed, deadline, units held of those asked, title")
    cs = cps.add_parser("show", help="who has held a campaign, in order of the first session, and who has not yet")
    cs.add_argument("id", type=int)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from shared.server import serve

        return serve(args.host, args.port, lan=args.lan)
    try:
        return _run(args)
    except UserError as exc:
        print(f"dialogrum: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _app():
    from shared.app import create_app

    try:
        return create_app()
    except OSError as exc:
        raise UserError(f"cannot prepare the instance directory: {exc}") from None


def _run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    try:
        if args.command == "db":
            return _db(args)
        if args.command == "backup":
            return _backup(args)
        app = _app()
        with app.app_context():
            from shared.db import get_db

            db = get_db().session
            try:
                handler = {"user": _user, "token": _token, "guide": _guide, "export": _export,
                           "first-run-link": _first_run, "purge": _purge, "mail": _mail,
                           "campaign": _campaign}[args.command]
                return handler(args, db, app)
            finally:
                db.remove()
    except OperationalError as exc:
        raise UserError(f"the database cannot be used: {str(exc.orig).strip().splitlines()[0]} "
                        "(is DIALOGRUM_DATABASE_URL right, and has `dialogrum db upgrade` run?)") from None


def _db(args: argparse.Namespace) -> int:
    from shared import migrate
    from shared.config import from_environment

    url = from_environment()["DATABASE_URL"]
    if args.db_command == "upgrade":
        migrate.install(url)
    else:
        migrate.downgrade(url, args.revision)
    return 0


def _backup(args: argparse.Namespace) -> int:
    from shared.backup import BackupError, backup
    from shared.config import from_environment

    try:
        backup(from_environment()["DATABASE_URL"], args.file)
    except BackupError as exc:
        raise UserError(str(exc)) from None
    return 0


def _user(args: argparse.Namespace, db: Any, _app: Any) -> int:
    from shared import accounts
    from shared.errors import DialogrumError

    if args.user_command in ("deactivate", "activate"):
        user = accounts.find_user(db, args.email)
        if user is None:
            raise UserError(f"no user with the e-mail {args.email.strip()}")
        accounts.set_active(db, user, args.user_command == "activate")
        db.commit()
        print(f"{user.email} can sign in again" if user.active else
              f"{user.email} is deactivated: signed out everywhere, API tokens refused, sockets closed within seconds")
        return 0
    if args.user_command == "list":
        import sqlalchemy as sa

        from shared.models import User

        for u in db.scalars(sa.select(User).order_by(User.id)):
            print(f"{u.email}\t{u.role}\t{'active' if u.active else 'inactive'}\t{u.name}")
        return 0
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise UserError("no password on standard input (give it as one line)")
    try:
        accounts.create_user(db, email=args.email, role=args.role, name=args.name, password=password)
    except DialogrumError as exc:
        raise UserError(exc.message) from None
    db.commit()
    return 0


def _token(args: argparse.Namespace, db: Any, _app: Any) -> int:
    from shared import accounts
    from shared.errors import DialogrumError

    if args.token_command == "revoke":  # noqa: S105 - a subcommand's name, not a secret
        try:
            row = accounts.find_token(db, args.token)
            already = row is not None and row.revoked_at is not None
            row = accounts.revoke_token(db, args.token)
        except DialogrumError as exc:
            raise UserError(exc.message) from None
        db.commit()
        print(f"token {row.id} of {row.user.email} {'was already revoked' if already else 'revoked'}")
        return 0
    user = accounts.find_user(db, args.email)
    if user is None:
        raise UserError(f"no user with the e-mail {args.email}")
    if args.token_command == "list":  # noqa: S105 - a subcommand's name, not a secret
        print("id\tcreated\tlast used\tstatus\tlabel")
        for row in accounts.list_tokens(db, user.id):
            print(f"{row.id}\t{_when(row.created_at)}\t{_when(row.last_used_at)}\t"
                  f"{'revoked' if row.revoked_at else 'active'}\t{row.label}")
        return 0
    if not user.active:
        raise UserError(f"the user {args.email} is deactivated")
    token = accounts.create_token(db, user, args.label)
    db.commit()
    print(token)
    return 0


def _when(moment: Any) -> str:
    """A UTC time to the second, ISO 8601, or `never`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else "never"


def _guide(args: argparse.Namespace, db: Any, _app: Any) -> int:
    from shared import guides, library
    from shared.errors import DialogrumError
    from shared.models import Guide

    if args.guide_command == "list":
        library.install_builtins(db)
        db.commit()
        for gd in library.list_guides(db, include_archived=args.all):
            s = library.summary(gd)
            mark = "\tarchived" if s["archived"] else ""
            print(f"{s['id']}\t{s['language']}\t{s['items']} items\t{s['title']}{mark}")
        return 0
    if args.guide_command == "import":
        try:
            with open(args.file, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise UserError(f"cannot read {args.file}: {exc.strerror}") from None
        try:
            guide = library.import_guide(db, raw, filename=args.file)
        except guides.GuideError as exc:
            raise UserError(f"{args.file}: {exc}") from None
        db.commit()
        print(guide.id)
        return 0
    library.install_builtins(db)
    db.commit()
    guide = db.get(Guide, args.id)
    if guide is None:
        raise UserError(f"no guide with the id {args.id}")
    if args.guide_command == "export":
        sys.stdout.write(library.export_guide(guide, args.format))
        return 0
    # The one who runs the command on the server has an organiser's rights over guides (never
    # over a built-in guide's content); the library's rules still refuse what they refuse.
    try:
        if args.guide_command == "archive":
            library.archive_guide(db, library.OPERATOR, guide, archived=not args.undo)
            done = "brought back" if args.undo else "archived"
        else:
            library.delete_guide(db, library.OPERATOR, guide)
            done = "deleted"
    except DialogrumError as exc:
        raise UserError(f"{args.id}: {exc.message}") from None
    db.commit()
    print(f"{args.id} {done}")
    return 0


def _export(args: argparse.Namespace, db: Any, app: Any) -> int:
    from zoneinfo import ZoneInfo

    from shared import downloads
    from shared import meeting as rules
    from shared.models import Meeting

    row = rules.find_by_code(db.connection(), args.code)
    meeting = db.get(Meeting, row.id if row is not None else args.code)
    if meeting is None:
        raise UserError(f"no session with the code {args.code}")
    # The same bytes and file name as the download buttons and the REST API.
    download = downloads.session_file(db, meeting, args.format, language=args.language,
                                      tz=ZoneInfo(app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC"))
    if args.output:
        path = os.path.join(args.output, download.filename) if os.path.isdir(args.output) else args.output
        try:
            with open(path, "wb") as fh:
                fh.write(download.body)
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror}") from None
        if path != args.output:
            print(path)
    else:
        sys.stdout.buffer.write(download.body)
        sys.stdout.flush()
    return 0


def _first_run(_args: argparse.Namespace, db: Any, app: Any) -> int:
    from shared import accounts

    secret = accounts.first_run_link(db)
    db.commit()
    if secret is None:
        raise UserError("somebody can already sign in; an organiser can invite more users")
    base = app.config.get("BASE_URL") or "http://127.0.0.1:5000"
    print(f"{base}/setup/{secret}")
    return 0


def _purge(_args: argparse.Namespace, db: Any, _app: Any) -> int:
    from shared import organiser
    from shared.db import get_db
    from shared.uow import unit_of_work

    with unit_of_work(get_db(), session=db) as work:
        days = organiser.retention_days(work.conn)
        deleted = organiser.purge_expired_comments(work.conn)
    kept = f"retention {days} days" if days > 0 else "no retention set: comments stay until their session is deleted"
    print(f"{deleted} comment{'' if deleted == 1 else 's'} deleted ({kept})")
    return 0


def _mail(args: argparse.Namespace, db: Any, _app: Any) -> int:
    import sqlalchemy as sa

    from shared import mail
    from shared.db import get_db
    from shared.models import MailOutbox

    if args.mail_command == "list":
        for row in db.scalars(sa.select(MailOutbox).order_by(MailOutbox.id.desc()).limit(200)):
            error = f"  {row.last_error}" if row.last_error else ""
            print(f"#{row.id}\t{row.status}\t{row.attempts}\t{row.kind}\t{row.to_addr}{error}")
        return 0
    if not mail.enabled():
        raise UserError("e-mail is not configured: set DIALOGRUM_SMTP_URL (see docs/deploy.md#e-mail)")
    done = mail.send_pending(get_db(), limit=10_000)
    print(f"{done.sent} sent, {done.retrying} to be retried, {done.failed} failed")
    # A failure is worth a non-zero status in cron's eyes; the rows say the rest.
    return 0 if not (done.retrying or done.failed) else 2


def _campaign(args: argparse.Namespace, db: Any, _app: Any) -> int:
    from shared import campaigns
    from shared.errors import DialogrumError

    if args.campaign_command == "list":
        for c in campaigns.list_campaigns(db):
            prog = campaigns.progress(db, c)
            status = "closed" if c.closed_at else "open"
            asked = len(prog.held) + len(prog.not_yet)
            print(f"{c.id}\t{status}\t{c.deadline.isoformat()}\t{len(prog.held)}/{asked} held\t{campaigns.name(c)}")
        return 0
    try:
        c = campaigns.get_campaign(db, args.id)
    except DialogrumError:
        raise UserError(f"no campaign with the id {args.id}") from None
    prog = campaigns.progress(db, c)
    print(f"{campaigns.name(c)}: deadline {c.deadline.isoformat()}, {'closed' if c.closed_at else 'open'}")
    for n, h in enumerate(prog.held, 1):
        late = " (after the deadline)" if h.late else ""
        print(f"{n}. {h.unit.name}\theld {h.first_on.isoformat()}{late}\t{h.meeting.id}")
    for n in prog.not_yet:
        print(f"-  {n.unit.name}\t{'overdue' if n.overdue else 'not yet'}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
