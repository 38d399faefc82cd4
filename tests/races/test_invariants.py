"""Rules that hold in one process hold across two, in every round of a race.

Each test sends two conflicting requests at once, one through each of two server
processes on one database, for `ROUNDS` rounds, and checks the rule in the database
after every round. Either request may win, both may be refused, a request may find the
other's change: any of that is fine. What must never happen is the state the rule
forbids: an organization without an active admin, a folder cycle, two tags or groups
whose names differ only in case, positions other than 1..n, a group whose people mix
two requests.
"""

import itertools
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import httpx2 as httpx
import pytest

from tests.races.two_servers import ROUNDS, Pair, race, two_servers
from tests.stress.harness import Api, Org

UNAVAILABLE = 503  # a lock wait beyond the busy timeout: nothing applied, retry later
APPLIED = (200, 201, 204)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with two_servers(tmp_path_factory.mktemp("races")) as running:
        yield running


@pytest.fixture
def apis(pair: Pair) -> Iterator[tuple[Api, Api]]:
    """The organization's admin, once through each server."""
    with pair.api(pair.first) as first, pair.api(pair.second) as second:
        yield first, second


def invalid(response: httpx.Response, field: str, message: str) -> bool:
    """Whether the response is Tallyfy's 422 naming `field` with `message`."""
    return response.status_code == 422 and response.json() == {
        "error": True,
        "message": "The given data was invalid.",
        "code": "VALIDATION_FAILED",
        "errors": {field: [message]},
    }


def data(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


# The last active admin


def test_two_admins_acting_on_each_other_leave_an_active_admin(pair: Pair) -> None:
    first_admin = pair.org
    second_admin = pair.member("second-admin@races.example", "admin")
    try:
        race_admins(pair, first_admin, second_admin)
    finally:  # the other tests act as the first admin
        restore_admins(pair)


def restore_admins(pair: Pair) -> None:
    pair.execute(
        "UPDATE membership SET role = 'admin', disabled_at = NULL WHERE org_id = :org",
        org=pair.org.org_id,
    )


def race_admins(pair: Pair, first_admin: Org, second_admin: Org) -> None:
    ops: dict[str, Callable[[Api, int], httpx.Response]] = {
        "disable": lambda api, user: api.request("DELETE", f"/users/{user}/disable"),
        "demote": lambda api, user: api.request("PUT", f"/users/{user}/role", {"role": "standard"}),
    }
    combos = itertools.cycle(itertools.product(ops, repeat=2))
    with pair.api(pair.first, first_admin) as one, pair.api(pair.second, second_admin) as two:
        for _ in range(ROUNDS):
            restore_admins(pair)
            left, right = next(combos)
            responses = race(
                partial(ops[left], one, second_admin.user_id),
                partial(ops[right], two, first_admin.user_id),
            )
            for response in responses:
                assert response.status_code in (200, 403, 422, UNAVAILABLE), response.text
                if response.status_code == 422:
                    assert response.json()["errors"] in (
                        {"role": ["The organization needs at least one administrator."]},
                        {"user": ["The organization needs at least one administrator."]},
                    )
            active_admins = pair.rows(
                "SELECT user_id FROM membership WHERE org_id = :org"
                " AND role = 'admin' AND disabled_at IS NULL",
                org=pair.org.org_id,
            )
            assert active_admins, [r.text for r in responses]


# The folder tree


def test_crossed_folder_moves_never_make_a_cycle(pair: Pair, apis: tuple[Api, Api]) -> None:
    one, two = apis
    for number in range(ROUNDS):
        x = data(one.request("POST", "/folders", {"name": f"x{number}"}), 201)["id"]
        y = data(one.request("POST", "/folders", {"name": f"y{number}"}), 201)["id"]
        responses = race(
            partial(one.request, "PUT", f"/folders/{x}", {"name": f"x{number}", "parent_id": y}),
            partial(two.request, "PUT", f"/folders/{y}", {"name": f"y{number}", "parent_id": x}),
        )
        for response in responses:
            assert response.status_code in (200, UNAVAILABLE) or invalid(
                response, "parent_id", "A folder cannot be moved into itself or its subfolders."
            ), response.text
        parents = dict(
            pair.rows("SELECT id, parent_id FROM folder WHERE org_id = :org", org=pair.org.org_id)
        )
        for folder_id in parents:
            seen, current = set(), folder_id
            while current is not None:
                assert current not in seen, f"cycle through {current}"
                seen.add(current)
                current = parents[current]


# Names unique ignoring case


def titles_stay_unique(pair: Pair, table: str, column: str) -> None:
    names = [
        name.casefold()
        for (name,) in pair.rows(
            f"SELECT {column} FROM {table} WHERE org_id = :org", org=pair.org.org_id
        )
    ]
    assert len(names) == len(set(names)), sorted(names)


@pytest.mark.parametrize(
    ("path", "table", "column"),
    [("/tags", "tag", "title"), ("/groups", "member_group", "name")],
)
def test_names_differing_only_in_case_are_refused_whoever_comes_second(
    pair: Pair, apis: tuple[Api, Api], path: str, table: str, column: str
) -> None:
    """Even rounds create two names at once; odd rounds rename two existing ones."""
    one = apis[0]
    applied = 0
    for number in range(ROUNDS):
        wanted = (f"Name {number}", f"NAME {number}")
        if number % 2:
            ids = [
                data(one.request("POST", path, {column: f"{side}{number}"}), 201)["id"]
                for side in "ab"
            ]
            calls = [
                partial(api.request, "PUT", f"{path}/{id_}", {column: name})
                for api, id_, name in zip(apis, ids, wanted, strict=True)
            ]
        else:
            calls = [
                partial(api.request, "POST", path, {column: name})
                for api, name in zip(apis, wanted, strict=True)
            ]
        responses = race(*calls)
        for response in responses:
            assert response.status_code in (*APPLIED, UNAVAILABLE) or invalid(
                response, column, f"The {column} has already been taken."
            ), response.text
        applied += sum(r.status_code in APPLIED for r in responses)
        titles_stay_unique(pair, table, column)
    assert applied >= 1


# Positions 1..n


def positions(pair: Pair, sql: str, **params: Any) -> list[tuple[str, int]]:
    found = pair.rows(sql, **params)
    assert sorted(p for _, p in found) == list(range(1, len(found) + 1)), found
    return sorted(found, key=lambda row: row[1])


def test_step_edits_at_once_keep_positions_1_to_n(pair: Pair, apis: tuple[Api, Api]) -> None:
    one, two = apis
    template = one.create_template("Race steps", steps=4)
    steps = f"/checklists/{template}/steps"

    def add(api: Api, _ids: list[str]) -> httpx.Response:
        return api.request("POST", steps, {"title": "Added"})

    def first_to_last(api: Api, ids: list[str]) -> httpx.Response:
        return api.request("PUT", f"{steps}/{ids[0]}/reorder", {"position": len(ids)})

    def last_to_first(api: Api, ids: list[str]) -> httpx.Response:
        return api.request("PUT", f"{steps}/{ids[-1]}/reorder", {"position": 1})

    def delete_second(api: Api, ids: list[str]) -> httpx.Response:
        return api.request("DELETE", f"{steps}/{ids[1]}")

    def delete_third(api: Api, ids: list[str]) -> httpx.Response:
        return api.request("DELETE", f"{steps}/{ids[2]}")

    def clone_last(api: Api, ids: list[str]) -> httpx.Response:
        return api.request("POST", f"{steps}/{ids[-1]}/clone")

    combos = itertools.cycle(
        [
            (add, add),
            (add, last_to_first),
            (first_to_last, last_to_first),
            (delete_second, add),
            (clone_last, first_to_last),
            (delete_second, delete_third),
            (delete_third, last_to_first),
        ]
    )
    for _ in range(ROUNDS):
        ids = [step_id for step_id, _ in step_positions(pair, template)]
        left, right = next(combos)
        responses = race(partial(left, one, ids), partial(right, two, ids))
        for response in responses:
            assert response.status_code in (*APPLIED, UNAVAILABLE), response.text
        step_positions(pair, template)


def step_positions(pair: Pair, template: str) -> list[tuple[str, int]]:
    return positions(pair, "SELECT id, position FROM step WHERE checklist_id = :t", t=template)


def test_capture_edits_at_once_keep_positions_1_to_n(pair: Pair, apis: tuple[Api, Api]) -> None:
    one, two = apis
    template = one.create_template("Race captures", steps=1)
    (step,) = [step_id for step_id, _ in step_positions(pair, template)]
    captures = f"/checklists/{template}/steps/{step}/captures"
    for number in range(3):
        one.created(captures, {"field_type": "text", "label": f"Field {number}"})

    def add(api: Api, _ids: list[str]) -> httpx.Response:
        return api.request("POST", captures, {"field_type": "text", "label": "Added"})

    def last_to_first(api: Api, ids: list[str]) -> httpx.Response:
        return api.request("PUT", captures, {"capture_id": ids[-1], "position": 1})

    def first_to_last(api: Api, ids: list[str]) -> httpx.Response:
        return api.request("PUT", captures, {"capture_id": ids[0], "position": len(ids)})

    def delete_second(api: Api, ids: list[str]) -> httpx.Response:
        return api.request("DELETE", f"{captures}/{ids[1]}")

    combos = itertools.cycle(
        [(add, add), (add, last_to_first), (first_to_last, last_to_first), (delete_second, add)]
    )
    for _ in range(ROUNDS):
        ids = [field_id for field_id, _ in capture_positions(pair, step)]
        left, right = next(combos)
        responses = race(partial(left, one, ids), partial(right, two, ids))
        for response in responses:
            assert response.status_code in (*APPLIED, UNAVAILABLE), response.text
        capture_positions(pair, step)


def capture_positions(pair: Pair, step: str) -> list[tuple[str, int]]:
    return positions(pair, "SELECT id, position FROM form_field WHERE step_id = :s", s=step)


def test_kickoff_forms_sent_at_once_keep_positions_1_to_n(
    pair: Pair, apis: tuple[Api, Api]
) -> None:
    """Each request keeps the fields it read and adds one; the later one wins whole."""
    one, two = apis
    template = one.create_template("Race kick-off", steps=1)
    kickoff = "SELECT id, position FROM form_field WHERE checklist_id = :t AND step_id IS NULL"
    for _ in range(ROUNDS):
        kept = [{"id": field_id} for field_id, _ in positions(pair, kickoff, t=template)][-3:]
        responses = race(
            *[
                partial(
                    api.request,
                    "PUT",
                    f"/checklists/{template}",
                    {"prerun": [*kept, {"field_type": "text", "label": label}]},
                )
                for api, label in ((one, "From one"), (two, "From two"))
            ]
        )
        for response in responses:
            assert response.status_code in (200, UNAVAILABLE), response.text
        assert len(positions(pair, kickoff, t=template)) <= len(kept) + 1


# A group's people


def test_group_rewrites_at_once_leave_the_people_of_one_of_them(
    pair: Pair, apis: tuple[Api, Api]
) -> None:
    one, two = apis
    alice, bob = (
        data(one.request("POST", "/users/invite", {"email": email}), 200)["id"]
        for email in ("alice@races.example", "bob@races.example")
    )
    group = data(one.request("POST", "/groups", {"name": "Race group"}), 201)["id"]
    for _ in range(ROUNDS):
        data(one.request("PUT", f"/groups/{group}", {"members": []}))
        responses = race(
            lambda: one.request("PUT", f"/groups/{group}", {"members": [alice]}),
            lambda: two.request("PUT", f"/groups/{group}", {"members": [bob]}),
        )
        for response in responses:
            assert response.status_code in (200, UNAVAILABLE), response.text
        people = pair.rows(
            "SELECT user_id FROM group_member WHERE group_id = :g ORDER BY user_id", g=group
        )
        assert people in ([(alice,)], [(bob,)])
