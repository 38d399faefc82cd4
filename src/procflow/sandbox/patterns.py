"""Path patterns for faults and journal filters: globs over URL paths.

`*` stands for any run of characters inside one path segment, `?` for one character, a
segment `**` for any number of whole segments (none included), and a segment `{name}` for
one non-empty segment, so that a route template copied from the API reference works as a
pattern. Every Tallyfy route is served both at the root and under `/api`: a pattern written
without `/api` matches both forms, one written with it matches the `/api` form only. A
trailing slash makes no difference.

Matching walks segments and characters with the classic two-pointer wildcard algorithm
(no regular expressions): a pattern of many stars costs at most the product of the two
lengths, never the exponential time a backtracking regex engine can take on it.
"""

from collections.abc import Callable, Sequence
from functools import lru_cache

MAX_PATTERN_CHARS = 500
API_PREFIX = "/api"
ANY_SEGMENTS = "**"
CONTROL_PREFIXES = ("/_sandbox", API_PREFIX + "/_sandbox")


class BadPattern(ValueError):
    pass


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> tuple[str, ...]:
    """A pattern's segments; BadPattern says why one is refused."""
    if not pattern.startswith("/"):
        raise BadPattern("A path pattern starts with '/', e.g. /organizations/*/runs/**.")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise BadPattern(f"A path pattern has at most {MAX_PATTERN_CHARS} characters.")
    return tuple(_segments(pattern))


def path_matches(pattern: str, path: str) -> bool:
    """Whether `path` (a request's URL path, without its query) matches `pattern`."""
    wanted = compile_pattern(pattern)
    segments = _segments(path)
    if _match(wanted, segments, _segments_match):
        return True
    if segments[:1] == ["api"] and not pattern.startswith(API_PREFIX + "/"):
        return _match(wanted, segments[1:], _segments_match)
    return False


def is_control(path: str) -> bool:
    """A sandbox control route: never faulted, never journaled, never rate-limited."""
    return any(path == p or path.startswith(p + "/") for p in CONTROL_PREFIXES)


def _segments(path: str) -> list[str]:
    return [part for part in path.strip("/").split("/") if part] if path.strip("/") else []


def _segments_match(pattern: str, segment: str) -> bool:
    if pattern.startswith("{") and pattern.endswith("}"):
        return bool(segment)
    return _match(pattern, segment, lambda p, c: p == "?" or p == c, star="*")


def _match(
    pattern: Sequence[str],
    items: Sequence[str],
    same: Callable[[str, str], bool],
    star: str = ANY_SEGMENTS,
) -> bool:
    """Two-pointer wildcard matching of `items` against `pattern`, whose `star` elements
    stand for any run of items; `same(p, i)` compares one pattern element with one item."""
    p = i = 0
    star_at, resume = -1, 0
    while i < len(items):
        if p < len(pattern) and pattern[p] != star and same(pattern[p], items[i]):
            p += 1
            i += 1
        elif p < len(pattern) and pattern[p] == star:
            star_at, resume = p, i
            p += 1
        elif star_at >= 0:
            p = star_at + 1
            resume += 1
            i = resume
        else:
            return False
    while p < len(pattern) and pattern[p] == star:
        p += 1
    return p == len(pattern)
