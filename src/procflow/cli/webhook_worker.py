"""The webhook delivery worker as `procflow serve` and `procflow worker` run it."""

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType

from procflow.domain.webhooks import RetryPolicy
from procflow.services import delivery, retention
from procflow.services.webhook_sender import HttpSender
from procflow.settings import Settings
from procflow.storage.database import SessionFactory


def make_worker(factory: SessionFactory, settings: Settings) -> delivery.Worker:
    factory.allow_private_webhooks = settings.webhook_allow_private
    config = delivery.WorkerConfig(
        worker_id=delivery.worker_id(),
        policy=RetryPolicy(
            max_attempts=settings.webhook_max_attempts,
            base_seconds=settings.webhook_retry_base_seconds,
            max_seconds=settings.webhook_retry_max_seconds,
        ),
        concurrency=settings.webhook_concurrency,
        # Long enough that a batch sent at the timeout is recorded before anyone retakes it.
        lease=timedelta(seconds=3 * settings.webhook_timeout_seconds + 30),
    )
    sender = HttpSender(settings.webhook_timeout_seconds, settings.webhook_allow_private)
    return delivery.Worker(factory, config, sender, pruning=pruning(settings))


def pruning(settings: Settings) -> retention.Schedule | None:
    """A worker's part in pruning old events (None: they are kept forever)."""
    if not settings.event_retention_days:
        return None
    interval = timedelta(seconds=settings.event_prune_interval_seconds)
    return retention.Schedule(settings.event_retention_days, interval)


@contextmanager
def running(factory: SessionFactory, settings: Settings) -> Iterator[Callable[[], None]]:
    """A worker on a thread of its own, from the call of the starter this yields (once the
    server listens: its start-up still registers pool listeners, which a connecting thread
    must not race) until the block ends. Turned off, the starter does nothing."""
    threads: list[tuple[threading.Thread, threading.Event]] = []

    def start() -> None:
        if settings.webhook_worker and not threads:
            worker = make_worker(factory, settings)
            threads.append(delivery.start_thread(worker, settings.webhook_poll_seconds))

    try:
        yield start
    finally:
        for thread, stop in threads:
            stop.set()
            thread.join(timeout=settings.webhook_timeout_seconds + 5)


def stop_on_signals() -> threading.Event:
    """An event that SIGINT or SIGTERM sets. `procflow worker` asks for it before it
    migrates and starts, so a worker stopped while starting still exits cleanly."""
    stop = threading.Event()

    def ask_to_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, ask_to_stop)
    signal.signal(signal.SIGTERM, ask_to_stop)
    return stop


def run_until_signalled(factory: SessionFactory, settings: Settings, stop: threading.Event) -> None:
    """`procflow worker`: deliver until `stop` is set, then finish the current step."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    worker = make_worker(factory, settings)
    delivery.run(worker, stop, settings.webhook_poll_seconds)
