"""Reading and writing asset rows (uploaded files)."""

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from procflow.storage.models import Asset, RunField, Task, TaskOwner


def get(session: Session, org_id: str, asset_id: str) -> Asset | None:
    """A live (not archived) asset of the organization."""
    return session.scalar(
        select(Asset).where(
            Asset.org_id == org_id, Asset.id == asset_id, Asset.archived_at.is_(None)
        )
    )


def many(session: Session, org_id: str, asset_ids: Iterable[str]) -> dict[str, Asset]:
    wanted = sorted(set(asset_ids))
    if not wanted:
        return {}
    found = session.scalars(
        select(Asset).where(
            Asset.org_id == org_id, Asset.id.in_(wanted), Asset.archived_at.is_(None)
        )
    )
    return {a.id: a for a in found}


def of_run(session: Session, run_id: str) -> Sequence[Asset]:
    """Every asset uploaded for the run or held by its form values, archived ones too."""
    return session.scalars(
        select(Asset).where(
            or_(
                Asset.run_id == run_id, (Asset.subject_type == "Run") & (Asset.subject_id == run_id)
            )
        )
    ).all()


def of_template_unattached(session: Session, checklist_id: str) -> Sequence[Asset]:
    """Kick-off uploads for the template that no run holds."""
    return session.scalars(
        select(Asset).where(
            Asset.subject_type == "Checklist",
            Asset.subject_id == checklist_id,
            Asset.run_id.is_(None),
        )
    ).all()


def of_task(session: Session, task_id: str) -> Sequence[Asset]:
    return session.scalars(
        select(Asset).where(Asset.subject_type == "Task", Asset.subject_id == task_id)
    ).all()


def remove(session: Session, assets: Sequence[Asset]) -> None:
    ids = [a.id for a in assets]
    if ids:
        session.execute(delete(Asset).where(Asset.id.in_(ids)))


def all_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of these storage keys have a row."""
    wanted = list(keys)
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found |= set(session.scalars(select(Asset.storage_key).where(Asset.storage_key.in_(chunk))))
    return found


def field_of_run(session: Session, run_id: str, field_id: str) -> RunField | None:
    return session.get(RunField, (run_id, field_id))


def field_of_guest(
    session: Session, org_id: str, email: str, run_id: str, field_id: str
) -> RunField | None:
    """The run's form field `field_id`, if it belongs to a task assigned to the guest."""
    return session.scalar(
        select(RunField)
        .join(Task, Task.id == RunField.task_id)
        .join(TaskOwner, TaskOwner.task_id == Task.id)
        .where(
            Task.org_id == org_id,
            func.lower(TaskOwner.guest_email) == email,
            RunField.run_id == run_id,
            RunField.field_id == field_id,
            Task.archived_at.is_(None),
        )
        .limit(1)
    )
