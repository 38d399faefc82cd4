"""Search latency over 100,000 runs on SQLite: `GET /organizations/{org}/search`.

Seeds a fresh SQLite file as bench/seed.py does (one organization, one template, N runs of
three tasks each), except that runs are written oldest first, and that run names and
summaries are drawn from a fixed vocabulary,
so that a word matches a few hundred runs, as names in a real organization do, and each run
also carries a unique client token. The full-text index is filled by the same triggers that
keep it current in production. Then it times requests through the ASGI app in this process
(HTTP parsing, auth, query, JSON; no network), a warm-up first, and prints one JSON line
with p50/p90/p99/max in milliseconds per query shape and overall, the process's CPU time
per request overall (`all_cpu`) and per shape (`<shape> cpu`: what the figures would be
without other work on the machine, give or take) and the load average at the end.

    PYTHONPATH=src python bench/search.py --db /tmp/search-bench.db --runs 100000
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

BENCH = Path(__file__).resolve().parent
WORDS = (
    "annual",
    "audit",
    "budget",
    "contract",
    "delivery",
    "expense",
    "filing",
    "grant",
    "hiring",
    "invoice",
    "journal",
    "kickoff",
    "license",
    "merger",
    "notice",
    "offboarding",
    "payroll",
    "quarterly",
    "renewal",
    "security",
    "tender",
    "upgrade",
    "vendor",
    "warranty",
    "migration",
    "onboarding",
    "compliance",
    "review",
    "training",
    "procurement",
    "insurance",
    "lease",
    "permit",
    "refund",
    "shipment",
    "survey",
    "tax",
    "visa",
    "access",
    "approval",
    "backup",
    "claim",
    "design",
    "escalation",
    "feedback",
    "incident",
    "launch",
    "outage",
    "patch",
    "pricing",
    "rollout",
    "safety",
    "support",
    "transfer",
    "travel",
    "wellness",
)
PLACES = (
    "north",
    "south",
    "east",
    "west",
    "central",
    "alpine",
    "coastal",
    "harbor",
    "valley",
    "summit",
    "river",
    "meadow",
    "canyon",
    "prairie",
    "island",
    "lakeside",
)


def name_of(i: int, rng: random.Random) -> tuple[str, str]:
    """A run name (two vocabulary words, a place, a unique client token) and a summary."""
    first, second = rng.sample(WORDS, 2)
    return (
        f"{first.title()} {second} {rng.choice(PLACES)} client{i:06d}",
        f"Prepared for the {rng.choice(WORDS)} team",
    )


def seed(db: Path, runs: int) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH))
    import seed as base

    from procflow.services import organizations
    from procflow.services.unit_of_work import UnitOfWork
    from procflow.settings import Settings
    from procflow.storage.database import make_engine, make_session_factory
    from procflow.storage.migrate import upgrade

    url = f"sqlite:///{db}"
    base.fresh_database(url)
    engine = make_engine(Settings(database_url=url))
    upgrade(engine)
    with UnitOfWork(make_session_factory(engine), write=True) as uow:
        creds = organizations.create_organization(
            uow, name="Search Benchmark", admin_email="search-bench@example.com"
        )
    template = base.create_template(engine, creds.org_id, creds.user_id)
    rng = random.Random(7)
    original = base.rows_for

    def rows_for(
        i: int, org_id: str, user_id: int, template: dict[str, Any], at: datetime
    ) -> dict[str, list[dict[str, Any]]]:
        # Oldest first, one second apart, as a live server writes them (the index keys
        # rows by date: writing them newest first would split its segments at every run).
        rows = original(i, org_id, user_id, template, at - timedelta(seconds=runs - 2 * i))
        rows["run"][0]["name"], rows["run"][0]["summary"] = name_of(i, rng)
        return rows

    base.rows_for = rows_for
    base.bulk_insert_runs(engine, runs, creds.org_id, creds.user_id, template)
    base.settle(engine)
    engine.dispose()
    return {"org_id": creds.org_id, "token": creds.token}


def queries(rng: random.Random, runs: int) -> list[tuple[str, dict[str, str]]]:
    """The measured requests: (shape, query parameters), shuffled."""
    made: list[tuple[str, dict[str, str]]] = []
    for _ in range(100):
        made.append(("one word", {"on": "process", "search": rng.choice(WORDS)}))
        made.append(("prefix", {"on": "process", "search": rng.choice(WORDS)[:3]}))
        made.append(("two words", {"on": "process", "search": " ".join(rng.sample(WORDS, 2))}))
        made.append(
            ("unique name", {"on": "process", "search": f"client{rng.randrange(runs):06d}"})
        )
        made.append(("all kinds", {"search": rng.choice(WORDS)}))
    rng.shuffle(made)
    return made


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 2),
        "p90": round(percentile(values, 0.90), 2),
        "p99": round(percentile(values, 0.99), 2),
        "max": round(max(values), 2),
    }


def measure(db: Path, org_id: str, token: str, runs: int, warmup: int) -> dict[str, Any]:
    from procflow.api.app import create_app
    from procflow.settings import Settings

    app = create_app(Settings(database_url=f"sqlite:///{db}"))
    headers = {"Authorization": f"Bearer {token}", "X-Tallyfy-Client": "APIClient"}
    url = f"/organizations/{org_id}/search"
    rng = random.Random(11)
    timings: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    with TestClient(app) as client:
        for _shape, params in queries(rng, runs)[:warmup]:
            client.get(url, params=params, headers=headers)
        for shape, params in queries(rng, runs):
            started, used = time.perf_counter(), time.process_time()
            response = client.get(url, params=params, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            cpu.setdefault(shape, []).append((time.process_time() - used) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"search: {response.status_code} {response.text[:200]}")
            timings.setdefault(shape, []).append(elapsed)
    every = [t for values in timings.values() for t in values]
    every_cpu = [t for values in cpu.values() for t in values]
    return (
        {"all": summary(every), "all_cpu": summary(every_cpu)}
        | {shape: summary(v) for shape, v in timings.items()}
        | {f"{shape} cpu": summary(v) for shape, v in cpu.items()}
        | {"load_average": list(os.getloadavg())}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/procflow-search-bench.db"))
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--reuse", action="store_true", help="measure an already seeded --db")
    parser.add_argument("--org", help="with --reuse: the organization id")
    parser.add_argument("--token", help="with --reuse: the admin token")
    args = parser.parse_args()
    started = time.perf_counter()
    reused = {"org_id": args.org, "token": args.token}
    creds = reused if args.reuse else seed(args.db, args.runs)
    seeded = round(time.perf_counter() - started, 1)
    result = measure(args.db, creds["org_id"], creds["token"], args.runs, args.warmup)
    print(json.dumps({"runs": args.runs, "seed_seconds": seeded, "ms": result} | creds))


if __name__ == "__main__":
    main()
