"""A million runs against ten thousand: PUT throughput, a filtered list, memory under load.

For each database kind asked for (SQLite, PostgreSQL, or both), two databases seeded by
`bench/seed_many.py` (10,000 and 1,000,000 runs by default, same shape: statuses, ten
tags, twenty folders) are served side by side by `procflow serve` (one worker each), and:

1. **PUT throughput.** After a warm-up of each, rounds alternate (small, large; then
   large, small; ...), each `wrk -t1 -c64 -d10s --latency` of `put_unique.lua`: every PUT
   sets a summary no other sends, so none is a no-op (with 10,000 runs most runs would
   otherwise already hold the body after the first round). Reported per round: requests/s
   of each and the large/small ratio, and the CPU time per PUT (the server's, plus on
   PostgreSQL the database's server processes') and its large/small ratio.
2. **Memory.** During every PUT round the server's process tree is sampled every 0.2 s:
   the largest VmRSS seen per process, and VmHWM (the kernel's own peak) at the end.
3. **The filtered list.** `GET /organizations/{org}/runs?status=active&tag=...&folder=...`,
   first page (10), one connection (keep-alive), `--list-requests` requests one after
   another after a warm-up, tag and folder cycling through the seeded ones; wall-clock
   p50/p90/p99, and the CPU time (utime+stime from /proc) that the server, and on
   PostgreSQL the database's server processes, spent per request on average, which other
   work on a shared machine disturbs far less than the wall clock.

    .venv/bin/python bench/million.py [--databases sqlite postgresql] [--reuse]
        [--small-runs 10000] [--large-runs 1000000] [--rounds 3]

Without `--reuse` the four databases are (re)seeded first: `/tmp/million-10k.db`,
`/tmp/million-1m.db`, PostgreSQL `million_10k` and `million_1m` (`--sqlite-dir`,
`--postgres-url` move them). With `--reuse` they are served as they are, with what the
seed printed (`bench/results/seed-<name>.json`, or the copy beside the SQLite files). Results go to
`bench/results/million-<time>.json`.
"""

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import run as common  # noqa: E402  # bench/run.py: processes, wrk

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
TICKS = os.sysconf("SC_CLK_TCK")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def databases(kind: str, sqlite_dir: Path, pg_url: str, sizes: dict[str, int]) -> dict[str, str]:
    """size label -> database URL."""
    names = {label: f"million-{label}" for label in sizes}
    if kind == "sqlite":
        return {label: f"sqlite:///{sqlite_dir / (names[label] + '.db')}" for label in sizes}
    return {label: pg_url.rstrip("/") + "/" + names[label].replace("-", "_") for label in sizes}


def seed_name(url: str) -> str:
    return Path(url).stem if url.startswith("sqlite") else url.rsplit("/", 1)[-1]


def seeded(url: str, runs: int, reuse: bool, beside: Path) -> dict[str, Any]:
    """What the seed printed (organization, token, tags, folders): kept in bench/results
    and, so that another checkout can reuse the databases, beside the SQLite files."""
    saved = common.RESULTS / f"seed-{seed_name(url)}.json"
    copy = beside / saved.name
    if reuse:
        found = saved if saved.exists() else copy
        if not found.exists():
            sys.exit(f"million: --reuse, but no {saved} or {copy}: seed without --reuse first")
        data: dict[str, Any] = json.loads(found.read_text())
        return data
    print(f"  seeding {runs:,} runs into {url} ...", flush=True)
    out = subprocess.run(
        [sys.executable, str(BENCH / "seed_many.py"), "--runs", str(runs), "--database-url", url],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        sys.exit(f"million: seeding {url} failed:\n{out.stdout}\n{out.stderr}")
    saved.write_text(out.stdout.strip().splitlines()[-1])
    copy.write_text(saved.read_text())
    data = json.loads(saved.read_text())
    print(f"  seeded in {data['seconds']} s", flush=True)
    return data


def serve(url: str, label: str) -> tuple[Any, str]:
    port, log = common.free_port(), common.RESULTS / f"million-{seed_name(url)}.log"
    # No webhook or mail worker: every seeded run has tasks past their deadline, and the
    # mail worker's first reminder scans (a million overdue tasks) would run beside the load.
    env = {
        **os.environ,
        "PROCFLOW_DATABASE_URL": url,
        "PROCFLOW_WEBHOOK_WORKER": "false",
        "PROCFLOW_EMAIL_WORKER": "false",
    }
    cmd = [str(Path(sys.executable).with_name("procflow")), "serve", "--workers", "1"]
    proc = common.start([*cmd, "--host", "127.0.0.1", "--port", str(port)], env=env, log=log)
    base = f"http://127.0.0.1:{port}"
    common.wait_ready(f"{base}/health", proc, log, timeout=1800)  # a migration may index 1M rows
    print(f"  {label}: {url} served at {base} (pid {proc.pid})", flush=True)
    return proc, base


def tree(pid: int) -> list[int]:
    """The process and its descendants."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += parents.get(current, [])
    return found


def memory_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0])
    return fields


def cpu_of(pid: int) -> float:
    try:
        parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(parts[11]) + int(parts[12])) / TICKS


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its descendants."""
    return sum(cpu_of(p) for p in tree(pid))


class MemoryWatch:
    """Samples every process of a server's tree while running: the largest VmRSS, and of
    it the largest RssAnon (the process's own memory) and RssFile (file pages mapped in,
    e.g. SQLite's memory-mapped database, which the kernel may take back at any time)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peaks: dict[str, dict[int, int]] = {"VmRSS": {}, "RssAnon": {}, "RssFile": {}}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            for p in tree(self.pid):
                try:
                    now = memory_kb(p)
                except OSError:
                    continue
                for key, peak in self.peaks.items():
                    peak[p] = max(peak.get(p, 0), now.get(key, 0))

    def __enter__(self) -> "MemoryWatch":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def report(self) -> dict[str, Any]:
        hwm = {}
        for p in tree(self.pid):
            try:
                hwm[p] = memory_kb(p).get("VmHWM", 0)
            except OSError:
                continue

        def mb(values: dict[int, int]) -> dict[str, float]:
            return {str(p): round(kb / 1024, 1) for p, kb in values.items()}

        return {
            **{f"peak_{key}_mb": mb(peak) for key, peak in self.peaks.items()},
            "vm_hwm_mb": mb(hwm),
            "max_mb": round(max([*self.peaks["VmRSS"].values(), *hwm.values(), 0]) / 1024, 1),
            "max_anon_mb": round(max([*self.peaks["RssAnon"].values(), 0]) / 1024, 1),
        }


def put_round(
    wrk: common.Wrk, url: str, base: str, proc: Any, seed: dict[str, Any]
) -> dict[str, Any]:
    env = {**os.environ, **common.lua_env(seed), "BENCH_RUNS": str(seed["runs"])}
    db_pids = backends(url)
    before_load, before_cpu = load(), cpu_seconds(proc.pid)
    before_db = sum(cpu_of(p) for p in db_pids)
    with MemoryWatch(proc.pid) as watch:
        output, _ = wrk.run(base, BENCH / "put_unique.lua", env, wrk.duration)
    server_cpu = cpu_seconds(proc.pid) - before_cpu
    db_cpu = sum(cpu_of(p) for p in db_pids) - before_db
    parsed = common.parse_wrk(output)
    requests = max(int(parsed.get("requests") or 0), 1)
    return {
        "cpu_ms_per_put": round((server_cpu + db_cpu) * 1000 / requests, 3),
        "database_cpu_s": round(db_cpu, 2),
        "rps": parsed["rps"],
        "requests": parsed.get("requests"),
        "p50_ms": parsed["latency_ms"].get("p50"),
        "p99_ms": parsed["latency_ms"].get("p99"),
        "errors": parsed["non_2xx"] + sum(parsed["socket_errors"].values()),
        "server_cpu_s": round(server_cpu, 2),
        "memory": watch.report(),
        "loadavg_before": before_load,
        "loadavg_after": load(),
    }


def list_paths(seed: dict[str, Any], status: str) -> list[str]:
    org = seed["org_id"]
    tags, folders = seed["tags"], seed["folders"]
    return [
        f"/organizations/{org}/runs?status={status}&tag={tags[n % len(tags)]}&folder={folder}"
        for n, folder in enumerate(folders)
    ]


def backends(url: str) -> list[int]:
    """The PostgreSQL server processes connected to this database (none for SQLite)."""
    if url.startswith("sqlite"):
        return []
    import psycopg

    name = url.rsplit("/", 1)[-1]
    with psycopg.connect(url.replace("+psycopg", "").rsplit("/", 1)[0] + "/postgres") as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))
        return [int(pid) for (pid,) in rows]


def list_latency(
    url: str, base: str, proc: Any, seed: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    """One keep-alive connection, requests one after another: wall clock per request, and
    the CPU time the server (and on PostgreSQL its backends) spent on all of them."""
    paths = list_paths(seed, args.list_status)
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    headers = {"Authorization": f"Bearer {seed['token']}"}
    walls, totals, before_load = [], set(), load()

    def get(path: str) -> bytes:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            sys.exit(f"million: {path} answered {response.status}: {body[:300]!r}")
        return body

    for n in range(args.list_warmup):
        get(paths[n % len(paths)])
    db_pids = backends(url)
    cpu0 = cpu_seconds(proc.pid) + sum(cpu_of(p) for p in db_pids)
    for n in range(args.list_requests):
        path = paths[n % len(paths)]
        t0 = time.perf_counter()
        body = get(path)
        walls.append((time.perf_counter() - t0) * 1000)
        if n < len(paths):
            page = json.loads(body)
            totals.add((len(page["data"]), page["meta"]["pagination"]["total"]))
    cpu = cpu_seconds(proc.pid) + sum(cpu_of(p) for p in db_pids) - cpu0
    conn.close()
    return {
        "requests": args.list_requests,
        "status": args.list_status,
        "wall_ms": percentiles(walls),
        "cpu_ms_per_request": round(cpu * 1000 / args.list_requests, 2),
        "cpu_counts_database_backends": len(db_pids),
        "page_sizes_and_totals": sorted(totals),
        "loadavg_before": before_load,
        "loadavg_after": load(),
    }


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50": round(cuts[49], 2),
        "p90": round(cuts[89], 2),
        "p99": round(cuts[98], 2),
        "max": round(max(values), 2),
        "mean": round(statistics.fmean(values), 2),
    }


def bench_kind(kind: str, args: argparse.Namespace, wrk: common.Wrk) -> dict[str, Any]:
    sizes = {"10k": args.small_runs, "1m": args.large_runs}
    if args.small_runs != 10_000 or args.large_runs != 1_000_000:
        sizes = {f"{args.small_runs}": args.small_runs, f"{args.large_runs}": args.large_runs}
    urls = databases(kind, args.sqlite_dir, args.postgres_url, sizes)
    print(f"{kind}: {', '.join(f'{label} = {url}' for label, url in urls.items())}", flush=True)
    seeds = {
        label: seeded(url, sizes[label], args.reuse, args.sqlite_dir) for label, url in urls.items()
    }
    servers = {label: serve(url, label) for label, url in urls.items()}
    small, large = list(urls)
    result: dict[str, Any] = {"databases": urls, "runs": sizes, "put_rounds": [], "list": {}}
    try:
        for label, (_proc, base) in servers.items():
            common.check_first_put(base, seeds[label], common.RESULTS / "million.log")
            env = {**os.environ, **common.lua_env(seeds[label]), "BENCH_RUNS": str(sizes[label])}
            wrk.run(base, BENCH / "put_unique.lua", env, wrk.warmup)
        for n in range(args.rounds):
            pair = {}
            for label in (small, large) if n % 2 == 0 else (large, small):
                proc, base = servers[label]
                pair[label] = put_round(wrk, urls[label], base, proc, seeds[label])
                r = pair[label]
                print(
                    f"    PUT {label}: {r['rps']:,.0f} req/s, p99 {r['p99_ms']} ms, errors"
                    f" {r['errors']}, CPU {r['cpu_ms_per_put']} ms per PUT, RSS max"
                    f" {r['memory']['max_mb']} MB (anonymous {r['memory']['max_anon_mb']} MB),"
                    f" load {r['loadavg_before']} -> {r['loadavg_after']}",
                    flush=True,
                )
            pair["ratio_rps"] = round(pair[large]["rps"] / pair[small]["rps"], 3)
            pair["ratio_cpu_per_put"] = round(
                pair[large]["cpu_ms_per_put"] / pair[small]["cpu_ms_per_put"], 3
            )
            print(
                f"    round {n + 1}: {large}/{small} throughput {pair['ratio_rps']}x,"
                f" CPU per PUT {pair['ratio_cpu_per_put']}x",
                flush=True,
            )
            result["put_rounds"].append(pair)
        for label in (small, large):
            proc, base = servers[label]
            r = list_latency(urls[label], base, proc, seeds[label], args)
            result["list"][label] = r
            print(
                f"    list {label}: wall p50 {r['wall_ms']['p50']} ms, p99 {r['wall_ms']['p99']}"
                f" ms; CPU {r['cpu_ms_per_request']} ms per request; (page, total)"
                f" {r['page_sizes_and_totals'][:3]}"
                f" load {r['loadavg_before']} -> {r['loadavg_after']}",
                flush=True,
            )
    finally:
        for proc, _ in servers.values():
            common.stop(proc)
    ratios = [pair["ratio_rps"] for pair in result["put_rounds"]]
    result["ratio_rps_median"] = statistics.median(ratios) if ratios else None
    cpu_ratios = [pair["ratio_cpu_per_put"] for pair in result["put_rounds"]]
    result["ratio_cpu_per_put_median"] = statistics.median(cpu_ratios) if cpu_ratios else None
    for key in ("max_mb", "max_anon_mb"):
        result[f"rss_{key}"] = max(
            (pair[label]["memory"][key] for pair in result["put_rounds"] for label in urls),
            default=None,
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", choices=("sqlite", "postgresql"),
                        default=["sqlite", "postgresql"])  # fmt: skip
    parser.add_argument("--reuse", action="store_true", help="serve the databases seeded before")
    parser.add_argument("--small-runs", type=int, default=10_000)
    parser.add_argument("--large-runs", type=int, default=1_000_000)
    parser.add_argument("--sqlite-dir", type=Path, default=Path("/tmp"))
    parser.add_argument("--postgres-url", default=DEFAULT_PG, help="server URL, no database")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="paired PUT rounds")
    parser.add_argument("--list-requests", type=int, default=300)
    parser.add_argument("--list-warmup", type=int, default=20)
    parser.add_argument("--list-status", default="active")
    args = parser.parse_args()
    common.RESULTS.mkdir(exist_ok=True)
    wrk = common.Wrk([], args.connections, args.duration, args.warmup, args.rounds, 0)
    report: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "code": common.code_version(),
        "cpus": os.cpu_count(),
        "connections": args.connections,
        "duration_s": args.duration,
    }
    try:
        for kind in args.databases:
            report[kind] = bench_kind(kind, args, wrk)
    finally:
        common.stop_all()
    out = common.RESULTS / f"million-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    for kind in args.databases:
        r = report[kind]
        small, large = list(r["runs"])
        print(
            f"{kind}: PUT {large}/{small} ratio per round"
            f" {[p['ratio_rps'] for p in r['put_rounds']]} (median {r['ratio_rps_median']}x,"
            f" goal >= 0.9x), CPU per PUT {r['ratio_cpu_per_put_median']}x;"
            f" list p99 at {large}: wall {r['list'][large]['wall_ms']['p99']} ms,"
            f" (goal <= 30 ms), CPU {r['list'][large]['cpu_ms_per_request']} ms per request;"
            f" RSS max {r['rss_max_mb']} MB, of it anonymous {r['rss_max_anon_mb']} MB"
            " (goal <= 250 MB)"
        )
    print(f"results: {out}")


if __name__ == "__main__":
    signal.signal(signal.SIGINT, common._on_signal)
    signal.signal(signal.SIGTERM, common._on_signal)
    main()
