"""The one place procflow speaks SMTP, through the standard library's `smtplib`.

`smtplib` is maintained with CPython, does SMTP, STARTTLS, implicit TLS and AUTH, and is
synchronous like the rest of the mail worker, which sends from a thread of its own: an
asyncio client would bring a dependency and an event loop for nothing. A batch shares one
connection. `PROCFLOW_SMTP_URL` unset gives `LogSender`, which writes each message to the
log instead.
"""

import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol
from urllib.parse import unquote, urlsplit

log = logging.getLogger("procflow.email")

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class Outgoing:
    message_id: int
    event_id: str
    to: str
    subject: str
    body: str
    secret: bool = False  # the body holds a credential (a guest invitation's token)


@dataclass(frozen=True)
class MailResult:
    sent: bool
    error: str | None = None
    permanent: bool = False  # a 5xx refusal: trying again would get the same answer
    lost: bool = False  # the connection is gone: the rest of the batch waits for a retry


class MailSender(Protocol):
    def send(self, batch: Sequence[Outgoing]) -> list[MailResult]: ...


@dataclass(frozen=True)
class SmtpUrl:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None


def parse_url(url: str) -> SmtpUrl:
    """`smtp://[user:pass@]host[:port]` (STARTTLS when the server offers it),
    `smtp+starttls://...` (STARTTLS required), `smtps://...` (TLS from the first byte)."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("PROCFLOW_SMTP_URL must look like smtp://host:port (or smtps://)")
    return SmtpUrl(
        parts.scheme,
        parts.hostname,
        parts.port or DEFAULT_PORTS[parts.scheme],
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


def compose(item: Outgoing, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = item.to
    message["Subject"] = item.subject
    message["Date"] = formatdate(usegmt=True)
    domain = sender.rpartition("@")[2] or "procflow"
    # The same on a retry, so a mail client can tell a repeat from a new message.
    message["Message-ID"] = f"<{item.event_id}.{item.message_id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Procflow-Event-Id"] = item.event_id
    message.set_content(item.body)
    return message


class SmtpSender:
    def __init__(self, url: str, sender: str, timeout: float) -> None:
        self.url = parse_url(url)
        self.sender = sender
        self.timeout = timeout

    def _connect(self) -> smtplib.SMTP:
        url, context = self.url, ssl.create_default_context()
        client: smtplib.SMTP
        if url.scheme == "smtps":
            client = smtplib.SMTP_SSL(url.host, url.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(url.host, url.port, timeout=self.timeout)
            client.ehlo()
            if url.scheme == "smtp+starttls" or client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
        if url.username:
            client.login(url.username, url.password or "")
        return client

    def send(self, batch: Sequence[Outgoing]) -> list[MailResult]:
        try:
            client = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            return [MailResult(False, f"connect: {error}")] * len(batch)
        results: list[MailResult] = []
        try:
            for item in batch:
                results.append(self._one(client, item))
                if results[-1].lost:
                    break
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
        gone = MailResult(False, "not tried: the connection was lost")
        return results + [gone] * (len(batch) - len(results))

    def _one(self, client: smtplib.SMTP, item: Outgoing) -> MailResult:
        try:
            client.send_message(compose(item, self.sender))
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            return MailResult(False, f"refused: {codes}", permanent=min(codes) >= 500)
        except smtplib.SMTPResponseException as error:
            text = f"{error.smtp_code} {error.smtp_error!r}"
            return MailResult(False, text, permanent=error.smtp_code >= 500)
        except (OSError, smtplib.SMTPException) as error:  # disconnected, timed out, ...
            return MailResult(False, f"connection lost: {error}", lost=True)
        return MailResult(True)


class LogSender:
    """No SMTP server configured: each message goes to the log, and counts as sent."""

    def __init__(self, sender: str) -> None:
        self.sender = sender

    def send(self, batch: Sequence[Outgoing]) -> list[MailResult]:
        for item in batch:
            body = "(withheld: it holds a guest token)" if item.secret else item.body
            log.info(
                "e-mail not sent (PROCFLOW_SMTP_URL is not set) to %s: %s\n%s",
                item.to,
                item.subject,
                body,
            )
        return [MailResult(True)] * len(batch)
