"""Domain errors: what went wrong, in the terms of the domain, never of HTTP.

    ProcflowError
    ├── Unauthenticated      no valid credentials were presented
    ├── PermissionDenied     the caller may not do this here
    ├── NotFound             no such object (or not visible from this organization)
    ├── ValidationFailed     input breaks a rule; carries {field path: [messages]}
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


class Unavailable(ProcflowError):
    def __init__(self, message: str = "The database is busy; try again shortly.") -> None:
        super().__init__(message)
