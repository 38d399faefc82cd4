"""Deadline reminders: one scheduler for every worker and node, claimed in the database.

Each mail worker's step asks for the `reminders` schedule slot; only the worker whose
UPDATE moves the slot's `due_at` past now runs the scan this turn, so the scan runs about
once per interval however many workers there are. The scan reads the deadlines procflow
already stores on tasks: an open task due within the due-soon window (the one run figures
use) gets a `task.due_soon` event, one past its deadline a `task.overdue` event. Each is
written with a `task_reminder` row keyed by task, kind and deadline, inserted so that a
row already there is skipped: even two scans at once (a worker paused past its turn)
never raise the same reminder twice, and a moved deadline is reminded of again.
Everything happens in one transaction with the claim: a failed scan leaves the turn to
the next step.

When more are due than one scan takes (a first start over a backlog of overdue tasks),
the worker's `Sweep` remembers where the scan stopped and its next turn goes on from there
instead of walking every task it already reminded of again: a backlog of a million tasks
costs one pass, not one pass per batch. A sweep starts over from the oldest deadline when
it reaches the end, or when the worker lost a turn to another; a task whose deadline moved
behind the cursor meanwhile is found by the next sweep.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from procflow.domain import mail
from procflow.domain.runs import DUE_SOON_WINDOW
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.database import SessionFactory
from procflow.storage.repositories import mail_outbox, outbox

SLOT = "reminders"
BATCH = 500


@dataclass
class Sweep:
    """Where this worker's scan of each kind stopped: (deadline, task id), or none."""

    cursors: dict[str, tuple[datetime, str]] = field(default_factory=dict)


def step(
    factory: SessionFactory,
    worker_id: str,
    now: datetime,
    interval: timedelta,
    sweep: Sweep | None = None,
) -> int:
    """Raise the reminders due at `now` if this worker wins the turn; how many it raised."""
    sweep = sweep if sweep is not None else Sweep()
    with UnitOfWork(factory, write=True) as uow:
        connection = uow.connection
        if not mail_outbox.claim_slot(connection, SLOT, worker_id, now, now + interval):
            sweep.cursors.clear()
            return 0
        raised = 0
        full = False
        for kind, event_type, start, end in (
            ("overdue", mail.TASK_OVERDUE_EVENT, None, now),
            ("due_soon", mail.TASK_DUE_SOON_EVENT, now, now + DUE_SOON_WINDOW),
        ):
            after = sweep.cursors.pop(kind, None)
            due = mail_outbox.tasks_to_remind(connection, kind, start, end, BATCH, after)
            if len(due) == BATCH:
                full = True
                sweep.cursors[kind] = (due[-1][3], due[-1][0])
            rows = [
                {"task_id": t, "kind": kind, "org_id": o, "deadline": d, "created_at": now}
                for t, o, _, d in due
            ]
            written = mail_outbox.add_reminders(connection, rows)
            for task_id, org_id, run_id, deadline in due:
                if task_id in written:
                    outbox.add_event(
                        connection,
                        {
                            "org_id": org_id,
                            "type": event_type,
                            "run_id": run_id,
                            "task_id": task_id,
                            "created_at": now,
                            "fanned_out_at": now,
                            "payload": {"deadline": deadline.isoformat()},
                        },
                    )
                    raised += 1
        if full:  # more are due than one scan takes: the next step goes on at once
            mail_outbox.set_slot_due(connection, SLOT, now)
        return raised
