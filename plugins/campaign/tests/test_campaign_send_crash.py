"""A sender that dies mid-campaign: the next run sends to no one twice and skips no one."""

from __future__ import annotations

import asyncio
import email
import email.policy
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from crmkit_campaign import Marketing
from crmkit_campaign.channels import SmtpChannel
from crmkit_campaign.sending import resend, send_due
from crmkit_campaign.settings import SmtpSettings

import crmkit
from crmkit.crm import CRM
from crmkit.storage import Query
from crmkit.testing.crm_factory import CrmFactory

if TYPE_CHECKING:
    from conftest import CampaignProject, SmtpServer

BASE = {"sender": "news@shop.example", "unsubscribe_url": "https://shop.example/unsubscribe"}
PEOPLE = ["ada", "bob", "cy", "dee", "eve"]
WAIT = 60  # seconds at most to wait for the sender to reach the blocked message


@attrs.define
class Hangs:
    """Completes every message but the ``hang_at``-th, whose DATA it never answers."""

    hang_at: int
    completed: list[str] = attrs.field(factory=list)
    data_commands: int = 0
    reached: threading.Event = attrs.field(factory=threading.Event)
    release: threading.Event = attrs.field(factory=threading.Event)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        message = email.message_from_bytes(bytes(raw), policy=email.policy.default)
        self.completed.append(str(message["To"]))
        return "250 OK"


class HangingSMTP(SMTP):
    async def smtp_DATA(self, arg: str) -> None:
        handler: Hangs = self.event_handler
        handler.data_commands += 1
        if handler.data_commands == handler.hang_at:
            handler.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, handler.release.wait)
            return
        await super().smtp_DATA(arg)


class HangingController(Controller):
    def factory(self) -> SMTP:
        return HangingSMTP(self.handler, **self.SMTP_kwargs)


@pytest.fixture
def hanging_server() -> Iterator[tuple[Hangs, int]]:
    handler = Hangs(hang_at=3)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = HangingController(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, controller.port
    finally:
        handler.release.set()
        controller.stop()


def _prepare(crm: CRM) -> None:
    for name in PEOPLE:
        person = crm.contacts.add(first_name=name.capitalize(), email=f"{name}@example.com",
                                  tags=["news"])
        crm.privacy.consent.grant(person.id, purpose="marketing", channel="email",
                                  evidence="newsletter form v2")
    marketing = Marketing(crm)
    marketing.segments.create("News", {"field": "tags", "op": "has", "value": "news"})
    marketing.campaigns.create("Spring", segment="News")
    marketing.campaigns.add_step("Spring", subject="Hi {first_name}", body="Spring is here.")
    marketing.campaigns.start("Spring")


def _statuses(crm: CRM) -> list[str]:
    with crm.backend.read() as reader:
        rows = reader.query(crm.entity_type("campaign.delivery"), Query())
    return sorted(row["status"] for row in rows)


SENDER_SCRIPT = """
import crmkit
from crmkit_campaign.sending import send_due
with crmkit.open(".") as crm:
    send_due(crm, "Spring")
"""


def test_a_sender_killed_mid_data_leaves_nothing_duplicated_and_no_one_skipped(
    campaign_project: CampaignProject, hanging_server: tuple[Hangs, int]
) -> None:
    handler, port = hanging_server
    campaign_project.set_settings({**BASE, "smtp": {"host": "127.0.0.1", "port": port}})
    with crmkit.open(campaign_project.path) as crm:
        _prepare(crm)

    sender = subprocess.Popen(
        [sys.executable, "-c", SENDER_SCRIPT], cwd=campaign_project.path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        if not handler.reached.wait(WAIT):
            sender.kill()
            pytest.fail(f"the sender never reached message 3: {sender.communicate()}")
        sender.send_signal(signal.SIGKILL)
        sender.wait(WAIT)
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait()
    handler.release.set()
    assert len(handler.completed) == 2

    with crmkit.open(campaign_project.path) as crm:
        report = send_due(crm, "Spring")
        statuses = _statuses(crm)

    assert report.in_doubt == 0 and report.sent == 3
    assert sorted(handler.completed) == sorted(f"{name}@example.com" for name in PEOPLE)
    assert statuses == ["sent"] * len(PEOPLE)


@attrs.define
class DiesAfterHandover:
    """An SMTP adapter whose process "dies" right after the server took the ``fatal``-th message."""

    inner: SmtpChannel
    fatal: int
    name: str = "dying-smtp"
    channel: str = "email"
    sent: int = 0

    def send(self, message: crmkit.OutboundMessage) -> str:
        provider_id = self.inner.send(message)
        self.sent += 1
        if self.sent == self.fatal:
            raise SystemExit(9)
        return provider_id


@attrs.define
class DyingPlugin:
    adapter: DiesAfterHandover

    def crmkit_outbound_channels(self, crm: CRM) -> list[Any]:
        return [self.adapter]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_a_sender_dying_after_the_handover_leaves_that_message_in_doubt_never_resent(
    database: str, crm_factory: CrmFactory, smtp_server: SmtpServer, campaign_settings: Any
) -> None:
    adapter = DiesAfterHandover(
        SmtpChannel(SmtpSettings(host=smtp_server.host, port=smtp_server.port), None), fatal=2
    )
    crm = crm_factory(
        ["campaign"], url=database, plugin_settings={"campaign": campaign_settings},
        extra_plugins=[("dying", DyingPlugin(adapter))],
    )
    _prepare(crm)

    with pytest.raises(SystemExit):
        send_due(crm, "Spring")
    assert _statuses(crm).count("sending") == 1
    adapter.fatal = 0  # the next process lives

    report = send_due(crm, "Spring")

    assert report.in_doubt == 1 and report.sent == 3
    received = sorted(r for mail in smtp_server.received for r in mail.rcpt_tos)
    assert received == sorted(f"{name}@example.com" for name in PEOPLE)  # each exactly once
    assert _statuses(crm) == ["in_doubt"] + ["sent"] * 4
    assert send_due(crm, "Spring").sent == 0

    with crm.backend.read() as reader:
        rows = reader.query(crm.entity_type("campaign.delivery"), Query())
    [doubtful] = [row for row in rows if row["status"] == "in_doubt"]
    again = resend(crm, doubtful["id"])
    assert again.status == "sent"
    copies = [m for m in smtp_server.received if m.rcpt_tos == [doubtful["address"]]]
    assert len(copies) == 2
    assert {m.message["Message-ID"] for m in copies} == {doubtful["message_id"]}
