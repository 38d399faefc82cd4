"""Time zone names a member's profile may carry: the IANA database's, and `UTC`."""

from functools import cache
from zoneinfo import available_timezones


@cache
def known_timezones() -> tuple[str, ...]:
    """Sorted; read once from the system's time zone database (or the tzdata package)."""
    return tuple(sorted(set(available_timezones()) | {"UTC"}))


def is_known_timezone(name: str) -> bool:
    return name in _known_set()


@cache
def _known_set() -> frozenset[str]:
    return frozenset(known_timezones())
