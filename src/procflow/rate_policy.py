"""What the `rate_limit` and `rate_limit_storage` settings mean.

Parsed when the settings are read, so a typo stops the server at start-up with a message
that says what is wrong instead of silently leaving an API unprotected.

    rate_limit := "off" | entry (";" entry)*
    entry      := "tallyfy" | scope "=" rate ("," rate)*
    rate       := a `limits` rate string: "600/minute", "120 per hour", "10/5 seconds"

A scope may be named more than once (its windows stack: "token=10/second;token=600/minute").
An explicit entry replaces what "tallyfy" gave the same scope, in either order.
"""

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from limits import RateLimitItem, parse_many


class Budget(StrEnum):
    TOKEN = "token"  # each bearer token, member's or guest's
    IP = "ip"  # each client address, for requests that carry no bearer token
    ORG = "org"  # each organization in the path, all of its callers together
    COMMENTS = "comments"  # comments and problem reports posted in one organization
    GUEST_INVITES = "guest_invites"  # guests added to one organization
    AUTH_FAILURES = "auth_failures"  # 401 answers given to one client address


# Tallyfy's published limits: 600 requests a minute per user, per address without a token
# (rolling window); per organization 120 comments and 30 guest invites an hour. The
# failed-authentication budget is ours (OWASP API2).
TALLYFY_PRESET = (
    "token=600/minute;ip=600/minute;comments=120/hour;guest_invites=30/hour;auth_failures=20/minute"
)

STORAGE_SCHEMES = frozenset(
    {"memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster"}
)


@dataclass(frozen=True)
class RatePolicy:
    budgets: dict[Budget, tuple[RateLimitItem, ...]]

    def rates(self, scope: Budget) -> tuple[RateLimitItem, ...]:
        return self.budgets.get(scope, ())

    @property
    def enabled(self) -> bool:
        return bool(self.budgets)


def parse_policy(spec: str) -> RatePolicy:
    """The budgets a `rate_limit` value asks for; ValueError says what is wrong."""
    text = spec.strip()
    if text.lower() == "off":
        return RatePolicy({})
    preset: dict[Budget, list[RateLimitItem]] = {}
    explicit: dict[Budget, list[RateLimitItem]] = {}
    for raw in text.split(";"):
        entry = raw.strip()
        if not entry:
            continue
        if entry.lower() == "tallyfy":
            for scope, rates in parse_policy(TALLYFY_PRESET).budgets.items():
                preset[scope] = list(rates)
            continue
        name, equals, value = entry.partition("=")
        if not equals:
            raise ValueError(
                f"rate_limit entry {entry!r} is not 'off', 'tallyfy' or scope=rate "
                f"(for example 'token=600/minute')"
            )
        explicit.setdefault(_scope(name), []).extend(_rates(entry, value))
    budgets = {**preset, **explicit}
    if not budgets:
        raise ValueError("rate_limit is empty: use 'off', 'tallyfy' or scope=rate entries")
    return RatePolicy({scope: tuple(rates) for scope, rates in budgets.items()})


def storage_uri(setting: str) -> str:
    """The `limits` storage URI for `rate_limit_storage`: memory stays in-process and
    synchronous (no I/O to wait for); Redis is used through its asyncio client."""
    scheme = urlsplit(setting.strip()).scheme.lower().removeprefix("async+")
    if scheme not in STORAGE_SCHEMES:
        known = ", ".join(f"{s}://" for s in sorted(STORAGE_SCHEMES))
        raise ValueError(f"rate_limit_storage {setting!r} is not one of {known}")
    if scheme == "memory":
        return "memory://"
    return "async+" + setting.strip().removeprefix("async+")


def _scope(name: str) -> Budget:
    try:
        return Budget(name.strip().lower())
    except ValueError:
        known = ", ".join(s.value for s in Budget)
        raise ValueError(f"rate_limit scope {name.strip()!r} is not one of: {known}") from None


def _rates(entry: str, value: str) -> list[RateLimitItem]:
    try:
        rates = parse_many(value.strip())
    except ValueError:
        raise ValueError(
            f"rate_limit entry {entry!r}: {value.strip()!r} is not a rate such as "
            f"'600/minute', '120 per hour' or '10/5 seconds'"
        ) from None
    if not rates or any(rate.amount < 1 for rate in rates):
        raise ValueError(f"rate_limit entry {entry!r}: a rate must allow at least 1 request")
    return rates
