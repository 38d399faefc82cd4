"""A server killed in the middle of an upload leaves nothing half-stored.

A real `procflow serve` receives an upload that announces `Expect: 100-continue`: the
server answers `100 Continue` only once the upload route has begun reading the body, so
the test knows, without waiting on a clock, that the server is mid-upload when it sends
half the body and kills the process (SIGKILL). After a restart the database holds no row
for it, the file store holds no bytes for it (not even a partial file), and the orphan
sweeper finds nothing to remove.
"""

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.stress.harness import Api, Org, Server, bootstrap, database_kind, fresh_database

pytestmark = pytest.mark.slow
PDF = b"%PDF-1.4\n" + b"0" * (512 * 1024) + b"\n%%EOF\n"


def multipart(fields: dict[str, str], content: bytes) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    body = b"".join(parts) + head + content + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, Org, Path]]:
    files = tmp_path / "files"
    with fresh_database(database_kind(), tmp_path) as url:
        server = Server(url, tmp_path, env={"PROCFLOW_FILES_DIR": str(files)})
        server.start()
        try:
            yield server, bootstrap(server), files
        finally:
            server.stop()


def stored(files: Path) -> list[str]:
    return sorted(str(p.relative_to(files)) for p in files.rglob("*") if p.is_file())


def asset_rows(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT storage_key FROM asset")).scalars())
    finally:
        engine.dispose()


def test_a_kill_mid_upload_leaves_nothing_half_stored(served: tuple[Server, Org, Path]) -> None:
    server, org, files = served
    with Api(server, org) as api:
        checklist = api.create_template("Crash")
        fields = {"uploaded_from": "ko_field", "subject_type": "Checklist", "subject_id": checklist}
        content_type, body = multipart(fields, PDF)
        control = api.http.post("/file", content=body, headers={"Content-Type": content_type})
        assert control.status_code == 200, control.text
    kept = stored(files)
    assert len(kept) == 1
    assert asset_rows(server.database_url) == kept

    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        head = (
            f"POST /organizations/{org.org_id}/file HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            f"Authorization: Bearer {org.token}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\n\r\n"
        )
        sock.sendall(head.encode())
        reply = sock.recv(64)
        assert reply.startswith(b"HTTP/1.1 100"), reply
        sock.sendall(body[: len(body) // 2])
        server.kill()

    server.start()
    assert stored(files) == kept
    assert asset_rows(server.database_url) == kept
    assert server.cli("files", "sweep", "--grace", "0") == {"deleted": []}
    with Api(server, org) as api:
        asset_id = control.json()["data"]["id"]
        assert api.http.get(f"/file/{asset_id}/dl").content == PDF
