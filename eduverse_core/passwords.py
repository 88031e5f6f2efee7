"""Password hashing: scrypt for new hashes; legacy forms verified, then replaced.

Format: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``. The original system stored
Werkzeug-style ``pbkdf2:sha256:<iterations>$<salt>$<hex>`` hashes and, for some accounts, plain
text (imported as ``plain$<password>``). Both verify once and are re-hashed on that log-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCRYPT_N = 2**14  # ~16 MiB, ~50 ms here: slow for attackers, fine for a log-in
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """A fresh scrypt hash of ``password`` with a random salt."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (any supported form), in constant time."""
    try:
        if stored.startswith("scrypt$"):
            _, n, r, p, salt, digest = stored.split("$")
            actual = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
            return hmac.compare_digest(actual, _unb64(digest))
        if stored.startswith("pbkdf2:"):
            method, salt, hexdigest = stored.split("$", 2)
            parts = method.split(":")
            algorithm = parts[1]
            iterations = int(parts[2]) if len(parts) > 2 else 260000
            actual = hashlib.pbkdf2_hmac(algorithm, password.encode(), salt.encode(), iterations)
            return hmac.compare_digest(actual.hex(), hexdigest)
        if stored.startswith("plain$"):
            return hmac.compare_digest(password.encode(), stored[len("plain$") :].encode())
    except (ValueError, TypeError):
        return False
    return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` is a legacy or weaker form that should be replaced after log-in."""
    if not stored.startswith("scrypt$"):
        return True
    try:
        _, n, r, p, *_ = stored.split("$")
        return (int(n), int(r), int(p)) != (SCRYPT_N, SCRYPT_R, SCRYPT_P)
    except ValueError:
        return True


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
