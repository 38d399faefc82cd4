"""Every table, re-exported so that Alembic and the services see one namespace."""

from procflow.storage.models.activity import Activity, Comment
from procflow.storage.models.asset import Asset
from procflow.storage.models.automation import AutomatedAction, RunAutomation
from procflow.storage.models.base import Base
from procflow.storage.models.catalog import Checklist, FormField, Step
from procflow.storage.models.email import EmailMessage, EmailOptOut, ScheduleSlot, TaskReminder
from procflow.storage.models.events import (
    Event,
    Watcher,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSecret,
)
from procflow.storage.models.idempotency import IdempotencyKey
from procflow.storage.models.organization import AccessToken, Membership, Organization, User
from procflow.storage.models.people import Group, GroupMember, Guest, GuestToken, RunGroup
from procflow.storage.models.run import Run, RunField, RunMember, Task, TaskOwner
from procflow.storage.models.taxonomy import Folder, FolderLink, Tag, TagLink

__all__ = [
    "AccessToken",
    "Activity",
    "Asset",
    "AutomatedAction",
    "Base",
    "Checklist",
    "Comment",
    "EmailMessage",
    "EmailOptOut",
    "Event",
    "Folder",
    "FolderLink",
    "FormField",
    "Group",
    "GroupMember",
    "Guest",
    "GuestToken",
    "IdempotencyKey",
    "Membership",
    "Organization",
    "Run",
    "RunAutomation",
    "RunField",
    "RunGroup",
    "RunMember",
    "ScheduleSlot",
    "Step",
    "Tag",
    "TagLink",
    "Task",
    "TaskOwner",
    "TaskReminder",
    "User",
    "Watcher",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSecret",
]
