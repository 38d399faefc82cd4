"""The one test of the real loop (every other test drives `step` itself): started on its
thread as `procflow serve` starts it, it delivers on its own and stops when asked."""

import threading

from procflow.services import delivery
from procflow.services.webhook_sender import HttpSender
from procflow.storage.database import SessionFactory
from tests.factories import World
from tests.webhooks.conftest import loopback_only
from tests.webhooks.helpers import with_template_webhook
from tests.webhooks.receiver import Receiver


def test_the_loop_delivers_and_stops(
    hooks: World, receiver: Receiver, hook_factory: SessionFactory
) -> None:
    arrived = threading.Event()

    def status(request: object) -> int:
        arrived.set()
        return 200

    receiver.status = status
    hooks.launch(with_template_webhook(hooks, receiver.url("/loop")))
    sender = HttpSender(timeout=10, allow_private=True, resolver=loopback_only)
    worker = delivery.Worker(hook_factory, delivery.WorkerConfig(worker_id="loop"), sender)
    thread, stop = delivery.start_thread(worker, poll_seconds=0.01)
    try:
        assert arrived.wait(timeout=60), "the loop delivered nothing"
    finally:
        stop.set()
        thread.join(timeout=60)
        sender.close()
    assert not thread.is_alive()
    assert [r.json["event"] for r in receiver.at("/loop")] == ["process.launched"]
