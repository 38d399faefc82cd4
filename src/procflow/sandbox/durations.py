"""ISO 8601 durations, as `POST /_sandbox/clock {"advance": "P3D"}` takes them.

Weeks, days, hours, minutes and seconds have a fixed length and are accepted (fractions
too: `PT1.5H`). Years and months do not (a month is 28 to 31 days), so they are refused
with a hint rather than guessed at; a negative duration is refused too: the clock is set
back by giving `now`, never by a negative advance.
"""

import re
from datetime import timedelta

MAX_DAYS = 36_525  # a century: far enough for any test, and nowhere near datetime's limits
NUMBER = r"(\d+(?:[.,]\d+)?)"
DURATION = re.compile(
    rf"P(?:{NUMBER}Y)?(?:{NUMBER}M)?(?:{NUMBER}W)?(?:{NUMBER}D)?"
    rf"(?:T(?:{NUMBER}H)?(?:{NUMBER}M)?(?:{NUMBER}S)?)?",
    re.IGNORECASE,
)


class BadDuration(ValueError):
    pass


def parse_duration(text: str) -> timedelta:
    """A duration such as `P3D`, `PT90M` or `P1W2DT3H`; BadDuration says what is wrong."""
    raw = text.strip()
    if raw.startswith("-"):
        raise BadDuration("The clock only moves forward with 'advance'; set 'now' to go back.")
    match = DURATION.fullmatch(raw) if len(raw) <= 64 else None
    if match is None or raw.upper() in ("P", "PT") or raw.upper().endswith("T"):
        raise BadDuration(f"{text[:64]!r} is not an ISO 8601 duration such as P3D or PT2H30M.")
    years, months, weeks, days, hours, minutes, seconds = (
        float(part.replace(",", ".")) if part else 0.0 for part in match.groups()
    )
    if years or months:
        raise BadDuration("Years and months have no fixed length: give days instead (P30D).")
    total = weeks * 7 + days + (hours + (minutes + seconds / 60) / 60) / 24
    if total > MAX_DAYS:
        raise BadDuration(f"A duration is at most {MAX_DAYS} days.")
    return timedelta(days=total)
