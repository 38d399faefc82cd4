"""Concurrent read-modify-write on one run loses nothing when clients use `If-Match`.

N workers each run M cycles against the same run of a live `procflow serve`. In the
conditional variant a cycle reads the run (and its ETag), adds one tag of its own to the
list (dropping its own oldest one once it has a window of them, since a run holds at most
100 tags) and writes the list back with `If-Match`; a 412 sends it back to read again. In
the atomic variant a cycle adds its tag with `POST /runs/{id}/tags` and removes its oldest
one with `DELETE /runs/{id}/tags/{tag_id}`, without any precondition. The history of
every operation is checked against the final state (see `checks.py`).

CI runs a small size. The full size of issue 4 (16 workers x 500 cycles) is
`PROCFLOW_STRESS_FULL=1 .venv/bin/pytest tests/stress -s` or `scripts/stress`;
PROCFLOW_STRESS_WORKERS, _CYCLES and _DEADLINE override the numbers.
"""

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx2 as httpx
import pytest

from tests.stress.checks import FAIL, INFO, OK, History, Op, Verdict, check
from tests.stress.conftest import Live
from tests.stress.harness import Api, report, size

WORKERS = size("WORKERS", small=4, full=16)
CYCLES = size("CYCLES", small=25, full=500)
DEADLINE_SECONDS = size("DEADLINE", small=120, full=3600)
MAX_ATTEMPTS = 10_000
RUN_TAG_BUDGET = 96  # a run holds at most 100 tags


@dataclass
class Workload:
    live: Live
    run_id: str
    tags: list[list[str]]  # tags[worker][cycle]
    history: History
    deadline: float
    completed: list[int] = field(default_factory=list)  # cycles finished, per worker

    def __post_init__(self) -> None:
        self.completed = [0] * len(self.tags)

    @property
    def window(self) -> int:
        """How many of its own tags a worker keeps on the run (after its add, before its
        remove it briefly holds one more)."""
        return max(1, RUN_TAG_BUDGET // len(self.tags) - 1)

    def expired(self) -> bool:
        return time.monotonic() > self.deadline


def prepare(live: Live, label: str) -> Workload:
    """A template, one run of it, and a unique tag per worker and cycle, made through the API
    by the workers' own threads before any of them starts writing."""
    assert WORKERS * 2 <= RUN_TAG_BUDGET, "too many workers for one run's tag list"
    with Api(live.server, live.org) as api:
        run_id = api.launch(api.create_template(f"{label} template"))
    tags: list[list[str]] = [[] for _ in range(WORKERS)]

    def make(worker: int) -> None:
        with Api(live.server, live.org) as api:
            tags[worker] = [api.create_tag(f"{label}-{worker}-{n}") for n in range(CYCLES)]

    _in_threads(make)
    return Workload(live, run_id, tags, History(), time.monotonic() + DEADLINE_SECONDS)


def _in_threads(target: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def guarded(worker: int) -> None:
        try:
            target(worker)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(w,)) for w in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def tag_ids(response: httpx.Response) -> frozenset[str]:
    return frozenset(response.json()["data"]["tags"])


def outcome_of(status: int) -> str:
    return OK if 200 <= status < 300 else FAIL


def backoff(attempt: int) -> None:
    """Jittered exponential backoff after a 412, as a polite client does, so that the
    losers of one round do not all collide again in the next."""
    time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))


def read_modify_write(work: Workload, worker: int, conditional: bool) -> None:
    """GET, add this cycle's tag (and drop this worker's oldest), PUT; on 412 back off
    briefly and start over."""
    path = f"/runs/{work.run_id}"
    mine: deque[str] = deque()
    with Api(work.live.server, work.live.org) as api:
        for tag in work.tags[worker]:
            for attempt in range(MAX_ATTEMPTS):
                if work.expired():
                    return
                try:
                    read = api.request("GET", path)
                except httpx.TransportError:
                    time.sleep(0.05)
                    continue  # a read changes nothing: just read again
                if read.status_code != 200:
                    work.history.record(
                        Op(worker, "get", frozenset(), frozenset(), FAIL, read.status_code)
                    )
                    time.sleep(0.05)
                    continue
                current = tag_ids(read)
                work.history.observe(current)
                etag = read.headers.get("ETag")
                if conditional and etag is None:
                    raise AssertionError("GET /runs/{id} answered without an ETag")
                if tag in current:  # an earlier write in doubt did land after all
                    mine.append(tag)
                    work.completed[worker] += 1
                    break
                drop = frozenset(list(mine)[: max(0, len(mine) + 1 - work.window)]) & current
                wanted = [t for t in current if t not in drop] + [tag]
                headers = {"If-Match": etag} if conditional and etag else {}
                try:
                    written = api.request("PUT", path, {"tags": wanted}, headers)
                except httpx.TransportError:
                    work.history.record(Op(worker, "put", frozenset({tag}), drop, INFO))
                    continue
                status = written.status_code
                echo = status != 200 or tag_ids(written) == frozenset(wanted)
                work.history.record(
                    Op(
                        worker,
                        "put",
                        frozenset({tag}),
                        drop,
                        outcome_of(status),
                        status,
                        headers.get("If-Match"),
                        echo,
                    )
                )
                if status == 200:
                    mine.append(tag)
                    for gone in drop:
                        mine.remove(gone)
                    work.completed[worker] += 1
                    break
                if status >= 500:
                    time.sleep(0.05)
                elif status == 412:
                    backoff(attempt)
                else:
                    break  # refused for another reason: recorded, and the check counts it


def atomic_add_remove(work: Workload, worker: int) -> None:
    """POST this cycle's tag; once over the window, DELETE this worker's oldest tag."""
    base = f"/runs/{work.run_id}/tags"
    mine: deque[str] = deque()
    with Api(work.live.server, work.live.org) as api:
        for tag in work.tags[worker]:
            if not _until_acknowledged(work, api, worker, "POST", base, tag, add=True):
                return
            mine.append(tag)
            work.completed[worker] += 1
            if len(mine) > work.window:
                oldest = mine.popleft()
                path = f"{base}/{oldest}"
                if not _until_acknowledged(work, api, worker, "DELETE", path, oldest, add=False):
                    return


def _until_acknowledged(
    work: Workload, api: Api, worker: int, method: str, path: str, tag: str, *, add: bool
) -> bool:
    adds, removes = (frozenset({tag}), frozenset()) if add else (frozenset(), frozenset({tag}))
    body = {"tag_id": tag} if add else None
    for _ in range(MAX_ATTEMPTS):
        if work.expired():
            return False
        try:
            response = api.request(method, path, body)
        except httpx.TransportError:
            work.history.record(Op(worker, method.lower(), adds, removes, INFO))
            continue
        status = response.status_code
        echo = status != 200 or (tag in tag_ids(response)) == add
        work.history.record(
            Op(worker, method.lower(), adds, removes, outcome_of(status), status, None, echo)
        )
        if status == 200:
            return True
        if status < 500:
            raise AssertionError(f"{method} {path} -> {status}: {response.text[:300]}")
        time.sleep(0.05)
    return False


def finish(work: Workload, label: str, started: float) -> Verdict:
    with Api(work.live.server, work.live.org) as api:
        final = api.request("GET", f"/runs/{work.run_id}")
    assert final.status_code == 200, final.text
    verdict = check(work.history, tag_ids(final))
    elapsed = time.monotonic() - started
    report(
        f"stress {label} on {work.live.kind}: workers={WORKERS} cycles={CYCLES} "
        f"window={work.window} time={elapsed:.1f}s {verdict.summary()}"
    )
    assert not work.expired(), f"did not finish within {DEADLINE_SECONDS}s"
    return verdict


def test_if_match_read_modify_write_loses_nothing(live: Live) -> None:
    work = prepare(live, "im")
    started = time.monotonic()
    _in_threads(lambda worker: read_modify_write(work, worker, conditional=True))
    verdict = finish(work, "if-match", started)
    assert sum(work.completed) == WORKERS * CYCLES
    assert verdict.server_errors == 0
    assert verdict.other_failures == 0
    assert verdict.safe, verdict.summary()


def test_atomic_tag_endpoints_lose_nothing_without_if_match(live: Live) -> None:
    work = prepare(live, "at")
    started = time.monotonic()
    _in_threads(lambda worker: atomic_add_remove(work, worker))
    verdict = finish(work, "atomic", started)
    assert sum(work.completed) == WORKERS * CYCLES
    assert verdict.server_errors == 0
    assert verdict.other_failures == 0
    assert verdict.safe, verdict.summary()


@pytest.mark.skipif(WORKERS < 8, reason="only certain to lose updates with 8 or more workers")
def test_plain_put_without_if_match_is_caught_losing_updates(live: Live) -> None:
    """The control: the same cycles without `If-Match` are last-writer-wins, and the check
    must see the updates that this loses (otherwise the check proves nothing)."""
    work = prepare(live, "pl")
    started = time.monotonic()
    _in_threads(lambda worker: read_modify_write(work, worker, conditional=False))
    verdict = finish(work, "plain-put", started)
    assert verdict.server_errors == 0
    assert verdict.lost or verdict.resurrected, verdict.summary()
