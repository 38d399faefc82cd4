"""Webhook deliveries per second: one delivery worker, one local receiver.

Writes N events of one launched process into a fresh database (SQLite by default, or the
database named by --database-url), with a template webhook aimed at a receiver in a child
process (a bare asyncio HTTP/1.1 server that answers 200 with keep-alive), then times one
worker stepping until everything is delivered: fan-out (building each payload), claiming,
signing, sending and recording. Prints deliveries/s.

    .venv/bin/python bench/webhooks.py [--events 2000] [--concurrency 16]
"""

import argparse
import asyncio
import multiprocessing
import os
import socket
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select


def receiver(port: int, ready: "multiprocessing.synchronize.Event") -> None:
    """A minimal keep-alive HTTP server: read a request head and body, answer 200."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from procflow.domain.permissions import Caller, Role
    from procflow.domain.webhooks import EventType
    from procflow.services import delivery, events, launch, organizations
    from procflow.services.unit_of_work import UnitOfWork
    from procflow.services.webhook_sender import HttpSender
    from procflow.settings import Settings
    from procflow.storage.database import make_engine, make_session_factory
    from procflow.storage.migrate import upgrade
    from procflow.storage.models import Checklist, Step, WebhookDelivery

    port = free_port()
    ready = multiprocessing.Event()
    child = multiprocessing.Process(target=receiver, args=(port, ready), daemon=True)
    child.start()
    ready.wait(30)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(Settings(database_url=url))
        upgrade(engine)
        factory = make_session_factory(engine)
        factory.allow_private_webhooks = True
        with UnitOfWork(factory, write=True) as uow:
            creds = organizations.create_organization(
                uow, name="Bench", admin_email=f"bench-{port}@example.com"
            )
            checklist = Checklist(
                org_id=creds.org_id,
                increment_id=1,
                title="Bench",
                webhook=f"http://127.0.0.1:{port}/hook",
            )
            uow.session.add(checklist)
            uow.session.flush()
            uow.session.add(Step(checklist_id=checklist.id, alias="s1", position=1, title="S"))
            uow.session.flush()
            caller = Caller(creds.user_id, creds.org_id, Role.ADMIN)
            run = launch.launch_run(uow, caller, {"checklist_id": checklist.id}).run
            for _ in range(args.events - 1):
                events.emit(uow, creds.org_id, EventType.PROCESS_LAUNCHED, run_id=run.id)
        sender = HttpSender(timeout=10, allow_private=True)
        config = delivery.WorkerConfig(
            worker_id="bench", batch=args.batch, concurrency=args.concurrency
        )
        worker = delivery.Worker(factory, config, sender)
        phases = timed(worker, ("fan_out", "claim", "send", "record"))
        began, cpu = time.perf_counter(), time.process_time()
        steps = 0
        while worker.step():
            steps += 1
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
        worker.close()
        sender.close()
        with UnitOfWork(factory, write=False) as uow:
            delivered = (
                uow.session.scalar(
                    select(func.count())
                    .select_from(WebhookDelivery)
                    .where(WebhookDelivery.state == "delivered")
                )
                or 0
            )
        engine.dispose()
    child.terminate()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    split = ", ".join(f"{name} {wall:.2f}/{used:.2f}" for name, (wall, used) in phases.items())
    print(
        f"{stamp} webhooks: {delivered}/{args.events} delivered in {elapsed:.2f} s "
        f"({steps} steps, concurrency {args.concurrency}, batch {args.batch}, "
        f"{url.split(':', 1)[0]}): {delivered / elapsed:.0f} deliveries/s; the worker used "
        f"{cpu:.2f} s of CPU ({delivered / cpu:.0f} deliveries per CPU second); "
        f"wall/CPU seconds per phase: {split}; load average {os.getloadavg()[0]:.1f}"
    )


def timed(worker: Any, names: tuple[str, ...]) -> dict[str, list[float]]:
    """Wrap the worker's phases to add up their wall-clock and CPU seconds."""
    totals: dict[str, list[float]] = {}
    for name in names:
        inner = getattr(worker, name)
        totals[name] = [0.0, 0.0]

        def wrapper(*args: Any, _inner: Any = inner, _total: list[float] = totals[name]) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return _inner(*args)
            finally:
                _total[0] += time.perf_counter() - wall
                _total[1] += time.process_time() - cpu

        setattr(worker, name, wrapper)
    return totals


if __name__ == "__main__":
    main()
