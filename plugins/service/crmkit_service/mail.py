"""Reading an incoming email: sender, subject, text, attachments and thread headers.

Messages are read with the standard library's :mod:`email` package and its
``default`` policy, which decodes encoded headers and MIME parts. What intake
makes of a message (a new ticket or a reply on one) is :mod:`crmkit_service.intake`.

- **Sender**: the first address of ``From``, in the core's normalised form, with
  the display name (``Ada Lovelace`` or ``Lovelace, Ada``) for a new contact.
- **Body**: the ``text/plain`` body, or when the message has only HTML, the text
  of the HTML with its tags removed. The text is kept whole, including any quoted
  history below an ``On ... wrote:`` line: cutting it is guesswork that loses
  what the customer wrote more often than it saves space.
- **Attachments** are listed (file name, content type, size in bytes); their
  content is not kept.
- **Thread**: the Message-IDs of ``In-Reply-To`` and ``References``, and a ticket
  key in the subject (:func:`subject_key`).

Anything that cannot be read is refused with :class:`~crmkit.errors.ValidationError`
naming what is missing.
"""

from __future__ import annotations

import email.errors
import re
from collections.abc import Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from html.parser import HTMLParser
from typing import Any

import attrs

from crmkit.errors import ValidationError
from crmkit.validation import contact_email

MESSAGE = "service.message"
SUBJECT_LENGTH = 120
"""Longest subject made from a message's first line when it has no subject."""
MAX_THREAD_IDS = 50
"""How many Message-IDs of ``In-Reply-To`` and ``References`` are looked up (newest first)."""
MAX_ID_LENGTH = 998
"""Longest Message-ID taken from a header (the longest line RFC 5322 allows)."""
UNPARSEABLE = (email.errors.MessageError, ValueError, TypeError, IndexError, LookupError)
"""What the email package raises on input it cannot read."""


@attrs.frozen
class Sender:
    """Who sent a message: the normalised address and the display name."""

    email: str
    name: str | None
    text: str
    """The address as written in ``From`` (``Ada Lovelace <ada@example.com>``)."""

    def names(self) -> tuple[str | None, str | None]:
        """First and last name from the display name: ``Ada Lovelace``, ``Lovelace, Ada``.

        The last word is the last name; a single word is a first name; a display
        name that is an address gives no names.
        """
        name = " ".join((self.name or "").split())
        if not name or "@" in name:
            return None, None
        if "," in name:
            last, _, first = (part.strip() for part in name.partition(","))
        else:
            first, _, last = name.rpartition(" ")
            if not first:
                first, last = last, ""
        return first or None, last or None


@attrs.frozen
class IncomingEmail:
    """An email as intake reads it."""

    sender: Sender
    subject: str | None
    body: str
    message_id: str | None
    in_reply_to: str | None
    thread_ids: tuple[str, ...]
    """Message-IDs this one answers: ``In-Reply-To`` first, then ``References`` newest first."""
    attachments: tuple[dict[str, Any], ...]

    def ticket_subject(self) -> str:
        """The subject, or the first line of the text when there is none."""
        if self.subject:
            return self.subject
        first = self.body.strip().splitlines()[0].strip()
        return first if len(first) <= SUBJECT_LENGTH else first[: SUBJECT_LENGTH - 1] + "…"

    def thread_text(self) -> str:
        """The text of the message on the thread: its body, else (no files either) its subject."""
        if self.body or self.attachments:
            return self.body
        return self.subject or ""


def parse(raw: bytes) -> EmailMessage:
    """``raw`` as an email message; :class:`ValidationError` if it is empty or no email at all."""
    if not raw.strip():
        raise ValidationError(
            MESSAGE, "raw", "the message is empty; give the whole email as received"
        )
    try:
        message = BytesParser(policy=default_policy).parsebytes(raw)
    except UNPARSEABLE as exc:
        raise ValidationError(
            MESSAGE, "raw", f"the message cannot be read as an email ({exc})"
        ) from exc
    if not isinstance(message, EmailMessage) or not message.keys():
        raise ValidationError(
            MESSAGE,
            "raw",
            "the message has no headers, so it is not an email; give the whole email "
            "as received (headers, a blank line, then the body)",
        )
    return message


def header(message: EmailMessage, name: str) -> str | None:
    """The decoded value of header ``name`` with its spaces tidied, or ``None`` if absent."""
    try:
        value = message.get(name)
        text = " ".join(str(value).split()) if value is not None else ""
    except UNPARSEABLE:
        return None
    return text or None


def message_ids(value: str | None) -> list[str]:
    """The ``<...>`` Message-IDs in a header value such as ``References``.

    An id longer than a mail line may be (998 characters) is no real id and is skipped.
    """
    return [
        token
        for token in (value or "").split()
        if token.startswith("<") and len(token) <= MAX_ID_LENGTH
    ]


def sender_of(message: EmailMessage) -> Sender:
    """The first address of ``From``, normalised; :class:`ValidationError` if there is none."""
    try:
        value = message.get("From")
        addresses: Sequence[Address] = getattr(value, "addresses", ()) if value else ()
    except UNPARSEABLE:
        addresses = ()
    found = [address for address in addresses if address.addr_spec.strip()]
    if not found:
        raise ValidationError(
            MESSAGE,
            "from",
            "the message has no sender address; an email needs a From header such as "
            "'From: Ada Lovelace <ada@example.com>'",
        )
    address = found[0]
    try:
        normalised = contact_email(address.addr_spec)
    except ValueError as exc:
        raise ValidationError(
            MESSAGE, "from", f"the sender address is not a valid email address ({exc})"
        ) from exc
    if normalised is None:  # pragma: no cover - an address with text always normalises
        raise ValidationError(MESSAGE, "from", "the sender address is empty")
    return Sender(normalised, address.display_name.strip() or None, str(address))


class _HtmlText(HTMLParser):
    """The text of an HTML document: tags removed, paragraphs apart, lines as in the layout.

    Spaces and line ends of the source are collapsed as a browser does; line
    breaks come from the elements (``<br>``, list items, rows, divisions), and a
    blank line from paragraph-like ones (``<p>``, headings, lists, tables, quotes).
    """

    PARAGRAPHS = frozenset(
        {"address", "article", "aside", "blockquote", "dl", "footer", "header", "hr", "ol"}
        | {"h1", "h2", "h3", "h4", "h5", "h6", "p", "pre", "section", "table", "ul"}
    )
    LINES = frozenset({"dd", "div", "dt", "li", "tr"})
    CELLS = frozenset({"td", "th"})
    HIDDEN = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._breaks = 0
        """Line ends owed before the next text."""

    def _owe(self, tag: str) -> None:
        if tag in self.PARAGRAPHS:
            self._breaks = max(self._breaks, 2)
        elif tag in self.LINES:
            self._breaks = max(self._breaks, 1)
        elif tag in self.CELLS and self.parts:
            self.parts.append(" ")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self._breaks += 1
        else:
            self._owe(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag not in self.CELLS:
            self._owe(tag)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        text = re.sub(r"\s+", " ", data)
        if not text.strip():
            if self.parts and not self._breaks:
                self.parts.append(" ")
            return
        if self.parts and self._breaks:
            self.parts.append("\n" * self._breaks)
        self._breaks = 0
        self.parts.append(text)

    def text(self) -> str:
        return "\n".join(line.strip() for line in "".join(self.parts).split("\n")).strip()


def html_text(html: str) -> str:
    """The text of ``html``: tags, scripts and styles removed, one block per line."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return parser.text()


def _part_text(part: EmailMessage) -> str:
    """A text part decoded with its charset (UTF-8 with replacements if the charset is unknown)."""
    try:
        content = part.get_content()
    except UNPARSEABLE:
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def body_of(message: EmailMessage) -> tuple[str, EmailMessage | None]:
    """The text of the message and the part it came from (``None`` when it has no text).

    The plain-text body is preferred; an HTML-only message gives the text of its HTML.
    """
    for kind in ("plain", "html"):
        part = message.get_body(preferencelist=(kind,))
        if isinstance(part, EmailMessage):
            text = _part_text(part)
            text = html_text(text) if kind == "html" else text.replace("\r\n", "\n")
            return text.strip(), part
    return "", None


def attachments_of(message: EmailMessage, body: EmailMessage | None) -> list[dict[str, Any]]:
    """Each attached file (a part with a file name or marked as attachment, not the body)."""
    found: list[dict[str, Any]] = []
    for part in message.walk():
        if part is body or part.is_multipart() or (part is message and body is not None):
            continue
        filename = part.get_filename()
        if part.get_content_disposition() != "attachment" and not filename:
            continue
        payload = part.get_payload(decode=True)
        found.append(
            {
                "filename": filename or "unnamed",
                "content_type": part.get_content_type(),
                "size": len(payload) if isinstance(payload, bytes) else 0,
            }
        )
    return found


def read_email(message: EmailMessage) -> IncomingEmail:
    """What intake needs of ``message``; :class:`ValidationError` naming what is missing."""
    sender = sender_of(message)
    subject = header(message, "Subject")
    body, body_part = body_of(message)
    attachments = attachments_of(message, body_part)
    if not body and not subject:
        raise ValidationError(
            MESSAGE,
            "body",
            "the message has neither a subject nor any text; there is nothing to make a ticket of",
        )
    in_reply_to = message_ids(header(message, "In-Reply-To"))
    references = message_ids(header(message, "References"))
    thread = list(dict.fromkeys([*in_reply_to, *reversed(references)]))[:MAX_THREAD_IDS]
    message_id = message_ids(header(message, "Message-ID"))
    return IncomingEmail(
        sender=sender,
        subject=subject,
        body=body,
        message_id=message_id[0] if message_id else None,
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        thread_ids=tuple(thread),
        attachments=tuple(attachments),
    )


def subject_key(subject: str | None, prefix: str) -> str | None:
    """The first ticket key (``<prefix>-<n>`` as a word, bracketed or not) in ``subject``."""
    if not subject:
        return None
    found = re.search(rf"(?<![\w-]){re.escape(prefix)}-(\d+)(?![\w-])", subject)
    return found.group(0) if found else None


def raw_text(raw: bytes) -> str:
    """``raw`` as storable text: UTF-8, other bytes (and NULs) replaced."""
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
