"""Each organization's webhook signing secret: made on first use, rotatable by an admin.

After a rotation the previous secret keeps signing (a second `v1=` in the signature
header) for a grace period, so a receiver can switch to the new one without refusing
deliveries in between.
"""

import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from procflow.domain.permissions import Caller
from procflow.domain.timeutil import utcnow
from procflow.errors import NotFound, PermissionDenied
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Organization
from procflow.storage.models import WebhookSecret as WebhookSecret

GRACE = timedelta(hours=24)
PREFIX = "whsec_"


def _fresh() -> str:
    return PREFIX + secrets.token_hex(32)


def secret_row(session: Session, org_id: str) -> WebhookSecret:
    row = session.get(WebhookSecret, org_id)
    if row is None:
        row = WebhookSecret(org_id=org_id, secret=_fresh(), rotated_at=utcnow())
        session.add(row)
        session.flush()
    return row


def signing_secrets(row: WebhookSecret, now: datetime) -> list[str]:
    live = [row.secret]
    if row.previous and row.previous_until and row.previous_until > now:
        live.append(row.previous)
    return live


def rotate(session: Session, org_id: str) -> WebhookSecret:
    row = secret_row(session, org_id)
    now = utcnow()
    row.previous, row.previous_until = row.secret, now + GRACE
    row.secret, row.rotated_at = _fresh(), now
    session.flush()
    return row


def _require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise PermissionDenied("Only an administrator can read or rotate the webhook secret.")


def get_secret(uow: UnitOfWork, caller: Caller) -> WebhookSecret:
    _require_admin(caller)
    return secret_row(uow.session, caller.org_id)


def rotate_secret(uow: UnitOfWork, caller: Caller) -> WebhookSecret:
    _require_admin(caller)
    return rotate(uow.session, caller.org_id)


def rotate_for_org(uow: UnitOfWork, org_id: str) -> WebhookSecret:
    """The CLI's rotation: an operator names the organization."""
    if uow.session.get(Organization, org_id) is None:
        raise NotFound("Organization")
    return rotate(uow.session, org_id)
