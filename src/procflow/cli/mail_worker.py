"""The mail worker (e-mails and deadline reminders) as `procflow serve` and `procflow
worker` run it, on a thread of its own beside the webhook worker."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from procflow.cli.webhook_worker import pruning
from procflow.services import delivery, mailer
from procflow.services.smtp_sender import LogSender, MailSender, SmtpSender
from procflow.settings import Settings
from procflow.storage.database import SessionFactory

POLL_SECONDS = 1.0


def make_mailer(factory: SessionFactory, settings: Settings) -> mailer.Mailer:
    sender: MailSender
    if settings.smtp_url:
        sender = SmtpSender(settings.smtp_url, settings.email_from, settings.smtp_timeout_seconds)
    else:
        sender = LogSender(settings.email_from)
    config = mailer.MailerConfig(
        worker_id=delivery.worker_id(),
        base_url=settings.public_url.rstrip("/"),
        # A batch of 50 sent at the timeout each must be recorded before anyone retakes it.
        lease=timedelta(seconds=50 * settings.smtp_timeout_seconds + 60),
        reminder_interval=timedelta(seconds=settings.reminder_interval_seconds),
    )
    return mailer.Mailer(factory, config, sender, pruning=pruning(settings))


@contextmanager
def running(
    factory: SessionFactory, settings: Settings, *, enabled: bool | None = None
) -> Iterator[Callable[[], None]]:
    """A mail worker on its own thread from the call of the starter this yields until the
    block ends (the same contract as `webhook_worker.running`)."""
    threads: list[tuple[threading.Thread, threading.Event]] = []
    on = settings.email_worker if enabled is None else enabled

    def start() -> None:
        if on and not threads:
            mail = make_mailer(factory, settings)
            threads.append(mailer.start_thread(mail, POLL_SECONDS))

    try:
        yield start
    finally:
        for thread, stop in threads:
            stop.set()
            thread.join(timeout=settings.smtp_timeout_seconds + 5)
