"""Masking secrets out of what the journal keeps: the journal must never hold a token.

Three nets, each catching what the others might miss: values under secret-sounding keys
(JSON keys, query parameters, headers), anything shaped like a procflow token wherever it
appears (a token endpoint's answer, a comment that quotes one), and the very tokens the
request presented, wherever they are echoed.
"""

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

MASK = "****"
SECRET_WORDS = ("token", "secret", "password", "authorization", "api_key", "apikey", "cookie")
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})
TOKEN_SHAPE = re.compile(r"p[fg][0-9a-f]{64}")


def mask_token(token: str) -> str:
    """What is shown of a token: its first characters only when it is long enough that
    they give nothing away (procflow's tokens carry 64 random hex digits)."""
    return (token[:6] if len(token) >= 24 else "") + MASK


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def mask_text(text: str, known: Iterable[str] = ()) -> str:
    for token in known:
        if token:
            text = text.replace(token, mask_token(token))
    return TOKEN_SHAPE.sub(lambda m: mask_token(m.group()), text)


def mask_json(value: Any, known: Iterable[str] = ()) -> Any:
    """A copy of a JSON value with secrets masked (iterative: bodies may nest deep)."""
    known = tuple(known)
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        holder, key = stack.pop()
        item = holder[key]
        if isinstance(item, dict):
            copy = dict(item)
            holder[key] = copy
            for name, child in copy.items():
                if isinstance(child, str) and is_secret_name(str(name)):
                    copy[name] = mask_token(child)
                else:
                    stack.append((copy, name))
        elif isinstance(item, list):
            copy_list = list(item)
            holder[key] = copy_list
            stack.extend((copy_list, index) for index in range(len(copy_list)))
        elif isinstance(item, str):
            holder[key] = mask_text(item, known)
    return root[0]


def mask_query(query: str, known: Iterable[str] = ()) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    masked = [(k, mask_token(v) if is_secret_name(k) else v) for k, v in pairs]
    return mask_text(urlencode(masked, safe="/,:*[]"), known)


def mask_headers(
    headers: Iterable[tuple[bytes, bytes]], known: Iterable[str] = ()
) -> dict[str, str]:
    """Headers as a dict (repeated names joined by ", "), each value capped at 1 KiB."""
    known = tuple(known)
    shown: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")[:1024]
        if name in SECRET_HEADERS:
            scheme, space, credential = value.partition(" ")
            value = f"{scheme} {mask_token(credential)}" if space else mask_token(value)
        else:
            value = mask_text(value, known)
        shown[name] = f"{shown[name]}, {value}" if name in shown else value
    return shown


def bearer_of(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None
