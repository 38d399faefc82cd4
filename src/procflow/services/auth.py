"""Personal access tokens and who a bearer token speaks for.

Tokens are random, shown once, and stored only as a SHA-256 digest: a leaked database
does not leak working credentials, and lookups stay a single indexed equality match.
"""

import hashlib
import secrets

from sqlalchemy import select

from procflow.domain.permissions import Caller, Role
from procflow.errors import PermissionDenied, Unauthenticated
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import AccessToken, Membership

TOKEN_PREFIX = "pf"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(uow: UnitOfWork, user_id: int) -> str:
    """Create a token for `user_id`; the clear text exists only in the return value."""
    token = TOKEN_PREFIX + secrets.token_hex(32)
    uow.session.add(AccessToken(user_id=user_id, token_hash=hash_token(token), prefix=token[:8]))
    uow.session.flush()
    return token


def user_for_token(uow: UnitOfWork, token: str) -> int:
    user_id = uow.session.scalar(
        select(AccessToken.user_id).where(
            AccessToken.token_hash == hash_token(token), AccessToken.revoked_at.is_(None)
        )
    )
    if user_id is None:
        raise Unauthenticated()
    return user_id


def caller_in(uow: UnitOfWork, token: str, org_id: str) -> Caller:
    """The member a token speaks for inside `org_id`, in one query on the common path."""
    row = uow.session.execute(
        select(AccessToken.user_id, Membership.role)
        .join(Membership, Membership.user_id == AccessToken.user_id)
        .where(
            AccessToken.token_hash == hash_token(token),
            AccessToken.revoked_at.is_(None),
            Membership.org_id == org_id,
            Membership.disabled_at.is_(None),
        )
    ).first()
    if row is None:
        user_for_token(uow, token)
        raise PermissionDenied("You don't have permission to access this organization.")
    return Caller(user_id=row.user_id, org_id=org_id, role=Role(row.role))
