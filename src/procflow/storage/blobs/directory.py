"""Blobs as files under one directory (`PROCFLOW_FILES_DIR`), the default store.

A put writes `<dir>/.incoming/<random>` and renames it onto `<dir>/<org>/<asset>` once
every byte is on disk (and fsync'd): a crash mid-write leaves only an `.incoming` file,
never a partial object under a real key. `list` reports the `.incoming` leftovers too,
so the sweeper removes them.
"""

import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from procflow.storage.blobs.base import CHUNK_BYTES, StoredBlob, is_key

INCOMING = ".incoming"


class DirectoryBlobs:
    name = "directory"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        if not is_key(key) and not key.startswith(INCOMING + "/"):
            raise ValueError("not a storage key")
        return self.root / key

    def put(self, key: str, stream: BinaryIO, size: int) -> None:
        target = self._path(key)
        incoming = self.root / INCOMING
        incoming.mkdir(parents=True, exist_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = incoming / secrets.token_hex(16)
        try:
            with partial.open("xb") as out:
                shutil.copyfileobj(stream, out, CHUNK_BYTES)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def open(self, key: str) -> Iterator[bytes]:
        handle = self._path(key).open("rb")

        def chunks() -> Iterator[bytes]:
            with handle:
                while chunk := handle.read(CHUNK_BYTES):
                    yield chunk

        return chunks()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self) -> Iterator[StoredBlob]:
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                key = f"{folder.name}/{path.name}"
                if path.is_file() and (is_key(key) or folder.name == INCOMING):
                    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                    yield StoredBlob(key, modified.replace(tzinfo=None))
