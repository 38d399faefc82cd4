"""Which e-mails a member gets in one organization (a procflow extension: Tallyfy's API
has no endpoint for it). Every kind is on until the member turns it off; only the kinds
turned off are stored."""

from collections.abc import Mapping

from sqlalchemy import delete, select

from procflow.domain.mail import MEMBER_KINDS
from procflow.domain.permissions import Caller
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import EmailOptOut


def preferences(uow: UnitOfWork, caller: Caller) -> dict[str, bool]:
    off = set(
        uow.session.scalars(
            select(EmailOptOut.kind).where(
                EmailOptOut.org_id == caller.org_id, EmailOptOut.user_id == caller.user_id
            )
        )
    )
    return {kind.value: kind.value not in off for kind in MEMBER_KINDS}


def update(uow: UnitOfWork, caller: Caller, wanted: Mapping[str, bool]) -> dict[str, bool]:
    """Turn the kinds sent on or off; the kinds not sent stay as they were."""
    current = preferences(uow, caller)
    session = uow.session
    for kind, on in wanted.items():
        if current.get(kind) == on:
            continue
        if on:
            session.execute(
                delete(EmailOptOut).where(
                    EmailOptOut.org_id == caller.org_id,
                    EmailOptOut.user_id == caller.user_id,
                    EmailOptOut.kind == kind,
                )
            )
        else:
            session.add(EmailOptOut(org_id=caller.org_id, user_id=caller.user_id, kind=kind))
        current[kind] = on
    session.flush()
    return current
