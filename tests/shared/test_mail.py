"""E-mail through SMTP (issue 12, gap 9), against a real SMTP server on loopback (aiosmtpd): an
invitation arrives in the recipient's language with a working link, a server that refuses leaves
the mail to be retried and shown, a later attempt delivers it, and two senders racing send each
mail once (the claim rule, on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import itertools
import re
import subprocess
import threading
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from shared import mail
from shared.db import Database, get_db
from shared.models import MailOutbox, MailStatus, User, utcnow
from tests.conftest import ServerProcess, free_port

LINK_RE = re.compile(r"http://dialogrum\.test(/setup/\S+)")


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts (and can refuse recipients)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()  # for good (550)
        self.busy: set[str] = set()  # for now (451)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        if address in self.busy:
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(msg)
        return "250 Message accepted for delivery"


class SmtpServer:
    """A running aiosmtpd on 127.0.0.1; `url` is what DIALOGRUM_SMTP_URL would say."""

    def __init__(self, port: int | None = None, **kwargs) -> None:
        self.inbox = Inbox()
        self.port = port or free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **kwargs)
        self.url = f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def _mails(app) -> list[MailOutbox]:
    with app.app_context():
        db = get_db().session
        rows = list(db.scalars(sa.select(MailOutbox).order_by(MailOutbox.id)))
        db.expunge_all()
        db.remove()
        return rows


def _send(app) -> mail.Round:
    with app.app_context():
        return mail.send_pending(get_db(app))


def _invite(client, csrf, *, email: str, language: str, name: str = "Mette", lang: str = "en"):
    page = client.get(f"/users?lang={lang}")
    return client.post("/users", data={"csrf_token": csrf(page.text), "email": email, "name": name,
                                       "role": "facilitator", "language": language})


# -- configuration -----------------------------------------------------------------------------


def test_the_smtp_url_says_where_how_and_as_whom():
    plain = mail.parse_url("smtp://127.0.0.1:2525")
    assert (plain.host, plain.port, plain.ssl, plain.starttls, plain.username) == ("127.0.0.1", 2525, False, False,
                                                                                     None)
    sub = mail.parse_url("smtp://dialog%40hgf.se:p%40ss@mail.hgf.se?starttls=1", "Dialog <dialog@hgf.se>")
    assert (sub.port, sub.starttls, sub.username, sub.password, sub.sender) == (
        587, True, "dialog@hgf.se", "p@ss", "Dialog <dialog@hgf.se>")
    assert "p@ss" not in repr(sub)
    tls = mail.parse_url("smtps://mail.example.org")
    assert (tls.port, tls.ssl) == (465, True)
    for bad in ("http://mail.example.org", "smtp://", "smtps://h?starttls=1", "smtp://h?tls=1", "smtp://h:x"):
        with pytest.raises(ValueError, match="DIALOGRUM_SMTP_URL"):
            mail.parse_url(bad)


def test_a_mistake_in_the_smtp_url_stops_the_start_with_one_line(monkeypatch):
    from shared.config import from_environment

    monkeypatch.setenv("DIALOGRUM_SMTP_URL", "smtp://mail.example.org?startls=1")
    with pytest.raises(SystemExit, match="unknown option"):
        from_environment()


# -- the outbox rule: a mail exists exactly when its change committed ---------------------------


def test_a_mail_is_queued_in_the_callers_transaction(app, make):
    user = make.user("facilitator")
    with app.app_context():
        db = get_db().session
        kept = mail.queue(db, to=user.email, lang="da", subject="Kept", body="Hej", kind="test", user_id=user.id)
        assert kept in db()  # the request's session holds it: this process's sender wakes after the commit
        db.commit()
        mail.queue(db, to=user.email, lang="da", subject="Rolled\nback", body="Hej", kind="test")
        db.rollback()
        with pytest.raises(mail.DialogrumError):
            mail.queue(db, to="not an address", lang="da", subject="x", body="y", kind="test")
        with pytest.raises(mail.DialogrumError):
            mail.queue(db, to=user.email, lang="de", subject="x", body="y", kind="test")
        db.rollback()
        db.remove()
    rows = _mails(app)
    assert [(r.subject, r.status, r.user_id) for r in rows] == [("Kept", MailStatus.QUEUED, user.id)]


def test_a_unit_of_works_connection_queues_too_and_wakes_the_sender_after_its_commit(app):
    from shared.uow import unit_of_work

    mail._WAKE.clear()
    with app.app_context():
        with unit_of_work(get_db()) as work:
            row = mail.queue(work.conn, to="kim@example.org", lang="sv", subject="Påminnelse", body="Text",
                             kind="reminder")
            assert not mail._WAKE.is_set()  # not before the commit
        assert mail._WAKE.is_set()
    assert [(r.id, r.kind) for r in _mails(app)] == [(row.id, "reminder")]


def test_a_subject_cannot_add_headers(app, smtp):
    app.config["SMTP_URL"] = smtp.url
    with app.app_context():
        db = get_db().session
        mail.queue(db, to="kim@example.org", lang="sv", subject="Hej\r\nBcc: everyone@example.org", body="Text",
                   kind="test")
        db.commit()
        db.remove()
    assert _send(app).sent == 1
    (msg,) = smtp.messages
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Hej Bcc: everyone@example.org"


# -- invitations and password links ------------------------------------------------------------


def test_an_invitation_arrives_in_danish_with_a_working_link(app, client, login, make, csrf, smtp):
    app.config["SMTP_URL"] = smtp.url
    app.config["MAIL_FROM"] = "Dialogrum <dialog@hgf.test>"
    boss = make.user("organiser")
    login(boss)
    # The organiser reads the page in Swedish; the facilitator gets Danish.
    resp = _invite(client, csrf, email="mette@example.dk", language="da", name="Mette", lang="sv")
    assert resp.status_code == 200
    assert "på väg till mette@example.dk (Dansk)" in resp.text
    shown = re.search(r'readonly value="http://dialogrum.test(/setup/[^"]+)"', resp.text).group(1)
    assert _send(app).sent == 1
    (msg,) = smtp.messages
    assert msg["To"] == "mette@example.dk"
    assert msg["From"] == "Dialogrum <dialog@hgf.test>"
    assert msg["Subject"] == "Invitation til Dialogrum"
    assert msg["Content-Language"] == "da"
    body = msg.get_content()
    assert "Hej Mette," in body and "har inviteret dig til Dialogrum" in body and "7 dage" in body
    path = LINK_RE.search(body).group(1)
    assert path == shown
    # The link works: the facilitator chooses a password with it and is signed in.
    stranger = app.test_client()
    page = stranger.get(path)
    assert page.status_code == 200
    done = stranger.post(path, data={"csrf_token": csrf(page.text), "password": "a new password",
                                     "confirm": "a new password"})
    assert done.status_code == 302
    assert stranger.get("/sessions").status_code == 200
    # Sent: the row keeps no copy of the secret, and the users page says it went out.
    (row,) = _mails(app)
    assert (row.status, row.body, row.language, row.kind) == (MailStatus.SENT, "", "da", "invite")
    assert "E-post skickad" in client.get("/users?lang=sv").text
    with app.app_context():
        assert get_db().session.scalar(sa.select(User.language).where(User.email == "mette@example.dk")) == "da"
        get_db().session.remove()


def test_a_password_link_goes_in_the_users_language_else_the_organisers(app, client, login, make, csrf, smtp):
    app.config["SMTP_URL"] = smtp.url
    boss = make.user("organiser")
    nobody_said = make.user("facilitator")  # no language stored
    login(boss)
    page = client.get("/users?lang=sv")
    assert client.post(f"/users/{nobody_said.id}/reset", data={"csrf_token": csrf(page.text)}).status_code == 200
    assert _send(app).sent == 1
    assert smtp.messages[0]["Subject"] == "Välj ett nytt lösenord till Dialogrum"
    assert "Ditt gamla lösenord fungerar" in smtp.messages[0].get_content()


def test_a_user_without_a_language_gets_the_one_they_chose_their_password_in(app, client, login, make, csrf):
    boss = make.user("organiser")
    fac = make.user("facilitator")  # made without a language, as every user before e-mail was
    login(boss)
    page = client.get("/users")
    path = re.search(r'readonly value="http://dialogrum.test(/setup/[^"]+)"',
                     client.post(f"/users/{fac.id}/reset", data={"csrf_token": csrf(page.text)}).text).group(1)
    newcomer = app.test_client()
    form = newcomer.get(path + "?lang=da")
    assert newcomer.post(path, data={"csrf_token": csrf(form.text), "password": "a new password",
                                     "confirm": "a new password"}).status_code == 302
    with app.app_context():
        db = get_db().session
        assert db.get(User, fac.id).language == "da"
        # A stored language is theirs: choosing a password in another language does not change it.
        from shared import accounts

        secret = accounts.create_link(db, db.get(User, fac.id), "reset")
        accounts.use_link(db, secret, "another password", language="sv")
        db.commit()
        assert db.get(User, fac.id).language == "da"
        db.remove()


def test_without_smtp_nothing_is_queued_and_the_link_is_shown(app, client, login, make, csrf):
    boss = make.user("organiser")
    login(boss)
    resp = _invite(client, csrf, email="kim@example.org", language="sv", lang="da")
    assert resp.status_code == 200
    assert "/setup/" in resp.text and "Dialogrum sender ingen e-mail" in resp.text
    assert _mails(app) == []


def test_a_refusing_server_leaves_the_mail_to_retry_shown_and_a_later_attempt_delivers(
        app, client, login, make, csrf):
    closed = free_port()  # nothing listens here yet
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{closed}?timeout=5"
    boss = make.user("organiser")
    login(boss)
    _invite(client, csrf, email="mette@example.dk", language="da", lang="da")
    assert vars(_send(app)) == {"sent": 0, "retrying": 1, "failed": 0}
    (row,) = _mails(app)
    assert row.status == MailStatus.QUEUED and row.attempts == 1 and row.last_error
    assert row.next_attempt_at > utcnow()
    assert "Hej Mette," in row.body  # kept for the next attempt
    page = client.get("/users?lang=da").text
    assert "E-mailen er ikke kommet frem endnu (forsøg 1:" in page
    assert "Send igen" in page
    # Not due yet: another round leaves it alone.
    assert vars(_send(app)) == {"sent": 0, "retrying": 0, "failed": 0}
    # The server comes up on that port; the organiser presses "send again" and it goes out.
    server = SmtpServer(port=closed).start()
    try:
        mail_again = client.post(f"/users/{row.user_id}/mail/{row.id}/again", data={"csrf_token": csrf(page)})
        assert mail_again.status_code == 302
        assert _send(app).sent == 1
        assert [m["Subject"] for m in server.messages] == ["Invitation til Dialogrum"]
    finally:
        server.stop()
    assert "E-mail sendt" in client.get("/users?lang=da").text


def test_after_the_last_attempt_the_mail_is_failed_and_shown_never_dropped(app, client, login, make, csrf, smtp):
    app.config["SMTP_URL"] = smtp.url
    smtp.inbox.refuse.add("gone@example.org")
    boss = make.user("organiser")
    login(boss)
    _invite(client, csrf, email="gone@example.org", language="sv", lang="sv")
    # The server refuses the recipient for good: no point retrying that.
    assert vars(_send(app)) == {"sent": 0, "retrying": 0, "failed": 1}
    (row,) = _mails(app)
    assert row.status == MailStatus.FAILED and row.last_error.startswith("550")
    page = client.get("/users?lang=sv").text
    assert "E-posten kom inte fram efter 1 försök: 550 5.1.1 No such mailbox here" in page
    assert "Skicka igen" in page


def test_temporary_failures_are_retried_with_backoff_until_failed(app, make):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}?timeout=5"
    user = make.user("facilitator")
    with app.app_context():
        db = get_db().session
        mail.queue(db, to=user.email, lang="en", subject="Hi", body="Text", kind="test", user_id=user.id)
        db.commit()
        db.remove()
    waits = []
    for attempt in range(1, mail.MAX_ATTEMPTS + 1):
        done = _send(app)
        (row,) = _mails(app)
        assert row.attempts == attempt
        if attempt < mail.MAX_ATTEMPTS:
            assert vars(done)["retrying"] == 1 and row.status == MailStatus.QUEUED
            waits.append(row.next_attempt_at - utcnow())
            with app.app_context(), get_db().begin() as conn:  # time passes
                conn.execute(sa.update(MailOutbox).values(next_attempt_at=utcnow()))
        else:
            assert vars(done)["failed"] == 1 and row.status == MailStatus.FAILED
    assert all(later > earlier for earlier, later in itertools.pairwise(waits))


# -- the claim rule: two senders, each mail once (SQLite and PostgreSQL) ------------------------


def test_two_senders_racing_send_each_mail_once(app, db_url, smtp):
    app.config["SMTP_URL"] = smtp.url
    with app.app_context():
        db = get_db().session
        for n in range(12):
            mail.queue(db, to=f"p{n}@example.org", lang="sv", subject=f"Mail {n}", body="Text", kind="test")
        db.commit()
        db.remove()
        smtp_settings = mail.settings()
    # Two processes' worth: each sender with an engine (a pool) of its own.
    senders = [Database(app.config["DATABASE_URL"]) for _ in range(2)]
    start = threading.Barrier(2)
    rounds: list[mail.Round] = []

    def send(database: Database) -> None:
        start.wait()
        rounds.append(mail.send_pending(database, smtp_settings))

    threads = [threading.Thread(target=send, args=(d,)) for d in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for d in senders:
        d.dispose()
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert subjects == sorted(f"Mail {n}" for n in range(12))
    assert sum(r.sent for r in rounds) == 12
    assert {r.status for r in _mails(app)} == {MailStatus.SENT}


def test_a_claimed_mail_is_nobody_elses_until_the_claim_runs_out(app, db_url):
    with app.app_context():
        db = get_db().session
        row = mail.queue(db, to="kim@example.org", lang="da", subject="Hej", body="Text", kind="test")
        db.commit()
        mail_id = row.id
        db.remove()
        database = get_db(app)
        assert mail._claim(database, mail_id, "first") is not None
        assert mail._claim(database, mail_id, "second") is None
        # The first sender died mid-send: once its claim has run out, another takes the mail.
        with database.begin() as conn:
            conn.execute(sa.update(MailOutbox).values(claimed_until=utcnow() - dt.timedelta(seconds=1)))
        taken = mail._claim(database, mail_id, "second")
        assert taken is not None and taken["attempts"] == 2
        # The dead sender's late report changes nothing: the row is the second sender's now.
        assert mail._record(database, mail_id, "first", None, 1) == "sent"
        (after,) = _mails(app)
        assert (after.status, after.claim) == (MailStatus.SENDING, "second")


# -- TLS, authentication, the CLI and a serving process ----------------------------------------


def _self_signed(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return key, cert


def test_starttls_and_authentication(app, make, tmp_path, monkeypatch):
    import ssl

    key, cert = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"dialog" and auth_data.password == b"s3cret")

    server = SmtpServer(tls_context=context, require_starttls=True, authenticator=authenticator,
                        auth_require_tls=True).start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test's own certificate
    try:
        user = make.user("facilitator")
        with app.app_context():
            db = get_db().session
            mail.queue(db, to=user.email, lang="sv", subject="Hej", body="Text", kind="test")
            db.commit()
            db.remove()
        # Without STARTTLS the server (which requires it) refuses: retried later, not lost.
        app.config["SMTP_URL"] = f"smtp://dialog:s3cret@127.0.0.1:{server.port}?timeout=5"
        assert _send(app).retrying == 1
        assert "AUTH extension not supported" in _mails(app)[0].last_error
        app.config["SMTP_URL"] = f"smtp://dialog:s3cret@127.0.0.1:{server.port}?starttls=1&timeout=5"
        with app.app_context(), get_db().begin() as conn:
            conn.execute(sa.update(MailOutbox).values(next_attempt_at=utcnow()))
        assert _send(app).sent == 1
        assert [m["Subject"] for m in server.messages] == ["Hej"]
        assert logins[-1] == (b"dialog", b"s3cret")
    finally:
        server.stop()


def test_the_cli_sends_what_is_due_and_says_so(tmp_path, smtp):
    srv = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")
    srv.cli("db", "upgrade")
    off = srv.cli("mail", "send-pending", check=False)
    assert off.returncode == 1 and "DIALOGRUM_SMTP_URL" in off.stderr
    engine = sa.create_engine(srv.database_url)
    with engine.begin() as conn:
        mail.queue(conn, to="kim@example.org", lang="da", subject="Fra cron", body="Text", kind="test")
    engine.dispose()
    srv.extra_env["DIALOGRUM_SMTP_URL"] = smtp.url
    result = srv.cli("mail", "send-pending")
    assert result.stdout.strip() == "1 sent, 0 to be retried, 0 failed"
    assert [m["Subject"] for m in smtp.messages] == ["Fra cron"]
    assert "\tsent\t1\ttest\tkim@example.org" in srv.cli("mail", "list").stdout


def test_a_serving_process_sends_an_invitation_after_its_commit(tmp_path, smtp):
    import requests

    srv = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}",
                        env={"DIALOGRUM_SMTP_URL": smtp.url, "DIALOGRUM_MAIL_FROM": "dialog@hgf.test"}).start()
    try:
        srv.cli("user", "create", "--email", "boss@example.org", "--role", "organiser", stdin="correct horse\n")
        web = requests.Session()
        token = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
        page = web.get(srv.url + "/login")
        web.post(srv.url + "/login", data={"csrf_token": token.search(page.text).group(1),
                                           "email": "boss@example.org", "password": "correct horse"})
        page = web.get(srv.url + "/users?lang=da")
        resp = web.post(srv.url + "/users", data={"csrf_token": token.search(page.text).group(1),
                                                  "email": "mette@example.dk", "name": "Mette",
                                                  "role": "facilitator", "language": "da"})
        assert resp.status_code == 200
        # The process's sender wakes after the commit; waiting for the message is not a timing claim.
        for _ in range(300):
            if smtp.messages:
                break
            threading.Event().wait(0.1)
        assert len(smtp.messages) == 1, srv.log.read_text()
        msg = smtp.messages[0]
        assert msg["Subject"] == "Invitation til Dialogrum"
        assert f"{srv.url}/setup/" in msg.get_content()
    finally:
        srv.stop()
