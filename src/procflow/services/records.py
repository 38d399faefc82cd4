"""The stored records and bundles that use cases hand to the HTTP layer.

The HTTP layer reads these objects to present them; it never loads, queries or writes them
(that is the services' work). Naming them here keeps `procflow.api` off `procflow.storage`,
as the import contract in pyproject.toml requires.
"""

from procflow.storage.models import (
    AutomatedAction,
    Comment,
    Folder,
    FormField,
    Guest,
    Membership,
    Organization,
    RunField,
    Step,
    Task,
    TaskOwner,
    User,
)
from procflow.storage.repositories.checklists import TemplateBundle
from procflow.storage.repositories.idempotency import Lease
from procflow.storage.repositories.run_rows import FieldRow
from procflow.storage.repositories.runs import RunBundle

__all__ = [
    "AutomatedAction",
    "Comment",
    "FieldRow",
    "Folder",
    "FormField",
    "Guest",
    "Lease",
    "Membership",
    "Organization",
    "RunBundle",
    "RunField",
    "Step",
    "Task",
    "TaskOwner",
    "TemplateBundle",
    "User",
]
