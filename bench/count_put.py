"""Instructions per `PUT /runs/{id}`: a figure that load on a shared machine cannot blur.

Runs PUTs through the ASGI app (as `bench/profile_put.py` does) under
`valgrind --tool=callgrind`, with instrumentation switched on only after a warm-up and
off again after the measured series, on a copy of a seeded database. Needs valgrind.

    .venv/bin/python bench/count_put.py --db bench/results/procflow-bench.db \\
        --seed-json bench/results/seed-sqlite.json [--n 200]
"""

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def callgrind(switch: str) -> None:
    subprocess.run(
        ["callgrind_control", "-i", switch, str(os.getpid())], capture_output=True, check=True
    )


async def series(db: str, org: str, token: str, warmup: int, n: int, seed: int) -> None:
    os.environ["PROCFLOW_DATABASE_URL"] = f"sqlite:///{db}"
    sys.path.insert(0, str(BENCH))
    from profile_put import call

    from procflow.api.app import create_app
    from procflow.settings import Settings

    app = create_app(Settings())
    app.state.session_factory.keep_connection()  # as the server's lifespan does
    runs = random.Random(seed).sample(range(100_000), warmup + n)

    async def put(i: int) -> None:
        status, body = await call(app, f"/organizations/{org}/runs/{i:032x}", token)
        assert status == 200, body

    for i in runs[:warmup]:
        await put(i)
    callgrind("on")
    for i in runs[warmup:]:
        await put(i)
    callgrind("off")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, help="a seeded SQLite file (copied, not changed)")
    parser.add_argument("--seed-json", required=True)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="keep callgrind's output (callgrind_annotate)")
    parser.add_argument("--series", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    seeded = json.loads(Path(args.seed_json).read_text())
    if args.series:
        asyncio.run(series(args.db, seeded["org_id"], seeded["token"], args.warmup, args.n, 7))
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "copy.db"
        shutil.copyfile(args.db, db)
        cmd = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={tmp}/callgrind.out",
            sys.executable,
            __file__,
            "--series",
            "--db",
            str(db),
            "--seed-json",
            args.seed_json,
            "--warmup",
            str(args.warmup),
            "--n",
            str(args.n),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if args.keep:
            shutil.copyfile(f"{tmp}/callgrind.out", args.keep)
    match = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not match:
        sys.exit(done.stderr[-3000:])
    print(f"{int(match.group(1)) / args.n / 1e6:.3f} M instructions per PUT ({args.n} PUTs)")


if __name__ == "__main__":
    main()
