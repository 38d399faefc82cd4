"""The sandbox's two speed goals: start to first 200, and reset of a database of 1,000 runs.

Start: runs `procflow sandbox --port 0 --json` N times and times, from the moment the
process is spawned, its JSON line and the first 200 of `GET /organizations/{org}/users`
with the admin token; side by side, the same for `procflow serve --port 0` on a fresh
SQLite file (the normal start: migrations, every route built at `/` and under `/api`)
until its first 200 on `/health`. Goal: sandbox ≤ 1.5 s.

Reset: one sandbox, seeded through `POST /_sandbox/seed` with a template (a kick-off field,
three steps with deadlines) and 1,000 runs (half with their first task completed and its
value set); then, R times, a write (a tag) and `POST /_sandbox/reset`, timed by the
sandbox itself (the `milliseconds` it answers) and by the client. Goal: ≤ 100 ms.

    .venv/bin/python bench/sandbox.py --starts 5 --resets 30
    .venv/bin/python bench/sandbox.py --skip-start --database-url postgresql+psycopg://postgres@127.0.0.1/sandbox_bench

Prints one JSON line. Timings taken while other work runs on the machine are stretched;
`cpu_s` (the process's CPU time over its whole life) is steadier than wall time.

procflow's modules are first compiled to bytecode, as `pip install` does: with
PYTHONDONTWRITEBYTECODE set, a source checkout would otherwise compile every module from
source on every start (a fifth of a start's instructions). `--from-source` leaves them
alone, to measure that case.
"""

import argparse
import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

PYTHON = sys.executable


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def call(url: str, token: str | None = None, method: str = "GET", body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=600) as response:
        text = response.read()
    return json.loads(text) if text else None


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=30)
    if process.stdout is not None:
        process.stdout.close()


def time_sandbox(extra: list[str]) -> dict[str, float]:
    cpu = children_cpu()
    began = time.perf_counter()
    command = [PYTHON, "-m", "procflow", "sandbox", "--port", "0", "--json", *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    people = json.loads(process.stdout.readline())
    line = time.perf_counter() - began
    call(f"{people['base_url']}/organizations/{people['org_id']}/users", people["admin_token"])
    first = time.perf_counter() - began
    stop(process)
    return {"line_s": line, "first_200_s": first, "cpu_s": children_cpu() - cpu}


def time_serve() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, PROCFLOW_DATABASE_URL=f"sqlite:///{folder}/serve.db")
        env["PROCFLOW_FILES_DIR"] = f"{folder}/files"
        cpu = children_cpu()
        began = time.perf_counter()
        command = [PYTHON, "-m", "procflow", "serve", "--port", "0"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        assert process.stdout is not None
        base = ""
        while not base:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("procflow serve ended before serving")
            if " is serving " in line:
                base = line.split(" is serving ", 1)[1].split()[0]
        call(f"{base}/health")
        first = time.perf_counter() - began
        stop(process)
        return {"first_200_s": first, "cpu_s": children_cpu() - cpu}


def seed_document(runs: int) -> dict[str, Any]:
    steps = [
        {
            "title": f"Step {n}",
            "deadline": {"value": n, "unit": "days"},
            "captures": [{"label": f"Note {n}", "field_type": "text"}],
        }
        for n in (1, 2, 3)
    ]
    template = {
        "title": "Bench",
        "prerun": [{"label": "Client", "field_type": "text"}],
        "steps": steps,
    }
    done = {"Step 1": {"taskdata": {"Note 1": "done"}, "completed": True}}
    return {
        "tags": [{"title": "seeded"}],
        "templates": [template],
        "runs": [
            {
                "template": "Bench",
                "name": f"Run {n}",
                "prerun": {"Client": f"Client {n}"},
                "tags": ["seeded"],
                **({"tasks": done} if n % 2 else {}),
            }
            for n in range(runs)
        ],
    }


def time_resets(extra: list[str], runs: int, resets: int) -> dict[str, Any]:
    command = [PYTHON, "-m", "procflow", "sandbox", "--port", "0", "--json", *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    try:
        people = json.loads(process.stdout.readline())
        base, token, org = people["base_url"], people["admin_token"], people["org_id"]
        began = time.perf_counter()
        call(f"{base}/_sandbox/seed", token, "POST", seed_document(runs))
        seeded = time.perf_counter() - began
        served: list[float] = []
        seen: list[float] = []
        for n in range(resets):
            call(f"{base}/organizations/{org}/tags", token, "POST", {"title": f"t{n}"})
            began = time.perf_counter()
            answer = call(f"{base}/_sandbox/reset", token, "POST")
            seen.append((time.perf_counter() - began) * 1000)
            served.append(answer["data"]["milliseconds"])
        tags = call(f"{base}/organizations/{org}/tags", token)["data"]
        assert [tag["title"] for tag in tags] == ["seeded"], tags
        listed = call(f"{base}/organizations/{org}/runs?per_page=1", token)
        assert listed["meta"]["pagination"]["total"] == runs
    finally:
        stop(process)
    return {
        "runs": runs,
        "seed_s": round(seeded, 2),
        "reset_ms_server": summary(served),
        "reset_ms_client": summary(seen),
    }


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 1),
        "p90": round(ordered[int(len(ordered) * 0.9) - 1 if len(ordered) > 1 else 0], 1),
        "max": round(ordered[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--resets", type=int, default=30)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--skip-start", action="store_true")
    parser.add_argument("--database-url", help="reset on this database (it is emptied)")
    parser.add_argument(
        "--from-source", action="store_true", help="do not compile procflow's bytecode first"
    )
    args = parser.parse_args()
    if not args.from_source:
        import procflow

        compileall.compile_dir(Path(procflow.__file__).parent, quiet=1)
    extra = ["--database-url", args.database_url] if args.database_url else []
    Path(tempfile.gettempdir()).mkdir(exist_ok=True)
    out: dict[str, Any] = {"load_average": os.getloadavg()[0], "from_source": args.from_source}
    if not args.skip_start:
        time_sandbox(extra)  # the first start may build the cached schema
        sandbox = [time_sandbox(extra) for _ in range(args.starts)]
        serve = [time_serve() for _ in range(args.starts)]
        out["sandbox_start"] = {
            key: round(statistics.median(s[key] for s in sandbox), 3) for key in sandbox[0]
        }
        out["serve_start"] = {
            key: round(statistics.median(s[key] for s in serve), 3) for key in serve[0]
        }
        out["start_ratio_sandbox_to_serve"] = round(
            out["sandbox_start"]["first_200_s"] / out["serve_start"]["first_200_s"], 2
        )
    out["reset"] = time_resets(extra, args.runs, args.resets)
    out["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
