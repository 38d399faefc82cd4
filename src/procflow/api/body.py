"""Strict JSON request bodies, read before FastAPI sees them.

A body is read with a size cap (413); content types other than JSON are refused (415); it
is parsed with orjson (which refuses NaN, Infinity and invalid UTF-8), its nesting depth is
bounded, and it must be a JSON object (400); array and string lengths are bounded too
(422, naming the field). An empty body counts as `{}`, because Tallyfy's clients send empty
bodies with a JSON content type on PUT and DELETE.
"""

from typing import Any

import orjson
from fastapi import Request

from procflow.api.problems import BadRequest, PayloadTooLarge, UnsupportedMediaType
from procflow.errors import ValidationFailed


def check_body_limits(body: Any, *, max_depth: int, max_items: int, max_chars: int) -> None:
    """Nesting depth, array lengths, string lengths and NUL characters, in ONE pass.

    Iterative (a hostile body cannot exhaust the stack) and cheap on the hot path: only
    containers carry their path, strings are checked where they stand. Too deep is a 400
    (the body's shape is unusable); an over-long array, string or key, or text holding
    U+0000 (which PostgreSQL cannot store), is a 422 naming the field path.
    """
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(body, 1, ())]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth, path = pop()
        keyed = type(item) is dict
        if keyed:
            pairs: Any = item.items()
        elif len(item) > max_items:
            raise _invalid(path, f"At most {max_items} items are allowed.")
        else:
            pairs = enumerate(item)
        for key, child in pairs:
            if keyed and (len(key) > max_chars or "\x00" in key):
                raise _invalid(path, f"Keys may hold at most {max_chars} characters, and no NUL.")
            kind = type(child)
            if kind is str:
                if len(child) > max_chars:
                    raise _invalid((*path, key), f"At most {max_chars} characters are allowed.")
                if "\x00" in child:
                    raise _invalid((*path, key), "The NUL character (U+0000) is not allowed.")
            elif kind is dict or kind is list:
                if depth >= max_depth:
                    raise BadRequest(f"The request body nests deeper than {max_depth} levels.")
                push((child, depth + 1, (*path, key)))


def _invalid(path: tuple[str | int, ...], message: str) -> ValidationFailed:
    return ValidationFailed({".".join(map(str, path)) or "body": [message]})


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise BadRequest("Content-Length is not a number.")
        if len(declared) > 19 or int(declared) > limit:
            raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def parse_json_body(request: Request) -> Any:
    settings = request.app.state.settings
    raw = await read_capped(request, settings.max_body_bytes)
    if not raw.strip():
        return {}
    content_type = request.headers.get("content-type")
    if content_type and not is_json_type(content_type):
        raise UnsupportedMediaType("This endpoint accepts application/json bodies only.")
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc.msg}.") from exc
    if not isinstance(parsed, dict):
        raise BadRequest("The request body must be a JSON object.")
    check_body_limits(
        parsed,
        max_depth=settings.max_json_depth,
        max_items=settings.max_array_items,
        max_chars=settings.max_string_chars,
    )
    return parsed
