"""The sandbox tools' rules without HTTP: path patterns, durations, masking, fault answers."""

from datetime import timedelta
from typing import Any

import pytest

from procflow.sandbox.durations import BadDuration, parse_duration
from procflow.sandbox.fault_answers import answer
from procflow.sandbox.masking import mask_headers, mask_json, mask_query, mask_text
from procflow.sandbox.patterns import BadPattern, is_control, path_matches

TOKEN = "pf" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/organizations/*/runs", "/organizations/abc/runs", True),
        ("/organizations/*/runs", "/api/organizations/abc/runs", True),
        ("/organizations/*/runs", "/organizations/abc/runs/", True),
        ("/organizations/*/runs", "/organizations/abc/runs/r1", False),
        ("/organizations/*/runs", "/organizations/a/b/runs", False),
        ("/organizations/**", "/organizations/a/runs/r1/tasks", True),
        ("/organizations/{org}/runs/{run}", "/organizations/o/runs/r", True),
        ("/organizations/{org}/runs/{run}", "/organizations/o/runs/", False),
        ("/api/organizations/**", "/organizations/o/runs", False),
        ("/api/organizations/**", "/api/organizations/o/runs", True),
        ("/me", "/me", True),
        ("/me?", "/me2", True),
        ("/runs.json", "/runsXjson", False),
        ("/**", "/anything/at/all", True),
        ("/organizations/**", "/organizations", True),
        ("/**/runs", "/api/organizations/o/runs", True),
        ("/**/runs/*", "/organizations/o/runs", False),
        ("/organizations/*/r*s/{id}", "/organizations/o/runs/r1", True),
        ("/organizations/*/r*s/{id}", "/organizations/o/tags/r1", False),
    ],
)
def test_path_patterns(pattern: str, path: str, expected: bool) -> None:
    assert path_matches(pattern, path) is expected


def test_many_stars_take_no_exponential_time() -> None:
    assert not path_matches("/" + "*a" * 200 + "*b", "/" + "a" * 4000)
    assert not path_matches("/**/a" * 90 + "/b", "/a" * 2000)


@pytest.mark.parametrize("pattern", ["organizations/*", "", "/" + "a" * 600])
def test_bad_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(BadPattern):
        path_matches(pattern, "/organizations/x")


def test_control_routes() -> None:
    assert is_control("/_sandbox/faults")
    assert is_control("/_sandbox")
    assert is_control("/api/_sandbox/requests")
    assert not is_control("/_sandboxes")
    assert not is_control("/organizations/_sandbox")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P3D", timedelta(days=3)),
        ("PT90M", timedelta(minutes=90)),
        ("P1W2DT3H4M5S", timedelta(days=9, hours=3, minutes=4, seconds=5)),
        ("PT1.5H", timedelta(minutes=90)),
        ("pt0,5s", timedelta(milliseconds=500)),
        ("P0D", timedelta(0)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("-P3D", "forward"),
        ("P1M", "days instead"),
        ("P1Y", "days instead"),
        ("P", "not an ISO 8601"),
        ("PT", "not an ISO 8601"),
        ("P1DT", "not an ISO 8601"),
        ("3 days", "not an ISO 8601"),
        ("P3H", "not an ISO 8601"),
        ("P1e9D", "not an ISO 8601"),
        ("P99999999D", "at most"),
        ("P" + "9" * 100 + "D", "not an ISO 8601"),
    ],
)
def test_bad_durations(text: str, words: str) -> None:
    with pytest.raises(BadDuration, match=words):
        parse_duration(text)


def test_masking_never_leaves_a_token() -> None:
    odd = "an-opaque-credential-without-shape-1234"
    body: dict[str, Any] = {
        "data": {"token": TOKEN, "api_key": odd, "tokens_count": 3},
        "comments": [{"content": f"mine is {TOKEN}, and {odd}"}],
    }
    masked = mask_json(body, known=(odd,))
    assert TOKEN not in str(masked)
    assert odd not in str(masked)
    assert masked["data"]["token"] == "pf0123****"
    assert masked["data"]["tokens_count"] == 3
    assert body["data"]["token"] == TOKEN  # the original is left alone

    query = mask_query(f"q=x&access_token={odd}&other={TOKEN}")
    assert odd not in query
    assert TOKEN not in query
    assert "q=x" in query

    headers = mask_headers(
        [(b"authorization", f"Bearer {TOKEN}".encode()), (b"x-echo", TOKEN.encode())]
    )
    assert headers == {"authorization": "Bearer pf0123****", "x-echo": "pf0123****"}
    assert mask_headers([(b"authorization", b"Bearer short")]) == {"authorization": "Bearer ****"}
    assert mask_text("pg" + "f" * 64) == "pgffff****"


def test_fault_answers_take_tallyfy_shape() -> None:
    body, headers = answer(503, None, retry_after=2, rate_limit=False)
    assert body == {
        "error": True,
        "message": "The service is unavailable; try again shortly.",
        "code": "SERVICE_UNAVAILABLE",
    }
    assert headers == {"Retry-After": "2"}
    body, headers = answer(429, None, retry_after=0, rate_limit=True)
    assert body["code"] == "RATE_LIMIT_EXCEEDED"
    assert "600 requests" in body["message"]
    assert headers["Retry-After"] == "0"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert answer(500, "boom", 1, False)[0]["message"] == "boom"
    assert answer(404, {"message": "gone", "extra": 1}, 1, False)[0] == {
        "error": True, "message": "gone", "code": "RESOURCE_NOT_FOUND", "extra": 1,
    }  # fmt: skip
    assert answer(418, None, 1, False)[0]["code"] == "HTTP_ERROR"
