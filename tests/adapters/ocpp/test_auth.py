"""Password checks cannot starve the control loop: they run on their own small pool, and an
address that keeps failing is refused at once (HTTP 429) without a password check."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.headers import build_authorization_basic
from websockets.http11 import Response

from adapters.ocpp import CentralSystem, auth
from adapters.ocpp.auth import AUTH_THREADS, LoginThrottle, PasswordChecker, hash_password
from adapters.storage import SqliteStore
from tests.adapters.ocpp.sim.central import wait_until
from tests.adapters.ocpp.stations import Events, make_settings, url

PASSWORD = "s3cret"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: LoginThrottle, address: str, times: int = 1) -> list[bool]:
    """Record `times` failed logins; whether each one started a block."""
    started = []
    for _ in range(times):
        throttle.started(address)
        started.append(throttle.finished(address, ok=False))
    return started


def record_threads(
    monkeypatch: pytest.MonkeyPatch, check: Callable[[str, str], bool] = auth.verify_password
) -> list[str]:
    """Replace the scrypt check by `check`, noting the thread each call runs on."""
    names: list[str] = []

    def verify(password: str, encoded: str) -> bool:
        names.append(threading.current_thread().name)
        return check(password, encoded)

    monkeypatch.setattr(auth, "verify_password", verify)
    return names


# --- the per-address table ---------------------------------------------------------------


def test_blocks_after_max_failures_for_the_window() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(3, 60.0, clock=clock)
    assert fail(throttle, "10.0.0.1", 2) == [False, False]
    assert throttle.retry_after("10.0.0.1") is None
    assert fail(throttle, "10.0.0.1") == [True]
    assert throttle.retry_after("10.0.0.1") == 60
    clock.now += 59.5
    assert throttle.retry_after("10.0.0.1") == 1
    clock.now += 0.5
    assert throttle.retry_after("10.0.0.1") is None
    # The block is over and its failures with it: three more are needed for the next.
    assert fail(throttle, "10.0.0.1", 3) == [False, False, True]


def test_failures_older_than_the_window_are_forgotten() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(3, 60.0, clock=clock)
    fail(throttle, "10.0.0.1", 2)
    clock.now += 61
    assert fail(throttle, "10.0.0.1", 2) == [False, False]
    assert throttle.retry_after("10.0.0.1") is None


def test_addresses_are_counted_apart() -> None:
    throttle = LoginThrottle(2, 60.0, clock=FakeClock())
    fail(throttle, "10.0.0.1", 2)
    fail(throttle, "10.0.0.2")
    throttle.started("10.0.0.3")
    throttle.finished("10.0.0.3", ok=True)
    assert throttle.retry_after("10.0.0.1") is not None
    assert throttle.retry_after("10.0.0.2") is None
    # Another address's success erased nothing: one more failure blocks 10.0.0.2.
    assert fail(throttle, "10.0.0.2") == [True]


def test_a_success_clears_its_own_address() -> None:
    throttle = LoginThrottle(2, 60.0, clock=FakeClock())
    fail(throttle, "10.0.0.1")
    throttle.started("10.0.0.1")
    assert throttle.finished("10.0.0.1", ok=True) is False
    assert len(throttle) == 0
    assert fail(throttle, "10.0.0.1") == [False]


def test_checks_in_flight_count_against_the_limit() -> None:
    throttle = LoginThrottle(3, 60.0, clock=FakeClock())
    for _ in range(3):
        assert throttle.retry_after("10.0.0.1") is None
        throttle.started("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 60
    assert [throttle.finished("10.0.0.1", ok=False) for _ in range(3)] == [False, False, True]


def test_the_table_keeps_the_most_recently_seen_addresses() -> None:
    throttle = LoginThrottle(1, 60.0, max_addresses=3, clock=FakeClock())
    for i in range(5):
        fail(throttle, f"10.0.0.{i}")
    assert len(throttle) == 3
    assert throttle.retry_after("10.0.0.0") is None  # forgotten
    assert throttle.retry_after("10.0.0.4") == 60


async def test_checker_runs_on_its_own_pool_and_restarts_after_close(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads = record_threads(monkeypatch)
    checker = PasswordChecker()
    encoded = hash_password(PASSWORD)
    assert not await checker.check("wrong", encoded)
    checker.close()
    assert await checker.check(PASSWORD, encoded)
    assert await checker.check(PASSWORD, encoded)  # remembered: no second scrypt
    checker.close()
    assert len(threads) == 2
    assert all(name.startswith("ems-auth") for name in threads)


# --- through the real server -------------------------------------------------------------


@pytest.fixture
async def guarded(store: SqliteStore, events: Events) -> AsyncIterator[CentralSystem]:
    system = CentralSystem(
        make_settings(passwords={"CP1": PASSWORD}, auth_max_failures=3), store, events
    )
    await system.start()
    yield system
    await system.stop()


async def refusal(system: CentralSystem, password: str) -> Response:
    """The HTTP response refusing a handshake with `password` (fails if it is accepted)."""
    headers = {"Authorization": build_authorization_basic("CP1", password)}
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            url(system, "CP1"),
            subprotocols=["ocpp1.6"],
            additional_headers=headers,
            open_timeout=10,
        ):
            pass
    return refused.value.response


async def test_an_address_that_keeps_failing_gets_429_without_a_password_check(
    guarded: CentralSystem, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    checks = record_threads(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="adapters.ocpp.server"):
        for _ in range(3):
            assert (await refusal(guarded, "wrong")).status_code == 401
        for password in (PASSWORD, "wrong", PASSWORD):
            response = await refusal(guarded, password)
            assert response.status_code == 429
            assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert len(checks) == 3
    warnings = [r.getMessage() for r in caplog.records if "failed logins" in r.getMessage()]
    assert warnings == ["3 failed logins from 127.0.0.1; refusing that address for 60 s"]
    events = [e for e in guarded.store.list_events("CP1") if e.kind == "throttled"]
    assert len(events) == 1
    assert events[0].detail["address"] == "127.0.0.1"


async def test_a_burst_of_wrong_passwords_leaves_the_default_executor_free(
    store: SqliteStore, events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    # Each check holds its thread until released, then fails (no scrypt: the point is
    # where the checks run, and 40 real ones could outlast the handshake timeout).
    threads = record_threads(monkeypatch, lambda _p, _e: not release.wait(timeout=30))
    system = CentralSystem(
        make_settings(passwords={"CP1": PASSWORD}, auth_max_failures=100), store, events
    )
    await system.start()
    try:
        burst = [asyncio.create_task(refusal(system, f"wrong{i}")) for i in range(40)]
        await wait_until(lambda: bool(threads), timeout_s=10)
        # Every auth thread is stuck in a check and the burst queues behind them; the
        # default executor (the control step's) still runs work at once.
        await asyncio.wait_for(asyncio.to_thread(lambda: None), timeout=5)
        assert len(threads) <= AUTH_THREADS
        release.set()
        responses = await asyncio.gather(*burst)
    finally:
        release.set()
        await system.stop()
    assert [r.status_code for r in responses] == [401] * 40
    assert len(threads) == 40
    assert all(name.startswith("ems-auth") for name in threads)
    # stop() shut the pool down: its thread ends.
    await wait_until(
        lambda: not any(t.name.startswith("ems-auth") for t in threading.enumerate()), 10
    )
