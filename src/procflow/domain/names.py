"""Names that must be unique in an organization ignoring case: how two are compared.

Tag titles and group names are compared by their Unicode case folding ("Straße" and
"STRASSE" are one name), the same on SQLite and PostgreSQL: the folded form is computed
here and stored beside the name, and a unique index on it lets the database refuse a
duplicate that two concurrent requests would otherwise both create.
"""

FOLD_GROWTH = 3
"""Case folding turns one character into at most three ("ΐ" becomes three)."""


def fold(name: str) -> str:
    """The form under which two names are the same name."""
    return name.casefold()
