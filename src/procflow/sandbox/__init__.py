"""The sandbox: procflow as a throw-away stand-in that Tallyfy integrations are tested against.

`procflow sandbox` serves the normal API on a temporary database with a ready-made
organization, plus control routes under `/_sandbox/` (reset, seed, export, snapshots, the
clock, injected faults, the request journal) that exist only in this mode. `app` assembles
the application; `pytest_plugin` gives tests a sandbox in one fixture.
"""
