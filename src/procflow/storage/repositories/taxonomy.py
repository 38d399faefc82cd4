"""Lookups of tags and folders by id within one organization."""

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from procflow.storage.models import Folder, Tag


def existing_tag_ids(session: Session, org_id: str, ids: Collection[str]) -> set[str]:
    if not ids:
        return set()
    return set(session.scalars(select(Tag.id).where(Tag.org_id == org_id, Tag.id.in_(ids))))


def existing_folder_ids(session: Session, org_id: str, ids: Collection[str]) -> set[str]:
    if not ids:
        return set()
    return set(
        session.scalars(select(Folder.id).where(Folder.org_id == org_id, Folder.id.in_(ids)))
    )
