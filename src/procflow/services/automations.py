"""Applying a template's automation rules to one run, in the transaction of the change
that made them worth a look: the launch, a kick-off or form value, a task completed or
reopened.

The decisions are the pure engine's (`domain.automations`); this module reads the facts,
applies the outcome to the run's tasks and writes one activity record per effect, naming
the rule. A hidden step's task is kept out of the run the way an archived task is (it
shows in no list and does not hold up the run's completion) and comes back when shown.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from procflow.domain import automations as engine
from procflow.domain import task_lifecycle as lifecycle
from procflow.domain.automation_rules import to_rule
from procflow.domain.deadlines import apply_rule
from procflow.domain.runs import DONE
from procflow.domain.timeutil import utcnow
from procflow.domain.versioning import bump
from procflow.domain.webhooks import EventType
from procflow.services import events, mail_events
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import AutomatedAction, Run, RunField, Step, Task, TaskOwner
from procflow.storage.repositories import activity as activity_repo
from procflow.storage.repositories import automations as repo

HIDDEN = "hidden_by_automation"
NOTHING: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Actor:
    """Who made the change that set the rules off: activity records name them."""

    org_id: str
    actor_type: str
    actor_id: int | None


def evaluate(
    uow: UnitOfWork,
    actor: Actor,
    run_id: str | None,
    *,
    launch: bool = False,
    checklist_id: str | None = None,
) -> frozenset[str]:
    """Re-evaluate the run's rules and apply what changed since the last evaluation.

    Returns the ids of the tasks the rules changed (empty when they changed nothing), so
    that a writer whose answer shows the run or its tasks reads them again, as the rules
    left them. A caller that knows the run's template passes `checklist_id`: a run whose
    template has no rules then costs one indexed query and nothing else."""
    if run_id is None:
        return NOTHING
    session = uow.session
    if checklist_id is None:
        found = session.get(Run, run_id)
        if found is None or found.checklist_id is None:
            return NOTHING
        checklist_id = found.checklist_id
    rows = repo.rules_of(session, [checklist_id])[checklist_id]
    if not rows:
        return NOTHING
    session.flush()
    # The run update writes a snapshot, not this object: read the row as it is now.
    run = session.get(Run, run_id, populate_existing=True)
    if run is None:
        return NOTHING
    rules = [to_rule(r.id, _stored(r)) for r in rows]
    tasks = {
        t.step_id: t
        for t in session.scalars(select(Task).where(Task.run_id == run.id))
        if t.step_id is not None
    }
    query = select(RunField.field_id, RunField.value).where(RunField.run_id == run.id)
    values: dict[str, Any] = dict(session.execute(query).all())
    completed = frozenset(step for step, t in tasks.items() if t.status in DONE)
    before = frozenset() if launch else repo.matched_of(session, run.id)
    steps = list(session.scalars(select(Step).where(Step.checklist_id == run.checklist_id)))
    template = engine.Template(
        defaults={
            s.id: engine.People(frozenset(s.assignees), frozenset(s.guests), frozenset(s.groups))
            for s in steps
        },
        deadlines={s.id: apply_rule(s.deadline, run.started_at) for s in steps},
        started=run.started_at,
    )
    outcome = engine.settle(rules, engine.Facts(values, completed), before, template)
    names = {r.id: r.automated_alias for r in rows}
    applier = _Applier(uow, actor, run, tasks, names, outcome)
    applier.apply()
    repo.save_matched(session, run.id, outcome.matched)
    session.flush()
    return frozenset(applier.changed)


def _stored(rule: AutomatedAction) -> dict[str, Any]:
    return {"conditions": rule.conditions, "then_actions": rule.then_actions}


class _Applier:
    def __init__(
        self,
        uow: UnitOfWork,
        actor: Actor,
        run: Run,
        tasks: dict[str, Task],
        names: dict[str, str],
        outcome: engine.Outcome,
    ) -> None:
        self.uow, self.actor, self.run, self.tasks = uow, actor, run, tasks
        self.names, self.outcome = names, outcome
        self.now = utcnow()
        self.records: list[dict[str, Any]] = []
        self.last_rule = ""
        self.changed: set[str] = set()
        # What the rules gave people, mailed as one assignment (one e-mail per person).
        self.assignments: list[mail_events.Assignment] = []

    def apply(self) -> None:
        for step in sorted(self.outcome.reopen):
            self._reopen(step)
        for step, task in sorted(self.tasks.items()):
            plan = self.outcome.steps.get(step)
            if plan is not None:
                self._plan(task, plan, self.outcome.causes.get(step, frozenset()))
            elif (task.flags or {}).get(HIDDEN):  # hidden by a rule that is gone
                self._plan(task, engine.StepPlan(), frozenset())
        for rule_id, url in self.outcome.webhooks:
            events.emit(
                self.uow, self.run.org_id, EventType.AUTOMATION_FIRED,
                run_id=self.run.id, actor_id=self.actor.actor_id,
                payload={"url": url, "automation": self._rule(rule_id)},
            )  # fmt: skip
            self._note("fired", "run", self.run.id, rule_id, new=url)
        self._run_completion()
        mail_events.assigned(self.uow, self.actor.org_id, self.assignments, run_id=self.run.id)
        if self.changed:
            bump(self.run, now=self.now)  # the run's entity tag covers its tasks
        activity_repo.append(self.uow.session, self.records)

    def _rule(self, rule_id: str) -> dict[str, str]:
        return {"id": rule_id, "automated_alias": self.names.get(rule_id, "")}

    def _note(
        self,
        verb: str,
        kind: str,
        object_id: str,
        rule_id: str,
        *,
        old: Any = None,
        new: Any = None,
    ) -> None:
        alias = self.names.get(rule_id) or rule_id
        said = f"By automation '{alias}' ({rule_id})" if rule_id else "By automations"
        self.last_rule = rule_id
        self.records.append(
            {
                "org_id": self.actor.org_id,
                "actor_type": self.actor.actor_type,
                "actor_id": self.actor.actor_id,
                "verb": verb,
                "object_type": kind,
                "object_id": object_id,
                "run_id": self.run.id,
                "field": "automation",
                "old_value": old,
                "new_value": new,
                "description": said,
                "created_at": self.now,
            }
        )

    def _reopen(self, step: str) -> None:
        task = self.tasks.get(step)
        if task is None or task.status not in DONE:
            return
        old = task.status
        for name, value in lifecycle.reopened(task.flags).items():
            setattr(task, name, value)
        bump(task, now=self.now)
        self.changed.add(task.id)
        rule_id = self.outcome.reopened_by.get(step, "")
        self._note("re-opened", "task", task.id, rule_id, old=old, new=task.status)
        events.emit(
            self.uow, task.org_id, EventType.TASK_REOPENED,
            run_id=self.run.id, task_id=task.id, actor_id=self.actor.actor_id,
        )  # fmt: skip

    def _plan(self, task: Task, plan: engine.StepPlan, causes: frozenset[str]) -> None:
        rule_id = min(causes) if causes else ""
        hidden = bool((task.flags or {}).get(HIDDEN))
        changed = False
        if hidden and plan.visible:
            task.archived_at = None
            task.flags = {k: v for k, v in (task.flags or {}).items() if k != HIDDEN}
            self._note("shown", "task", task.id, rule_id, old="hidden", new="visible")
            changed = True
        elif not hidden and not plan.visible and task.archived_at is None:
            task.archived_at = self.now
            task.flags = {**(task.flags or {}), HIDDEN: True}
            self._note("hidden", "task", task.id, rule_id, old="visible", new="hidden")
            changed = True
        changed |= self._owners(task, plan, rule_id)
        if plan.deadline_changed and task.status not in DONE and task.deadline != plan.deadline:
            old = task.deadline.isoformat() if task.deadline else None
            task.deadline = plan.deadline
            new = plan.deadline.isoformat() if plan.deadline else None
            self._note("deadline-changed", "task", task.id, rule_id, old=old, new=new)
            changed = True
        if changed:
            bump(task, now=self.now)
            self.changed.add(task.id)

    def _owners(self, task: Task, plan: engine.StepPlan, rule_id: str) -> bool:
        if not (plan.add or plan.remove):
            return False
        session = self.uow.session
        have = list(session.scalars(select(TaskOwner).where(TaskOwner.task_id == task.id)))
        current = engine.People(
            frozenset(o.user_id for o in have if o.user_id is not None),
            frozenset(o.guest_email for o in have if o.guest_email is not None),
            frozenset(o.group_id for o in have if o.group_id is not None),
        )
        add, remove = plan.add - current, plan.remove & current
        if not (add or remove):
            return False
        for user_id in sorted(add.users):
            session.add(TaskOwner(task_id=task.id, user_id=user_id))
        for email in sorted(add.guests):
            session.add(TaskOwner(task_id=task.id, guest_email=email))
        for group_id in sorted(add.groups):
            session.add(TaskOwner(task_id=task.id, group_id=group_id))
        doomed = [
            o.id
            for o in have
            if o.user_id in remove.users
            or o.guest_email in remove.guests
            or o.group_id in remove.groups
        ]
        if doomed:
            session.execute(delete(TaskOwner).where(TaskOwner.id.in_(doomed)))
        if add:
            self._note("assigned", "task", task.id, rule_id, new=_people(add))
            self.assignments.append(
                (task.id, sorted(add.users), sorted(add.groups), sorted(add.guests))
            )
        if remove:
            self._note("unassigned", "task", task.id, rule_id, old=_people(remove))
        return True

    def _run_completion(self) -> None:
        """Hiding the last open task completes the run; showing or reopening one of a
        complete run makes it active again."""
        live = [t for t in self.tasks.values() if t.archived_at is None]
        done = lifecycle.run_is_done([t.status for t in live])
        run = self.run
        if done and run.completed_at is None and self.records:
            run.completed_at = self.now
            self._note("completed", "run", run.id, self.last_rule)
            events.emit(
                self.uow, run.org_id, EventType.PROCESS_COMPLETED,
                run_id=run.id, actor_id=self.actor.actor_id,
            )  # fmt: skip
        elif not done and run.completed_at is not None:
            run.completed_at = None
            self._note("re-opened", "run", run.id, self.last_rule)


def _people(people: engine.People) -> dict[str, list[Any]]:
    return {
        "users": sorted(people.users),
        "guests": sorted(people.guests),
        "groups": sorted(people.groups),
    }


def actor_of_member(org_id: str, user_id: int | None) -> Actor:
    return Actor(org_id, "member", user_id)


def actor_of_guest(org_id: str, guest_id: int) -> Actor:
    return Actor(org_id, "guest", guest_id)
