"""Every public method of Tallyfy's Python SDK 3.1.0 that makes a request, against a live
procflow server: none may meet a route procflow does not serve (404, 405 or 501).

`CALLS` names each method once, in an order where every call finds what it needs (a
template before its steps, a task before its completion). Methods of the `TallyfySDK`
facade go by their name; the few public methods that only the SDK's managers offer go by
`manager.method`. `test_the_sweep_covers_the_whole_sdk` keeps the list complete: a new SDK
method fails it until someone adds a call here.

Every request the SDK sends is recorded at its `requests` session, so a method that hides
an error (many return `None` or `False`) is judged by what the server answered.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import pytest
from tallyfy import TallyfySDK

from tests.factories import World

# Methods whose endpoints procflow does not serve yet (docs/compatibility.md lists them):
# they meet a 501. Remove a method from this set when its endpoint lands. None is left.
NOT_YET_SERVED: frozenset[str] = frozenset()
# Public methods that never send a request (local helpers and a property).
NO_REQUEST = frozenset(
    {
        "close",
        "users.get_invitation_template_message",
        "users.validate_invitation_data",
        "tasks.search_service",
    }
)
# Methods that cannot send their request in SDK 3.1.0 whatever the server does: they raise
# this error before any request. Each has a variant below that reaches the same endpoint.
SDK_DEFECTS: dict[str, type[Exception]] = {
    # the facade drops the `thread_id` that `threads.resolve_task_issues` requires
    "resolve_task_issues": TypeError,
}
UNSERVED_STATUSES = (404, 405, 501)


@dataclass
class Sweep:
    """The SDK under test, the organization it works in, and the ids calls hand on."""

    sdk: Any
    world: World
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def org(self) -> str:
        return self.world.org_id

    def email(self, prefix: str) -> str:
        return f"{prefix}-{uuid4().hex[:8]}@example.com"


Call = Callable[[Sweep], Any]


def _template(s: Sweep) -> Any:
    template = s.sdk.create_template(s.org, "Sweep template", summary="All methods")
    s.ids["template"] = template.id
    updated = s.sdk.update_template_metadata(
        s.org,
        template.id,
        prerun=[{"label": "Client", "field_type": "text", "required": False}],
    )
    s.ids["kickoff"] = updated.prerun[0].id
    return template


def _step(s: Sweep) -> Any:
    step = s.sdk.add_step_to_template(s.org, s.ids["template"], {"title": "Review"})
    s.ids["step"] = step["id"] if isinstance(step, dict) else step.id
    second = s.sdk.add_step_to_template(
        s.org, s.ids["template"], {"title": "Approve", "step_type": "approval"}
    )
    s.ids["step2"] = second["id"] if isinstance(second, dict) else second.id
    return step


def _field(s: Sweep) -> Any:
    created = s.sdk.add_form_field_to_step(
        s.org,
        s.ids["template"],
        s.ids["step"],
        {
            "label": "Size",
            "field_type": "dropdown",
            "required": False,
            "options": [{"id": 1, "text": "S"}, {"id": 2, "text": "M"}],
        },
    )
    s.ids["field"] = created["id"] if isinstance(created, dict) else created.id
    return created


def _launch(s: Sweep) -> Any:
    run = s.sdk.launch_process(s.org, s.ids["template"], "Sweep run")
    s.ids["run"] = run.id
    tasks = s.sdk.get_tasks_for_process(s.org, process_id=run.id).data
    s.ids["task"], s.ids["approval"] = [t.id for t in tasks][:2]
    return run


def _automation(s: Sweep) -> Any:
    rule = s.sdk.create_automation_rule(
        s.org,
        s.ids["template"],
        {
            "automated_alias": "Show approval once reviewed",
            "conditions": [
                {
                    "conditionable_id": s.ids["step"],
                    "conditionable_type": "Step",
                    "operation": "completed",
                    "statement": "",
                    "logic": "and",
                    "position": 1,
                }
            ],
            "then_actions": [
                {
                    "target_step_id": s.ids["step2"],
                    "action_type": "visibility",
                    "action_verb": "show",
                    "position": 1,
                }
            ],
        },
    )
    s.ids["automation"] = rule["id"]
    return rule


def _oneoff(s: Sweep) -> Any:
    task = s.sdk.create_task(
        s.org, "Sweep one-off", "2030-05-01 12:00:00", user_ids=[s.world.admin.user_id]
    )
    s.ids["oneoff"] = task.id
    return task


def _comment(s: Sweep) -> Any:
    comment = s.sdk.add_task_comment(s.org, s.ids["task"], "Looks good")
    s.ids["comment"] = comment.id
    return comment


def _problem(s: Sweep) -> Any:
    problem = s.sdk.report_task_issue(s.org, s.ids["task"], "Stuck")
    s.ids["problem"] = problem.id
    return problem


def _upload(s: Sweep) -> Any:
    """A file for the template's kick-off field, one of the three shapes the SDK sends."""
    asset = s.sdk.upload_file(
        s.org,
        b"%PDF-1.4 sweep",
        "sweep.pdf",
        uploaded_from="ko_field",
        subject_type="Checklist",
        subject_id=s.ids["template"],
    )
    s.ids["asset"] = asset.id
    return asset


def _folder(s: Sweep) -> Any:
    folder = s.sdk.create_folder(s.org, "Sweep folder")
    s.ids["folder"] = folder.id
    return folder


def _filed(s: Sweep) -> Any:
    relation = s.sdk.add_object_to_folder(s.org, s.ids["folder"], s.ids["run"], "run")
    s.ids["relation"] = relation.id if hasattr(relation, "id") else relation["id"]
    return relation


def _tag(s: Sweep) -> Any:
    tag = s.sdk.create_tag(s.org, f"sweep-{uuid4().hex[:6]}", color="#3366ff")
    s.ids["tag"] = tag.id
    return tag


def _group(s: Sweep) -> Any:
    group = s.sdk.create_group(s.org, f"Sweep {uuid4().hex[:6]}", description="All of us")
    s.ids["group"] = group.id
    return group


def _guest(s: Sweep) -> Any:
    s.ids["guest"] = s.email("guest")
    return s.sdk.create_guest(s.org, s.ids["guest"], "Gil", "Guest")


CALLS: dict[str, Call] = {
    # the caller, the organization, its people
    "get_current_user_info": lambda s: s.sdk.get_current_user_info(s.org),
    "get_current_user_organizations": lambda s: s.sdk.get_current_user_organizations(),
    "get_organization": lambda s: s.sdk.get_organization(s.org),
    "get_organization_users": lambda s: s.sdk.get_organization_users(s.org, with_groups=True),
    "get_organization_users_list": lambda s: s.sdk.get_organization_users_list(s.org),
    "get_user": lambda s: s.sdk.get_user(s.org, s.world.standard.user_id),
    "users.get_user_by_email": lambda s: s.sdk.users.get_user_by_email(
        s.org, s.sdk.get_user(s.org, s.world.standard.user_id).email
    ),
    "users.search_members_by_name": lambda s: s.sdk.users.search_members_by_name(s.org, "std"),
    "users.get_all_organization_members": lambda s: s.sdk.users.get_all_organization_members(s.org),
    "invite_user_to_organization": lambda s: s.sdk.invite_user_to_organization(
        s.org, s.email("invitee"), "Ivy", "Invitee", role="light"
    ),
    "users.invite_multiple_users": lambda s: s.sdk.users.invite_multiple_users(
        s.org, [{"email": s.email("batch"), "first_name": "Bo", "last_name": "Batch"}]
    ),
    "users.invite_user_with_custom_role_permissions": lambda s: (
        s.sdk.users.invite_user_with_custom_role_permissions(
            s.org, s.email("custom"), "Cy", "Custom", "standard"
        )
    ),
    "users.resend_invitation": lambda s: s.sdk.users.resend_invitation(s.org, s.email("again")),
    "change_user_role": lambda s: s.sdk.change_user_role(s.org, s.world.light.user_id, "standard"),
    "disable_user": lambda s: s.sdk.disable_user(s.org, s.world.light.user_id),
    "enable_user": lambda s: s.sdk.enable_user(s.org, s.world.light.user_id),
    "approve_user": lambda s: s.sdk.approve_user(s.org, s.world.light.user_id),
    # guests
    "create_guest": _guest,
    "get_guest": lambda s: s.sdk.get_guest(s.org, s.ids["guest"]),
    "users.get_guest_by_email": lambda s: s.sdk.users.get_guest_by_email(s.org, s.ids["guest"]),
    "update_guest": lambda s: s.sdk.update_guest(s.org, s.ids["guest"], first_name="Gail"),
    "get_organization_guests": lambda s: s.sdk.get_organization_guests(s.org),
    "get_organization_guests_list": lambda s: s.sdk.get_organization_guests_list(s.org),
    "disable_guest": lambda s: s.sdk.disable_guest(s.org, s.ids["guest"]),
    "enable_guest": lambda s: s.sdk.enable_guest(s.org, s.ids["guest"]),
    "get_guest_tasks": lambda s: s.sdk.get_guest_tasks(s.org, s.ids["guest"]),
    # groups
    "create_group": _group,
    "get_groups": lambda s: s.sdk.get_groups(s.org),
    "get_group": lambda s: s.sdk.get_group(s.org, s.ids["group"]),
    "update_group": lambda s: s.sdk.update_group(
        s.org, s.ids["group"], name=f"Renamed {uuid4().hex[:6]}"
    ),
    # templates, steps, form fields
    "create_template": _template,
    "update_template_metadata": lambda s: s.sdk.update_template_metadata(
        s.org, s.ids["template"], guidance="Read first"
    ),
    "add_step_to_template": _step,
    "get_all_templates": lambda s: s.sdk.get_all_templates(s.org),
    "get_template": lambda s: s.sdk.get_template(s.org, template_id=s.ids["template"]),
    "get_template_with_steps": lambda s: s.sdk.get_template_with_steps(
        s.org, template_id=s.ids["template"]
    ),
    "get_template_steps": lambda s: s.sdk.get_template_steps(s.org, s.ids["template"]),
    "get_kickoff_form_fields": lambda s: s.sdk.get_kickoff_form_fields(s.org, s.ids["template"]),
    "get_step_dependencies": lambda s: s.sdk.get_step_dependencies(
        s.org, s.ids["template"], s.ids["step"]
    ),
    "get_step_visibility_conditions": lambda s: s.sdk.get_step_visibility_conditions(
        s.org, s.ids["template"], s.ids["step"]
    ),
    "form_fields.get_step": lambda s: s.sdk.form_fields.get_step(
        s.org, s.ids["template"], s.ids["step"]
    ),
    "edit_description_on_step": lambda s: s.sdk.edit_description_on_step(
        s.org, s.ids["template"], s.ids["step"], "Check the contract"
    ),
    "add_assignees_to_step": lambda s: s.sdk.add_assignees_to_step(
        s.org, s.ids["template"], s.ids["step"], [s.world.admin.user_id]
    ),
    "add_form_field_to_step": _field,
    "update_form_field": lambda s: s.sdk.update_form_field(
        s.org, s.ids["template"], s.ids["step"], s.ids["field"], label="Shirt size"
    ),
    "get_dropdown_options": lambda s: s.sdk.get_dropdown_options(
        s.org, s.ids["template"], s.ids["step"], s.ids["field"]
    ),
    "update_dropdown_options": lambda s: s.sdk.update_dropdown_options(
        s.org, s.ids["template"], s.ids["step"], s.ids["field"], ["S", "M", "L"]
    ),
    "form_fields.add_dropdown_option": lambda s: s.sdk.form_fields.add_dropdown_option(
        s.org, s.ids["template"], s.ids["step"], s.ids["field"], "XL"
    ),
    "form_fields.reorder_dropdown_options": lambda s: s.sdk.form_fields.reorder_dropdown_options(
        s.org, s.ids["template"], s.ids["step"], s.ids["field"], ["XL", "L", "M", "S"]
    ),
    "form_fields.remove_dropdown_option": lambda s: s.sdk.form_fields.remove_dropdown_option(
        s.org, s.ids["template"], s.ids["step"], s.ids["field"], "XL"
    ),
    "reorder_form_fields": lambda s: s.sdk.reorder_form_fields(
        s.org, s.ids["template"], s.ids["step"], [{"id": s.ids["field"], "position": 1}]
    ),
    "move_form_field": lambda s: s.sdk.move_form_field(
        s.org, s.ids["template"], s.ids["step"], s.ids["field"], s.ids["step2"]
    ),
    "clone_step": lambda s: s.sdk.clone_step(s.org, s.ids["template"], s.ids["step2"]),
    "reorder_step": lambda s: s.sdk.reorder_step(s.org, s.ids["template"], s.ids["step2"], 1),
    "duplicate_template": lambda s: s.sdk.duplicate_template(
        s.org, s.ids["template"], "Sweep copy", s.org
    ),
    "create_automation_rule": _automation,
    "update_automation_rule": lambda s: s.sdk.update_automation_rule(
        s.org, s.ids["template"], s.ids["automation"], {"automated_alias": "Rule 2"}
    ),
    "delete_automation_rule": lambda s: s.sdk.delete_automation_rule(
        s.org, s.ids["template"], s.ids["automation"]
    ),
    # processes and their tasks
    "launch_process": _launch,
    "get_organization_runs": lambda s: s.sdk.get_organization_runs(s.org),
    "tasks.get_organization_processes": lambda s: s.sdk.tasks.get_organization_processes(s.org),
    "get_process": lambda s: s.sdk.get_process(s.org, s.ids["run"], with_="tasks,tags"),
    "update_process": lambda s: s.sdk.update_process(s.org, s.ids["run"], summary="Swept"),
    "complete_kickoff_form": lambda s: s.sdk.complete_kickoff_form(s.org, s.ids["run"]),
    "reopen_kickoff_form": lambda s: s.sdk.reopen_kickoff_form(s.org, s.ids["run"]),
    "get_tasks_for_process": lambda s: s.sdk.get_tasks_for_process(s.org, process_id=s.ids["run"]),
    "get_task": lambda s: s.sdk.get_task(s.org, s.ids["run"], s.ids["task"], with_="step"),
    "update_task": lambda s: s.sdk.update_task(
        s.org, s.ids["run"], s.ids["task"], title="Review carefully"
    ),
    "get_my_tasks": lambda s: s.sdk.get_my_tasks(s.org),
    "get_user_tasks": lambda s: s.sdk.get_user_tasks(s.org, s.world.admin.user_id),
    "add_task_comment": _comment,
    "get_task_comments": lambda s: s.sdk.get_task_comments(s.org, s.ids["run"], s.ids["task"]),
    "update_task_comment": lambda s: s.sdk.update_task_comment(
        s.org, s.ids["task"], s.ids["comment"], "Looks very good"
    ),
    "delete_task_comment": lambda s: s.sdk.delete_task_comment(
        s.org, s.ids["task"], s.ids["comment"]
    ),
    "report_task_issue": _problem,
    "resolve_task_issues": lambda s: s.sdk.resolve_task_issues(s.org, s.ids["task"]),
    "resolve_task_issues (through its manager, with the thread id)": lambda s: (
        s.sdk.threads.resolve_task_issues(s.org, s.ids["task"], s.ids["problem"])
    ),
    "complete_task": lambda s: s.sdk.complete_task(
        s.org, s.ids["run"], s.ids["approval"], is_approved=True
    ),
    "reopen_task": lambda s: s.sdk.reopen_task(s.org, s.ids["run"], s.ids["approval"]),
    # one-off tasks
    "create_task": _oneoff,
    "get_standalone_task": lambda s: s.sdk.get_standalone_task(s.org, s.ids["oneoff"]),
    "update_standalone_task": lambda s: s.sdk.update_standalone_task(
        s.org, s.ids["oneoff"], title="Renamed one-off"
    ),
    "get_standalone_task_comments": lambda s: s.sdk.get_standalone_task_comments(
        s.org, s.ids["oneoff"]
    ),
    "complete_standalone_task": lambda s: s.sdk.complete_standalone_task(s.org, s.ids["oneoff"]),
    "reopen_standalone_task": lambda s: s.sdk.reopen_standalone_task(s.org, s.ids["oneoff"]),
    "delete_standalone_task": lambda s: s.sdk.delete_standalone_task(s.org, s.ids["oneoff"]),
    # tags and folders
    "create_tag": _tag,
    "get_tags": lambda s: s.sdk.get_tags(s.org),
    "get_tag": lambda s: s.sdk.get_tag(s.org, s.ids["tag"]),
    "update_tag": lambda s: s.sdk.update_tag(
        s.org, s.ids["tag"], title=f"swept-{uuid4().hex[:6]}", color="#112233"
    ),
    "tag_template": lambda s: s.sdk.tag_template(s.org, s.ids["template"], s.ids["tag"]),
    "untag_template": lambda s: s.sdk.untag_template(
        s.org, s.ids["tag"], template_id=s.ids["template"]
    ),
    "tag_process": lambda s: s.sdk.tag_process(s.org, s.ids["run"], s.ids["tag"]),
    "untag_process": lambda s: s.sdk.untag_process(s.org, s.ids["run"], s.ids["tag"]),
    "create_folder": _folder,
    "get_folders": lambda s: s.sdk.get_folders(s.org),
    "get_folder": lambda s: s.sdk.get_folder(s.org, s.ids["folder"]),
    "update_folder": lambda s: s.sdk.update_folder(s.org, s.ids["folder"], name="Swept folder"),
    "add_object_to_folder": _filed,
    "remove_object_from_folder": lambda s: s.sdk.remove_object_from_folder(
        s.org, s.ids["relation"]
    ),
    # files (being built elsewhere)
    "upload_file": _upload,
    "download_file": lambda s: s.sdk.download_file(s.org, s.ids.get("asset", uuid4().hex)),
    "download_file_from_url": lambda s: s.sdk.download_file_from_url(
        f"{s.sdk.base_url}/organizations/{s.org}/file/{s.ids.get('asset', uuid4().hex)}/dl"
    ),
    # search (being built elsewhere)
    "search": lambda s: s.sdk.search(s.org, "Sweep", on="process"),
    "search_all": lambda s: s.sdk.search_all(s.org, "Sweep"),
    "search_templates": lambda s: s.sdk.search_templates(s.org, "Sweep"),
    "search_processes": lambda s: s.sdk.search_processes(s.org, "Sweep"),
    "search_tasks": lambda s: s.sdk.search_tasks(s.org, "Review"),
    "search_snippets": lambda s: s.sdk.search_snippets(s.org, "Sweep"),
    "search_processes_by_name": lambda s: s.sdk.search_processes_by_name(s.org, "Sweep run"),
    "search_templates_by_name": lambda s: s.sdk.search_templates_by_name(s.org, "Sweep template"),
    "searches.find_process_by_name": lambda s: s.sdk.searches.find_process_by_name(
        s.org, "Sweep run"
    ),
    "tasks.find_process_by_name": lambda s: s.sdk.tasks.find_process_by_name(s.org, "Sweep run"),
    "get_template (by name)": lambda s: s.sdk.get_template(s.org, template_name="Sweep template"),
    "get_template_with_steps (by name)": lambda s: s.sdk.get_template_with_steps(
        s.org, template_name="Sweep template"
    ),
    "get_tasks_for_process (by process name)": lambda s: s.sdk.get_tasks_for_process(
        s.org, process_name="Sweep run"
    ),
    # endings: archive, restore and delete what the sweep made
    "archive_process": lambda s: s.sdk.archive_process(s.org, s.ids["run"]),
    "reactivate_process": lambda s: s.sdk.reactivate_process(s.org, s.ids["run"]),
    "delete_form_field": lambda s: s.sdk.delete_form_field(
        s.org, s.ids["template"], s.ids["step2"], s.ids["field"]
    ),
    "delete_step": lambda s: s.sdk.delete_step(s.org, s.ids["template"], s.ids["step"]),
    "delete_tag": lambda s: s.sdk.delete_tag(s.org, s.ids["tag"]),
    "delete_folder": lambda s: s.sdk.delete_folder(s.org, s.ids["folder"]),
    "delete_group": lambda s: s.sdk.delete_group(s.org, s.ids["group"]),
    "delete_template": lambda s: s.sdk.delete_template(s.org, s.ids["template"]),
    "delete_template_with_references": lambda s: s.sdk.delete_template_with_references(
        s.org, s.ids["template"]
    ),
}
# Variants of a method (same method, another way in) that are not methods of their own.
VARIANTS = frozenset(name for name in CALLS if " (" in name)


def sdk_methods() -> set[str]:
    """The SDK's public methods: the facade's, plus those only its managers offer."""
    sdk = TallyfySDK(api_key="x", base_url="http://127.0.0.1:9")
    try:
        facade = {
            name
            for name, member in inspect.getmembers(type(sdk))
            if not name.startswith("_") and callable(member)
        }
        managers = {
            name: manager
            for name, manager in vars(sdk).items()
            if not name.startswith("_") and type(manager).__module__.startswith("tallyfy.")
        }
        extra: set[str] = set()
        for manager_name, manager in managers.items():
            for name in dir(manager):
                if name.startswith("_") or name in facade:
                    continue
                member = inspect.getattr_static(manager, name, None)
                if callable(getattr(manager, name, None)) or isinstance(member, property):
                    extra.add(f"{manager_name}.{name}")
        return facade | extra
    finally:
        sdk.close()


@dataclass
class Outcome:
    requests: list[tuple[str, str, int]]
    error: BaseException | None


@pytest.fixture
def swept(sdk: Any, world: World) -> dict[str, Outcome]:
    log: list[tuple[str, str, int]] = []
    original = sdk.session.request

    def recording(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = original(method, url, *args, **kwargs)
        log.append((method, url, response.status_code))
        return response

    sdk.session.request = recording
    sweep = Sweep(sdk, world)
    outcomes: dict[str, Outcome] = {}
    for name, call in CALLS.items():
        start = len(log)
        error: BaseException | None = None
        try:
            call(sweep)
        except Exception as raised:  # judged below, with the answers the server gave
            error = raised
        outcomes[name] = Outcome(log[start:], error)
    return outcomes


def test_the_sweep_covers_the_whole_sdk() -> None:
    methods = sdk_methods()
    covered = (set(CALLS) - VARIANTS) | NO_REQUEST
    assert not methods - covered, f"SDK methods with no call in CALLS: {sorted(methods - covered)}"
    assert not covered - methods, f"not SDK methods: {sorted(covered - methods)}"
    assert set(NOT_YET_SERVED) | set(SDK_DEFECTS) <= set(CALLS)


def test_every_sdk_method_reaches_a_served_endpoint(swept: dict[str, Outcome]) -> None:
    failures = []
    for name, outcome in swept.items():
        if name in NOT_YET_SERVED:
            continue
        if name in SDK_DEFECTS:
            if outcome.requests or not isinstance(outcome.error, SDK_DEFECTS[name]):
                failures.append(f"{name}: no longer broken in the SDK, sweep it: {outcome}")
            continue
        unserved = [r for r in outcome.requests if r[2] in UNSERVED_STATUSES]
        if unserved:
            failures.append(f"{name}: {unserved}")
        elif not outcome.requests:
            failures.append(f"{name}: sent no request ({outcome.error!r})")
        elif outcome.error is not None or any(r[2] >= 400 for r in outcome.requests):
            failures.append(f"{name}: {outcome.requests} {outcome.error!r}")
    assert not failures, "\n".join(failures)
