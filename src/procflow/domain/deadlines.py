"""Step deadline rules (`{"value": 2, "unit": "days", "option": "from"}`) made concrete."""

import calendar
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

UNITS = ("minutes", "hours", "days", "weeks", "months")


def rule_error(rule: Any) -> str | None:
    """Why a deadline rule is malformed, or None when it is fine (or absent)."""
    if rule is None:
        return None
    if not isinstance(rule, Mapping):
        return "deadline must be an object with value and unit."
    value, unit = rule.get("value"), rule.get("unit", "days")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10_000:
        return "deadline.value must be a whole number from 0 to 10000."
    if unit not in UNITS:
        return f"deadline.unit must be one of {', '.join(UNITS)}."
    return None


def apply_rule(rule: Mapping[str, Any] | None, start: datetime) -> datetime | None:
    """The deadline a rule gives for a run launched at `start`."""
    if not rule:
        return None
    value, unit = int(rule.get("value", 0)), str(rule.get("unit", "days"))
    if unit == "months":
        month_index = start.month - 1 + value
        year, month = start.year + month_index // 12, month_index % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day)
    return start + timedelta(**{unit: value})
