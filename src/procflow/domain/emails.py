"""E-mail addresses as procflow accepts them, checked in one pass over at most 254 characters.

The rule is the one the API has always stated (`local@domain.tld`: one `@`, no whitespace, a
dot inside the domain), but without a regular expression: a backtracking pattern such as
`[^@\\s]+@[^@\\s]+\\.[^@\\s]+` takes quadratic time on `"a@" + "." * 40000 + "@"`, and the
server validates on its event loop. The length cap comes first, so the work per value is
bounded whatever a client sends.
"""

EMAIL_MAX = 254


def is_email(value: object) -> bool:
    """`local@domain.tld` with no whitespace and exactly one `@`, at most 254 characters."""
    if not isinstance(value, str) or not 3 <= len(value) <= EMAIL_MAX:
        return False
    local, at, domain = value.partition("@")
    if not at or not local or "@" in domain or "." not in domain[1:-1]:
        return False
    return not any(char.isspace() for char in value)
