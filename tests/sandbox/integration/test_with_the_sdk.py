"""Tests written as a project that uses Tallyfy's Python SDK would write them: only the
`tallyfy_sandbox` fixture that `pip install procflow` brings (pytest11 entry point), the
SDK pointed at the sandbox, and a seed file. The suite runs under pytest-xdist: each worker
that gets one of these tests starts one sandbox process for its session; each test starts
from a reset of its worker's sandbox."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tallyfy import TallyfyError, TallyfySDK

SEED = Path(__file__).with_name("seed.yaml")


@pytest.fixture
def sdk(tallyfy_sandbox: Any) -> Iterator[Any]:
    """The SDK as the code under test builds it; only `base_url` says it is not Tallyfy."""
    with TallyfySDK(
        api_key=tallyfy_sandbox.admin_token,
        base_url=tallyfy_sandbox.base_url,
        max_retries=0,
        retry_delay=0,
        retry_jitter=0,
    ) as client:
        yield client


def test_each_test_starts_from_a_reset(tallyfy_sandbox: Any, sdk: Any) -> None:
    org = tallyfy_sandbox.org_id
    assert sdk.get_tags(org) == []
    sdk.create_tag(org, "left behind")
    assert [tag.title for tag in sdk.get_tags(org)] == ["left behind"]
    tallyfy_sandbox.reset()  # what the fixture does before the next test
    assert sdk.get_tags(org) == []


def test_a_template_and_runs_seeded_from_a_file(tallyfy_sandbox: Any, sdk: Any) -> None:
    tallyfy_sandbox.seed(SEED)
    org = tallyfy_sandbox.org_id
    [template] = sdk.get_all_templates(org).data
    assert template.title == "Client onboarding"
    [run] = sdk.get_organization_runs(org).data
    assert run.name == "Acme onboarding"
    tasks = {task.title: task for task in sdk.get_tasks_for_process(org, process_id=run.id).data}
    assert tasks["Send the contract"].status == "completed"
    assert tasks["Kick-off call"].status != "completed"


def test_the_clock_makes_a_task_overdue(tallyfy_sandbox: Any, sdk: Any) -> None:
    tallyfy_sandbox.seed(SEED)
    org = tallyfy_sandbox.org_id
    [run] = sdk.get_organization_runs(org).data

    def late() -> list[str]:
        tasks = sdk.get_tasks_for_process(org, process_id=run.id, status="overdue")
        return [task.title for task in tasks.data]

    assert late() == []
    tallyfy_sandbox.advance_clock(days=6)
    assert late() == ["Kick-off call"]


@pytest.mark.parametrize("status", [429, 503])
def test_the_sdk_receives_injected_faults(tallyfy_sandbox: Any, sdk: Any, status: int) -> None:
    org = tallyfy_sandbox.org_id
    tallyfy_sandbox.fault("GET", "/organizations/*/tags", status, times=1)
    with pytest.raises(TallyfyError) as refused:
        sdk.get_tags(org)
    assert refused.value.status_code == status
    assert sdk.get_tags(org) == []  # `times=1`: the next request goes through


def test_own_requests_come_back_from_the_journal(tallyfy_sandbox: Any, sdk: Any) -> None:
    org = tallyfy_sandbox.org_id
    sdk.create_tag(org, "journaled")
    [entry] = tallyfy_sandbox.requests(path="/organizations/*/tags", status=201)
    assert (entry["method"], entry["request"]["body"]["title"]) == ("POST", "journaled")
    assert tallyfy_sandbox.admin_token not in str(entry)
    assert entry["token"].endswith("****")


def test_snapshots(tallyfy_sandbox: Any, sdk: Any) -> None:
    org = tallyfy_sandbox.org_id
    sdk.create_tag(org, "before")
    tallyfy_sandbox.snapshot("one")
    sdk.create_tag(org, "after")
    tallyfy_sandbox.restore("one")
    assert [tag.title for tag in sdk.get_tags(org)] == ["before"]


def test_a_running_sandbox_tells_its_people(procflow_sandbox: Any) -> None:
    """What `PROCFLOW_SANDBOX_URL` users get: the start's JSON line, from the sandbox."""
    people = procflow_sandbox.control("GET", "/people")
    assert people == {"base_url": procflow_sandbox.base_url, **procflow_sandbox.people}


def test_seeded_members_act_with_their_own_tokens(tallyfy_sandbox: Any) -> None:
    seeded = tallyfy_sandbox.seed(SEED)
    asked = tallyfy_sandbox.token_for("ann@example.com")
    for token in (seeded["tokens"]["ann@example.com"], asked):
        with TallyfySDK(api_key=token, base_url=tallyfy_sandbox.base_url, max_retries=0) as ann:
            assert [tag.title for tag in ann.get_tags(tallyfy_sandbox.org_id)] == ["urgent"]
    callers = [e["caller"]["role"] for e in tallyfy_sandbox.requests(path="/organizations/*/tags")]
    assert callers == ["standard", "standard"]  # Ann, as the seed made her
