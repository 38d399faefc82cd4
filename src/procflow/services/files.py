"""Uploaded files: upload, metadata, download, archive, delete, and the orphan sweeper.

Access follows the object a file belongs to: a file held by a run, or uploaded for one,
is seen by whoever may read that run (a guest: only files of its own tasks' fields); a
kick-off upload not yet held by a run by any member (templates are readable by all); a
one-off task's file by whoever may read the task. Uploading needs the right to fill the
field; deleting or archiving, the uploader or whoever may change the run or template.

Bytes are written before the row, and deleted again if the transaction does not commit
(`UnitOfWork.after_rollback`). A process killed between the two leaves bytes without a
row: `sweep` deletes those, once older than the grace period.
"""

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from procflow.domain import files as rules
from procflow.domain import permissions
from procflow.domain.ids import new_id
from procflow.domain.timeutil import utcnow
from procflow.errors import NotFound, PermissionDenied, ValidationFailed
from procflow.services import activity, guests, runs, tasks
from procflow.services.comments import Actor
from procflow.services.file_values import asset_data
from procflow.services.guests import GuestCaller
from procflow.services.template_fields import load_checklist
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.blobs import BlobStore, make_key
from procflow.storage.models import Asset
from procflow.storage.repositories import assets as repo

SUBJECT_TYPES = ("Run", "Checklist", "Task")
SOURCES = ("local", "url")
KICKOFF = "ko_field"
ID_MAX = 64


@dataclass
class Upload:
    """A received multipart upload: its text fields, and the file spooled to a temp file."""

    fields: Mapping[str, str]
    filename: str | None
    stream: BinaryIO | None
    size: int


@dataclass(frozen=True)
class Download:
    asset: Asset
    chunks: Iterator[bytes]


__all__ = ["Download", "Upload", "asset_data", "delete", "download", "get", "sweep", "upload"]


def _text(fields: Mapping[str, str], name: str, errors: dict[str, list[str]]) -> str | None:
    value = (fields.get(name) or "").strip()
    if not value:
        return None
    if len(value) > ID_MAX:
        errors[name] = [
            f"The {name.replace('_', ' ')} may not be greater than {ID_MAX} characters."
        ]
    return value


def _check_fields(upload: Upload) -> dict[str, str | None]:
    errors: dict[str, list[str]] = {}
    names = ("subject_type", "subject_id", "uploaded_from", "step_id", "checklist_id", "source")
    values = {name: _text(upload.fields, name, errors) for name in (*names, "system")}
    for name in ("subject_type", "subject_id", "uploaded_from"):
        if values[name] is None:
            errors[name] = [f"The {name.replace('_', ' ')} field is required."]
    if values["subject_type"] and values["subject_type"] not in SUBJECT_TYPES:
        errors["subject_type"] = ["The selected subject type is invalid."]
    if values["source"] and values["source"] not in SOURCES:
        errors["source"] = ["The selected source is invalid."]
    if upload.stream is None:
        errors["name"] = ["The name field is required and must be a file."]
    if errors:
        raise ValidationFailed(errors)
    return values


def _subject_invalid() -> ValidationFailed:
    return ValidationFailed.one("subject_id", "The selected subject id is invalid.")


def _check_subject(uow: UnitOfWork, actor: Actor, kind: str, subject: str, field: str) -> None:
    """Refuse an upload the caller may not make: 422 for a subject it cannot see (as
    Tallyfy's AssetUploadSubject does), 403 for one it sees but may not fill."""
    if isinstance(actor, GuestCaller):
        if (
            kind != "Run"
            or repo.field_of_guest(
                uow.session, actor.org_id, guests.normalize_email(actor.email), subject, field
            )
            is None
        ):
            raise PermissionDenied("Guests upload files only to form fields of their tasks.")
        return
    try:
        if kind == "Run":
            _check_run_field(uow, actor, subject, field)
        elif kind == "Checklist":
            load_checklist(uow, actor, subject)
            if not permissions.can_launch(actor):
                raise PermissionDenied("You don't have permission to upload kick-off files.")
        else:
            task, run = tasks.find_task(uow, actor, subject, None)
            if not tasks.may_act(uow, actor, task, run):
                raise PermissionDenied("You don't have permission to upload files here.")
    except NotFound:
        raise _subject_invalid() from None


def _check_run_field(uow: UnitOfWork, caller: permissions.Caller, run_id: str, field: str) -> None:
    """Who may change the run, or act on the task whose field `field` is."""
    run = runs.load(uow, caller, run_id)
    if permissions.can_update_run(caller, runs.stake_in(uow, caller, run)):
        return
    holder = repo.field_of_run(uow.session, run.id, field)
    if holder is not None and holder.task_id is not None:
        task, _ = tasks.find_task(uow, caller, holder.task_id, run.id)
        if tasks.may_act(uow, caller, task, run):
            return
    raise PermissionDenied("You don't have permission to upload files here.")


def upload(uow: UnitOfWork, actor: Actor, blobs: BlobStore, received: Upload) -> Asset:
    """Store one uploaded file and its row (`POST /assets`, `POST /file`)."""
    values = _check_fields(received)
    kind, subject, field = values["subject_type"], values["subject_id"], values["uploaded_from"]
    assert kind
    assert subject
    assert field
    assert received.stream is not None
    _check_subject(uow, actor, kind, subject, field)
    stream = received.stream
    stream.seek(0)
    head = stream.read(rules.SNIFF_BYTES)
    try:
        detected = rules.detect(head, _chunks(stream))
    except rules.FileTypeRefused as refused:
        raise ValidationFailed.one("name", str(refused)) from None
    digest = hashlib.sha256()
    for chunk in _chunks(stream):
        digest.update(chunk)
    asset_id = new_id()
    key = make_key(actor.org_id, asset_id)
    uow.after_rollback.append(lambda: blobs.delete(key))
    stream.seek(0)
    blobs.put(key, stream, received.size)
    guest = isinstance(actor, GuestCaller)
    asset = Asset(
        id=asset_id,
        org_id=actor.org_id,
        storage_key=key,
        filename=rules.clean_filename(received.filename),
        content_type=detected.content_type,
        size=received.size,
        sha256=digest.hexdigest(),
        uploaded_from=field,
        subject_type=kind,
        subject_id=subject,
        step_id=values["step_id"],
        checklist_id=values["checklist_id"],
        source=values["source"] or "local",
        system=values["system"],
        uploaded_by=None if guest else actor.user_id,  # type: ignore[union-attr]
        uploaded_by_guest=actor.guest_id if guest else None,  # type: ignore[union-attr]
        uploaded_at=utcnow(),
    )
    uow.session.add(asset)
    uow.session.flush()
    if not guest:
        activity.record(uow, actor, "uploaded", "asset", asset.id, new=asset.filename)  # type: ignore[arg-type]
    return asset


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    stream.seek(0)
    while chunk := stream.read(256 * 1024):
        yield chunk


def _readable(uow: UnitOfWork, actor: Actor, asset_id: str) -> Asset:
    """The asset, if the caller may see what it belongs to (else NotFound/PermissionDenied)."""
    asset = repo.get(uow.session, actor.org_id, asset_id)
    if asset is None:
        raise NotFound("File")
    run_id = asset.run_id or (asset.subject_id if asset.subject_type == "Run" else None)
    if isinstance(actor, GuestCaller):
        email = guests.normalize_email(actor.email)
        if (
            run_id is None
            or repo.field_of_guest(uow.session, actor.org_id, email, run_id, asset.uploaded_from)
            is None
        ):
            raise PermissionDenied("You don't have permission to view this file.")
        return asset
    try:
        if run_id is not None:
            runs.load(uow, actor, run_id)
        elif asset.subject_type == "Task":
            tasks.find_task(uow, actor, asset.subject_id, None)
    except NotFound:
        raise PermissionDenied("You don't have permission to view this file.") from None
    return asset


def get(uow: UnitOfWork, actor: Actor, asset_id: str) -> Asset:
    return _readable(uow, actor, asset_id)


def download(uow: UnitOfWork, actor: Actor, blobs: BlobStore, asset_id: str) -> Download:
    """The asset and its bytes (a read: no activity entry, unlike Tallyfy's `/dl`)."""
    asset = _readable(uow, actor, asset_id)
    try:
        chunks = blobs.open(asset.storage_key)
    except (FileNotFoundError, KeyError):
        raise NotFound("File") from None
    except Exception as exc:
        if "NoSuchKey" in type(exc).__name__ or "NoSuchKey" in str(exc):
            raise NotFound("File") from None
        raise
    return Download(asset, chunks)


def delete(uow: UnitOfWork, actor: Actor, asset_id: str, *, archive_only: bool) -> Asset:
    """`DELETE /file/{id}` removes row and bytes; `DELETE /assets/{id}` archives the row
    and keeps the bytes (Tallyfy's two endpoints)."""
    asset = _readable(uow, actor, asset_id)
    if isinstance(actor, GuestCaller) or not _may_remove(uow, actor, asset):
        raise PermissionDenied("You don't have permission to delete this file.")
    verb = "archived" if archive_only else "deleted"
    activity.record(uow, actor, verb, "asset", asset.id, run_id=asset.run_id, old=asset.filename)
    if archive_only:
        asset.archived_at = utcnow()
        uow.session.flush()
        return asset
    from procflow.services.file_values import discard

    discard(uow, [asset])
    return asset


def _may_remove(uow: UnitOfWork, caller: permissions.Caller, asset: Asset) -> bool:
    if caller.is_admin or asset.uploaded_by == caller.user_id:
        return True
    run_id = asset.run_id or (asset.subject_id if asset.subject_type == "Run" else None)
    if run_id is not None:
        run = runs.load(uow, caller, run_id)
        return permissions.can_update_run(caller, runs.stake_in(uow, caller, run))
    return asset.subject_type == "Checklist" and permissions.can_manage_catalog(caller)


def sweep(uow: UnitOfWork, blobs: BlobStore, grace_seconds: int) -> list[str]:
    """Delete stored bytes that no asset row names, if older than the grace period (an
    upload in flight writes its bytes before its row commits). Returns the keys deleted."""
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    stale = [blob.key for blob in blobs.list() if blob.modified <= cutoff]
    known = repo.all_keys(uow.session, stale)
    doomed = [key for key in stale if key not in known]
    for key in doomed:
        blobs.delete(key)
    return doomed
