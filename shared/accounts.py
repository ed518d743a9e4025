"""Users, API tokens and one-time links: the account rules used by the CLI, the pages and the API."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets

import sqlalchemy as sa
import sqlalchemy.orm as so
from werkzeug.security import check_password_hash, generate_password_hash

from shared.errors import DialogrumError
from shared.ids import hash_token
from shared.models import ROLES, ApiToken, Language, OneTimeLink, User, utcnow
from shared.text import clean

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
LINK_LIFETIME = dt.timedelta(days=7)
LANGUAGES = tuple(language.value for language in Language)


def normalise_email(email: object) -> str:
    """Lower-case and strip an e-mail address, or refuse it."""
    if not isinstance(email, str) or not EMAIL_RE.match(email.strip()) or len(email) > 254:
        raise DialogrumError("invalid", "not a valid e-mail address")
    return email.strip().lower()


def check_password_rules(password: object) -> str:
    """Refuse passwords that are too short."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise DialogrumError("invalid", f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > 1000:
        raise DialogrumError("invalid", "the password is too long")
    return password


def create_user(db: so.Session, *, email: object, role: object, name: object = "",
                password: str | None = None) -> User:
    """Add a user; `password` None leaves the account waiting for a one-time link."""
    email = normalise_email(email)
    if role not in ROLES:
        raise DialogrumError("invalid", "role must be organiser or facilitator")
    if db.scalar(sa.select(User).where(User.email == email)) is not None:
        raise DialogrumError("conflict", f"a user with the e-mail {email} exists already")
    user = User(email=email, role=role, name=clean(name) if isinstance(name, str) else "")
    if password is not None:
        user.password_hash = generate_password_hash(check_password_rules(password))
    db.add(user)
    db.flush()
    return user


def find_user(db: so.Session, email: object) -> User | None:
    """The user with this e-mail address, if any."""
    try:
        email = normalise_email(email)
    except DialogrumError:
        return None
    return db.scalar(sa.select(User).where(User.email == email))


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """A hash made once per process with the same method and cost as real ones, to check against
    when there is no real one: an unknown e-mail then costs what a known one does."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash(secrets.token_urlsafe(16)))
    return _DUMMY_HASH[0]


def authenticate(db: so.Session, email: object, password: object) -> User | None:
    """The active user whose password this is; None otherwise (no hint which part was wrong).

    Every attempt costs exactly one password-hash computation of the same kind, whether the
    e-mail is unknown, deactivated, still without a password or real (issue 15, point 7), so
    timing does not tell which e-mails have accounts."""
    user = find_user(db, email)
    usable = user is not None and user.active and bool(user.password_hash)
    matches = check_password_hash(user.password_hash if usable else _dummy_hash(),
                                  password if isinstance(password, str) else "")
    return user if usable and matches else None


def create_token(db: so.Session, user: User, label: str = "") -> str:
    """A new API token for the user; only its hash is kept, so show it now or never."""
    token = "dlg_" + secrets.token_urlsafe(32)
    db.add(ApiToken(user_id=user.id, token_hash=hash_token(token), label=label[:200]))
    db.flush()
    return token


#: How often a token's last use is written down: a busy script must not write on every call.
LAST_USED_EVERY = dt.timedelta(minutes=1)


def token_for(db: so.Session, token: object) -> ApiToken | None:
    """The live token row behind a bearer token: not revoked, its owner active. Its last use is
    written down at most once a minute, and committed at once (this runs first in a request or a
    socket connect, before any work, so there is nothing else to commit)."""
    if not isinstance(token, str) or not 8 <= len(token) <= 200:
        return None
    row = db.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or row.last_used_at <= now - LAST_USED_EVERY:
        db.execute(sa.update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now)
                   .execution_options(synchronize_session=False))
        db.commit()
    return row


def user_for_token(db: so.Session, token: object) -> User | None:
    """The active user behind a live API token."""
    row = token_for(db, token)
    return row.user if row is not None else None


def list_tokens(db: so.Session, user_id: int | None = None) -> list[ApiToken]:
    """A user's tokens (or everybody's), live ones first, newest first; never the secret."""
    stmt = (sa.select(ApiToken).options(so.joinedload(ApiToken.user))
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc()))
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return list(db.scalars(stmt))


def find_token(db: so.Session, ref: object) -> ApiToken | None:
    """A token row by its id (`12`, `#12`) or by the token itself."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        return db.get(ApiToken, ref) if 0 < ref < 2**63 else None
    if not isinstance(ref, str) or not ref.strip() or len(ref) > 200:
        return None
    ref = ref.strip()
    digits = ref.removeprefix("#")
    if digits.isascii() and digits.isdigit():
        return find_token(db, int(digits))
    return db.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(ref)))


def revoke_token(db: so.Session, ref: object, *, actor: User | None = None) -> ApiToken:
    """Revoke a token (by id or by the token itself): it answers 401 from now on, on every
    process, and every process's hub closes the sockets opened with it within a few seconds.
    With an `actor`, only the owner or an organiser may (anybody else is told it does not exist)."""
    row = find_token(db, ref)
    if row is None or (actor is not None and not actor.is_organiser and row.user_id != actor.id):
        raise DialogrumError("not_found", "no such token")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.flush()
    return row


# -- sign-ins ----------------------------------------------------------------------------------


def end_sign_ins(db: so.Session, user_id: int) -> None:
    """End every sign-in of this user, on every process: the login cookies name the version they
    were made with, and the user loader accepts only the current one (issue 15, point 2)."""
    db.execute(sa.update(User).where(User.id == user_id)
               .values(session_version=User.session_version + 1)
               .execution_options(synchronize_session=False))
    db.expire_all()


def signed_in_user(db: so.Session, cookie_id: object) -> User | None:
    """The user a login cookie names (`<id>:<session version>`), while that sign-in holds: the
    user is active and no sign-out, new password or deactivation has come since."""
    if not isinstance(cookie_id, str):
        return None
    user_id, _, version = cookie_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()) or len(cookie_id) > 40:
        return None
    user = db.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def set_active(db: so.Session, user: User, active: bool) -> User:
    """Deactivate or reactivate an account. Deactivating ends its sign-ins and voids its open
    password links (a reactivation brings back neither), and its tokens stop working while it is
    deactivated; every process's hub lets go of its sockets within a few seconds (issue 15,
    point 1; issue 12, defect 1)."""
    if user.active == active:
        return user
    user.active = active
    db.flush()
    if not active:
        void_links(db, user.id)
        end_sign_ins(db, user.id)
    return db.get(User, user.id)


# -- one-time links ----------------------------------------------------------------------------


def void_links(db: so.Session, user_id: int) -> int:
    """Make every open link of a user stop working now (a newer link, a deactivation)."""
    now = utcnow()
    result = db.execute(sa.update(OneTimeLink)
                        .where(OneTimeLink.user_id == user_id, OneTimeLink.used_at.is_(None),
                               OneTimeLink.expires_at > now)
                        .values(expires_at=now).execution_options(synchronize_session=False))
    db.expire_all()
    return result.rowcount or 0


def create_link(db: so.Session, user: User, purpose: str) -> str:
    """A one-time secret with which the user chooses a password (first run, invite, reset); the
    user's older links stop working, so only the newest one ever does."""
    void_links(db, user.id)
    secret = secrets.token_urlsafe(32)
    db.add(OneTimeLink(user_id=user.id, token_hash=hash_token(secret), purpose=purpose,
                       expires_at=utcnow() + LINK_LIFETIME))
    db.flush()
    return secret


def link_user(db: so.Session, secret: object) -> OneTimeLink | None:
    """The open link with this secret: unused, unexpired, and its user active. A first-run link
    is open only while nobody can sign in and only for the placeholder account it was made for."""
    if not isinstance(secret, str) or len(secret) > 200:
        return None
    link = db.scalar(sa.select(OneTimeLink).where(OneTimeLink.token_hash == hash_token(secret)))
    if link is None or link.used_at is not None or link.expires_at <= utcnow() or not link.user.active:
        return None
    if link.purpose == "first_run" and (somebody_can_sign_in(db) or not _is_placeholder(link.user)):
        return None
    return link


def use_link(db: so.Session, secret: object, password: object, *, email: object = None,
             name: object = None, language: object = None) -> User:
    """Set the password through a one-time link and spend the link. Spending is one guarded
    UPDATE, so two requests racing with the same link cannot both set a password. The user's
    sign-ins made before end; the link never changes whether the account is active.

    A first-run link also takes the first organiser's e-mail (and name): it turns the placeholder
    account into theirs, and never touches an account that exists (issue 15, point 9a).

    `language` is the page language the password was chosen in: a user with no language of their
    e-mails yet gets it, so later mails (a reset, a campaign reminder) come in the language they read."""
    link = link_user(db, secret)
    if link is None:
        raise DialogrumError("not_found", "this link has expired or has been used")
    first_run = link.purpose == "first_run"
    if first_run:
        email = normalise_email(email)
        if find_user(db, email) is not None:
            raise DialogrumError("conflict", "a user with this e-mail exists already")
    password_hash = generate_password_hash(check_password_rules(password))
    now = utcnow()
    spent = db.execute(sa.update(OneTimeLink)
                       .where(OneTimeLink.id == link.id, OneTimeLink.used_at.is_(None),
                              OneTimeLink.expires_at > now)
                       .values(used_at=now).execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        raise DialogrumError("not_found", "this link has expired or has been used")
    user_id = link.user_id
    if first_run:
        # Guarded too: only the placeholder, only while it has no password, only while nobody
        # else has one (the check above ran before this transaction wrote anything).
        claimed = db.execute(sa.update(User)
                             .where(User.id == user_id, User.password_hash.is_(None), User.email == PLACEHOLDER_EMAIL,
                                    ~sa.exists().where(User.password_hash.is_not(None)))
                             .values(email=email, password_hash=password_hash,
                                     name=clean(name)[:200] if isinstance(name, str) else "")
                             .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            raise DialogrumError("not_found", "this link has expired or has been used")
    else:
        db.execute(sa.update(User).where(User.id == user_id).values(password_hash=password_hash)
                   .execution_options(synchronize_session=False))
    if language in LANGUAGES:
        db.execute(sa.update(User).where(User.id == user_id, User.language.is_(None)).values(language=language)
                   .execution_options(synchronize_session=False))
    void_links(db, user_id)
    end_sign_ins(db, user_id)
    return db.get(User, user_id)


#: The account a first-run link sets up; it becomes the first organiser's when the link is used.
PLACEHOLDER_EMAIL = "organiser@dialogrum.invalid"


def _is_placeholder(user: User) -> bool:
    return user.email == PLACEHOLDER_EMAIL and user.password_hash is None and user.role == "organiser"


def somebody_can_sign_in(db: so.Session) -> bool:
    """Some user has chosen a password: first-run links no longer work, and none are made."""
    return db.scalar(sa.select(sa.exists().where(User.password_hash.is_not(None)))) or False


def _first_run_secret(key: str, link_id: int) -> str:
    # Every process of a deployment shares the secret key, so each computes the same link for
    # the same row: one link, whichever process prints it (issue 15, point 9a).
    digest = hmac.new(key.encode(), f"dialogrum first-run link {link_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def first_run_link(db: so.Session, key: str | None = None) -> str | None:
    """While nobody can sign in yet: the one first-run link, made once for a placeholder account
    and printed alike by every process with the deployment's secret `key` (default: the app's).
    None once somebody can sign in. Made anew (voiding the old one) only when the open one was
    made with another key or has expired."""
    if somebody_can_sign_in(db):
        # The placeholder is nobody now: it goes, with its dead link (it owns nothing else).
        db.execute(sa.delete(OneTimeLink).where(OneTimeLink.user_id.in_(
            sa.select(User.id).where(User.email == PLACEHOLDER_EMAIL, User.password_hash.is_(None)))))
        db.execute(sa.delete(User).where(User.email == PLACEHOLDER_EMAIL, User.password_hash.is_(None)))
        return None
    if key is None:
        from flask import current_app

        key = current_app.config["SECRET_KEY"]
    user = db.scalar(sa.select(User).where(User.email == PLACEHOLDER_EMAIL))
    if user is None:
        user = create_user(db, email=PLACEHOLDER_EMAIL, role="organiser", name="Organiser")
    open_link = db.scalar(sa.select(OneTimeLink).where(
        OneTimeLink.user_id == user.id, OneTimeLink.purpose == "first_run", OneTimeLink.used_at.is_(None),
        OneTimeLink.expires_at > utcnow()).order_by(OneTimeLink.id.desc()).limit(1))
    if open_link is not None and open_link.token_hash == hash_token(_first_run_secret(key, open_link.id)):
        return _first_run_secret(key, open_link.id)
    void_links(db, user.id)
    link = OneTimeLink(user_id=user.id, token_hash=hash_token(secrets.token_urlsafe(32)), purpose="first_run",
                       expires_at=utcnow() + LINK_LIFETIME)
    db.add(link)
    db.flush()
    secret = _first_run_secret(key, link.id)
    link.token_hash = hash_token(secret)
    db.flush()
    return secret
