"""Histories of concurrent writes to one run's tag set, and the check of their outcome.

The method is Jepsen's: every client records each operation it invokes and how it ended
(`ok`: the server acknowledged it with a 2xx; `fail`: the server refused it, so it must have
had no effect; `info`: the outcome is unknown, e.g. the connection broke). Only after the
clients stopped is the final state read and compared with the history.

A run holds at most 100 tags, so a writer keeps a small window of its own tags on the run
and removes its oldest one as it adds a new one. The check is therefore on adds *and*
removes, each of them acknowledged or not:

- lost: a tag whose add was acknowledged, never removed by an acknowledged write, and not
  in the final state (the classic lost update);
- resurrected: a tag whose removal was acknowledged but that is back in the final state
  (a lost update of a removal);
- phantom: a tag that some read or the final state showed, although no write that adds it
  was acknowledged or left in doubt;
- stale acknowledgements: two acknowledged conditional writes that both claimed the same
  ETag as their starting point (one of them should have been refused with 412);
- echo mismatches: an acknowledged write whose response did not show the tag set the
  writer asked for.
"""

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

OK = "ok"
FAIL = "fail"
INFO = "info"


@dataclass(frozen=True)
class Op:
    """One invocation and its completion."""

    worker: int
    kind: str  # put | add | remove
    adds: frozenset[str]
    removes: frozenset[str]
    outcome: str  # ok | fail | info
    status: int | None = None
    if_match: str | None = None
    echo_matches: bool = True


@dataclass
class History:
    """Thread-safe log of operations and of every tag set a read returned."""

    ops: list[Op] = field(default_factory=list)
    reads: list[frozenset[str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, op: Op) -> None:
        with self._lock:
            self.ops.append(op)

    def observe(self, tags: Iterable[str]) -> None:
        seen = frozenset(tags)
        with self._lock:
            self.reads.append(seen)


@dataclass(frozen=True)
class Verdict:
    invoked: int
    acknowledged: int
    refused_412: int
    server_errors: int
    other_failures: int
    indeterminate: int
    lost: frozenset[str]
    resurrected: frozenset[str]
    phantom: frozenset[str]
    stale_acknowledgements: int
    echo_mismatches: int
    statuses: dict[int, int]

    @property
    def safe(self) -> bool:
        return not (
            self.lost
            or self.resurrected
            or self.phantom
            or self.stale_acknowledgements
            or self.echo_mismatches
        )

    def summary(self) -> str:
        return (
            f"invoked={self.invoked} acknowledged={self.acknowledged} "
            f"412={self.refused_412} 5xx={self.server_errors} "
            f"other_failures={self.other_failures} indeterminate={self.indeterminate} "
            f"lost={len(self.lost)} resurrected={len(self.resurrected)} "
            f"phantom={len(self.phantom)} stale_acks={self.stale_acknowledgements} "
            f"echo_mismatches={self.echo_mismatches} statuses={dict(sorted(self.statuses.items()))}"
        )


def check(history: History, final: Iterable[str]) -> Verdict:
    ops = history.ops
    final_set = frozenset(final)
    acknowledged = [op for op in ops if op.outcome == OK]
    acked_adds = frozenset().union(*(op.adds for op in acknowledged))
    acked_removes = frozenset().union(*(op.removes for op in acknowledged))
    in_doubt = frozenset().union(*(op.adds for op in ops if op.outcome == INFO))
    seen = final_set.union(*history.reads)
    conditional = Counter(op.if_match for op in acknowledged if op.if_match is not None)
    statuses = Counter(op.status for op in ops if op.status is not None)
    return Verdict(
        invoked=len(ops),
        acknowledged=len(acknowledged),
        refused_412=statuses[412],
        server_errors=sum(n for status, n in statuses.items() if status >= 500),
        other_failures=sum(
            n for status, n in statuses.items() if 400 <= status < 500 and status != 412
        ),
        indeterminate=sum(1 for op in ops if op.outcome == INFO),
        lost=(acked_adds - acked_removes) - final_set,
        resurrected=acked_removes & final_set,
        phantom=seen - acked_adds - in_doubt,
        stale_acknowledgements=sum(n - 1 for n in conditional.values() if n > 1),
        echo_mismatches=sum(1 for op in acknowledged if not op.echo_matches),
        statuses=dict(statuses),
    )
