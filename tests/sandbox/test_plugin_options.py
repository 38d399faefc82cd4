"""The pytest plugin's choice of sandbox, read from a command line and an ini file as pytest
reads them (in process: no sandbox is started)."""

import pytest

from procflow.sandbox.pytest_plugin import sandbox_arguments

pytest_plugins = ["pytester"]


def test_tallyfy_limits_by_command_line_or_ini(pytester: pytest.Pytester) -> None:
    assert sandbox_arguments(pytester.parseconfig()) == []
    flagged = pytester.parseconfig("--procflow-sandbox-tallyfy-limits")
    assert sandbox_arguments(flagged) == ["--tallyfy-limits"]
    pytester.makeini("[pytest]\nprocflow_sandbox_tallyfy_limits = true\n")
    assert sandbox_arguments(pytester.parseconfig()) == ["--tallyfy-limits"]
