"""`lock_timeout_ms` is read from PROCFLOW_LOCK_TIMEOUT_MS, and still from the deprecated
PROCFLOW_SQLITE_BUSY_TIMEOUT_MS (its name from before it served PostgreSQL too)."""

import pytest

from procflow.settings import Settings

NEW, OLD = "PROCFLOW_LOCK_TIMEOUT_MS", "PROCFLOW_SQLITE_BUSY_TIMEOUT_MS"


@pytest.fixture(autouse=True)
def _neither_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NEW, raising=False)
    monkeypatch.delenv(OLD, raising=False)


def test_the_default_is_five_seconds() -> None:
    assert Settings().lock_timeout_ms == 5000


def test_read_from_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NEW, "250")
    assert Settings().lock_timeout_ms == 250


def test_read_from_the_deprecated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(OLD, "750")
    assert Settings().lock_timeout_ms == 750


def test_its_own_variable_wins_over_the_deprecated_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NEW, "250")
    monkeypatch.setenv(OLD, "750")
    assert Settings().lock_timeout_ms == 250


def test_set_by_name_in_code() -> None:
    assert Settings(lock_timeout_ms=0).lock_timeout_ms == 0


@pytest.mark.parametrize("variable", [NEW, OLD])
def test_a_negative_timeout_is_refused(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "-1")
    with pytest.raises(ValueError, match=NEW):
        Settings()
