"""Bytes never outlive a failed transaction, and the sweeper removes what a crash between
writing the bytes and committing the row can leave."""

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from procflow.domain.permissions import Caller, Role
from procflow.services import files
from procflow.services.unit_of_work import UnitOfWork
from procflow.settings import Settings
from procflow.storage.blobs import DirectoryBlobs, make_key
from procflow.storage.database import make_session_factory
from procflow.storage.models import Asset
from tests.factories import World
from tests.files.conftest import PDF, Form


class Boom(Exception):
    pass


def test_an_upload_whose_transaction_fails_leaves_no_bytes(form: Form, tmp_path: Path) -> None:
    world = form.world
    blobs = DirectoryBlobs(tmp_path)
    factory = make_session_factory(world.factory.engine)
    factory.blobs = blobs
    caller = Caller(world.admin.user_id, world.org_id, Role.ADMIN)
    received = files.Upload(
        fields={
            "uploaded_from": "ko_field",
            "subject_type": "Checklist",
            "subject_id": form.checklist_id,
        },
        filename="a.pdf",
        stream=io.BytesIO(PDF),
        size=len(PDF),
    )
    written: list[Asset] = []

    def upload_then_fail() -> None:
        with UnitOfWork(factory, write=True) as uow:
            written.append(files.upload(uow, caller, blobs, received))
            assert blobs.exists(written[0].storage_key)  # written before the row commits
            raise Boom

    with pytest.raises(Boom):
        upload_then_fail()
    (asset,) = written
    assert list(blobs.list()) == []
    with UnitOfWork(factory, write=False) as uow:
        assert uow.session.scalar(select(Asset).where(Asset.id == asset.id)) is None


def test_the_sweeper_removes_bytes_without_a_row_once_old_enough(
    form: Form, world: World, settings: Settings, tmp_path: Path
) -> None:
    kept = form.uploaded()
    blobs = DirectoryBlobs(settings.files_dir)
    orphan = make_key(world.org_id, "e" * 32)
    blobs.put(orphan, io.BytesIO(b"left by a crash"), 15)
    incoming = Path(settings.files_dir) / ".incoming" / "partial"
    incoming.write_bytes(b"half")
    factory = make_session_factory(world.factory.engine)
    with UnitOfWork(factory, write=True) as uow:
        assert files.sweep(uow, blobs, grace_seconds=10**9) == []  # too young
    with UnitOfWork(factory, write=True) as uow:
        deleted = files.sweep(uow, blobs, grace_seconds=0)
    assert orphan in deleted
    assert ".incoming/partial" in deleted
    assert not blobs.exists(orphan)
    assert not incoming.exists()
    assert world.call("GET", f"/file/{kept['id']}").content == PDF
    del tmp_path


def test_keys_are_server_made_hex_only(tmp_path: Path) -> None:
    for org, asset in (("../x", "a" * 32), ("a" * 32, "../../etc"), ("A" * 32, "b" * 32)):
        with pytest.raises(ValueError, match="hex"):
            make_key(org, asset)
    with pytest.raises(ValueError, match="storage key"):
        DirectoryBlobs(tmp_path).open("../../etc/passwd")
