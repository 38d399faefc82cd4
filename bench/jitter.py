"""How steady the CPU under the server is: the machine's own contribution to a p99.

A virtual machine can run its guest's code several times slower for tens of
milliseconds when the host is busy elsewhere; no steal time shows it, and a server
with one event loop passes every such stall on to every request queued behind it. This
probe times one fixed, pure-Python chunk of work (about half a millisecond) over and
over on the CPU it is given and reports the stalls: chunks that took three times the
median or more, merged into episodes when less than 20 ms apart.

    taskset -c 0 .venv/bin/python bench/jitter.py [--seconds 5] [--json]

`bench/run.py` runs it on the server's core before the reference and after procflow.
"""

import argparse
import json
import statistics
import time
from typing import Any

SLOW_FACTOR = 3.0
EPISODE_GAP_S = 0.020


def chunk() -> int:
    """A fixed piece of interpreter work: no memory growth, no system calls."""
    total = 0
    for i in range(5_000):
        total += i * i
    return total


def probe(seconds: float) -> list[tuple[float, float]]:
    """(start, duration) of every chunk run in `seconds`."""
    clock = time.perf_counter
    samples: list[tuple[float, float]] = []
    end = clock() + seconds
    while (start := clock()) < end:
        chunk()
        samples.append((start, clock() - start))
    return samples


def summarize(samples: list[tuple[float, float]]) -> dict[str, Any]:
    durations = sorted(d for _, d in samples)
    median = statistics.median(durations)
    slow = [(s, d) for s, d in samples if d >= SLOW_FACTOR * median]
    episodes: list[list[float]] = []
    for start, duration in slow:
        if episodes and start - episodes[-1][1] < EPISODE_GAP_S:
            episodes[-1][1] = start + duration
        else:
            episodes.append([start, start + duration])
    span = samples[-1][0] + samples[-1][1] - samples[0][0]
    lost = sum(d - median for _, d in slow)

    def pct(p: float) -> float:
        return round(durations[min(len(durations) - 1, int(len(durations) * p))] * 1e3, 3)

    return {
        "seconds": round(span, 2),
        "chunks": len(samples),
        "chunk_ms": {
            "p50": round(median * 1e3, 3),
            "p99": pct(0.99),
            "p999": pct(0.999),
            "max": round(durations[-1] * 1e3, 3),
        },
        "stall_episodes": len(episodes),
        "stall_episodes_per_s": round(len(episodes) / span, 2) if span else 0.0,
        "longest_stall_ms": round(max((b - a for a, b in episodes), default=0.0) * 1e3, 1),
        "time_lost_pct": round(100 * lost / span, 2) if span else 0.0,
    }


def describe(summary: dict[str, Any]) -> str:
    return (
        f"{summary['stall_episodes']} stalls in {summary['seconds']} s (chunks "
        f"{SLOW_FACTOR:g}x slower or more), longest {summary['longest_stall_ms']} ms, "
        f"{summary['time_lost_pct']}% of the time lost; chunk p50 "
        f"{summary['chunk_ms']['p50']} ms, p99.9 {summary['chunk_ms']['p999']} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()
    chunk()  # warm
    summary = summarize(probe(args.seconds))
    print(json.dumps(summary) if args.json else describe(summary))


if __name__ == "__main__":
    main()
