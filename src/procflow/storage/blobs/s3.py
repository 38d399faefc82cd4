"""Blobs in an S3-compatible bucket, through boto3 (the `procflow[s3]` extra).

For deployments with several server nodes: every node reads and writes one bucket. A put
is one PutObject (up to the configured file limit, well under S3's 5 GB single-put
ceiling): S3 stores the whole object or nothing, so no partial object is ever visible.
"""

from collections.abc import Iterator
from typing import Any, BinaryIO

from procflow.storage.blobs.base import CHUNK_BYTES, StoredBlob, is_key


class S3Blobs:
    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        if client is None:
            try:
                import boto3
            except ImportError as exc:  # pragma: no cover - depends on the installed extras
                raise RuntimeError(
                    "PROCFLOW_FILES_BACKEND=s3 needs boto3: install procflow[s3]"
                ) from exc
            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _name(self, key: str) -> str:
        if not is_key(key):
            raise ValueError("not a storage key")
        return self.prefix + key

    def put(self, key: str, stream: BinaryIO, size: int) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._name(key), Body=stream, ContentLength=size
        )

    def open(self, key: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK_BYTES)
            finally:
                body.close()

        return chunks()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def list(self) -> Iterator[StoredBlob]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                if is_key(key):
                    yield StoredBlob(key, item["LastModified"].replace(tzinfo=None))
