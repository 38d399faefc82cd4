"""Locks that make a check and the write it allows one step, across server processes.

A use case that checks a rule over many rows (the organization keeps an active admin,
folders form a tree, a template's steps are numbered 1..n) and then writes must not let
another transaction change those rows in between. On SQLite every write transaction
already begins with `BEGIN IMMEDIATE`, which admits one writer at a time across every
process on the file, and reads inside it see the latest commit; these locks are no-ops
there. On PostgreSQL they are taken first, before the rows the check reads, and held
until commit; under READ COMMITTED every later statement then sees what the previous
holder committed.
"""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from procflow.storage.models import Checklist, Group

ORGANIZATION_LOCKS = 0x70660001
"""The first key of the organizations' advisory locks: one namespace of procflow's own."""


def lock_organization(session: Session, org_id: str) -> None:
    """Hold the organization's rule lock until commit.

    It is a transaction-level advisory lock, not a row lock on `organization`: inserts
    that reference the organization (a foreign-key share lock) and the sequence counters
    on its row (`next_sequence`, taken by launches while they hold a run) do not wait on
    it, and it cannot deadlock with them. Only the use cases that take it wait for one
    another; take it before any row lock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(select(func.pg_advisory_xact_lock(ORGANIZATION_LOCKS, func.hashtext(org_id))))


def lock_checklist(session: Session, checklist_id: str) -> Checklist | None:
    """The template, re-read with its row held until commit (FOR NO KEY UPDATE).

    Template edits already update that row, so they wait for one another and nothing
    else: launches that reference the template (a key-share lock) go on.
    """
    return session.get(
        Checklist, checklist_id, with_for_update={"key_share": True}, populate_existing=True
    )


def lock_group(session: Session, group_id: str) -> Group | None:
    """The group, re-read with its row held until commit (FOR NO KEY UPDATE)."""
    return session.get(Group, group_id, with_for_update={"key_share": True}, populate_existing=True)
