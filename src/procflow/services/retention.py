"""Retention: finished outbox rows older than the retention period are deleted.

Events, their webhook deliveries and attempts, and e-mail messages would otherwise grow
forever. What goes (`storage.repositories.retention`): events whose deliveries and
messages are all finished, with everything hanging from them, and sent or failed
messages; never anything pending or leased, never a reminder already raised (those keep
a reminder from being raised twice). Deleting is done in batches of `BATCH` events and
`BATCH` messages, each batch its own short transaction, so neither a worker's step nor a
request waits long behind it.

The workers prune on their own (`Schedule`): every webhook and mail worker asks for the
turn of the one `pruning` schedule slot, the same claim the reminder scheduler makes
(`services.reminders`), so one worker prunes about once per interval in the whole
deployment. `procflow events prune` prunes at once, from the command line.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.database import SessionFactory
from procflow.storage.repositories import mail_outbox
from procflow.storage.repositories import retention as repo
from procflow.storage.repositories.retention import Counts

log = logging.getLogger("procflow.retention")

SLOT = "pruning"
BATCH = 500
# How soon a worker that lost the turn (or whose pruning failed) asks again.
RECHECK = timedelta(minutes=1)


def cutoff_of(now: datetime, days: float) -> datetime:
    return now - timedelta(days=days)


def prune_batch(uow: UnitOfWork, cutoff: datetime, limit: int = BATCH) -> tuple[Counts, bool]:
    """Delete one batch of old finished events and of old finished messages; what was
    deleted, and whether a batch was full (more may be left)."""
    connection = uow.connection
    events = repo.old_event_ids(connection, cutoff, limit)
    done = repo.delete_events(connection, events)
    messages = repo.old_message_ids(connection, cutoff, limit)
    done += repo.delete_messages(connection, messages)
    return done, len(events) == limit or len(messages) == limit


def prune(factory: SessionFactory, cutoff: datetime, limit: int = BATCH) -> Counts:
    """Delete everything old and finished, a batch per transaction, until none is left."""
    total = Counts()
    full = True
    while full:
        with UnitOfWork(factory, write=True) as uow:
            done, full = prune_batch(uow, cutoff, limit)
        total += done
    return total


def preview(factory: SessionFactory, cutoff: datetime) -> Counts:
    """What `prune` would delete now."""
    with UnitOfWork(factory, write=False) as uow:
        return repo.count_old(uow.connection, cutoff)


@dataclass
class Schedule:
    """A worker's part in pruning: at most one batch per step, when it holds the turn.

    Between turns it does not even ask the database, so an idle worker polling twice a
    second adds no write transaction for pruning; after losing the turn it asks again
    after `RECHECK` (or the interval, if shorter). A failure is logged and retried later:
    it never stops the worker's deliveries."""

    retention_days: float
    interval: timedelta
    next_try: datetime = datetime.min

    def step(self, factory: SessionFactory, worker_id: str, now: datetime) -> int:
        """Prune one batch if the turn is this worker's; how many rows it deleted."""
        if self.retention_days <= 0 or now < self.next_try:
            return 0
        self.next_try = now + min(self.interval, RECHECK)
        cutoff = cutoff_of(now, self.retention_days)
        try:
            with UnitOfWork(factory, write=True) as uow:
                slot_due = now + self.interval
                if not mail_outbox.claim_slot(uow.connection, SLOT, worker_id, now, slot_due):
                    return 0
                done, full = prune_batch(uow, cutoff)
                if full:  # more is left: the next step goes on at once
                    mail_outbox.set_slot_due(uow.connection, SLOT, now)
        except Exception:
            log.exception("pruning old events failed; trying again later")
            return 0
        self.next_try = now if full else slot_due
        if done.total:
            log.info(
                "pruned %d event(s), %d delivery(ies), %d attempt(s), %d e-mail(s) before %s",
                done.events, done.deliveries, done.attempts, done.messages, cutoff,
            )  # fmt: skip
        return done.total
