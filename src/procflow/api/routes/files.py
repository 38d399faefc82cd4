"""Files (Tallyfy's assets): `/organizations/{org_id}/assets`, `/file`, `/file/{id}[/dl]`.

An upload's body is received before its transaction opens, as for every route: it is
spooled to an anonymous temporary file (gone with the process, whatever happens) with
the size cap applied as it arrives (413), then parsed as multipart. Downloads stream the
stored bytes with `X-Content-Type-Options: nosniff` and a `Content-Disposition` whose
file name is safe for any client (RFC 6266 with an RFC 5987 `filename*`).
"""

import tempfile
from collections.abc import Callable, Coroutine, Iterator
from contextlib import suppress
from typing import Any, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from procflow.api.body import read_capped
from procflow.api.dependencies import Db
from procflow.api.guest_auth import CurrentActor
from procflow.api.presenters import envelope
from procflow.api.problems import BadRequest, PayloadTooLarge, UnsupportedMediaType
from procflow.api.responses import JsonResponse
from procflow.api.schemas.base import ERRORS
from procflow.api.schemas.files import UPLOAD_BODY, AssetEnvelope
from procflow.api.transaction import TransactionalRoute
from procflow.services import files
from procflow.storage.blobs import BlobStore

FORM_OVERHEAD = 64 * 1024  # the multipart framing and the text fields around the file
CHUNK = 256 * 1024
TEXT_FIELDS = 16


class FileRoute(TransactionalRoute):
    """Uploads: the body is spooled and parsed before the transaction; everything the
    request received is closed whatever the outcome. Other file routes have no body."""

    def build(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().build(path, endpoint, **kwargs)
        # Every upload stores a new file, as on Tallyfy: no Idempotency-Key replay here.
        self.takes_idempotency_key = False
        extra = self.openapi_extra or {}
        if "parameters" in extra:
            kept = [p for p in extra["parameters"] if p.get("name") != "Idempotency-Key"]
            self.openapi_extra = {**extra, "parameters": kept}

    async def prepare(self, request: Request) -> None:
        if request.method != "POST":
            request._body = await read_capped(request, request.app.state.settings.max_body_bytes)
            return
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "multipart/form-data":
            raise UnsupportedMediaType("Upload files as multipart/form-data.")
        limit = request.app.state.settings.max_file_bytes
        spool = await _spool(request, limit + FORM_OVERHEAD)
        request.state.spool = spool
        request.state.upload = await _parse(request, spool, limit)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def closing(request: Request) -> Response:
            try:
                return await handler(request)
            finally:
                _close(request)

        return closing


async def _spool(request: Request, limit: int) -> BinaryIO:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise BadRequest("Content-Length is not a number.")
        if len(declared) > 19 or int(declared) > limit:
            raise PayloadTooLarge(limit - FORM_OVERHEAD)
    spool: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 - closed by FileRoute
    request.state.spool = spool
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit - FORM_OVERHEAD)
        spool.write(chunk)
    spool.seek(0)
    return spool


async def _parse(request: Request, spool: BinaryIO, limit: int) -> files.Upload:
    """Multipart parsing (python-multipart, through Starlette) of the spooled body."""

    async def replay() -> dict[str, Any]:
        chunk = spool.read(CHUNK)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}

    parsing = Request(request.scope, replay)
    try:
        form = await parsing.form(max_files=1, max_fields=TEXT_FIELDS)
    except Exception as exc:  # python-multipart's and Starlette's refusals alike
        raise BadRequest("The multipart body could not be read.") from exc
    request.state.form = form
    part = form.get("name")
    stream: BinaryIO | None = None
    filename, size = None, 0
    if isinstance(part, UploadFile):
        stream, filename, size = part.file, part.filename, part.size or 0
        if size > limit:
            raise PayloadTooLarge(limit)
    text = {k: v for k, v in form.multi_items() if isinstance(v, str) and k != "name"}
    return files.Upload(fields=text, filename=filename, stream=stream, size=size)


def _close(request: Request) -> None:
    form = getattr(request.state, "form", None)
    if form is not None:
        for value in form.values():
            if isinstance(value, UploadFile):
                with suppress(Exception):
                    value.file.close()
    spool = getattr(request.state, "spool", None)
    if spool is not None:
        spool.close()


router = APIRouter(
    prefix="/organizations/{org_id}",
    tags=["files"],
    route_class=FileRoute,
    responses=ERRORS,
)


def _blobs(request: Request) -> BlobStore:
    blobs: BlobStore = request.app.state.blobs
    return blobs


async def _upload(request: Request, actor: CurrentActor, uow: Db) -> Response:
    asset = files.upload(uow, actor, _blobs(request), request.state.upload)
    return JsonResponse(envelope.item(files.asset_data(asset)))


UPLOAD = {"openapi_extra": UPLOAD_BODY, "response_model": AssetEnvelope}
router.add_api_route(
    "/assets",
    _upload,
    methods=["POST"],
    summary="Upload a file",
    **UPLOAD,  # type: ignore[arg-type]
)
router.add_api_route(
    "/file",
    _upload,
    methods=["POST"],
    summary="Upload a file (same as /assets)",
    **UPLOAD,  # type: ignore[arg-type]
)


@router.get("/assets/{asset_id}", response_model=AssetEnvelope, summary="A file's metadata")
async def get_asset(asset_id: str, actor: CurrentActor, uow: Db) -> Response:
    return JsonResponse(envelope.item(files.asset_data(files.get(uow, actor, asset_id))))


def content_disposition(kind: str, filename: str) -> str:
    """RFC 6266: an ASCII `filename` fallback and the exact name as RFC 5987 `filename*`."""
    fallback = "".join(
        c if (c.isascii() and c.isprintable() and c not in '"\\;%') else "_" for c in filename
    )
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _stream(download: files.Download, *, attachment: bool) -> Response:
    asset = download.asset
    media = "application/octet-stream" if attachment else asset.content_type
    headers = {
        "Content-Disposition": content_disposition(
            "attachment" if attachment else "inline", asset.filename
        ),
        "Content-Length": str(asset.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-cache",
    }
    chunks: Iterator[bytes] = download.chunks
    return StreamingResponse(chunks, media_type=media, headers=headers)


@router.get(
    "/file/{asset_id}",
    summary="A file's bytes, inline with its type",
    response_class=StreamingResponse,
    responses={200: {"content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def view_file(asset_id: str, request: Request, actor: CurrentActor, uow: Db) -> Response:
    return _stream(files.download(uow, actor, _blobs(request), asset_id), attachment=False)


@router.get(
    "/file/{asset_id}/dl",
    summary="Download a file (attachment)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_file(asset_id: str, request: Request, actor: CurrentActor, uow: Db) -> Response:
    return _stream(files.download(uow, actor, _blobs(request), asset_id), attachment=True)


@router.delete(
    "/file/{asset_id}",
    response_class=Response,
    response_description="Deleted; as Tallyfy, the answer has no body",
    summary="Delete a file and its bytes",
)
async def delete_file(asset_id: str, actor: CurrentActor, uow: Db) -> Response:
    files.delete(uow, actor, asset_id, archive_only=False)
    return Response(status_code=200)


@router.delete(
    "/assets/{asset_id}", response_model=AssetEnvelope, summary="Archive a file (bytes kept)"
)
async def archive_asset(asset_id: str, actor: CurrentActor, uow: Db) -> Response:
    asset = files.delete(uow, actor, asset_id, archive_only=True)
    return JsonResponse(envelope.item(files.asset_data(asset)))
