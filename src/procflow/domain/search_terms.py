"""A search text as terms a full-text engine can match, whatever the caller typed.

Only runs of letters and digits are kept (no operator, quote or column name of FTS5 or
`tsquery` syntax survives), each term matches as a prefix, and all terms must match, so
"onboard acme" finds "Onboarding for ACME Ltd". The number and length of terms are
capped so that no query, however hostile, costs more than a handful of index lookups.
"""

import re

MAX_TEXT = 500
MAX_TERMS = 12
MAX_TERM_LENGTH = 64
_WORD = re.compile(r"[^\W_]+")


def terms_of(text: str | None) -> list[str]:
    """The distinct lower-cased terms of `text`, in order, capped."""
    seen: list[str] = []
    for word in _WORD.findall((text or "").lower()):
        term = word[:MAX_TERM_LENGTH]
        if term not in seen:
            seen.append(term)
        if len(seen) == MAX_TERMS:
            break
    return seen


def fts5_query(terms: list[str], scope: str) -> str:
    """An FTS5 MATCH expression: the `scope` token, and every term, quoted, as a prefix of
    a word of the title or body. `scope` is a kind and a hex id: letters and digits."""
    return " AND ".join([f'scope : "{scope}"', *(f'{{title body}} : "{term}"*' for term in terms)])


def fts5_words(terms: list[str], scope: str) -> str:
    """An FTS5 MATCH expression: every term, quoted, as a prefix of a word of the title or
    body, and not the hidden rows of `scope` (its token followed by `x`)."""
    words = " AND ".join(f'{{title body}} : "{term}"*' for term in terms)
    return f'({words}) NOT scope : "{scope}x"'


def tsquery(terms: list[str]) -> str:
    """A PostgreSQL `to_tsquery` text: every term as a prefix."""
    return " & ".join(f"{term}:*" for term in terms)
