"""No webhook reaches loopback, link-local or private addresses unless an administrator
allows them: refused with 422 when saved, and again when sent (after the name resolves)."""

import pytest

from procflow.domain.webhooks import forbidden_address, refused_url
from procflow.services import delivery
from procflow.services.webhook_sender import Refused, Unresolved, pin
from tests.factories import World
from tests.webhooks.conftest import MakeWorker, drain
from tests.webhooks.helpers import with_template_webhook
from tests.webhooks.receiver import Receiver

PRIVATE = [
    "http://127.0.0.1/hook",
    "http://localhost:8080/hook",
    "http://api.localhost/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.9/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/hook",
    "http://[fe80::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",
]


@pytest.mark.parametrize("url", PRIVATE)
def test_private_urls_are_refused_on_save(world: World, url: str) -> None:
    """`world` is on the suite's app, which keeps the default (private addresses refused)."""
    checklist = world.template()
    saved = world.call("PUT", f"/checklists/{checklist}", json={"webhook": url})
    assert saved.status_code == 422, saved.text
    assert saved.json()["errors"]["webhook"]
    watcher = world.call(
        "POST",
        f"/users/{world.admin.user_id}/add-watcher",
        json={"notification_type": "webhook", "webhook": url},
    )
    assert watcher.status_code == 422, watcher.text
    assert world.call("GET", "/watchers").json()["data"] == []


def test_public_urls_are_accepted_on_save(world: World) -> None:
    checklist = world.template()
    url = "https://hooks.example.com/procflow"
    saved = world.call("PUT", f"/checklists/{checklist}", json={"webhook": url})
    assert saved.status_code == 200, saved.text
    assert saved.json()["data"]["webhook"] == url


def test_a_private_address_is_refused_at_send_time(
    hooks: World, receiver: Receiver, make_worker: MakeWorker
) -> None:
    """Saved while allowed, sent by a worker that does not allow it: never reaches it."""
    hooks.launch(with_template_webhook(hooks, receiver.url("/private")))
    strict: delivery.Worker = make_worker(allow_private=False)
    drain(strict)
    assert receiver.at("/private") == []
    (event,) = hooks.call("GET", "/webhook-events").json()["data"]
    (sent,) = event["deliveries"]
    assert sent["state"] == "failed"
    assert sent["attempts_made"] == 1
    assert sent["attempts"][0]["error"].startswith("refused:")


def resolving_to(*addresses: str):  # type: ignore[no-untyped-def]
    return lambda _host, _port: list(addresses)


def test_a_public_name_that_resolves_privately_is_refused() -> None:
    with pytest.raises(Refused):
        pin("https://rebind.example.com/x", False, resolving_to("93.184.216.34", "10.0.0.7"))
    with pytest.raises(Refused):
        pin("http://metadata.example.com/", False, resolving_to("169.254.169.254"))


def test_the_request_goes_to_the_address_that_was_checked() -> None:
    target = pin("https://hooks.example.com:8443/a?b=1", False, resolving_to("93.184.216.34"))
    assert target.url == "https://93.184.216.34:8443/a?b=1"
    assert target.host_header == "hooks.example.com:8443"
    assert target.extensions == {"sni_hostname": "hooks.example.com"}
    six = pin("http://v6.example.com/", False, resolving_to("2606:2800:220:1::1"))
    assert six.url == "http://[2606:2800:220:1::1]/"
    assert six.extensions == {}


def test_a_name_that_does_not_resolve_is_retried_not_refused() -> None:
    def nothing(_host: str, _port: int) -> list[str]:
        raise OSError("no such name")

    with pytest.raises(Unresolved):
        pin("https://gone.example.com/", False, nothing)


def test_address_rules() -> None:
    assert all(refused_url(url) for url in PRIVATE)
    assert not refused_url("https://hooks.example.com/x")
    assert not forbidden_address("93.184.216.34")
    assert forbidden_address("224.0.0.1")
    assert not forbidden_address("not-an-address")
