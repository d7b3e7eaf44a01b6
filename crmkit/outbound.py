"""Delivering messages to people: the outbound channel port.

An :class:`OutboundChannel` is an adapter (SMTP, an SMS gateway, a file for
tests) that delivers one :class:`OutboundMessage` on a consent channel such as
``email`` or ``sms``. Plugins contribute adapters from the
``crmkit_outbound_channels`` hook; ``crm.outbound_channels()`` collects them by
adapter name. The core ships none: deciding who may be written to is the
privacy policy's job, and delivering is the adapter's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import attrs


def _headers(value: Mapping[str, str]) -> Mapping[str, str]:
    return dict(value)


@attrs.frozen
class OutboundMessage:
    """One message to one person on one channel.

    ``message_id`` is unique and given by the sender, so a retried delivery
    can be recognised; adapters pass it on (as the ``Message-ID`` header for
    mail). ``to`` is the address on ``channel`` (an email address, a phone
    number); ``subject`` is ``None`` where the channel has none. ``headers``
    carries extra headers such as ``List-Unsubscribe``.
    """

    message_id: str
    contact_id: str
    to: str
    subject: str | None
    body: str
    headers: Mapping[str, str] = attrs.field(converter=_headers)
    channel: str


@runtime_checkable
class OutboundChannel(Protocol):
    """An adapter delivering messages on one consent channel.

    ``name`` is the adapter's name (``"smtp"``, ``"sms-file"``), unique in a CRM;
    ``channel`` is the registered consent channel it delivers on (``"email"``).
    """

    name: str
    channel: str

    def send(self, message: OutboundMessage) -> str:
        """Deliver ``message``; return the provider's id for it.

        Raise :class:`crmkit.errors.DeliveryError` when it cannot be delivered,
        with ``permanent=True`` when trying again cannot help (a refused address).
        """
        ...
