"""How many password attempts the sign-in page takes, and from whom (issue 15, point 6).

The choice, documented in docs/security.md#the-login-limit: guessing is slowed per client address
and per account, and the account's budget cannot be spent by a stranger to lock its owner out,
because a browser the account signed in on before (it holds a signed *device cookie* naming the
account, OWASP's "device cookies") has a budget of its own. So:

* one client address: 30 attempts a minute, whatever the accounts (spraying many accounts);
* one account, from browsers it never signed in on: 10 a minute and 50 an hour, from anywhere
  together (slow, distributed guessing of one password);
* one account from one browser it signed in on before: 10 a minute for that browser alone, never
  touched by anybody else's attempts.

The e-mail is normalised once (trimmed, lower case) before it is counted or looked up, so
" Org@X.org" is the same budget as "org@x.org". The limits live in the rate limiter's storage
(Redis with several processes), so they hold across processes.
"""

from __future__ import annotations

import hashlib
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse

ADDRESS_LIMIT = parse("30/minute")
ACCOUNT_LIMITS = (parse("10/minute"), parse("50/hour"))
DEVICE_LIMIT = parse("10/minute")

#: The device cookie: which account signed in on this browser (a fingerprint of its e-mail, not
#: the e-mail) and a random name for the browser. Signed with the secret key; kept half a year.
DEVICE_COOKIE = "dialogrum_device"
DEVICE_MAX_AGE = 180 * 24 * 3600
_SALT = "dialogrum device cookie"


def email_key(email: object) -> str:
    """The e-mail as counted and looked up: trimmed and lower-cased, once."""
    return email.strip().lower()[:254] if isinstance(email, str) else ""


def _account(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:24]


def device_cookie(secret_key: str, email: str) -> str:
    """A new device cookie's value for the account that just signed in on this browser."""
    return URLSafeTimedSerializer(secret_key, salt=_SALT).dumps({"a": _account(email), "n": secrets.token_hex(12)})


def known_device(secret_key: str, cookie: object, email: str) -> str | None:
    """The browser's name when its device cookie is valid and names this account, else None."""
    if not isinstance(cookie, str) or not cookie or len(cookie) > 500:
        return None
    try:
        data = URLSafeTimedSerializer(secret_key, salt=_SALT).loads(cookie, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") != _account(email) or not isinstance(data.get("n"), str):
        return None
    return data["n"]


def may_try(limiter, *, address: str, email: str, device: str | None) -> bool:
    """Count one attempt; False when a limit says wait (then nothing is checked)."""
    if not limiter.hit(ADDRESS_LIMIT, "login-address", address):
        return False
    if device is not None:
        return limiter.hit(DEVICE_LIMIT, "login-device", device)
    return all(limiter.hit(limit, "login-account", _account(email)) for limit in ACCOUNT_LIMITS)
