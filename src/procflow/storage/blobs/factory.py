"""The blob store the settings name."""

from procflow.settings import Settings
from procflow.storage.blobs.base import BlobStore
from procflow.storage.blobs.directory import DirectoryBlobs


def open_blob_store(settings: Settings) -> BlobStore:
    if settings.files_backend == "s3":
        from procflow.storage.blobs.s3 import S3Blobs

        return S3Blobs(
            settings.files_s3_bucket,
            prefix=settings.files_s3_prefix,
            endpoint_url=settings.files_s3_endpoint_url or None,
            region=settings.files_s3_region or None,
        )
    return DirectoryBlobs(settings.files_dir)
