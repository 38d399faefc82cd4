"""The interface every blob store implements."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol

CHUNK_BYTES = 256 * 1024
_KEY = re.compile(r"[0-9a-f]{1,64}/[0-9a-f]{32}")


def make_key(org_id: str, asset_id: str) -> str:
    """The storage key of an asset; refuses anything but the hex ids the server makes."""
    key = f"{org_id}/{asset_id}"
    if _KEY.fullmatch(key) is None:
        raise ValueError("storage keys are made of server-generated hex ids only")
    return key


def is_key(key: str) -> bool:
    return _KEY.fullmatch(key) is not None


@dataclass(frozen=True)
class StoredBlob:
    """A key the store holds, and when it was last written (for the orphan sweeper)."""

    key: str
    modified: datetime


class BlobStore(Protocol):
    """Put, read, delete and list whole objects by key.

    `put` stores the whole stream or nothing under `key` (a reader never sees part of an
    object); `delete` of a missing key is not an error.
    """

    name: str

    def put(self, key: str, stream: BinaryIO, size: int) -> None: ...

    def open(self, key: str) -> Iterator[bytes]: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def list(self) -> Iterator[StoredBlob]: ...
