"""Schemathesis's operation tests built when they run, not when they are collected.

Schemathesis builds the Hypothesis test of every operation while pytest collects, coverage
cases included (boundary values and negative data for every parameter and body): about
three quarters of a whole collection's CPU time. Under pytest-xdist every worker collects
every test, so each worker built all of them, and a run that deselects them (`-k`, `-m`)
built them too. Here each item gets a stand-in that builds its operation's test on its first
call, in the worker that runs it, from the same arguments: the same cases, seeds and checks.

This replaces `build_operation_test` of `schemathesis.pytest._test_builder`, which the
plugin imports at each collection; the `dev` extra pins Schemathesis to one release, and
`test_operation_tests_are_built_when_they_run` fails if the seam moves.
"""

import inspect
from collections.abc import Callable
from typing import Any

from schemathesis.pytest import _test_builder

build_now = _test_builder.build_operation_test


def build_when_run(**kwargs: Any) -> Callable[..., Any]:
    """What `build_operation_test` returns, built on the first call instead of now."""
    test_func: Callable[..., Any] = kwargs["test_func"]
    given = set(kwargs["given_kwargs"]) | {"case"}
    built: list[Callable[..., Any]] = []

    def run(*args: Any, **fixtures: Any) -> Any:
        if not built:
            built.append(build_now(**kwargs))
            # The plugin reads its marks (the operation, unsatisfiable examples, ...) from
            # the item's function after the call.
            vars(run).update(vars(built[0]))
        return built[0](*args, **fixtures)

    signature = inspect.signature(test_func)
    run.__signature__ = signature.replace(  # type: ignore[attr-defined]  # pytest reads it
        parameters=[p for name, p in signature.parameters.items() if name not in given]
    )
    run.__name__, run.__qualname__ = test_func.__name__, test_func.__qualname__
    run.__module__, run.__doc__ = test_func.__module__, test_func.__doc__
    run.built_when_run = True  # type: ignore[attr-defined]
    return run


_test_builder.build_operation_test = build_when_run
