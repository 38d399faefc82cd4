"""Bootstrap and membership: organizations, their members, and their tokens."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from procflow.domain.permissions import Role
from procflow.domain.timeutil import utcnow
from procflow.errors import NotFound, ValidationFailed
from procflow.services.auth import hash_token, issue_token
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import AccessToken, Membership, Organization, User
from procflow.storage.repositories import locks

MAX_USER_ID = 2**31 - 1  # user ids are 32-bit integers in the database
MAX_TOKEN_ID = 2**31 - 1
NAME_MAX = 100
PERSON_IDS = (1_000_000, 2_000_000_000)  # new people's ids: random, 32-bit, never tiny


@dataclass(frozen=True)
class Credentials:
    org_id: str
    user_id: int
    token: str


def _user_by_email(uow: UnitOfWork, email: str) -> User | None:
    return uow.session.scalar(select(User).where(User.email == email.strip().lower()))


def _ensure_user(uow: UnitOfWork, email: str) -> User:
    clean = email.strip().lower()
    if "@" not in clean or len(clean) > 254:
        raise ValidationFailed.one("email", "The email must be a valid email address.")
    return _user_by_email(uow, clean) or new_user(uow, clean)


def new_user(uow: UnitOfWork, email: str) -> User:
    """A new person, with an id drawn at random from `PERSON_IDS`.

    Sequential ids would let an organization that invites an e-mail tell, from the id it
    gets back, whether that person already existed elsewhere (an older, smaller number).
    """
    low, high = PERSON_IDS
    user_id = low + secrets.randbelow(high - low)
    while uow.session.get(User, user_id) is not None:
        user_id = low + secrets.randbelow(high - low)
    user = User(id=user_id, email=email)
    uow.session.add(user)
    uow.session.flush()
    return user


def join(
    uow: UnitOfWork,
    org_id: str,
    user: User,
    role: Role,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
) -> Membership:
    """Make `user` a member of `org_id` with a profile of its own.

    The profile comes from the arguments or the e-mail, never from the person's other
    memberships: a person joining a second organization looks there exactly as a new
    person would, and what the first organization shows of them stays private to it.
    """
    membership = Membership(
        org_id=org_id,
        user_id=user.id,
        role=role.value,
        first_name=(first_name or user.email.split("@", 1)[0][:NAME_MAX]).strip(),
        last_name=(last_name or "").strip(),
    )
    uow.session.add(membership)
    uow.session.flush()
    return membership


def create_organization(uow: UnitOfWork, *, name: str, admin_email: str) -> Credentials:
    """A new organization with one admin member and a token for that admin."""
    if not name.strip() or len(name) > 250:
        raise ValidationFailed.one("name", "The organization name must be 1 to 250 characters.")
    org = Organization(name=name.strip())
    uow.session.add(org)
    uow.session.flush()
    user = _ensure_user(uow, admin_email)
    join(uow, org.id, user, Role.ADMIN)
    return Credentials(org.id, user.id, issue_token(uow, user.id))


def add_member(uow: UnitOfWork, *, org_id: str, email: str, role: Role) -> Credentials:
    if uow.session.get(Organization, org_id) is None:
        raise NotFound("Organization")
    user = _ensure_user(uow, email)
    membership = uow.session.scalar(
        select(Membership).where(Membership.org_id == org_id, Membership.user_id == user.id)
    )
    if membership is None:
        join(uow, org_id, user, role)
    elif membership.role != role.value:
        locks.lock_organization(uow.session, org_id)
        uow.session.refresh(membership)
        keep_an_active_admin(uow, membership, "role")
        membership.role = role.value
    uow.session.flush()
    return Credentials(org_id, user.id, issue_token(uow, user.id))


def keep_an_active_admin(uow: UnitOfWork, membership: Membership, field: str) -> None:
    """Refuse to demote or disable the organization's last active admin (the API's member
    routes and `procflow users add` alike).

    Call it holding the organization's lock, taken before `membership` was read: two
    admins who demote or disable each other at once, through any two server processes,
    are then checked one after the other, and the second sees the first's change.
    """
    is_active_admin = membership.role == Role.ADMIN.value and membership.disabled_at is None
    if is_active_admin and _active_admins(uow, membership.org_id) <= 1:
        raise ValidationFailed.one(field, "The organization needs at least one administrator.")


def _active_admins(uow: UnitOfWork, org_id: str) -> int:
    query = select(func.count()).where(
        Membership.org_id == org_id,
        Membership.role == Role.ADMIN.value,
        Membership.disabled_at.is_(None),
    )
    return int(uow.session.scalar(query) or 0)


def create_token(uow: UnitOfWork, *, email: str) -> tuple[int, str]:
    user = _user_by_email(uow, email)
    if user is None:
        raise NotFound("User")
    return user.id, issue_token(uow, user.id)


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown of a token: never the token, only its first characters."""

    id: int
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def tokens_of(uow: UnitOfWork, *, email: str) -> tuple[int, list[TokenInfo]]:
    """A person's personal access tokens, live and revoked, oldest first."""
    user = _user_by_email(uow, email)
    if user is None:
        raise NotFound("User")
    rows = uow.session.scalars(
        select(AccessToken).where(AccessToken.user_id == user.id).order_by(AccessToken.id)
    )
    return user.id, [TokenInfo(t.id, t.prefix, t.created_at, t.revoked_at) for t in rows]


def revoke_tokens(
    uow: UnitOfWork,
    *,
    token: str | None = None,
    token_id: int | None = None,
    email: str | None = None,
) -> list[int]:
    """Revoke one token (by its value or id) or every live token of a person (by email).

    Answers the ids revoked now; a token revoked before stays as it was, so repeating a
    revocation is harmless. A running server stops accepting the token within its caller
    cache's lifetime (`PROCFLOW_AUTH_CACHE_SECONDS`).
    """
    query = select(AccessToken)
    if token is not None:
        query = query.where(AccessToken.token_hash == hash_token(token))
    elif token_id is not None:
        if not 0 < token_id <= MAX_TOKEN_ID:
            raise NotFound("Token")
        query = query.where(AccessToken.id == token_id)
    elif email is not None:
        user = _user_by_email(uow, email)
        if user is None:
            raise NotFound("User")
        query = query.where(AccessToken.user_id == user.id)
    else:
        raise ValidationFailed.one("token", "Name a token, a token id or an email.")
    found = list(uow.session.scalars(query.order_by(AccessToken.id)))
    if not found and email is None:
        raise NotFound("Token")
    now = utcnow()
    revoked = []
    for access_token in found:
        if access_token.revoked_at is None:
            access_token.revoked_at = now
            revoked.append(access_token.id)
    uow.session.flush()
    return revoked


def next_sequence(uow: UnitOfWork, org_id: str, column: str) -> int:
    """The next human-friendly increment id of an organization (runs, templates, tasks)."""
    counter = getattr(Organization, column)
    value = uow.session.execute(
        update(Organization)
        .where(Organization.id == org_id)
        .values({counter: counter + 1})
        .returning(counter)
    ).scalar_one()
    return int(value)


def member_ids(uow: UnitOfWork, org_id: str, candidates: set[int]) -> set[int]:
    """Which of `candidates` are active members of the organization."""
    candidates = {c for c in candidates if 0 < c <= MAX_USER_ID}
    if not candidates:
        return set()
    rows = uow.session.scalars(
        select(Membership.user_id).where(
            Membership.org_id == org_id,
            Membership.user_id.in_(candidates),
            Membership.disabled_at.is_(None),
        )
    )
    return set(rows)
