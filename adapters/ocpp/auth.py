"""HTTP Basic auth of chargers (OCPP security profile 1) against stored password hashes.

Hashes are scrypt (stdlib) as `scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`. Verifying costs
tens of milliseconds by design, so it runs off the event loop, and a password once
verified is remembered by its SHA-256 for the life of the process: a reconnect or a boot
storm of known chargers does not pay scrypt again.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os

_N, _R, _P = 2**14, 8, 1
_PREFIX = "scrypt$"


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return "$".join(("scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)))


def is_password_hash(text: str) -> bool:
    return text.startswith(_PREFIX) and text.count("$") == 5


def verify_password(password: str, encoded: str) -> bool:
    try:
        _, n, r, p, salt, expected = encoded.split("$")
        digest = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class PasswordChecker:
    """Verifies passwords, remembering the ones already verified against a given hash."""

    def __init__(self) -> None:
        self._verified: dict[str, bytes] = {}

    async def check(self, password: str, encoded: str) -> bool:
        quick = hashlib.sha256(password.encode()).digest()
        known = self._verified.get(encoded)
        if known is not None:
            return hmac.compare_digest(known, quick)
        if not await asyncio.to_thread(verify_password, password, encoded):
            return False
        self._verified[encoded] = quick
        return True
