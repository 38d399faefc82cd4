"""Token lookups: the first query of every authenticated request, so it is built once."""

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from procflow.storage.database import connection_of
from procflow.storage.models import AccessToken, Membership

_USER = select(AccessToken.user_id).where(
    AccessToken.token_hash == bindparam("digest"), AccessToken.revoked_at.is_(None)
)
_MEMBER = (
    select(AccessToken.user_id, Membership.role)
    .join(Membership, Membership.user_id == AccessToken.user_id)
    .where(
        AccessToken.token_hash == bindparam("digest"),
        AccessToken.revoked_at.is_(None),
        Membership.org_id == bindparam("org_id"),
        Membership.disabled_at.is_(None),
    )
)


def user_of(session: Session, digest: str) -> int | None:
    row = connection_of(session).execute(_USER, {"digest": digest}).first()
    return None if row is None else int(row.user_id)


def membership_of(session: Session, digest: str, org_id: str) -> Row[int, str] | None:
    """(user_id, role) of the token's user in `org_id`, if an active member."""
    return connection_of(session).execute(_MEMBER, {"digest": digest, "org_id": org_id}).first()
