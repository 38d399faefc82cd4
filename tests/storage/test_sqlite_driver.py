"""The SQLite driver's own column readers and writers give exactly what SQLAlchemy's give.

They exist only to be faster (`storage/sqlite/driver.py`); a stored value or a
value read back that differed by a character would be a silent change of format."""

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects import sqlite

from procflow.storage.sqlite import driver

DIALECT = sqlite.dialect()


def _sqlalchemy(kind: Any, direction: str) -> Any:
    impl = kind().dialect_impl(DIALECT)
    return (
        impl.bind_processor(DIALECT)
        if direction == "bind"
        else impl.result_processor(DIALECT, None)
    )


SQLA_WRITE_DATETIME = _sqlalchemy(DateTime, "bind")
SQLA_READ_DATETIME = _sqlalchemy(DateTime, "result")
SQLA_WRITE_JSON = _sqlalchemy(JSON, "bind")
SQLA_READ_JSON = _sqlalchemy(JSON, "result")

WRITE_DATETIME = driver.datetime_writer(SQLA_WRITE_DATETIME)
READ_DATETIME = driver.datetime_reader(SQLA_READ_DATETIME)
WRITE_JSON = driver.json_writer(SQLA_WRITE_JSON)
READ_JSON = driver.json_reader(SQLA_READ_JSON)

DATETIMES = st.datetimes() | st.datetimes(timezones=st.just(timezone(timedelta(hours=2))))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(DATETIMES)
def test_datetimes_are_written_and_read_as_sqlalchemy_does(value: datetime) -> None:
    written = WRITE_DATETIME(value)
    assert written == SQLA_WRITE_DATETIME(value)
    assert READ_DATETIME(written) == SQLA_READ_DATETIME(written)


@given(JSON_VALUES)
def test_json_values_are_written_as_sqlalchemy_does(value: Any) -> None:
    assert WRITE_JSON(value) == SQLA_WRITE_JSON(value)


@given(JSON_VALUES)
@example(-(2**63) - 1)  # 19 digits, below orjson's 64-bit range: read as a float by orjson
@example(2**64)  # 20 digits, above it
def test_json_text_is_read_as_sqlalchemy_does(value: Any) -> None:
    text = json.dumps(value)
    assert repr(READ_JSON(text)) == repr(SQLA_READ_JSON(text))
