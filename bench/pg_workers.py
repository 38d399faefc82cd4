"""PUT on PostgreSQL with N worker processes, beside the PostgreSQL reference, in one run.

For each worker count (default 1 and 2), the reference (`reference_app_pg.py`, uvicorn
`--workers N`, its asyncpg pool) and `procflow serve --workers N` run side by side on the
same PostgreSQL server; each round of one is followed by a round of the other (the idle
one waits), `--rounds` pairs each, and the machine's load (`/proc/loadavg`) is written
down with every round. Nothing is pinned: both servers, PostgreSQL and wrk share the
machine's cores alike. `--sqlite-workers 2` adds `procflow serve --workers 2` on SQLite
under the same load, then checks that no acknowledged write was lost.

    .venv/bin/python bench/pg_workers.py [--reference ../shared/bench/reference_app_pg.py]
        [--workers 1 2] [--rounds 2] [--runs 100000] [--sqlite-workers 2]

Needs wrk, a PostgreSQL server (`--postgres-url`; the database `procflow_bench` is
recreated by the seed, the reference makes `ref_bench`) and asyncpg in the virtualenv
(for the reference). Results go to `bench/results/pg-workers-<time>.json`.
"""

import argparse
import json
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import run as common  # noqa: E402  # bench/run.py: processes, wrk, seeding

DEFAULT_REFERENCE = common.ROOT.parent / "shared" / "bench" / "reference_app_pg.py"
REF_DSN = "postgresql://postgres@127.0.0.1:5432/ref_bench"
PROCFLOW_ENV: dict[str, str] = {}  # --procflow-env: settings to compare


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def start_reference(reference: Path, workers: int, runs: int) -> tuple[Any, str]:
    port, log = common.free_port(), common.RESULTS / f"reference-pg-{workers}.log"
    env = {**os.environ, "REF_PG_DSN": REF_DSN, "LIMIT_RUNS": str(runs)}
    proc = common.start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            f"{reference.stem}:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=reference.parent,
        log=log,
    )
    base = f"http://127.0.0.1:{port}"
    common.wait_ready(f"{base}/hello", proc, log)
    for _ in range(workers * 4):  # every worker's pool made (and the table seeded) before load
        common.wait_ready(f"{base}/hello", proc, log)
    status, body = common.put(f"{base}/organizations/org1/runs/{0:032x}")
    if status != 200 or body["data"]["name"] != common.BODY["name"]:
        common.fail(f"reference PUT answered {status}: {body}", log)
    return proc, base


def start_procflow(url: str, seeded: dict[str, Any], workers: int, label: str) -> tuple[Any, str]:
    port, log = common.free_port(), common.RESULTS / f"procflow-{label}-{workers}w.log"
    env = {
        **os.environ,
        "PROCFLOW_DATABASE_URL": url,
        "PROCFLOW_WEBHOOK_WORKER": "false",
        **PROCFLOW_ENV,
    }
    serve = [str(Path(sys.executable).with_name("procflow")), "serve", "--workers", str(workers)]
    proc = common.start(
        [*serve, "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=BENCH, log=log
    )
    base = f"http://127.0.0.1:{port}"
    common.wait_ready(f"{base}/health", proc, log)
    common.check_first_put(base, seeded, log)
    return proc, base


def measure(wrk: common.Wrk, url: str, script: Path, env: dict[str, str]) -> dict[str, Any]:
    before = load()
    output, _ = wrk.run(url, script, {**os.environ, **env}, wrk.duration)
    result = common.parse_wrk(output)
    lat = result["latency_ms"]
    return {
        "rps": result["rps"],
        "p50_ms": lat.get("p50"),
        "p99_ms": lat.get("p99"),
        "errors": result["non_2xx"] + sum(result["socket_errors"].values()),
        "loadavg_before": before,
        "loadavg_after": load(),
    }


def show(name: str, r: dict[str, Any]) -> None:
    print(
        f"    {name}: {r['rps']:,.0f} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
        f"errors {r['errors']}, load {r['loadavg_before']} -> {r['loadavg_after']}",
        flush=True,
    )


def paired(
    wrk: common.Wrk, reference: Path, workers: int, pg_url: str, seeded: dict[str, Any]
) -> dict[str, Any]:
    print(f"{workers} worker(s), {wrk.connections} connections", flush=True)
    ref, ref_base = start_reference(reference, workers, common.RUNS)
    pf, pf_base = start_procflow(pg_url, seeded, workers, "postgresql")
    cases = {
        "reference": (ref_base, reference.parent / "put_reference.lua", {}),
        "procflow": (pf_base, BENCH / "put_procflow.lua", common.lua_env(seeded)),
    }
    rounds: list[dict[str, Any]] = []
    try:
        for base, script, env in cases.values():  # warm-up, not kept
            wrk.run(base, script, {**os.environ, **env}, wrk.warmup)
        for n in range(wrk.rounds):
            pair = {}
            order = list(cases) if n % 2 == 0 else list(reversed(cases))
            for name in order:
                base, script, env = cases[name]
                pair[name] = measure(wrk, base, script, env)
                show(name, pair[name])
            pair["ratio_rps"] = round(pair["procflow"]["rps"] / pair["reference"]["rps"], 3)
            pair["ratio_p99"] = round(pair["procflow"]["p99_ms"] / pair["reference"]["p99_ms"], 3)
            print(
                f"    round {n + 1}: {pair['ratio_rps']}x throughput, {pair['ratio_p99']}x p99",
                flush=True,
            )
            rounds.append(pair)
    finally:
        common.stop(pf)
        common.stop(ref)
    return {"workers": workers, "rounds": rounds}


def summaries_recorded(url: str, org_id: str) -> tuple[int, int]:
    """Activity records of the benchmark's summaries (one per PUT that took effect), and
    runs whose stored summary is not the one their newest record says (a lost write)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        recorded = conn.execute(
            text(
                "SELECT count(*) FROM activity WHERE org_id = :org AND field = 'summary'"
                " AND new_value LIKE '%unique-%'"
            ),
            {"org": org_id},
        ).scalar_one()
        lost = conn.execute(
            text(
                "SELECT count(*) FROM run r WHERE r.org_id = :org AND r.summary LIKE 'unique-%'"
                " AND (SELECT new_value FROM activity a WHERE a.run_id = r.id"
                " AND a.field = 'summary' ORDER BY a.id DESC LIMIT 1)"
                " IS NOT json_quote(r.summary)"
            ),
            {"org": org_id},
        ).scalar_one()
    engine.dispose()
    return int(recorded), int(lost)


def sqlite_workers(
    wrk: common.Wrk, workers: int, seeded_copy: tuple[Path, Path] | None
) -> dict[str, Any]:
    """`--workers N` on SQLite under the same load: every answer 2xx, no write lost.

    Every PUT sets a summary no other sends (`put_unique.lua`, which counts the 200s);
    afterwards the activity trail must hold a record for every acknowledged PUT, and every
    run's summary must be its newest record's.
    """
    db = common.RESULTS / "procflow-workers.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    if seeded_copy is None:
        seeded = common.seed("sqlite-workers", url)
    else:  # a database bench/seed.py made earlier, and what it printed
        shutil.copyfile(seeded_copy[0], db)
        seeded = json.loads(seeded_copy[1].read_text().strip().splitlines()[-1])
    proc, base = start_procflow(url, seeded, workers, "sqlite")
    env = {**os.environ, **common.lua_env(seeded)}
    try:
        before = load()
        output, _ = wrk.run(base, BENCH / "put_unique.lua", env, wrk.duration)
    finally:
        common.stop(proc)
    parsed = common.parse_wrk(output)
    acknowledged = int(re.search(r"acknowledged: (\d+)", output).group(1))  # type: ignore[union-attr]  # put_unique.lua prints it
    # wrk stops without waiting for the PUTs in flight: up to one per connection took
    # effect unacknowledged, so recorded may exceed acknowledged by that much, never less.
    recorded, lost = summaries_recorded(url, seeded["org_id"])
    result = {
        "workers": workers,
        "rps": parsed["rps"],
        "p50_ms": parsed["latency_ms"].get("p50"),
        "p99_ms": parsed["latency_ms"].get("p99"),
        "errors": parsed["non_2xx"] + sum(parsed["socket_errors"].values()),
        "loadavg_before": before,
        "loadavg_after": load(),
        "acknowledged": acknowledged,
        "recorded": recorded,
        "runs_not_matching_their_last_record": lost,
        "no_write_lost": acknowledged <= recorded <= acknowledged + wrk.connections and not lost,
    }
    show(f"procflow SQLite --workers {workers}", result)
    print(
        f"    acknowledged PUTs {acknowledged:,}, recorded {recorded:,}, runs whose summary is"
        f" not their last record's {lost}: {'no' if result['no_write_lost'] else 'A'} write lost",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--postgres-url", default=common.DEFAULT_PG)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="paired rounds per worker count")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--sqlite-workers", type=int, default=0, help="also SQLite --workers N")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--sqlite-seeded",
        nargs=2,
        type=Path,
        metavar=("DB", "SEED_JSON"),
        help="copy this seeded SQLite file (and bench/seed.py's output) instead of seeding",
    )
    parser.add_argument(
        "--reuse-seed",
        action="store_true",
        help="serve the PostgreSQL database the last run seeded (its runs changed by it)",
    )
    parser.add_argument(
        "--procflow-env", action="append", default=[], help="KEY=VALUE for procflow serve"
    )
    args = parser.parse_args()
    if "bench" not in args.postgres_url.rsplit("/", 1)[-1]:
        sys.exit("bench: the PostgreSQL database's name must contain 'bench' (it is recreated)")
    reference = args.reference.resolve()
    if not reference.exists():
        sys.exit(f"bench: no reference app at {reference} (--reference)")
    common.RUNS = args.runs
    PROCFLOW_ENV.update(item.split("=", 1) for item in args.procflow_env)
    common.RESULTS.mkdir(exist_ok=True)
    wrk = common.Wrk([], args.connections, args.duration, args.warmup, args.rounds, 0)
    report: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "connections": args.connections,
        "duration_s": args.duration,
        "runs": args.runs,
        "code": common.code_version(),
        "cpus": os.cpu_count(),
        "procflow_env": PROCFLOW_ENV,
        "postgresql": [],
    }
    try:
        if not args.skip_postgres:
            saved = common.RESULTS / "seed-postgresql.json"
            if args.reuse_seed and saved.exists():
                seeded = json.loads(saved.read_text())
            else:
                seeded = common.seed("postgresql", args.postgres_url)
            for workers in args.workers:
                report["postgresql"].append(
                    paired(wrk, reference, workers, args.postgres_url, seeded)
                )
        if args.sqlite_workers:
            report["sqlite"] = sqlite_workers(wrk, args.sqlite_workers, args.sqlite_seeded)
    finally:
        common.stop_all()
    out = common.RESULTS / f"pg-workers-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"results: {out}")


if __name__ == "__main__":
    signal.signal(signal.SIGINT, common._on_signal)
    signal.signal(signal.SIGTERM, common._on_signal)
    main()
