"""Reading activity-feed items in tests.

Tallyfy's documented feed item holds most values in one-element lists (`verb: ["updated"]`);
`flat` turns such an item back into scalars so that assertions read naturally.
"""

from typing import Any

LISTED = (
    "verb",
    "source",
    "actor_type",
    "actor_id",
    "actor",
    "type",
    "description",
    "text",
    "field",
    "old_value",
    "new_value",
)


def flat(item: dict[str, Any]) -> dict[str, Any]:
    """The item with each listed value as its single element (`None` for null or `[]`)."""
    out = dict(item)
    for key in LISTED:
        value = item[key]
        assert value is None or (isinstance(value, list) and len(value) <= 1), (key, value)
        out[key] = value[0] if value else None
    return out


def flat_all(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [flat(item) for item in items]
