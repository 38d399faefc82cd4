"""Queries for automation rules and each run's record of the rules that held."""

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from procflow.domain.automation_rules import Scope
from procflow.storage.models import AutomatedAction, FormField, RunAutomation, Step

RULE_ORDER = (AutomatedAction.created_at, AutomatedAction.id)


def count(session: Session, checklist_id: str) -> int:
    query = select(func.count()).where(AutomatedAction.checklist_id == checklist_id)
    return int(session.scalar(query) or 0)


def rules_of(session: Session, checklist_ids: Iterable[str]) -> dict[str, list[AutomatedAction]]:
    ids = list(checklist_ids)
    found: dict[str, list[AutomatedAction]] = {checklist_id: [] for checklist_id in ids}
    if not ids:
        return found
    query = (
        select(AutomatedAction).where(AutomatedAction.checklist_id.in_(ids)).order_by(*RULE_ORDER)
    )
    for rule in session.scalars(query):
        found[rule.checklist_id].append(rule)
    return found


def scope(session: Session, checklist_id: str) -> Scope:
    """The ids a rule of this template may name."""
    steps = set(session.scalars(select(Step.id).where(Step.checklist_id == checklist_id)))
    prerun: set[str] = set()
    captures: dict[str, str] = {}
    rows = session.execute(
        select(FormField.id, FormField.step_id).where(FormField.checklist_id == checklist_id)
    )
    for field_id, step_id in rows:
        if step_id is None:
            prerun.add(field_id)
        else:
            captures[field_id] = step_id
    return Scope(steps, prerun, captures)


def matched_of(session: Session, run_id: str) -> frozenset[str]:
    row = session.get(RunAutomation, run_id)
    return frozenset(row.matched) if row is not None else frozenset()


def save_matched(session: Session, run_id: str, matched: Iterable[str]) -> None:
    row = session.get(RunAutomation, run_id)
    if row is None:
        session.add(RunAutomation(run_id=run_id, matched=sorted(matched)))
    else:
        row.matched = sorted(matched)
