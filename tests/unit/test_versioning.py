"""`versioning.bump`: a change moves `last_updated` forward, and a run's `version`."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from procflow.domain.versioning import advance, bump, next_version

T0 = datetime(2026, 1, 1, 12, 0, 0)


@dataclass
class Task:
    last_updated: datetime


@dataclass
class Run:
    last_updated: datetime
    version: int


def test_last_updated_moves_to_now() -> None:
    assert advance(T0, T0 + timedelta(seconds=3)) == T0 + timedelta(seconds=3)
    assert advance(None, T0) == T0


def test_last_updated_moves_forward_even_when_the_clock_does_not() -> None:
    assert advance(T0, T0) == T0 + timedelta(milliseconds=1)
    assert advance(T0, T0 - timedelta(hours=1)) == T0 + timedelta(milliseconds=1)


def test_next_version_is_one_more() -> None:
    assert next_version(1) == 2


def test_bump_moves_every_entity_and_a_run_s_version_too() -> None:
    task, run = Task(T0), Run(T0, 7)
    now = T0 + timedelta(seconds=1)
    bump(task, run, now=now)
    assert (task, run) == (Task(now), Run(now, 8))


def test_bump_skips_what_is_absent_and_orders_changes_within_a_millisecond() -> None:
    run = Run(T0, 1)
    bump(None, run, now=T0)
    bump(run, None, now=T0)
    assert run == Run(T0 + timedelta(milliseconds=2), 3)
