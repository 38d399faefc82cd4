"""The S3 blob store against a real S3-compatible server (moto in server mode): the same
round trips as the directory store, the objects where the settings put them."""

import io
from datetime import timedelta

import boto3

from procflow.domain.timeutil import utcnow
from procflow.storage.blobs import make_key
from procflow.storage.blobs.s3 import S3Blobs
from tests.factories import World
from tests.files.conftest import PDF, PNG, make_form


def objects(endpoint: str, bucket: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_upload_download_delete_through_the_bucket(
    s3_world: World, s3_endpoint: str, s3_bucket: str
) -> None:
    form = make_form(s3_world)
    asset = form.uploaded(PNG, "photo.png")
    key = f"uploads/{s3_world.org_id}/{asset['id']}"
    assert objects(s3_endpoint, s3_bucket) == [key]
    inline = s3_world.call("GET", f"/file/{asset['id']}")
    assert inline.content == PNG
    assert inline.headers["content-type"] == "image/png"
    assert s3_world.call("GET", f"/file/{asset['id']}/dl").content == PNG
    refused = form.upload(b"MZ\x90\x00" + b"\0" * 60, "x.pdf")
    assert refused.status_code == 422
    assert objects(s3_endpoint, s3_bucket) == [key]
    assert s3_world.call("DELETE", f"/assets/{asset['id']}").status_code == 200
    assert objects(s3_endpoint, s3_bucket) == [key]  # archived: the bytes stay
    second = form.uploaded(PDF)
    assert s3_world.call("DELETE", f"/file/{second['id']}").status_code == 200
    assert objects(s3_endpoint, s3_bucket) == [key]


def test_the_store_itself(s3_endpoint: str, s3_bucket: str, s3_env: None) -> None:
    store = S3Blobs(s3_bucket, prefix="p", endpoint_url=s3_endpoint, region="us-east-1")
    key = make_key("a" * 32, "b" * 32)
    assert not store.exists(key)
    store.put(key, io.BytesIO(b"hello"), 5)
    assert store.exists(key)
    assert b"".join(store.open(key)) == b"hello"
    listed = list(store.list())
    assert [blob.key for blob in listed] == [key]
    assert listed[0].modified <= utcnow() + timedelta(days=1)
    store.delete(key)
    store.delete(key)  # a missing key is not an error
    assert not store.exists(key)
    assert list(store.list()) == []
