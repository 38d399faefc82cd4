"""Step deadline rules: what is malformed, and the date a rule gives."""

from datetime import datetime
from typing import Any

import pytest

from procflow.domain.deadlines import apply_rule, rule_error


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (None, None),
        ({"value": 3}, None),
        ({"value": 0, "unit": "months"}, None),
        ([3, "days"], "deadline must be an object with value and unit."),
        ({"value": -1}, "deadline.value must be a whole number from 0 to 10000."),
        ({"value": True}, "deadline.value must be a whole number from 0 to 10000."),
        ({"value": "3"}, "deadline.value must be a whole number from 0 to 10000."),
        ({"value": 3, "unit": "fortnights"}, "deadline.unit must be one of "
                                             "minutes, hours, days, weeks, months."),
    ],
)  # fmt: skip
def test_malformed_rules_are_named(rule: Any, problem: str | None) -> None:
    assert rule_error(rule) == problem


def test_months_keep_the_day_or_end_at_the_months_last() -> None:
    start = datetime(2026, 1, 31, 9, 30)
    assert apply_rule({"value": 1, "unit": "months"}, start) == datetime(2026, 2, 28, 9, 30)
    assert apply_rule({"value": 13, "unit": "months"}, start) == datetime(2027, 2, 28, 9, 30)
    assert apply_rule({"value": 2, "unit": "hours"}, start) == datetime(2026, 1, 31, 11, 30)
    assert apply_rule({"value": 1}, start) == datetime(2026, 2, 1, 9, 30)
    assert apply_rule(None, start) is None
