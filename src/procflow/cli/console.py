"""Rich's console for the commands that print tables and credentials through it.

Made (and Rich imported) by the first command that prints, not when the `procflow`
command starts: `sandbox` and `serve` never need it, and a sandbox's start is waited for.
"""

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


@cache
def console() -> "Console":
    from rich.console import Console

    return Console(soft_wrap=True)
