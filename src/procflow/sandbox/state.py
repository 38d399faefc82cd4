"""What a running sandbox knows about itself: the people made at start and the snapshots."""

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class People:
    """The organization and its people made at start: what `procflow sandbox` prints."""

    org_id: str
    admin_id: int
    admin_token: str
    member_id: int
    member_token: str
    light_id: int
    light_token: str
    guest_token: str

    def announcement(self, base_url: str) -> dict[str, Any]:
        """The JSON line printed once the sandbox listens (its keys are a contract)."""
        fields = asdict(self)
        return {
            "base_url": base_url,
            "org_id": fields["org_id"],
            "admin_token": fields["admin_token"],
            "member_token": fields["member_token"],
            "light_token": fields["light_token"],
            "guest_token": fields["guest_token"],
            "admin_id": fields["admin_id"],
            "member_id": fields["member_id"],
            "light_id": fields["light_id"],
        }


@dataclass
class SandboxState:
    """Kept on `app.state.sandbox`. `baseline` is the snapshot that reset restores (taken
    after start, and again after each seed); `snapshots` are the ones taken by name."""

    people: People
    snapshots: dict[str, Any] = field(default_factory=dict)
    baseline: Any = None
    tallyfy_limits: bool = False  # `--tallyfy-limits`: Tallyfy's rate limits and quirks
    seed_tokens: dict[str, str] = field(default_factory=dict)  # the `--seed` members'

    def announcement(self, base_url: str) -> dict[str, Any]:
        """The people's line, and `tokens` (by email) of the members `--seed` added."""
        line = self.people.announcement(base_url)
        return (line | {"tokens": self.seed_tokens}) if self.seed_tokens else line
