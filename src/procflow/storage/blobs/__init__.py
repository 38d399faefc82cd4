"""Where uploaded files' bytes live: one interface, a directory or an S3-compatible bucket.

Keys are made by the server (`<org id>/<asset id>`, hex only): a client's file name never
reaches a path or an object key. The database row of an asset is the truth; bytes are
written before the row commits and deleted if it does not (see `services.files`), so a
crash can leave at most bytes without a row, which `services.files.sweep` removes.
"""

from procflow.storage.blobs.base import BlobStore, StoredBlob, make_key
from procflow.storage.blobs.directory import DirectoryBlobs
from procflow.storage.blobs.factory import open_blob_store

__all__ = ["BlobStore", "DirectoryBlobs", "StoredBlob", "make_key", "open_blob_store"]
