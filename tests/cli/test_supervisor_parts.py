"""The parts of the multi-worker supervisor that need no fork (tests/deploy runs it whole)."""

import os
import signal
from pathlib import Path

import pytest

from procflow.cli.supervisor import _how_it_ended, metrics_directory


def test_a_given_metrics_directory_is_emptied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"old run")
    (tmp_path / "keep.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with metrics_directory() as path:
        assert path == tmp_path
        assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_a_temporary_metrics_directory_is_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with metrics_directory() as path:
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(path)
        assert path.is_dir()
    assert not path.exists()
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_how_a_worker_ended_is_told() -> None:
    assert _how_it_ended(signal.SIGKILL) == "was ended by SIGKILL"
    assert _how_it_ended(3 << 8) == "exited with status 3"
