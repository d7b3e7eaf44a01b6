"""Message templates: the placeholders a step may use and how they are filled in.

A step's subject and body are plain text with placeholders in braces:

=====================  ==============================================
``{first_name}``       the contact's first name
``{last_name}``        the contact's last name
``{email}``            the contact's email address
``{custom.<key>}``     one of the contact's custom fields
``{unsubscribe_url}``  the person's own unsubscribe link
``{campaign}``         the campaign's name
=====================  ==============================================

``{{`` and ``}}`` write a literal brace. Templates are read with
:meth:`string.Formatter.parse` and filled in here piece by piece, never with
``str.format``: no expression, conversion, format spec, index or attribute
access reaches Python. An unknown placeholder is refused when the step is
written; a recipient without a value for a placeholder stops the send
(:class:`MissingField`), because a message is never sent with a blank where a
name should be.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.errors import ValidationError
from crmkit.outbound import OutboundMessage

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.core import Contact
    from crmkit.storage import StorageTransaction
    from crmkit_campaign.entities import Campaign, Step
    from crmkit_campaign.settings import CampaignSettings

STEP = "campaign.step"
CONTACT_FIELDS: tuple[str, ...] = ("first_name", "last_name", "email")
EXTRA_FIELDS: tuple[str, ...] = ("unsubscribe_url", "campaign")
CUSTOM_PREFIX = "custom."
_CUSTOM_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
KNOWN = ", ".join(f"{{{name}}}" for name in (*CONTACT_FIELDS, "custom.<key>", *EXTRA_FIELDS))


class MissingField(ValidationError):
    """A recipient has no value for a placeholder of the message.

    Raised before anything of a batch is sent; names the contact and the field
    so the value can be filled in (or the placeholder removed) and the send
    run again.
    """

    def __init__(self, contact_id: str, field: str) -> None:
        self.contact_id = contact_id
        super().__init__(
            "contact",
            field,
            f"has no value for {{{field}}} used in the message; fill it in "
            f"('crmkit contacts update {contact_id} ...') or take the placeholder out of the "
            "step, then send again (nothing was sent)",
            record=contact_id,
        )


def fields_in(text: str, *, field: str = "body") -> set[str]:
    """The placeholders ``text`` uses (``first_name``, ``custom.tier`` ...).

    Raises :class:`ValidationError` (entity ``campaign.step``, the given
    ``field``) for broken braces, an unknown placeholder, a positional ``{}``,
    or a conversion or format spec (``{first_name!r}``, ``{email:>20}``).
    """
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValidationError(
            STEP, field, f"the template's braces do not match ({exc}); write {{{{ and }}}} "
            "for a literal brace"
        ) from None
    found: set[str] = set()
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "") + (
            f":{spec}" if spec else ""
        ) + "}"
        if conversion or spec:
            raise ValidationError(
                STEP, field, f"placeholder {shown} takes no conversion or format; write "
                f"{{{name}}}"
            )
        if not _known(name):
            raise ValidationError(
                STEP, field, f"unknown placeholder {shown}; use one of {KNOWN}"
            )
        found.add(name)
    return found


def _known(name: str) -> bool:
    if name in CONTACT_FIELDS or name in EXTRA_FIELDS:
        return True
    if name.startswith(CUSTOM_PREFIX):
        return bool(_CUSTOM_KEY.match(name[len(CUSTOM_PREFIX) :]))
    return False


def _text(value: Any) -> str | None:
    """A stored value as message text; ``None`` when there is nothing to show."""
    if value is None or isinstance(value, list | dict):
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value).strip()
    return text or None


def value_of(contact: Contact, name: str, extra: Mapping[str, str]) -> str | None:
    """The text a placeholder stands for in a message to ``contact`` (``None``: none)."""
    if name in EXTRA_FIELDS:
        return _text(extra.get(name))
    if name.startswith(CUSTOM_PREFIX):
        custom = contact.custom if isinstance(contact.custom, Mapping) else {}
        return _text(custom.get(name[len(CUSTOM_PREFIX) :]))
    if name in CONTACT_FIELDS:
        return _text(getattr(contact, name))
    return None


def render(text: str, contact: Contact, *, extra: Mapping[str, str]) -> str:
    """``text`` with every placeholder filled in for ``contact``.

    ``extra`` gives ``unsubscribe_url`` and ``campaign``. Raises
    :class:`MissingField` when the contact (or ``extra``) has no value for a
    placeholder, and :class:`ValidationError` for a placeholder
    :func:`fields_in` refuses.
    """
    fields_in(text)
    out: list[str] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(text):
        out.append(literal)
        if name is None:
            continue
        value = value_of(contact, name, extra)
        if value is None:
            raise MissingField(contact.id, name)
        out.append(value)
    return "".join(out)


UNSUBSCRIBE_FOOTER = "\n\nUnsubscribe: {url}"
"""Added to a body that has no ``{unsubscribe_url}`` of its own: every message carries the link."""


@attrs.frozen
class Composed:
    """One message as one person gets it: texts filled in, with their unsubscribe link.

    What ``crmkit campaign preview`` shows and what the sender hands to the
    channel's adapter (:meth:`outbound`) are both this, so they cannot differ.
    """

    subject: str | None
    body: str
    variant: str
    unsubscribe_url: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """The headers every campaign message carries: ``List-Unsubscribe`` with the link."""
        return {"List-Unsubscribe": f"<{self.unsubscribe_url}>"}

    def outbound(
        self, *, message_id: str, contact_id: str, to: str, channel: str, sender: str | None
    ) -> OutboundMessage:
        """The message as an adapter takes it; ``sender`` (a From address) for email."""
        headers = self.headers
        if sender is not None:
            headers["From"] = sender
        return OutboundMessage(
            message_id=message_id,
            contact_id=contact_id,
            to=to,
            subject=self.subject,
            body=self.body,
            channel=channel,
            headers=headers,
        )


def compose(
    crm: CRM,
    settings: CampaignSettings,
    campaign: Campaign,
    step: Step,
    contact: Contact,
    *,
    variant: str,
    now: dt.datetime | None = None,
    tx: StorageTransaction | None = None,
) -> Composed:
    """The subject and body of ``step`` (``variant`` A or B) for ``contact``.

    The person's unsubscribe link is made here (a token for the campaign's
    purpose and channel) and filled in for ``{unsubscribe_url}``; a body in
    which the link does not appear gets :data:`UNSUBSCRIBE_FOOTER`. The sender
    sends exactly this (:meth:`Composed.outbound`). Raises
    :class:`MissingField` when the contact lacks a value the texts use, and
    :class:`~crmkit.errors.ConfigError` when no unsubscribe page is set.
    """
    from crmkit_campaign.campaigns import step_texts
    from crmkit_campaign.unsubscribe import make_token, unsubscribe_link

    token = make_token(
        crm, contact.id, campaign.id, campaign.purpose, campaign.channel, now=now, tx=tx
    )
    url = unsubscribe_link(crm, settings, token)
    extra = {"unsubscribe_url": url, "campaign": campaign.name}
    subject_text, body_text = step_texts(step, variant)
    subject = render(subject_text, contact, extra=extra) if subject_text is not None else None
    body = render(body_text, contact, extra=extra)
    if url not in body:
        body += UNSUBSCRIBE_FOOTER.format(url=url)
    return Composed(subject, body, variant, url, token)
