"""Whether a webhook URL may be saved: absolute http(s), and (unless an administrator
allows private addresses) not plainly aimed at this server or its private network.

What a URL's name resolves to is checked again at send time (`services.webhook_sender`),
where it counts; here only what needs no DNS lookup is refused, so saving stays fast and
independent of the resolver.
"""

from urllib.parse import urlsplit

from procflow.domain.webhooks import refused_url

Errors = dict[str, list[str]]


def url_error(value: str | None, name: str, allow_private: bool = True) -> Errors:
    """Webhooks are called by the server, so only absolute http(s) URLs make sense."""
    if not value:
        return {}
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 bracket: "http://["
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        return {name: [f"The {name} must be a valid http(s) URL."]}
    if not allow_private and refused_url(value):
        return {
            name: [
                f"The {name} must point at a public address, not a loopback, link-local or "
                "private one."
            ]
        }
    return {}
