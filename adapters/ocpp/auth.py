"""HTTP Basic auth of chargers (OCPP security profile 1) against stored password hashes.

Hashes are scrypt (stdlib) as `scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`. Verifying costs
tens of milliseconds of CPU by design, and anyone who can reach the port can make us pay it.
So that the network cannot starve the control loop:

- verification runs on a small pool of its own (`ems-auth` threads), never on the loop's
  default executor, which the control step uses; one thread leaves the other cores of a
  small box to the controller, however many handshakes are queued;
- a password once verified is remembered by its SHA-256 for the life of the process: a
  reconnect or a boot storm of known chargers does not pay scrypt again;
- `LoginThrottle` refuses an address at once (HTTP 429) once it has failed too often.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import math
import os
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

AUTH_THREADS = 1
"""Size of the verification pool."""
MAX_ADDRESSES = 10_000
"""Addresses `LoginThrottle` remembers; beyond, the least recently seen are forgotten."""

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
    """Verifies passwords on its own thread pool, remembering the ones already verified
    against a given hash."""

    def __init__(self) -> None:
        self._verified: dict[str, bytes] = {}
        self._pool: ThreadPoolExecutor | None = None

    async def check(self, password: str, encoded: str) -> bool:
        quick = hashlib.sha256(password.encode()).digest()
        known = self._verified.get(encoded)
        if known is not None:
            return hmac.compare_digest(known, quick)
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(self._executor(), verify_password, password, encoded):
            return False
        self._verified[encoded] = quick
        return True

    def close(self) -> None:
        """Stop the pool: queued verifications are cancelled, a running one ends on its own
        (waiting for it would block the event loop). A later `check` starts a new pool."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _executor(self) -> ThreadPoolExecutor:
        """Created on first use: a central system without passwords never starts a thread."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=AUTH_THREADS, thread_name_prefix="ems-auth")
        return self._pool


@dataclass
class _Address:
    failures: deque[float] = field(default_factory=deque)
    """When the recent failed attempts ended (monotonic seconds), oldest first."""
    checking: int = 0
    """Password checks started and not yet finished."""
    blocked_until: float = 0.0


class LoginThrottle:
    """Failed logins per source address: after `max_failures` within `window_s` seconds,
    the address is refused for `window_s` seconds without its passwords being checked.

    Attempts still being checked count against the limit too, so a burst of handshakes
    sent at once costs at most `max_failures` verifications. A success clears its own
    address only. The table keeps the `max_addresses` most recently seen addresses, so a
    flood from many addresses costs bounded memory (at the price of forgetting some).
    """

    def __init__(
        self,
        max_failures: int,
        window_s: float,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._max_addresses = max_addresses
        self._clock = clock
        self._table: OrderedDict[str, _Address] = OrderedDict()

    def retry_after(self, address: str) -> int | None:
        """None if `address` may try to log in, else the whole seconds it must wait (the
        Retry-After of the refusal)."""
        now = self._clock()
        entry = self._table.get(address)
        if entry is None:
            return None
        if entry.blocked_until > now:
            return max(math.ceil(entry.blocked_until - now), 1)
        self._forget_old(entry, now)
        if len(entry.failures) + entry.checking >= self.max_failures:
            return max(math.ceil(self.window_s), 1)
        return None

    def started(self, address: str) -> None:
        """A password check for `address` begins; `finished` must follow."""
        self._entry(address).checking += 1

    def finished(self, address: str, ok: bool) -> bool:
        """Record a started attempt's outcome; True when it starts the address's block."""
        now = self._clock()
        entry = self._entry(address)
        entry.checking = max(entry.checking - 1, 0)
        if ok:
            entry.failures.clear()
            if not entry.checking and entry.blocked_until <= now:
                del self._table[address]
            return False
        entry.failures.append(now)
        self._forget_old(entry, now)
        if len(entry.failures) < self.max_failures:
            return False
        entry.failures.clear()
        entry.blocked_until = now + self.window_s
        return True

    def __len__(self) -> int:
        return len(self._table)

    def _entry(self, address: str) -> _Address:
        entry = self._table.get(address)
        if entry is None:
            entry = self._table[address] = _Address()
            while len(self._table) > self._max_addresses:
                self._table.popitem(last=False)
        else:
            self._table.move_to_end(address)
        return entry

    def _forget_old(self, entry: _Address, now: float) -> None:
        while entry.failures and entry.failures[0] <= now - self.window_s:
            entry.failures.popleft()
