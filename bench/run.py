"""The run-update benchmark, side by side with the reference app, in one invocation.

1. The reference app (../shared/bench/reference_app.py, 100,000 rows): `GET /hello`, the
   sync PUT and the async PUT.
2. procflow on SQLite: seed 100,000 runs, `procflow serve` (one worker), PUT.
3. procflow on PostgreSQL: the same against a dedicated, recreated database.

Each server is pinned to core 0 and wrk to core 1 (when taskset and two cores exist),
warmed up, then measured with `wrk -t1 -c32 -d10s --latency`. Results go to
bench/results/ as JSON, and a markdown table is printed. Every process started here is
stopped on exit, including on Ctrl-C.
"""

import argparse
import atexit
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
DEFAULT_REFERENCE = ROOT.parent / "shared" / "bench"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/procflow_bench"
RUNS = 100_000
BODY = {
    "name": "Onboarding - Globex Corp (Updated)",
    "summary": "Updated summary notes for this run.",
    "prevent_guest_comment": True,
}
GOAL_RATIO, GOAL_P99_MS = 0.5, 25.0
BUSY_WARNING = 15.0
WRK_HINT = (
    "wrk is not installed. Install it with your package manager, e.g.\n"
    "  sudo apt-get install -y wrk     (Debian/Ubuntu)\n"
    "  brew install wrk                (macOS)"
)

_children: list[subprocess.Popen[bytes]] = []


# --- processes -------------------------------------------------------------------------


def start(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start a process in its own process group, remembered so that exit stops it."""
    out = log.open("wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        list(cmd), env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    _children.append(proc)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    if proc in _children:
        _children.remove(proc)


def stop_all() -> None:
    for proc in list(_children):
        stop(proc)


def _on_signal(signum: int, _frame: Any) -> None:
    print(
        f"bench: stopped by signal {signum}; servers and wrk stopped", file=sys.stderr, flush=True
    )
    stop_all()
    sys.exit(128 + signum)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"server exited with {proc.returncode} before answering {url}", log)
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    fail(f"server did not answer {url} within {timeout:.0f}s", log)


def fail(message: str, log: Path | None = None) -> NoReturn:
    tail = ""
    if log and log.exists():
        tail = (
            "\n--- "
            + log.name
            + " (tail) ---\n"
            + "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        )
    stop_all()
    sys.exit(f"bench: FAILED: {message}{tail}")


def put(url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        url, data=json.dumps(BODY).encode(), method="PUT", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


# --- wrk -------------------------------------------------------------------------------

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    duration = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    number, unit = duration.groups()  # type: ignore[union-attr]  # wrk prints only these units
    return round(float(number) * UNITS_MS[unit], 3)


def parse_wrk(output: str) -> dict[str, Any]:
    """Throughput, latency percentiles and error counts from wrk's --latency report."""
    result: dict[str, Any] = {"latency_ms": {}}
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M):
        result["latency_ms"][f"p{pct}"] = _ms(value)
    stats = re.search(r"Latency\s+(\S+)\s+\S+\s+(\S+)", output)
    if stats:
        result["latency_ms"]["avg"] = _ms(stats.group(1))
        result["latency_ms"]["max"] = _ms(stats.group(2))
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+),", output)
    if total:
        result["requests"] = int(total.group(1))
        result["seconds"] = _ms(total.group(2) + total.group(3)) / 1000
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    result["rps"] = float(rps.group(1)) if rps else 0.0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result["socket_errors"] = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, sock.groups()), strict=True))
        if sock
        else {}
    )
    return result


class Wrk:
    def __init__(
        self,
        prefix: list[str],
        connections: int,
        duration: int,
        warmup: int,
        rounds: int,
        wait_quiet: int,
    ):
        self.prefix, self.connections = prefix, connections
        self.duration, self.warmup, self.rounds = duration, warmup, rounds
        self.wait_quiet = wait_quiet

    def run(
        self,
        url: str,
        script: Path | None,
        env: dict[str, str],
        seconds: int,
        server_pid: int | None = None,
    ) -> tuple[str, float | None]:
        """One wrk run: its report, and how busy the CPUs were with anything else."""
        cmd = [
            *self.prefix,
            "wrk",
            "-t1",
            f"-c{self.connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
        ]
        if script:
            cmd += ["-s", str(script)]
        before = cpu_ticks(server_pid)
        proc = subprocess.Popen(
            [*cmd, url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _children.append(proc)
        output, _ = proc.communicate(timeout=seconds + 60)
        _children.remove(proc)
        after = cpu_ticks(server_pid)
        text = output.decode(errors="replace")
        if proc.returncode != 0 or "Requests/sec" not in text:
            fail(f"wrk failed on {url}:\n{text}")
        total, busy, ours = (a - b for a, b in zip(after, before, strict=True))
        return text, max(0.0, round(100 * (busy - ours) / total, 1)) if total > 0 else None

    def measure(
        self,
        name: str,
        url: str,
        server_pid: int,
        script: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Warm up, then measure `rounds` times; the round with the median req/s stands."""
        env = {**os.environ, **(env or {})}
        os.sync()  # no earlier write-back debt lands inside the measurement
        background = wait_until_quiet(self.wait_quiet) if self.wait_quiet else cpu_busy_percent()
        if self.warmup:
            self.run(url, script, env, self.warmup, server_pid)
        rounds, outputs = [], []
        for n in range(self.rounds):
            if self.wait_quiet and n:
                wait_until_quiet(self.wait_quiet)
            output, others = self.run(url, script, env, self.duration, server_pid)
            rounds.append({**parse_wrk(output), "others_busy_pct": others})
            outputs.append(output)
        middle = sorted(range(len(rounds)), key=lambda i: rounds[i]["rps"])[len(rounds) // 2]
        result = {
            "name": name,
            "url": url,
            "script": script.name if script else None,
            **rounds[middle],
            "wrk_output": outputs[middle],
            "rounds_rps": [r["rps"] for r in rounds],
            "rounds": [
                {
                    "rps": r["rps"],
                    "p50_ms": r["latency_ms"].get("p50"),
                    "p99_ms": r["latency_ms"].get("p99"),
                    "others_busy_pct": r["others_busy_pct"],
                }
                for r in rounds
            ],
            "failed_all_rounds": sum(
                r["non_2xx"] + sum(r["socket_errors"].values()) for r in rounds
            ),
            "background_busy_pct": background,
        }
        lat = result["latency_ms"]
        print(
            f"  {name}: {result['rps']:,.0f} req/s, p50 {lat.get('p50')} ms, "
            f"p99 {lat.get('p99')} ms, non-2xx {result['non_2xx']}, CPU used by other "
            f"processes {result['others_busy_pct']}%"
            + (
                " (rounds: "
                + ", ".join(f"{r['rps']:,.0f} req/s p99 {r['p99_ms']} ms" for r in result["rounds"])
                + ")"
                if self.rounds > 1
                else ""
            ),
            flush=True,
        )
        if max(background, result["others_busy_pct"] or 0) > BUSY_WARNING:
            print(
                f"  WARNING: other processes were busy ({background:.0f}% before, "
                f"{result['others_busy_pct']}% during); on a shared machine the figures "
                "drift (for PostgreSQL, 'other' includes the database server)",
                flush=True,
            )
        return result


def cpu_ticks(server_pid: int | None) -> tuple[int, int, int]:
    """Clock ticks so far: all CPUs, busy ones, and those of the server and reaped wrk."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    total, idle = sum(fields), fields[3] + fields[4]
    ours = 0
    if server_pid:
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{server_pid}/stat").read_text().rsplit(")", 1)[1].split()
            ours += int(stat[11]) + int(stat[12])
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours += round((children.ru_utime + children.ru_stime) * os.sysconf("SC_CLK_TCK"))
    return total, total - idle, ours


def cpu_busy_percent(seconds: float = 1.0) -> float:
    """How busy all CPUs are (by anyone) over a short sample, from /proc/stat."""

    def sample() -> tuple[int, int]:
        with contextlib.suppress(OSError):
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
            idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
            return sum(fields), idle
        return 0, 0

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    span = total1 - total0
    return round(100 * (1 - (idle1 - idle0) / span), 1) if span > 0 else 0.0


def wait_until_quiet(limit_s: int) -> float:
    """On a shared machine, wait (up to `limit_s`) until others leave the CPUs for 5 s."""
    deadline = time.monotonic() + limit_s
    announced = False
    while (busy := cpu_busy_percent(5.0)) > BUSY_WARNING:
        if time.monotonic() > deadline:
            print(f"  still {busy:.0f}% busy after {limit_s}s; measuring anyway", flush=True)
            return busy
        if not announced:
            print(f"  machine {busy:.0f}% busy; waiting for it to quiet down ...", flush=True)
            announced = True
    return busy


# --- the three contenders --------------------------------------------------------------


def bench_reference(wrk: Wrk, reference: Path, server_prefix: list[str]) -> list[dict[str, Any]]:
    print("reference app", flush=True)
    proc, base = start_reference(reference, server_prefix)
    try:
        return [
            wrk.measure("reference GET /hello", f"{base}/hello", proc.pid),
            wrk.measure("reference sync PUT", base, proc.pid, reference / "put_reference.lua"),
            wrk.measure(
                "reference async PUT", base, proc.pid, reference / "put_reference_async.lua"
            ),
        ]
    finally:
        stop(proc)


def start_reference(
    reference: Path, server_prefix: list[str]
) -> tuple[subprocess.Popen[bytes], str]:
    """The reference app on a fresh database, checked with one PUT; its process and URL."""
    db = RESULTS / "reference.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    port, log = free_port(), RESULTS / "reference.log"
    env = {**os.environ, "LIMIT_DB": str(db), "LIMIT_RUNS": str(RUNS)}
    proc = start(
        [
            *server_prefix,
            sys.executable,
            "-m",
            "uvicorn",
            "reference_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=reference,
        log=log,
    )
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}/hello", proc, log)
    status, body = put(f"{base}/a/organizations/org1/runs/{0:032x}")
    if status != 200 or body["data"]["name"] != BODY["name"]:
        fail(f"reference PUT answered {status}: {body}", log)
    return proc, base


def bench_interleaved(
    wrk: Wrk, reference: Path, server_prefix: list[str], loop: str | None
) -> dict[str, dict[str, Any]]:
    """The reference's async PUT and procflow's SQLite PUT in alternating rounds.

    On a virtual machine whose speed drifts by a third within minutes, measuring one
    contender after the other compares two machines. Here both servers run side by side
    (one idles while the other is measured) and each round of one is followed by a round
    of the other, so every pair of rounds shares the machine's state; the ratio reported is
    the median of the pairs' ratios.
    """
    print("reference app and procflow on SQLite, interleaved", flush=True)
    ref_proc, ref_base = start_reference(reference, server_prefix)
    url = f"sqlite:///{RESULTS / 'procflow-bench.db'}"
    proc, base, seeded = start_procflow("SQLite", url, server_prefix, loop)
    rounds, wrk.rounds = wrk.rounds, 1
    try:
        hello = wrk.measure("reference GET /hello", f"{ref_base}/hello", ref_proc.pid)
        pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for _ in range(rounds):
            pairs.append(
                (
                    wrk.measure(
                        "reference async PUT",
                        ref_base,
                        ref_proc.pid,
                        reference / "put_reference_async.lua",
                    ),
                    wrk.measure(
                        "procflow SQLite PUT",
                        base,
                        proc.pid,
                        BENCH / "put_procflow.lua",
                        lua_env(seeded),
                    ),
                )
            )
    finally:
        wrk.rounds = rounds
        stop(proc)
        stop(ref_proc)
    ratios = [p["rps"] / r["rps"] for r, p in pairs if r["rps"]]
    combined = {
        key: _median_round([pair[side] for pair in pairs])
        for side, key in enumerate(("reference_async_put", "procflow_sqlite"))
    }
    combined["procflow_sqlite"]["seed_seconds"] = seeded["seconds"]
    combined["procflow_sqlite"]["paired_ratios"] = [round(x, 3) for x in ratios]
    if ratios:
        combined["procflow_sqlite"]["paired_ratio_median"] = round(
            sorted(ratios)[len(ratios) // 2], 3
        )
    print(
        f"  paired ratios (procflow / reference, round by round): "
        f"{', '.join(f'{x:.2f}' for x in ratios)}",
        flush=True,
    )
    return {"reference_hello": hello, **combined}


def _median_round(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The single-round result with the median req/s, carrying every round's figures."""
    middle = sorted(results, key=lambda r: r["rps"])[len(results) // 2]
    everything = [round_ for r in results for round_ in r["rounds"]]
    return {
        **middle,
        "rounds": everything,
        "rounds_rps": [r["rps"] for r in everything],
        "failed_all_rounds": sum(r["failed_all_rounds"] for r in results),
    }


def seed(label: str, url: str) -> dict[str, Any]:
    """Seed a fresh database; its org and token are kept in results/ for profiling."""
    print(f"  seeding {RUNS:,} runs into {url} ...", flush=True)
    env = {**os.environ, "PROCFLOW_DATABASE_URL": url}
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "seed.py"), "--runs", str(RUNS)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _children.append(proc)
    raw, _ = proc.communicate()
    _children.remove(proc)
    output = raw.decode(errors="replace")
    if proc.returncode != 0:
        fail(f"seeding {url} failed:\n{output}")
    seeded: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    (RESULTS / f"seed-{label.lower()}.json").write_text(json.dumps({**seeded, "url": url}))
    print(f"  seeded in {seeded['seconds']} s", flush=True)
    return seeded


def check_first_put(base: str, seeded: dict[str, Any], log: Path) -> None:
    """Fail loudly unless procflow answers the benchmark's PUT with the expected run."""
    run_id = f"{0:032x}"
    status, body = put(f"{base}/organizations/{seeded['org_id']}/runs/{run_id}", seeded["token"])
    data = body.get("data", {}) if isinstance(body, dict) else {}
    expected = {
        "id": run_id,
        "name": BODY["name"],
        "summary": BODY["summary"],
        "prevent_guest_comment": True,
    }
    wrong = {k: data.get(k) for k, v in expected.items() if data.get(k) != v}
    if status != 200 or wrong or len(data.get("tags", [])) != 1 or len(data.get("prerun", {})) != 2:
        fail(f"procflow's first PUT answered {status}; unexpected: {wrong or body}", log)


def start_procflow(
    label: str,
    url: str,
    server_prefix: list[str],
    loop: str | None,
) -> tuple[subprocess.Popen[bytes], str, dict[str, Any]]:
    """A freshly seeded procflow, served and checked with one PUT: its process, URL and
    what the seed made (organization, token, seconds)."""
    seeded = seed(label, url)
    port, log = free_port(), RESULTS / f"procflow-{label.lower()}.log"
    env = {**os.environ, "PROCFLOW_DATABASE_URL": url}
    serve = (
        [sys.executable, str(BENCH / "serve_loop.py"), loop]
        if loop
        else [str(Path(sys.executable).with_name("procflow")), "serve"]
    )
    proc = start(
        [*server_prefix, *serve, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=BENCH,
        log=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/health", proc, log)
        check_first_put(base, seeded, log)
    except BaseException:
        stop(proc)
        raise
    return proc, base, seeded


def lua_env(seeded: dict[str, Any]) -> dict[str, str]:
    """The environment `put_procflow.lua` reads."""
    return {"BENCH_ORG": seeded["org_id"], "BENCH_TOKEN": seeded["token"], "BENCH_RUNS": str(RUNS)}


def bench_procflow(
    wrk: Wrk, label: str, url: str, server_prefix: list[str], loop: str | None
) -> dict[str, Any]:
    print(f"procflow on {label}" + (f" ({loop} event loop)" if loop else ""), flush=True)
    proc, base, seeded = start_procflow(label, url, server_prefix, loop)
    try:
        name = f"procflow {label} PUT" + (f" ({loop})" if loop else "")
        result = wrk.measure(name, base, proc.pid, BENCH / "put_procflow.lua", lua_env(seeded))
        result["seed_seconds"] = seeded["seconds"]
        return result
    finally:
        stop(proc)


# --- machine and report ----------------------------------------------------------------


def _first(path: str, key: str) -> str | None:
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    return None


def postgres_version(url: str) -> str | None:
    try:
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
        with psycopg.connect(dsn + "/postgres", connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else None
    except Exception:
        return None


def machine(pg_url: str | None) -> dict[str, Any]:
    versions = {}
    for package in (
        "fastapi",
        "starlette",
        "pydantic",
        "uvicorn",
        "uvloop",
        "httptools",
        "sqlalchemy",
        "psycopg",
        "orjson",
    ):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[package] = importlib.metadata.version(package)
    mem_kb = (_first("/proc/meminfo", "MemTotal") or "0 kB").split()[0]
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return {
        "nproc": os.cpu_count(),
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor(),
        "memory_gib": round(int(mem_kb) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version(pg_url) if pg_url else None,
        "wrk": wrk_version.stdout.splitlines()[0] if wrk_version.stdout else None,
        "packages": versions,
    }


def machine_jitter(server_prefix: list[str], seconds: float, when: str) -> dict[str, Any] | None:
    """`bench/jitter.py` on the server's core: how often the CPU itself stalled."""
    if seconds <= 0:
        return None
    done = subprocess.run(
        [
            *server_prefix,
            sys.executable,
            str(BENCH / "jitter.py"),
            "--seconds",
            str(seconds),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"  machine jitter ({when}): probe failed: {done.stderr.strip()}", flush=True)
        return None
    summary: dict[str, Any] = json.loads(done.stdout)
    print(f"machine jitter ({when}, server core): {describe_jitter(summary)}", flush=True)
    return summary


def describe_jitter(summary: dict[str, Any]) -> str:
    return (
        f"{summary['stall_episodes']} CPU stalls in {summary['seconds']} s, longest "
        f"{summary['longest_stall_ms']} ms, {summary['time_lost_pct']}% of the time lost "
        f"(a fixed {summary['chunk_ms']['p50']} ms chunk of work, 3x slower or more)"
    )


def code_version() -> dict[str, Any]:
    """Which procflow was measured: the commit, and whether src/ had local changes."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    changed = [line for line in git("status", "--porcelain", "--", "src").splitlines() if line]
    untracked = git("ls-files", "--others", "--exclude-standard", "-z", "--", "src")
    fingerprint = hashlib.sha1(git("diff", "HEAD", "--", "src").encode())
    for name in filter(None, untracked.split("\0")):
        with contextlib.suppress(OSError):
            fingerprint.update((ROOT / name).read_bytes())
    return {
        "commit": git("rev-parse", "--short", "HEAD") or None,
        "src_files_changed_since_commit": len(changed),
        "local_changes_sha1": fingerprint.hexdigest()[:12] if changed else None,
    }


def table(results: list[dict[str, Any]], baseline: float) -> str:
    lines = [
        "| what | requests/s | p50 ms | p90 ms | p99 ms | non-2xx | vs ref async |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lat = r["latency_ms"]
        ratio = f"{r['rps'] / baseline:.2f}x" if baseline else "-"
        lines.append(
            f"| {r['name']} | {r['rps']:,.0f} | {lat.get('p50', '-')} | "
            f"{lat.get('p90', '-')} | {lat.get('p99', '-')} | {r['non_2xx']} | {ratio} |"
        )
    return "\n".join(lines)


def verdict(results: dict[str, dict[str, Any]], baseline: float) -> dict[str, Any]:
    sqlite_run = results.get("procflow_sqlite")
    if not sqlite_run or not baseline:
        return {"met": False, "reason": "procflow on SQLite was not measured"}
    ratio = sqlite_run.get("paired_ratio_median") or sqlite_run["rps"] / baseline
    p99 = sqlite_run["latency_ms"].get("p99", float("inf"))
    clean = sqlite_run["failed_all_rounds"] == 0
    floor = results["reference_hello"]["latency_ms"].get("p99")
    return {
        "ratio": round(ratio, 3),
        "p99_ms": p99,
        "errors_free": clean,
        "met": ratio >= GOAL_RATIO and p99 <= GOAL_P99_MS and clean,
        "goal": f">= {GOAL_RATIO}x reference async req/s and p99 <= {GOAL_P99_MS} ms",
        "bare_stack_p99_ms": floor,
        "p99_reachable_here": floor is not None and floor <= GOAL_P99_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--reference-dir",
        type=Path,
        default=Path(os.environ.get("BENCH_REFERENCE_DIR", DEFAULT_REFERENCE)),
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG),
        help="database to recreate for the PostgreSQL run (name must contain "
        "'bench'); empty to skip",
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--procflow-loop",
        choices=("asyncio", "uvloop"),
        help="serve procflow on this event loop (bench/serve_loop.py) instead "
        "of running `procflow serve` as shipped",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per case")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before each case")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measurements per case; the median (by req/s) is reported",
    )
    parser.add_argument(
        "--interleave",
        action="store_true",
        help="alternate rounds of the reference's async PUT and procflow's "
        "SQLite PUT (both servers up) and report the median paired ratio; "
        "for machines whose speed drifts",
    )
    parser.add_argument(
        "--jitter-seconds",
        type=float,
        default=5.0,
        help="seconds of the CPU-stall probe (bench/jitter.py) on the server's "
        "core before and after the cases; 0 skips it",
    )
    parser.add_argument(
        "--wait-quiet",
        type=int,
        default=0,
        metavar="SECONDS",
        help="before each case, wait up to this long for other processes "
        "to leave the CPUs (for shared machines)",
    )
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        sys.exit(WRK_HINT)
    reference = args.reference_dir.resolve()
    if not (reference / "reference_app.py").exists():
        sys.exit(f"bench: reference_app.py not found in {reference} (use --reference-dir)")
    for module in ("fastapi", "uvicorn", "orjson"):
        if importlib.util.find_spec(module) is None:
            sys.exit(
                f"bench: the reference app needs {module}: pip install fastapi "
                "'uvicorn[standard]' orjson"
            )

    atexit.register(stop_all)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    RESULTS.mkdir(parents=True, exist_ok=True)
    pinned = shutil.which("taskset") is not None and len(os.sched_getaffinity(0)) >= 2
    server_prefix = ["taskset", "-c", "0"] if pinned else []
    wrk = Wrk(
        ["taskset", "-c", "1"] if pinned else [],
        args.connections,
        args.duration,
        args.warmup,
        max(1, args.rounds),
        args.wait_quiet,
    )
    pg_url = None if args.skip_postgres or not args.postgres_url else args.postgres_url
    print(
        f"wrk -t1 -c{args.connections} -d{args.duration}s --latency (warm-up "
        f"{args.warmup}s); {'server on core 0, wrk on core 1' if pinned else 'not pinned'}",
        flush=True,
    )

    started = datetime.now(UTC)
    code = code_version()
    jitter = {"before": machine_jitter(server_prefix, args.jitter_seconds, "before")}
    if args.interleave:
        results = bench_interleaved(wrk, reference, server_prefix, args.procflow_loop)
    else:
        ref = bench_reference(wrk, reference, server_prefix)
        results = dict(
            zip(("reference_hello", "reference_sync_put", "reference_async_put"), ref, strict=True)
        )
        sqlite_db = RESULTS / "procflow-bench.db"
        results["procflow_sqlite"] = bench_procflow(
            wrk, "SQLite", f"sqlite:///{sqlite_db}", server_prefix, args.procflow_loop
        )
    if pg_url:
        results["procflow_postgresql"] = bench_procflow(
            wrk, "PostgreSQL", pg_url, server_prefix, args.procflow_loop
        )

    jitter["after"] = machine_jitter(server_prefix, args.jitter_seconds, "after")

    baseline = results["reference_async_put"]["rps"]
    outcome = verdict(results, baseline)
    report: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine(pg_url),
        "machine_jitter": jitter,
        "procflow": code,
        "settings": {
            "runs": RUNS,
            "threads": 1,
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "pinned": pinned,
            "rounds": max(1, args.rounds),
            "procflow_loop": args.procflow_loop or "as shipped (procflow serve)",
            "interleaved": args.interleave,
            "server_workers": 1,
        },
        "results": results,
        "goal": outcome,
    }
    stamp = started.strftime("%Y%m%d-%H%M%S")
    for name in (f"bench-{stamp}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(report, indent=2))
    print()
    print(table(list(results.values()), baseline))
    print()
    m = report["machine"]
    print(
        f"machine: {m['nproc']} cpu ({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}, "
        f"SQLite {m['sqlite']}, PostgreSQL {m['postgresql']}"
    )
    print(
        f"goal ({outcome.get('goal', '')}): {'MET' if outcome['met'] else 'NOT MET'} "
        f"(ratio {outcome.get('ratio')}, p99 {outcome.get('p99_ms')} ms)"
    )
    before, after = jitter.get("before"), jitter.get("after")
    if before and after:
        drift = after["chunk_ms"]["p50"] / before["chunk_ms"]["p50"] - 1
        if abs(drift) > 0.10:
            print(
                f"WARNING: the machine's speed changed by {100 * drift:+.0f}% during the run "
                "(the jitter probe's chunk, before against after): "
                + (
                    "the ratio is the median of paired rounds for that reason"
                    if args.interleave
                    else "ratios between cases measured minutes apart "
                    "are unreliable; --interleave pairs the rounds"
                )
            )
    if outcome.get("bare_stack_p99_ms") is not None and not outcome["p99_reachable_here"]:
        print(
            f"note: the bare stack's own p99 (reference GET /hello) was "
            f"{outcome['bare_stack_p99_ms']} ms, above the goal's {GOAL_P99_MS} ms: no PUT on "
            "this stack can meet the p99 goal on this machine right now (see machine jitter)"
        )
    print(
        f"procflow at {code['commit']} ({code['src_files_changed_since_commit']} files in src/ "
        "changed since)"
    )
    if code_version() != code:
        print("WARNING: procflow's code changed while this ran; run it again")
    print(f"results: {RESULTS / f'bench-{stamp}.json'}")
    if any(r["failed_all_rounds"] for r in results.values()):
        print("WARNING: some requests failed (non-2xx or socket errors); see the JSON.")
        sys.exit(1)


if __name__ == "__main__":
    main()
