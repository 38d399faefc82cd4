"""`--tallyfy-limits`: Tallyfy's rate-limit answers on the sandbox clock, and no extensions."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from procflow.api.app import create_app
from procflow.domain.timeutil import CLOCK
from procflow.sandbox import clock
from procflow.sandbox.app import create_sandbox_app
from procflow.sandbox.boot import prepare
from procflow.sandbox.state import SandboxState
from procflow.sandbox.tallyfy_limits import (
    SandboxRateLimit,
    TallyfyQuirks,
    install_tallyfy_limits,
    published,
    reset_limits,
)
from procflow.settings import Settings
from procflow.storage.database import make_session_factory
from tests.factories import World


@pytest.fixture
def limited(settings: Settings, engine: Engine) -> Iterator[World]:
    app = create_app(settings)
    app.include_router(clock.router)
    install_tallyfy_limits(app, "token=5/minute")
    reset_limits(app)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield World.create(make_session_factory(engine), client)
    finally:
        clock.reset_clock(app)
        reset_limits(app)


def test_the_published_limits_and_no_others() -> None:
    shown = {budget.value: [str(r) for r in rates] for budget, rates in published().budgets.items()}
    assert shown == {
        "token": ["600 per 1 minute"],
        "ip": ["600 per 1 minute"],
        "comments": ["120 per 1 hour"],
        "guest_invites": ["30 per 1 hour"],
    }


def test_limits_run_on_the_sandbox_clock(limited: World) -> None:
    remaining = [limited.call("GET", "/runs").headers["X-RateLimit-Remaining"] for _ in range(5)]
    assert remaining == ["4", "3", "2", "1", "0"]
    refused = limited.call("GET", "/runs")
    assert refused.status_code == 429
    assert refused.json()["code"] == "RATE_LIMIT_EXCEEDED"
    assert 55 <= int(refused.headers["Retry-After"]) <= 60
    reset_at = int(refused.headers["X-RateLimit-Reset"])
    assert limited.client.get("/_sandbox/clock").status_code == 200  # never limited

    assert limited.client.post("/_sandbox/clock", json={"advance": "PT61S"}).status_code == 200
    assert CLOCK.offset.total_seconds() == 61
    again = limited.call("GET", "/runs")
    assert again.status_code == 200
    assert int(again.headers["X-RateLimit-Reset"]) > reset_at
    assert again.headers["X-RateLimit-Remaining"] == "4"


def test_procflow_extensions_are_off(limited: World) -> None:
    run = limited.launch(limited.template())
    assert "ETag" not in limited.call("GET", f"/runs/{run['id']}").headers
    key = {"Idempotency-Key": "same-key", "Prefer": "handling=strict"}
    first = limited.call("POST", "/tags", json={"title": "a", "odd": 1}, headers=key)
    second = limited.call("POST", "/tags", json={"title": "b"}, headers=key)
    assert (first.status_code, second.status_code) == (201, 201)  # Tallyfy creates twice
    assert first.json()["data"]["id"] != second.json()["data"]["id"]


def test_only_the_option_installs_them(settings: Settings, engine: Engine) -> None:
    people = prepare(settings)
    for wanted in (False, True):
        app = create_sandbox_app(settings, SandboxState(people=people, tallyfy_limits=wanted))
        kinds: list[Any] = [m.cls for m in app.user_middleware]
        assert (SandboxRateLimit in kinds, TallyfyQuirks in kinds) == (wanted, wanted)
        app.state.engine.dispose()
