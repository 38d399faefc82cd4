"""Fixtures for the file tests: a run with file and image fields, clients with other limits
or another blob store, and a real S3-compatible server (moto in server mode)."""

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine

from procflow.api.app import create_app
from procflow.settings import Settings
from procflow.storage.database import make_session_factory
from tests.factories import Member, World

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\0" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\0" * 64


@dataclass
class Form:
    """A run whose kick-off form has a file field and whose first task (the light
    member's) has a file and an image field; a guest holds the second task's file field."""

    world: World
    checklist_id: str
    run_id: str
    kickoff_file: str
    task_file: str
    task_image: str
    guest_file: str
    task_id: str
    guest_task_id: str
    guest: Member

    def upload(
        self,
        content: bytes = PDF,
        filename: str = "report.pdf",
        member: Member | None = None,
        **fields: str,
    ) -> Response:
        data = {
            "uploaded_from": self.task_file,
            "subject_type": "Run",
            "subject_id": self.run_id,
            "checklist_id": self.checklist_id,
            **fields,
        }
        return self.world.call(
            "POST", "/file", member, data=data, files={"name": (filename, content, "x/y")}
        )

    def uploaded(self, content: bytes = PDF, filename: str = "report.pdf", **fields: str) -> Any:
        response = self.upload(content, filename, None, **fields)
        assert response.status_code == 200, response.text
        return response.json()["data"]


def make_form(world: World) -> Form:
    guest_email = f"guest-{uuid4().hex[:8]}@example.com"
    ids = [uuid4().hex for _ in range(4)]
    checklist = world.template(
        kickoff=[{"id": ids[0], "field_type": "file", "label": "Contract"}],
        steps=[
            {
                "title": "Collect",
                "assignees": [world.light.user_id],
                "captures": [
                    {"id": ids[1], "field_type": "file", "label": "Invoice"},
                    {"id": ids[2], "field_type": "image", "label": "Photo"},
                ],
            },
            {
                "title": "Guest",
                "guests": [guest_email],
                "captures": [{"id": ids[3], "field_type": "file", "label": "Signed"}],
            },
        ],
    )
    run = world.launch(checklist)
    tasks = world.call("GET", f"/runs/{run['id']}/tasks").json()["data"]
    assert world.call("POST", "/guests", json={"email": guest_email}).status_code == 201
    token = world.call("POST", f"/guests/{guest_email}/token").json()["data"]["token"]
    return Form(
        world, checklist, run["id"], ids[0], ids[1], ids[2], ids[3],
        tasks[0]["id"], tasks[1]["id"], Member(0, token),
    )  # fmt: skip


@pytest.fixture
def form(world: World) -> Form:
    return make_form(world)


def client_with(settings: Settings, **changes: Any) -> TestClient:
    return TestClient(
        create_app(settings.model_copy(update=changes)), raise_server_exceptions=False
    )


@pytest.fixture
def small_client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    """The app with a 1 KiB file limit."""
    with client_with(settings, max_file_bytes=1024, files_dir=str(tmp_path)) as client:
        yield client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible server in a child process, on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert process.stderr is not None
    for raw in process.stderr:  # blocks until werkzeug says it is listening
        if b"Running on" in raw:
            break
    else:
        raise RuntimeError("moto server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait()
        process.stderr.close()


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3_bucket(s3_endpoint: str, s3_env: None) -> str:
    import boto3

    name = f"procflow-{uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_world(
    settings: Settings, engine: Engine, s3_endpoint: str, s3_bucket: str
) -> Iterator[World]:
    """An organization served by an app whose files live in the S3 bucket."""
    changes = {
        "files_backend": "s3",
        "files_s3_bucket": s3_bucket,
        "files_s3_endpoint_url": s3_endpoint,
        "files_s3_region": "us-east-1",
        "files_s3_prefix": "uploads",
    }
    with client_with(settings, **changes) as client:
        yield World.create(make_session_factory(engine), client)
