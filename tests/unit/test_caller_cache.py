import time

from procflow.domain.permissions import Caller, Role
from procflow.services.auth import CallerCache

CALLER = Caller(user_id=7, org_id="o" * 32, role=Role.ADMIN)


def test_remembers_for_its_lifetime_only() -> None:
    cache = CallerCache(seconds=0.05)
    cache.put("digest", CALLER)
    assert cache.get("digest", CALLER.org_id) == CALLER
    assert cache.get("digest", "another-org") is None
    time.sleep(0.06)
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
