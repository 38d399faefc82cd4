"""Fixtures of the e-mail tests: a database of their own (a mail worker reads every
event in it), a real SMTP server on this machine (aiosmtpd), a mail worker driven one
step at a time, and procflow's shared clock, moved forward by the tests and put back."""

import asyncio
import email
import logging
from collections.abc import Callable, Iterator
from email.message import Message
from uuid import uuid4

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from procflow.api.app import create_app
from procflow.domain.timeutil import CLOCK
from procflow.services import mailer
from procflow.services.smtp_sender import MailSender, SmtpSender
from procflow.services.unit_of_work import UnitOfWork
from procflow.settings import Settings
from procflow.storage.database import SessionFactory, make_engine, make_session_factory
from procflow.storage.migrate import upgrade
from procflow.storage.models import ScheduleSlot
from tests.factories import World
from tests.stress.harness import database_kind, free_port, fresh_database

# aiosmtpd logs every connection from its own thread, which can outlive the capture of the
# test that started the server: its chatter would land on a closed stream.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@pytest.fixture(scope="package")
def mail_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with fresh_database(database_kind(), tmp_path_factory.mktemp("mail")) as url:
        yield Settings(database_url=url, auth_cache_seconds=0)


@pytest.fixture(scope="package")
def mail_engine(mail_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(mail_settings)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="package")
def mail_client(mail_settings: Settings, mail_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(mail_settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def mail_factory(mail_engine: Engine) -> SessionFactory:
    return make_session_factory(mail_engine)


@pytest.fixture
def clock(mail_factory: SessionFactory) -> Iterator[object]:
    """procflow's clock, as tests leave it: at real time, and the reminder schedule due."""
    CLOCK.reset()
    with UnitOfWork(mail_factory, write=True) as uow:
        uow.session.execute(update(ScheduleSlot).values(due_at=CLOCK.now()))
    yield CLOCK
    CLOCK.reset()


@pytest.fixture
def world(mail_factory: SessionFactory, mail_client: TestClient, clock: object) -> World:
    return World.create(mail_factory, mail_client)


class Inbox:
    """What the SMTP server accepted, as parsed messages."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.busy_once: set[str] = set()  # addresses answered 451 the first time

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("refused-"):
            return "550 No such mailbox"
        if address.startswith("busy-") and address not in self.busy_once:
            self.busy_once.add(address)
            return "451 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        self.messages.append(email.message_from_bytes(raw))
        return "250 Message accepted"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    def subjects(self, address: str) -> list[str]:
        return [str(m["Subject"]) for m in self.to(address)]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, str]]:
    """A real SMTP server on a free loopback port; its URL for `PROCFLOW_SMTP_URL`."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, loop=asyncio.new_event_loop())
    controller.start()  # returns once the server answers
    yield inbox, f"smtp://127.0.0.1:{port}"
    controller.stop()


MakeMailer = Callable[..., mailer.Mailer]


@pytest.fixture
def make_mailer(mail_factory: SessionFactory, clock: object) -> MakeMailer:
    def make(sender: MailSender) -> mailer.Mailer:
        config = mailer.MailerConfig(worker_id=f"test-{uuid4().hex[:8]}", base_url="http://pf.test")
        return mailer.Mailer(mail_factory, config, sender, draw=lambda: 0.5)

    return make


@pytest.fixture
def mail_worker(smtp: tuple[Inbox, str], make_mailer: MakeMailer) -> mailer.Mailer:
    return make_mailer(SmtpSender(smtp[1], "procflow@pf.test", timeout=10))


def drain(worker: mailer.Mailer, limit: int = 50) -> None:
    """Step until a step finds nothing to do."""
    for _ in range(limit):
        if not worker.step():
            return
    raise AssertionError("the mail worker never ran out of work")
