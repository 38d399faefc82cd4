from types import SimpleNamespace

import pytest

from procflow.domain.permissions import Caller, Role
from procflow.services import auth
from procflow.services.auth import CallerCache

CALLER = Caller(user_id=7, org_id="o" * 32, role=Role.ADMIN)


def test_remembers_for_its_lifetime_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a clock of the test's own: a real one could pass the lifetime between two lines."""
    now = [1000.0]
    monkeypatch.setattr(auth, "time", SimpleNamespace(monotonic=lambda: now[0]))
    cache = CallerCache(seconds=2)
    cache.put("digest", CALLER)
    assert cache.get("digest", CALLER.org_id) == CALLER
    assert cache.get("digest", "another-org") is None
    now[0] += 2
    assert cache.get("digest", CALLER.org_id) == CALLER
    now[0] += 0.001
    assert cache.get("digest", CALLER.org_id) is None


def test_zero_seconds_disables_it() -> None:
    cache = CallerCache(seconds=0)
    cache.put("digest", CALLER)
    assert cache.get("digest", CALLER.org_id) is None


def test_bounded_size() -> None:
    cache = CallerCache(seconds=10, size=2)
    for index in range(5):
        cache.put(f"d{index}", CALLER)
    assert len(cache._entries) <= 2
