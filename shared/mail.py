"""E-mail through a configured SMTP server (issue 12, gap 9): the outbox and its senders.

A change that should send an e-mail (an invitation, a password link, a campaign reminder) calls
`queue()` inside its own transaction: the mail is a row of `mail_outbox` that exists exactly when
the change committed, and nothing is sent before that. Sending happens afterwards, outside any
transaction:

* every `dialogrum serve` process runs a sender (a green thread, `run_sender`) that wakes when
  this process queued a mail and every `POLL_SECONDS` anyway (mails queued by another process or
  by the CLI); `dialogrum mail send-pending` does one round from cron or by hand;
* a sender claims a due row with one guarded UPDATE (`_claim`), so two senders (two processes, a
  process and the CLI) never both send it; the claim holds for `CLAIM_SECONDS`, after which a row
  whose sender died mid-send is due again (at least once: such a mail may arrive twice, with the
  same Message-ID, never not at all);
* a failed attempt records the server's answer, counts the attempt and sets the next one later
  (`backoff`); after `MAX_ATTEMPTS` the row is `failed`, shown on the users page with the error and
  a "send again". Nothing is dropped silently.

Configuration (docs/deploy.md#e-mail): `DIALOGRUM_SMTP_URL`, e.g. `smtp://user:pass@host:587?starttls=1`,
`smtps://user:pass@host:465` or `smtp://127.0.0.1:2525`; `DIALOGRUM_MAIL_FROM`, the sender address.
Without `DIALOGRUM_SMTP_URL` nothing is sent (`enabled()` is false) and the pages show the link to
copy, as they always have.

The module is long on purpose: it is a mail's whole way in one place (configuration, queueing, the
texts, claiming, sending, recording the outcome), so the rule that no mail is sent twice or lost
can be read top to bottom.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import os
import secrets
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so

from shared.errors import DialogrumError
from shared.models import Language, MailOutbox, MailStatus, utcnow

if TYPE_CHECKING:
    from shared.db import Database

log = logging.getLogger(__name__)

#: Attempts before a mail is given up as `failed` (about a day of retrying with `backoff`).
MAX_ATTEMPTS = 8
#: How long a sender's claim on a row holds: longer than one SMTP conversation can take.
CLAIM_SECONDS = 120
#: Seconds to wait for the SMTP server at each step (connect, each command).
SMTP_TIMEOUT = 20.0
#: How often a serving process looks for due mail it was not woken for.
POLL_SECONDS = 15.0
#: Rows one round claims at most (the next round takes the rest).
BATCH = 20
LANGUAGES = tuple(language.value for language in Language)


def backoff(attempts: int) -> dt.timedelta:
    """How long after its `attempts`-th failed attempt a mail is tried again: 1, 2, 4, ... minutes,
    at most four hours (eight attempts span about nine hours)."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 240))


# -- configuration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to hand mail over, read from `DIALOGRUM_SMTP_URL` and `DIALOGRUM_MAIL_FROM`."""

    host: str
    port: int
    #: TLS from the first byte (`smtps://`, usually port 465)
    ssl: bool = False
    #: upgrade a plain connection with STARTTLS (`?starttls=1`, usually port 587)
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = ""
    timeout: float = SMTP_TIMEOUT


_TRUE = ("1", "true", "yes", "on")


def parse_url(url: str, sender: str | None = None) -> SmtpSettings:
    """The settings an SMTP URL names; a ValueError saying what is wrong otherwise.

    `smtp://[user:pass@]host[:port][?starttls=1][&timeout=20]` or `smtps://...`; user and password
    are percent-decoded (write `@` in a password as `%40`). Default ports: 25, 587 with STARTTLS,
    465 for smtps."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("DIALOGRUM_SMTP_URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("DIALOGRUM_SMTP_URL names no host")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls", "timeout"}
    if unknown:
        raise ValueError(f"DIALOGRUM_SMTP_URL: unknown option(s) {', '.join(sorted(unknown))} "
                         "(known: starttls, timeout)")
    use_ssl = parts.scheme == "smtps"
    starttls = query.get("starttls", "0").lower() in _TRUE
    if use_ssl and starttls:
        raise ValueError("DIALOGRUM_SMTP_URL: smtps:// is TLS already; starttls=1 is for smtp://")
    try:
        port = parts.port or (465 if use_ssl else 587 if starttls else 25)
        timeout = float(query.get("timeout", SMTP_TIMEOUT))
    except ValueError:
        raise ValueError("DIALOGRUM_SMTP_URL: the port and timeout must be numbers") from None
    if not 0 < timeout <= 300:
        raise ValueError("DIALOGRUM_SMTP_URL: timeout must be between 0 and 300 seconds")
    host = parts.hostname
    sender = (sender or "").strip() or f"Dialogrum <dialogrum@{host if '.' in host else 'localhost'}>"
    if "\n" in sender or "\r" in sender or "@" not in sender:
        raise ValueError("DIALOGRUM_MAIL_FROM must be one e-mail address, e.g. 'Dialogrum <dialog@example.org>'")
    return SmtpSettings(host=host, port=port, ssl=use_ssl, starttls=starttls,
                        username=unquote(parts.username) if parts.username else None,
                        password=unquote(parts.password) if parts.password is not None else None,
                        sender=sender, timeout=timeout)


def _configured() -> tuple[str | None, str | None]:
    """The SMTP URL and sender: the app's config inside an app context (tests set them there),
    else the environment (the CLI before an app exists)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config.get("SMTP_URL"), current_app.config.get("MAIL_FROM")
    return os.environ.get("DIALOGRUM_SMTP_URL") or None, os.environ.get("DIALOGRUM_MAIL_FROM") or None


def enabled() -> bool:
    """True when an SMTP server is configured (`DIALOGRUM_SMTP_URL`): invitations, password links
    and reminders are then e-mailed as well as shown."""
    url, _sender = _configured()
    return bool(url and url.strip())


def settings() -> SmtpSettings | None:
    """The configured SMTP settings, or None without `DIALOGRUM_SMTP_URL`."""
    url, sender = _configured()
    return parse_url(url, sender) if url and url.strip() else None


def settings_description(app: Any) -> str:
    """Where mail goes, for the log: the URL without its password."""
    with app.app_context():
        smtp = settings()
    if smtp is None:
        return "nowhere (DIALOGRUM_SMTP_URL is not set)"
    tls = ", TLS" if smtp.ssl else ", STARTTLS" if smtp.starttls else ""
    who = f" as {smtp.username}" if smtp.username else ""
    return f"{smtp.host}:{smtp.port}{tls}{who}, from {smtp.sender}"


# -- queueing ----------------------------------------------------------------------------------

#: Woken after a commit that queued mail, so this process's sender need not wait for its poll.
_WAKE = threading.Event()


def _clean_header(text: object, limit: int) -> str:
    # A subject goes into a header: a newline in it would let a value start a header of its own.
    return " ".join(str(text).split())[:limit]


def queue(db: so.Session | sa.Connection, *, to: str, lang: str, subject: str, body: str, kind: str,
          user_id: int | None = None) -> MailOutbox:
    """Add an e-mail to the outbox in the caller's transaction and return its row: it is sent
    after that transaction commits (and never if it rolls back). `lang` is the language it is
    written in (sv, da, en); `kind` says what it is about (`invite`, `reset`, `reminder`, ...);
    `user_id`, when given, shows its status on the users page. Queueing works whether or not
    mail is `enabled()`: rows wait until a server is configured."""
    from shared.accounts import normalise_email

    to = normalise_email(to)
    if lang not in LANGUAGES:
        raise DialogrumError("invalid", "lang must be one of " + ", ".join(LANGUAGES))
    if not isinstance(kind, str) or not kind.strip() or len(kind) > 40:
        raise DialogrumError("invalid", "kind must be a short word such as invite, reset or reminder")
    subject = _clean_header(subject, 300)
    if not subject or not isinstance(body, str) or not body.strip():
        raise DialogrumError("empty", "an e-mail needs a subject and a body")
    now = utcnow()
    values = {"kind": kind.strip(), "to_addr": to, "user_id": user_id, "language": lang, "subject": subject,
              "body": body, "status": MailStatus.QUEUED, "attempts": 0, "next_attempt_at": now, "created_at": now}
    if isinstance(db, so.scoped_session):  # a request's session (get_db().session)
        db = db()
    if isinstance(db, so.Session):
        row = MailOutbox(**values)
        db.add(row)
        db.flush()
        sa.event.listen(db, "after_commit", _wake_after_commit, once=True)
        return row
    mail_id = db.execute(sa.insert(MailOutbox).values(**values).returning(MailOutbox.id)).scalar_one()
    # A unit of work's connection (work.conn): wake the sender when its transaction commits.
    sa.event.listen(db, "commit", _wake_after_commit, once=True)
    return MailOutbox(id=mail_id, **values)


def language_of(user: Any, fallback: str | None = None) -> str:
    """The language to write to a user in: the one stored for them, else `fallback` (e.g. the
    organiser's page language), else English."""
    for candidate in (getattr(user, "language", None), fallback):
        if candidate in LANGUAGES:
            return str(candidate)
    return "en"


def _wake_after_commit(_session_or_connection: Any) -> None:
    _WAKE.set()


def retry(db: so.Session, mail_id: int) -> MailOutbox:
    """Send a queued or failed mail again now, with a fresh count of attempts ("send again")."""
    if isinstance(db, so.scoped_session):
        db = db()
    row = db.get(MailOutbox, mail_id)
    if row is None:
        raise DialogrumError("not_found", "no such e-mail")
    if row.status not in (MailStatus.QUEUED, MailStatus.FAILED):
        raise DialogrumError("wrong_state", "only a queued or failed e-mail can be sent again")
    db.execute(sa.update(MailOutbox).where(MailOutbox.id == mail_id,
                                           MailOutbox.status.in_([MailStatus.QUEUED, MailStatus.FAILED]))
               .values(status=MailStatus.QUEUED, attempts=0, next_attempt_at=utcnow(), claim=None,
                       claimed_until=None)
               .execution_options(synchronize_session=False))
    db.expire(row)
    sa.event.listen(db, "after_commit", _wake_after_commit, once=True)
    return row


def latest_by_user(db: so.Session, user_ids: list[int] | None = None) -> dict[int, MailOutbox]:
    """Each user's newest e-mail (what the users page shows): one query for all."""
    newest = (sa.select(sa.func.max(MailOutbox.id)).where(MailOutbox.user_id.is_not(None))
              .group_by(MailOutbox.user_id))
    if user_ids is not None:
        newest = newest.where(MailOutbox.user_id.in_(user_ids))
    rows = db.scalars(sa.select(MailOutbox).where(MailOutbox.id.in_(newest)))
    return {row.user_id: row for row in rows}


# -- the texts ---------------------------------------------------------------------------------


def password_link_mail(purpose: str, *, url: str, lang: str, name: str, inviter: str,
                       days: int) -> tuple[str, str]:
    """Subject and body of an invitation (`invite`) or a new password link (`reset`), in `lang`."""
    from flask_babel import force_locale
    from flask_babel import gettext as _

    with force_locale(lang):
        greeting = _("Hello %(name)s,", name=name) if name else _("Hello,")
        if purpose == "invite":
            subject = _("Invitation to Dialogrum")
            intro = _("%(inviter)s has invited you to Dialogrum, where dialogue meetings are run and their "
                      "results gathered.", inviter=inviter)
            action = _("Open this link to choose your password and sign in:")
        else:
            subject = _("Choose a new password for Dialogrum")
            intro = _("%(inviter)s has made you a link to choose a new password for Dialogrum. Your old "
                      "password keeps working until you do.", inviter=inviter)
            action = _("Open this link to choose your new password:")
        validity = _("The link works once and for %(days)d days. If it has expired, ask for a new one.",
                     days=days)
        ignore = _("If you did not expect this e-mail, you can ignore it.")
    return subject, f"{greeting}\n\n{intro}\n\n{action}\n{url}\n\n{validity}\n{ignore}\n\n-- \nDialogrum\n"


# -- sending -----------------------------------------------------------------------------------


@dataclass
class Round:
    """What one `send_pending` round did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _due(now: dt.datetime) -> sa.ColumnElement[bool]:
    """Queued and due, or claimed by a sender whose claim has run out (it died mid-send)."""
    return sa.or_(sa.and_(MailOutbox.status == MailStatus.QUEUED, MailOutbox.next_attempt_at <= now),
                  sa.and_(MailOutbox.status == MailStatus.SENDING, MailOutbox.claimed_until < now))


def _claim(db: Database, mail_id: int, claim: str) -> dict[str, Any] | None:
    """Take one due row for this sender: one guarded UPDATE in its own short transaction, so of
    two senders racing for it exactly one sees a changed row (PostgreSQL re-checks the condition
    after the other's commit; SQLite runs one writer at a time). Returns its values, or None."""
    now = utcnow()
    with db.begin() as conn:
        taken = conn.execute(sa.update(MailOutbox).where(MailOutbox.id == mail_id, _due(now))
                             .values(status=MailStatus.SENDING, claim=claim,
                                     claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS),
                                     attempts=MailOutbox.attempts + 1))
        if taken.rowcount != 1:
            return None
        row = conn.execute(sa.select(MailOutbox.__table__).where(MailOutbox.id == mail_id)).mappings().one()
        return dict(row)


def message_for(row: dict[str, Any], smtp: SmtpSettings) -> EmailMessage:
    """The e-mail of an outbox row. Its Message-ID comes from the row, so a mail sent again after
    a sender died mid-send is recognisably the same one."""
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = row["to_addr"]
    msg["Subject"] = row["subject"]
    msg["Date"] = email.utils.format_datetime(utcnow())
    domain = email.utils.parseaddr(smtp.sender)[1].rpartition("@")[2] or "dialogrum.invalid"
    created = row["created_at"]
    stamp = int(created.timestamp()) if isinstance(created, dt.datetime) else 0
    msg["Message-ID"] = f"<dialogrum.{row['id']}.{stamp}@{domain}>"
    # Machines answering on holiday leave such mail alone (RFC 3834).
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row["body"])
    # After set_content, which replaces every Content-* header.
    msg["Content-Language"] = row["language"]
    return msg


def deliver(msg: EmailMessage, smtp: SmtpSettings) -> None:
    """Hand one message to the SMTP server: TLS from the start (smtps) or STARTTLS when the URL
    says so, AUTH when it names a user, every step within the timeout. Raises on any refusal."""
    context = ssl.create_default_context()
    if smtp.ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        client.ehlo()
        if smtp.starttls:
            client.starttls(context=context)
            client.ehlo()
        if smtp.username:
            client.login(smtp.username, smtp.password or "")
        client.send_message(msg)
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _describe(exc: BaseException) -> str:
    """The error as the users page shows it: the server's code and words, or the connection's."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"[:500]
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}"[:500]
    if isinstance(exc, socket.timeout | TimeoutError):
        return "the SMTP server did not answer in time"
    return (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:500]


def _permanent(exc: BaseException) -> bool:
    # The server refuses this recipient for good (5xx): retrying would only be refused again.
    # Other 5xx answers (a wrong password, a sender not allowed) are fixed in the configuration
    # and then the retries deliver.
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in exc.recipients.values())
    return False


def _record(db: Database, mail_id: int, claim: str, error: BaseException | None, attempts: int) -> str:
    """Write down how an attempt went, only while this sender's claim holds. Sent: the body is
    emptied (it may carry a one-time link's secret, which the database otherwise keeps only as a
    hash). Failed: the error, and the next attempt or, past MAX_ATTEMPTS, `failed`."""
    now = utcnow()
    if error is None:
        values: dict[str, Any] = {"status": MailStatus.SENT, "sent_at": now, "body": "", "last_error": None}
        outcome = "sent"
    elif attempts >= MAX_ATTEMPTS or _permanent(error):
        values = {"status": MailStatus.FAILED, "last_error": _describe(error)}
        outcome = "failed"
    else:
        values = {"status": MailStatus.QUEUED, "last_error": _describe(error),
                  "next_attempt_at": now + backoff(attempts)}
        outcome = "retrying"
    with db.begin() as conn:
        conn.execute(sa.update(MailOutbox).where(MailOutbox.id == mail_id, MailOutbox.claim == claim,
                                                 MailOutbox.status == MailStatus.SENDING)
                     .values(claim=None, claimed_until=None, **values))
    return outcome


def send_pending(db: Database, smtp: SmtpSettings | None = None, *, limit: int = BATCH,
                 transport: Callable[[EmailMessage, SmtpSettings], None] = deliver) -> Round:
    """One round: claim the due mails one by one and send each, outside any transaction (an SMTP
    conversation never holds a database connection). Returns what happened. Without SMTP
    settings (mail not configured) nothing is claimed."""
    smtp = smtp or settings()
    done = Round()
    if smtp is None:
        return done
    with db.engine.connect() as conn:
        ids = list(conn.scalars(sa.select(MailOutbox.id).where(_due(utcnow()))
                                .order_by(MailOutbox.next_attempt_at, MailOutbox.id).limit(limit)))
    claim = secrets.token_hex(16)
    for mail_id in ids:
        row = _claim(db, mail_id, claim)
        if row is None:  # another sender took it
            continue
        error: BaseException | None = None
        try:
            transport(message_for(row, smtp), smtp)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            error = exc
            log.warning("e-mail %s (%s) not sent, attempt %s: %s", mail_id, row["kind"], row["attempts"],
                        _describe(exc))
        outcome = _record(db, mail_id, claim, error, row["attempts"])
        setattr(done, outcome, getattr(done, outcome) + 1)
    return done


def run_sender(app: Any, sleep: Callable[[float], None]) -> None:
    """A serving process's sender: a round whenever this process queued mail, and every
    POLL_SECONDS anyway. Runs as a background task of the server (`sleep` is its cooperative
    sleep); a failing round is logged and the next one retries."""
    from shared.db import get_db

    sleep(1)
    while True:
        try:
            with app.app_context():
                smtp = settings()
                while smtp is not None and sum(vars(send_pending(get_db(app), smtp)).values()) >= BATCH:
                    pass  # a full round: more may be due
        except Exception:  # the database or the configuration hiccuped; the next round retries
            log.exception("sending e-mail failed")
        _WAKE.wait(POLL_SECONDS)
        _WAKE.clear()


def wake() -> None:
    """Wake this process's sender now (after a commit that queued mail outside an ORM session)."""
    _WAKE.set()
