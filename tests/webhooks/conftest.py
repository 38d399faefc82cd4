"""Fixtures of the webhook tests: an app that may post to loopback addresses (as
`PROCFLOW_WEBHOOK_ALLOW_PRIVATE=true` allows), a real local receiver, and a delivery
worker driven step by step on a clock the test moves."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from procflow.api.app import create_app
from procflow.domain.timeutil import utcnow
from procflow.domain.webhooks import RetryPolicy
from procflow.services import delivery
from procflow.services.webhook_sender import HttpSender
from procflow.settings import Settings
from procflow.storage.database import SessionFactory, make_engine, make_session_factory
from procflow.storage.migrate import upgrade
from tests.factories import World
from tests.stress.harness import database_kind, fresh_database
from tests.webhooks.receiver import Receiver


@pytest.fixture(scope="package")
def hook_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A database of these tests alone, so a worker sees no other test's events."""
    with fresh_database(database_kind(), tmp_path_factory.mktemp("hooks")) as url:
        yield Settings(database_url=url, auth_cache_seconds=0, webhook_allow_private=True)


@pytest.fixture(scope="package")
def hook_engine(hook_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(hook_settings)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="package")
def hook_client(hook_settings: Settings, hook_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(hook_settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def hook_factory(hook_engine: Engine) -> SessionFactory:
    factory = make_session_factory(hook_engine)
    factory.allow_private_webhooks = True
    return factory


def loopback_only(host: str, port: int) -> list[str]:
    """The tests' resolver: this machine's names, and nothing else (no network here)."""
    if host in ("127.0.0.1", "localhost"):
        return ["127.0.0.1"]
    raise OSError(f"no address for {host} in the tests")


@pytest.fixture
def hooks(hook_factory: SessionFactory, hook_client: TestClient) -> World:
    """An organization on the app that allows loopback webhooks."""
    return World.create(hook_factory, hook_client)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def catch_up(self) -> None:
        self.now = max(self.now, utcnow())


@pytest.fixture
def clock() -> Clock:
    return Clock(utcnow())


MakeWorker = Callable[..., delivery.Worker]


@pytest.fixture
def make_worker(hook_factory: SessionFactory, clock: Clock) -> Iterator[MakeWorker]:
    made: list[delivery.Worker] = []
    senders: list[HttpSender] = []

    def make(*, allow_private: bool = True, max_attempts: int = 5) -> delivery.Worker:
        sender = HttpSender(timeout=10, allow_private=allow_private, resolver=loopback_only)
        config = delivery.WorkerConfig(
            worker_id=f"test-{uuid4().hex[:8]}",
            policy=RetryPolicy(max_attempts=max_attempts, base_seconds=1, max_seconds=60),
            concurrency=4,
        )
        worker = delivery.Worker(hook_factory, config, sender, clock=clock, draw=lambda: 0.5)
        made.append(worker)
        senders.append(sender)
        return worker

    yield make
    for worker in made:
        worker.close()
    for sender in senders:
        sender.close()


@pytest.fixture
def worker(make_worker: MakeWorker) -> delivery.Worker:
    return make_worker()


def drain(worker: delivery.Worker, limit: int = 50) -> int:
    """Step until a step finds nothing to do; how many steps found work."""
    for busy_steps in range(limit):
        if not worker.step():
            return busy_steps
    raise AssertionError("the worker never ran out of work")
