"""Auth tokens: signed, expiring, stateless — any instance with the same secret accepts them —
and revocable (logout) through a small revocation list in storage. Failed log-ins are
rate-limited per account and per client address, with the counts in storage so the limit holds
across instances.

Token format: ``v1.<payload>.<signature>``, base64url; the payload is JSON
``{"sub": user id, "ver": token_version, "iat": issued, "exp": expires, "jti": token id}`` and the
signature is HMAC-SHA256 over ``v1.<payload>`` with ``settings.secret_key``. A password change
bumps the user's ``token_version``, which kills every older token at once.
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import AuthenticationFailed, RateLimited
from ..models import User, utcnow
from .base import Service

if TYPE_CHECKING:
    from ..engine import Eduverse

_VERSION = "v1"


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says."""

    user_id: str
    token_version: int
    token_id: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Session:
    """A fresh log-in: the token to send as ``Authorization: Bearer …`` and who it is for."""

    token: str
    user: User
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionService(Service):
    """Issuing, checking and revoking tokens; rate-limited log-in."""

    def __init__(self, eduverse: Eduverse) -> None:
        super().__init__(eduverse)
        # A token's signature and payload never change, so each process verifies a token
        # once (HMAC, base64, JSON: ~30 µs, a tenth of a small authenticated request's own
        # work). Expiry, revocation and the user's token version are still checked on every
        # call; an invalid token raises, and lru_cache does not cache exceptions.
        self._verified = functools.lru_cache(maxsize=4096)(self._verify)

    def _sign(self, message: str) -> str:
        key = self.ev.settings.secret_key.encode()
        return _b64(hmac.digest(key, message.encode(), "sha256"))

    def issue(self, user: User, now: datetime | None = None) -> Session:
        """A new token for ``user``."""
        issued = now or utcnow()
        expires = issued + timedelta(seconds=self.ev.settings.token_ttl_seconds)
        payload: dict[str, Any] = {
            "sub": user.id,
            "ver": user.token_version,
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": secrets.token_urlsafe(12),
        }
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        signed = f"{_VERSION}.{body}"
        return Session(f"{signed}.{self._sign(signed)}", user, expires)

    def claims(self, token: str, now: datetime | None = None) -> TokenClaims:
        """Check signature and expiry (not revocation); ``AuthenticationFailed`` otherwise."""
        claims = self._verified(token)
        if (now or utcnow()) >= claims.expires_at:
            raise AuthenticationFailed("the token has expired; log in again", code="token_expired")
        return claims

    def _verify(self, token: str) -> TokenClaims:
        """The claims of a token signed with our key; ``AuthenticationFailed`` otherwise."""
        try:
            version, body, signature = token.split(".")
        except ValueError:
            raise AuthenticationFailed("malformed token", code="invalid_token") from None
        expected = self._sign(f"{version}.{body}")
        if version != _VERSION or not hmac.compare_digest(signature, expected):
            raise AuthenticationFailed("invalid token", code="invalid_token")
        try:
            data = json.loads(_unb64(body))
            claims = TokenClaims(
                user_id=str(data["sub"]),
                token_version=int(data["ver"]),
                token_id=str(data["jti"]),
                issued_at=datetime.fromtimestamp(int(data["iat"]), UTC),
                expires_at=datetime.fromtimestamp(int(data["exp"]), UTC),
            )
        except (ValueError, KeyError, TypeError):
            raise AuthenticationFailed("invalid token", code="invalid_token") from None
        return claims

    def resolve(self, token: str, now: datetime | None = None) -> User:
        """The user a token belongs to, if it is valid, unexpired, unrevoked and current."""
        claims = self.claims(token, now)
        if self.storage.is_token_revoked(claims.token_id):
            raise AuthenticationFailed("the token was revoked; log in again", code="token_revoked")
        user = self.storage.get_user(claims.user_id)
        if user is None or user.token_version != claims.token_version:
            raise AuthenticationFailed("the token is no longer valid", code="token_revoked")
        return user

    def revoke(self, token: str) -> None:
        """Log out: the token stops working on every instance."""
        claims = self.claims(token)
        self.storage.revoke_token(claims.token_id, claims.expires_at)

    def log_in(
        self, email: str, password: str, client: str, now: datetime | None = None
    ) -> Session:
        """Check credentials unless this account or address failed too often recently."""
        now = now or utcnow()
        settings = self.ev.settings
        window, limit = settings.login_window_seconds, settings.login_attempt_limit
        keys = [f"login:account:{email.strip().lower()}", f"login:address:{client}"]
        if any(self.storage.peek_rate_limit(k, window, now) >= limit for k in keys):
            retry_after = window - int(now.timestamp()) % window
            raise RateLimited(
                f"too many failed log-ins; try again in {retry_after} seconds",
                retry_after=retry_after,
                code="too_many_attempts",
            )
        try:
            user = self.ev.accounts.log_in(email, password)
        except AuthenticationFailed:
            for key in keys:
                self.storage.hit_rate_limit(key, window, now)
            raise
        return self.issue(user, now)
