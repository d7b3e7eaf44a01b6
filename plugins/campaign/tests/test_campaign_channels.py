"""The delivery adapters: SMTP against a real server, a spool file, a loopback webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from crmkit_campaign.channels import (
    ChannelUnavailable,
    FileChannel,
    SmtpChannel,
    WebhookChannel,
    adapter_for,
    adapters_from_settings,
)
from crmkit_campaign.settings import SmtpSettings

import crmkit
from crmkit.crm import CRM
from crmkit.errors import DeliveryError, ValidationError
from crmkit.testing.crm_factory import CrmFactory

if TYPE_CHECKING:
    from conftest import SmtpServer

BASE_SETTINGS = {"sender": "news@shop.example", "unsubscribe_url": "https://shop.example/u"}


def _message(**changes: Any) -> crmkit.OutboundMessage:
    values: dict[str, Any] = {
        "message_id": "<0001@crmkit>",
        "contact_id": "c-1",
        "to": "ada@example.com",
        "subject": "Spring news",
        "body": "Hello Ada,\n.a line that starts with a dot\nBye",
        "channel": "email",
        "headers": {"List-Unsubscribe": "<https://shop.example/unsubscribe?token=u1.abc>"},
    }
    values.update(changes)
    return crmkit.OutboundMessage(**values)


def _text(message: EmailMessage) -> str:
    """The message's text as a mail program shows it (line ends as ``\\n``)."""
    content: str = message.get_content()
    return content.replace("\r\n", "\n")


def _smtp(server: SmtpServer, sender: str | None = "news@shop.example") -> SmtpChannel:
    return SmtpChannel(SmtpSettings(host=server.host, port=server.port, timeout=5), sender)


# -- SMTP ---------------------------------------------------------------------------------


def test_smtp_hands_the_message_over_with_its_id_and_unsubscribe_header(
    smtp_server: SmtpServer,
) -> None:
    provider_id = _smtp(smtp_server).send(_message())

    [mail] = smtp_server.received
    assert mail.mail_from == "news@shop.example"
    assert mail.rcpt_tos == ["ada@example.com"]
    message = mail.message
    assert message["Message-ID"] == "<0001@crmkit>"
    assert message["List-Unsubscribe"] == "<https://shop.example/unsubscribe?token=u1.abc>"
    assert message["Subject"] == "Spring news"
    assert _text(message) == "Hello Ada,\n.a line that starts with a dot\nBye\n"
    assert provider_id  # the server's answer, for its logs


def test_smtp_writes_non_ascii_text_and_takes_the_campaign_sender(
    smtp_server: SmtpServer,
) -> None:
    long_link = "<https://shop.example/unsubscribe?token=u1." + "x" * 200 + ">"
    message = _message(
        subject="Grüße aus Köln",
        body="Liebe Jürgen, ça va?",
        headers={"From": "Shop <offers@shop.example>", "List-Unsubscribe": long_link},
    )
    _smtp(smtp_server).send(message)

    [mail] = smtp_server.received
    assert mail.mail_from == "offers@shop.example"
    assert mail.message["Subject"] == "Grüße aus Köln"
    assert _text(mail.message).strip() == "Liebe Jürgen, ça va?"
    assert mail.message["List-Unsubscribe"] == long_link


def test_smtp_5xx_is_a_permanent_failure_and_4xx_a_temporary_one(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.refuse("550 5.1.1 no such user")
    with pytest.raises(DeliveryError) as refused:
        _smtp(smtp_server).send(_message())
    assert refused.value.permanent
    assert "550" in str(refused.value)

    smtp_server.refuse("451 4.3.0 try again later")
    with pytest.raises(DeliveryError) as busy:
        _smtp(smtp_server).send(_message())
    assert not busy.value.permanent
    assert "451" in str(busy.value)
    assert smtp_server.received == []


def test_smtp_server_that_cannot_be_reached_makes_the_channel_unavailable() -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = SmtpChannel(SmtpSettings(host="127.0.0.1", port=port, timeout=2), "n@shop.example")
    with pytest.raises(ChannelUnavailable) as down:
        channel.send(_message())
    assert not down.value.permanent
    assert f"127.0.0.1:{port}" in str(down.value)


def test_smtp_asks_for_the_message_when_the_server_is_ready_and_abandons_it_if_refused(
    smtp_server: SmtpServer,
) -> None:
    asked: list[int] = []

    def no() -> bool:
        asked.append(len(smtp_server.received))
        return False

    assert _smtp(smtp_server).send_claimed(_message(), no) is None
    assert asked == [0]
    assert smtp_server.received == []

    assert _smtp(smtp_server).send_claimed(_message(), lambda: True) is not None
    assert len(smtp_server.received) == 1


def test_smtp_without_any_sender_refuses_the_message(smtp_server: SmtpServer) -> None:
    with pytest.raises(DeliveryError) as missing:
        _smtp(smtp_server, sender=None).send(_message())
    assert missing.value.permanent
    assert "sender" in str(missing.value)


# -- a spool file -------------------------------------------------------------------------


def test_file_adapter_appends_one_json_line_per_message(tmp_path: Path) -> None:
    path = tmp_path / "outbox" / "sms.jsonl"
    channel = FileChannel("sms-file", "sms", path)
    first = _message(message_id="<1@crmkit>", to="+14155552671", subject=None, channel="sms")
    second = _message(message_id="<2@crmkit>", to="+14155552672", subject=None, channel="sms")

    assert channel.send(first) == "<1@crmkit>"
    assert channel.send(second) == "<2@crmkit>"

    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(m["message_id"], m["to"], m["channel"]) for m in lines] == [
        ("<1@crmkit>", "+14155552671", "sms"),
        ("<2@crmkit>", "+14155552672", "sms"),
    ]
    assert lines[0]["body"] == first.body
    assert lines[0]["headers"]["List-Unsubscribe"].startswith("<https://shop.example/")


def test_file_adapter_that_cannot_open_its_file_fails_temporarily(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    channel = FileChannel("sms-file", "sms", blocker / "sms.jsonl")
    with pytest.raises(DeliveryError) as failed:
        channel.send(_message(channel="sms"))
    assert not failed.value.permanent
    assert "sms-file" in str(failed.value)


# -- a webhook ----------------------------------------------------------------------------


@attrs.define
class Webhook:
    """A loopback HTTP server that answers POSTs with the next status it is given."""

    url: str
    requests: list[tuple[dict[str, str], dict[str, Any]]] = attrs.field(factory=list)
    answers: list[tuple[int, bytes]] = attrs.field(factory=list)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            body = json.loads(self.rfile.read(length))
            hook.requests.append((dict(self.headers), body))
            status, reply = hook.answers.pop(0) if hook.answers else (200, b'{"id": "wh-1"}')
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/send"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_webhook_posts_the_message_as_json_and_takes_2xx_as_sent(webhook: Webhook) -> None:
    channel = WebhookChannel("hooks", "social", webhook.url)
    provider_id = channel.send(_message(channel="social", to="@ada"))

    assert provider_id == "wh-1"
    [(headers, body)] = webhook.requests
    assert headers["Idempotency-Key"] == "<0001@crmkit>"
    assert headers["Content-Type"].startswith("application/json")
    assert body["to"] == "@ada" and body["channel"] == "social"
    assert body["message_id"] == "<0001@crmkit>"

    webhook.answers.append((202, b"accepted"))
    assert channel.send(_message(message_id="<0002@crmkit>")) == "<0002@crmkit>"


def test_webhook_4xx_is_permanent_5xx_and_429_temporary(webhook: Webhook) -> None:
    channel = WebhookChannel("hooks", "social", webhook.url)
    webhook.answers.extend([(400, b"bad"), (503, b"down"), (429, b"slow down")])
    outcomes = []
    for _ in range(3):
        with pytest.raises(DeliveryError) as failed:
            channel.send(_message())
        outcomes.append(failed.value.permanent)
    assert outcomes == [True, False, False]


def test_webhook_that_nothing_listens_on_makes_the_channel_unavailable() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = WebhookChannel("hooks", "social", f"http://127.0.0.1:{port}/send", timeout=2)
    with pytest.raises(ChannelUnavailable):
        channel.send(_message())


# -- which adapter a channel uses -----------------------------------------------------------


def _crm(crm_factory: CrmFactory, tmp_path: Path, adapters: dict[str, Any]) -> CRM:
    settings = {**BASE_SETTINGS, "adapters": adapters}
    return crm_factory(["campaign"], url="sqlite", plugin_settings={"campaign": settings})


def test_adapters_come_from_the_settings_with_smtp_always_there(
    crm_factory: CrmFactory, tmp_path: Path
) -> None:
    crm = _crm(
        crm_factory,
        tmp_path,
        {
            "sms-file": {"kind": "file", "channel": "sms", "path": str(tmp_path / "sms.jsonl")},
            "hooks": {"kind": "webhook", "channel": "social", "url": "http://127.0.0.1:9/send"},
        },
    )
    built = {a.name: (type(a).__name__, a.channel) for a in adapters_from_settings(crm)}
    assert built == {
        "smtp": ("SmtpChannel", "email"),
        "sms-file": ("FileChannel", "sms"),
        "hooks": ("WebhookChannel", "social"),
    }
    assert set(crm.outbound_channels()) == {"smtp", "sms-file", "hooks"}
    assert adapter_for(crm, "email").name == "smtp"
    assert adapter_for(crm, "sms").name == "sms-file"


def test_a_configured_adapter_is_preferred_over_smtp_for_its_channel(
    crm_factory: CrmFactory, tmp_path: Path
) -> None:
    crm = _crm(
        crm_factory,
        tmp_path,
        {"mail-file": {"kind": "file", "channel": "email", "path": str(tmp_path / "mail.jsonl")}},
    )
    assert adapter_for(crm, "email").name == "mail-file"


def test_a_channel_without_an_adapter_is_refused_naming_the_settings_to_add(
    crm_factory: CrmFactory, tmp_path: Path
) -> None:
    crm = _crm(crm_factory, tmp_path, {})
    with pytest.raises(ValidationError) as missing:
        adapter_for(crm, "post")
    assert missing.value.field == "channel"
    assert "'post'" in str(missing.value)
    assert "[plugins.campaign.adapters." in str(missing.value)
