"""The run PUT with the webhook worker on and off, paired: does delivering events cost it?

Seeds the run-update benchmark's SQLite database once (bench/seed.py, 100,000 runs), then
alternates `procflow serve` with `PROCFLOW_WEBHOOK_WORKER=false` and with the worker on
(the default), each round a fresh server, a warm-up and one `wrk` measurement of
`bench/put_procflow.lua`, and prints each pair's ratio (on / off) and the median. A ratio
measured side by side is what holds on a shared machine; the absolute figures do not.

    .venv/bin/python bench/put_events.py [--rounds 3] [--duration 10]
"""

import argparse
import json
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
        **harness.os.environ,
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
    args = parser.parse_args()
    harness.RESULTS.mkdir(parents=True, exist_ok=True)
    harness.atexit.register(harness.stop_all)
    pinned = len(harness.os.sched_getaffinity(0)) >= 2 and harness.shutil.which("taskset")
    prefix = ["taskset", "-c", "0"] if pinned else []
    wrk = harness.Wrk(
        ["taskset", "-c", "1"] if pinned else [], 32, args.duration, args.warmup, 1, 0
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'put-events.db'}"
        seeded = harness.seed("events", url)
        pairs: list[dict[str, Any]] = []
        for n in range(args.rounds):
            pair: dict[str, Any] = {}
            order = (False, True) if n % 2 == 0 else (True, False)
            for worker in order:
                proc, base = serve(url, seeded, worker, prefix)
                try:
                    name = f"PUT, webhook worker {'on' if worker else 'off'}"
                    result = wrk.measure(
                        name, base, proc.pid, BENCH / "put_procflow.lua", harness.lua_env(seeded)
                    )
                finally:
                    harness.stop(proc)
                pair["on" if worker else "off"] = {
                    "rps": result["rps"],
                    "p99_ms": result["latency_ms"].get("p99"),
                    "others_busy_pct": result["others_busy_pct"],
                }
            pair["ratio"] = round(pair["on"]["rps"] / pair["off"]["rps"], 3)
            pairs.append(pair)
            print(f"  round {n + 1}: on/off = {pair['ratio']}", flush=True)
    median = statistics.median(p["ratio"] for p in pairs)
    print(json.dumps({"median_ratio_on_over_off": median, "pairs": pairs}))


if __name__ == "__main__":
    main()
