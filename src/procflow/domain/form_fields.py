"""Form-field types and the value each accepts.

One validator serves kick-off values (`prerun`) and task form values (`taskdata`), on
launch and on update, as Tallyfy does. `validate_value` returns the value as it will be
stored (normalised where the type has a canonical form) or raises `FieldValueError` with
a message meant for a person.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from procflow.domain.emails import is_email
from procflow.domain.timeutil import format_ts, parse_ts


class FieldType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    RADIO = "radio"
    DROPDOWN = "dropdown"
    MULTISELECT = "multiselect"
    CHECKLIST = "checklist"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    EMAIL = "email"
    URL = "url"
    NUMBER = "number"
    CHECKBOX = "checkbox"
    FILE = "file"
    IMAGE = "image"
    TABLE = "table"
    ASSIGNEES_FORM = "assignees_form"


OPTION_TYPES = frozenset(
    {FieldType.RADIO, FieldType.DROPDOWN, FieldType.MULTISELECT, FieldType.CHECKLIST}
)
TEXT_LIMITS = {
    FieldType.TEXT: 200,
    FieldType.TEXTAREA: 30000,
    FieldType.EMAIL: 254,
    FieldType.URL: 2048,
    FieldType.NUMBER: 64,
}
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
MAX_LIST_ITEMS = 500


class FieldValueError(ValueError):
    """A value that its field's type does not accept."""


ALIAS_MAX = 64
ALIAS_SPACE = " \t\n\r"
# The alias a client may give a field: letters, digits, - and _, spaces around it ignored;
# blank means "make one from the label". The request schema states this very pattern, so
# the document and the check cannot differ; its parts match disjoint characters (linear).
ALIAS_PATTERN = r"^[ \t\n\r]*([A-Za-z0-9_-]+[ \t\n\r]*)?$"
ALIAS_RULE = "The alias may contain only letters, digits, - and _."
_ALIAS = re.compile(ALIAS_PATTERN)


def requested_alias(raw: str) -> str | None:
    """The trimmed alias a client asked for, None when blank, or `FieldValueError`."""
    if _ALIAS.search(raw) is None:
        raise FieldValueError(ALIAS_RULE)
    return raw.strip(ALIAS_SPACE) or None


@dataclass(frozen=True)
class FieldSpec:
    """What the validator needs to know of a field (kick-off field or capture)."""

    id: str
    field_type: str
    label: str
    required: bool = False
    options: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    columns: Sequence[Mapping[str, Any]] = field(default_factory=tuple)


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def validate_value(spec: FieldSpec, value: Any) -> Any:
    """Check `value` against `spec`; `None` always clears the value."""
    if value is None:
        return None
    try:
        kind = FieldType(spec.field_type)
    except ValueError as exc:
        raise FieldValueError(f"Field type {spec.field_type!r} is not supported.") from exc
    return _VALIDATORS[kind](spec, value)


def _text(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise FieldValueError(f"{spec.label} must be a string.")
    limit = TEXT_LIMITS[FieldType(spec.field_type)]
    if len(value) > limit:
        raise FieldValueError(f"{spec.label} may not be greater than {limit} characters.")
    return value


def _email(spec: FieldSpec, value: Any) -> str:
    text = _text(spec, value)
    if text and not is_email(text):
        raise FieldValueError(f"{spec.label} must be a valid email address.")
    return text


def _url(spec: FieldSpec, value: Any) -> str:
    text = _text(spec, value)
    if text:
        try:
            parts = urlsplit(text)
        except ValueError:  # e.g. an unclosed IPv6 bracket: "http://["
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise FieldValueError(f"{spec.label} must be a valid http(s) URL.")
    return text


def _number(spec: FieldSpec, value: Any) -> str | int | float:
    if isinstance(value, bool):
        raise FieldValueError(f"{spec.label} must be a number.")
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            raise FieldValueError(f"{spec.label} must be a finite number.")
        return value
    text = _text(spec, value)
    if text and not _NUMBER.fullmatch(text.strip()):
        raise FieldValueError(f"{spec.label} must be a number.")
    return text


def _datetime(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise FieldValueError(f"{spec.label} must be an ISO 8601 date string.")
    if value == "":
        return value
    try:
        return format_ts(parse_ts(value)) or ""
    except ValueError as exc:
        raise FieldValueError(f"{spec.label} is not a valid date.") from exc


def _time(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str) or (value and not _TIME.fullmatch(value)):
        raise FieldValueError(f"{spec.label} must be a time as HH:MM or HH:MM:SS.")
    return value


def _checkbox(spec: FieldSpec, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldValueError(f"{spec.label} must be true or false.")
    return value


def _find_option(spec: FieldSpec, chosen: Any) -> Mapping[str, Any]:
    """The template option a client's choice names, by id and/or exact text."""
    if isinstance(chosen, Mapping):
        oid, text = chosen.get("id"), chosen.get("text")
        if oid is None and text is None:
            raise FieldValueError(f"{spec.label}: each choice must give an option id or text.")
        if isinstance(oid, bool) or (oid is not None and not isinstance(oid, int)):
            raise FieldValueError(f"{spec.label}: an option id must be a whole number.")
        if text is not None and not isinstance(text, str):
            raise FieldValueError(f"{spec.label}: an option text must be a string.")
    elif isinstance(chosen, str):
        oid, text = None, chosen
    elif isinstance(chosen, int) and not isinstance(chosen, bool):
        oid, text = chosen, None
    else:
        raise FieldValueError(f"{spec.label} must name one of its options.")
    for option in spec.options:
        if oid is not None and option.get("id") != oid:
            continue
        if text is not None and option.get("text") != text:
            continue
        return option
    raise FieldValueError(f"The selected {spec.label} is invalid.")


def _radio(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise FieldValueError(f"{spec.label} must be the text of one of its options.")
    return str(_find_option(spec, value)["text"])


def _dropdown(spec: FieldSpec, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise FieldValueError(f"{spec.label} must be an option object with id and text.")
    option = _find_option(spec, value)
    return {"id": option["id"], "text": option["text"], "value": option.get("value")}


def _multi(spec: FieldSpec, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise FieldValueError(f"{spec.label} must be an array of option objects.")
    if len(value) > max(len(spec.options), 1):
        raise FieldValueError(f"{spec.label} has more entries than options.")
    chosen: list[dict[str, Any]] = []
    seen: set[Any] = set()
    for item in value:
        if not isinstance(item, Mapping):
            raise FieldValueError(f"{spec.label} must be an array of option objects.")
        option = _find_option(spec, item)
        if option["id"] in seen:
            raise FieldValueError(f"{spec.label} names the same option twice.")
        seen.add(option["id"])
        selected = item.get("selected", True)
        if not isinstance(selected, bool):
            raise FieldValueError(f"{spec.label}: 'selected' must be true or false.")
        chosen.append({"id": option["id"], "text": option["text"], "selected": selected})
    return chosen


def _table(spec: FieldSpec, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise FieldValueError(f"{spec.label} must be an array with one entry per column.")
    if len(value) != len(spec.columns):
        raise FieldValueError("Number of columns does not match required columns")
    for cell in value:
        if cell is not None and (isinstance(cell, bool) or not isinstance(cell, str | int | float)):
            raise FieldValueError(f"{spec.label}: each cell must be a string or a number.")
        if isinstance(cell, str) and len(cell) > TEXT_LIMITS[FieldType.TEXTAREA]:
            raise FieldValueError(f"{spec.label}: a cell is too long.")
    return list(value)


def _assignees(spec: FieldSpec, value: Any) -> dict[str, list[Any]]:
    if not isinstance(value, Mapping) or set(value) - {"users", "guests", "groups"}:
        raise FieldValueError(f"{spec.label} must be an object of users, guests and groups.")
    users, guests, groups = (value.get(k, []) for k in ("users", "guests", "groups"))
    if not isinstance(users, list) or not all(
        isinstance(u, int) and not isinstance(u, bool) for u in users
    ):
        raise FieldValueError(f"{spec.label}: users must be an array of user ids.")
    if not isinstance(guests, list) or not all(is_email(g) for g in guests):
        raise FieldValueError(f"{spec.label}: guests must be an array of email addresses.")
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise FieldValueError(f"{spec.label}: groups must be an array of group ids.")
    if len(users) + len(guests) + len(groups) > MAX_LIST_ITEMS:
        raise FieldValueError(f"{spec.label} names too many assignees.")
    return {"users": users, "guests": guests, "groups": groups}


def _files(spec: FieldSpec, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS:
        raise FieldValueError(f"{spec.label} must be an array of uploaded file objects.")
    for item in value:
        ident = item.get("id") if isinstance(item, Mapping) else None
        if isinstance(ident, bool) or not isinstance(ident, str | int):
            raise FieldValueError(f"{spec.label}: each file must be an object with an id.")
    return [dict(item) for item in value]


_VALIDATORS = {
    FieldType.TEXT: _text,
    FieldType.TEXTAREA: _text,
    FieldType.EMAIL: _email,
    FieldType.URL: _url,
    FieldType.NUMBER: _number,
    FieldType.DATE: _datetime,
    FieldType.DATETIME: _datetime,
    FieldType.TIME: _time,
    FieldType.CHECKBOX: _checkbox,
    FieldType.RADIO: _radio,
    FieldType.DROPDOWN: _dropdown,
    FieldType.MULTISELECT: _multi,
    FieldType.CHECKLIST: _multi,
    FieldType.TABLE: _table,
    FieldType.ASSIGNEES_FORM: _assignees,
    FieldType.FILE: _files,
    FieldType.IMAGE: _files,
}


def validate_values(
    specs: Mapping[str, FieldSpec], values: Mapping[str, Any], prefix: str
) -> tuple[dict[str, Any], dict[str, list[str]], list[str]]:
    """Validate a `{field id: value}` map.

    Returns (accepted values, errors keyed `prefix.<id>`, ids that match no field).
    Unknown ids are reported, not failed: Tallyfy drops them silently.
    """
    accepted: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    unknown: list[str] = []
    for key, raw in values.items():
        spec = specs.get(key)
        if spec is None:
            unknown.append(key)
            continue
        try:
            accepted[key] = validate_value(spec, raw)
        except FieldValueError as exc:
            errors[f"{prefix}.{key}"] = [str(exc)]
    return accepted, errors, unknown


def missing_required(
    specs: Mapping[str, FieldSpec], values: Mapping[str, Any], prefix: str
) -> dict[str, list[str]]:
    """Errors for each required field that has no value."""
    return {
        f"{prefix}.{spec.id}": [f"{spec.label} is required"]
        for spec in specs.values()
        if spec.required and is_empty(values.get(spec.id))
    }


def normalise_options(raw: Any) -> list[dict[str, Any]]:
    """Template options as stored: each with an integer id (assigned when missing) and text."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FieldValueError("options must be an array.")
    options: list[dict[str, Any]] = []
    used = {o.get("id") for o in raw if isinstance(o, Mapping) and isinstance(o.get("id"), int)}
    next_id = 1
    for item in raw:
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, Mapping) or not isinstance(item.get("text"), str):
            raise FieldValueError("each option must be an object with a text.")
        oid = item.get("id")
        if oid is not None and (isinstance(oid, bool) or not isinstance(oid, int)):
            raise FieldValueError("an option id must be a whole number.")
        if oid is None:
            while next_id in used:
                next_id += 1
            oid = next_id
            used.add(oid)
        option = {"id": oid, "text": item["text"]}
        for extra in ("value", "required", "selected"):
            if extra in item:
                option[extra] = item[extra]
        options.append(option)
    ids = [o["id"] for o in options]
    if len(ids) != len(set(ids)):
        raise FieldValueError("option ids must be unique.")
    return options


def normalise_columns(raw: Any) -> list[dict[str, Any]]:
    """Table columns as stored: each with an integer id and a label."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FieldValueError("columns must be an array.")
    items: list[Mapping[str, Any]] = []
    for item in raw:
        if isinstance(item, str):
            item = {"label": item}
        if not isinstance(item, Mapping) or not isinstance(item.get("label"), str):
            raise FieldValueError("each column must be an object with a label.")
        if "id" in item and (isinstance(item["id"], bool) or not isinstance(item["id"], int)):
            raise FieldValueError("a column id must be a whole number.")
        items.append(item)
    given = [i.get("id") for i in items]
    used = {oid for oid in given if isinstance(oid, int) and not isinstance(oid, bool)}
    columns: list[dict[str, Any]] = []
    next_id = 1
    for item, oid in zip(items, given, strict=True):
        if not isinstance(oid, int) or isinstance(oid, bool):
            while next_id in used:
                next_id += 1
            oid = next_id
            used.add(oid)
        columns.append({"id": oid, "label": item["label"]})
    if len({c["id"] for c in columns}) != len(columns):
        raise FieldValueError("column ids must be unique.")
    return columns
