"""Shared fixtures of the crmkit-campaign tests, built on crmkit's testing kit.

``crm``
    A CRM with the campaign plugin, once on a SQLite file and once in a fresh
    PostgreSQL schema (skipped unless ``CRMKIT_TEST_POSTGRES_URL`` is set).
    Its ``[plugins.campaign]`` table is :data:`BASE_SETTINGS` (a sender and an
    unsubscribe page; SMTP left at its defaults, so nothing is listening).
``crm_with_sales``
    The same with crmkit-sales loaded too (``plugins=["sales", "campaign"]``).
``sqlite_crm``
    The campaign CRM on SQLite only, for tests about one database.
``smtp_server``
    A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port, stopped after
    the test. ``smtp_server.messages`` holds every message it accepted, parsed
    as :class:`email.message.EmailMessage`; ``smtp_server.refuse("451 busy")``
    makes it answer the next message's DATA with that reply instead.
``campaign_settings``
    A ``[plugins.campaign]`` table (a dict) that points the SMTP adapter at
    ``smtp_server``: pass it as ``plugin_settings={"campaign": campaign_settings}``.
``smtp_crm``
    Like ``crm`` (both databases), opened with ``campaign_settings``.
``campaign_project`` (also ``cli_project``)
    A project folder made with ``crmkit init DIR --plugin campaign`` and
    :data:`BASE_SETTINGS`; ``campaign_project.run("campaign", "list")`` runs
    the ``crmkit`` command in it, ``campaign_project.set_settings(table)``
    replaces its ``[plugins.campaign]`` table.

Time is crmkit's ``crmkit_clock`` fixture (frozen at 2026-01-01 12:00 UTC).
"""

from __future__ import annotations

import email
import email.policy
import socket
import tomllib
from collections.abc import Iterator, Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import attrs
import pytest
import tomli_w
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from crmkit.crm import CRM
from crmkit.project import CONFIG_FILE
from crmkit.testing.cli_runner import CliResult, CliRunner
from crmkit.testing.crm_factory import CrmFactory

PLUGINS = ["campaign"]
SENDER = "news@shop.example"
UNSUBSCRIBE_URL = "https://shop.example/unsubscribe"
BASE_SETTINGS: dict[str, Any] = {"sender": SENDER, "unsubscribe_url": UNSUBSCRIBE_URL}
"""What every campaign CRM of these tests is configured with, unless a test says otherwise."""


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str:
    """``"sqlite"``, then ``"postgresql"``: where the parametrised CRMs are opened."""
    kind: str = request.param
    return kind


@pytest.fixture
def crm(database: str, crm_factory: CrmFactory) -> CRM:
    """A CRM with the campaign plugin on SQLite, then on PostgreSQL."""
    return crm_factory(PLUGINS, url=database, plugin_settings={"campaign": BASE_SETTINGS})


@pytest.fixture
def crm_with_sales(database: str, crm_factory: CrmFactory) -> CRM:
    """A CRM with the sales and campaign plugins on SQLite, then on PostgreSQL."""
    return crm_factory(
        ["sales", *PLUGINS], url=database, plugin_settings={"campaign": BASE_SETTINGS}
    )


@pytest.fixture
def sqlite_crm(crm_factory: CrmFactory) -> CRM:
    """A CRM with the campaign plugin on a SQLite file."""
    return crm_factory(PLUGINS, url="sqlite", plugin_settings={"campaign": BASE_SETTINGS})


# -- A real SMTP server ----------------------------------------------------------------


@attrs.define
class ReceivedMail:
    """What the SMTP server was given for one message: the envelope and the message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@attrs.define
class CollectingHandler:
    """An aiosmtpd handler that keeps every message, or refuses the next ones when told."""

    received: list[ReceivedMail] = attrs.field(factory=list)
    refusals: list[str] = attrs.field(factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refusals:
            return self.refusals.pop(0)
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(
            ReceivedMail(str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], message)
        )
        return "250 OK"


@attrs.define
class SmtpServer:
    """A running SMTP server a test sends to and then reads from."""

    host: str
    port: int
    handler: CollectingHandler

    @property
    def received(self) -> list[ReceivedMail]:
        """Every accepted message with its envelope, in arrival order."""
        return list(self.handler.received)

    @property
    def messages(self) -> list[EmailMessage]:
        """Every accepted message, parsed with ``email.policy.default``, in arrival order."""
        return [mail.message for mail in self.handler.received]

    def refuse(self, reply: str, *, times: int = 1) -> None:
        """Answer the next ``times`` messages' DATA with ``reply`` (``"550 no such user"``)."""
        self.handler.refusals.extend([reply] * times)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """An aiosmtpd server on 127.0.0.1 and a free port, collecting messages; stopped after."""
    host = "127.0.0.1"
    handler = CollectingHandler()
    controller = Controller(handler, hostname=host, port=_free_port(host))
    controller.start()
    try:
        yield SmtpServer(host, controller.port, handler)
    finally:
        controller.stop()


@pytest.fixture
def campaign_settings(smtp_server: SmtpServer) -> dict[str, Any]:
    """A ``[plugins.campaign]`` table whose SMTP adapter sends to ``smtp_server``."""
    return {
        **BASE_SETTINGS,
        "smtp": {"host": smtp_server.host, "port": smtp_server.port, "timeout": 5},
    }


@pytest.fixture
def smtp_crm(database: str, crm_factory: CrmFactory, campaign_settings: dict[str, Any]) -> CRM:
    """A campaign CRM (SQLite, then PostgreSQL) whose SMTP adapter sends to ``smtp_server``."""
    return crm_factory(PLUGINS, url=database, plugin_settings={"campaign": campaign_settings})


# -- A project on the command line -----------------------------------------------------


@attrs.frozen
class CampaignProject:
    """A crmkit project with the campaign plugin enabled, and a way to run commands in it."""

    path: Path
    runner: CliRunner

    @property
    def config(self) -> Path:
        """The project's ``crmkit.toml``."""
        return self.path / CONFIG_FILE

    def run(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> CliResult:
        """Run ``crmkit ARGS...`` in this project, as a user would type it."""
        return self.runner(*args, input=input, env=env)

    def set_settings(self, table: Mapping[str, Any]) -> None:
        """Replace the project's ``[plugins.campaign]`` table with ``table``."""
        config = tomllib.loads(self.config.read_text(encoding="utf-8"))
        config.setdefault("plugins", {})["campaign"] = dict(table)
        self.config.write_text(tomli_w.dumps(config), encoding="utf-8")


@pytest.fixture
def campaign_project(tmp_path: Path) -> CampaignProject:
    """A project made with ``crmkit init DIR --plugin campaign``, with a sender set."""
    path = tmp_path / "crm"
    made = CliRunner(tmp_path)("init", str(path), "--plugin", "campaign")
    assert made.exit_code == 0, str(made)
    project = CampaignProject(path, CliRunner(path))
    project.set_settings(BASE_SETTINGS)
    return project


@pytest.fixture
def cli_project(campaign_project: CampaignProject) -> CampaignProject:
    """Another name for ``campaign_project``."""
    return campaign_project
