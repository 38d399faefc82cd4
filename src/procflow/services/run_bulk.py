"""Bulk update: many `PUT /runs/{id}` bodies in one request and one transaction.

Every item goes through `runs.update_run`, so it is checked, permitted, applied and
recorded exactly as its own PUT would be, `if_match` included (compared, as for the PUT,
with the run's state under its row lock).

Each item runs inside a savepoint: a failing item rolls back only itself, and the others
still apply. An atomic batch runs inside one more savepoint around all items, rolled back
as a whole when any item fails.

A refusal (403) of an item is written down like a refused request, after its rollback.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from procflow.domain.etags import Precondition
from procflow.domain.permissions import Caller
from procflow.errors import PermissionDenied, ProcflowError, Unavailable
from procflow.services import activity, runs
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.repositories.runs import RunBundle


@dataclass(frozen=True)
class Item:
    """One run to change; `refused` holds the error of a body that failed its own checks."""

    run_id: str
    patch: Mapping[str, Any] = field(default_factory=dict)
    precondition: Precondition | None = None
    refused: ProcflowError | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one item: the run after its change, or why it was not changed."""

    run_id: str
    bundle: RunBundle | None = None
    error: ProcflowError | None = None


def update_runs(
    uow: UnitOfWork,
    caller: Caller,
    items: Sequence[Item],
    *,
    atomic: bool,
    strict: bool = False,
    view: runs.View = runs.View(),
) -> list[Outcome]:
    """Apply every item in order; with `atomic`, keep nothing unless every item succeeds.

    Items are independent, as separate PUTs would be: a later item sees what an earlier
    one changed (also when both name the same run). Database faults are not item errors:
    they fail the whole request, with nothing applied.
    """
    batch = uow.session.begin_nested()
    outcomes = [_apply(uow, caller, item, strict, view) for item in items]
    if atomic and any(outcome.error for outcome in outcomes):
        batch.rollback()
    else:
        batch.commit()
    for outcome in outcomes:
        if isinstance(outcome.error, PermissionDenied):
            activity.record_denial(
                uow,
                caller,
                "POST",
                f"bulk update of process {outcome.run_id}: {outcome.error.message}"[:2000],
                run_id=outcome.run_id,
            )
    return outcomes


def _apply(uow: UnitOfWork, caller: Caller, item: Item, strict: bool, view: runs.View) -> Outcome:
    if item.refused is not None:
        return Outcome(item.run_id, error=item.refused)
    savepoint = uow.session.begin_nested()
    try:
        bundle, _changes = runs.update_run(
            uow,
            caller,
            item.run_id,
            item.patch,
            strict=strict,
            view=view,
            precondition=item.precondition,
        )
    except Unavailable:
        raise
    except ProcflowError as error:
        savepoint.rollback()
        return Outcome(item.run_id, error=error)
    savepoint.commit()
    return Outcome(item.run_id, bundle=bundle)
