"""Passwords (argon2), signed-cookie sessions that expire, CSRF tokens and the login throttle.

A session is a cookie holding ``{"uid", "csrf"}`` signed and timestamped with itsdangerous; it is
refused once older than ``web.session_max_age_s`` and when the user is gone or inactive. The CSRF
token is per session and must come back in every POST form (``csrf`` field); it is compared in
constant time. The throttle counts failed logins per name and per client address, in memory: a
process restart forgets them (one process serves the workspace).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "claimwatch_session"
_hasher = PasswordHasher()
# A hash to verify against when the name is unknown, so both cases take the same time.
_DUMMY = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("a password needs at least 8 characters")
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class SessionData:
    user_id: int
    csrf: str


class Sessions:
    """Signs and reads session cookies."""

    def __init__(self, secret_key: str, max_age_s: int) -> None:
        if len(secret_key) < 32:
            raise ValueError("the secret key must be at least 32 characters")
        self._serializer = URLSafeTimedSerializer(secret_key, salt="claimwatch-session")
        self.max_age_s = max_age_s

    def issue(self, user_id: int) -> tuple[str, SessionData]:
        data = SessionData(user_id, secrets.token_urlsafe(32))
        return self._serializer.dumps({"uid": user_id, "csrf": data.csrf}), data

    def read(self, cookie: str | None) -> SessionData | None:
        if not cookie:
            return None
        try:
            payload: Any = self._serializer.loads(cookie, max_age=self.max_age_s)
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(payload, dict):
            return None
        uid, csrf = payload.get("uid"), payload.get("csrf")
        if not isinstance(uid, int) or not isinstance(csrf, str):
            return None
        return SessionData(uid, csrf)


def csrf_ok(expected: str, given: object) -> bool:
    return isinstance(given, str) and bool(given) and hmac.compare_digest(expected, given)


class Throttle:
    """At most ``attempts`` failed logins per key within ``window_s`` seconds."""

    def __init__(self, attempts: int, window_s: float, clock: Any = time.monotonic) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        now = self._clock()
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        with self._lock:
            return any(len(self._recent(key)) >= self.attempts for key in keys)

    def fail(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._recent(key).append(self._clock())

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
