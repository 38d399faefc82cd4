"""Identifier rules shared by every object Tallyfy names with a 32-hex string."""

import re
import uuid

_HEX32 = re.compile(r"[0-9a-f]{32}")
# Integer ids (users, guests, associations) live in 32-bit columns on PostgreSQL: a larger
# number in a query is an error there, so it is refused before it reaches one.
INT32_MAX = 2**31 - 1


def new_id() -> str:
    """A fresh 32-character lowercase hex id, the shape Tallyfy uses for runs, tags, ..."""
    return uuid.uuid4().hex


def is_hex_id(value: object) -> bool:
    return isinstance(value, str) and _HEX32.fullmatch(value) is not None


def int_id(text: str) -> int | None:
    """`text` as an integer id that fits its column (ASCII digits, 1..2**31-1), else None.

    `str.isdigit` alone also takes superscript and non-Latin digits, which `int` then
    refuses or reads.
    """
    if not (0 < len(text) <= 10 and text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= INT32_MAX else None
