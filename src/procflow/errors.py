"""Domain errors: what went wrong, in the terms of the domain, never of HTTP.

    ProcflowError
    ├── Unauthenticated      no valid credentials were presented
    ├── PermissionDenied     the caller may not do this here
    ├── NotFound             no such object (or not visible from this organization)
    ├── ValidationFailed     input breaks a rule; carries {field path: [messages]}
    ├── Conflict             the same request is already being carried out
    ├── PreconditionFailed   the object changed since the caller last read it
    ├── PreconditionRequired the caller must say which version it read (If-Match)
    └── Unavailable          the database is busy or gone; nothing was applied

The API edge maps each class to one status and body (procflow.api.errors); the CLI maps
them to exit codes.
"""


class ProcflowError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(ProcflowError):
    def __init__(self) -> None:
        super().__init__("Unauthenticated.")


class PermissionDenied(ProcflowError):
    # True when the code that refused writes the refusal down itself; the transaction
    # boundary then records nothing more.
    recorded_elsewhere = False

    def __init__(self, message: str = "You don't have permission to do this.") -> None:
        super().__init__(message)


class NotFound(ProcflowError):
    def __init__(self, what: str = "Resource") -> None:
        super().__init__(f"{what} not found")
        self.what = what


class ValidationFailed(ProcflowError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("The given data was invalid.")
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str) -> "ValidationFailed":
        return cls({field: [message]})


class Conflict(ProcflowError):
    def __init__(self, message: str = "An identical request is still being processed.") -> None:
        super().__init__(message)


class PreconditionFailed(ProcflowError):
    def __init__(
        self, message: str = "The resource has changed since it was read (If-Match)."
    ) -> None:
        super().__init__(message)


class PreconditionRequired(ProcflowError):
    def __init__(
        self, message: str = "This server requires If-Match on writes to this resource."
    ) -> None:
        super().__init__(message)


class Unavailable(ProcflowError):
    def __init__(self, message: str = "The database is busy; try again shortly.") -> None:
        super().__init__(message)
