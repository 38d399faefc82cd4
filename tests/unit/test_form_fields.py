"""The form-field value rules: every field type with values it accepts and refuses."""

from typing import Any

import pytest

from procflow.domain.form_fields import (
    FieldSpec,
    FieldType,
    FieldValueError,
    is_empty,
    missing_required,
    normalise_columns,
    normalise_options,
    validate_value,
    validate_values,
)

OPTIONS = (
    {"id": 1, "text": "Small"},
    {"id": 2, "text": "Medium", "value": "m"},
    {"id": 3, "text": "Large"},
)
COLUMNS = ({"id": 1, "label": "Item"}, {"id": 2, "label": "Qty"})


def spec(field_type: str, **kwargs: Any) -> FieldSpec:
    if field_type in ("radio", "dropdown", "multiselect", "checklist"):
        kwargs.setdefault("options", OPTIONS)
    if field_type == "table":
        kwargs.setdefault("columns", COLUMNS)
    return FieldSpec(id="f1", field_type=field_type, label="Answer", **kwargs)


# (field type, value sent, value stored)
VALID: list[tuple[str, Any, Any]] = [
    ("text", "hello", "hello"),
    ("text", "", ""),
    ("text", "x" * 200, "x" * 200),
    ("textarea", "line one\nline two", "line one\nline two"),
    ("textarea", "y" * 30000, "y" * 30000),
    ("email", "someone@example.com", "someone@example.com"),
    ("email", "", ""),
    ("url", "https://example.com/path?q=1", "https://example.com/path?q=1"),
    ("url", "http://example.com", "http://example.com"),
    ("number", "42", "42"),
    ("number", "-3.5e2", "-3.5e2"),
    ("number", 7, 7),
    ("number", 2.5, 2.5),
    ("date", "2025-12-31T23:59:59Z", "2025-12-31T23:59:59.000Z"),
    ("date", "2025-12-31", "2025-12-31T00:00:00.000Z"),
    ("date", "2025-07-15 17:00:00", "2025-07-15T17:00:00.000Z"),
    ("datetime", "2025-01-15T12:00:00+02:00", "2025-01-15T10:00:00.000Z"),
    ("time", "09:30", "09:30"),
    ("time", "23:59:59", "23:59:59"),
    ("checkbox", True, True),
    ("checkbox", False, False),
    ("radio", "Medium", "Medium"),
    (
        "dropdown",
        {"id": 2, "text": "Medium", "value": None},
        {"id": 2, "text": "Medium", "value": "m"},
    ),
    ("dropdown", {"id": 3}, {"id": 3, "text": "Large", "value": None}),
    ("dropdown", {"text": "Small"}, {"id": 1, "text": "Small", "value": None}),
    (
        "multiselect",
        [{"id": 1, "text": "Small", "selected": True}, {"id": 3, "selected": False}],
        [
            {"id": 1, "text": "Small", "selected": True},
            {"id": 3, "text": "Large", "selected": False},
        ],
    ),
    ("multiselect", [], []),
    ("checklist", [{"text": "Medium"}], [{"id": 2, "text": "Medium", "selected": True}]),
    ("table", ["Widget", "3"], ["Widget", "3"]),
    ("table", ["Widget", 3], ["Widget", 3]),
    ("table", [None, 1.5], [None, 1.5]),
    (
        "assignees_form",
        {"users": [1, 2], "guests": ["g@example.com"], "groups": ["abc"]},
        {"users": [1, 2], "guests": ["g@example.com"], "groups": ["abc"]},
    ),
    ("assignees_form", {}, {"users": [], "guests": [], "groups": []}),
    ("file", [{"id": "a1", "filename": "x.pdf"}], [{"id": "a1", "filename": "x.pdf"}]),
    ("file", [], []),
    ("image", [{"id": 5}], [{"id": 5}]),
]

# (field type, value sent, words the message must contain)
INVALID: list[tuple[str, Any, str]] = [
    ("text", 5, "must be a string"),
    ("text", "x" * 201, "greater than 200"),
    ("text", ["a"], "must be a string"),
    ("textarea", "y" * 30001, "greater than 30000"),
    ("textarea", {"a": 1}, "must be a string"),
    ("email", "not-an-email", "valid email"),
    ("email", "a@b", "valid email"),
    ("email", 12, "must be a string"),
    ("url", "ftp://example.com", "http(s) URL"),
    ("url", "example.com", "http(s) URL"),
    ("url", False, "must be a string"),
    ("number", "twelve", "must be a number"),
    ("number", True, "must be a number"),
    ("number", "1.2.3", "must be a number"),
    ("date", "31/12/2025", "not a valid date"),
    ("date", 20251231, "ISO 8601"),
    ("date", "2025-13-01", "not a valid date"),
    ("datetime", "tomorrow", "not a valid date"),
    ("datetime", ["2025-01-01"], "ISO 8601"),
    ("time", "24:00", "HH:MM"),
    ("time", "9:30", "HH:MM"),
    ("time", 930, "HH:MM"),
    ("checkbox", "true", "true or false"),
    ("checkbox", 1, "true or false"),
    ("radio", "Huge", "is invalid"),
    ("radio", {"id": 1}, "text of one of its options"),
    ("radio", 1, "text of one of its options"),
    ("dropdown", "Small", "option object"),
    ("dropdown", {"id": 9, "text": "Small"}, "is invalid"),
    ("dropdown", {"id": 1, "text": "Medium"}, "is invalid"),
    ("multiselect", {"id": 1}, "array of option objects"),
    ("multiselect", ["Small"], "array of option objects"),
    ("multiselect", [{"id": 1}, {"id": 1}], "same option twice"),
    ("multiselect", [{"id": 1, "selected": "yes"}], "'selected' must be true or false"),
    ("multiselect", [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}], "more entries than options"),
    ("checklist", [{"id": 7}], "is invalid"),
    ("checklist", "Small", "array of option objects"),
    ("table", ["only one"], "Number of columns does not match required columns"),
    ("table", "Widget,3", "one entry per column"),
    ("table", ["Widget", True], "string or a number"),
    ("table", ["Widget", {"n": 3}], "string or a number"),
    ("assignees_form", {"users": ["1"]}, "user ids"),
    ("assignees_form", {"guests": ["nope"]}, "email addresses"),
    ("assignees_form", {"groups": [1]}, "group ids"),
    ("assignees_form", {"owners": []}, "users, guests and groups"),
    ("assignees_form", [1, 2], "users, guests and groups"),
    ("file", {"id": "a1"}, "array of uploaded file objects"),
    ("file", [{"filename": "x.pdf"}], "object with an id"),
    ("image", ["a1"], "object with an id"),
    ("image", "photo.png", "array of uploaded file objects"),
]


def test_every_field_type_has_valid_and_invalid_cases() -> None:
    assert {t for t, _, _ in VALID} == {t.value for t in FieldType}
    for kind in FieldType:
        assert sum(1 for t, _, _ in INVALID if t == kind.value) >= 2, kind


@pytest.mark.parametrize(("field_type", "value", "stored"), VALID)
def test_valid_value_is_accepted_and_normalised(field_type: str, value: Any, stored: Any) -> None:
    assert validate_value(spec(field_type), value) == stored


@pytest.mark.parametrize(("field_type", "value", "message"), INVALID)
def test_invalid_value_is_refused_with_a_message(field_type: str, value: Any, message: str) -> None:
    with pytest.raises(FieldValueError) as caught:
        validate_value(spec(field_type), value)
    assert message in str(caught.value)


@pytest.mark.parametrize("field_type", [t.value for t in FieldType])
def test_none_clears_any_field(field_type: str) -> None:
    assert validate_value(spec(field_type), None) is None


def test_unsupported_field_type_is_refused() -> None:
    with pytest.raises(FieldValueError, match="not supported"):
        validate_value(FieldSpec("f", "signature", "Sign"), "x")


def test_messages_name_the_field_label() -> None:
    with pytest.raises(FieldValueError, match=r"^Answer must be a string"):
        validate_value(spec("text"), 1)


@pytest.mark.parametrize(
    ("field_type", "value"),
    [
        ("dropdown", {}),
        ("dropdown", {"value": "x"}),
        ("multiselect", [{"selected": True}]),
    ],
)
def test_option_object_without_id_or_text_is_refused(field_type: str, value: Any) -> None:
    with pytest.raises(FieldValueError):
        validate_value(spec(field_type), value)


def test_boolean_option_id_is_refused() -> None:
    with pytest.raises(FieldValueError):
        validate_value(spec("dropdown"), {"id": True})


@pytest.mark.parametrize("value", [None, "", [], {}])
def test_is_empty(value: Any) -> None:
    assert is_empty(value)


@pytest.mark.parametrize("value", [0, False, " ", [None], {"users": []}])
def test_is_not_empty(value: Any) -> None:
    assert not is_empty(value)


def test_validate_values_splits_accepted_errors_and_unknown() -> None:
    specs = {"a": FieldSpec("a", "text", "Name"), "b": FieldSpec("b", "checkbox", "Agree")}
    accepted, errors, unknown = validate_values(specs, {"a": "Ann", "b": "yes", "zzz": 1}, "prerun")
    assert accepted == {"a": "Ann"}
    assert errors == {"prerun.b": ["Agree must be true or false."]}
    assert unknown == ["zzz"]


def test_missing_required_names_each_empty_required_field() -> None:
    specs = {
        "a": FieldSpec("a", "text", "Name", required=True),
        "b": FieldSpec("b", "text", "Nickname"),
        "c": FieldSpec("c", "multiselect", "Sizes", required=True, options=OPTIONS),
        "d": FieldSpec("d", "checkbox", "Agree", required=True),
    }
    errors = missing_required(specs, {"a": "", "c": [], "d": False}, "prerun")
    assert errors == {"prerun.a": ["Name is required"], "prerun.c": ["Sizes is required"]}


def test_normalise_options_assigns_free_integer_ids_in_order() -> None:
    options = normalise_options(["A", {"id": 1, "text": "B"}, {"text": "C", "value": "c"}])
    assert options == [
        {"id": 2, "text": "A"},
        {"id": 1, "text": "B"},
        {"id": 3, "text": "C", "value": "c"},
    ]


def test_normalise_options_keeps_known_extras_only() -> None:
    options = normalise_options([{"id": 4, "text": "A", "selected": True, "color": "red"}])
    assert options == [{"id": 4, "text": "A", "selected": True}]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("A,B", "must be an array"),
        ([{"label": "A"}], "object with a text"),
        ([{"id": 1, "text": "A"}, {"id": 1, "text": "B"}], "unique"),
        ([7], "object with a text"),
    ],
)
def test_normalise_options_refuses(raw: Any, message: str) -> None:
    with pytest.raises(FieldValueError, match=message):
        normalise_options(raw)


def test_normalise_options_of_none_is_empty() -> None:
    assert normalise_options(None) == []
    assert normalise_columns(None) == []


def test_normalise_columns_numbers_missing_ids_by_position() -> None:
    assert normalise_columns(["Item", {"id": 9, "label": "Qty"}]) == [
        {"id": 1, "label": "Item"},
        {"id": 9, "label": "Qty"},
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"label": "A"}, "must be an array"),
        ([{"id": 1}], "object with a label"),
        ([3], "object with a label"),
    ],
)
def test_normalise_columns_refuses(raw: Any, message: str) -> None:
    with pytest.raises(FieldValueError, match=message):
        normalise_columns(raw)


def test_normalise_columns_ids_are_unique() -> None:
    columns = normalise_columns([{"id": 2, "label": "A"}, {"label": "B"}])
    assert len({c["id"] for c in columns}) == 2
