"""`python -m procflow` is the command line, and leaves the garbage collector on."""

import gc
import runpy
import sys
from pathlib import Path

import pytest

import procflow


def test_python_dash_m_runs_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["procflow", "--help"])
    with pytest.raises(SystemExit) as ended:
        runpy.run_path(str(Path(procflow.__file__).parent / "__main__.py"), run_name="__main__")
    assert ended.value.code == 0
    assert "sandbox" in capsys.readouterr().out
    assert gc.isenabled()
