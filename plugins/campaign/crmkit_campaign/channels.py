"""Delivery adapters: how a campaign message leaves crmkit on a channel.

Three kinds ship with the plugin:

* :class:`SmtpChannel` (adapter ``smtp``, channel ``email``) hands email to an
  SMTP server with the standard library's ``smtplib``; it is always there.
* :class:`FileChannel` appends one JSON line per message to a file (for an SMS
  gateway or any system that picks messages up from a spool file).
* :class:`WebhookChannel` POSTs each message as JSON to a URL.

The extra ones are configured under ``[plugins.campaign.adapters.NAME]``;
:func:`adapters_from_settings` builds them all for the plugin's
``crmkit_outbound_channels`` hook, and :func:`adapter_for` picks the one a
campaign's channel uses.

Every adapter raises :class:`crmkit.errors.DeliveryError` when a message did
not go: ``permanent`` when trying again cannot help (the server refused the
address), otherwise it may be tried again later. Two refinements let the
sender keep its promise that a person never gets the same step twice:

* :class:`DeliveryInDoubt` says the message may or may not have arrived (the
  connection dropped after the message was handed over), so it must not be
  sent again without a person deciding to.
* :class:`ChannelUnavailable` says the channel itself is down or misconfigured
  (server unreachable, login refused), so the sender stops instead of failing
  every remaining recipient.

An adapter with a ``send_claimed`` method (:class:`ClaimingChannel`, such as
:class:`SmtpChannel`) prepares the transfer first and asks the sender for the
message (``claim()``) at the last moment before the other side can accept it:
for SMTP, after the server has said it is ready for the message's content. A
sender that dies before that moment has handed nothing over, so the message
is simply sent again by the next run.
"""

from __future__ import annotations

import json
import os
import re
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from crmkit.entities import utcnow
from crmkit.errors import DeliveryError, ValidationError
from crmkit_campaign.settings import SMTP_ADAPTER, campaign_settings

if TYPE_CHECKING:
    from crmkit import CRM, OutboundChannel, OutboundMessage
    from crmkit_campaign.settings import AdapterSettings, SmtpSettings

EMAIL = "email"
WEBHOOK_TIMEOUT = 10.0
"""Seconds a webhook adapter waits for an answer."""
MESSAGE_POLICY = SMTP.clone(cte_type="7bit")
"""CRLF line ends and 7-bit transfer encodings, so any SMTP server takes the message."""
WIRE_POLICY = MESSAGE_POLICY.clone(max_line_length=998)
"""How the message is written for sending: header lines up to SMTP's limit, so a long
``List-Unsubscribe`` link stays one ``<url>`` and is not turned into encoded words."""
_LEADING_DOT = re.compile(rb"(?m)^\.")
_PROTECTED_HEADERS = frozenset({"to", "subject", "message-id", "date", "mime-version"})


class DeliveryInDoubt(DeliveryError):
    """The message was handed over, then the answer was lost: it may have arrived.

    Never retried by itself; ``crmkit campaign reconcile --resend ID`` sends
    it again when a person decides to.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=False)


class ChannelUnavailable(DeliveryError):
    """The channel cannot take any message now (unreachable, login or TLS refused).

    Nothing was handed over; the sender stops the run, and the messages stay
    due for the next one.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=False)


@runtime_checkable
class ClaimingChannel(Protocol):
    """An adapter that asks for the message at the last moment before handing it over."""

    name: str
    channel: str

    def send(self, message: OutboundMessage) -> str: ...

    def send_claimed(self, message: OutboundMessage, claim: Callable[[], bool]) -> str | None:
        """Prepare the transfer, call ``claim()``, and hand the message over if it says so.

        Returns the provider's id of the message, or ``None`` when ``claim()``
        returned ``False`` (the transfer is abandoned and nothing is handed
        over). Raises :class:`DeliveryError` like :meth:`send`.
        """
        ...


def _always() -> bool:
    return True


# -- SMTP -------------------------------------------------------------------------------


class SmtpChannel:
    """Email through an SMTP server (``[plugins.campaign.smtp]``), one connection per message.

    The message's ``message_id`` becomes its ``Message-ID`` header, so bounces
    and replies that quote it lead back to the delivery; its ``headers``
    (``List-Unsubscribe``, and ``From`` when a campaign has its own sender)
    are added as they are. Replies of 5xx are permanent failures, 4xx replies
    and connection problems temporary ones.
    """

    def __init__(self, smtp: SmtpSettings, sender: str | None, *, name: str = SMTP_ADAPTER):
        self.name = name
        self.channel = EMAIL
        self.smtp = smtp
        self.sender = sender

    def __repr__(self) -> str:
        return f"SmtpChannel({self.name!r}, {self.smtp.host}:{self.smtp.port})"

    def send(self, message: OutboundMessage) -> str:
        """Hand ``message`` to the SMTP server; the server's answer is the provider id."""
        sent = self.send_claimed(message, _always)
        assert sent is not None  # claim() always agrees here
        return sent

    def send_claimed(self, message: OutboundMessage, claim: Callable[[], bool]) -> str | None:
        """Send ``message``, calling ``claim()`` once the server waits for its content."""
        mail = self.compose(message)
        sender = _bare_address(str(mail["From"]))
        content = _dot_stuffed(mail.as_bytes(policy=WIRE_POLICY))
        options = ["SMTPUTF8"] if not (sender + message.to).isascii() else []
        smtp = self._connect()
        try:
            if options and not smtp.has_extn("smtputf8"):
                raise DeliveryError(
                    f"{self._where()} cannot take non-ASCII addresses (no SMTPUTF8)",
                    permanent=True,
                )
            self._expect(smtp.mail(sender, options), "MAIL FROM", (250,))
            self._expect(smtp.rcpt(message.to), "RCPT TO", (250, 251))
            self._expect(smtp.docmd("DATA"), "DATA", (354,))
            if not claim():
                return None  # closing without the final dot abandons the transfer
            try:
                smtp.send(content)
                code, reply = smtp.getreply()
            except (OSError, smtplib.SMTPException) as exc:
                raise DeliveryInDoubt(
                    f"{self._where()} dropped the connection before confirming the message "
                    f"({_reason(exc)})"
                ) from None
            self._expect((code, reply), "end of data", (250,))
            return _text(reply) or message.message_id
        except DeliveryError:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"{self._where()}: {_reason(exc)}", permanent=False
            ) from None
        finally:
            smtp.close()

    def compose(self, message: OutboundMessage) -> EmailMessage:
        """The email for ``message``: From, To, Subject, Date, Message-ID, its headers, body."""
        mail = EmailMessage(policy=MESSAGE_POLICY)
        try:
            sender = message.headers.get("From") or self.sender
            if not sender:
                raise DeliveryError(
                    "no From address; set sender in [plugins.campaign] of crmkit.toml",
                    permanent=True,
                )
            mail["From"] = sender
            mail["To"] = message.to
            mail["Subject"] = message.subject or ""
            mail["Date"] = format_datetime(utcnow())
            mail["Message-ID"] = message.message_id
            for key, value in message.headers.items():
                if key.lower() == "from" or key.lower() in _PROTECTED_HEADERS:
                    continue
                mail[key] = value
            mail.set_content(message.body)
        except (ValueError, TypeError, IndexError) as exc:
            raise DeliveryError(
                f"message {message.message_id} cannot be written as an email: {exc}",
                permanent=True,
            ) from None
        return mail

    def _where(self) -> str:
        return f"SMTP server {self.smtp.host}:{self.smtp.port}"

    def _connect(self) -> smtplib.SMTP:
        """An open, greeted (and, as configured, encrypted and logged-in) connection."""
        smtp = smtplib.SMTP(timeout=self.smtp.timeout)
        try:
            smtp.connect(self.smtp.host, self.smtp.port)
            smtp.ehlo_or_helo_if_needed()
            if self.smtp.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.smtp.username:
                smtp.login(self.smtp.username, self.smtp.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            smtp.close()
            raise ChannelUnavailable(
                f"{self._where()} is not available: {_reason(exc)}; check [plugins.campaign.smtp] "
                "in crmkit.toml (and CRMKIT_SMTP_PASSWORD)"
            ) from None
        return smtp

    def _expect(self, answer: tuple[int, bytes], step: str, good: Sequence[int]) -> None:
        code, reply = answer
        if code in good:
            return
        text = f"{self._where()} answered {step} with {code} {_text(reply)}"
        raise DeliveryError(text, permanent=500 <= code < 600)


def _bare_address(header: str) -> str:
    """The address of a From header (``News <news@shop.example>`` → ``news@shop.example``)."""
    return parseaddr(header)[1] or header


def _dot_stuffed(content: bytes) -> bytes:
    """The message's content as SMTP's DATA wants it: leading dots doubled, ending ``.``."""
    stuffed = _LEADING_DOT.sub(b"..", content)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())[:200]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return str(exc) or type(exc).__name__


# -- a spool file ---------------------------------------------------------------------------


class FileChannel:
    """Appends each message as one JSON line to ``path`` and syncs it to disk.

    Whatever reads the file (an SMS gateway, a test) finds one object per line
    with ``message_id``, ``contact_id``, ``channel``, ``to``, ``subject``,
    ``body``, ``headers`` and ``at``. The provider id is the message id.
    """

    def __init__(self, name: str, channel: str, path: Path) -> None:
        self.name = name
        self.channel = channel
        self.path = path

    def __repr__(self) -> str:
        return f"FileChannel({self.name!r}, {self.channel!r}, {str(self.path)!r})"

    def send(self, message: OutboundMessage) -> str:
        line = json.dumps(_as_json(message), ensure_ascii=False) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise DeliveryError(
                f"adapter {self.name!r} cannot open {self.path}: {exc.strerror or exc}",
                permanent=False,
            ) from None
        with handle:
            try:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                raise DeliveryInDoubt(
                    f"adapter {self.name!r} failed while writing {self.path}: "
                    f"{exc.strerror or exc}"
                ) from None
        return message.message_id


def _as_json(message: OutboundMessage) -> dict[str, object]:
    return {
        "message_id": message.message_id,
        "contact_id": message.contact_id,
        "channel": message.channel,
        "to": message.to,
        "subject": message.subject,
        "body": message.body,
        "headers": dict(message.headers),
        "at": utcnow().isoformat(),
    }


# -- a webhook ------------------------------------------------------------------------------


class WebhookChannel:
    """POSTs each message as JSON to ``url``; any 2xx answer means it was taken.

    The request carries the message id in an ``Idempotency-Key`` header, so
    the receiver can recognise a message it already has. The provider id is
    the ``id`` of a JSON answer, else the message id. 408, 429 and 5xx answers
    are temporary failures, other 4xx permanent; an unreachable URL stops the
    run; a lost answer leaves the message in doubt.
    """

    def __init__(
        self, name: str, channel: str, url: str, *, timeout: float = WEBHOOK_TIMEOUT
    ) -> None:
        self.name = name
        self.channel = channel
        self.url = url
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"WebhookChannel({self.name!r}, {self.channel!r}, {self.url!r})"

    def send(self, message: OutboundMessage) -> str:
        body = json.dumps(_as_json(message), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": message.message_id,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                status, reply = answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            code = exc.code
            raise DeliveryError(
                f"webhook {self.name!r} ({self.url}) answered {code} {exc.reason}",
                permanent=400 <= code < 500 and code not in (408, 429),
            ) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ConnectionRefusedError | socket.gaierror):
                raise ChannelUnavailable(
                    f"webhook {self.name!r} ({self.url}) is not reachable: {reason}; check "
                    f"[plugins.campaign.adapters.{self.name}] url in crmkit.toml"
                ) from None
            raise DeliveryInDoubt(
                f"webhook {self.name!r} ({self.url}) did not answer: {reason}"
            ) from None
        except OSError as exc:
            raise DeliveryInDoubt(
                f"webhook {self.name!r} ({self.url}) did not answer: {exc}"
            ) from None
        if not 200 <= status < 300:
            raise DeliveryError(
                f"webhook {self.name!r} ({self.url}) answered {status}", permanent=False
            )
        return _provider_id(reply) or message.message_id


def _provider_id(reply: bytes) -> str | None:
    try:
        data = json.loads(reply)
    except ValueError:
        return None
    found = data.get("id") if isinstance(data, Mapping) else None
    return str(found) if isinstance(found, str | int) and str(found) else None


# -- which adapters a CRM has -------------------------------------------------------------


def build_adapter(adapter: AdapterSettings) -> OutboundChannel:
    """The adapter an ``[plugins.campaign.adapters.NAME]`` table describes."""
    if adapter.kind == "file":
        assert adapter.path is not None  # the settings schema requires it
        return FileChannel(adapter.name, adapter.channel, adapter.path)
    assert adapter.url is not None  # the settings schema requires it
    return WebhookChannel(adapter.name, adapter.channel, adapter.url)


def adapters_from_settings(crm: CRM) -> list[OutboundChannel]:
    """The SMTP adapter (as ``smtp``, for email) and every configured extra adapter."""
    settings = campaign_settings(crm)
    adapters: list[OutboundChannel] = [SmtpChannel(settings.smtp, settings.sender)]
    adapters.extend(build_adapter(adapter) for adapter in settings.adapters)
    return adapters


def adapter_for(crm: CRM, channel: str) -> OutboundChannel:
    """The adapter that delivers campaign messages on ``channel``.

    An adapter configured for the channel (or contributed by another plugin)
    is preferred over the built-in SMTP one, so a project can route email to a
    file or webhook while testing; among several, the first by name. Raises
    :class:`ValidationError` naming the channel and the settings to add when
    there is none.
    """
    candidates = sorted(
        (a for a in crm.outbound_channels().values() if a.channel == channel),
        key=lambda a: (a.name == SMTP_ADAPTER, a.name),
    )
    if not candidates:
        raise ValidationError(
            "campaign.campaign",
            "channel",
            f"no delivery adapter for channel {channel!r}; add one to crmkit.toml, e.g. "
            f"[plugins.campaign.adapters.{channel}-out] with kind = \"file\", "
            f"channel = \"{channel}\" and path = \"outbox/{channel}.jsonl\" (or kind = "
            "\"webhook\" and url = ...), or install a plugin that delivers on it",
        )
    return candidates[0]
