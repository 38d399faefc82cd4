"""The delivery worker: events out of the outbox, onto the wire, into the delivery log.

One `step` does all of it once, at the time its clock says: fan new events out (build
each payload once, one delivery per distinct target URL), claim the deliveries that are
due (a lease, so that no other worker sends the same attempt), send them concurrently,
and record each attempt and what follows (delivered, retried later with backoff and
jitter, or failed). Tests drive `step` with their own clock; `run` loops it for
`procflow serve` and `procflow worker`. No transaction is open while a request is on the
wire.

Delivery is at least once: a worker that dies after sending and before recording leaves
its lease to expire, and the attempt is made again. Receivers de-duplicate on the event
id header (the same on every attempt).
"""

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson
from sqlalchemy import select

from procflow.domain import webhooks as rules
from procflow.domain.timeutil import utcnow
from procflow.domain.webhooks import EventType, Outcome, RetryPolicy
from procflow.services import retention, webhook_payloads, webhook_secrets
from procflow.services.unit_of_work import UnitOfWork
from procflow.services.webhook_sender import SendResult
from procflow.storage.database import SessionFactory
from procflow.storage.models import (
    Event,
    Step,
    Watcher,
    WebhookDelivery,
)
from procflow.storage.repositories import outbox

log = logging.getLogger("procflow.webhooks")

# What a template's or a step's own `webhook` is called for, as in Tallyfy.
TEMPLATE_EVENTS = {
    EventType.PROCESS_LAUNCHED,
    EventType.TASK_COMPLETED,
    EventType.PROCESS_COMPLETED,
}
STEP_EVENTS = {EventType.TASK_COMPLETED}


class Sender(Protocol):
    def send(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult: ...


@dataclass(frozen=True)
class WorkerConfig:
    worker_id: str
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    batch: int = 100
    concurrency: int = 16
    lease: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class Job:
    delivery_id: int
    number: int
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Worker:
    factory: SessionFactory
    config: WorkerConfig
    sender: Sender
    clock: Callable[[], datetime] = utcnow
    draw: Callable[[], float] = random.random
    pruning: retention.Schedule | None = None
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)

    def step(self) -> int:
        """Fan out, claim, send, record, once, and prune when it is this worker's turn;
        how much work it found (0: idle)."""
        now = self.clock()
        pruned = self.pruning.step(self.factory, self.config.worker_id, now) if self.pruning else 0
        fanned = self.fan_out(now)
        jobs = self.claim(now)
        if jobs:
            self.record(jobs, self.send(jobs), self.clock())
        return pruned + fanned + len(jobs)

    def fan_out(self, now: datetime) -> int:
        with UnitOfWork(self.factory, write=True) as uow:
            ids = outbox.claim_events(uow.connection, now, self.config.batch)
            if not ids:
                return 0
            found = list(uow.session.scalars(select(Event).where(Event.id.in_(ids))))
            batch = webhook_payloads.load(uow.session, found)
            steps = _step_webhooks(uow, batch)
            rows: list[dict[str, Any]] = []
            payloads: list[dict[str, Any]] = []
            for event in found:
                given = event.payload or {}
                payload = webhook_payloads.of(batch, event)
                if "automation" in given:
                    payload["automation"] = given["automation"]
                payloads.append({"b_id": event.id, "payload": payload})
                rows += [
                    {
                        "event_id": event.id,
                        "org_id": event.org_id,
                        "url": url,
                        "source": source,
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for url, source in targets(uow, batch, steps, event, given.get("url")).items()
                ]
            outbox.set_payloads(uow.connection, payloads)
            outbox.add_deliveries(uow.connection, rows)
        return len(ids)

    def claim(self, now: datetime) -> list[Job]:
        with UnitOfWork(self.factory, write=True) as uow:
            ids = outbox.claim_deliveries(
                uow.connection,
                self.config.worker_id,
                now,
                now + self.config.lease,
                self.config.batch,
            )
            if not ids:
                return []
            rows = uow.session.execute(
                select(
                    WebhookDelivery.id,
                    WebhookDelivery.attempts,
                    WebhookDelivery.url,
                    Event.id.label("event_id"),
                    Event.type,
                    Event.org_id,
                    Event.payload,
                )
                .join(Event, Event.id == WebhookDelivery.event_id)
                .where(WebhookDelivery.id.in_(ids))
                .order_by(WebhookDelivery.id)
            ).all()
            secrets: dict[str, list[str]] = {}
            bodies: dict[str, bytes] = {}
            stamp = int(now.timestamp())
            jobs = []
            for row in rows:
                if row.org_id not in secrets:
                    found = webhook_secrets.secret_row(uow.session, row.org_id)
                    secrets[row.org_id] = webhook_secrets.signing_secrets(found, now)
                if row.event_id not in bodies:
                    bodies[row.event_id] = orjson.dumps(row.payload)
                body = bodies[row.event_id]
                number = row.attempts + 1
                headers = {
                    "Content-Type": "application/json",
                    "User-Agent": "procflow-webhooks",
                    rules.EVENT_ID_HEADER: row.event_id,
                    rules.EVENT_TYPE_HEADER: row.type,
                    rules.ATTEMPT_HEADER: str(number),
                    rules.TALLYFY_ORG_HEADER: row.org_id,
                    rules.SIGNATURE_HEADER: rules.signature_header(
                        secrets[row.org_id], stamp, body
                    ),
                }
                jobs.append(Job(row.id, number, row.url, body, headers))
            return jobs

    def send(self, jobs: Sequence[Job]) -> list[tuple[datetime, SendResult]]:
        """Each job's start and result, `concurrency` at a time on a pool of threads that
        share the sender's connections. (Measured with httpx2 to a local receiver, its
        blocking client on threads costs about half the CPU per request of its asynchronous
        client, whose anyio layer dominates.)"""

        def one(job: Job) -> tuple[datetime, SendResult]:
            return self.clock(), self.sender.send(job.url, job.body, job.headers)

        if len(jobs) == 1 or self.config.concurrency == 1:
            return [one(job) for job in jobs]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.config.concurrency, "procflow-webhook")
        return list(self._pool.map(one, jobs))

    def record(
        self, jobs: Sequence[Job], results: Sequence[tuple[datetime, SendResult]], now: datetime
    ) -> None:
        """Every attempt's result in one transaction: one statement per kind of outcome."""
        policy = self.config.policy
        releases: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        attempts = []
        for job, (started, result) in zip(jobs, results, strict=True):
            outcome = Outcome.FAILED if result.refused else rules.outcome_of(result.status)
            if outcome is Outcome.RETRY and policy.gives_up(job.number):
                outcome = Outcome.FAILED
            values: dict[str, Any] = {"attempts": job.number, "last_status": result.status}
            if outcome is Outcome.DELIVERED:
                values |= {"state": "delivered", "delivered_at": now}
            elif outcome is Outcome.FAILED:
                values |= {"state": "failed"}
            else:
                wait = policy.delay(job.number, self.draw)
                values |= {"next_attempt_at": now + timedelta(seconds=wait)}
            releases.setdefault(tuple(values), []).append({"b_id": job.delivery_id, **values})
            attempts.append(
                {
                    "delivery_id": job.delivery_id,
                    "number": job.number,
                    "started_at": started,
                    "latency_ms": result.latency_ms,
                    "status_code": result.status,
                    "error": result.error,
                    "outcome": outcome.value,
                }
            )
        with UnitOfWork(self.factory, write=True) as uow:
            for rows in releases.values():
                outbox.release_many(uow.connection, self.config.worker_id, rows)
            outbox.add_attempts(uow.connection, attempts)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def targets(
    uow: UnitOfWork,
    batch: webhook_payloads.Batch,
    steps: dict[str, str],
    event: Event,
    url: str | None = None,
) -> dict[str, str]:
    """Distinct URLs to post `event` to, each with where it came from: the template's and
    the step's `webhook` (for the events Tallyfy calls them for) and webhook watchers; an
    automation's webhook action goes to its own URL only."""
    if event.type == EventType.AUTOMATION_FIRED:
        return {url: "automation"} if url else {}
    kind = EventType(event.type)
    found: dict[str, str] = {}
    run = batch.runs.get(event.run_id or "")
    task = batch.tasks.get(event.task_id or "")
    if run is not None and run.checklist_id and kind in TEMPLATE_EVENTS:
        checklist = batch.checklists.get(run.checklist_id)
        if checklist is not None and checklist.webhook:
            found.setdefault(checklist.webhook, "template")
    step_hook = steps.get(task.step_id or "") if task is not None else None
    if step_hook and kind in STEP_EVENTS:
        found.setdefault(step_hook, "step")
    watched = {
        "organization": event.org_id,
        "checklist": run.checklist_id if run is not None else None,
        "run": event.run_id,
        "task": event.task_id,
    }
    for watcher in _webhook_watchers(uow, event.org_id):
        if watcher.webhook and watched.get(watcher.object_type) == watcher.object_id:
            found.setdefault(watcher.webhook, "watcher")
    return found


def _step_webhooks(uow: UnitOfWork, batch: webhook_payloads.Batch) -> dict[str, str]:
    """The `webhook` of every step behind the batch's tasks that has one, in one query."""
    ids = {t.step_id for t in batch.tasks.values() if t.step_id}
    if not ids:
        return {}
    rows = uow.session.execute(
        select(Step.id, Step.webhook).where(Step.id.in_(ids), Step.webhook.is_not(None))
    )
    return {row.id: row.webhook for row in rows if row.webhook}


def _webhook_watchers(uow: UnitOfWork, org_id: str) -> list[Watcher]:
    """An organization's webhook watchers, read once per fan-out transaction."""
    known: dict[str, list[Watcher]] = uow.session.info.setdefault("webhook_watchers", {})
    if org_id not in known:
        known[org_id] = list(
            uow.session.scalars(
                select(Watcher).where(
                    Watcher.org_id == org_id, Watcher.notification_type == "webhook"
                )
            )
        )
    return known[org_id]


def run(worker: Worker, stop: threading.Event, poll_seconds: float) -> None:
    """Step until `stop` is set, pausing `poll_seconds` whenever a step found nothing to do
    or failed (a database that is briefly unavailable, say): the failure is logged and the
    step tried again, since everything it did not finish is still in the database."""
    while not stop.is_set():
        try:
            busy = worker.step()
        except Exception:
            log.exception("webhook delivery step failed; retrying")
            busy = 0
        if not busy:
            stop.wait(poll_seconds)
    worker.close()


def start_thread(worker: Worker, poll_seconds: float) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run, args=(worker, stop, poll_seconds), name="procflow-webhooks", daemon=True
    )
    thread.start()
    return thread, stop


def worker_id() -> str:
    import os
    import socket

    return f"{socket.gethostname()[:40]}:{os.getpid()}:{time.monotonic_ns() % 10**6}"
