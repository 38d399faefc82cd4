"""Bounded work per request: every regular expression that may see request data, and the
parsers that do, get inputs whose length is bounded before they run.

This is checked by counting, not by timing. Every module-level pattern in `procflow` is
listed here with its bound, and a new one fails the inventory until someone reviews it.
Each pattern is then replaced by a recorder, and requests carrying the known pathological
shapes (`"a@" + "." * 40000 + "@"` for e-mails, long runs of digits and separators for
numbers, aliases and dates, huge header values) are sent to every place that validates
such a value. Each request must be answered below 500, and no pattern may have been given
a longer input than its cap. Patterns of bounded width (say `\\d{4}-\\d{2}-\\d{2}`) need no
cap: `match` and `fullmatch` examine at most their width, `search` at most width times the
input's length.
"""

import importlib
import pkgutil
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

import procflow
from procflow.domain import emails, form_fields, search_terms, timeutil
from procflow.settings import Settings
from procflow.storage.database import make_session_factory
from tests.factories import World

BOUNDED_WIDTH = 1000
HUGE = 100_000
# Patterns of unbounded width, each with the longest input it may ever be given.
CAPS = {
    "procflow.domain.form_fields:_NUMBER": form_fields.TEXT_LIMITS[form_fields.FieldType.NUMBER],
    "procflow.domain.form_fields:_ALIAS": 64,  # StepCapture.alias: max_length
    "procflow.services.template_fields:_NOT_SLUG": 600,  # a capture's label: max_length
    "procflow.domain.search_terms:_WORD": search_terms.MAX_TEXT,  # `search`: max_length
    # The rate limiter reads the request path, which is part of the request head.
    "procflow.api.ratelimit:ORG_PATH": Settings().max_header_bytes,
    "procflow.api.ratelimit:COMMENT_PATH": Settings().max_header_bytes,
    "procflow.sandbox.durations:DURATION": 64,  # parse_duration refuses longer text first
}
BOUNDED = {
    "procflow.api.idempotency:KEY",
    "procflow.api.observability:VALID_ID",  # X-Request-Id: fullmatch, at most 128 wide
    "procflow.api.ratelimit:GUEST_INVITE_PATH",
    "procflow.api.routes.activity:ISO_DATE",
    "procflow.domain.form_fields:_TIME",
    "procflow.domain.ids:_HEX32",
    "procflow.services.tags:COLOR",
    "procflow.storage.blobs.base:_KEY",
    "procflow.storage.sqlite.driver:_LONG_NUMBER",
    "procflow.sandbox.masking:TOKEN_SHAPE",  # 66 wide; the journal's texts are capped
}
EVIL_EMAIL = "a@" + "." * 40_000 + "@"


def module_patterns() -> dict[str, re.Pattern[str]]:
    found: dict[str, re.Pattern[str]] = {}
    for info in pkgutil.walk_packages(procflow.__path__, "procflow."):
        if ".migrations" in info.name or info.name in ("procflow.__main__",):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and value not in found.values():
                found[f"{info.name}:{name}"] = value
    return found


PATTERNS = module_patterns()


def test_every_pattern_is_reviewed() -> None:
    assert set(PATTERNS) == set(CAPS) | BOUNDED


@pytest.mark.parametrize("key", sorted(BOUNDED))
def test_bounded_patterns_are_of_bounded_width(key: str) -> None:
    parser = importlib.import_module("re._parser")  # the standard library's pattern parser
    pattern = PATTERNS[key]
    assert parser.parse(pattern.pattern, pattern.flags).getwidth()[1] <= BOUNDED_WIDTH


class Recorder:
    """Stands in for a compiled pattern and remembers the longest string it was given."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.longest = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.pattern, name)
        if not callable(method):
            return method

        def recorded(*args: Any, **kwargs: Any) -> Any:
            for arg in args:
                if isinstance(arg, str):
                    self.longest = max(self.longest, len(arg))
            return method(*args, **kwargs)

        return recorded


class NeverParsed(str):
    """A string that fails the test if anything looks past its length."""

    __slots__ = ()

    def partition(self, *_: Any) -> Any:
        raise AssertionError("parsed before its length was checked")

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("parsed before its length was checked")


def test_email_validation_refuses_an_over_long_value_before_reading_it() -> None:
    assert emails.is_email(NeverParsed(EVIL_EMAIL)) is False
    assert emails.is_email("ada@example.com")
    for shape in (EVIL_EMAIL, "a@" + "." * 200 + "@", "a" * 300 + "@b.c", "@" * 300):
        assert emails.is_email(shape) is False


def test_timestamps_are_capped_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    class Recording(datetime):
        @classmethod
        def fromisoformat(cls, text: str) -> Any:
            seen.append(len(text))
            return datetime.fromisoformat(text)

    monkeypatch.setattr(timeutil, "datetime", Recording)
    for shape in ("9" * HUGE, "2026-01-01T00:00:00" + "0" * HUGE, "1-" * HUGE):
        with pytest.raises(ValueError, match="timestamp"):
            timeutil.parse_ts(shape)
    assert seen == []


@pytest.fixture
def recorders(monkeypatch: pytest.MonkeyPatch) -> dict[str, Recorder]:
    found = {}
    for key, pattern in PATTERNS.items():
        module, name = key.split(":")
        found[key] = Recorder(pattern)
        monkeypatch.setattr(importlib.import_module(module), name, found[key])
    return found


def _template(world: World) -> tuple[str, dict[str, str]]:
    kinds = ("email", "number", "time", "url", "assignees_form", "date")
    ids = {kind: uuid4().hex for kind in kinds}
    kickoff = [{"id": ids[k], "field_type": k, "label": k.title()} for k in kinds]
    return world.template(kickoff=kickoff, steps=[{"title": "Only"}]), ids


def pathological_requests(world: World) -> Iterator[tuple[str, str, dict[str, Any]]]:
    template, fields = _template(world)
    run = world.launch(template)
    task = world.call("GET", f"/runs/{run['id']}/tasks").json()["data"][0]["id"]
    step = world.call("GET", f"/checklists/{template}?with=steps").json()["data"]["steps"]
    step_id = step["data"][0]["id"] if isinstance(step, dict) else step[0]["id"]
    values = {
        "email": EVIL_EMAIL,
        "number": "1" * HUGE + "x",
        "time": "1" * HUGE,
        "url": "http://" + "a." * HUGE,
        "assignees_form": {"users": [], "guests": [EVIL_EMAIL] * 3, "groups": []},
        "date": "2026-" * HUGE,
    }
    for kind, value in values.items():
        body = {"prerun": {fields[kind]: value}}
        yield "PUT", f"/runs/{run['id']}", {"json": body}
        yield "POST", "/runs", {"json": {"checklist_id": template, **body}}
    within_caps = {"number": "1" * 63 + "x", "email": "a@" + "." * 250 + "@"}
    for kind, value in within_caps.items():
        yield "PUT", f"/runs/{run['id']}", {"json": {"prerun": {fields[kind]: value}}}
    yield "POST", "/guests", {"json": {"email": EVIL_EMAIL}}
    owners = {"owners": {"users": [], "guests": [EVIL_EMAIL], "groups": []}}
    yield "PUT", f"/runs/{run['id']}/tasks/{task}", {"json": owners}
    yield "POST", "/tasks", {"json": {"title": "One-off", **owners}}
    steps = f"/checklists/{template}/steps"
    yield "POST", steps, {"json": {"title": "Guests", "guests": [EVIL_EMAIL]}}
    captures = f"{steps}/{step_id}/captures"
    for alias in ("-" * 60 + "!", "a" * HUGE + "!", "_-" * HUGE):
        yield "POST", captures, {"json": {"field_type": "text", "label": "L", "alias": alias}}
    yield "POST", captures, {"json": {"field_type": "text", "label": "-!" * HUGE}}
    yield "POST", "/tags", {"json": {"title": "T" + uuid4().hex[:8], "color": "#" + "f" * HUGE}}
    yield "GET", "/activity-feeds", {"params": {"created_after": "1" * 10_000}}
    yield "GET", "/tasks", {"params": {"deadline_before": "2026-" * 200}}
    yield "GET", "/runs", {"params": {"owners": "1," * 400}}
    yield (
        "POST",
        "/runs",
        {"json": {"checklist_id": template}, "headers": {"Idempotency-Key": "k" * 10_000}},
    )


@pytest.fixture
def world_with_patterns(
    engine: Engine, client: TestClient, recorders: dict[str, Recorder]
) -> tuple[World, dict[str, Recorder]]:
    return World.create(make_session_factory(engine), client), recorders


def test_pathological_inputs_reach_no_pattern_beyond_its_cap(
    world_with_patterns: tuple[World, dict[str, Recorder]],
) -> None:
    world, recorders = world_with_patterns
    answers = []
    for method, path, options in pathological_requests(world):
        headers = {**world.admin.headers, **options.pop("headers", {})}
        response = world.client.request(method, world.url(path), headers=headers, **options)
        answers.append((method, path, response.status_code))
        assert response.status_code < 500, (method, path, response.text[:300])
    assert all(status in (200, 201, 400, 413, 422) for _, _, status in answers), answers
    longest = {key: recorder.longest for key, recorder in recorders.items()}
    assert {key: n for key, n in longest.items() if key in CAPS and n > CAPS[key]} == {}
    # The shapes did reach the validators that use patterns.
    assert longest["procflow.domain.form_fields:_NUMBER"] > 0
    assert longest["procflow.services.template_fields:_NOT_SLUG"] > 0
