"""Real `procflow serve` processes: SIGKILL between commit and delivery loses no committed
event, and several `procflow worker` processes deliver each event once.

Each life of the server launches a few runs and is killed with SIGKILL right after the
last launch was acknowledged: its events are committed, and most are not yet delivered.
After the last restart every acknowledged launch must reach the receiver. Delivery is at
least once (a worker killed after sending and before recording sends again), so the
receiver de-duplicates by event id, as receivers are told to. 3 kills here;
`PROCFLOW_STRESS_FULL=1` (or PROCFLOW_STRESS_WEBHOOK_KILLS) makes it 50.
"""

import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.stress.harness import (
    PROCFLOW,
    Api,
    Server,
    bootstrap,
    database_kind,
    fresh_database,
    report,
    size,
)
from tests.webhooks.receiver import Receiver

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("tests/webhooks/test_crash.py")]

KILLS = size("WEBHOOK_KILLS", small=3, full=50)
LAUNCHES_PER_LIFE = 3
FAST_RETRIES = {
    "PROCFLOW_WEBHOOK_ALLOW_PRIVATE": "true",
    "PROCFLOW_WEBHOOK_POLL_SECONDS": "0.05",
    "PROCFLOW_WEBHOOK_RETRY_BASE_SECONDS": "0.1",
    "PROCFLOW_WEBHOOK_RETRY_MAX_SECONDS": "0.5",
    "PROCFLOW_WEBHOOK_TIMEOUT_SECONDS": "5",
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


def launches(receiver: Receiver) -> dict[str, set[str]]:
    """Run id -> the event ids of its `process.launched` deliveries."""
    found: dict[str, set[str]] = {}
    for request in receiver.at("/crash"):
        if request.json["event"] == "process.launched":
            found.setdefault(request.json["id"], set()).add(request.event_id)
    return found


def wait_for(condition: Callable[[], bool], seconds: float = 120) -> None:
    """A bounded wait for the worker to catch up (it runs in another process)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the deliveries did not all arrive in time")
        time.sleep(0.05)


def hooked_template(api: Api, url: str) -> str:
    checklist = api.create_template("Hooked", steps=1)
    response = api.request("PUT", f"/checklists/{checklist}", {"webhook": url})
    assert response.status_code == 200, response.text
    return checklist


def test_sigkill_between_commit_and_delivery_loses_no_event(
    tmp_path: Path, receiver: Receiver
) -> None:
    acknowledged: list[str] = []
    with fresh_database(database_kind(), tmp_path) as url:
        server = Server(url, tmp_path, env=FAST_RETRIES)
        server.start()
        try:
            org = bootstrap(server)
            with Api(server, org) as api:
                checklist = hooked_template(api, receiver.url("/crash"))
            for _ in range(KILLS):
                with Api(server, org) as api:
                    acknowledged += [api.launch(checklist) for _ in range(LAUNCHES_PER_LIFE)]
                server.kill()  # right after the commits, before most deliveries
                server.start()
            wait_for(lambda: set(acknowledged) <= set(launches(receiver)))
        finally:
            server.stop()
    got = launches(receiver)
    repeated = len(receiver.at("/crash")) - len(got)
    report(
        f"webhook crash on {database_kind()}: kills={KILLS} launches={len(acknowledged)} "
        f"deliveries={len(receiver.at('/crash'))} repeated after a kill={repeated}"
    )
    assert set(got) == set(acknowledged)
    assert all(len(ids) == 1 for ids in got.values()), "one event id per launch"


def test_separate_workers_deliver_each_event_once(tmp_path: Path, receiver: Receiver) -> None:
    """`serve` with its worker off, and two `procflow worker` processes sharing the work."""
    with fresh_database(database_kind(), tmp_path) as url:
        server = Server(url, tmp_path, env={**FAST_RETRIES, "PROCFLOW_WEBHOOK_WORKER": "false"})
        server.start()
        workers: list[subprocess.Popen[bytes]] = []
        try:
            org = bootstrap(server)
            with Api(server, org) as api:
                checklist = hooked_template(api, receiver.url("/crash"))
                runs = [api.launch(checklist) for _ in range(20)]
            assert receiver.at("/crash") == []  # nobody delivers while no worker runs
            with (tmp_path / "workers.log").open("ab") as log:
                workers = [
                    subprocess.Popen(
                        [str(PROCFLOW), "worker"], env=server.env, stdout=log, stderr=log
                    )
                    for _ in range(2)
                ]
            wait_for(lambda: set(runs) <= set(launches(receiver)))
            # each worker says so once it handles SIGTERM: one may still be starting when
            # the other has delivered everything
            wait_for(
                lambda: (
                    (tmp_path / "workers.log").read_bytes().count(b"delivers webhooks from") == 2
                )
            )
        finally:
            for process in workers:
                process.terminate()
                process.wait(timeout=30)
            server.stop()
    assert [p.returncode for p in workers] == [0, 0]
    sent = Counter(r.event_id for r in receiver.at("/crash"))
    assert len(sent) == 20
    assert set(sent.values()) == {1}
