"""Timestamps as Tallyfy clients read and write them.

Stored values are naive UTC datetimes; output is ISO 8601 with milliseconds and `Z`.
Input accepts any ISO 8601 form with an offset (naive means UTC) and `YYYY-MM-DD HH:MM:SS`.
"""

from datetime import UTC, date, datetime, timedelta


class Clock:
    """procflow's one notion of "now": real time plus an offset.

    The offset stays zero on a normal server; the sandbox moves it so that deadlines pass,
    tasks turn overdue and reminders fall due without waiting.
    """

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None) + self.offset

    def advance(self, by: timedelta) -> datetime:
        self.offset += by
        return self.now()

    def set(self, moment: datetime) -> datetime:
        self.offset = to_utc_naive(moment) - datetime.now(UTC).replace(tzinfo=None)
        return self.now()

    def reset(self) -> None:
        self.offset = timedelta(0)


CLOCK = Clock()


def utcnow() -> datetime:
    return CLOCK.now()


def to_utc_naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def format_ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    value = to_utc_naive(value)
    if value.year < 1000:  # isoformat pads the year to four digits; strftime does not
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.isoformat(timespec="milliseconds") + "Z"  # several times per response


def parse_ts(text: str) -> datetime:
    """Parse a client timestamp; raises ValueError on anything else, also on a time that
    falls outside years 1..9999 once converted to UTC (which Python cannot represent)."""
    raw = text.strip()
    if not raw or len(raw) > 40:
        raise ValueError("not a timestamp")
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    parsed = datetime.fromisoformat(raw)
    try:
        return to_utc_naive(parsed)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC, which has none
        raise ValueError("not representable in UTC") from None


def parse_date(text: str) -> date:
    return date.fromisoformat(text.strip())
