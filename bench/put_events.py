"""The run PUT with the webhook worker on and off, paired: does delivering events cost it?

Seeds the run-update benchmark's SQLite database once (bench/seed.py, 100,000 runs), then
alternates `procflow serve` with `PROCFLOW_WEBHOOK_WORKER=false` and with the worker on
(the default), each round a fresh server, a warm-up and one `wrk` measurement of
`bench/put_procflow.lua`, and prints each pair's ratio (on / off) and the median. A ratio
measured side by side is what holds on a shared machine; the absolute figures do not.

    .venv/bin/python bench/put_events.py [--rounds 3] [--duration 10] [--db F [--reuse]]
"""

import argparse
import atexit
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run as harness  # noqa: E402  (bench/run.py, beside this file)


def serve(url: str, seeded: dict[str, Any], worker: bool, prefix: list[str]) -> Any:
    port = harness.free_port()
    log = harness.RESULTS / f"procflow-events-{'on' if worker else 'off'}.log"
    env = {
        **os.environ,
        "PROCFLOW_DATABASE_URL": url,
        "PROCFLOW_WEBHOOK_WORKER": str(worker).lower(),
    }
    procflow = str(Path(sys.executable).with_name("procflow"))
    proc = harness.start(
        [*prefix, procflow, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=BENCH,
        log=log,
    )
    base = f"http://127.0.0.1:{port}"
    harness.wait_ready(f"{base}/health", proc, log)
    harness.check_first_put(base, seeded, log)
    return proc, base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--db", type=Path, help="SQLite file to seed (default: a temporary one)")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the --db seeded by an earlier run"
    )
    args = parser.parse_args()
    harness.RESULTS.mkdir(parents=True, exist_ok=True)
    atexit.register(harness.stop_all)
    pinned = len(os.sched_getaffinity(0)) >= 2 and shutil.which("taskset")
    prefix = ["taskset", "-c", "0"] if pinned else []
    wrk = harness.Wrk(
        ["taskset", "-c", "1"] if pinned else [], 32, args.duration, args.warmup, 1, 0
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{(args.db or Path(tmp) / 'put-events.db').resolve()}"
        saved = harness.RESULTS / "seed-events.json"
        if args.reuse and saved.exists() and json.loads(saved.read_text())["url"] == url:
            seeded = json.loads(saved.read_text())
        else:
            seeded = harness.seed("events", url)
        pairs: list[dict[str, Any]] = []
        for n in range(args.rounds):
            pair: dict[str, Any] = {}
            order = (False, True) if n % 2 == 0 else (True, False)
            for worker in order:
                proc, base = serve(url, seeded, worker, prefix)
                try:
                    pair["on" if worker else "off"] = measure(wrk, base, proc.pid, seeded, args)
                finally:
                    harness.stop(proc)
            pair["ratio"] = round(pair["on"]["rps"] / pair["off"]["rps"], 3)
            pair["cpu_ratio"] = round(pair["on"]["cpu_ms"] / pair["off"]["cpu_ms"], 3)
            pairs.append(pair)
            print(f"  round {n + 1}: {json.dumps(pair)}", flush=True)
    print(
        json.dumps(
            {
                "median_rps_on_over_off": statistics.median(p["ratio"] for p in pairs),
                "median_cpu_per_put_on_over_off": statistics.median(p["cpu_ratio"] for p in pairs),
                "load_average": os.getloadavg(),
            }
        )
    )


def server_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of the server process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / float(os.sysconf("SC_CLK_TCK"))


def measure(wrk: Any, base: str, pid: int, seeded: dict[str, Any], args: Any) -> dict[str, Any]:
    """A warm-up, then one measured run: requests/s, p99, and the server's CPU time per PUT
    (which other work on the machine disturbs far less than requests/s)."""
    env = {**os.environ, **harness.lua_env(seeded)}
    script = BENCH / "put_procflow.lua"
    wrk.run(base, script, env, args.warmup, pid)
    before = server_cpu_seconds(pid)
    output, others = wrk.run(base, script, env, args.duration, pid)
    used = server_cpu_seconds(pid) - before
    parsed = harness.parse_wrk(output)
    requests = parsed.get("requests") or parsed["rps"] * args.duration
    return {
        "rps": parsed["rps"],
        "p99_ms": parsed["latency_ms"].get("p99"),
        "cpu_ms": round(1000 * used / requests, 3),
        "others_busy_pct": others,
    }


if __name__ == "__main__":
    main()
