"""Path patterns for faults and journal filters: globs over URL paths.

`*` stands for any run of characters inside one path segment, `**` for any run across
segments, `?` for one character, and `{name}` for one whole segment, so a route template
copied from the API reference works as a pattern. Every Tallyfy route is served both at the
root and under `/api`: a pattern written without `/api` matches both forms, one written
with it matches the `/api` form only. A trailing slash makes no difference.
"""

import re
from functools import lru_cache

MAX_PATTERN_CHARS = 500
API_PREFIX = "/api"


class BadPattern(ValueError):
    pass


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The regular expression of a pattern; BadPattern says why one is refused."""
    if not pattern.startswith("/"):
        raise BadPattern("A path pattern starts with '/', e.g. /organizations/*/runs/**.")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise BadPattern(f"A path pattern has at most {MAX_PATTERN_CHARS} characters.")
    parts: list[str] = []
    for token in re.split(r"(\*\*|\*|\?|\{[^{}/]*\})", _trimmed(pattern)):
        if token == "**":
            parts.append(".*")
        elif token == "*":
            parts.append("[^/]*")
        elif token == "?":
            parts.append("[^/]")
        elif token.startswith("{") and token.endswith("}"):
            parts.append("[^/]+")
        elif token:
            parts.append(re.escape(token))
    return re.compile("".join(parts))


def path_matches(pattern: str, path: str) -> bool:
    """Whether `path` (a request's URL path, without its query) matches `pattern`."""
    compiled = compile_pattern(pattern)
    path = _trimmed(path)
    if compiled.fullmatch(path):
        return True
    if path.startswith(API_PREFIX + "/") and not pattern.startswith(API_PREFIX + "/"):
        return compiled.fullmatch(path[len(API_PREFIX) :]) is not None
    return False


def _trimmed(path: str) -> str:
    return path.rstrip("/") or "/"


CONTROL_PREFIXES = ("/_sandbox", API_PREFIX + "/_sandbox")


def is_control(path: str) -> bool:
    """A sandbox control route: never faulted, never journaled, never rate-limited."""
    return any(path == p or path.startswith(p + "/") for p in CONTROL_PREFIXES)
