"""The reset alone, in process: `procflow.sandbox` restoring a database of N runs.

Where `bench/sandbox.py` seeds its 1,000 runs through the API (minutes on a busy
machine), this bulk-inserts them as `bench/seed.py` does (each with three tasks, two
kick-off values and a tag) into a sandbox made in this process, takes the baseline, and
then R times writes a tag and calls the reset that `POST /_sandbox/reset` calls, timing
each in wall time and in this process's CPU time. It also reports the database's size
(pages times page size). The folder is a temporary one (`--folder /dev/shm` to compare with memory).

    .venv/bin/python bench/sandbox_reset.py --runs 1000 --resets 30
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from procflow.sandbox import boot, control, snapshots
from procflow.settings import Settings

BENCH = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--resets", type=int, default=30)
    parser.add_argument("--folder", default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH))
    import seed as base

    with tempfile.TemporaryDirectory(dir=args.folder) as scratch:
        folder = Path(scratch)
        settings = boot.sandbox_settings(Settings(), folder, None)
        app = boot.start(settings, folder)
        engine = app.state.engine
        people = app.state.sandbox.people
        template = base.create_template(engine, people.org_id, people.admin_id)
        base.bulk_insert_runs(engine, args.runs, people.org_id, people.admin_id, template)
        app.state.sandbox.baseline = snapshots.take(engine)
        with engine.connect() as connection:
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
            size = pages * connection.exec_driver_sql("PRAGMA page_size").scalar_one()
        walls: list[float] = []
        cpus: list[float] = []
        with TestClient(app) as client:
            client.headers["Authorization"] = f"Bearer {people.admin_token}"
            tags = client.get(f"/organizations/{people.org_id}/tags").json()["data"]
            for n in range(args.resets):
                tag = client.post(f"/organizations/{people.org_id}/tags", json={"title": f"t{n}"})
                assert tag.status_code == 201, tag.text
                wall, cpu = time.perf_counter(), time.process_time()
                control.reset(app)
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
            assert client.get(f"/organizations/{people.org_id}/tags").json()["data"] == tags
            total = client.get(f"/organizations/{people.org_id}/runs").json()["meta"]
            assert total["pagination"]["total"] == args.runs
    print(
        json.dumps(
            {
                "runs": args.runs,
                "database_bytes": size,
                "folder": args.folder or tempfile.gettempdir(),
                "reset_wall_ms_median": round(statistics.median(walls), 1),
                "reset_wall_ms_max": round(max(walls), 1),
                "reset_cpu_ms_median": round(statistics.median(cpus), 1),
                "load_average": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
