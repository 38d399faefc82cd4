"""Tags, folders and their links as Tallyfy's clients read them."""

from typing import Any

from procflow.domain.timeutil import format_ts
from procflow.services.folders import Filing, FolderView
from procflow.services.tags import Attachment, TagView


def tag_json(view: TagView) -> dict[str, Any]:
    tag = view.tag
    data: dict[str, Any] = {
        "id": tag.id,
        "title": tag.title,
        "color": tag.color,
        "auto_generated": tag.auto_generated,
        "created_at": format_ts(tag.created_at),
        "deleted_at": None,
    }
    if view.statistics is not None:
        data["statistics"] = {"data": view.statistics}
    return data


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    link, tag = attachment.link, attachment.tag
    return {
        "id": link.id,
        "tag_id": tag.id,
        "subject_id": attachment.subject_id,
        "subject_type": attachment.subject_type,
        "tag_type": link.tag_type,
        "title": tag.title,
        "color": tag.color,
        "auto_generated": tag.auto_generated,
        "created_at": format_ts(link.created_at),
    }


def folder_json(view: FolderView) -> dict[str, Any]:
    folder = view.folder
    data: dict[str, Any] = {
        "id": folder.id,
        "name": folder.name,
        "parent_id": folder.parent_id,
        "parent": view.parent_name,
        "total": view.total,
        "position": folder.position,
        "folder_type": folder.folder_type,
        "created_at": format_ts(folder.created_at),
        "last_updated": format_ts(folder.last_updated),
    }
    if view.children is not None:
        data["children"] = {"data": [folder_json(child) for child in view.children]}
    return data


def filing_json(filing: Filing) -> dict[str, Any]:
    link = filing.link
    return {
        "id": link.id,
        "folder_id": link.folder_id,
        "subject_id": link.run_id or link.task_id,
        "subject_type": filing.subject_type,
        "created_at": format_ts(link.created_at),
    }
