"""Whatever a client sends to the run PUT, the answer is a JSON 2xx/4xx, never a 5xx."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import World

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
KEYS = [
    "name",
    "summary",
    "owner_id",
    "tags",
    "folders",
    "users",
    "groups",
    "starred",
    "is_public",
    "prevent_guest_comment",
    "prerun",
    "taskdata",
    "id",
    "status",
]
bodies = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), json_values, max_size=6)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies)
def test_run_put_never_fails_with_5xx(world: World, body: dict[str, Any]) -> None:
    run_id = world.extra.get("run_id")
    if run_id is None:
        run_id = world.extra["run_id"] = world.launch(
            world.template(
                kickoff=[
                    {"field_type": "dropdown", "label": "D", "options": [{"id": 1, "text": "A"}]},
                    {"field_type": "table", "label": "T", "columns": [{"id": 1, "label": "c"}]},
                ]
            )
        )["id"]
    response = world.call("PUT", f"/runs/{run_id}", json=body)
    assert response.status_code in (200, 400, 422), response.text
    assert response.headers["content-type"] == "application/json"


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=200))
def test_raw_bytes_never_fail_with_5xx(world: World, raw: bytes) -> None:
    run_id = world.extra.get("run_id")
    if run_id is None:
        run_id = world.extra["run_id"] = world.launch(world.template())["id"]
    response = world.call(
        "PUT", f"/runs/{run_id}", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (200, 400, 422), response.text
