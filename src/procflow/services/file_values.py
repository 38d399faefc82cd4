"""Uploaded files as form values, and what becomes of files when their owner goes.

A file or image field (kick-off `prerun`, task `taskdata`) holds an array of asset objects,
as Tallyfy's clients send them after an upload. Each is checked against the stored asset
(same organization, not archived, uploaded for this run or, on the kick-off form, for
its template) and stored in Tallyfy's shape with its download link. A held file belongs
to the run from then on: the run's access rules apply to it, and it goes with the run.
"""

from collections.abc import Iterable, Mapping
from contextlib import suppress
from typing import Any

from procflow.domain.form_fields import FieldSpec, FieldType
from procflow.domain.timeutil import format_ts
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Asset
from procflow.storage.repositories import assets as repo

FILE_TYPES = frozenset({FieldType.FILE.value, FieldType.IMAGE.value})
Subject = tuple[str, str]


def asset_data(asset: Asset) -> dict[str, Any]:
    """An asset as Tallyfy's AssetTransformer writes it."""
    return {
        "id": asset.id,
        "filename": asset.filename,
        "version": asset.version,
        "uploaded_from": asset.uploaded_from,
        "uploaded_at": format_ts(asset.uploaded_at),
        "step_id": asset.step_id,
        "source": asset.source,
        "system": asset.system,
        "uploaded_to_s3": True,
        "subject": {"id": asset.subject_id, "type": asset.subject_type},
    }


def value_of(asset: Asset) -> dict[str, Any]:
    """An asset as a form value holds it: its object plus the relative download link."""
    return {**asset_data(asset), "url": f"organizations/{asset.org_id}/file/{asset.id}/dl"}


def resolve(
    uow: UnitOfWork,
    org_id: str,
    specs: Mapping[str, FieldSpec],
    values: dict[str, Any],
    prefix: str,
    subjects: Iterable[Subject],
    run_id: str | None = None,
) -> tuple[list[Asset], dict[str, list[str]]]:
    """Replace file values (already shape-checked) by the stored assets' objects.

    Returns the assets the values hold (to `attach` to the run) and errors keyed
    `prefix.<field id>`: an unknown, archived or foreign id, a file uploaded for another
    object or held by another run, or a non-image in an image field.
    """
    allowed = set(subjects)
    wanted = {
        key: [item["id"] for item in value]
        for key, value in values.items()
        if key in specs and specs[key].field_type in FILE_TYPES and isinstance(value, list)
    }
    found = repo.many(uow.session, org_id, (str(i) for ids in wanted.values() for i in ids))
    held: list[Asset] = []
    errors: dict[str, list[str]] = {}
    for key, ids in wanted.items():
        spec, problems, resolved = specs[key], [], []
        for ident in ids:
            asset = found.get(str(ident))
            if asset is None or not _may_hold(asset, allowed, run_id):
                problems.append(f"{spec.label}: the file {ident} was not found.")
            elif spec.field_type == FieldType.IMAGE and not asset.content_type.startswith("image/"):
                problems.append(f"{spec.label} takes images only; {asset.filename} is not one.")
            else:
                resolved.append(value_of(asset))
                held.append(asset)
        if problems:
            errors[f"{prefix}.{key}"] = problems
        else:
            values[key] = resolved
    return held, errors


def _may_hold(asset: Asset, allowed: set[Subject], run_id: str | None) -> bool:
    """A file held by a run stays with that run; a free one goes where it was uploaded for."""
    if asset.run_id is not None:
        return asset.run_id == run_id
    return (asset.subject_type, asset.subject_id) in allowed


def attach(assets: Iterable[Asset], run_id: str) -> None:
    for asset in assets:
        asset.run_id = run_id


def discard(uow: UnitOfWork, assets: Iterable[Asset]) -> None:
    """Delete the rows now, and the bytes once the transaction has committed."""
    doomed = list(assets)
    if not doomed:
        return
    repo.remove(uow.session, doomed)
    blobs = uow.blobs
    if blobs is not None:
        keys = [a.storage_key for a in doomed]

        def delete_bytes() -> None:
            for key in keys:
                with suppress(Exception):  # a key left behind is the sweeper's
                    blobs.delete(key)

        uow.after_commit.append(delete_bytes)


def discard_run_files(uow: UnitOfWork, run_id: str) -> None:
    """A run deleted for good takes its files (uploads for it and files its values hold)."""
    discard(uow, repo.of_run(uow.session, run_id))


def discard_template_files(uow: UnitOfWork, checklist_id: str) -> None:
    """A template deleted for good takes its kick-off uploads that no run holds; files held
    by runs stay with those runs, which keep running without the template."""
    discard(uow, repo.of_template_unattached(uow.session, checklist_id))


def discard_task_files(uow: UnitOfWork, task_id: str) -> None:
    """A one-off task deleted for good takes its files."""
    discard(uow, repo.of_task(uow.session, task_id))
