"""Identifier rules shared by every object Tallyfy names with a 32-hex string."""

import re
import uuid

_HEX32 = re.compile(r"[0-9a-f]{32}")


def new_id() -> str:
    """A fresh 32-character lowercase hex id, the shape Tallyfy uses for runs, tags, ..."""
    return uuid.uuid4().hex


def is_hex_id(value: object) -> bool:
    return isinstance(value, str) and _HEX32.fullmatch(value) is not None
